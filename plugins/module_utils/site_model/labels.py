# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The labels this collection sets on containers and site images, and how they are computed.

compose.py puts ONE combined hash of a service's inputs on its container
(:data:`HASH_LABEL`): enough for Compose to know *that* a container must be recreated,
not enough to tell an operator *why*. Beside it, compose.py sets one label per category
of the same inputs (image, environment, OMERO config files, ...: :data:`CATEGORIES`),
each a short digest (:func:`input_labels`, :data:`INPUT_LABEL_PREFIX`). The categories
partition the inputs exactly, so the combined hash changes if and only if some category
label changes: comparing the labels of a running container with the model's names every
reason (plan.py), and never misses one.

A site image carries one label per build input (:func:`image_input_labels`,
:data:`BUILD_INPUT_LABEL_PREFIX`), set by the images role, so that the plan can name
the build context file that changed.

The labels are computed from the inputs after they are hashed and are not inputs
themselves: the combined hash is the same with or without them.
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.images import BUILD_SCHEMA

LABEL_PREFIX = "org.omero-docker.stack"
HASH_LABEL = LABEL_PREFIX + ".inputs-hash"
INPUT_LABEL_PREFIX = LABEL_PREFIX + ".input."
# Set on a site image (and so inherited by its containers' labels): a prefix of its own,
# because the labels Compose sets on a container override the image's of the same name.
BUILD_INPUT_LABEL_PREFIX = LABEL_PREFIX + ".build-input."
DIGEST_LENGTH = 12

# Every category, in the order reasons are given, with what its change means. A new key
# of compose.py's inputs lands in "definition" until it is given a category here.
CATEGORIES = (
    ("image", "the image changed"),
    ("environment", "the environment changed"),
    ("omero-config", "the OMERO config files changed"),
    ("config-files", "the rendered config files changed"),
    ("secrets", "a secret it uses changed (compared by digest)"),
    ("ports", "the published ports changed"),
    ("mounts", "the mounts changed"),
    ("resources", "the resources changed (memory, CPUs, ulimits)"),
    ("definition", "the service definition changed (command, healthcheck, restart policy, dependencies or other keys)"),
    ("restart-with", "the services it restarts with changed"),
)
_WORDS = dict(CATEGORIES)
RESTART_WITH = "restart-with"

# Top-level keys of compose.py's inputs, and keys of its compose definition.
_TOP_KEYS = {"env": "environment", "secrets": "secrets", "web_registration": "omero-config"}
_DEFINITION_KEYS = {
    "image": "image", "pull_policy": "image",
    "env_file": "environment",
    "secrets": "secrets",
    "ports": "ports",
    "volumes": "mounts",
    "mem_limit": "resources", "cpus": "resources", "ulimits": "resources",
}
_SPLIT = {"definition": lambda key: _DEFINITION_KEYS.get(key, "definition"),
          "files": lambda target: "omero-config" if target.endswith(".omero") else "config-files"}
_EMPTY = {"definition": "definition", "files": "config-files"}


def canonical_hash(data):
    """SHA-256 (hex) of the canonical JSON of ``data`` (sorted keys, no spaces): the digest
    of compose.py's input hashes and images.py's build hashes."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _short(data):
    return canonical_hash(data)[:DIGEST_LENGTH]


def split_inputs(inputs):
    """``{category: {path: value}}``: every leaf of a service's ``inputs`` (as compose.py
    hashes them) in exactly one category. A path is ``(key,)`` or, for the definition and
    the rendered files, ``(key, sub key)``; an empty definition or file set is kept as
    ``(key,): {}`` so that joining the parts gives the inputs back exactly."""
    parts = {category: {} for category in _WORDS}
    for key, value in inputs.items():
        if key in _SPLIT and isinstance(value, dict):
            for sub, subvalue in value.items():
                parts[_SPLIT[key](sub)][(key, sub)] = subvalue
            if not value:
                parts[_EMPTY[key]][(key,)] = value
        else:
            parts[_TOP_KEYS.get(key, "definition")][(key,)] = value
    return parts


def input_labels(inputs, restart_with=None):
    """One label per category: ``{INPUT_LABEL_PREFIX + category: short digest}``.

    ``inputs`` is the dict compose.py hashes into a service's own hash; ``restart_with``
    maps the peers the service restarts with to their own hashes (compose.py
    ``apply_restart_with``), which fold into its combined hash (none: the digest of
    ``{}``). Every category has a label, even an empty one, so a missing label means
    another version made the container.
    """
    labels = dict((INPUT_LABEL_PREFIX + category, _short(sorted([list(path), value] for path, value in part.items())))
                  for category, part in split_inputs(inputs).items())
    labels[INPUT_LABEL_PREFIX + RESTART_WITH] = restart_with_label(restart_with)
    return labels


def restart_with_label(restart_with=None):
    """The value of the ``restart-with`` label: ``restart_with`` maps peers to their own hashes."""
    return _short(dict(restart_with or {}))


def image_input_labels(spec):
    """One label per build input of a site image spec (images.py ``build_spec``): the build
    arguments (base image), each context file, each copied file. Together they are what
    the spec's ``hash`` covers, so a build can name the input that changed."""
    labels = {BUILD_INPUT_LABEL_PREFIX + "args": _short({"schema": BUILD_SCHEMA, "args": spec["build_args"]})}
    labels.update((BUILD_INPUT_LABEL_PREFIX + "file." + f["path"], _short({"content": f["content"], "mode": f["mode"]}))
                  for f in spec["files"])
    labels.update((BUILD_INPUT_LABEL_PREFIX + "copy." + c["dest"], c["sha256"][:DIGEST_LENGTH]) for c in spec["copies"])
    return labels
