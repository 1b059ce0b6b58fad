# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The change plan of a site (issue 18): what a run would do to each service, and why.

compose.py labels each container with the combined hash of its service's inputs and
with one short digest per category of these inputs (image, environment, OMERO config
files, ...: labels.py). The categories partition the inputs exactly, so comparing the
labels of a running container with the model's names every reason a container is
recreated, and never misses one; the site images carry one label per build input.

:func:`plan` reads the containers as ``community.docker.docker_host_info`` lists them
(``containers: true, containers_all: true, verbose_output: true``) and the site images
the engine has, and says per service create / recreate / unchanged / remove, per site
image build / present, each with reasons in words, as plain JSON data: nothing here
touches a host, so a CI pipeline can gate on the result (``recreates``).
:func:`desired_from_model` takes what it compares from the site model, :func:`lines`
says the plan in words, one line per service and image. The ``site_plan`` and
``site_plan_lines`` filters (plugins/filter/site_plan.py) call them.
"""

from __future__ import annotations

import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.labels import (
    BUILD_INPUT_LABEL_PREFIX,
    CATEGORIES,
    DIGEST_LENGTH,
    HASH_LABEL,
    INPUT_LABEL_PREFIX,
    RESTART_WITH,
    image_input_labels,
    input_labels,
)

PLAN_SCHEMA = 1
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_ONEOFF = "com.docker.compose.oneoff"
SERVICE_ACTIONS = ("create", "recreate", "unchanged", "remove")
IMAGE_ACTIONS = ("build", "present")
_HASH_SUFFIX = re.compile(r"-h[0-9a-f]{12}$")


def desired_entry(inputs, inputs_hash, *, peers=None, image=None, depends_on=None):
    """What :func:`plan` takes of one enabled service: its combined hash (the label's
    value), its input labels, its image reference (to name the change), the peers it
    restarts with (``{peer: own hash}``), from the inputs compose.py hashes, and the
    services it depends on in the Compose manifest."""
    return {"inputs_hash": inputs_hash, "input_labels": input_labels(inputs, peers), "image": image,
            "restart_with": sorted(peers or {}), "depends_on": sorted(depends_on or [])}


def desired_from_model(model):
    """``{service: desired entry}`` of every service the site runs a container of (enabled,
    not external), as :func:`desired_entry` gives it, from the model's ``services``."""
    desired = {}
    for name, summary in sorted((model.get("services") or {}).items()):
        if not summary.get("enabled") or summary.get("external"):
            continue
        desired[name] = {"inputs_hash": summary["inputs_hash"], "input_labels": dict(summary["input_labels"]),
                         "image": summary["image"], "restart_with": sorted(summary["restart_with"]),
                         "depends_on": _compose_depends_on(model, name)}
    return desired


def _compose_depends_on(model, name):
    """The services ``name`` depends on in the site's Compose manifest (sorted)."""
    definition = ((model.get("compose") or {}).get("services") or {}).get(name) or {}
    return sorted(definition.get("depends_on") or [])


def _labels(container):
    return container.get("Labels") or {}


def project_containers(containers, project):
    """``{service: [container]}`` of the Compose project ``project``: not its one-off
    containers (``compose run``), nor another project's (another site on the host)."""
    found = {}
    for container in containers or []:
        labels = _labels(container)
        if labels.get(COMPOSE_PROJECT) != project or labels.get(COMPOSE_ONEOFF, "False").lower() == "true":
            continue
        service = labels.get(COMPOSE_SERVICE)
        if service:
            found.setdefault(service, []).append(container)
    for listed in found.values():
        listed.sort(key=lambda c: (c.get("State") != "running", c.get("Id") or ""))
    return found


def _stale(entry, listed):
    """The first container whose combined hash is not the desired one, or None."""
    return next((c for c in listed if _labels(c).get(HASH_LABEL) != entry["inputs_hash"]), None)


