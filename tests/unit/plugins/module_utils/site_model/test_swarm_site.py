"""A site on Docker Swarm (omero_site_engine: swarm; issue 13): the same site description
renders a stack file from the same model as the compose manifest, each service placed by
its catalog ``swarm`` entry (node labels database, omero-rw, omero-ro, web, monitoring;
``global`` for what reads its own node), file secrets as Swarm secrets named by value.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.swarm import SPEC_HASH_LABEL

from tests.helpers.sites import TEST_SECRETS, base_site, merged

LABELS = ("database", "omero-rw", "omero-ro", "web", "monitoring")


def _site(**overlay):
    return merged(base_site(), dict({"omero_site_engine": "swarm"}, **overlay), "/x")


def _build(site):
    return build_site_model(site, site.get("omero_secrets"))


def _label(stack, service):
    constraints = stack["services"][service]["deploy"].get("placement", {}).get("constraints", [])
    return [c.split(".")[2].split(" ")[0] for c in constraints]


def test_a_compose_site_has_no_stack_file():
    model = _build(merged(base_site(), {}, "/x"))
    assert "stack" not in model
    assert model["paths"]["stack_file"] == model["site"]["base_dir"] + "/stack.yml"


def test_every_catalog_service_says_where_it_runs_on_a_swarm():
    for name, svc in load_catalog()["services"].items():
        swarm = svc.get("swarm") or {}
        assert swarm.get("label") in LABELS or swarm.get("mode") == "global", name


def test_the_stack_file_places_each_service():
    model = _build(_site(omero_site_read_only_servers=2))
    stack = model["stack"]
    assert sorted(stack["services"]) == sorted(model["compose"]["services"]) == model["enabled_services"]
    assert _label(stack, "omeroserver") == ["omero-rw"]
    assert _label(stack, "omeroserver-ro-1") == _label(stack, "omeroserver-ro-2") == ["omero-ro"]
    assert _label(stack, "database") == _label(stack, "pg-maintenance") == ["database"]
    assert _label(stack, "omeroweb") == ["web"] and _label(stack, "prometheus") == ["monitoring"]
    node_exporter = stack["services"]["node-exporter"]["deploy"]
    assert node_exporter["mode"] == "global" and "placement" not in node_exporter
    # dnsrr (no IPVS needed) and host-mode ports, as swarm.py derives them.
    assert {s["deploy"]["endpoint_mode"] for s in stack["services"].values()} == {"dnsrr"}
    assert stack["services"]["omeroweb"]["ports"][0]["mode"] == "host"
    assert stack["networks"]["omero"]["driver"] == "overlay"


def test_secrets_are_swarm_secrets_named_by_value_and_never_in_the_stack():
    model = _build(_site())
    stack = model["stack"]
    assert all(value not in json.dumps(stack) for value in TEST_SECRETS.values())
    assert all(spec["file"].startswith(model["paths"]["secrets"] + "/") for spec in stack["secrets"].values())
    site = _site()
    site["omero_secrets"]["omero_web_secret_key"] = "another-web-secret-key-00000000000000000042"  # noqa: S105
    other = _build(site)["stack"]["secrets"]
    renamed = sorted(key for key in other if other[key]["name"] != stack["secrets"][key]["name"])
    assert renamed == ["omeroweb_CONFIG_omero_web_secret__key"]
    # Mounted for the account the consumer runs as, readable by it only.
    web = stack["services"]["omeroweb"]["secrets"][0]
    uid = model["services"]["omeroweb"]["uid"]
    assert (web["uid"], web["mode"]) == (str(uid), 0o400)


@pytest.mark.parametrize("value", ["kubernetes", "", None, 1])
def test_an_unknown_engine_is_refused(value):
    if value is None:
        assert "stack" not in _build(_site(omero_site_engine=None))
        return
    with pytest.raises(SiteModelError) as info:
        _build(_site(omero_site_engine=value))
    assert "compose: one host; swarm:" in dict(info.value.errors)["omero_site_engine"]


def _spec_hashes(model):
    return dict((name, svc["deploy"]["labels"][SPEC_HASH_LABEL]) for name, svc in model["stack"]["services"].items())


def test_the_spec_hash_label_changes_with_the_service_only():
    before = _spec_hashes(_build(_site(omero_site_read_only_servers=2)))
    assert _spec_hashes(_build(_site(omero_site_read_only_servers=2))) == before
    after = _spec_hashes(_build(_site(omero_site_read_only_servers=2,
                                      omero_web_config={"omero.web.page_size": 50})))
    assert sorted(name for name in before if before[name] != after[name]) == ["omeroweb"]
