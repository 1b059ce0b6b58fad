"""The site's Compose manifest as a Docker Swarm stack file (swarm.py), on real site models.

No Docker here: the stack file is checked against the keys Docker 26's ``docker stack
deploy`` accepts (see :data:`SCHEMA_3_12` below) rather than by the CLI.
"""

# ruff: noqa: S104, S105 - test data: fake secrets and the documented public bind address

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.compose import HASH_LABEL
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.swarm import (
    SPEC_HASH_LABEL,
    secret_digests_of,
    secret_name,
    spec_hash,
    stack_file,
)

from tests.helpers.sites import base_site, merged

BASE = "/srv/omero-test"
PLACEMENT = {"database": "database", "omeroserver": "omero-rw", "omeroweb": "web", "prometheus": "monitoring"}

# What a version-less stack file may hold for Docker 26's `docker stack deploy`: the CLI
# validates it against its newest v3 schema, docker/cli cli/compose/schema/data/
# config_schema_v3.12.json (the Compose file reference's "legacy versions" page lists the
# same options; the Compose specification's deploy section defines the deploy keys).
# Every object there refuses other properties (additionalProperties: false) but x-*.
SCHEMA_3_12 = {
    "top": {"version", "services", "networks", "volumes", "secrets", "configs"},
    "service": {
        "deploy", "build", "cap_add", "cap_drop", "cgroupns_mode", "cgroup_parent", "command", "configs",
        "container_name", "credential_spec", "depends_on", "devices", "dns", "dns_search", "domainname",
        "entrypoint", "env_file", "environment", "expose", "external_links", "extra_hosts", "healthcheck",
        "hostname", "image", "init", "ipc", "isolation", "labels", "links", "logging", "mac_address",
        "network_mode", "networks", "pid", "ports", "privileged", "profiles", "read_only", "restart",
        "security_opt", "shm_size", "secrets", "sysctls", "stdin_open", "stop_grace_period", "stop_signal",
        "tmpfs", "tty", "ulimits", "user", "userns_mode", "volumes", "working_dir",
    },
    "deploy": {"mode", "endpoint_mode", "replicas", "labels", "rollback_config", "update_config", "resources",
               "restart_policy", "placement"},
    "update_config": {"parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order"},
    "limits": {"cpus", "memory", "pids"},
    "restart_policy": {"condition", "delay", "max_attempts", "window"},
    "placement": {"constraints", "preferences", "max_replicas_per_node"},
    "port": {"mode", "target", "published", "protocol"},
    "mount": {"type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs"},
    "healthcheck": {"disable", "interval", "retries", "test", "timeout", "start_period", "start_interval"},
    "logging": {"driver", "options"},
    "network": {"name", "driver", "driver_opts", "ipam", "external", "internal", "attachable", "labels"},
    "secret": {"name", "file", "external", "labels", "driver", "driver_opts", "template_driver"},
}
# Keys the schema takes but `docker stack deploy` ignores with a warning (docker/cli
# cli/compose/types UnsupportedProperties, DeprecatedProperties), or refuses
# (ForbiddenProperties: resources belong in deploy.resources). Only security_opt is
# kept on purpose (swarm.py says why).
IGNORED_OR_REFUSED = {
    "build", "cgroupns_mode", "cgroup_parent", "devices", "domainname", "external_links", "ipc", "links",
    "mac_address", "network_mode", "pid", "privileged", "restart", "shm_size", "userns_mode", "container_name",
    "expose", "mem_limit", "memswap_limit", "cpus", "cpu_shares", "cpu_quota", "cpuset", "pull_policy",
}
SECRET_NAME_RE = re.compile(r"^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$")


def _model(secrets=None, **overlay):
    site = merged(base_site(), dict(overlay, omero_secrets=secrets or {}), BASE)
    return build_site_model(site, site["omero_secrets"]), site["omero_secrets"]


def _stack(model, values, placement=None, **options):
    digests = secret_digests_of(model, values)
    return stack_file(model["compose"], PLACEMENT if placement is None else placement, secret_digests=digests,
                      **options)


@pytest.fixture(scope="module")
def base():
    model, values = _model()
    return model, values, _stack(model, values)


def _keys_within(data, allowed, where):
    unknown = set(data) - allowed - {k for k in data if k.startswith("x-")}
    assert not unknown, "%s: %s" % (where, sorted(unknown))


