"""The omero_web_plugins module's decisions, run for real against a temporary venv.

Plugins are small hand-made wheels (a wheel is a zip with a dist-info directory), so pip
installs and uninstalls them offline; importlib.metadata in the venv sees the result. The
venv has no OMERO.web, so verification imports each app and its urls module without
Django (the smoke test in tests/images/omero-web covers the Django path).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import web_plugins as wp
from ansible_collections.omero_docker.stack.plugins.modules import omero_web_plugins as mod

pytestmark = pytest.mark.venv


def make_wheel(directory: Path, dist: str, version: str, app: str, urls: str = "urlpatterns = []\n") -> Path:
    """Write a minimal valid wheel for `dist` with package `app` (and app.urls)."""
    stem = "%s-%s" % (dist.replace("-", "_"), version)
    files = {
        "%s/__init__.py" % app: "",
        "%s/urls.py" % app: urls,
        "%s.dist-info/METADATA" % stem: "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (dist, version),
        "%s.dist-info/WHEEL" % stem: "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(text.encode())))
    record.append("%s.dist-info/RECORD,," % stem)
    files["%s.dist-info/RECORD" % stem] = "\n".join(record) + "\n"
    path = directory / ("%s-py3-none-any.whl" % stem)
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    d = tmp_path_factory.mktemp("wheels")
    return {
        "alpha1": make_wheel(d, "alpha-plugin", "1.0", "alpha_app"),
        "alpha2": make_wheel(d, "alpha-plugin", "2.0", "alpha_app"),
        "beta": make_wheel(d, "beta-plugin", "0.3", "beta_app"),
        "broken": make_wheel(d, "broken-plugin", "1.0", "broken_app", urls="import does_not_exist\n"),
        "nourls": make_wheel(d, "nourls-plugin", "1.0", "nourls_app", urls="x = 1\n"),
    }


@pytest.fixture(scope="module")
def template_venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("template") / "venv"
    venv.EnvBuilder(with_pip=True).create(root)
    return root


@pytest.fixture
def env(tmp_path, template_venv):
    """A fresh venv (a copy of one made with pip) and the paths the module writes."""
    root = tmp_path / "venv"
    shutil.copytree(template_venv, root, symlinks=True)
    python = str(root / "bin" / "python")
    return {
        "python": python,
        "site": subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip(),
        "params": {
            "plugins": [],
            "base_config": {},
            "config_file": str(tmp_path / "config" / "20-plugins.omero"),
            "state_file": str(tmp_path / "state.json"),
            "install": True,
            "pip_args": ["--no-index"],
            "verify": True,
        },
    }


def plugin(name, wheel, app, **hooks):
    return dict({"name": name, "pip": str(wheel), "app": app}, **hooks)


def run(env, plugins, check_mode=False, **params):
    p = dict(env["params"], plugins=plugins, **params)
    return mod.converge(p, check_mode=check_mode, python=env["python"])


def installed(env):
    return {k: v["version"] for k, v in mod.installed_distributions(env["python"]).items() if k.endswith("-plugin")}


def test_install_register_verify_then_idempotent(env, wheels):
    plugins = [
        plugin("alpha", wheels["alpha1"], "alpha_app", top_link={"label": "Alpha", "url": "alpha_index"}),
        plugin("beta", wheels["beta"], "beta_app", center_plugin={"label": "Beta", "url": "beta/init.js.html"}),
    ]
    # Check mode first: reports the work, changes nothing.
    checked = run(env, plugins, check_mode=True)
    assert checked["changed"] and checked["installed"] == [str(wheels["alpha1"]), str(wheels["beta"])]
    assert installed(env) == {} and not Path(env["params"]["config_file"]).exists()
    assert "omero.web.apps" in checked["diff"][0]["after"]

    first = run(env, plugins)
    assert first["changed"]
    assert installed(env) == {"alpha-plugin": "1.0", "beta-plugin": "0.3"}
    assert first["managed"] == ["alpha-plugin", "beta-plugin"]
    assert set(first["verified"]) == {"alpha_app", "beta_app"}
    values = wp.parse_omero_file(Path(env["params"]["config_file"]).read_text())
    assert json.loads(values["omero.web.apps"]) == ["alpha_app", "beta_app"]
    assert json.loads(values["omero.web.ui.center_plugins"]) == [["Beta", "beta/init.js.html", "beta_app"]]
    assert json.loads(Path(env["params"]["state_file"]).read_text())["managed"] == ["alpha-plugin", "beta-plugin"]

    second = run(env, plugins)
    assert not second["changed"] and second["installed"] == [] and second["uninstalled"] == []
    assert second["diff"][0]["before"] == second["diff"][0]["after"]
    # Check mode on a converged installation also verifies (nothing to install first).
    assert set(run(env, plugins, check_mode=True)["verified"]) == {"alpha_app", "beta_app"}


def test_upgrade_and_removal_touch_only_managed_distributions(env, wheels):
    run(env, [plugin("alpha", wheels["alpha1"], "alpha_app"), plugin("beta", wheels["beta"], "beta_app")])
    # A distribution the module did not install (the image's own) is never removed.
    subprocess.run([env["python"], "-m", "pip", "install", "-q", "--no-index", str(wheels["nourls"])], check=True)

    upgraded = run(env, [plugin("alpha", wheels["alpha2"], "alpha_app"), plugin("beta", wheels["beta"], "beta_app")])
    assert upgraded["installed"] == [str(wheels["alpha2"])] and upgraded["uninstalled"] == []
    assert installed(env)["alpha-plugin"] == "2.0"

    removed = run(env, [plugin("alpha", wheels["alpha2"], "alpha_app")])
    assert removed["changed"] and removed["uninstalled"] == ["beta-plugin"]
    assert installed(env) == {"alpha-plugin": "2.0", "nourls-plugin": "1.0"}
    values = wp.parse_omero_file(Path(env["params"]["config_file"]).read_text())
    assert json.loads(values["omero.web.apps"]) == ["alpha_app"]
    assert not run(env, [plugin("alpha", wheels["alpha2"], "alpha_app")])["changed"]


def test_install_false_refuses_to_change_the_venv(env, wheels):
    with pytest.raises(mod.ModuleFailure, match="does not match the plugin list .*alpha_plugin-1.0"):
        run(env, [plugin("alpha", wheels["alpha1"], "alpha_app")], install=False)
    assert installed(env) == {}


def test_plugin_that_does_not_import_fails_with_its_name(env, wheels):
    plugins = [plugin("alpha", wheels["alpha1"], "alpha_app"), plugin("broken", wheels["broken"], "broken_app")]
    with pytest.raises(mod.ModuleFailure, match=r"broken \(app broken_app\): ModuleNotFoundError.*does_not_ex") as exc:
        run(env, plugins)
    assert exc.value.changed  # pip already acted
    # Not registered: the file is written only after verification passed.
    assert not Path(env["params"]["config_file"]).exists()
    with pytest.raises(mod.ModuleFailure, match=r"nourls \(app nourls_app\): ImportError: nourls_app.urls defines no"):
        run(env, [plugin("nourls", wheels["nourls"], "nourls_app")])


def test_register_only_app_must_already_be_importable(env, wheels):
    with pytest.raises(mod.ModuleFailure, match=r"webtest \(app missing_app\)"):
        run(env, [{"name": "webtest", "app": "missing_app"}])


def test_invalid_list_fails_before_touching_anything(env, wheels):
    with pytest.raises(mod.ModuleFailure, match=r"plugins\[0\]\.pip: pip requirement 'alpha-plugin>=1' is not pinned"):
        run(env, [{"name": "alpha", "pip": "alpha-plugin>=1", "app": "alpha_app"}])
    assert installed(env) == {} and not Path(env["params"]["state_file"]).exists()


def test_default_state_file_lives_in_the_venv(env):
    params = dict(env["params"], plugins=[], state_file=None)
    result = mod.converge(params, python=env["python"])
    assert result["state_file"] == str(Path(env["python"]).parent.parent / mod.STATE_FILE_NAME)


def test_inspection_reads_direct_url(env, wheels):
    subprocess.run([env["python"], "-m", "pip", "install", "-q", "--no-index", str(wheels["beta"])], check=True)
    dists = mod.installed_distributions(env["python"])
    assert dists["beta-plugin"]["version"] == "0.3"
    assert dists["beta-plugin"]["direct_url"]["url"].startswith("file://")
    assert sys.executable != env["python"]


def test_distributions_installed_by_the_image_are_adopted_without_pip(env, wheels):
    subprocess.run([env["python"], "-m", "pip", "install", "-q", "--no-index", str(wheels["alpha1"])], check=True)
    first = run(env, [plugin("alpha", wheels["alpha1"], "alpha_app")])
    assert first["changed"] and first["installed"] == [] and first["managed"] == ["alpha-plugin"]
    assert not run(env, [plugin("alpha", wheels["alpha1"], "alpha_app")])["changed"]


def test_site_values_are_the_base_of_the_lists(env, wheels):
    site_links = [["Data", "webindex"], ["Figure", "figure_index", {"title": "site's own"}]]
    result = run(
        env,
        [plugin("alpha", wheels["alpha1"], "alpha_app", top_link={"label": "Figure", "url": "figure_index"})],
        base_config={"omero.web.ui.top_links": json.dumps(site_links), "omero.web.apps": ["corsheaders"]},
        verify=False,
    )
    assert result["registration"]["omero.web.ui.top_links"] == site_links
    values = wp.parse_omero_file(Path(env["params"]["config_file"]).read_text())
    assert json.loads(values["omero.web.apps"]) == ["corsheaders", "alpha_app"]


def test_checks_run_as_the_owner_of_omerodir_when_root(tmp_path, monkeypatch):
    params = {"config_file": str(tmp_path / "config" / "20-plugins.omero"), "verify_user": None}
    if os.geteuid() != 0:
        assert mod.verification_identity(params) is None
        return
    omerodir = tmp_path / "OMERO.web"
    omerodir.mkdir()
    monkeypatch.setenv("OMERODIR", str(omerodir))
    assert mod.verification_identity(params) is None  # root-owned: nothing better to run as
    os.chown(omerodir, 999, 998)
    assert mod.verification_identity(params) == (999, 998)
    nobody = pwd.getpwnam("nobody")
    assert mod.verification_identity(dict(params, verify_user="nobody")) == (nobody.pw_uid, nobody.pw_gid)
    with pytest.raises(mod.ModuleFailure, match="verify_user no-such-user does not exist"):
        mod.verification_identity(dict(params, verify_user="no-such-user"))


def test_verification_loads_what_the_next_start_will_load(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "01-default-webapps.omero").write_text("config append --set -- omero.web.middleware '{}'\n")
    (config / "20-plugins.omero").write_text("config set -- omero.web.apps '[\"old\"]'\n")
    (config / "30-site.omero").write_text("config set -- omero.web.debug false")  # no final newline
    (config / "notes.txt").write_text("ignored")
    new = "config set -- omero.web.apps '[\"new\"]'\n"
    env = {"CONFIG_omero_web_server__list": '[["omeroserver", 4064, "omero"]]', "HOME": "/root"}
    text = mod.startup_config_text(str(config / "20-plugins.omero"), new, environ=env)
    assert text.splitlines() == [
        "config append --set -- omero.web.middleware '{}'",
        "config set -- omero.web.apps '[\"new\"]'",
        "config set -- omero.web.debug false",
        "config set -- omero.web.server_list '[[\"omeroserver\", 4064, \"omero\"]]'",
    ]
    # The CONFIG_ variables are named back as the images do (the one rule, omero_config.py).
    env = {"CONFIG_omero_a_b": "1", "CONFIG_omero_web_secret__key": "k", "CONFIG_omero_web_x__y": "2", "PATH": "/"}
    text = mod.startup_config_text(str(config / "20-plugins.omero"), new, environ=env)
    assert text.splitlines()[-3:] == [
        "config set -- omero.a_b 1", "config set -- omero.web.secret_key k", "config set -- omero.web.x_y 2"]
    # A first run: the registration file does not exist yet but is loaded in its place.
    (config / "20-plugins.omero").unlink()
    assert mod.startup_config_text(str(config / "20-plugins.omero"), new, environ={}).splitlines()[1] == new.strip()


def test_a_plain_app_folder_packaged_by_the_collection_installs_and_verifies(env, wheels, tmp_path):
    """A folder with no packaging (issue 17), packaged by module_utils/app_wheel.py as the
    site model does: pip installs it with its pinned requirement, the app and its urls import."""
    from ansible_collections.omero_docker.stack.plugins.module_utils import app_wheel

    folder = tmp_path / "omeroweb_upload"
    (folder / "templates").mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "urls.py").write_text("import beta_app\nurlpatterns = []\n")
    (folder / "templates" / "index.html").write_text("<p>upload</p>\n")
    (folder / "requirements.txt").write_text("beta-plugin==0.3\n")
    packed = app_wheel.pack(str(folder), "omeroweb-upload", "omeroweb_upload")
    wheel = Path(app_wheel.write_wheel(packed, str(tmp_path / "cache")))
    result = run(env, [plugin("upload", wheel, "omeroweb_upload", top_link={"label": "Upload", "url": "x"})],
                 pip_args=["--no-index", "--find-links", str(wheels["beta"].parent)])
    assert result["changed"] and set(result["verified"]) == {"omeroweb_upload"}
    dists = mod.installed_distributions(env["python"])
    assert dists["omeroweb-upload"]["version"] == packed["version"] and dists["beta-plugin"]["version"] == "0.3"
    template = Path(env["site"]) / "omeroweb_upload" / "templates" / "index.html"
    assert template.read_text() == "<p>upload</p>\n"
    # the same folder again: the same wheel, nothing to do
    again = app_wheel.pack(str(folder), "omeroweb-upload", "omeroweb_upload")
    assert app_wheel.write_wheel(again, str(tmp_path / "cache")) == str(wheel)
    assert not run(env, [plugin("upload", wheel, "omeroweb_upload", top_link={"label": "Upload", "url": "x"})],
                   pip_args=["--no-index", "--find-links", str(wheels["beta"].parent)])["changed"]
