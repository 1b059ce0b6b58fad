"""Static checks of roles/omero_bootstrap that need no OMERO.server and no Ansible run."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
ROLE = REPO_ROOT / "roles" / "omero_bootstrap"


def _yaml(rel):
    return yaml.safe_load((ROLE / rel).read_text())


def test_every_default_is_in_the_argument_spec():
    defaults = set(_yaml("defaults/main.yml"))
    options = set(_yaml("meta/argument_specs.yml")["argument_specs"]["main"]["options"])
    assert defaults <= options, sorted(defaults - options)
    assert all(name.startswith("omero_bootstrap_") for name in defaults)
    # the site-wide names it reads are documented too
    assert {"omero_groups", "omero_users", "omero_scripts"} <= options


def test_pinned_omero_scripts_is_the_one_the_tests_install():
    pins = dict(
        line.split("==", 1)
        for line in (REPO_ROOT / "requirements" / "omero.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert _yaml("defaults/main.yml")["omero_bootstrap_scripts_version"] == pins["omero-scripts"]


def test_job_service_user_is_sudo_only_by_default():
    defaults = _yaml("defaults/main.yml")
    assert defaults["omero_bootstrap_job_service_privileges"] == ["Sudo"]


def test_secrets_are_no_log_in_the_spec():
    options = _yaml("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    for name in ("omero_bootstrap_admin_password", "omero_bootstrap_job_service_password"):
        assert options[name]["no_log"] is True
