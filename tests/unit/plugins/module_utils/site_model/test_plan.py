"""The change plan (plan.py, issue 18) against containers synthesised from the model's own
Compose manifest, labelled as Compose labels them: with the labels compose.py sets
(the inputs hash and the per-input labels of labels.py).

The inputs of each service are recomputed here from the model alone (its manifest without
the labels, env files, rendered files, secret digests, web registration): they give the
very hashes of the manifest, so the labels added to the definition are not inputs and the
hashes are those of the collection before the labels.
"""

from __future__ import annotations

import copy
import hashlib
import json
import posixpath

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import compose
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import labels as labellib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import plan as planlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import secrets as secretlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import HASH_LABEL, build_site_model

from tests.helpers.sites import base_site, merged

BASE = "/srv/omero-test"
PROJECT = "omero-test"


def _inputs(model, values, name):
    """The inputs compose.py hashes for ``name``, recomputed from the model (no labels)."""
    definition = copy.deepcopy(model["compose"]["services"][name])
    del definition["labels"]
    sources = dict((v["source"], v["target"]) for v in definition.get("volumes") or [])
    env_file = next(e for e in model["env_files"] if e["service"] == name)
    init_only = set(e["via"] for e in model["init_only_secrets"] if e["service"] == name)
    secrets = dict(("env:" + key, secretlib.digest(values[sname])) for key, sname in env_file["secret_env"].items()
                   if "env " + key not in init_only)
    secret_dir = posixpath.join(model["paths"]["secrets"], name)
    for entry in model["secret_files"]:
        target = posixpath.relpath(entry["path"], secret_dir)
        if entry["service"] == name and "file /run/secrets/" + target not in init_only:
            secrets["file:" + target] = secretlib.digest(values[entry["secret"]])
    inputs = {"files": dict((sources[f["path"]], f["content"]) for f in model["files"] if f["service"] == name),
              "secrets": secrets, "env": env_file["env"], "definition": definition}
    registration = model["web_registration"]
    if registration and registration["file"] in sources:
        inputs["web_registration"] = {"plugins": registration["plugins"], "base_config": registration["base_config"]}
    return inputs


def _site(overlay=None):
    """The model of ``overlay`` over the base site, the desired entries plan() takes of it,
    and the inputs of its services recomputed from the model."""
    site = merged(base_site(), overlay or {}, BASE)
    model = build_site_model(site, site["omero_secrets"])
    inputs = dict((name, _inputs(model, site["omero_secrets"], name)) for name in model["enabled_services"])
    own = dict((name, compose._canonical_hash(i)) for name, i in inputs.items())
    return {"model": model, "desired": planlib.desired_from_model(model), "inputs": inputs, "own": own,
            "restart_with": dict((n, s["restart_with"]) for n, s in model["services"].items())}


def _container(project, service, image, labels, oneoff=False):
    ident = hashlib.sha256(("%s/%s/%s" % (project, service, oneoff)).encode()).hexdigest()
    labels = dict(labels, **{planlib.COMPOSE_PROJECT: project, planlib.COMPOSE_SERVICE: service,
                             planlib.COMPOSE_ONEOFF: "True" if oneoff else "False",
                             "com.docker.compose.container-number": "1"})
    return {"Id": ident, "Names": ["/%s-%s-1" % (project, service)], "Image": image, "ImageID": "sha256:" + ident,
            "State": "running", "Status": "Up 2 hours", "Labels": labels}


def _containers(site, per_input=True, build_labels=False):
    """The containers Compose makes of the site's manifest, labelled as it says (without
    the per-input labels unless ``per_input``, as an older version labelled them; with the
    build-input labels their site image passes on when ``build_labels``)."""
    containers = []
    for name, definition in site["model"]["compose"]["services"].items():
        labels = dict(definition["labels"])
        if not per_input:
            labels = dict((k, v) for k, v in labels.items() if not k.startswith(labellib.INPUT_LABEL_PREFIX))
        if build_labels and name in site["model"]["images"]:
            labels.update(site["model"]["images"][name]["labels"])
        containers.append(_container(PROJECT, name, definition["image"], labels))
    return containers


def _plan(site, containers, present=None):
    images = [spec["reference"] for spec in (present or site)["model"]["images"].values()]
    return planlib.plan(site["desired"], containers, project=PROJECT, images=images,
                        site_images=site["model"]["images"])


