"""pip requirement validation and the install/uninstall decision."""

from __future__ import annotations

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import web_plugins as wp

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("req", "kind", "name", "version", "spec"),
    [
        ("omero-figure==8.0.1", "pypi", "omero-figure", "8.0.1", "omero-figure==8.0.1"),
        ("Omero_Figure == 8.0.1", "pypi", "omero-figure", "8.0.1", "Omero_Figure==8.0.1"),
        ("omero-web[redis]==5.33.2", "pypi", "omero-web", "5.33.2", "omero-web[redis]==5.33.2"),
        (
            "/srv/files/omero_parade-0.2.4-py3-none-any.whl",
            "wheel",
            "omero-parade",
            "0.2.4",
            "/srv/files/omero_parade-0.2.4-py3-none-any.whl",
        ),
        (
            "file:///srv/files/omero_parade-0.2.4-1-py3-none-any.whl",
            "wheel",
            "omero-parade",
            "0.2.4",
            "/srv/files/omero_parade-0.2.4-1-py3-none-any.whl",
        ),
    ],
)
def test_pinned_forms(req, kind, name, version, spec):
    parsed = wp.parse_requirement(req)
    assert (parsed["kind"], parsed["name"], parsed["version"], parsed["spec"]) == (kind, name, version, spec)


@pytest.mark.parametrize(
    ("req", "name"),
    [
        ("git+https://github.com/ome/omero-figure.git@%s#egg=omero-figure" % SHA, "omero-figure"),
        ("omero-figure @ git+https://github.com/ome/omero-figure.git@%s" % SHA, "omero-figure"),
        ("git+ssh://git@github.com/ome/omero-figure.git@%s#egg=omero_figure" % SHA, "omero-figure"),
    ],
)
def test_git_pinned_to_commit(req, name):
    parsed = wp.parse_requirement(req)
    assert parsed["kind"] == "vcs" and parsed["name"] == name and parsed["commit"] == SHA
    assert parsed["spec"].endswith("@" + SHA) and " @ git+" in parsed["spec"]


def test_git_without_name_uses_plugin_name():
    parsed = wp.parse_requirement("git+https://github.com/ome/omero-parade@%s" % SHA, default_name="omero-parade")
    assert parsed["name"] == "omero-parade"
    with pytest.raises(wp.PluginError, match="does not name its distribution"):
        wp.parse_requirement("git+https://github.com/ome/omero-parade@%s" % SHA)


@pytest.mark.parametrize(
    ("req", "message"),
    [
        ("omero-figure", "not pinned"),
        ("omero-figure>=8.0", "not pinned"),
        ("omero-figure==8.*", "not pinned"),
        ("omero-figure~=8.0.1", "not pinned"),
        ("git+https://github.com/ome/omero-figure.git@master#egg=omero-figure", "40-hex commit"),
        ("git+https://github.com/ome/omero-figure.git@v8.0.1#egg=omero-figure", "40-hex commit"),
        ("git+https://github.com/ome/omero-figure.git#egg=omero-figure", "40-hex commit"),
        ("git+https://github.com/ome/omero-figure.git@%s#egg=omero-figure" % SHA[:12], "40-hex commit"),
        ("hg+https://example.org/repo@%s#egg=x" % SHA, "only git URLs"),
        ("omero_parade-0.2.4-py3-none-any.whl", "absolute path"),
        ("/srv/omero_parade.whl", "not a valid wheel file name"),
        ("https://example.org/omero_parade-0.2.4.tar.gz", "not pinned"),
        ("", "non-empty"),
    ],
)
def test_unpinned_or_invalid_requirements_are_refused(req, message):
    with pytest.raises(wp.PluginError, match=message):
        wp.parse_requirement(req)


def test_validation_error_names_the_plugin():
    with pytest.raises(wp.PluginError, match=r"plugins\[0\]\.pip: pip requirement 'omero-figure>=8' is not pinned"):
        wp.validate_plugins([{"name": "omero-figure", "pip": "omero-figure>=8", "app": "omero_figure"}])


def _plugins(*reqs):
    return wp.validate_plugins(
        [{"name": "p%d" % i, "pip": r, "app": "app%d" % i} for i, r in enumerate(reqs)]
    )


def test_plan_installs_missing_and_wrong_versions_keeps_matching():
    plugins = _plugins("omero-figure==8.0.1", "omero-iviewer==0.19.1", "omero-parade==0.2.4")
    installed = {
        "omero-figure": {"version": "8.0.1", "direct_url": None},
        "omero-iviewer": {"version": "0.19.0", "direct_url": None},
        "omero-web": {"version": "5.33.2", "direct_url": None},
    }
    plan = wp.plan_distributions(plugins, installed, managed=["omero-figure"])
    assert plan["install"] == ["omero-iviewer==0.19.1", "omero-parade==0.2.4"]
    assert plan["keep"] == ["omero-figure"]
    assert plan["uninstall"] == []
    assert plan["managed"] == ["omero-figure", "omero-iviewer", "omero-parade"]


def test_plan_uninstalls_only_managed_distributions():
    plugins = _plugins("omero-figure==8.0.1")
    installed = {
        "omero-figure": {"version": "8.0.1"},
        "omero-parade": {"version": "0.2.4"},
        "omero-mapr": {"version": "0.5.0"},  # installed by the image, never managed
        "whitenoise": {"version": "6.12.0"},
    }
    plan = wp.plan_distributions(plugins, installed, managed=["omero-figure", "omero-parade", "omero-gone"])
    assert plan["uninstall"] == ["omero-parade"]  # omero-gone is not installed any more: nothing to do
    assert plan["install"] == []


def test_plan_compares_git_pins_by_commit_and_pypi_pins_not_from_vcs():
    other = "f" * 40
    plugins = _plugins("omero-figure @ git+https://github.com/ome/omero-figure@%s" % SHA)
    from_git = {
        "version": "8.0.2.dev0",
        "direct_url": {"url": "https://github.com/ome/omero-figure", "vcs_info": {"vcs": "git", "commit_id": SHA}},
    }
    assert wp.plan_distributions(plugins, {"omero-figure": from_git}, [])["install"] == []
    stale = dict(from_git, direct_url={"url": "x", "vcs_info": {"vcs": "git", "commit_id": other}})
    assert wp.plan_distributions(plugins, {"omero-figure": stale}, [])["install"] == [plugins[0]["requirement"]["spec"]]
    pinned = _plugins("omero-figure==8.0.2.dev0")
    assert wp.plan_distributions(pinned, {"omero-figure": from_git}, [])["install"] == ["omero-figure==8.0.2.dev0"]


def test_register_only_plugins_are_not_managed():
    plugins = wp.validate_plugins([{"name": "webtest", "app": "omeroweb_webtest"}])
    plan = wp.plan_distributions(plugins, {}, managed=[])
    assert plan == {"install": [], "uninstall": [], "keep": [], "managed": []}
