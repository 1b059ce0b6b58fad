"""Registration logic: omero.web.apps order and duplicates, UI hooks, merging, removal."""

from __future__ import annotations

import json
import shlex

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import web_plugins as wp
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import omero_config as oc

FIGURE = {
    "name": "omero-figure",
    "pip": "omero-figure==8.0.1",
    "app": "omero_figure",
    "top_link": {"label": "Figure", "url": "figure_index", "title": "Open Figure in new tab", "target": "_blank"},
    "open_with": {"url": "new_figure", "supported_objects": ["images"], "target": "_blank", "label": "OMERO.figure"},
}
IVIEWER = {
    "name": "omero-iviewer",
    "pip": "omero-iviewer==0.19.1",
    "app": "omero_iviewer",
    "open_with": {
        "url": "omero_iviewer_index",
        "supported_objects": ["images", "dataset", "well"],
        "script_url": "omero_iviewer/openwith.js",
        "label": "OMERO.iviewer",
    },
    "settings": {"omero.web.viewer.view": "omero_iviewer.views.index"},
}
PARADE = {
    "name": "omero-parade",
    "pip": "omero-parade==0.2.4",
    "app": "omero_parade",
    "center_plugin": {"label": "Parade", "url": "omero_parade/init.js.html", "div_id": "omero_parade"},
}
AUTOTAG = {
    "name": "omero-autotag",
    "pip": "omero-autotag==3.2.0",
    "app": "omero_autotag",
    "center_plugin": {"label": "Auto Tag", "url": "omero_autotag/auto_tag_init.js.html", "div_id": "auto_tag_panel"},
}
# OMERO.web 5.33's own defaults (omeroweb/settings.py), as a site would start from.
DEFAULT_TOP_LINKS = [
    ["Data", "webindex", {"title": "Browse Data via Projects, Tags etc"}],
    ["History", "history", {"title": "History"}],
    ["Help", "https://help.openmicroscopy.org/", {"title": "Open OMERO user guide in a new tab", "target": "new"}],
]
DEFAULT_OPEN_WITH = [
    [
        "Image viewer",
        "webgateway",
        {"supported_objects": ["image"], "script_url": "webclient/javascript/ome.openwith_viewer.js"},
    ]
]


def test_entries_use_omero_web_formats():
    reg = wp.registration([FIGURE, IVIEWER, PARADE])
    # The exact entries the plugins' READMEs and the official standalone image document.
    assert reg[wp.TOP_LINKS] == [["Figure", "figure_index", {"target": "_blank", "title": "Open Figure in new tab"}]]
    assert reg[wp.OPEN_WITH][0] == [
        "omero_figure",
        "new_figure",
        {"label": "OMERO.figure", "supported_objects": ["images"], "target": "_blank"},
    ]
    assert reg[wp.OPEN_WITH][1][:2] == ["omero_iviewer", "omero_iviewer_index"]
    assert reg[wp.CENTER_PLUGINS] == [["Parade", "omero_parade/init.js.html", "omero_parade"]]
    assert reg[wp.RIGHT_PLUGINS] == []
    assert reg["settings"] == {"omero.web.viewer.view": "omero_iviewer.views.index"}


def test_apps_keep_plugin_order():
    assert wp.registration([PARADE, FIGURE, IVIEWER])[wp.APPS] == ["omero_parade", "omero_figure", "omero_iviewer"]
    assert wp.registration([IVIEWER, PARADE, FIGURE])[wp.APPS] == ["omero_iviewer", "omero_parade", "omero_figure"]


def test_apps_follow_site_apps_without_duplicates():
    base = {wp.APPS: json.dumps(["corsheaders", "omero_figure", "corsheaders"])}
    reg = wp.registration([FIGURE, PARADE], base=base)
    assert reg[wp.APPS] == ["corsheaders", "omero_figure", "omero_parade"]


def test_duplicate_app_is_an_error_naming_both_plugins():
    other = dict(PARADE, name="parade-fork", pip="omero-parade-fork==1.0")
    message = r"plugins\[1\]\.app: web app 'omero_parade' is already registered by plugins\[0\] \(omero-parade\)"
    with pytest.raises(wp.PluginError, match=message):
        wp.registration([PARADE, other])


def test_duplicate_name_and_distribution_are_errors():
    with pytest.raises(wp.PluginError, match=r"plugins\[1\]\.name: plugin 'omero-figure' is listed twice"):
        wp.validate_plugins([FIGURE, dict(FIGURE)])
    clash = dict(PARADE, name="x", app="x_app", pip="omero_figure==8.0.0")
    message = r"plugins\[1\]\.pip: distribution omero-figure is already installed by plugins\[0\] \(omero-figure\)"
    with pytest.raises(wp.PluginError, match=message):
        wp.validate_plugins([FIGURE, clash])


