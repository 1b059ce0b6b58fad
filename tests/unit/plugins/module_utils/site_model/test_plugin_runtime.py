"""What web plugins need at run time (site_model/plugin_runtime.py, issue 17): env with the
site's placeholders, secrets as files (the site's or the plugin's own), mounts, a worker."""

# ruff: noqa: S105 - test data: fake secrets

from __future__ import annotations

import copy
import os
import subprocess

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.images import IMAGES_DIR
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import (
    build_site_model,
    secrets_needed,
)

from tests.helpers.sites import TEST_SECRETS, base_site

OMP_SECRET = "omp-hash-secret-0123456789abcdef"
UPLOAD = {
    "name": "omeroweb-upload", "pip": "omeroweb-upload==1.0", "app": "omeroweb_upload",
    "env": {"OMP_DATA_HOST": "{address.database_plugin.host}", "OMP_DATA_PORT": "{address.database_plugin.port}",
            "OMP_DATA_DB": "{site.plugin_db_name}", "OMP_DATA_USER": "{site.plugin_db_user}",
            "CELERY_BROKER_URL": "redis://{address.redis.host_port}/2", "OMERO_WEB_UPLOAD_MAX_GB": 50,
            "UPLOAD_DEBUG": False},
    "secret_env": {"OMP_DATA_PASS": "plugin_db_password", "OMP_HASH_SECRET": "omp_hash_secret"},
    "mounts": [{"path": "omero_data", "target": "/OMERO"},
               {"path": "plugin_uploads", "target": "/opt/tmp"},
               {"path": "omero_server_logs", "target": "/opt/omero/server/OMERO.server/var/log"}],
    "worker": {"command": ["celery", "-A", "omeroweb_upload.tasks", "worker", "--concurrency", "1"]},
}


def site_with(*plugins, **extra):
    site = base_site()
    site["omero_web_plugins"] = copy.deepcopy(list(plugins))
    site["omero_secrets"] = dict(TEST_SECRETS, omp_hash_secret=OMP_SECRET)
    site.update(copy.deepcopy(extra))
    return site


def build(site):
    return build_site_model(site, site.get("omero_secrets"), local_files={})


def errors_of(site):
    with pytest.raises(SiteModelError) as info:
        build(site)
    return dict(info.value.errors)


def env_of(model, service):
    return next(e for e in model["env_files"] if e["service"] == service)["env"]


def secret_targets(model, service):
    return sorted(s["target"] for s in model["compose"]["services"][service].get("secrets") or [])


def targets(model, service):
    return dict((v["target"], v) for v in model["compose"]["services"][service]["volumes"])


def test_env_takes_the_sites_addresses_and_names():
    model = build(site_with(UPLOAD))
    env = env_of(model, "omeroweb")
    assert {k: env[k] for k in UPLOAD["env"]} == {
        "OMP_DATA_HOST": "database_plugin", "OMP_DATA_PORT": "5432", "OMP_DATA_DB": "omero_plugin",
        "OMP_DATA_USER": "omero_plugin", "CELERY_BROKER_URL": "redis://redis:6379/2",
        "OMERO_WEB_UPLOAD_MAX_GB": "50", "UPLOAD_DEBUG": "false"}
    # an existing plugin database: the plugin follows it
    external = build(site_with(UPLOAD, omero_services={"database_plugin": {"external": {
        "host": "db.example.org", "port": 5433}}, "postgres-exporter-plugin": {"enabled": False}}))
    assert env_of(external, "omeroweb")["OMP_DATA_HOST"] == "db.example.org"
    assert env_of(external, "omeroweb")["OMP_DATA_PORT"] == "5433"


def test_secrets_are_files_the_plugins_own_ones_join_the_sites():
    model = build(site_with(UPLOAD))
    assert secret_targets(model, "omeroweb") == ["CONFIG_omero_web_secret__key", "OMP_DATA_PASS", "OMP_HASH_SECRET"]
    assert "omp_hash_secret" in model["secrets"]
    assert not any(OMP_SECRET in str(v) for v in (model["env_files"], model["compose"]))
    # generated like the site's own when omero_site_generate_secrets is on
    assert "omp_hash_secret" in secrets_needed(site_with(UPLOAD))
    site = site_with(UPLOAD)
    del site["omero_secrets"]["omp_hash_secret"]
    assert errors_of(site)["omero_secrets.omp_hash_secret"].startswith(
        "is required by omeroweb, omeroweb-worker-omeroweb-upload (secret of the OMERO.web plugin omeroweb-upload "
        "(OMP_HASH_SECRET))")


