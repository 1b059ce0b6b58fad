"""A site's timings of a service's catalog healthcheck (omero_services.<name>.healthcheck):
merged over the catalog's, the check itself (test) kept, the service alone recreated, and
the mistakes refused naming the variable."""

from __future__ import annotations

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.healthchecks import check_healthcheck
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import base_site, merged


def _model(**overlay):
    site = merged(base_site(), overlay, "/x")
    return build_site_model(site, site.get("omero_secrets"))


def test_the_timings_merge_over_the_catalog_and_the_test_stays():
    catalog = _model()["compose"]["services"]["pg-maintenance"]["healthcheck"]
    timings = {"start_interval": "2s", "start_period": "2m", "retries": 5}
    model = _model(omero_services={"pg-maintenance": {"healthcheck": timings}})
    hc = model["compose"]["services"]["pg-maintenance"]["healthcheck"]
    assert hc == dict(catalog, start_interval="2s", start_period="2m", retries=5)
    assert hc["test"] == catalog["test"] and hc["interval"] == catalog["interval"]


def test_a_changed_timing_changes_that_service_only():
    before = _model()["service_hashes"]
    after = _model(omero_services={"omeroweb": {"healthcheck": {"interval": "5s"}}})["service_hashes"]
    assert [name for name in before if before[name] != after[name]] == ["omeroweb"]


def test_the_timings_reach_the_swarm_stack_file():
    timings = {"start_interval": "1s", "start_period": "30s"}
    model = _model(omero_site_engine="swarm", omero_services={"redis": {"healthcheck": timings}})
    hc = model["stack"]["services"]["redis"]["healthcheck"]
    assert hc["start_interval"] == "1s" and hc["start_period"] == "30s"


@pytest.mark.parametrize(("service", "value", "where", "message"), [
    ("omeroweb", "fast", "healthcheck", "takes timings"),
    ("omeroweb", {"test": ["CMD", "true"]}, "healthcheck.test", "unknown setting"),
    ("omeroweb", {"interval": "30"}, "healthcheck.interval", "positive duration"),
    ("omeroweb", {"interval": 30}, "healthcheck.interval", "positive duration"),
    ("omeroweb", {"start_interval": "0s"}, "healthcheck.start_interval", "positive duration"),
    ("omeroweb", {"timeout": "-5s"}, "healthcheck.timeout", "positive duration"),
    ("omeroweb", {"retries": 0}, "healthcheck.retries", "positive number"),
    ("omeroweb", {"retries": "many"}, "healthcheck.retries", "positive number"),
])  # fmt: skip
def test_bad_timings_are_refused_naming_the_variable(service, value, where, message):
    with pytest.raises(SiteModelError) as info:
        _model(omero_services={service: {"healthcheck": value}})
    errors = dict(info.value.errors)
    assert any(var == "omero_services.%s.%s" % (service, where) and message in msg
               for var, msg in errors.items()), errors


def test_a_service_without_a_catalog_healthcheck_is_refused():
    # Every catalog service has one today; a catalog entry added without one is refused.
    errors = []
    check_healthcheck({"name": "newcomer"}, {"interval": "5s"}, "omero_services.newcomer.healthcheck", errors)
    assert "has no healthcheck in the catalog" in dict(errors)["omero_services.newcomer.healthcheck"]