def test_ui_hooks_merge_with_defaults_without_duplicates():
    base = {wp.TOP_LINKS: DEFAULT_TOP_LINKS, wp.OPEN_WITH: json.dumps(DEFAULT_OPEN_WITH)}
    reg = wp.registration([FIGURE, IVIEWER], base=base)
    assert reg[wp.TOP_LINKS][:3] == DEFAULT_TOP_LINKS
    assert [link[0] for link in reg[wp.TOP_LINKS]] == ["Data", "History", "Help", "Figure"]
    assert [v[0] for v in reg[wp.OPEN_WITH]] == ["Image viewer", "omero_figure", "omero_iviewer"]
    # Merging the result again (the live configuration as base) adds nothing.
    again = wp.registration([FIGURE, IVIEWER], base={k: reg[k] for k in wp.REGISTRATION_KEYS})
    assert {k: again[k] for k in wp.REGISTRATION_KEYS} == {k: reg[k] for k in wp.REGISTRATION_KEYS}


def test_site_entry_with_same_target_wins_over_plugin_entry():
    site_link = ["Figures", "figure_index", {"title": "Our figures"}]
    reg = wp.registration([FIGURE], base={wp.TOP_LINKS: [site_link]})
    assert reg[wp.TOP_LINKS] == [site_link]


def test_center_plugin_div_id_defaults_to_app_and_right_plugins_append():
    right = dict(PARADE, right_plugin={"label": "Parade info", "url": "omero_parade/right.js.html"})
    reg = wp.registration([right, AUTOTAG], base={wp.RIGHT_PLUGINS: [["Acquisition", "a.js.html", "metadata_tab"]]})
    assert reg[wp.RIGHT_PLUGINS] == [
        ["Acquisition", "a.js.html", "metadata_tab"],
        ["Parade info", "omero_parade/right.js.html", "omero_parade"],
    ]
    assert [c[2] for c in reg[wp.CENTER_PLUGINS]] == ["omero_parade", "auto_tag_panel"]


def test_metadata_pane_merges_by_name():
    pane_plugin = dict(PARADE, metadata_pane={"name": "parade", "label": "Parade", "index": 8})
    base = {wp.METADATA_PANES: [{"name": "tag", "label": "Tags", "index": 1}, {"name": "parade", "label": "P"}]}
    reg = wp.registration([pane_plugin], base=base)
    assert reg[wp.METADATA_PANES] == [{"name": "tag", "label": "Tags", "index": 1}, {"name": "parade", "label": "P"}]


def test_removing_a_plugin_unregisters_it():
    before = wp.registration([FIGURE, IVIEWER, PARADE], base={wp.TOP_LINKS: DEFAULT_TOP_LINKS})
    after = wp.registration([FIGURE, IVIEWER], base={wp.TOP_LINKS: DEFAULT_TOP_LINKS})
    assert "omero_parade" not in after[wp.APPS]
    assert after[wp.CENTER_PLUGINS] == []
    # Removing figure takes its top link and viewer with it; iviewer's settings go with iviewer.
    gone = wp.registration([PARADE], base={wp.TOP_LINKS: DEFAULT_TOP_LINKS})
    assert gone[wp.TOP_LINKS] == DEFAULT_TOP_LINKS
    assert gone[wp.OPEN_WITH] == [] and gone["settings"] == {}
    assert before[wp.APPS] == ["omero_figure", "omero_iviewer", "omero_parade"]


def test_removed_plugins_are_subtracted_from_a_live_base():
    live = wp.registration([FIGURE, PARADE], base={wp.TOP_LINKS: DEFAULT_TOP_LINKS})
    base = {k: live[k] for k in wp.REGISTRATION_KEYS}
    reg = wp.registration([PARADE], base=base, removed=[FIGURE, PARADE])
    assert reg[wp.APPS] == ["omero_parade"]  # still wanted: kept, not dropped
    assert reg[wp.TOP_LINKS] == DEFAULT_TOP_LINKS
    assert reg[wp.OPEN_WITH] == []
    assert reg[wp.CENTER_PLUGINS] == [["Parade", "omero_parade/init.js.html", "omero_parade"]]


def test_settings_conflicts_and_reserved_keys():
    a = dict(PARADE, settings={"omero.web.viewer.view": "x.views.index"})
    message = r"plugins\[1\]\.settings\['omero\.web\.viewer\.view'\]: conflicts with .* \(omero-iviewer\)"
    with pytest.raises(wp.PluginError, match=message):
        wp.validate_plugins([IVIEWER, a])
    b = dict(PARADE, settings={"omero.web.apps": '["x"]'})
    with pytest.raises(wp.PluginError, match="managed from the plugin list"):
        wp.validate_plugins([b])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"top_link": {"label": "Figure"}}, r"\.top_link\.url: is required"),
        ({"top_link": {"label": "F", "url": "x", "colour": "red"}}, r"\.top_link\.colour: unknown setting"),
        ({"open_with": {"url": "new_figure"}}, r"\.open_with\.supported_objects: is required"),
        ({"open_with": {"url": "x", "supported_objects": "images"}}, r"\.open_with\.supported_objects: must be a list"),
        ({"center_plugin": {"url": "x.js.html"}}, r"\.center_plugin\.label: is required"),
        ({"metadata_pane": {"name": "a", "label": "A", "index": "1"}}, r"\.metadata_pane\.index: must be an integer"),
        ({"app": "omero-figure"}, r"\.app: 'omero-figure' is not a Django app name"),
        ({"colour": 1}, r"\.colour: unknown setting"),
        ({"settings": {"notdotted": 1}}, r"\.settings\['notdotted'\]: invalid OMERO property name: .*not a dotted"),
    ],
)
def test_malformed_hooks_fail_naming_the_item(change, message):
    with pytest.raises(wp.PluginError, match=r"^plugins\[0\]" + message):
        wp.validate_plugins([dict(FIGURE, **change)])


