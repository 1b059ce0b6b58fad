"""OMERO property names, CONFIG_ variable names and *.omero rendering."""

from __future__ import annotations

import shlex

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import omero_config as oc

GOOD = [
    "omero.web.public.enabled",
    "omero.web.public.url_filter",
    "omero.db.poolsize",
    "omero.policy.binary_access",
    "omero.glacier2.IceSSL.Ciphers",
    "omero.web.ui.top_links",
    "omero.client.ui.tree.type_order",
    "omero.web.secret_key",
    "Ice.IPv6",
]


@pytest.mark.parametrize("prop", GOOD)
def test_round_trip_through_the_images_rule(prop):
    assert oc.property_name_problem(prop) is None
    assert oc.property_from_config_env(oc.config_env_name(prop)) == prop


def test_documented_examples():
    assert oc.config_env_name("omero.web.public.url_filter") == "CONFIG_omero_web_public_url__filter"
    assert oc.config_env_name("omero.policy.binary_access") == "CONFIG_omero_policy_binary__access"
    assert oc.property_from_config_env("CONFIG_omero_web_public_enabled") == "omero.web.public.enabled"


@pytest.mark.parametrize(("prop", "why"), [
    ("omero.a.b", "single character"),
    ("omero.web.ui.x.links", "single character"),
    ("omero.web._private", "starts with '_'"),
    ("omero..web", "empty"),
    ("omero", "dotted"),
    ("omero.web.bad-dash", "characters"),
    ("omero.web.sp ace", "characters"),
])
def test_rejected_names_explain_why(prop, why):
    problem = oc.property_name_problem(prop)
    assert problem and why in problem


@pytest.mark.parametrize("prop", ["omero.web.x", "omero.web.trailing_", "omero.web.double__under", "o.web"])
def test_names_that_map_back_to_themselves_are_allowed(prop):
    assert oc.property_from_config_env(oc.config_env_name(prop)) == prop
    assert oc.property_name_problem(prop) is None


def test_single_character_explanation_shows_the_mis_mapping():
    problem = oc.property_name_problem("omero.a.b")
    assert "CONFIG_omero_a_b" in problem and "omero.a_b" in problem


def test_set_and_append_without_duplicates():
    errors = []
    ops = oc.normalize({
        "omero.web.apps": {"append": ["omero_figure", "omero_iviewer", "omero_figure"]},
        "omero.web.public.enabled": True,
        "omero.web.ui.top_links": [["Figure", "figure_index"]],
        "omero.db.poolsize": {"set": 25},
    }, "v", errors)
    assert errors == []
    assert ops == [
        ("set", "omero.db.poolsize", "25"),
        ("append", "omero.web.apps", '"omero_figure"'),
        ("append", "omero.web.apps", '"omero_iviewer"'),
        ("set", "omero.web.public.enabled", "true"),
        ("set", "omero.web.ui.top_links", '[["Figure","figure_index"]]'),
    ]
    text = oc.render(ops, "header")
    lines = text.splitlines()
    assert lines[0] == "# header"
    assert lines.count("config append --set -- omero.web.apps '\"omero_figure\"'") == 1
    # Every line splits back into exactly the command, key and value.
    for line in lines[1:]:
        words = shlex.split(line)
        assert words[0] == "config" and "--" in words
        assert len(words[words.index("--") + 1:]) == 2


def test_values_with_quotes_and_spaces_survive_shell_splitting():
    ops = [("set", "omero.web.login_logo", "it's a \"logo\" $HOME")]
    line = oc.render(ops).strip()
    assert shlex.split(line)[-1] == "it's a \"logo\" $HOME"


def test_managed_and_malformed():
    errors = []
    oc.normalize({"omero.db.pass": "x", "omero.web.apps": {"append": "x"}, "omero.x.y": 1}, "v", errors,
                 managed={"omero.db.pass": "omero_secrets.omero_db_password"})
    got = dict(errors)
    assert "omero_secrets.omero_db_password" in got["v['omero.db.pass']"]
    assert "list" in got["v['omero.web.apps']"]
    assert "single character" in got["v['omero.x.y']"]


def test_filters():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.omero_docker.stack.plugins.filter.omero_config import FilterModule

    filters = FilterModule().filters()
    assert filters["omero_config_env_name"]("omero.web.public.url_filter") == "CONFIG_omero_web_public_url__filter"
    assert filters["omero_config_property"]("CONFIG_omero_web_public_url__filter") == "omero.web.public.url_filter"
    assert filters["env_file_quote"]("a b") == '"a b"'
    with pytest.raises(AnsibleFilterError, match="single character"):
        filters["omero_config_env_name"]("omero.a.b")
    with pytest.raises(AnsibleFilterError):
        filters["omero_config_property"]("omero_web")


@pytest.mark.parametrize(("name", "prop"), [
    ("CONFIG_omero_a_b", "omero.a_b"),  # ([^_])_([^_]) matches cannot overlap
    ("CONFIG_omero_web_secret__key", "omero.web.secret_key"),
    ("CONFIG_omero_web_x__y", "omero.web.x_y"),
    ("CONFIG_omero_web_public_url__filter", "omero.web.public.url_filter"),
])
def test_one_reverse_config_rule(name, prop):
    """The images' rule, used by the filter and by the omero_web_plugins module alike."""
    from ansible_collections.omero_docker.stack.plugins.filter.omero_config import FilterModule
    from ansible_collections.omero_docker.stack.plugins.modules import omero_web_plugins as mod

    assert oc.property_from_config_env(name) == prop
    assert FilterModule().filters()["omero_config_property"](name) == prop
    assert mod.startup_config_text("/nonexistent/20-plugins.omero", "", environ={name: "v"}).splitlines()[-1] \
        == "config set -- %s v" % prop
