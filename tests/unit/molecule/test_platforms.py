"""Molecule replaces lists instead of merging them: a scenario with more than one test host
(the stack scenario's fresh host) repeats the shared platform of .config/molecule/config.yml
whole. Each of its hosts must stay that platform but for its name and groups, or a change
of the shared one (a capability, a volume) would silently miss them.
"""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
SHARED = yaml.safe_load((REPO / ".config" / "molecule" / "config.yml").read_text())["platforms"]


def _scenarios_with_platforms():
    for path in sorted((REPO / "molecule").glob("*/molecule.yml")):
        platforms = yaml.safe_load(path.read_text()).get("platforms")
        if platforms:
            yield path.parent.name, platforms


def _without_identity(platform):
    return {k: v for k, v in platform.items() if k not in ("name", "groups")}


def test_the_shared_platform_is_one_host_of_group_omero():
    assert len(SHARED) == 1
    assert SHARED[0]["groups"] == ["omero"]


def test_scenario_hosts_are_the_shared_platform_but_for_name_and_groups():
    scenarios = dict(_scenarios_with_platforms())
    assert "stack" in scenarios
    for name, platforms in scenarios.items():
        names = [p["name"] for p in platforms]
        assert len(set(names)) == len(names), name
        assert any("omero" in p["groups"] for p in platforms), name
        for platform in platforms:
            assert _without_identity(platform) == _without_identity(SHARED[0]), (name, platform["name"])


def test_the_stack_site_converges_on_one_host_only():
    # Converge targets `omero`: the fresh host of stories/backup_restore.yml stays bare.
    platforms = dict(_scenarios_with_platforms())["stack"]
    assert [p["groups"] for p in platforms].count(["omero"]) == 1
    assert ["fresh_host"] in [p["groups"] for p in platforms]
