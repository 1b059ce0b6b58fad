"""Shared helpers for site model tests (unit and integration): a valid base site and the
bad-site corpus (bad_sites.yml beside this file)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]

# Fixed, strong test secrets (never used outside tests).
TEST_SECRETS = {
    "omero_db_password": "unit-test-db-password-0001",
    "omero_root_password": "unit-test-root-password-0002",
    "omero_job_service_password": "unit-test-job-password-0003",
    "omero_web_secret_key": "unit-test-web-secret-key-0004",
    "plugin_db_password": "unit-test-plugin-db-password-0005",
    "grafana_admin_password": "unit-test-grafana-password-0006",
}


def base_site(base_dir="/srv/omero-test"):
    return {
        "omero_site_name": "omero-test",
        "omero_site_base_dir": base_dir,
        "omero_secrets": dict(TEST_SECRETS),
    }


def bad_sites():
    return yaml.safe_load((HERE / "bad_sites.yml").read_text())


def merged(base, overlay, base_dir):
    """``overlay`` over ``base``; omero_secrets merge key by key; @BASE@ is replaced."""
    site = copy.deepcopy(base)
    for key, value in copy.deepcopy(overlay).items():
        if key == "omero_secrets" and isinstance(value, dict):
            site["omero_secrets"].update(value)
        else:
            site[key] = value

    def subst(v):
        if isinstance(v, str):
            return v.replace("@BASE@", base_dir)
        if isinstance(v, dict):
            return {k: subst(x) for k, x in v.items()}
        if isinstance(v, list):
            return [subst(x) for x in v]
        return v

    return subst(site)


def inventory_site(name):
    """The site variables of one of the repository's inventories (group omero)."""
    site = {}
    for f in sorted((REPO_ROOT / "inventories" / name / "group_vars" / "omero").glob("*.yml")):
        site.update(yaml.safe_load(f.read_text()) or {})
    return site
