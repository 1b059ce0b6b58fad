"""omero_script against the FAKE OMERO.server (autospecced omero-py proxies)."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import omero_plan
from ansible_collections.omero_docker.stack.plugins.modules import omero_script

from tests.helpers.omero_test_helpers import ModuleFail

FIGURES = "/omero/figure_scripts/*"


@pytest.fixture
def official():
    version, scripts = omero_plan.official_scripts()
    return version, scripts


def test_official_scripts_added_then_kept(server, run_module, official):
    version, scripts = official
    figures = sorted(p for p in scripts if p.startswith("/omero/figure_scripts/"))
    result = run_module(omero_script, {"official": [FIGURES], "official_version": version})
    assert result["changed"] is True
    assert result["added"] == figures
    assert result["official_version"] == version
    assert server.script_paths() == figures
    for path in figures:
        assert server.text_of(path) == scripts[path]
    writes = list(server.writes)
    again = run_module(omero_script, {"official": [FIGURES], "official_version": version})
    assert again["changed"] is False
    assert again["unchanged"] == figures
    assert server.writes == writes


def test_add_replace_keep_remove(server, run_module, tmp_path):
    server.add_script("/site/Keep.py", "keep\n")
    server.add_script("/site/Change.py", "old\n")
    server.add_script("/site/Gone.py", "gone\n")
    server.add_script("/omero/util_scripts/Elsewhere.py", "not managed\n")
    src = tmp_path / "Change.py"
    src.write_text("new\n")
    args = {
        "scripts": [
            {"path": "/site/Keep.py", "content": "keep\n"},
            {"path": "/site/Change.py", "src": str(src)},
            {"path": "/site/New.py", "content": "brand new\n"},
        ],
        "prune": True,
        "managed_folders": ["/site"],
    }
    result = run_module(omero_script, args, diff=True)
    assert result["added"] == ["/site/New.py"]
    assert result["replaced"] == ["/site/Change.py"]
    assert result["unchanged"] == ["/site/Keep.py"]
    assert result["removed"] == ["/site/Gone.py"]
    assert server.text_of("/site/Change.py") == "new\n"
    assert "/site/Gone.py" not in server.script_paths()
    assert "/omero/util_scripts/Elsewhere.py" in server.script_paths()
    assert "/site/Gone.py" in result["diff"]["before"]
    assert "/site/New.py" in result["diff"]["after"]
    assert run_module(omero_script, args)["changed"] is False


def test_check_mode_reports_add_replace_remove_without_changes(server, run_module):
    server.add_script("/site/Change.py", "old\n")
    server.add_script("/site/Gone.py", "gone\n")
    before = server.script_paths()
    result = run_module(
        omero_script,
        {"scripts": [{"path": "/site/Change.py", "content": "new\n"}, {"path": "/site/New.py", "content": "n\n"}],
         "prune": True, "managed_folders": ["/site"]},
        check=True,
        diff=True,
    )
    assert result["changed"] is True
    assert (result["added"], result["replaced"], result["removed"]) == (
        ["/site/New.py"], ["/site/Change.py"], ["/site/Gone.py"])
    assert server.writes == []
    assert server.script_paths() == before
    assert server.text_of("/site/Change.py") == "old\n"


def test_without_prune_nothing_is_removed(server, run_module):
    server.add_script("/site/Other.py", "x\n")
    result = run_module(omero_script, {"scripts": [{"path": "/site/A.py", "content": "a\n"}]})
    assert result["removed"] == []
    assert "/site/Other.py" in server.script_paths()


def test_unknown_server_hash_compares_text(server, run_module):
    server.add_script("/site/A.py", "same\n", hasher="Adler-32")
    assert run_module(omero_script, {"scripts": [{"path": "/site/A.py", "content": "same\n"}]})["changed"] is False
    result = run_module(omero_script, {"scripts": [{"path": "/site/A.py", "content": "other\n"}]})
    assert result["replaced"] == ["/site/A.py"]


def test_pinned_version_mismatch_fails_before_connecting(server, run_module):
    with pytest.raises(ModuleFail, match="pinned"):
        run_module(omero_script, {"official": ["*"], "official_version": "0.0.1"})
    assert server.clients == []


def test_missing_src_fails_before_connecting(server, run_module, tmp_path):
    with pytest.raises(ModuleFail, match="cannot read"):
        run_module(omero_script, {"scripts": [{"path": "/site/A.py", "src": str(tmp_path / "nope.py")}]})
    assert server.clients == []


@pytest.fixture
def http_script():
    body = b"# third-party script\nprint('hello')\n"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/Script.py" % httpd.server_port, body
    httpd.shutdown()


def test_url_with_checksum(server, run_module, http_script):
    url, body = http_script
    good = "sha256:" + hashlib.sha256(body).hexdigest()
    result = run_module(omero_script, {"scripts": [{"path": "/third/Script.py", "url": url, "checksum": good}]})
    assert result["added"] == ["/third/Script.py"]
    assert server.text_of("/third/Script.py") == body.decode()


def test_url_checksum_mismatch_changes_nothing(server, run_module, http_script):
    url, _body = http_script
    bad = "sha256:" + "0" * 64
    with pytest.raises(ModuleFail, match="checksum mismatch"):
        run_module(omero_script, {"scripts": [{"path": "/third/Script.py", "url": url, "checksum": bad}]})
    assert server.writes == []
    assert server.clients == []


def test_url_needs_checksum(server, run_module):
    with pytest.raises(ModuleFail, match="checksum"):
        run_module(omero_script, {"scripts": [{"path": "/third/S.py", "url": "http://127.0.0.1:9/S.py"}]})


def test_prune_needs_managed_folders(server, run_module):
    with pytest.raises(ModuleFail, match="managed_folders"):
        run_module(omero_script, {"prune": True})


def test_script_path_without_py_is_refused_before_connecting(server, run_module):
    """OMERO never lists such a file (getScripts), so it would be uploaded on every run."""
    with pytest.raises(ModuleFail, match="script path /site/Measure must end with .py"):
        run_module(omero_script, {"scripts": [{"path": "/site/Measure", "content": "# measure\n"}]})
    assert server.clients == []
    assert server.writes == []
