"""Derived values of the site model (no Ansible run)."""

# ruff: noqa: S104, S105 - test data: fake secrets and the documented public bind address

from __future__ import annotations

import copy
import json

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import (
    HASH_LABEL,
    build_site_model,
    image_reference,
    parse_image,
    secrets_needed,
)

from tests.helpers.sites import TEST_SECRETS, base_site, inventory_site, merged


def _build(site):
    return build_site_model(site, site.get("omero_secrets"))


def _pins():
    """The tag of every catalog service that pulls an image."""
    return {n: s["image"]["tag"] for n, s in load_catalog()["services"].items() if "image" in s}


def test_every_catalog_image_is_pinned():
    services = load_catalog()["services"]
    pins = _pins()
    assert pins
    for name, tag in pins.items():
        assert tag and tag != "latest", name
    # a service without an image of its own is built on another service's (build.base_from)
    for name, service in services.items():
        if "image" not in service:
            assert service["build"]["base_from"] in pins, name


def test_safe_defaults():
    model = _build(base_site())
    services = model["compose"]["services"]
    for off in ("portainer", "crowdsec", "cadvisor"):
        assert off not in services
    published = {(n, p["host_ip"], p["published"]) for n, s in services.items() for p in s.get("ports", [])}
    public = {(n, port) for n, ip, port in published if ip == "0.0.0.0"}
    assert public == {("omeroweb", "4090"), ("omeroserver", "4064")}
    for name in ("grafana", "prometheus", "loki"):
        assert all(ip == "127.0.0.1" for n, ip, port in published if n == name and port)
    for name, svc in services.items():
        assert svc["security_opt"] == ["no-new-privileges:true"], name
        assert not svc.get("privileged"), name
        mounts = [v["source"] for v in svc.get("volumes", [])]
        if name == "omeroweb":
            assert "/var/run/docker.sock" not in mounts
    env = {e["service"]: e["env"] for e in model["env_files"]}
    assert all(e["TZ"] == "UTC" for e in env.values())


def test_cadvisor_is_the_only_privileged_container_when_enabled():
    model = _build(merged(base_site(), {"omero_services": {"cadvisor": {"enabled": True}}}, "/x"))
    privileged = [n for n, s in model["compose"]["services"].items() if s.get("privileged")]
    assert privileged == ["cadvisor"]


def test_docker_socket_for_omeroweb_only_on_request():
    model = _build(merged(base_site(), {"omero_services": {"omeroweb": {"docker_socket": True}}}, "/x"))
    mounts = [v["source"] for v in model["compose"]["services"]["omeroweb"]["volumes"]]
    assert "/var/run/docker.sock" in mounts


def test_no_secret_value_anywhere_in_the_model():
    text = json.dumps(_build(base_site()))
    for value in TEST_SECRETS.values():
        assert value not in text