def test_mounts_site_paths_read_only_and_the_plugins_own_directory_writable():
    model = build(site_with(UPLOAD))
    mounts = targets(model, "omeroweb")
    assert mounts["/OMERO"]["source"] == model["paths"]["omero_data"] and mounts["/OMERO"]["read_only"] is True
    assert mounts["/opt/tmp"]["source"] == "/srv/omero-test/data/plugins/uploads"
    assert mounts["/opt/tmp"]["read_only"] is False
    assert mounts["/opt/omero/server/OMERO.server/var/log"]["read_only"] is True
    owned = dict((d["path"], d) for d in model["directories"])
    assert owned["/srv/omero-test/data/plugins/uploads"]["owner"] == owned[model["paths"]["omero_web_logs"]]["owner"]
    moved = build(site_with(UPLOAD, omero_site_paths={"plugin_uploads": "/data/uploads"}))
    assert targets(moved, "omeroweb")["/opt/tmp"]["source"] == "/data/uploads"


def test_a_worker_runs_the_web_image_with_its_command_env_secrets_and_mounts():
    model = build(site_with(UPLOAD, omero_site_engine="swarm"))
    stack = model["stack"]["services"]["omeroweb-worker-omeroweb-upload"]
    assert stack["command"] == UPLOAD["worker"]["command"]
    assert stack["deploy"]["placement"] == model["stack"]["services"]["omeroweb"]["deploy"]["placement"]
    compose = model["compose"]["services"]
    web, worker = compose["omeroweb"], compose["omeroweb-worker-omeroweb-upload"]
    assert worker["image"] == web["image"]
    assert worker["command"] == UPLOAD["worker"]["command"]
    assert "ports" not in worker and "healthcheck" not in worker
    assert env_of(model, "omeroweb-worker-omeroweb-upload")["OMERO_STACK_ENTRYPOINT"] == \
        "/usr/local/libexec/omero-stack/run-command.sh"
    assert env_of(model, "omeroweb-worker-omeroweb-upload")["CELERY_BROKER_URL"] == "redis://redis:6379/2"
    assert secret_targets(model, "omeroweb-worker-omeroweb-upload") == secret_targets(model, "omeroweb")
    assert set(targets(model, "omeroweb-worker-omeroweb-upload")) == set(targets(model, "omeroweb"))
    # only the web is probed
    assert "omeroweb-worker-omeroweb-upload" in model["enabled_services"]
    # a worker follows OMERO.web's settings, and its own over them
    tuned = build(site_with(UPLOAD, omero_services={
        "omeroweb": {"resources": {"memory": "3g"}},
        "omeroweb-worker-omeroweb-upload": {"resources": {"memory": "1g"}}}))
    assert tuned["compose"]["services"]["omeroweb"]["mem_limit"] == "3g"
    assert tuned["compose"]["services"]["omeroweb-worker-omeroweb-upload"]["mem_limit"] == "1g"


def test_changing_a_plugins_env_recreates_the_web_and_its_worker_only():
    before = build(site_with(UPLOAD))
    changed = copy.deepcopy(UPLOAD)
    changed["env"]["OMERO_WEB_UPLOAD_MAX_GB"] = 60
    after = build(site_with(changed))
    moved = sorted(n for n in before["service_hashes"] if before["service_hashes"][n] != after["service_hashes"][n])
    assert moved == ["omeroweb", "omeroweb-worker-omeroweb-upload"]
    # removing the plugin removes its worker; what used the plugin changes: OMERO.web, and the
    # exporters that watch every container (the worker's) and measure every data path (its own)
    plain = build(site_with())
    assert "omeroweb-worker-omeroweb-upload" not in plain["compose"]["services"]
    assert sorted(n for n in plain["service_hashes"] if plain["service_hashes"][n] !=
                  before["service_hashes"].get(n)) == ["container-state-exporter", "omeroweb", "path-usage-exporter"]


