"""What the site model accepts (issue 12): every form Docker and OMERO take, no over-strict refusal."""

# ruff: noqa: S104 - bind addresses are test data

from __future__ import annotations

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import paths
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model, parse_image

from tests.helpers.sites import base_site, merged

DIGEST = "sha256:" + "0123456789abcdef" * 4


def build(overlay):
    site = merged(base_site(), overlay, "/srv/omero-test")
    return build_site_model(site, site.get("omero_secrets"), local_files={})


def errors_of(overlay):
    with pytest.raises(SiteModelError) as info:
        build(overlay)
    return dict(info.value.errors)


@pytest.mark.parametrize("address", ["::", "::1", "fd00::10", "2001:db8::1", "0.0.0.0", "192.0.2.7"])
def test_ipv4_and_ipv6_bind_addresses(address):
    model = build({"omero_site_bind_address": address, "omero_services": {"grafana": {"ports": {"http": {
        "bind": address}}}}})
    web = model["compose"]["services"]["omeroweb"]["ports"][0]
    assert web["host_ip"] == address


@pytest.mark.parametrize("policy", ["no", "always", "unless-stopped", "on-failure", "on-failure:5"])
def test_every_restart_policy(policy):
    model = build({"omero_services": {"redis": {"restart": policy}}})
    assert model["compose"]["services"]["redis"]["restart"] == policy


@pytest.mark.parametrize("size", ["10m", "1g", "100k", "10MB", "1.5g", "52428800", 52428800, "10 m"])
def test_every_log_size_docker_takes(size):
    model = build({"omero_site_log_max_size": size})
    assert model["compose"]["services"]["redis"]["logging"]["options"]["max-size"] == str(size)


@pytest.mark.parametrize(("given", "compose"),
                         [("2g", "2g"), ("512M", "512m"), ("1.5GiB", "1.5g"), ("2048mb", "2048m")])
def test_memory_with_any_unit(given, compose):
    model = build({"omero_services": {"redis": {"resources": {"memory": given, "cpus": "1.5"}}}})
    redis = model["compose"]["services"]["redis"]
    assert (redis["mem_limit"], redis["cpus"]) == (compose, 1.5)


def test_server_jvm_follows_a_memory_limit_in_another_form():
    model = build({"omero_services": {"omeroserver": {"resources": {"memory": "6GiB"}}}})
    ops = {o["property"]: o["value"] for o in model["omero"]["server"]}
    assert ops["omero.jvmcfg.system_memory"] == str(6 * 1024)


def test_images_pinned_by_digest():
    model = build({"omero_services": {
        "redis": {"image": "redis@" + DIGEST},
        "grafana": {"image": "grafana/grafana:12.3.3@" + DIGEST},
        "prometheus": {"image": {"digest": DIGEST}},
    }})
    services = model["services"]
    assert services["redis"]["image"] == "redis@" + DIGEST
    assert services["grafana"]["image"] == "grafana/grafana:12.3.3@" + DIGEST
    # a digest alone keeps the catalog's tag
    tag = load_catalog()["services"]["prometheus"]["image"]["tag"]
    assert services["prometheus"]["image"].endswith(":%s@%s" % (tag, DIGEST))
    assert parse_image("quay.io/x/y@" + DIGEST) == {"registry": "quay.io", "name": "x/y", "tag": "", "digest": DIGEST}


def test_digest_through_a_mirror():
    model = build({"omero_site_registry_mirror": "mirror.example.org/hub",
                   "omero_services": {"redis": {"image": "redis@" + DIGEST}}})
    assert model["services"]["redis"]["image"] == "mirror.example.org/hub/library/redis@" + DIGEST


def test_a_floating_tag_with_a_digest_is_pinned():
    model = build({"omero_services": {"redis": {"image": "redis:latest@" + DIGEST}}})
    assert model["services"]["redis"]["image"] == "redis:latest@" + DIGEST