def test_the_stack_file_holds_only_what_docker_26_stack_deploy_takes(base):
    dummy, dummy2, stack = base
    _keys_within(stack, SCHEMA_3_12["top"], "top level")
    assert "version" not in stack and "name" not in stack
    for name, svc in stack["services"].items():
        _keys_within(svc, SCHEMA_3_12["service"] - (IGNORED_OR_REFUSED - {"security_opt"}), name)
        deploy = svc["deploy"]
        _keys_within(deploy, SCHEMA_3_12["deploy"], name + ".deploy")
        _keys_within(deploy["update_config"], SCHEMA_3_12["update_config"], name + ".deploy.update_config")
        _keys_within(deploy["restart_policy"], SCHEMA_3_12["restart_policy"], name + ".deploy.restart_policy")
        _keys_within(deploy.get("placement", {}), SCHEMA_3_12["placement"], name + ".deploy.placement")
        limits = deploy.get("resources", {}).get("limits", {})
        _keys_within(limits, SCHEMA_3_12["limits"], name + ".deploy.resources.limits")
        assert all(isinstance(limits[k], str) for k in ("cpus", "memory") if k in limits), name
        assert isinstance(deploy["replicas"], int)
        for port in svc.get("ports", []):
            _keys_within(port, SCHEMA_3_12["port"], name + ".ports")
            assert isinstance(port["target"], int) and isinstance(port["published"], int)
        for mount in svc.get("volumes", []):
            _keys_within(mount, SCHEMA_3_12["mount"], name + ".volumes")
            _keys_within(mount.get("bind", {}), {"propagation"}, name + ".volumes.bind")
        _keys_within(svc.get("healthcheck", {}), SCHEMA_3_12["healthcheck"], name + ".healthcheck")
        _keys_within(svc.get("logging", {}), SCHEMA_3_12["logging"], name + ".logging")
        assert all(isinstance(v, (str, int, float)) for v in svc.get("logging", {}).get("options", {}).values())
    for network in stack["networks"].values():
        _keys_within(network, SCHEMA_3_12["network"], "networks")
    for secret in stack["secrets"].values():
        _keys_within(secret, SCHEMA_3_12["secret"], "secrets")
    assert yaml.safe_load(yaml.safe_dump(stack)) == stack


def test_nothing_swarm_ignores_or_refuses_is_left_in_any_service(base):
    model, dummy, stack = base
    assert set(stack["services"]) == set(model["compose"]["services"])
    for name, svc in stack["services"].items():
        assert not set(svc) & {"container_name", "depends_on", "build", "pull_policy", "restart", "mem_limit",
                               "cpus", "privileged", "pid", "devices"}, name
    assert "depends_on" in model["compose"]["services"]["omeroserver"]
    assert "pull_policy" in model["compose"]["services"]["omeroserver"]


def test_the_input_manifest_is_not_changed(base):
    model, values, dummy = base
    again, dummy2 = _model()
    before = json.dumps(again["compose"], sort_keys=True)
    _stack(again, values)
    assert json.dumps(again["compose"], sort_keys=True) == before
    assert before == json.dumps(model["compose"], sort_keys=True)


def test_placement_pins_the_named_services_to_their_node_labels_only(base):
    dummy, dummy2, stack = base
    services = stack["services"]
    assert services["database"]["deploy"]["placement"] == {"constraints": ["node.labels.database == true"]}
    assert services["omeroserver"]["deploy"]["placement"]["constraints"] == ["node.labels.omero-rw == true"]
    assert services["omeroweb"]["deploy"]["placement"]["constraints"] == ["node.labels.web == true"]
    assert services["prometheus"]["deploy"]["placement"]["constraints"] == ["node.labels.monitoring == true"]
    assert "placement" not in services["redis"]["deploy"]
    assert "placement" not in services["grafana"]["deploy"]


def test_an_unknown_service_in_placement_is_refused_naming_it(base):
    model, values, dummy = base
    with pytest.raises(SiteModelError) as caught:
        _stack(model, values, placement=dict(PLACEMENT, omeroweeb="web"))
    assert caught.value.variables == ["placement.omeroweeb"]
    assert "'omeroweeb' runs no container in this stack" in str(caught.value)


def test_a_disabled_service_in_placement_is_refused_too(base):
    model, values, dummy = base
    assert "portainer" not in model["compose"]["services"]
    with pytest.raises(SiteModelError) as caught:
        _stack(model, values, placement={"portainer": "web"})
    assert caught.value.variables == ["placement.portainer"]


def test_a_node_label_that_is_not_a_name_is_refused(base):
    model, values, dummy = base
    with pytest.raises(SiteModelError) as caught:
        _stack(model, values, placement={"database": "db == true"})
    assert caught.value.variables == ["placement.database"]


