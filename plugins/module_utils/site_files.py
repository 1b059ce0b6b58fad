# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Converge a set of directories and files in one call (core of the ``site_files`` module).

``ansible.builtin.file`` and ``ansible.builtin.copy`` have no bulk mode: a loop over N paths
costs N remote round trips. :func:`converge` does the same work for all of them in one
process, with the same semantics: directories are created (missing parents too) and get
owner/group/mode set on themselves only, never recursively; files are replaced atomically
(temporary file in the same directory, then rename) only when their content differs, and
their owner/group/mode are fixed when they differ.

Everything is validated (paths, owners, groups, modes, what already exists) before
anything changes, so a mistake fails the call without a half-done state. Runs without
Ansible: errors are raised as :class:`SiteFilesError`.

With a *record* (a JSON file on the host), only directories this collection created are
re-owned and re-moded: each directory created is recorded with its inode, and a listed
directory that exists but is not in the record with that inode (it existed before the
site, or something else was mounted or put there since) keeps its owner, group and mode;
it is reported in ``kept_paths``, with a warning when its attributes differ from those
asked for. ``adopt`` converges such directories too and records them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import posixpath
import pwd
import stat
import tempfile

PARENT_MODE = 0o755
RECORD_SCHEMA = 1
SECRET_CHANGED = "(secret content changed)"  # noqa: S105 - a label, not a secret


class SiteFilesError(Exception):
    """A problem the caller must fix; the message names the path or value at fault."""

    def __init__(self, msg, changed_paths=None, created_paths=None):
        super(SiteFilesError, self).__init__(msg)
        self.msg = msg
        self.changed_paths = changed_paths or []
        self.created_paths = created_paths or []