def _service_reasons(entry, container, actions):
    """Why ``container`` of ``name`` is recreated: one reason per differing category."""
    labels = _labels(container)
    if HASH_LABEL not in labels:
        return ["its container has no %s label (not made by this collection)" % HASH_LABEL]
    have = dict((k, v) for k, v in labels.items() if k.startswith(INPUT_LABEL_PREFIX))
    if not have:
        return ["made by an older version of the collection (no per-input labels)"]
    reasons = []
    for category, words in CATEGORIES:
        label = INPUT_LABEL_PREFIX + category
        wanted = entry["input_labels"].get(label)
        if label not in have and wanted is not None:
            reasons.append("%s: its container has no %s label (made by another version)" % (words, label))
        elif have.get(label) == wanted:
            continue
        elif category == "image":
            old, new = container.get("Image"), entry.get("image")
            reasons.append("%s (%s -> %s)" % (words, old, new) if old and new else words)
        elif category == RESTART_WITH:
            peers = [p for p in entry.get("restart_with") or () if actions.get(p) in ("create", "recreate")]
            reasons.extend(["restarts with %s" % p for p in peers] or [words])
        else:
            reasons.append(words)
    return reasons or ["its inputs hash changed (%s -> %s)" % (str(labels[HASH_LABEL])[:DIGEST_LENGTH],
                                                               entry["inputs_hash"][:DIGEST_LENGTH])]


def _with_dependencies(desired, actions):
    """``{service: [dependencies recreated]}`` of the unchanged services Compose recreates
    because a service they depend on (``depends_on``) is recreated: Compose before 2.30
    force-recreates the dependents of a recreated container, and theirs in turn."""
    pulled, changed = {}, True
    while changed:
        changed = False
        for name in sorted(desired):
            if actions[name] not in ("unchanged", "dependency"):
                continue
            deps = [d for d in desired[name].get("depends_on") or () if actions.get(d) in ("recreate", "dependency")]
            if deps and pulled.get(name) != deps:
                pulled[name], actions[name], changed = deps, "dependency", True
    return pulled


def _service_entries(desired, ours, recreates_dependents=False):
    actions = {}
    for name, entry in desired.items():
        listed = ours.get(name)
        actions[name] = "create" if not listed else ("recreate" if _stale(entry, listed) else "unchanged")
    pulled = _with_dependencies(desired, actions) if recreates_dependents else {}
    entries = []
    for name in sorted(desired):
        listed, action = ours.get(name) or [], actions[name]
        if action == "create":
            reasons = ["the service has no container"]
        elif action == "recreate":
            reasons = _service_reasons(desired[name], _stale(desired[name], listed), actions)
        elif action == "dependency":
            action = "recreate"
            reasons = ["Compose recreates it with %s (depends_on; Compose before 2.30)" % d for d in pulled[name]]
        else:
            reasons = []
        entries.append({"service": name, "action": action, "reasons": reasons,
                        "container": listed[0].get("Id") if listed else None})
    for name in sorted(set(ours) - set(desired)):
        entries.append({"service": name, "action": "remove", "reasons": ["the service is disabled"],
                        "container": ours[name][0].get("Id")})
    entries.sort(key=lambda e: e["service"])
    return entries


def _repository(reference):
    """``registry/name`` of ``registry/name:tag`` (a registry port is no tag)."""
    reference = (reference or "").split("@", 1)[0]
    head, sep, tag = reference.rpartition(":")
    return head if sep and "/" not in tag else reference


def _tag(reference):
    reference = (reference or "").split("@", 1)[0]
    head, sep, tag = reference.rpartition(":")
    return tag if sep and "/" not in tag else ""


def _engine_tags(images):
    """The tags the engine has: strings, or docker_host_info's image entries (RepoTags)."""
    tags = set()
    for image in images or []:
        tags.update([image] if isinstance(image, str) else (image.get("RepoTags") or []))
    return tags


def _changed_build_inputs(old, new):
    reasons = []
    for label in sorted(set(old) | set(new)):
        if old.get(label) == new.get(label):
            continue
        what = label[len(BUILD_INPUT_LABEL_PREFIX):]
        if what == "args":
            reasons.append("the base image changed")
            continue
        kind, dummy, path = what.partition(".")
        noun = "the copied file %s" % path if kind == "copy" else "the build context file %s" % path
        state = "was added" if label not in old else ("was removed" if label not in new else "changed")
        reasons.append("%s %s" % (noun, state))
    return reasons