def _by_service(result):
    return dict((e["service"], e) for e in result["services"])


def _changed(result):
    return dict((e["service"], (e["action"], e["reasons"])) for e in result["services"] if e["action"] != "unchanged")


@pytest.fixture(scope="module")
def base():
    return _site()


def test_the_inputs_recomputed_without_the_labels_give_the_manifest_hashes(base):
    """The hashes are those of the inputs alone (the collection's before the labels), with
    the own hashes of the restart_with peers folded in."""
    for name, entry in base["desired"].items():
        assert base["model"]["compose"]["services"][name]["labels"][HASH_LABEL] == entry["inputs_hash"]
        assert base["model"]["service_hashes"][name] == entry["inputs_hash"]
        peers = dict((p, base["own"][p]) for p in entry["restart_with"])
        expected = compose._canonical_hash({"own": base["own"][name], "restart_with": peers}) if peers \
            else base["own"][name]
        assert entry["inputs_hash"] == expected
    assert base["desired"]["omeroweb"]["restart_with"] == ["redis"]


def test_every_container_carries_the_input_labels_of_its_inputs_and_of_its_peers_hashes(base):
    categories = set(labellib.INPUT_LABEL_PREFIX + c for c, dummy in labellib.CATEGORIES)
    for name, inputs in base["inputs"].items():
        peers = dict((p, base["own"][p]) for p in base["restart_with"][name])
        labels = base["model"]["compose"]["services"][name]["labels"]
        given = dict((k, v) for k, v in labels.items() if k.startswith(labellib.INPUT_LABEL_PREFIX))
        assert given == labellib.input_labels(inputs, peers) == base["model"]["services"][name]["input_labels"]
        assert set(given) == categories
        depends_on = base["model"]["compose"]["services"][name].get("depends_on") or {}
        assert base["desired"][name] == planlib.desired_entry(inputs, labels[HASH_LABEL], peers=peers,
                                                              image=base["model"]["services"][name]["image"],
                                                              depends_on=depends_on)
        without_peers = labellib.input_labels(inputs)[labellib.INPUT_LABEL_PREFIX + labellib.RESTART_WITH]
        assert (given[labellib.INPUT_LABEL_PREFIX + labellib.RESTART_WITH] == without_peers) == (not peers)


def test_the_model_summary_of_a_service_without_a_container_has_no_labels(base):
    disabled = [n for n, s in base["model"]["services"].items() if not s["enabled"]]
    assert disabled
    for name in disabled:
        assert base["model"]["services"][name]["input_labels"] == {}
        assert base["model"]["services"][name]["restart_with"] == []
    assert base["model"]["services"]["omeroweb"]["restart_with"] == ["redis"]


def test_the_desired_entries_are_the_enabled_services_not_the_external_ones():
    site = _site({"omero_services": {"database": {"external": {"host": "db.example.org", "port": 6543}}}})
    assert "database" not in site["desired"] and "database" in site["model"]["services"]
    assert sorted(site["desired"]) == site["model"]["enabled_services"]
    assert set(site["desired"]["omeroserver"]) == {"inputs_hash", "input_labels", "image", "restart_with",
                                                   "depends_on"}
    # the external database is no Compose dependency of OMERO.server any more
    assert site["desired"]["omeroserver"]["depends_on"] == []


def test_each_site_image_carries_its_build_input_labels_and_keeps_its_hash_and_tag(base):
    assert base["model"]["images"]
    for spec in base["model"]["images"].values():
        assert spec["labels"] == labellib.image_input_labels(spec)
        assert all(k.startswith(labellib.BUILD_INPUT_LABEL_PREFIX) for k in spec["labels"])
        assert spec["tag"].endswith("-h" + spec["hash"][:12])


def test_on_a_fresh_host_every_enabled_service_is_created_and_every_site_image_built(base):
    result = planlib.plan(base["desired"], [], project=PROJECT, images=[], site_images=base["model"]["images"])
    assert [e["service"] for e in result["services"]] == sorted(base["model"]["enabled_services"])
    assert all(e["action"] == "create" and e["container"] is None for e in result["services"])
    assert all(e["reasons"] == ["the service has no container"] for e in result["services"])
    assert [e["service"] for e in result["images"]] == sorted(base["model"]["images"])
    assert all(e["action"] == "build" and "a new site image" in e["reasons"][0] for e in result["images"])
    assert result["summary"]["create"] == len(base["desired"]) and result["summary"]["recreate"] == 0
    assert result["recreates"] == []


