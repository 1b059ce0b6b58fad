"""The official script repository: files under OMERO.server/lib/scripts, ids in the DB.

As the real server (ScriptRepoHelper) does: a script's server path is its path under
lib/scripts ("/omero/util_scripts/Example.py"); at startup, registered scripts whose
file is gone are unregistered and files not registered yet are registered with new ids;
only scripts whose file exists are listed.
"""

import logging
import os

from . import rules

log = logging.getLogger("omero.standin.scripts")


class ScriptRepo:
    def __init__(self, root, store):
        self.root = root
        self.store = store

    def file_of(self, path):
        return os.path.join(self.root, rules.script_path(path).lstrip("/"))

    def files_on_disk(self):
        """{server path: absolute file} of every script file under the root."""
        found = {}
        for directory, dirs, files in os.walk(self.root, followlinks=True):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in files:
                full = os.path.join(directory, name)
                rel = os.path.relpath(full, self.root).replace(os.sep, "/")
                if rules.is_script_file(rel):
                    found["/" + rel] = full
        return found

    @staticmethod
    def _read(full):
        with open(full, "rb") as handle:
            return handle.read()

    def synchronise(self):
        """Startup reconciliation; returns (unregistered ids, registered {path: id})."""
        registered = self.store.scripts()
        on_disk = self.files_on_disk()
        gone, new = rules.reconcile_scripts({p: r["id"] for p, r in registered.items()}, set(on_disk))
        if gone:
            self.store.unregister_scripts(gone)
            log.info("Unregistered %d script(s) whose file is gone: ids %s", len(gone), gone)
        added = {}
        for path in new:
            data = self._read(on_disk[path])
            added[path] = self.store.register_script(path, rules.sha1_text(data), len(data))
        if added:
            log.info("Registered %d script(s) found on disk: %s", len(added), added)
        for path, row in registered.items():
            if path in on_disk:
                data = self._read(on_disk[path])
                if rules.sha1_text(data) != row["sha1"]:
                    self.store.update_script(row["id"], rules.sha1_text(data), len(data))
        return gone, added

    def listed(self):
        """Registered scripts whose file exists, {server path: row}."""
        on_disk = self.files_on_disk()
        return {p: r for p, r in self.store.scripts().items() if p in on_disk}

    def by_id(self, sid):
        for path, row in self.listed().items():
            if row["id"] == sid:
                return path, row
        raise rules.no_such_script(sid)

    def text(self, sid):
        path, _row = self.by_id(sid)
        return self._read(self.file_of(path)).decode("utf-8")

    def _write(self, path, text):
        full = self.file_of(path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = text.encode("utf-8")
        tmp = full + ".standin-tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, full)
        return data

    def upload(self, path, text):
        path = rules.check_new_script(path, set(self.store.scripts()))
        data = self._write(path, text)
        return self.store.register_script(path, rules.sha1_text(data), len(data))

    def edit(self, sid, text):
        path, _row = self.by_id(sid)
        data = self._write(path, text)
        self.store.update_script(sid, rules.sha1_text(data), len(data))

    def delete(self, sid):
        path, _row = self.by_id(sid)
        try:
            os.remove(self.file_of(path))
        except FileNotFoundError:
            pass
        self.store.unregister_scripts([sid])