def _build_reasons(spec, listed):
    """Why the site image of ``spec`` is built: against the image the service's container
    runs when it is an older build of the same repository."""
    short = spec["hash"][:DIGEST_LENGTH]
    running = next((c for c in listed if _repository(c.get("Image")) == spec["repository"]), None)
    if running is None:
        if listed:
            return ["the service runs %s, not a site image of %s" % (listed[0].get("Image"), spec["repository"])]
        return ["the engine has no %s (a new site image)" % spec["reference"]]
    old_inputs = dict((k, v) for k, v in _labels(running).items() if k.startswith(BUILD_INPUT_LABEL_PREFIX))
    if old_inputs:
        reasons = _changed_build_inputs(old_inputs, image_input_labels(spec))
        if reasons:
            return reasons
    old_tag, new_tag = _tag(running.get("Image")), spec["tag"]
    old_base, new_base = _HASH_SUFFIX.sub("", old_tag), _HASH_SUFFIX.sub("", new_tag)
    reasons = ["the base image changed (%s -> %s)" % (old_base, new_base)] if old_base != new_base else []
    return reasons + ["its inputs changed (new content hash %s, the container runs %s)" % (short, old_tag or "?")]


def _image_entries(site_images, images, ours):
    tags, entries = _engine_tags(images), []
    for name in sorted(site_images or {}):
        spec = site_images[name]
        present = spec["reference"] in tags
        entries.append({"service": name, "reference": spec["reference"], "action": "present" if present else "build",
                        "reasons": [] if present else _build_reasons(spec, ours.get(name) or [])})
    return entries


def plan(desired, containers, *, project, images=None, site_images=None, recreates_dependents=False):
    """The change plan (JSON data) of the Compose project ``project`` (the site name).

    ``desired``: ``{service: desired_entry(...)}`` of every enabled service;
    ``containers``: docker_host_info's ``containers`` (verbose); ``images``: the tags the
    engine has (strings or docker_host_info's ``images``); ``site_images``: the model's
    ``images`` (images.py specs). Returns ``services`` (sorted by service), ``images``,
    ``summary`` (counts per action) and ``recreates`` (the services recreated or removed,
    for a pipeline to require approval when it names the database or OMERO.server).
    ``recreates_dependents``: the host's Compose recreates the dependents (``depends_on``,
    from ``desired``) of a recreated service too, as Compose before 2.30 does (later ones
    stop and start them, keeping their containers).
    """
    ours = project_containers(containers, project)
    services = _service_entries(desired, ours, recreates_dependents)
    image_entries = _image_entries(site_images, images, ours)
    summary = dict((action, 0) for action in SERVICE_ACTIONS + IMAGE_ACTIONS)
    for entry in services + image_entries:
        summary[entry["action"]] += 1
    return {
        "schema": PLAN_SCHEMA,
        "project": project,
        "services": services,
        "images": image_entries,
        "summary": summary,
        "recreates": [e["service"] for e in services if e["action"] in ("recreate", "remove")],
    }


def _line(action, what, reasons):
    return ("%-10s%s: %s" % (action, what, "; ".join(reasons)) if reasons else "%-10s%s" % (action, what)).rstrip()


def lines(result):
    """The plan :func:`plan` returns, in words: one line per service (``recreate  omeroweb:
    the OMERO config files changed``), one per site image, then the counts."""
    out = [_line(e["action"], e["service"], e["reasons"]) for e in result["services"]]
    out.extend(_line(e["action"], "%s (%s)" % (e["reference"], e["service"]), e["reasons"]) for e in result["images"])
    counts = result["summary"]
    services = ", ".join("%d %s" % (counts[a], a if a == "unchanged" else "to " + a) for a in SERVICE_ACTIONS)
    images = "%d to build, %d present" % (counts["build"], counts["present"])
    out.append("%s: %s; site images: %s" % (result["project"], services, images))
    return out