def _int_or_none(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else None


# How an owner or a group is looked up by name on this host: kind -> (look-up of the
# name, attribute of the number, what the name must be, what the number is called).
_ID_KINDS = {
    "owner": (pwd.getpwnam, "pw_uid", "user", "uid"),
    "group": (grp.getgrnam, "gr_gid", "group", "gid"),
}


def resolve_id(kind, value, path):
    """uid (kind ``owner``) or gid (kind ``group``) of ``value``, or None.

    ``value`` is an int, a numeric string or a user or group name on this host.
    """
    if value is None or value == "":
        return None
    number = _int_or_none(value)
    if number is not None:
        return number
    lookup, attribute, noun, number_name = _ID_KINDS[kind]
    try:
        return getattr(lookup(str(value)), attribute)
    except KeyError:
        raise SiteFilesError("%s: %s %r is not a %s on this host (give a %s or create the %s first)"
                             % (path, kind, value, noun, number_name, noun)) from None


def parse_mode(value, path):
    """Permission bits of ``value``: an octal string (C("0750")) or an int (already the number)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SiteFilesError("%s: mode %r is not an octal mode" % (path, value))
    if isinstance(value, int):
        mode = value
    else:
        try:
            mode = int(str(value).strip(), 8)
        except ValueError:
            raise SiteFilesError("%s: mode %r is not an octal mode like \"0750\" (symbolic modes are not supported)"
                                 % (path, value)) from None
    if not 0 <= mode <= 0o7777:
        raise SiteFilesError("%s: mode %r is out of range (0000-7777)" % (path, value))
    return mode


def _normalize(path, what):
    if not isinstance(path, str) or not path:
        raise SiteFilesError("%s path %r must be a non-empty string" % (what, path))
    if not posixpath.isabs(path):
        raise SiteFilesError("%s path %s is not absolute" % (what, path))
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm


def _ancestors(path):
    """Ancestors of ``path``, root first, without ``/`` and without ``path`` itself."""
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _fmt_attrs(uid, gid, mode):
    return "owner=%s group=%s mode=%s\n" % (uid, gid, "%04o" % mode if mode is not None else "-")


def _attrs(entry, path):
    return {"uid": resolve_id("owner", entry.get("owner"), path), "gid": resolve_id("group", entry.get("group"), path),
            "mode": parse_mode(entry.get("mode"), path)}


def _prepare_directories(directories, seen):
    dirs = []
    for entry in directories or []:
        if not isinstance(entry, dict):
            raise SiteFilesError("directories: each item must be a dict with path, owner, group, mode: %r" % (entry,))
        path = _normalize(entry.get("path"), "directory")
        if path in seen:
            raise SiteFilesError("%s is listed twice (as %s and as directory)" % (path, seen[path]))
        seen[path] = "directory"
        for p in _ancestors(path) + [path]:
            if os.path.exists(p) and not os.path.isdir(p):
                raise SiteFilesError("%s exists and is not a directory (needed for directory %s): move it away"
                                     % (p, path))
        dirs.append(dict(_attrs(entry, path), path=path))
    # Parents before children, whatever order they were listed in.
    dirs.sort(key=lambda d: (d["path"].count("/"), d["path"]))
    return dirs


def _check_file_path(path, listed_dirs, check_mode=False):
    parent = posixpath.dirname(path)
    if parent not in listed_dirs:
        if not os.path.exists(parent) and check_mode:
            # A preview: an earlier task of the run (which made nothing in check mode)
            # creates it. The nearest existing ancestor must still be a directory.
            for above in reversed(_ancestors(parent)):
                if os.path.exists(above):
                    if not os.path.isdir(above):
                        raise SiteFilesError("file %s: %s is not a directory" % (path, above))
                    break
            return
        if not os.path.exists(parent):
            raise SiteFilesError("file %s: parent directory %s does not exist (create it first or list it in "
                                 "directories)" % (path, parent))
        if not os.path.isdir(parent):
            raise SiteFilesError("file %s: parent %s is not a directory" % (path, parent))
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
        raise SiteFilesError("file %s exists and is %s: remove it or fix the path" % (path, kind))


def _prepare_files(files, seen, listed_dirs, check_mode=False):
    fls = []
    for entry in files or []:
        if not isinstance(entry, dict):
            raise SiteFilesError("files: each item must be a dict with path, content, owner, group, mode: %r"
                                 % (entry,))
        path = _normalize(entry.get("path"), "file")
        if path in seen:
            raise SiteFilesError("%s is listed twice (as %s and as file)" % (path, seen[path]))
        seen[path] = "file"
        content = entry.get("content")
        if not isinstance(content, (str, bytes)):
            raise SiteFilesError("file %s: content is missing or not a string" % path)
        _check_file_path(path, listed_dirs, check_mode)
        data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
        fls.append(dict(_attrs(entry, path), path=path, data=data))
    return fls


def _prepare(directories, files, check_mode=False):
    """Validated, normalized specs; raises SiteFilesError before anything changes."""
    seen = {}
    dirs = _prepare_directories(directories, seen)
    return dirs, _prepare_files(files, seen, set(d["path"] for d in dirs), check_mode)


def _attr_changes(st, uid, gid, mode):
    """(uid, gid, mode) to set: each None when already right or not asked for."""
    return (uid if uid is not None and st.st_uid != uid else None,
            gid if gid is not None and st.st_gid != gid else None,
            mode if mode is not None and stat.S_IMODE(st.st_mode) != mode else None)


def _set_attrs(path, uid, gid, mode):
    if uid is not None or gid is not None:
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
    if mode is not None:
        # After chown, which clears setuid/setgid bits.
        os.chmod(path, mode)


def _default_file_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write_atomic(path, data, uid, gid, mode):
    """Temporary file in the same directory with the final owner and mode, then rename."""
    directory = posixpath.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % posixpath.basename(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            if uid is not None or gid is not None:
                os.fchown(handle.fileno(), -1 if uid is None else uid, -1 if gid is None else gid)
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def _text(data):
    return data.decode("utf-8", "replace")


def _current(st):
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))


def _merge(current, wanted):
    """``wanted`` (uid, gid, mode) with each None replaced by the ``current`` value."""
    return tuple(current[i] if wanted[i] is None else wanted[i] for i in range(3))


def _attr_diff(kind, path, st, changes):
    """Diff dict of an owner/group/mode change (values None in ``changes`` are unchanged)."""
    cur = _current(st)
    new = _merge(cur, changes)
    return {"before_header": path, "after_header": path,
            "before": kind + " " + _fmt_attrs(*cur), "after": kind + " " + _fmt_attrs(*new)}


def read_record(path):
    """``{directory: inode}`` of the record at ``path`` ({} when there is none yet)."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SiteFilesError("record %s cannot be read (%s): restore it from a backup, or remove it (then no "
                             "existing directory is re-owned until adopted)" % (path, exc)) from None
    dirs = data.get("directories") if isinstance(data, dict) else None
    if not isinstance(dirs, dict):
        raise SiteFilesError("record %s is not a record of directories: restore it from a backup or remove it" % path)
    return dict((str(k), v) for k, v in dirs.items() if isinstance(v, int) and not isinstance(v, bool))


def _write_record(path, record):
    data = json.dumps({"schema": RECORD_SCHEMA, "directories": dict(sorted(record.items())),
                       "comment": "Directories created by omero_docker.stack (path: inode); only these get their "
                                  "owner and mode set again."}, indent=1) + "\n"
    _write_atomic(path, data.encode("utf-8"), None, None, 0o644)


def _attrs_text(uid, gid, mode):
    return "%s:%s mode %s" % ("-" if uid is None else uid, "-" if gid is None else gid,
                              "-" if mode is None else "%04o" % mode)


class _Run:
    """One converge: what changed so far, and the diffs."""

    def __init__(self, secret, check_mode, want_diff, record=None, adopt=False):
        self.secret, self.check_mode, self.want_diff = secret, check_mode, want_diff
        self.changed_paths, self.created_paths, self.diffs = [], [], []
        self.will_exist = set()
        self.known, self.adopt, self.record_changed = record, adopt, False
        self.kept_paths, self.warnings = [], []

    def remember(self, path):
        """Record ``path`` as created (or adopted) by the site."""
        if self.known is None:
            return
        inode = None if self.check_mode and not os.path.isdir(path) else os.stat(path).st_ino
        if self.known.get(path) != inode:
            self.known[path] = inode
            self.record_changed = True

    def foreign(self, path, st, d):
        """True (and reported) when ``path`` existed before the site: left as it is."""
        if self.known is None or self.known.get(path) == st.st_ino:
            return False
        if self.adopt:
            self.remember(path)
            return False
        self.kept_paths.append(path)
        if _attr_changes(st, d["uid"], d["gid"], d["mode"]) != (None, None, None):
            self.warnings.append(
                "%s existed before the site (it was not created by omero_docker.stack), so its owner and mode are "
                "left as they are: %s, where the site would use %s. Make sure the container can use it, or hand it "
                "to the site with site_layout_adopt_existing: true (once)."
                % (path, _attrs_text(*_current(st)), _attrs_text(d["uid"], d["gid"], d["mode"])))
        return True

    def record(self, path, created, diff=None):
        if path not in self.changed_paths:
            self.changed_paths.append(path)
        if created and path not in self.created_paths:
            self.created_paths.append(path)
        if diff and self.want_diff:
            self.diffs.append(diff)

    def _created_diff(self, path, after):
        return {"before_header": "%s (absent)" % path, "after_header": path, "before": "", "after": after}

    def directory(self, d, listed):
        path = d["path"]
        for parent in _ancestors(path):
            if parent in listed or parent in self.will_exist or os.path.isdir(parent):
                continue
            if not self.check_mode:
                os.mkdir(parent)
                os.chmod(parent, PARENT_MODE)
            self.will_exist.add(parent)
            self.record(parent, True, self._created_diff(parent, "directory " + _fmt_attrs("-", "-", PARENT_MODE)))
        if path in self.will_exist or not os.path.isdir(path):
            if not self.check_mode:
                os.mkdir(path)
                _set_attrs(path, d["uid"], d["gid"], d["mode"])
            self.will_exist.add(path)
            self.remember(path)
            self.record(path, True, self._created_diff(path, "directory " + _fmt_attrs(d["uid"], d["gid"], d["mode"])))
            return
        st = os.stat(path)
        if self.foreign(path, st, d):
            return
        changes = _attr_changes(st, d["uid"], d["gid"], d["mode"])
        if changes != (None, None, None):
            if not self.check_mode:
                _set_attrs(path, *changes)
            self.record(path, False, _attr_diff("directory", path, st, changes))

    def file(self, f):
        path = f["path"]
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            mode = f["mode"] if f["mode"] is not None else _default_file_mode()
            if not self.check_mode:
                _write_atomic(path, f["data"], f["uid"], f["gid"], mode)
            after = SECRET_CHANGED + "\n" if self.secret else _text(f["data"])
            self.record(path, True, self._created_diff(path, after))
            return
        with open(path, "rb") as handle:
            old = handle.read()
        changes = _attr_changes(st, f["uid"], f["gid"], f["mode"])
        if old != f["data"]:
            if not self.check_mode:
                _write_atomic(path, f["data"], *_merge(_current(st), (f["uid"], f["gid"], f["mode"])))
            if self.secret:
                diff = {"before_header": path, "after_header": path, "before": "", "after": SECRET_CHANGED + "\n"}
            else:
                diff = {"before_header": path, "after_header": path, "before": _text(old), "after": _text(f["data"])}
            self.record(path, False, diff)
        elif changes != (None, None, None) and not self.check_mode:
            _set_attrs(path, *changes)
        if changes != (None, None, None):
            self.record(path, False, _attr_diff("file", path, st, changes))


def converge(directories=None, files=None, secret=False, check_mode=False, want_diff=False, *, record=None,
             adopt=False):
    """Converge ``directories`` then ``files``; return the result dict of the module.

    ``directories``: dicts {path, owner, group, mode}; ``files``: dicts {path, content,
    owner, group, mode}. Owner/group/mode may be None (left as they are; new files get
    0666 minus the umask). With ``secret``, contents never appear in the result or diff.
    ``record``: path of the record of the directories created so far (see the module
    docstring); ``adopt`` also converges and records existing directories not in it.
    Raises SiteFilesError (with what changed before the failure, if anything did).
    """
    dirs, fls = _prepare(directories, files, check_mode)
    if record is not None:
        record = _normalize(record, "record")
        if record in set(d["path"] for d in dirs) | set(f["path"] for f in fls):
            raise SiteFilesError("record %s is also listed as a directory or file" % record)
    run = _Run(secret, check_mode, want_diff, read_record(record) if record else None, adopt)
    listed = set(d["path"] for d in dirs)
    current = None
    try:
        for d in dirs:
            current = d["path"]
            run.directory(d, listed)
        for f in fls:
            current = f["path"]
            run.file(f)
        if record and run.record_changed:
            current = record
            if not check_mode:
                _write_record(record, run.known)
            run.record(record, False)
    except OSError as exc:
        detail = " (%s)" % exc.filename if getattr(exc, "filename", None) else ""
        raise SiteFilesError("cannot converge %s: %s%s" % (current, exc.strerror or exc, detail),
                             run.changed_paths, run.created_paths) from exc
    result = {"changed": bool(run.changed_paths), "changed_paths": run.changed_paths,
              "created_paths": run.created_paths}
    if record:
        result.update(kept_paths=run.kept_paths, warnings=run.warnings)
    if want_diff:
        result["diff"] = run.diffs
    return result