def test_every_service_resolves_by_dns_round_robin_and_publishes_on_its_node(base):
    dummy, dummy2, stack = base
    for svc in stack["services"].values():
        assert svc["deploy"]["endpoint_mode"] == "dnsrr"
        assert all(port["mode"] == "host" for port in svc.get("ports", []))
    assert stack["services"]["omeroweb"]["ports"] == [
        {"target": 4080, "published": 4090, "protocol": "tcp", "mode": "host"}]
    assert stack["services"]["omeroserver"]["ports"] == [
        {"target": 4064, "published": 4064, "protocol": "tcp", "mode": "host"}]


def test_a_port_bound_to_one_address_is_not_opened_on_every_interface(base):
    model, dummy, stack = base
    assert model["compose"]["services"]["prometheus"]["ports"][0]["host_ip"] == "127.0.0.1"
    assert "ports" not in stack["services"]["prometheus"]
    assert "ports" not in stack["services"]["grafana"]


def test_ingress_ports_with_dns_round_robin_are_refused_and_work_with_a_vip(base):
    model, values, dummy = base
    with pytest.raises(SiteModelError) as caught:
        _stack(model, values, publish_mode="ingress")
    assert set(caught.value.variables) == {"publish_mode"}
    assert "'omeroweb' publishes ports with endpoint_mode dnsrr" in str(caught.value)
    stack = _stack(model, values, endpoint_mode="vip", publish_mode="ingress")
    assert stack["services"]["omeroweb"]["ports"][0]["mode"] == "ingress"
    assert stack["services"]["omeroweb"]["deploy"]["endpoint_mode"] == "vip"


def test_unknown_modes_are_refused(base):
    model, values, dummy = base
    with pytest.raises(SiteModelError) as caught:
        _stack(model, values, endpoint_mode="round-robin", publish_mode="mesh")
    assert set(caught.value.variables) == {"endpoint_mode", "publish_mode"}


def test_services_owning_data_stop_first_and_stateless_ones_start_first(base):
    dummy, dummy2, stack = base
    order = {name: svc["deploy"]["update_config"]["order"] for name, svc in stack["services"].items()}
    for name in ("database", "database_plugin", "omeroserver", "redis", "prometheus", "grafana", "loki", "alloy",
                 "pg-maintenance"):
        assert order[name] == "stop-first", name
    for name in ("blackbox-exporter", "postgres-exporter", "redis-exporter", "node-exporter", "path-usage-exporter"):
        assert order[name] == "start-first", name


def test_omeroweb_is_stateless_but_stops_first_while_it_holds_a_host_port(base):
    """Its only writable mount is its log directory; a start-first task could not take port
    4090 on the node the old one holds it on, and would stay pending (moby/moby#36934)."""
    model, values, stack = base
    assert stack["services"]["omeroweb"]["deploy"]["update_config"]["order"] == "stop-first"
    ingress = _stack(model, values, endpoint_mode="vip", publish_mode="ingress")
    assert ingress["services"]["omeroweb"]["deploy"]["update_config"]["order"] == "start-first"
    assert ingress["services"]["database"]["deploy"]["update_config"]["order"] == "stop-first"


def test_update_order_overrides_the_derived_one_and_refuses_unknown_names(base):
    model, values, dummy = base
    stack = _stack(model, values, update_order={"omeroweb": "start-first"})
    assert stack["services"]["omeroweb"]["deploy"]["update_config"]["order"] == "start-first"
    with pytest.raises(SiteModelError) as caught:
        _stack(model, values, update_order={"nosuch": "start-first", "database": "first"})
    assert caught.value.variables == ["update_order.database", "update_order.nosuch"]


def test_restart_becomes_the_swarm_restart_policy():
    model, values = _model(omero_services={"redis": {"restart": "on-failure:3"}, "loki": {"restart": "no"},
                                           "grafana": {"restart": "always"}})
    services = _stack(model, values)["services"]
    assert services["redis"]["deploy"]["restart_policy"] == {"condition": "on-failure", "max_attempts": 3}
    assert services["loki"]["deploy"]["restart_policy"] == {"condition": "none"}
    assert services["grafana"]["deploy"]["restart_policy"] == {"condition": "any"}
    assert services["database"]["deploy"]["restart_policy"] == {"condition": "any"}  # unless-stopped


def test_memory_and_cpus_become_deploy_resource_limits():
    model, values = _model(omero_services={"omeroserver": {"resources": {"cpus": 1.5}}})
    assert model["compose"]["services"]["omeroserver"]["mem_limit"] == "4g"
    services = _stack(model, values)["services"]
    assert services["omeroserver"]["deploy"]["resources"] == {"limits": {"memory": "4g", "cpus": "1.5"}}
    assert services["redis"]["deploy"]["resources"] == {"limits": {"memory": "512m"}}


