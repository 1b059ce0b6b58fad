"""Env-file quoting, parsing, masking and the env_file module."""

# ruff: noqa: S104, S105 - test data: fake secrets and the documented public bind address

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import env_file as ef

REPO_ROOT = Path(__file__).resolve().parents[4]

CORPUS = {
    "PLAIN": "omero",
    "EMPTY": "",
    "SPACE": "two words",
    "LEADING_SPACE": "  padded  ",
    "DOLLAR": "pa$$word and $HOME and ${X}",
    "DOLLAR_END": "ends with $",
    "HASH": "a#b # not a comment",
    "HASH_START": "#start",
    "DQUOTE": 'say "hi"',
    "SQUOTE": "it's",
    "BOTH_QUOTES": "'\"mixed\"'",
    "BACKSLASH": "C:\\path\\n not a newline",
    "BACKSLASH_END": "ends with \\",
    "BACKSLASH_QUOTE": "\\'",
    "NEWLINE": "line one\nline two",
    "CRLF": "a\r\nb",
    "TAB": "a\tb",
    "EQUALS": "a=b=c",
    "JSON": '{"default": {"LOCATION": "redis://redis:6379/0"}}',
    "URL": "postgres://u:p@db:5432/omero?sslmode=disable",
    "UNICODE": "größe µm",
    "BRACES": "{{ not jinja }}",
    "SEMICOLON": "a;b|c&d`e`",
    "NUMBERISH": "0600",
}


def compose_binary():
    for candidate in (os.environ.get("DOCKER_COMPOSE_BINARY"),
                      os.path.join(os.environ.get("OMERO_STACK_CACHE") or os.path.expanduser(
                          "~/.cache/omero_docker_stack"), "bin", "docker-compose"),
                      shutil.which("docker-compose"),
                      "/usr/libexec/docker/cli-plugins/docker-compose"):
        if candidate and os.access(candidate, os.X_OK):
            version = subprocess.run([candidate, "version", "--short"], capture_output=True, text=True, check=False)
            if version.returncode == 0 and version.stdout.strip().startswith("2"):
                return candidate
    return None


@pytest.mark.parametrize("key", sorted(CORPUS))
def test_quote_round_trips_through_our_parser(key):
    value = CORPUS[key]
    line = "%s=%s" % (key, ef.quote(value))
    assert "\n" not in line
    assert ef.parse(line) == {key: value}


def test_render_is_sorted_and_stable():
    text = ef.render({"B": "2", "A": "1"}, "head\nline")
    assert text == "# head\n# line\nA=1\nB=2\n"
    assert ef.parse(text) == {"A": "1", "B": "2"}


def test_to_text():
    assert ef.quote(True) == "true"
    assert ef.quote(None) == ""
    assert ef.quote(5) == "5"


def test_key_names():
    assert ef.key_problem("CONFIG_omero_db_pass") is None
    for bad in ("1X", "A-B", "A B", "", "A.B"):
        assert ef.key_problem(bad)


def test_masking_names_changed_keys_but_hides_values():
    before = {"TZ": "UTC", "PASS": "old-secret-value-123", "GONE": "x"}
    after = {"TZ": "Europe/Paris", "PASS": "new-secret-value-456", "NEW": "y"}
    assert ef.changed_keys(before, after) == ["GONE", "NEW", "PASS", "TZ"]
    b, a = ef.masked_render_pair(before, after, {"PASS"})
    assert "old-secret-value-123" not in b + a and "new-secret-value-456" not in b + a
    assert "PASS=********\n" in b and "PASS=******** (changed)\n" in a
    assert "TZ=UTC" in b and "TZ=Europe/Paris" in a
    unchanged_b, unchanged_a = ef.masked_render_pair(before, dict(before), {"PASS"})
    assert unchanged_b == unchanged_a


@pytest.mark.skipif(compose_binary() is None, reason="no Docker Compose v2 binary")
def test_corpus_matches_docker_compose(tmp_path):
    """The real `docker compose config` reads back exactly what we meant."""
    (tmp_path / "test.env").write_text(ef.render(CORPUS, "quoting corpus"))
    (tmp_path / "compose.yml").write_text(
        "name: quoting\nservices:\n  s:\n    image: scratch\n    env_file: [./test.env]\n")
    out = subprocess.run([compose_binary(), "-f", str(tmp_path / "compose.yml"), "config", "--format", "json"],
                         capture_output=True, text=True, check=True, env={"PATH": os.environ.get("PATH", ""),
                                                                          "HOME": str(tmp_path), "X": "oops"})
    got = json.loads(out.stdout)["services"]["s"]["environment"]
    # compose prints a compose file: a literal $ comes out escaped as $$.
    got = {k: (v or "").replace("$$", "$") for k, v in got.items()}
    assert got == {k: v.replace("\r\n", "\r\n") for k, v in CORPUS.items()}