def test_a_converged_site_is_unchanged_and_recreates_nothing(base):
    result = _plan(base, _containers(base))
    assert set(e["action"] for e in result["services"]) == {"unchanged"}
    assert all(e["reasons"] == [] and e["container"] for e in result["services"])
    assert set(e["action"] for e in result["images"]) == {"present"}
    assert result["recreates"] == []
    assert result["summary"] == {"create": 0, "recreate": 0, "unchanged": len(base["desired"]), "remove": 0,
                                 "build": 0, "present": len(base["model"]["images"])}


def test_one_omero_web_property_recreates_omeroweb_alone_for_its_omero_config_files(base):
    after = _site({"omero_web_config": {"omero.web.page_size": 50}})
    result = _plan(after, _containers(base))
    assert _changed(result) == {"omeroweb": ("recreate", ["the OMERO config files changed"])}
    assert result["recreates"] == ["omeroweb"]
    assert set(e["action"] for e in result["images"]) == {"present"}


def test_one_postgresql_setting_recreates_the_database_and_the_services_restarting_with_it(base):
    after = _site({"omero_services": {"database": {"env": {"POSTGRES_INITDB_ARGS": "--data-checksums"}}}})
    result = _plan(after, _containers(base))
    peers = sorted(n for n in after["desired"] if "database" in after["restart_with"][n])
    expected = {"database": ("recreate", ["the environment changed"])}
    expected.update((n, ("recreate", ["restarts with database"])) for n in peers)
    assert _changed(result) == expected
    assert result["recreates"] == sorted(expected)


def test_a_redis_change_recreates_omeroweb_because_it_restarts_with_redis(base):
    after = _site({"omero_services": {"redis": {"env": {"REDIS_EXTRA": "1"}}}})
    result = _plan(after, _containers(base))
    assert _changed(result) == {"redis": ("recreate", ["the environment changed"]),
                                "omeroweb": ("recreate", ["restarts with redis"])}
    assert result["recreates"] == ["omeroweb", "redis"]


def test_an_image_tag_change_recreates_that_service_naming_both_images(base):
    after = _site({"omero_services": {"prometheus": {"image": {"tag": "v3.5.2"}}}})
    result = _plan(after, _containers(base))
    old = base["model"]["compose"]["services"]["prometheus"]["image"]
    new = after["model"]["compose"]["services"]["prometheus"]["image"]
    assert new.endswith(":v3.5.2") and old != new
    assert _changed(result) == {"prometheus": ("recreate", ["the image changed (%s -> %s)" % (old, new)])}


def test_a_new_base_image_builds_the_site_image_and_says_so_from_the_tags(base):
    after = _site({"omero_services": {"omeroweb": {"image": {"tag": "5.32.0"}}}})
    result = _plan(after, _containers(base), present=base)
    assert _changed(result)["omeroweb"][1][0].startswith("the image changed (omero-docker-stack/omero-web:5.31.0-h")
    builds = [e for e in result["images"] if e["action"] == "build"]
    assert [e["service"] for e in builds] == ["omeroweb"]
    short = after["model"]["images"]["omeroweb"]["hash"][:12]
    assert builds[0]["reasons"][0] == "the base image changed (5.31.0 -> 5.32.0)"
    assert builds[0]["reasons"][1].startswith("its inputs changed (new content hash %s" % short)


def test_build_input_labels_name_the_context_file_that_changed(base):
    after = _site({"omero_server_cli_plugins": ["omero-metadata==0.12.0"]})
    result = _plan(after, _containers(base, build_labels=True), present=base)
    builds = dict((e["service"], e["reasons"]) for e in result["images"] if e["action"] == "build")
    assert builds == {"omeroserver": ["the build context file requirements.txt changed"]}
    assert _changed(result)["omeroserver"][1][0].startswith("the image changed")