@pytest.mark.parametrize(("change", "variable", "fragment"), [
    ({"env": {"CONFIG_omero_web_debug": "true"}}, "omero_web_plugins[0].env.CONFIG_omero_web_debug",
     "settings"),
    ({"env": {"X": "{address.nowhere.host}"}}, "omero_web_plugins[0].env.X", "names nothing the site has"),
    ({"env": {"X": ["a"]}}, "omero_web_plugins[0].env.X", "string, number or boolean"),
    ({"env": "X=1"}, "omero_web_plugins[0].env", "dictionary"),
    ({"secret_env": {"X": "Not-A-Name"}}, "omero_web_plugins[0].secret_env.X", "lower-case"),
    ({"mounts": [{"path": "etc", "target": "/etc"}]}, "omero_web_plugins[0].mounts[0].path", "not a site path"),
    ({"mounts": [{"path": "omero_data", "target": "relative"}]}, "omero_web_plugins[0].mounts[0].target",
     "absolute"),
    ({"mounts": [{"path": "omero_data", "target": "/x", "mode": "rw"}]}, "omero_web_plugins[0].mounts[0]",
     "{path, target, read_only}"),
    ({"worker": {"command": "celery worker"}}, "omero_web_plugins[0].worker.command", "list of strings"),
    ({"worker": {"cmd": ["x"]}}, "omero_web_plugins[0].worker", "command"),
])
def test_problems_name_the_item(change, variable, fragment):
    plugin = {"name": "p", "pip": "p==1.0", "app": "p_app"}
    plugin.update(change)
    assert fragment in errors_of(site_with(plugin))[variable]


def test_two_plugins_that_disagree_and_a_worker_without_the_site_image():
    one = {"name": "a", "pip": "a==1.0", "app": "a_app", "env": {"SHARED": "1"}, "mounts": [
        {"path": "omero_data", "target": "/OMERO"}]}
    two = {"name": "b", "pip": "b==1.0", "app": "b_app", "env": {"SHARED": "2"}, "mounts": [
        {"path": "omero_server_logs", "target": "/OMERO"}]}
    errors = errors_of(site_with(one, two))
    assert errors["omero_web_plugins[1].env.SHARED"] == ("conflicts with the value set by "
                                                         "omero_web_plugins[0].env.SHARED")
    assert "already mounted by omero_web_plugins[0].mounts[0]" in errors["omero_web_plugins[1].mounts[0].target"]
    prebuilt = site_with(UPLOAD, omero_services={"omeroweb": {"build": False}})
    assert "does not build" in errors_of(prebuilt)["omero_web_plugins[0].worker"]


def test_the_worker_entrypoint_runs_the_startup_steps_but_omero_web_then_its_command(tmp_path):
    """files/images/omero-web/run-command.sh, run for real with a fake /startup (via a copy
    that reads its steps from a temporary directory)."""
    script = open(os.path.join(IMAGES_DIR, "omero-web", "run-command.sh")).read()
    startup = tmp_path / "startup"
    startup.mkdir()
    for name, body in (("50-config.py", "echo config >> %s/trace" % tmp_path),
                       ("60-default-web-config.sh", "echo defaults >> %s/trace" % tmp_path),
                       ("99-run.sh", "echo web-started >> %s/trace" % tmp_path)):
        (startup / name).write_text("#!/bin/sh\n%s\n" % body)
        (startup / name).chmod(0o755)
    copy_ = tmp_path / "run-command.sh"
    copy_.write_text(script.replace("/startup", str(startup)))
    proc = subprocess.run(["bash", str(copy_), "sh", "-c", "echo worker $0 >> %s/trace" % tmp_path],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "trace").read_text().split("\n")[:3] == ["config", "defaults", "worker sh"]
    assert subprocess.run(["bash", str(copy_)], capture_output=True, check=False).returncode == 2
    (startup / "99-run.sh").unlink()
    assert "has no" in subprocess.run(["bash", str(copy_), "true"], capture_output=True, text=True,
                                      check=False).stderr


def test_the_secrets_hook_runs_only_the_site_images_programs(tmp_path):
    hook = os.path.join(IMAGES_DIR, "_common", "secrets-env.sh")
    proc = subprocess.run(["sh", hook], env=dict(os.environ, OMERO_STACK_SECRETS_DIR=str(tmp_path),
                                                 OMERO_STACK_ENTRYPOINT="/bin/true"),
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "not a program of the site image" in proc.stderr
