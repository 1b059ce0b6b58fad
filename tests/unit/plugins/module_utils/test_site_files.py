"""The site_files core (module_utils.site_files.converge), run for real in tmp_path."""

# ruff: noqa: S105 - test data: fake secrets

from __future__ import annotations

import grp
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import site_files as sf

REPO_ROOT = Path(__file__).resolve().parents[4]
ME_UID, ME_GID = os.getuid(), os.getgid()
NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def d(path, mode="0750", owner=ME_UID, group=ME_GID):
    return {"path": str(path), "owner": owner, "group": group, "mode": mode}


def f(path, content, mode="0644", owner=ME_UID, group=ME_GID):
    return {"path": str(path), "content": content, "owner": owner, "group": group, "mode": mode}


def site(tmp_path):
    base = tmp_path / "srv"
    dirs = [d(base, "0755"), d(base / "config", "0755"), d(base / "data" / "omero", "0750")]
    files = [f(base / "config" / "a.omero", "config set -- a 1\n"), f(base / "README", "hello", "0600")]
    return base, dirs, files


def test_create_then_idempotent(tmp_path):
    base, dirs, files = site(tmp_path)
    first = sf.converge(dirs, files)
    assert first["changed"] is True
    # base/data is a missing parent that is not listed: created 0755.
    expected = [str(base), str(base / "config"), str(base / "data"), str(base / "data" / "omero"),
                str(base / "config" / "a.omero"), str(base / "README")]
    assert first["created_paths"] == expected
    assert first["changed_paths"] == expected
    assert mode_of(base / "data") == 0o755
    assert mode_of(base / "data" / "omero") == 0o750
    assert (base / "config" / "a.omero").read_text() == "config set -- a 1\n"
    assert mode_of(base / "README") == 0o600
    assert (base / "README").read_text() == "hello"

    second = sf.converge(dirs, files)
    assert second == {"changed": False, "changed_paths": [], "created_paths": []}


def test_parents_processed_first_whatever_the_order(tmp_path):
    base, dirs, files = site(tmp_path)
    result = sf.converge(list(reversed(dirs)), files)
    assert result["changed"]
    assert mode_of(base) == 0o755 and mode_of(base / "data" / "omero") == 0o750


def test_changed_content_is_replaced_atomically_and_reported(tmp_path):
    base, dirs, files = site(tmp_path)
    sf.converge(dirs, files)
    target = base / "config" / "a.omero"
    inode = os.stat(target).st_ino
    files[0]["content"] = "config set -- a 2\n"
    result = sf.converge(dirs, files, want_diff=True)
    assert result["changed_paths"] == [str(target)]
    assert result["created_paths"] == []
    assert target.read_text() == "config set -- a 2\n"
    assert os.stat(target).st_ino != inode, "written in place instead of renamed over"
    assert mode_of(target) == 0o644
    assert result["diff"] == [{"before_header": str(target), "after_header": str(target),
                               "before": "config set -- a 1\n", "after": "config set -- a 2\n"}]
    assert [p.name for p in target.parent.iterdir()] == ["a.omero"], "temporary file left behind"


def test_changed_mode_of_file_and_directory(tmp_path):
    base, dirs, files = site(tmp_path)
    sf.converge(dirs, files)
    dirs[2]["mode"] = "0700"
    files[1]["mode"] = "0640"
    inode = os.stat(base / "README").st_ino
    result = sf.converge(dirs, files, want_diff=True)
    assert result["changed_paths"] == [str(base / "data" / "omero"), str(base / "README")]
    assert mode_of(base / "data" / "omero") == 0o700
    assert mode_of(base / "README") == 0o640
    assert os.stat(base / "README").st_ino == inode, "attributes only: the file must not be rewritten"
    headers = [x["after_header"] for x in result["diff"]]
    assert headers == [str(base / "data" / "omero"), str(base / "README")]
    assert "mode=0750" in result["diff"][0]["before"] and "mode=0700" in result["diff"][0]["after"]


@needs_root
def test_owner_change_and_back(tmp_path):
    base, dirs, files = site(tmp_path)
    sf.converge(dirs, files)
    omero = base / "data" / "omero"
    dirs[2]["owner"] = dirs[2]["group"] = NOBODY
    files[1]["owner"] = str(NOBODY)  # numeric strings are uids too
    result = sf.converge(dirs, files)
    assert result["changed_paths"] == [str(omero), str(base / "README")]
    assert (os.stat(omero).st_uid, os.stat(omero).st_gid) == (NOBODY, NOBODY)
    assert os.stat(base / "README").st_uid == NOBODY
    assert mode_of(omero) == 0o750
    assert sf.converge(dirs, files)["changed"] is False

    dirs[2]["owner"] = dirs[2]["group"] = "root"  # names are resolved on the host
    files[1]["owner"] = 0
    result = sf.converge(dirs, files)
    assert result["changed_paths"] == [str(omero), str(base / "README")]
    assert (os.stat(omero).st_uid, os.stat(omero).st_gid) == (0, 0)
    assert os.stat(base / "README").st_uid == 0