def test_a_disabled_service_has_its_container_removed(base):
    before = _site({"omero_services": {"portainer": {"enabled": True}}})
    result = _plan(base, _containers(before))
    entry = _by_service(result)["portainer"]
    assert entry["action"] == "remove" and entry["reasons"] == ["the service is disabled"]
    assert entry["container"] == next(c["Id"] for c in _containers(before)
                                      if c["Labels"][planlib.COMPOSE_SERVICE] == "portainer")
    assert "portainer" in result["recreates"] and result["summary"]["remove"] == 1


def test_oneoff_containers_and_other_projects_are_ignored(base):
    containers = _containers(base)
    containers.append(_container(PROJECT, "omeroserver", "x:1", {HASH_LABEL: "0" * 64}, oneoff=True))
    containers.append(_container("another-site", "omeroserver", "x:1", {HASH_LABEL: "0" * 64}))
    containers.append(_container("another-site", "legacy", "x:1", {}))
    containers.append({"Id": "f" * 64, "Names": ["/hand-made"], "Image": "busybox", "State": "running"})
    result = _plan(base, containers)
    assert set(e["action"] for e in result["services"]) == {"unchanged"}
    assert result["recreates"] == []


def test_containers_of_an_older_version_are_unchanged_while_their_hash_holds(base):
    old = _containers(base, per_input=False)
    assert set(e["action"] for e in _plan(base, old)["services"]) == {"unchanged"}
    after = _site({"omero_web_config": {"omero.web.page_size": 50}})
    assert _changed(_plan(after, old)) == {
        "omeroweb": ("recreate", ["made by an older version of the collection (no per-input labels)"])}


def test_docker_host_info_image_entries_count_by_their_repo_tags(base):
    images = [{"Id": "sha256:1", "RepoTags": [spec["reference"]]} for spec in base["model"]["images"].values()]
    result = planlib.plan(base["desired"], _containers(base), project=PROJECT, images=images + [{"RepoTags": None}],
                          site_images=base["model"]["images"])
    assert set(e["action"] for e in result["images"]) == {"present"}


def _join(parts):
    inputs = {}
    for part in parts.values():
        for path, value in part.items():
            if len(path) == 1:
                inputs[path[0]] = value
            else:
                inputs.setdefault(path[0], {})[path[1]] = value
    return inputs


def _leaves(inputs):
    return [(k, s) for k, v in inputs.items() if k in ("definition", "files") and isinstance(v, dict) for s in v] + \
        [(k,) for k, v in inputs.items() if k not in ("definition", "files") or not isinstance(v, dict) or not v]


@pytest.fixture(scope="module")
def everything():
    """A site with every optional service on, for the widest set of inputs."""
    on = dict((name, {"enabled": True}) for name in ("cadvisor", "alertmanager", "portainer", "crowdsec"))
    return _site({"omero_services": on, "omero_web_config": {"omero.web.page_size": 50}})


def test_the_categories_partition_every_services_inputs_exactly(everything):
    for inputs in everything["inputs"].values():
        parts = labellib.split_inputs(inputs)
        assert set(parts) == set(dict(labellib.CATEGORIES))
        paths = [path for part in parts.values() for path in part]
        assert len(paths) == len(set(paths)) and sorted(paths) == sorted(_leaves(inputs))
        assert _join(parts) == inputs


def test_the_combined_hash_changes_exactly_when_one_category_label_changes(everything):
    for name, inputs in everything["inputs"].items():
        labels = labellib.input_labels(inputs)
        for category, part in labellib.split_inputs(inputs).items():
            for path in part:
                changed = copy.deepcopy(inputs)
                target = changed if len(path) == 1 else changed[path[0]]
                target[path[-1]] = {"changed": target[path[-1]]}
                new = labellib.input_labels(changed)
                assert compose._canonical_hash(changed) != compose._canonical_hash(inputs), (name, path)
                assert set(k for k in labels if labels[k] != new[k]) == {labellib.INPUT_LABEL_PREFIX + category}
        assert labellib.input_labels(copy.deepcopy(inputs)) == labels


def test_unknown_input_keys_fall_into_the_definition_category(base):
    inputs = dict(base["inputs"]["omeroweb"], something_new=1)
    inputs["definition"] = dict(inputs["definition"], stop_grace_period="30s")
    parts = labellib.split_inputs(inputs)
    assert parts["definition"][("something_new",)] == 1
    assert parts["definition"][("definition", "stop_grace_period")] == "30s"


