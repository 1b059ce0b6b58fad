"""External services: an existing PostgreSQL or OMERO.server reached by address.

The service runs nothing here (no container, directory, env file, image build, compose
dependency), its consumers get the address, the secret the server holds is required and
never generated, the deploy's rotation and the bootstrap leave it alone. The mistakes
are in bad_sites.yml.
"""

# ruff: noqa: S105, S106 - test data: fake secrets

from __future__ import annotations

import json

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import placeholders
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import (
    build_site_model,
    secrets_needed,
)

from tests.helpers.sites import base_site, merged

BASE = "/srv/omero-test"


def _model(services, **extra):
    site = merged(base_site(), dict(extra, omero_services=services), BASE)
    given = dict((k, v) for k, v in site["omero_secrets"].items() if v is not None)
    return build_site_model(site, given, local_files={})


def _env(model, service):
    return next(e["env"] for e in model["env_files"] if e["service"] == service)


def _prometheus(model):
    text = next(f["content"] for f in model["files"] if f["path"].endswith("/prometheus.yml"))
    return dict((job["job_name"], job) for job in yaml.safe_load(text)["scrape_configs"])


@pytest.fixture(scope="module")
def external_db():
    return _model({"database": {"external": {"host": "db.example.org", "port": 6543}}})


def test_an_external_database_runs_nothing_here(external_db):
    model = external_db
    assert "database" not in model["enabled_services"]
    assert "database" not in model["compose"]["services"]
    assert model["services"]["database"]["enabled"] is False
    assert model["services"]["database"]["external"] == {"host": "db.example.org", "port": 6543}
    assert not any(d.get("service") == "database" for d in model["directories"])
    assert not any(e["service"] == "database" for e in model["env_files"])
    assert not any(f["service"] == "database" for f in model["secret_files"])
    assert "database" not in model["images"]
    assert BASE + "/env/database.env" in model["stale_paths"]
    for name in ("omeroserver", "pg-maintenance", "postgres-exporter"):
        assert "database" not in model["compose"]["services"][name].get("depends_on", {}), name


def test_its_consumers_get_the_address(external_db):
    server = _env(external_db, "omeroserver")
    assert (server["CONFIG_omero_db_host"], server["CONFIG_omero_db_port"]) == ("db.example.org", "6543")
    maintenance = _env(external_db, "pg-maintenance")
    assert (maintenance["PGHOST"], maintenance["PGPORT"]) == ("db.example.org", "6543")
    assert _env(external_db, "postgres-exporter")["DATA_SOURCE_URI"] == "db.example.org:6543/omero?sslmode=disable"


def test_an_ipv6_address_is_bracketed_where_urls_need_it():
    model = _model({"database": {"external": {"host": "2001:db8::5"}}})
    assert _env(model, "pg-maintenance")["PGHOST"] == "2001:db8::5"
    assert _env(model, "postgres-exporter")["DATA_SOURCE_URI"] == "[2001:db8::5]:5432/omero?sslmode=disable"


def test_the_database_secret_is_required_and_never_generated(external_db):
    assert "omero_db_password" in external_db["secrets"]
    assert external_db["secrets"]["omero_db_password"]["source"] == "inventory"
    site = merged(base_site(), {"omero_site_generate_secrets": True,
                                "omero_services": {"database": {"external": {"host": "db.example.org"}}}}, BASE)
    del site["omero_secrets"]["omero_db_password"]
    assert "omero_db_password" not in secrets_needed(site)
    assert "plugin_db_password" in secrets_needed(dict(site, omero_secrets={}))
    with pytest.raises(SiteModelError) as info:
        build_site_model(site, dict(site["omero_secrets"], omero_db_password="generated-value-0123456789"),
                         generated=["omero_db_password"], local_files={})
    assert info.value.variables == ["omero_secrets.omero_db_password"]
    assert "cannot generate it" in info.value.format()
    assert "db.example.org:5432" in info.value.format()


def test_the_deploy_rotates_only_the_site_s_own_databases(external_db):
    databases = external_db["databases"]
    assert databases["database"]["external"] == {"host": "db.example.org", "port": 6543}
    assert "external" not in databases["database_plugin"]
    assert "database" not in [entry["service"] for entry in external_db["init_only_secrets"]]


def test_an_external_server_is_the_web_s_server_and_the_probe_s_target():
    model = _model({"omeroserver": {"external": {"host": "omero.example.org", "port": 14064}}})
    assert "omeroserver" not in model["compose"]["services"]
    assert not any(d.get("service") == "omeroserver" for d in model["directories"])
    assert "omeroserver" not in model["images"]
    web = dict((op["property"], op["value"]) for op in model["omero"]["web"])
    assert json.loads(web["omero.web.server_list"]) == [["omero.example.org", 14064, "omero-test"]]
    assert _prometheus(model)["blackbox-tls"]["static_configs"] == [{"targets": ["omero.example.org:14064"],
                                                                     "labels": {"service": "omeroserver"}}]
    assert model["bootstrap"]["external_server"] == {"host": "omero.example.org", "port": 14064}
    # Its secrets are not needed by anything the site runs.
    assert "omero_root_password" not in secrets_needed(merged(base_site(), {"omero_services": {
        "omeroserver": {"external": {"host": "omero.example.org"}}}}, BASE))


def test_enabled_true_may_come_with_external():
    model = _model({"database": {"enabled": True, "external": {"host": "10.1.2.3"}}})
    assert model["services"]["database"]["external"] == {"host": "10.1.2.3", "port": 5432}


def test_sites_without_external_have_no_external_keys():
    model = _model({})
    assert not any("external" in svc for svc in model["services"].values())
    assert not any("external" in db for db in model["databases"].values())
    assert list(model["bootstrap"]) == ["read_write", "groups", "users", "scripts"]
    server = _env(model, "omeroserver")
    assert server["CONFIG_omero_db_host"] == "database" and "CONFIG_omero_db_port" not in server
    web = dict((op["property"], op["value"]) for op in model["omero"]["web"])
    assert web["omero.web.server_list"] == '[["omeroserver",4064,"omero-test"]]'
    assert json.loads(web["omero.web.caches"])["default"]["LOCATION"] == "redis://redis:6379/0"


def test_placeholders_fill_text_and_data():
    values = {"site.site_name": "s", "address.x.host": "h", "address.x.port": 5, "address.x.host_port": "h:5"}
    assert placeholders.fill_text("{address.x.host_port}/{site.site_name}", values) == "h:5/s"
    assert placeholders.fill_data([["{address.x.host}", "{address.x.port}"]], values) == [["h", 5]]
    assert placeholders.references({"a": ["{address.x.port}", "{site.site_name}"]}) == [
        ("address", "x", "port"), ("site", "site_name", None)]
    assert placeholders.host_port("::1", 5) == "[::1]:5"
