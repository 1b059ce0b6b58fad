"""Resource limits of a container (ulimits): the catalog's defaults, a site's override, and
the mistakes refused. OMERO.server gets the reference stack's nofile 8192/65536; a host
whose own hard limit is lower (a container engine inside a container, a hardened host)
must be able to lower it, or the container never starts ("error setting rlimit")."""

from __future__ import annotations

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import base_site, merged


def _model(**overlay):
    site = merged(base_site(), overlay, "/x")
    return build_site_model(site, site.get("omero_secrets"))


def test_omeroserver_gets_the_reference_nofile_limits():
    service = _model()["compose"]["services"]["omeroserver"]
    assert service["ulimits"] == {"nofile": {"soft": 8192, "hard": 65536}}


def test_a_site_lowers_the_hard_limit_and_adds_another():
    model = _model(omero_services={"omeroserver": {"ulimits": {"nofile": {"soft": 4096, "hard": 20000},
                                                               "nproc": 4096}}})
    assert model["compose"]["services"]["omeroserver"]["ulimits"] == {
        "nofile": {"soft": 4096, "hard": 20000}, "nproc": {"soft": 4096, "hard": 4096}}


def test_a_changed_limit_changes_that_service_only():
    before = _model()["service_hashes"]
    after = _model(omero_services={"omeroserver": {"ulimits": {"nofile": 20000}}})["service_hashes"]
    assert [name for name in before if before[name] != after[name]] == ["omeroserver"]


@pytest.mark.parametrize(("limits", "message"), [
    ("lots", "takes {nofile"),
    ({"files": 10}, "unknown limit"),
    ({"nofile": {"soft": 10}}, "takes a number or {soft: N, hard: N}"),
    ({"nofile": {"soft": "many", "hard": 10}}, "takes a number"),
    ({"nofile": {"soft": 100, "hard": 10}}, "above the hard limit"),
    ({"nofile": -5}, "takes a number"),
])  # fmt: skip
def test_bad_limits_are_refused_naming_the_variable(limits, message):
    with pytest.raises(SiteModelError) as info:
        _model(omero_services={"omeroserver": {"ulimits": limits}})
    errors = dict(info.value.errors)
    assert any(var.startswith("omero_services.omeroserver.ulimits") and message in msg
               for var, msg in errors.items()), errors