def test_trailing_slashes_are_normalised():
    model = build({"omero_site_base_dir": "/srv/omero-test/", "omero_site_paths": {"omero_data": "/data/omero//"}})
    assert model["site"]["base_dir"] == "/srv/omero-test"
    assert model["paths"]["omero_data"] == "/data/omero"
    assert model["paths"]["config"] == "/srv/omero-test/config"


@pytest.mark.parametrize("path", ["/srv/omero", "/var/lib/omero", "/data", "/home/omero/site", "/tmp/omero-test",
                                  "/var/lib/dockerish", "/opt/omero"])
def test_directories_below_system_ones_are_fine(path):
    assert paths.path_problem(path)[1] is None


@pytest.mark.parametrize("prop", ["omero.web.x", "omero.web.trailing_", "omero.web.double__under"])
def test_property_names_that_map_back_to_themselves(prop):
    model = build({"omero_web_config": {prop: "1"}})
    assert {"op": "set", "property": prop, "value": "1"} in model["omero"]["web"]


def test_json_properties_as_yaml_or_json_strings():
    build({"omero_web_config": {
        "omero.web.apps": {"append": ["omero_figure"]},
        "omero.web.ui.top_links": '[["Figure", "figure_index"]]',
        "omero.web.login_redirect": {"set": {"redirect": ["webindex"], "viewname": "webindex"}},
        "omero.web.caches": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        "omero.web.mapr.config": [{"menu": "gene"}],  # a plugin's own JSON setting
    }})


def test_redis_settings_with_redis_on_and_cache_sessions_with_a_cache_of_the_site():
    redis_cache = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://redis:6379/0"}}
    build({"omero_web_config": {"omero.web.caches": redis_cache,
                                "omero.web.session_engine": "django.contrib.sessions.backends.cache"}})
    build({"omero_services": {"redis": {"enabled": False}, "redis-exporter": {"enabled": False}},
           "omero_web_config": {"omero.web.session_engine": "django.contrib.sessions.backends.cached_db"}})


def test_unknown_secret_names_are_fine_without_generation():
    build({"omero_secrets": {"ldap_bind_password": "unit-test-ldap-password-0010"}})


@pytest.mark.parametrize("perms", ["private", "read-only", "read-annotate", "read-write",
                                   "rw----", "rwr---", "rwra--", "rwrw--"])
def test_every_group_permission_level(perms):
    build({"omero_groups": [{"name": "lab", "permissions": perms, "description": "the lab"}]})


def test_invalid_app_name_is_not_called_missing():
    errors = errors_of({"omero_web_plugins": [{"name": "omero-figure", "app": "omero-figure"},
                                              {"name": "omero-iviewer"}]})
    assert "is required" not in errors["omero_web_plugins[0].app"]
    assert "is required" in errors["omero_web_plugins[1].app"]


def test_cpus_never_raise_a_traceback():
    for value in ("two", [], {}, True, None, "nan", "inf", 0):
        build_or_error = errors_of if value is not None else build
        result = build_or_error({"omero_services": {"redis": {"resources": {"cpus": value}}}})
        if value is not None:
            assert "omero_services.redis.resources.cpus" in result


@pytest.mark.parametrize("name", ["omero-plugin", "Omero_Lab", "omero.v5", "_omero", "a" * 63])
def test_database_and_role_names_postgresql_takes_quoted(name):
    """The reference stack's `omero-plugin` (issue 17): every consumer quotes the name."""
    model = build({"omero_site_db_name": name, "omero_site_db_user": name, "omero_site_plugin_db_name": name,
                   "omero_site_plugin_db_user": name})
    env = dict((f["service"], f["env"]) for f in model["env_files"])
    assert env["database_plugin"]["POSTGRES_DB"] == env["database_plugin"]["POSTGRES_USER"] == name
    assert env["database"]["POSTGRES_DB"] == name
    assert env["postgres-exporter-plugin"]["DATA_SOURCE_URI"].endswith("/%s?sslmode=disable" % name)
    assert {(d["user"], d["database"]) for d in model["databases"].values()} == {(name, name)}