def test_check_mode_changes_nothing(tmp_path):
    base, dirs, files = site(tmp_path)
    result = sf.converge(dirs, files, check_mode=True, want_diff=True)
    assert result["changed"] is True
    assert not base.exists()
    assert result["created_paths"] == sf.converge(dirs, files)["created_paths"]
    # The real run created everything; now change things and check again.
    before = {p: (os.stat(p).st_mode, os.stat(p).st_uid, p.read_bytes() if p.is_file() else None)
              for p in base.rglob("*")}
    dirs[1]["mode"] = "0700"
    files[0]["content"] = "changed\n"
    files[1]["mode"] = "0600"
    dirs.append(d(base / "new" / "dir"))
    files.append(f(base / "config" / "new.txt", "new"))
    result = sf.converge(dirs, files, check_mode=True, want_diff=True)
    assert result["changed_paths"] == [str(base / "config"), str(base / "new"), str(base / "new" / "dir"),
                                       str(base / "config" / "a.omero"), str(base / "config" / "new.txt")]
    assert result["created_paths"] == [str(base / "new"), str(base / "new" / "dir"),
                                       str(base / "config" / "new.txt")]
    after = {p: (os.stat(p).st_mode, os.stat(p).st_uid, p.read_bytes() if p.is_file() else None)
             for p in base.rglob("*")}
    assert after == before


def test_check_mode_on_empty_tree_creates_nothing(tmp_path):
    base, dirs, files = site(tmp_path)
    result = sf.converge(dirs, files, check_mode=True)
    assert str(base / "config" / "a.omero") in result["created_paths"]
    assert not base.exists()


def test_secret_content_never_in_result_or_diff(tmp_path):
    secret_dir = tmp_path / "secrets"
    first_secret, second_secret = "s3cr3t-first-value", "s3cr3t-second-value"
    dirs = [d(secret_dir, "0700")]
    files = [f(secret_dir / "db", first_secret, "0600")]
    results = [sf.converge(dirs, files, secret=True, want_diff=True)]
    files[0]["content"] = second_secret
    results.append(sf.converge(dirs, files, secret=True, want_diff=True, check_mode=True))
    results.append(sf.converge(dirs, files, secret=True, want_diff=True))
    text = json.dumps(results)
    assert first_secret not in text and second_secret not in text
    assert results[2]["diff"] == [{"before_header": str(secret_dir / "db"), "after_header": str(secret_dir / "db"),
                                   "before": "", "after": "(secret content changed)\n"}]
    assert (secret_dir / "db").read_text() == second_secret
    assert mode_of(secret_dir / "db") == 0o600


def test_not_recursive(tmp_path):
    top = tmp_path / "repo"
    top.mkdir(mode=0o700)
    inner = top / "ManagedRepository"
    inner.mkdir()
    os.chmod(inner, 0o711)  # noqa: S103 - a mode the call must not touch
    data = inner / "image.tif"
    data.write_text("pixels")
    os.chmod(data, 0o604)
    if os.geteuid() == 0:
        os.chown(inner, NOBODY, NOBODY)
        os.chown(data, NOBODY, NOBODY)
    owner = os.stat(inner).st_uid
    result = sf.converge([d(top, "0750")], [])
    assert result["changed_paths"] == [str(top)]
    assert mode_of(top) == 0o750
    assert mode_of(inner) == 0o711 and mode_of(data) == 0o604
    assert os.stat(inner).st_uid == owner and os.stat(data).st_uid == owner


def test_missing_parent_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(sf.SiteFilesError, match="parent directory %s does not exist" % missing):
        sf.converge([], [f(missing / "file", "x")])
    # Listed in directories of the same call: fine, even in check mode.
    assert sf.converge([d(missing)], [f(missing / "file", "x")], check_mode=True)["changed"]
    assert not missing.exists()