def test_secrets_by_reference():
    model = _build(base_site())
    db = model["secrets"]["omero_db_password"]
    assert db["variable"] == "omero_secrets.omero_db_password"
    assert any("database" in c for c in db["consumers"])
    files = {(f["service"], f["secret"]): f for f in model["secret_files"]}
    assert files[("database", "omero_db_password")]["owner"] == 999
    assert files[("grafana", "grafana_admin_password")]["owner"] == 472
    assert all(f["mode"] == "0600" for f in model["secret_files"])
    db_env = next(e for e in model["env_files"] if e["service"] == "database")
    assert db_env["env"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/omero_db_password"
    # The site images read secret files named like their variables (secrets-env.sh).
    assert all(e["secret_env"] == {} for e in model["env_files"])
    server = model["compose"]["services"]["omeroserver"]
    assert sorted(s["target"] for s in server["secrets"]) == ["CONFIG_omero_db_pass", "ROOTPASS"]
    assert files[("omeroserver", "omero_root_password")]["path"].endswith("/omeroserver/ROOTPASS")
    assert all(e["mode"] == "0600" and e["owner"] == 0 for e in model["env_files"])
    # Secrets never travel through the manifest itself (only the files' names and paths).
    manifest = json.dumps(model["compose"])
    assert all(value not in manifest for value in TEST_SECRETS.values())


def test_paths_from_one_map_with_owners():
    model = _build(merged(base_site(), {"omero_site_paths": {"omero_data": "/mnt/omero-repo"}}, "/x"))
    assert model["paths"]["omero_data"] == "/mnt/omero-repo"
    assert model["paths"]["database"] == "/srv/omero-test/data/database"
    dirs = {d["path"]: d for d in model["directories"]}
    assert dirs["/mnt/omero-repo"]["owner"] == 1000
    assert dirs["/srv/omero-test/data/database"]["owner"] == 999
    assert dirs["/srv/omero-test/data/database"]["mode"] == "0700"
    assert dirs["/srv/omero-test/secrets"]["mode"] == "0700"
    # Only enabled services get directories.
    assert "/srv/omero-test/data/portainer" not in dirs


def test_owner_override():
    model = _build(merged(base_site(), {"omero_services": {"omeroserver": {"uid": 1234, "gid": 1235}}}, "/x"))
    dirs = {d["path"]: d for d in model["directories"]}
    assert (dirs["/srv/omero-test/data/omero"]["owner"], dirs["/srv/omero-test/data/omero"]["group"]) == (1234, 1235)


@pytest.mark.parametrize(("ref", "expected"), [
    ("postgres:16.12", {"registry": "", "name": "postgres", "tag": "16.12"}),
    ("quay.io/prometheuscommunity/postgres-exporter:v0.17.1",
     {"registry": "quay.io", "name": "prometheuscommunity/postgres-exporter", "tag": "v0.17.1"}),
    ("localhost:5000/omero/server:5.6.17", {"registry": "localhost:5000", "name": "omero/server", "tag": "5.6.17"}),
    ("postgres", None),
    ("Postgres:16", None),
    ("postgres:16 ", None),
    ("postgres@sha256:abc", None),
])
def test_parse_image(ref, expected):
    assert parse_image(ref) == expected


def test_registry_mirror_rewrites_every_pulled_image():
    model = _build(merged(base_site(), {"omero_site_registry_mirror": "mirror.example.org:5000/hub"}, "/x"))
    images = {n: s["image"] for n, s in model["compose"]["services"].items()}
    pins = _pins()
    assert images["database"] == "mirror.example.org:5000/hub/library/postgres:" + pins["database"]
    # Site images are built on the mirror's base image and run from the local tag.
    base = "mirror.example.org:5000/hub/openmicroscopy/omero-server:" + pins["omeroserver"]
    assert model["services"]["omeroserver"]["base_image"] == base
    assert images["omeroserver"].startswith("omero-docker-stack/omero-server:%s-h" % pins["omeroserver"])
    assert model["images"]["omeroserver"]["base"] == model["services"]["omeroserver"]["base_image"]
    assert images["postgres-exporter"] == (
        "mirror.example.org:5000/hub/prometheuscommunity/postgres-exporter:" + pins["postgres-exporter"])
    # Locally built images are not pulled, so not rewritten.
    assert images["pg-maintenance"].startswith("omero-docker-stack/pg-maintenance:")
    cadvisor = {"registry": "gcr.io", "name": "cadvisor/cadvisor", "tag": "v1"}
    assert image_reference(cadvisor) == "gcr.io/cadvisor/cadvisor:v1"


def test_depends_only_on_enabled_services():
    site = merged(base_site(), {"omero_services": {"redis": {"enabled": False}, "redis-exporter": {"enabled": False},
                                                   "loki": {"enabled": False}, "alloy": {"enabled": False}}}, "/x")
    model = _build(site)
    for name, svc in model["compose"]["services"].items():
        for dep in svc.get("depends_on", {}):
            assert dep in model["compose"]["services"], (name, dep)
    assert "redis" not in model["compose"]["services"]["omeroweb"].get("depends_on", {})
    web = {o["property"] for o in model["omero"]["web"]}
    assert "omero.web.caches" not in web
    prom = next(f for f in model["files"] if f["path"].endswith("prometheus.yml"))["content"]
    assert "redis-exporter" not in prom and "loki" not in prom


def test_omeroweb_is_no_compose_dependent_of_omeroserver():
    """Compose recreates a service's dependents with it: a changed server property must not
    take OMERO.web down (it starts without the server and connects at each login)."""
    model = _build(base_site())
    assert "omeroserver" not in model["compose"]["services"]["omeroweb"].get("depends_on", {})


def test_inputs_hash_changes_only_for_the_services_whose_inputs_change():
    before = _build(base_site())
    after = _build(merged(base_site(), {"omero_web_config": {"omero.web.public.enabled": True}}, "/x"))
    changed = {n for n in before["service_hashes"] if before["service_hashes"][n] != after["service_hashes"][n]}
    assert changed == {"omeroweb"}
    assert after["compose"]["services"]["omeroweb"]["labels"][HASH_LABEL] == after["service_hashes"]["omeroweb"]


def test_declared_restart_with_recreates_dependents_and_nothing_else():
    """omeroweb declares `restart_with: [redis]` in the catalog: a change of Redis's
    inputs changes both labels; a change of omeroweb's own leaves Redis alone."""
    catalog = load_catalog()
    assert catalog["services"]["omeroweb"]["restart_with"] == ["redis"]
    before = _build(base_site())
    after = _build(merged(base_site(), {"omero_services": {"redis": {"env": {"REDIS_EXTRA": "1"}}}}, "/x"))
    changed = {n for n in before["service_hashes"] if before["service_hashes"][n] != after["service_hashes"][n]}
    assert changed == {"redis", "omeroweb"}
    for name in changed:
        assert after["compose"]["services"][name]["labels"][HASH_LABEL] == after["service_hashes"][name]
    web_only = _build(merged(base_site(), {"omero_web_config": {"omero.web.page_size": 50}}, "/x"))
    assert web_only["service_hashes"]["redis"] == before["service_hashes"]["redis"]


def test_inputs_hash_follows_secret_values_without_revealing_them():
    before = _build(base_site())
    site = base_site()
    site["omero_secrets"]["grafana_admin_password"] = "another-grafana-password-42"
    after = _build(site)
    changed = {n for n in before["service_hashes"] if before["service_hashes"][n] != after["service_hashes"][n]}
    assert changed == {"grafana"}


def test_model_is_deterministic_and_json_serialisable():
    a = json.dumps(_build(base_site()), sort_keys=True)
    b = json.dumps(_build(copy.deepcopy(base_site())), sort_keys=True)
    assert a == b


def test_omero_config_files_mounted_in_each_component():
    model = _build(merged(base_site(), {"omero_server_config": {"omero.db.poolsize": 25}}, "/x"))
    server = next(f for f in model["files"] if f["service"] == "omeroserver")
    assert "config set -- omero.db.poolsize 25" in server["content"]
    # The database settings travel as CONFIG_* variables (the image reads only those).
    assert "omero.db.host" not in server["content"]
    mounts = {v["target"]: v["source"] for v in model["compose"]["services"]["omeroserver"]["volumes"]}
    assert mounts["/opt/omero/server/config/60-omero-docker-stack.omero"] == server["path"]


def test_secrets_needed_follow_enabled_services():
    minimal = inventory_site("minimal")
    assert "grafana_admin_password" not in secrets_needed(minimal)
    assert "omero_db_password" in secrets_needed(minimal)


@pytest.mark.parametrize("inventory", ["local", "example", "all_services", "minimal", "multinode_example"])
def test_repository_inventories_are_valid(inventory):
    site = inventory_site(inventory)
    secrets = dict(TEST_SECRETS)
    secrets.update({k: v for k, v in (site.get("omero_secrets") or {}).items() if "{{" not in str(v)})
    site["omero_secrets"] = secrets
    model = build_site_model(site, secrets)
    enabled = set(model["enabled_services"])
    if inventory == "all_services":
        assert enabled == set(load_catalog()["services"])
    if inventory == "minimal":
        assert enabled == {"omeroserver", "omeroweb", "database", "database_plugin", "redis"}
    if inventory == "multinode_example":
        assert {"omeroserver-ro-1", "omeroserver-ro-2"} <= enabled and "stack" in model
