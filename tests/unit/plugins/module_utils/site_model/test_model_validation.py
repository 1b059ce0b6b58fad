"""Validation of site descriptions by the site model (no Ansible run)."""

# ruff: noqa: S104, S105 - test data: fake secrets and the documented public bind address

from __future__ import annotations

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import TEST_SECRETS, bad_sites, base_site, merged

BAD = bad_sites()


def _build(site):
    # local_files={}: as the action plugin, which found no file on the controller.
    return build_site_model(site, site.get("omero_secrets"), local_files={})


def test_corpus_is_large_and_distinct():
    assert len(BAD) >= 80
    assert len({case["id"] for case in BAD}) == len(BAD)
    assert len({case["variable"] for case in BAD}) >= 60
    # Distinct mistakes: no two entries with the same overlay.
    assert len({repr(sorted(case["site"].items())) for case in BAD}) == len(BAD)


def test_base_site_is_valid():
    model = _build(base_site())
    assert model["site"]["name"] == "omero-test"


@pytest.mark.parametrize("case", BAD, ids=[c["id"] for c in BAD])
def test_bad_site_fails_naming_its_variable(case):
    site = merged(base_site(), case["site"], "/srv/omero-test")
    with pytest.raises(SiteModelError) as info:
        _build(site)
    assert case["variable"] in info.value.variables, info.value.format()
    text = info.value.format()
    assert case["variable"] in text
    for value in TEST_SECRETS.values():
        assert value not in text


def test_all_problems_are_reported_at_once():
    site = merged(base_site(), {"omero_site_base_dir": "relative", "omero_site_timezone": "Nowhere/Else",
                                "omero_services": {"nope": {}}}, "/x")
    with pytest.raises(SiteModelError) as info:
        _build(site)
    assert {"omero_site_base_dir", "omero_site_timezone", "omero_services.nope"} <= set(info.value.variables)
    assert "nothing was changed" in info.value.format()


def test_secret_values_never_in_messages():
    secret = "CHANGEME-but-very-long-and-secret"
    site = merged(base_site(), {"omero_secrets": {"omero_root_password": secret}}, "/x")
    with pytest.raises(SiteModelError) as info:
        _build(site)
    assert secret not in info.value.format()


def test_disabling_dependent_and_dependency_together_is_fine():
    site = merged(base_site(), {"omero_services": {
        "database": {"enabled": False}, "omeroserver": {"enabled": False}, "omeroweb": {"enabled": False},
        "pg-maintenance": {"enabled": False}, "postgres-exporter": {"enabled": False},
    }}, "/x")
    model = _build(site)
    assert "database" not in model["enabled_services"]
    assert "omeroserver" not in model["compose"]["services"]


def test_secrets_not_required_for_disabled_services():
    site = base_site()
    del site["omero_secrets"]["grafana_admin_password"]
    site["omero_services"] = {"grafana": {"enabled": False}}
    model = _build(site)
    assert "grafana_admin_password" not in model["secrets"]