def test_labels_are_on_the_container_and_the_service_with_the_inputs_hash(base):
    model, dummy, stack = base
    for name, svc in stack["services"].items():
        assert svc["labels"] == model["compose"]["services"][name]["labels"]
        assert svc["deploy"]["labels"] == dict(svc["labels"], **{SPEC_HASH_LABEL: spec_hash(svc, stack["secrets"])})
        assert svc["deploy"]["labels"][HASH_LABEL] == model["service_hashes"][name]


def test_networks_become_attachable_overlays_keeping_their_names(base):
    model, dummy, stack = base
    assert stack["networks"] == {"omero": {"name": "omero-test_omero", "driver": "overlay", "attachable": True}}
    assert model["compose"]["networks"] == {"omero": {"name": "omero-test_omero"}}


def test_kept_settings_are_unchanged_and_bind_mounts_lose_only_create_host_path(base):
    model, dummy, stack = base
    for name, svc in stack["services"].items():
        source = model["compose"]["services"][name]
        for key in ("image", "env_file", "healthcheck", "ulimits", "logging", "networks", "security_opt", "command"):
            assert svc.get(key) == source.get(key), (name, key)
        assert len(svc.get("volumes", [])) == len(source.get("volumes", []))
        for mount, original in zip(svc.get("volumes", []), source.get("volumes", []), strict=True):
            expected = copy.deepcopy(original)
            expected["bind"].pop("create_host_path")
            if not expected["bind"]:
                del expected["bind"]
            assert mount == expected
    node_exporter = dict((v["target"], v) for v in stack["services"]["node-exporter"]["volumes"])
    assert node_exporter["/host"]["bind"] == {"propagation": "rslave"}


def test_secrets_stay_files_with_a_name_suffixed_per_value(base):
    model, dummy, stack = base
    assert set(stack["secrets"]) == set(model["compose"]["secrets"])
    for key, secret in stack["secrets"].items():
        assert secret["file"] == model["compose"]["secrets"][key]["file"]
        assert secret["name"].startswith("omero-test_")
        assert len(secret["name"]) <= 64 and SECRET_NAME_RE.match(secret["name"]), secret["name"]
    assert len({s["name"] for s in stack["secrets"].values()}) == len(stack["secrets"])
    for name, svc in stack["services"].items():
        assert svc.get("secrets") == model["compose"]["services"][name].get("secrets")


def test_a_secret_name_changes_with_its_value_only():
    """Same value, same name (also when another input of its consumer changes); a new value,
    a new name for that secret's files only."""
    model, values = _model()
    names = {k: s["name"] for k, s in _stack(model, values)["secrets"].items()}
    model2, values2 = _model(omero_services={"grafana": {"env": {"GF_LOG_LEVEL": "warn"}}})
    assert model2["service_hashes"]["grafana"] != model["service_hashes"]["grafana"]
    assert {k: s["name"] for k, s in _stack(model2, values2)["secrets"].items()} == names
    model3, values3 = _model({"grafana_admin_password": "unit-test-grafana-password-0099"})
    changed = {k: s["name"] for k, s in _stack(model3, values3)["secrets"].items()}
    assert [k for k in names if names[k] != changed[k]] == ["grafana_grafana_admin_password"]


def test_an_init_only_secret_gets_a_new_name_too_though_its_hash_label_stays():
    """Swarm refuses new data under an existing name, whatever the container does with it."""
    model, values = _model()
    model2, values2 = _model({"omero_db_password": "unit-test-db-password-0099"})
    assert model2["service_hashes"]["database"] == model["service_hashes"]["database"]
    before = _stack(model, values)["secrets"]["database_omero_db_password"]["name"]
    assert _stack(model2, values2)["secrets"]["database_omero_db_password"]["name"] != before


def test_a_file_secret_without_its_digest_is_refused_naming_it(base):
    model, values, dummy = base
    digests = secret_digests_of(model, values)
    del digests["grafana_grafana_admin_password"]
    with pytest.raises(SiteModelError) as caught:
        stack_file(model["compose"], PLACEMENT, secret_digests=digests)
    assert caught.value.variables == ["secret_digests.grafana_grafana_admin_password"]


def test_a_long_site_name_still_gives_distinct_secret_names_within_64_characters():
    site = "s" * 63
    keys = ["postgres_exporter_plugin_plugin_db_password", "postgres_exporter_plugin_plugin_db_passwore"]
    names = [secret_name(site, key, "d" * 64) for key in keys]
    assert all(len(n) <= 64 and SECRET_NAME_RE.match(n) for n in names)
    assert names[0] != names[1]
    assert secret_name(site, keys[0], "d" * 64) != secret_name(site, keys[0], "e" * 64)