def test_check_mode_previews_a_file_whose_parent_an_earlier_task_makes(tmp_path):
    # A preview of a fresh host: the layout task before made no directory in check mode.
    missing = tmp_path / "site" / "env"
    result = sf.converge([], [f(missing / "a.env", "X=1\n")], check_mode=True, want_diff=True)
    assert result["changed_paths"] == [str(missing / "a.env")]
    assert result["diff"][0]["after"] == "X=1\n"
    assert not (tmp_path / "site").exists()
    # A real run still refuses it, and a file in the way of a parent is refused in both.
    with pytest.raises(sf.SiteFilesError, match="parent directory %s does not exist" % missing):
        sf.converge([], [f(missing / "a.env", "X=1\n")])
    (tmp_path / "site").write_text("not a directory")
    with pytest.raises(sf.SiteFilesError, match="%s is not a directory" % (tmp_path / "site")):
        sf.converge([], [f(missing / "a.env", "X=1\n")], check_mode=True)


def test_errors_name_the_culprit_and_change_nothing(tmp_path):
    (tmp_path / "plain").write_text("x")
    (tmp_path / "adir").mkdir()
    os.symlink(tmp_path / "plain", tmp_path / "link")
    cases = [
        (dict(directories=[d(tmp_path / "plain")]), "plain exists and is not a directory"),
        (dict(directories=[d(tmp_path / "plain" / "sub")]), "plain exists and is not a directory"),
        (dict(files=[f(tmp_path / "adir", "x")]), "adir exists and is not a regular file"),
        (dict(files=[f(tmp_path / "link", "x")]), "link exists and is a symbolic link"),
        (dict(directories=[d(tmp_path / "new", owner="no-such-user-here")]), "owner 'no-such-user-here' is not a user"),
        (dict(directories=[d(tmp_path / "new", group="no-such-group-here")]), "group 'no-such-group-here' is not"),
        (dict(directories=[d(tmp_path / "new", mode="u=rwx")]), "mode 'u=rwx' is not an octal mode"),
        (dict(directories=[d(tmp_path / "new", mode="99999")]), "is not an octal mode"),
        (dict(directories=[d("relative/dir")]), "relative/dir is not absolute"),
        (dict(directories=[d(tmp_path / "new"), d(tmp_path / "new/")]), "is listed twice"),
    ]
    for kwargs, message in cases:
        # A valid directory beside the bad item must not be created: validation comes first.
        kwargs.setdefault("directories", []).insert(0, d(tmp_path / "first"))
        with pytest.raises(sf.SiteFilesError, match=message.replace("(", r"\(")):
            sf.converge(**kwargs)
        assert not (tmp_path / "first").exists()
        assert not (tmp_path / "new").exists()


def test_module_runs_under_ansible(tmp_path):
    """The module itself, as Ansible runs it: args file in, JSON out; secret needs no_log."""
    target = tmp_path / "s" / "pw"
    args = {"directories": [d(tmp_path / "s", "0700")], "files": [f(target, "top-secret-pw", "0600")],
            "secret": True, "_ansible_no_log": True, "_ansible_diff": True}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))

    def run(a):
        args_file = tmp_path / "args.json"
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": a}))
        proc = subprocess.run([sys.executable, str(REPO_ROOT / "plugins" / "modules" / "site_files.py"),
                               str(args_file)], capture_output=True, text=True, env=env, check=False)
        return proc.stdout, json.loads(proc.stdout)

    out, result = run(args)
    assert result["changed"] is True and result["created_paths"] == [str(tmp_path / "s"), str(target)]
    assert "top-secret-pw" not in out
    assert target.read_text() == "top-secret-pw"

    args["_ansible_no_log"] = False
    args["files"][0]["content"] = "another-secret-pw"
    out, result = run(args)
    assert result.get("failed") and "needs no_log" in result["msg"]
    assert "another-secret-pw" not in out
    assert target.read_text() == "top-secret-pw"


def test_owner_and_group_resolve_by_number_or_name():
    """One look-up for both kinds; each names its kind and what to give instead."""
    root_group = grp.getgrgid(0).gr_name
    assert sf.resolve_id("owner", None, "/p") is None and sf.resolve_id("group", "", "/p") is None
    assert sf.resolve_id("owner", 1234, "/p") == 1234 and sf.resolve_id("group", "1234", "/p") == 1234
    assert sf.resolve_id("owner", "root", "/p") == 0 and sf.resolve_id("group", root_group, "/p") == 0
    for kind, expected in (
        ("owner", "/p: owner 'nobody-x' is not a user on this host (give a uid or create the user first)"),
        ("group", "/p: group 'nobody-x' is not a group on this host (give a gid or create the group first)"),
    ):
        with pytest.raises(sf.SiteFilesError) as caught:
            sf.resolve_id(kind, "nobody-x", "/p")
        assert caught.value.msg == expected