# ---- the module itself, run as Ansible runs it (JSON arguments on stdin) ----

def run_module(tmp_path, args, check=False, diff=False):
    args = dict(args)
    args["_ansible_check_mode"] = check
    args["_ansible_diff"] = diff
    args["_ansible_tmpdir"] = str(tmp_path)
    args["_ansible_remote_tmp"] = str(tmp_path)
    args["_ansible_keep_remote_files"] = False
    proc = subprocess.run(
        [sys.executable, "-m", "ansible_collections.omero_docker.stack.plugins.modules.env_file"],
        input=json.dumps({"ANSIBLE_MODULE_ARGS": args}), capture_output=True, text=True, check=False,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )
    return json.loads(proc.stdout)


def test_module_writes_atomically_idempotent_check_and_diff(tmp_path):
    path = tmp_path / "svc.env"
    args = {"path": str(path), "env": {"TZ": "UTC", "A": "x y"}, "secret_env": {"PASS": "first-secret-value-1"}}
    res = run_module(tmp_path, args, check=True, diff=True)
    assert res["changed"] and not path.exists()
    assert "first-secret-value-1" not in json.dumps(res)
    res = run_module(tmp_path, args, diff=True)
    assert res["changed"], res
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ef.parse(path.read_text()) == {"TZ": "UTC", "A": "x y", "PASS": "first-secret-value-1"}
    assert run_module(tmp_path, args)["changed"] is False
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    args["secret_env"] = {"PASS": "second-secret-value-2"}
    args["env"]["TZ"] = "Europe/Paris"
    res = run_module(tmp_path, args, check=True, diff=True)
    assert res["changed"] and res["changed_keys"] == ["PASS", "TZ"]
    dumped = json.dumps(res)
    assert "first-secret-value-1" not in dumped and "second-secret-value-2" not in dumped
    assert "PASS=********" in res["diff"]["before"] and "PASS=******** (changed)" in res["diff"]["after"]
    assert ef.parse(path.read_text())["PASS"] == "first-secret-value-1"


def test_module_fixes_mode_only(tmp_path):
    path = tmp_path / "svc.env"
    args = {"path": str(path), "env": {"TZ": "UTC"}}
    run_module(tmp_path, args)
    path.chmod(0o644)
    res = run_module(tmp_path, args)
    assert res["changed"] and res["changed_keys"] == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_module_rejects_bad_keys(tmp_path):
    res = run_module(tmp_path, {"path": str(tmp_path / "x.env"), "env": {"BAD-KEY": "1"}})
    assert res.get("failed") and "BAD-KEY" in res["msg"]
    res = run_module(tmp_path, {"path": str(tmp_path / "x.env"), "env": {"A": "1"}, "secret_env": {"A": "2"}})
    assert res.get("failed") and "both" in res["msg"]


def test_module_writes_many_files_in_one_call(tmp_path):
    one, two = tmp_path / "one.env", tmp_path / "two.env"
    args = {"files": [
        {"path": str(one), "env": {"TZ": "UTC"}},
        {"path": str(two), "env": {"TZ": "UTC"}, "secret_env": {"PASS": "bulk-secret-value-3"}, "mode": "0640"},
    ]}
    res = run_module(tmp_path, args, check=True, diff=True)
    assert res["changed"] and not one.exists() and not two.exists()
    assert "bulk-secret-value-3" not in json.dumps(res)
    assert [d["after_header"] for d in res["diff"]] == [str(one), str(two)]
    res = run_module(tmp_path, args, diff=True)
    assert [f["changed"] for f in res["files"]] == [True, True]
    assert "bulk-secret-value-3" not in json.dumps(res)
    assert stat.S_IMODE(one.stat().st_mode) == 0o600 and stat.S_IMODE(two.stat().st_mode) == 0o640
    assert ef.parse(two.read_text()) == {"TZ": "UTC", "PASS": "bulk-secret-value-3"}
    assert run_module(tmp_path, args)["changed"] is False
    # One changed file: only it is reported and rewritten.
    args["files"][0]["env"]["TZ"] = "Europe/Paris"
    res = run_module(tmp_path, args)
    assert [f["changed"] for f in res["files"]] == [True, False]
    assert res["files"][0]["changed_keys"] == ["TZ"] and res["changed_paths"] == [str(one)]
    assert run_module(tmp_path, {"path": str(one), "files": args["files"]}).get("failed")