def test_rendered_file_sets_whole_lists_and_reads_back():
    reg = wp.registration([FIGURE, IVIEWER, PARADE], base={wp.TOP_LINKS: DEFAULT_TOP_LINKS})
    reg["settings"]["omero.web.figure.flag"] = True
    text = wp.render_omero_file(reg)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert all(line.startswith("config set -- ") for line in lines)
    assert "config append" not in text
    values = wp.parse_omero_file(text)
    assert json.loads(values[wp.APPS]) == ["omero_figure", "omero_iviewer", "omero_parade"]
    assert json.loads(values[wp.TOP_LINKS])[-1][0] == "Figure"
    assert values["omero.web.viewer.view"] == "omero_iviewer.views.index"
    assert values["omero.web.figure.flag"] == "true"
    # Lines split with shlex as `omero load` does: key and JSON survive quoting.
    assert shlex.split(lines[0]) == ["config", "set", "--", wp.APPS, oc.scalar_text(reg[wp.APPS])]
    # Stable: the same input renders byte-identical text.
    assert wp.render_omero_file(wp.registration([FIGURE, IVIEWER, PARADE], base={wp.TOP_LINKS: DEFAULT_TOP_LINKS})) \
        == wp.render_omero_file(wp.registration([FIGURE, IVIEWER, PARADE], base={wp.TOP_LINKS: DEFAULT_TOP_LINKS}))


def test_quotes_in_values_survive_rendering():
    link = dict(FIGURE, top_link={"label": "Bob's figures", "url": "figure_index"})
    values = wp.parse_omero_file(wp.render_omero_file(wp.registration([link])))
    assert json.loads(values[wp.TOP_LINKS]) == [["Bob's figures", "figure_index"]]


VALUES = {
    "omero.web.xx.text": "it's a \"value\" with $HOME",
    "omero.web.xx.number": 25,
    "omero.web.xx.ratio": 0.5,
    "omero.web.xx.flag": False,
    "omero.web.xx.list": ["b", {"z": 1, "a": [2, "c"]}],
    "omero.web.xx.mapping": {"z": {"y": None}, "a": "b"},
}


def test_registration_file_and_site_file_write_values_alike():
    """One *.omero renderer: a plugin setting is written as the site's omero_web_config
    writes the same value (strings, numbers, booleans, lists, dicts)."""
    reg = wp.registration([dict(PARADE, settings=VALUES)])
    plugin_lines = wp.render_omero_file(reg).splitlines()
    errors = []
    site_lines = oc.render(oc.normalize(VALUES, "omero_web_config", errors)).splitlines()
    assert errors == []
    assert len(site_lines) == len(VALUES)
    assert set(site_lines) <= set(plugin_lines)
    registered = [line for line in plugin_lines if line.startswith("config set -- " + wp.APPS + " ")]
    assert registered == [oc.render([("set", wp.APPS, oc.scalar_text(["omero_parade"]))]).strip()]


BAD_LIST = [
    dict(FIGURE, pip="omero-figure>=8"),
    dict(IVIEWER, app="omero_figure", open_with={"url": "x"}),
    dict(PARADE, name="omero-figure", settings={"omero.web.apps": "[]", "omero.web.a.b": 1}),
    "not a plugin",
]


def test_one_validator_for_the_module_and_the_site_model():
    """The site model reports the module's problems, the same messages, under its variable."""
    from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
    from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

    problems = wp.plugin_problems(BAD_LIST)
    assert [v for v, _m in problems] == [
        "plugins[0].pip", "plugins[1].app", "plugins[1].open_with.supported_objects", "plugins[2].name",
        "plugins[2].settings['omero.web.apps']", "plugins[2].settings['omero.web.a.b']", "plugins[3]"]
    with pytest.raises(wp.PluginError) as module_error:
        wp.validate_plugins(BAD_LIST)
    assert str(module_error.value) == "; ".join("%s: %s" % p for p in problems)
    site = {"omero_site_name": "t", "omero_site_base_dir": "/srv/t", "omero_web_plugins": BAD_LIST}
    with pytest.raises(SiteModelError) as site_error:
        build_site_model(site, {})
    reported = [(v, m) for v, m in site_error.value.errors if v.startswith("omero_web_plugins")]
    assert reported == [(v.replace("plugins", "omero_web_plugins", 1), m.replace("plugins[", "omero_web_plugins["))
                        for v, m in problems]
