"""What the omero_bootstrap role applies, as the site model publishes it (``bootstrap``):
omero_groups, omero_users and omero_scripts checked and shaped for the omero_group,
omero_user and omero_script modules, the read-write flag, and no secret value."""

# ruff: noqa: S105 - test data: fake secrets

from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import accounts, omero_defaults
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import REPO_ROOT, TEST_SECRETS, base_site, merged

STACK = REPO_ROOT / "molecule" / "stack"


def _site(**overlay):
    return merged(base_site(), overlay, "/x")


def _local(path, text):
    """What the action plugin finds for a script src: path, digest and text."""
    data = text.encode("utf-8") if text is not None else b"\xff\xfe"
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "content": text}


def _errors(site, local_files=None):
    with pytest.raises(SiteModelError) as info:
        build_site_model(site, site.get("omero_secrets"), local_files=local_files)
    return dict(info.value.errors)


def _stack_site():
    """The site variables of the stack scenario (molecule/stack/molecule.yml), as the action
    plugin reads them (the omero_* variables), with the scenario's paths filled in."""
    text = (STACK / "molecule.yml").read_text()
    text = text.replace("${MOLECULE_EPHEMERAL_DIRECTORY}", "/tmp/eph").replace(  # noqa: S108 - not written
        "${MOLECULE_SCENARIO_DIRECTORY}", str(STACK))
    group = yaml.safe_load(text)["provisioner"]["inventory"]["group_vars"]["omero"]
    site = {k: v for k, v in group.items() if k.startswith("omero_")}
    site["omero_secrets"] = dict(TEST_SECRETS, **group.get("omero_secrets", {}))
    return site


def test_stack_scenario_bootstrap_is_its_inventory_lists_checked():
    """For the stack scenario's inventory the model publishes what the role passed to the
    modules when it read the raw lists (the files read by the action plugin)."""
    site = _stack_site()
    src = site["omero_scripts"][0]["src"]
    text = (STACK / "files" / "E2E_Hello.py").read_text()
    model = build_site_model(site, site["omero_secrets"], generated=(), local_files={src: _local(src, text)})
    boot = model["bootstrap"]
    assert boot["read_write"] is True
    assert boot["groups"] == site["omero_groups"] == [{"name": "e2e-lab", "permissions": "read-annotate"}]
    assert boot["users"] == [{"name": "e2e-user", "groups": ["e2e-lab"]}]  # no password
    assert boot["scripts"] == {"official": [], "official_version": None,
                               "site": [{"path": "/facility/E2E_Hello.py", "content": text}]}
    assert accounts.user_passwords(site) == {"e2e-user": "e2e-user-password"}
    assert "e2e-user-password" not in json.dumps(model)
    assert not {"groups", "users", "scripts"} & set(model)  # one home: bootstrap


def test_scripts_by_source_in_order():
    site = _site(omero_scripts=[
        {"name": "/omero/figure_scripts/*", "pip": "omero-scripts==5.10.1"},
        {"name": "/facility/A.py", "src": "files/A.py"},
        {"name": "/facility/B.py", "content": "print('b')\n"},
        {"name": "/third/C.py", "url": "https://example.org/C.py", "checksum": "sha256:" + "0" * 64},
        {"name": "*", "pip": "omero-scripts==5.10.1"},
    ])
    model = build_site_model(site, site["omero_secrets"], local_files={"files/A.py": _local("/p/A.py", "a\n")})
    assert model["bootstrap"]["scripts"] == {
        "official": ["/omero/figure_scripts/*", "*"],
        "official_version": "5.10.1",
        "site": [{"path": "/facility/A.py", "content": "a\n"},
                 {"path": "/facility/B.py", "content": "print('b')\n"},
                 {"path": "/third/C.py", "url": "https://example.org/C.py", "checksum": "sha256:" + "0" * 64}],
    }