def test_the_restart_with_label_follows_the_peers_own_hashes_alone(base):
    inputs = base["inputs"]["omeroweb"]
    one, other = labellib.input_labels(inputs, {"redis": "a" * 64}), labellib.input_labels(inputs, {"redis": "b" * 64})
    assert set(k for k in one if one[k] != other[k]) == {labellib.INPUT_LABEL_PREFIX + "restart-with"}
    assert all(k.startswith(labellib.INPUT_LABEL_PREFIX) and len(v) == labellib.DIGEST_LENGTH for k, v in one.items())


def test_the_build_input_labels_cover_what_the_image_hash_covers(base):
    from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import images as imagelib

    for spec in base["model"]["images"].values():
        files = dict((f["path"], {"content": f["content"], "mode": f["mode"]}) for f in spec["files"])
        copies = dict((c["dest"], c["sha256"]) for c in spec["copies"])
        assert imagelib._digest({"schema": imagelib.BUILD_SCHEMA, "files": files, "copies": copies,
                                 "args": spec["build_args"]}) == spec["hash"]
        labels = labellib.image_input_labels(spec)
        assert len(labels) == 1 + len(files) + len(copies)


def test_the_plan_is_json_serialisable(base):
    after = _site({"omero_web_config": {"omero.web.page_size": 50}})
    result = _plan(after, _containers(base))
    assert json.loads(json.dumps(result)) == result
    fresh = planlib.plan(base["desired"], [], project=PROJECT)
    assert json.loads(json.dumps(fresh)) == fresh and fresh["images"] == []


def test_the_lines_say_each_service_and_image_then_the_counts(base):
    after = _site({"omero_web_config": {"omero.web.page_size": 50}})
    result = _plan(after, [c for c in _containers(base) if c["Labels"][planlib.COMPOSE_SERVICE] != "redis"])
    lines = planlib.lines(result)
    n_services, n_images = len(result["services"]), len(result["images"])
    assert len(lines) == n_services + n_images + 1
    assert "recreate  omeroweb: the OMERO config files changed" in lines
    assert "create    redis: the service has no container" in lines
    assert "unchanged database" in lines
    web = after["model"]["images"]["omeroweb"]["reference"]
    assert "present   %s (omeroweb)" % web in lines[n_services:]
    assert lines[-1] == "%s: 1 to create, 1 to recreate, %d unchanged, 0 to remove; site images: %s" % (
        PROJECT, n_services - 2, "0 to build, %d present" % n_images)


def test_the_lines_join_several_reasons_and_name_the_image_built(base):
    after = _site({"omero_server_cli_plugins": ["omero-metadata==0.12.0"],
                   "omero_services": {"redis": {"env": {"REDIS_EXTRA": "1"}}}})
    lines = planlib.lines(_plan(after, _containers(base, build_labels=True), present=base))
    assert "recreate  omeroweb: restarts with redis" in lines
    server = after["model"]["images"]["omeroserver"]["reference"]
    assert "build     %s (omeroserver): the build context file requirements.txt changed" % server in lines
    assert lines[-1].endswith("site images: 1 to build, %d present" % (len(after["model"]["images"]) - 1))


def test_compose_dependents_are_recreated_transitively_only_when_asked():
    def entry(deps=()):
        return {"inputs_hash": "h", "input_labels": {}, "image": "i", "restart_with": [], "depends_on": list(deps)}

    def container(service, digest):
        return {"Id": service, "Image": "i", "State": "running",
                "Labels": {planlib.COMPOSE_PROJECT: "p", planlib.COMPOSE_SERVICE: service, HASH_LABEL: digest}}

    desired = {"a": entry(), "b": entry(["a"]), "c": entry(["b"]), "d": entry()}
    containers = [container("a", "old"), container("b", "h"), container("c", "h"), container("d", "h")]
    old = planlib.plan(desired, containers, project="p")
    assert old["recreates"] == ["a"]
    new = planlib.plan(desired, containers, project="p", recreates_dependents=True)
    assert new["recreates"] == ["a", "b", "c"]
    reasons = dict((e["service"], e["reasons"]) for e in new["services"])
    assert reasons["b"] == ["Compose recreates it with a (depends_on; Compose before 2.30)"]
    assert reasons["c"] == ["Compose recreates it with b (depends_on; Compose before 2.30)"]
    assert reasons["d"] == []
