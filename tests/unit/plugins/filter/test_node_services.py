"""node_services: which services of a site may run on one host (all of them on one host; on
a Swarm, those whose placement labels the node has, plus global and unconstrained ones)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.omero_docker.stack.plugins.filter.node_services import node_services
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import base_site, merged


def _model(**overlay):
    site = merged(base_site(), overlay, "/x")
    return build_site_model(site, site.get("omero_secrets"))


def test_one_host_runs_every_enabled_service():
    model = _model()
    assert node_services(model, []) == model["enabled_services"]


def test_a_swarm_node_runs_what_its_labels_place_there():
    model = _model(omero_site_engine="swarm", omero_site_read_only_servers=2)
    spread = [name for name, svc in model["stack"]["services"].items() if svc["deploy"]["mode"] == "global"]
    assert spread, "the default site has global services (node-exporter)"
    web_ro = node_services(model, ["web", "omero-ro"])
    assert {"omeroweb", "redis", "omeroserver-ro-1", "omeroserver-ro-2"} <= set(web_ro)
    assert not {"omeroserver", "database", "prometheus"} & set(web_ro)
    assert set(spread) <= set(web_ro)
    assert set(node_services(model, [])) == set(spread)
    every_label = node_services(model, ["database", "omero-rw", "omero-ro", "web", "monitoring"])
    assert every_label == model["enabled_services"]


def test_the_input_must_be_the_site_model():
    with pytest.raises(AnsibleFilterError, match="omero_site_model"):
        node_services({"services": {}}, [])