def test_src_nobody_read_stays_a_src():
    """Built without the action plugin (no local_files), a src is passed on as given."""
    site = _site(omero_scripts=[{"name": "/facility/A.py", "src": "files/A.py"}])
    model = build_site_model(site, site["omero_secrets"])
    assert model["bootstrap"]["scripts"]["site"] == [{"path": "/facility/A.py", "src": "files/A.py"}]


@pytest.mark.parametrize(("entry", "variable", "words"), [
    ({"name": "/f/A.py", "src": "a.py", "content": "x"}, "omero_scripts[0]", "give one source"),
    ({"name": "*", "pip": "omero-scripts==5.10.0", "content": "x"}, "omero_scripts[0]", "give one source"),
    ({"name": "*", "pip": "omero-scripts"}, "omero_scripts[0].pip", "omero-scripts==<version>"),
    ({"name": "*", "pip": "omero-figure==1.0"}, "omero_scripts[0].pip", "not a pinned omero-scripts release"),
    ({"name": "/f/A.py", "url": "https://example.org/A.py"}, "omero_scripts[0].checksum", "needs the checksum"),
    ({"name": "/f/A.py", "url": "https://example.org/A.py", "checksum": "md5:00"}, "omero_scripts[0].checksum",
     "sha256:<hex digest>"),
    ({"name": "/f/A.py", "content": ["x"]}, "omero_scripts[0].content", "the script's text"),
    ({"name": "/f/A.py", "git": "https://example.org/r.git"}, "omero_scripts[0].git", "not registered"),
])
def test_script_sources_the_module_would_refuse(entry, variable, words):
    errors = _errors(_site(omero_scripts=[entry]))
    assert variable in errors, errors
    assert words in errors[variable]


def test_one_omero_scripts_release():
    errors = _errors(_site(omero_scripts=[{"name": "*", "pip": "omero-scripts==5.10.0"},
                                          {"name": "/omero/x/*", "pip": "omero-scripts==5.9.0"}]))
    assert "5.10.0, 5.9.0" in errors["omero_scripts[1].pip"]


def test_src_that_is_not_text():
    errors = _errors(_site(omero_scripts=[{"name": "/f/A.py", "src": "a.py"}]),
                     local_files={"a.py": _local("/p/a.py", None)})
    assert "not UTF-8 text" in errors["omero_scripts[0].src"]


@pytest.mark.parametrize(("config", "read_write"), [
    (None, True),
    ({}, True),
    ({"omero.cluster.read_only": False}, True),
    ({"omero.cluster.read_only": "no"}, True),
    ({"omero.cluster.read_only": True}, False),
    ({"omero.cluster.read_only": "yes"}, False),
    ({"omero.cluster.read_only.db": "true"}, False),
    ({"omero.cluster.read_only.repo": 1}, False),
    ({"omero.cluster.read_only": {"set": "true"}}, False),
])
def test_read_write(config, read_write):
    assert omero_defaults.read_write(config) is read_write


def test_read_only_server_in_the_model():
    model = build_site_model(_site(omero_server_config={"omero.cluster.read_only": True}), TEST_SECRETS)
    assert model["bootstrap"]["read_write"] is False


def test_users_lose_their_passwords_only():
    site = _site(omero_groups=[{"name": "lab"}],
                 omero_users=[{"name": "a", "password": "pw-a-123456", "groups": ["lab"], "email": "a@x.org"},
                              {"name": "b", "ldap": True, "groups": ["lab"]},
                              {"name": "c", "password": None, "full_admin": True}])
    model = build_site_model(site, site["omero_secrets"])
    assert model["bootstrap"]["users"] == [{"name": "a", "groups": ["lab"], "email": "a@x.org"},
                                           {"name": "b", "ldap": True, "groups": ["lab"]},
                                           {"name": "c", "full_admin": True}]
    assert accounts.user_passwords(site) == {"a": "pw-a-123456"}
    assert "pw-a-123456" not in json.dumps(model)
