"""Secrets as files (issue 13): the site images of OMERO.server and OMERO.web read every
secret of their environment from /run/secrets/<VAR> (files/images/_common/secrets-env.sh,
the Orthanc images' convention), so no secret value is in any container's definition.
The model mounts them as secret files; the script is run here for real with /bin/sh.
"""

from __future__ import annotations

import json
import os
import subprocess

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog_schema import (
    problems as catalog_problems,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.images import IMAGES_DIR
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import TEST_SECRETS, base_site, merged

HOOK = os.path.join(IMAGES_DIR, "_common", "secrets-env.sh")


def _build(site):
    return build_site_model(site, dict(site.get("omero_secrets") or TEST_SECRETS))


def _secret_targets(model, service):
    return sorted(s["target"] for s in model["compose"]["services"][service].get("secrets") or [])


def test_no_container_gets_a_secret_through_its_environment():
    model = _build(base_site())
    assert [e["service"] for e in model["env_files"] if e["secret_env"]] == []
    assert _secret_targets(model, "omeroserver") == ["CONFIG_omero_db_pass", "ROOTPASS"]
    assert _secret_targets(model, "omeroweb") == ["CONFIG_omero_web_secret__key"]
    # Owned by the account the image runs as, readable by it only.
    files = dict(((f["service"], f["secret"]), f) for f in model["secret_files"])
    server_file = files[("omeroserver", "omero_db_password")]
    assert (server_file["owner"], server_file["mode"]) == (model["services"]["omeroserver"]["uid"], "0600")
    # A value never travels in the manifest, only the file's path.
    manifest = json.dumps(model["compose"])
    assert all(value not in manifest for value in TEST_SECRETS.values())


def test_a_new_value_recreates_the_consumer_the_root_password_does_not():
    before = _build(base_site())
    site = base_site()
    site["omero_secrets"]["omero_web_secret_key"] = "another-web-secret-key-00000000000000000042"  # noqa: S105
    after = _build(site)
    changed = {n for n in before["service_hashes"] if before["service_hashes"][n] != after["service_hashes"][n]}
    assert changed == {"omeroweb"}
    site["omero_secrets"]["omero_root_password"] = "another-root-password-0042"  # noqa: S105
    assert _build(site)["service_hashes"] == after["service_hashes"]


def test_an_image_run_as_it_is_keeps_its_env_file():
    # build: false runs the official image, which has no hook: the env file must carry it.
    model = _build(merged(base_site(), {"omero_services": {"omeroweb": {"build": False}}}, "/x"))
    env = next(e for e in model["env_files"] if e["service"] == "omeroweb")
    assert env["secret_env"] == {"CONFIG_omero_web_secret__key": "omero_web_secret_key"}
    assert _secret_targets(model, "omeroweb") == []


def test_the_catalog_refuses_the_flag_without_a_site_image_with_the_hook():
    catalog = load_catalog()
    catalog["services"]["redis"]["secret_env_as_files"] = True
    assert ("services.redis.secret_env_as_files",
            "needs a site image with common/ (build.pip), which holds the hook that reads the files") in (
        catalog_problems(catalog))


def _run_hook(tmp_path, files, env=None):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, content in files.items():
        (secrets / name).write_text(content)
    image_entrypoint = tmp_path / "entrypoint-image.sh"
    image_entrypoint.write_text('#!/bin/sh\nenv | sort\necho "ARGS $*"\n')
    image_entrypoint.chmod(0o755)
    hook = (tmp_path / "hook.sh")
    hook.write_text(open(HOOK).read().replace("/usr/local/bin/entrypoint-image.sh", str(image_entrypoint)))
    run_env = {"PATH": "/usr/bin:/bin", "OMERO_STACK_SECRETS_DIR": str(secrets), **(env or {})}
    return subprocess.run(["/bin/sh", str(hook), "a b", "c"], env=run_env, capture_output=True, text=True,
                          check=False)


def test_the_hook_exports_files_named_like_variables_then_runs_the_image(tmp_path):
    run = _run_hook(tmp_path, {"CONFIG_omero_db_pass": "p@ss word$1\n", "ROOTPASS": "r00t",
                               "not-a-variable": "x", "9lives": "x"},
                    env={"CONFIG_omero_db_pass": "plain", "CONFIG_omero_db_host": "db"})
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    # The file wins over a plain variable; the value is verbatim, its trailing newline dropped.
    assert "CONFIG_omero_db_pass=p@ss word$1" in lines
    assert "ROOTPASS=r00t" in lines and "CONFIG_omero_db_host=db" in lines
    assert not any(line.startswith(("not-a-variable=", "9lives=")) for line in lines)
    # The image's entrypoint gets the arguments unchanged.
    assert lines[-1] == "ARGS a b c"
