"""The site model and roles through ansible-playbook, on this machine, in temp dirs.

- Every bad site description of bad_sites.yml fails in the site-model play with its
  variable named, and writes nothing: one run, one inventory host per bad site.
- The local, all_services and minimal inventories render into a temp dir with the
  layout and config stages, the manifest passes `docker compose config --quiet`, and a
  second run changes nothing.

Needs root (the layout gives directories to uids like 999 and 1000).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import playbook
from tests.helpers.sites import REPO_ROOT, TEST_SECRETS, bad_sites, base_site, merged

pytestmark = [pytest.mark.playbook,
              pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ansible-playbook") is None,
                                 reason="needs root and ansible-playbook")]

COMPOSE = os.path.join(os.environ.get("OMERO_STACK_CACHE") or os.path.expanduser("~/.cache/omero_docker_stack"),
                       "bin", "docker-compose")


def compose_binary():
    """A Compose v2 binary: $DOCKER_COMPOSE_BINARY, the cached one, or one extracted from
    the offline Debian 13 test image by tests/images/compose/extract.sh (once)."""
    for candidate in (os.environ.get("DOCKER_COMPOSE_BINARY"), COMPOSE, shutil.which("docker-compose")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if shutil.which("docker"):
        proc = subprocess.run([str(REPO_ROOT / "tests" / "images" / "compose" / "extract.sh")],
                              capture_output=True, text=True, check=False)
        if proc.returncode == 0 and os.access(proc.stdout.strip(), os.X_OK):
            return proc.stdout.strip()
    return None


def run_playbook(tmp_path, inventory, *args, check=True, tags="layout,config"):
    run = playbook.run_playbook(
        REPO_ROOT / "playbooks" / "site.yml", inventory, "--tags", tags, *args, cwd=str(tmp_path),
        env={"ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_FORKS": "10",
             "XDG_DATA_HOME": str(tmp_path / "controller-data"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp")})
    if not run.data:
        pytest.fail("ansible-playbook printed no JSON:\n%s" % run.output[-6000:])
    if check:
        assert run.rc == 0, json.dumps(run.data.get("stats"), indent=1) + "\n".join(run.failures())
    return run.rc, run.data


def _failures(data):
    out = []
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, res in task["hosts"].items():
                if res.get("failed"):
                    out.append("%s %s: %s" % (task["task"]["name"], host, res.get("msg")))
    return "\n".join(out)


def test_bad_sites_fail_naming_their_variable_and_write_nothing(tmp_path):
    cases = bad_sites()
    hosts = {}
    for case in cases:
        base = str(tmp_path / "sites" / case["id"])
        site = merged(base_site(base), case["site"], base)
        site.update({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"})
        hosts[case["id"]] = site
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"omero": {"hosts": hosts}}))
    rc, data = run_playbook(tmp_path, inventory, check=False)
    assert rc != 0
    model_task = data["plays"][0]["tasks"][0]
    assert model_task["task"]["name"] == "Compute the site model"
    for case in cases:
        res = model_task["hosts"][case["id"]]
        assert res.get("failed"), case["id"]
        variables = [e["variable"] for e in res["errors"]]
        assert case["variable"] in variables, (case["id"], res["msg"])
        assert case["variable"] in res["msg"]
        for value in TEST_SECRETS.values():
            assert value not in json.dumps(res)
    # No host got past the model: the second play never ran, no file was written.
    assert all(not task["hosts"] for play in data["plays"][1:] for task in play["tasks"])
    assert not (tmp_path / "sites").exists() or not any((tmp_path / "sites").rglob("*"))


def _inventory_with_overrides(tmp_path, name):
    base = tmp_path / "site"
    extra = {
        "omero_site_base_dir": str(base),
        "site_config_compose_command": compose_binary() or "false",
        "site_config_validate_manifest": compose_binary() is not None,
        # The inventories name the official images, which cannot be had here: the
        # catalog's uid/gid (test_image_accounts_own_the_directories reads real ones).
        "site_layout_read_image_users": False,
    }
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps(extra))
    return base, ["-e", "@%s" % extra_file]


@pytest.mark.parametrize("inventory", ["local", "all_services", "minimal"])
def test_inventory_renders_a_valid_site(tmp_path, inventory):
    if compose_binary() is None:
        pytest.skip("no Docker Compose v2 binary (see tests/unit/plugins/module_utils/test_env_file.py)")
    base, args = _inventory_with_overrides(tmp_path, inventory)
    run_playbook(tmp_path, REPO_ROOT / "inventories" / inventory, *args)
    manifest = base / "docker-compose.yml"
    assert manifest.exists()
    subprocess.run([compose_binary(), "-f", str(manifest), "config", "--quiet"], check=True)
    compose = yaml.safe_load(manifest.read_text())
    site = yaml.safe_load((REPO_ROOT / "inventories" / inventory / "group_vars" / "omero" / "site.yml").read_text())
    assert compose["name"] == site["omero_site_name"]
    # Secrets: generated once on the controller (0600), files 0600, never in the manifest.
    store = tmp_path / "controller-data" / "omero_docker_stack" / "sites" / site["omero_site_name"] / "secrets.yml"
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    values = yaml.safe_load(store.read_text())
    text = manifest.read_text()
    for value in values.values():
        assert value not in text
    for f in (base / "secrets").rglob("*"):
        if f.is_file():
            assert oct(f.stat().st_mode & 0o777) == "0o600"
    for f in (base / "env").iterdir():
        assert oct(f.stat().st_mode & 0o777) == "0o600" and f.stat().st_uid == 0
    assert (base / "data" / "database").stat().st_uid == 999
    assert (base / "data" / "omero").stat().st_uid == 1000
    if inventory != "local":
        return
    # Ownership is never fixed recursively: data written by someone else stays as it is.
    foreign = base / "data" / "omero" / "ManagedRepository" / "file.tif"
    foreign.parent.mkdir()
    foreign.write_text("pixels")
    os.chown(foreign.parent, 4242, 4242)
    os.chown(foreign, 4242, 4242)
    # Idempotent (checked on one inventory: runs are slow on a loaded 2-core machine).
    rc, data = run_playbook(tmp_path, REPO_ROOT / "inventories" / inventory, *args)
    assert rc == 0
    changed = {h: s["changed"] for h, s in data["stats"].items()}
    assert changed == {"localhost": 0}, _changed_tasks(data)
    assert (foreign.stat().st_uid, foreign.parent.stat().st_uid) == (4242, 4242)


def _changed_tasks(data):
    return [t["task"]["name"] for p in data["plays"] for t in p["tasks"]
            if any(r.get("changed") for r in t["hosts"].values())]


ACCOUNTS_BASE = os.environ.get("OMERO_STACK_TEST_DEBIAN_IMAGE", "omero-stack-test/debian:bookworm")


@pytest.fixture(scope="module")
def accounts_image(tmp_path_factory):
    """A local image with the accounts of the official OMERO images: omero-web a system
    account (999 here), omero-server uid 1234 (not the catalog's 1000)."""
    engine = shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True, check=False)
    if not engine or engine.returncode != 0:
        pytest.skip("no Docker engine")
    if subprocess.run(["docker", "image", "inspect", ACCOUNTS_BASE], capture_output=True, check=False).returncode:
        pytest.skip("%s is missing (tests/images builds it)" % ACCOUNTS_BASE)
    context = tmp_path_factory.mktemp("accounts")
    (context / "Dockerfile").write_text(
        "FROM %s\nRUN groupadd -r omero-web && useradd -r -g omero-web omero-web "
        "&& useradd -u 1234 -U omero-server\n" % ACCOUNTS_BASE)
    tag = "omero-stack-test/accounts-unit:1"
    subprocess.run(["docker", "build", "-q", "-t", tag, str(context)], capture_output=True, check=True,
                   env=dict(os.environ, DOCKER_BUILDKIT="0"))
    uid = subprocess.run(["docker", "run", "--rm", "--entrypoint", "id", tag, "-u", "omero-web"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return tag, int(uid)


def _accounts_inventory(tmp_path, web_image, server_image, pull="never"):
    base = tmp_path / "site"
    host = merged(base_site(str(base)), {
        "omero_services": {"omeroweb": {"image": web_image}, "omeroserver": {"image": server_image}},
        "omero_scripts": [{"name": "/facility/Measure.py", "content": "# script\n"}],
        "deploy_pull": pull,
    }, str(base))
    host.update({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"})
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"omero": {"hosts": {"localhost": host}}}))
    return base, inventory


@pytest.mark.docker
def test_image_accounts_own_the_directories(tmp_path, accounts_image):
    """site_layout reads omero-web's and omero-server's uid/gid in their images and owns
    their directories (logs, data, script folders) so."""
    tag, web_uid = accounts_image
    base, inventory = _accounts_inventory(tmp_path, tag, tag)
    run_playbook(tmp_path, inventory, tags="layout")

    def owner(path):
        return (path.stat().st_uid, path.stat().st_gid)

    assert owner(base / "logs" / "omeroweb") == (web_uid, web_uid)
    assert owner(base / "logs" / "omeroserver") == (1234, 1234)
    assert owner(base / "data" / "scripts" / "facility") == (1234, 1234)
    rc, data = run_playbook(tmp_path, inventory, tags="layout")
    assert data["stats"]["localhost"]["changed"] == 0, _changed_tasks(data)


@pytest.mark.docker
def test_image_accounts_missing_image_or_account(tmp_path, accounts_image):
    tag, dummy = accounts_image
    # An image that is not on the host, pulls not allowed: fails naming it, creates nothing.
    base, inventory = _accounts_inventory(tmp_path, "omero-stack-test/no-such-image:1", tag)
    rc, data = run_playbook(tmp_path, inventory, tags="layout", check=False)
    assert rc != 0 and "omero-stack-test/no-such-image:1 is not on the host" in _failures(data)
    assert not (base / "logs").exists()
    # Check mode on such a host: says so, and uses the catalog's uid/gid.
    rc, data = run_playbook(tmp_path, inventory, "--check", tags="layout")
    assert "Check mode: omero-stack-test/no-such-image:1 is not on the host" in json.dumps(data)
    # An image without the account: fails naming the service and the variable to set.
    base, inventory = _accounts_inventory(tmp_path, tag, ACCOUNTS_BASE)
    rc, data = run_playbook(tmp_path, inventory, tags="layout", check=False)
    assert rc != 0 and "omero_services.omeroserver.uid" in _failures(data)
