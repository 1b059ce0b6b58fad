"""The site_plan and site_plan_lines filters (plugins/filter/site_plan.py), called as
Jinja calls them, with the site model and docker_host_info's lists of a host whose
containers were made from the model's own Compose manifest (labelled as it says)."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.omero_docker.stack.plugins.filter.site_plan import FilterModule
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import labels as labellib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import base_site, merged

FILTERS = FilterModule().filters()
site_plan = FILTERS["site_plan"]
site_plan_lines = FILTERS["site_plan_lines"]
BASE = "/srv/omero-test"


def _model(overlay=None):
    site = merged(base_site(), overlay or {}, BASE)
    return build_site_model(site, site["omero_secrets"])


def _host(model, *, without=(), image_labels=True):
    """docker_host_info's ``containers`` (verbose, all) and ``images`` of a host running
    ``model`` as Compose and the images role made it, plus a container of another site."""
    containers, images = [], []
    project = model["site"]["name"]
    for name, definition in model["compose"]["services"].items():
        if name in without:
            continue
        labels = dict(definition["labels"])
        spec = model["images"].get(name)
        if spec and image_labels:
            labels.update(spec["labels"])
        ident = hashlib.sha256(name.encode()).hexdigest()
        labels.update({"com.docker.compose.project": project, "com.docker.compose.service": name,
                       "com.docker.compose.oneoff": "False"})
        containers.append({"Id": ident, "Names": ["/%s-%s-1" % (project, name)], "Image": definition["image"],
                           "State": "running", "Status": "Up 1 hour", "Labels": labels})
    containers.append({"Id": "e" * 64, "Names": ["/other-web-1"], "Image": "nginx:1", "State": "running",
                       "Labels": {"com.docker.compose.project": "other", "com.docker.compose.service": "web"}})
    for spec in model["images"].values():
        images.append({"Id": "sha256:" + spec["hash"], "RepoTags": [spec["reference"]], "Created": 0, "Size": 1})
    images.append({"Id": "sha256:" + "d" * 64, "RepoTags": None, "Created": 0, "Size": 1})
    return containers, images


@pytest.fixture(scope="module")
def base():
    return _model()


@pytest.fixture(scope="module")
def host(base):
    return _host(base)


def _actions(result):
    return dict((e["service"], e["action"]) for e in result["services"])


def test_a_converged_host_is_unchanged_everywhere(base, host):
    result = site_plan(base, *host)
    assert set(_actions(result).values()) == {"unchanged"}
    assert sorted(_actions(result)) == base["enabled_services"]
    assert set(e["action"] for e in result["images"]) == {"present"}
    assert result["recreates"] == [] and result["project"] == base["site"]["name"]
    lines = site_plan_lines(result)
    assert lines[:-1] == ["unchanged " + name for name in base["enabled_services"]] + [
        "present   %s (%s)" % (base["images"][n]["reference"], n) for n in sorted(base["images"])]
    assert lines[-1].startswith("%s: 0 to create, 0 to recreate, %d unchanged" % (base["site"]["name"],
                                                                                  len(base["enabled_services"])))


@pytest.mark.parametrize("containers, images", [([], []), (None, None), ("", None)])
def test_a_fresh_host_creates_every_service_and_builds_every_site_image(base, containers, images):
    result = site_plan(base, containers, images)
    assert set(_actions(result).values()) == {"create"} and sorted(_actions(result)) == base["enabled_services"]
    assert [e["action"] for e in result["images"]] == ["build"] * len(base["images"])
    assert result["summary"]["create"] == len(base["enabled_services"])
    assert "create    omeroserver: the service has no container" in site_plan_lines(result)


def test_without_images_or_containers_arguments_the_host_is_fresh(base):
    assert site_plan(base) == site_plan(base, [], [])


def test_one_web_property_recreates_omeroweb_for_its_omero_config_files(host):
    result = site_plan(_model({"omero_web_config": {"omero.web.page_size": 50}}), *host)
    changed = dict((e["service"], e["reasons"]) for e in result["services"] if e["action"] != "unchanged")
    assert changed == {"omeroweb": ["the OMERO config files changed"]}
    assert result["recreates"] == ["omeroweb"]
    assert "recreate  omeroweb: the OMERO config files changed" in site_plan_lines(result)


def test_one_postgresql_setting_recreates_the_database_and_its_restart_with_dependents(host):
    after = _model({"omero_services": {"database": {"env": {"POSTGRES_INITDB_ARGS": "--data-checksums"}}}})
    result = site_plan(after, *host, "2.30.0")
    # None restarts with the database in the catalog today (omeroweb restarts with redis: below).
    dependents = sorted(n for n in after["enabled_services"] if "database" in after["services"][n]["restart_with"])
    expected = {"database": ["the environment changed"]}
    expected.update((n, ["restarts with database"]) for n in dependents)
    assert dict((e["service"], e["reasons"]) for e in result["services"] if e["action"] == "recreate") == expected
    assert result["recreates"] == sorted(expected)


def test_a_redis_setting_recreates_redis_and_omeroweb_which_restarts_with_it(host):
    result = site_plan(_model({"omero_services": {"redis": {"env": {"REDIS_EXTRA": "1"}}}}), *host, "v2.31.0")
    assert dict((e["service"], e["reasons"]) for e in result["services"] if e["action"] == "recreate") == {
        "redis": ["the environment changed"], "omeroweb": ["restarts with redis"]}
    assert "recreate  omeroweb: restarts with redis" in site_plan_lines(result)


@pytest.mark.parametrize("version", ["2.26.1", "v2.29.7", "", None])
def test_compose_before_2_30_also_recreates_the_services_that_depend_on_a_recreated_one(host, version):
    after = _model({"omero_services": {"database": {"env": {"POSTGRES_INITDB_ARGS": "--data-checksums"}}}})
    result = site_plan(after, *host, version)
    dependents = sorted(n for n in after["enabled_services"]
                        if "database" in (after["compose"]["services"][n].get("depends_on") or {}))
    assert "omeroserver" in dependents
    expected = {"database": ["the environment changed"]}
    expected.update((n, ["Compose recreates it with database (depends_on; Compose before 2.30)"]) for n in dependents)
    assert dict((e["service"], e["reasons"]) for e in result["services"] if e["action"] == "recreate") == expected
    assert result["recreates"] == sorted(expected)


def test_an_added_web_plugin_builds_the_web_image_naming_its_requirements(base, host):
    after = _model({"omero_web_plugins": [{"name": "omero_figure", "app": "omero_figure",
                                           "pip": "omero-figure==7.2.0"}]})
    result = site_plan(after, *host)
    builds = dict((e["service"], e["reasons"]) for e in result["images"] if e["action"] == "build")
    assert builds == {"omeroweb": ["the build context file requirements.txt changed"]}
    recreated = dict((e["service"], e["reasons"]) for e in result["services"] if e["action"] == "recreate")
    images = (base["services"]["omeroweb"]["image"], after["services"]["omeroweb"]["image"])
    assert recreated["omeroweb"][0] == "the image changed (%s -> %s)" % images


def test_a_disabled_service_is_removed():
    on = _model({"omero_services": {"portainer": {"enabled": True}}})
    result = site_plan(_model(), *_host(on))
    assert [e["service"] for e in result["services"] if e["action"] == "remove"] == ["portainer"]
    assert "remove    portainer: the service is disabled" in site_plan_lines(result)
    assert "portainer" in result["recreates"] and result["summary"]["remove"] == 1


def test_a_missing_container_is_created_and_an_older_version_s_containers_are_unchanged(base):
    containers, images = _host(base, without=("redis",))
    for container in containers:
        container["Labels"] = dict((k, v) for k, v in container["Labels"].items()
                                   if not k.startswith(labellib.INPUT_LABEL_PREFIX))
    result = site_plan(base, containers, images)
    assert dict((n, a) for n, a in _actions(result).items() if a != "unchanged") == {"redis": "create"}


def test_the_plan_is_json_and_the_input_is_left_alone(base, host):
    before = copy.deepcopy((base, host))
    result = site_plan(base, *host)
    assert json.loads(json.dumps(result)) == result
    assert (base, host) == before


def test_containers_without_labels_are_refused_naming_verbose_output(base):
    containers = [{"Id": "a" * 64, "Image": "redis:7", "Command": "redis-server", "Created": 0, "Status": "Up",
                   "Ports": [], "Names": ["/omero-test-redis-1"]}]
    with pytest.raises(AnsibleFilterError, match="verbose_output: true"):
        site_plan(base, containers, [])


@pytest.mark.parametrize("model", [None, "omero", {}, {"services": {}}, [1]])
def test_anything_but_a_site_model_is_refused(model):
    with pytest.raises(AnsibleFilterError, match="the site model"):
        site_plan(model, [], [])


@pytest.mark.parametrize("containers", ["abc", {"Id": "x"}, 3])
def test_containers_that_are_not_a_list_are_refused(base, containers):
    with pytest.raises(AnsibleFilterError, match="containers must be a list"):
        site_plan(base, containers, [])


@pytest.mark.parametrize("value", [None, [], {"services": []}])
def test_site_plan_lines_refuses_anything_but_a_plan(value):
    with pytest.raises(AnsibleFilterError, match="must be a plan"):
        site_plan_lines(value)
