# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Image references of the site description, and how they are pinned: a version tag, a
digest, or both.

``[registry/]name[:tag][@sha256:<64 hex>]`` or ``{registry, name, tag, digest}``.

A tag that names a branch or "whatever is newest" (``latest``, ``main``, ``develop``, ...)
moves under the site: two hosts, or one host before and after a pull, would run different
software from the same description. Such tags are refused; a digest (``@sha256:<64 hex>``)
pins an image exactly, with or without a tag beside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

FLOATING_TAGS = ("latest", "main", "master", "develop", "development", "dev", "devel", "nightly", "edge", "head",
                 "trunk", "stable", "current", "testing", "unstable")
HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                     r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:[0-9]{1,5})?$")
REPO_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def pin_problem(tag, digest=None):
    """Why ``tag`` (and ``digest``) do not pin an image, or None."""
    if digest is not None and digest != "":
        if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
            return "digest '%s' is not sha256:<64 lower-case hex digits>" % (digest,)
        if tag in (None, ""):
            return None
    if not isinstance(tag, str) or not tag:
        return ("the tag is missing: pin a version tag (e.g. 5.6.17) or a digest (@sha256:...); an image without "
                "a tag is 'latest'")
    if not _TAG_RE.match(tag):
        return "tag '%s' is not a valid tag ([A-Za-z0-9_.-], at most 128 characters)" % (tag,)
    if tag.lower() in FLOATING_TAGS and not digest:
        return ("tag '%s' floats (it moves to new releases under the site): pin a version tag (e.g. 5.6.17) or a "
                "digest (@sha256:...)" % (tag,))
    return None


def pin_suffix(image):
    """``:tag``, ``@digest`` or ``:tag@digest`` of a pinned image dict."""
    suffix = ":" + image["tag"] if image.get("tag") else ""
    return suffix + ("@" + image["digest"] if image.get("digest") else "")


def parse_image(ref):
    """Split ``[registry/]name[:tag][@digest]`` into ``{registry, name, tag[, digest]}`` or return None."""
    image = split_image(ref)
    return image if image is not None and image_problem(image) is None else None


def split_image(ref):
    if not isinstance(ref, str) or not ref or ref != ref.strip():
        return None
    ref, at_sign, digest = ref.partition("@")
    name, tag = ref, ""
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = ref.rsplit(":", 1)
    registry = ""
    first, dummy, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    image = {"registry": registry, "name": name, "tag": tag}
    if at_sign:
        image["digest"] = digest
    return image


def image_problem(image):
    if not isinstance(image, dict) or set(image) - {"registry", "name", "tag", "digest"}:
        return ("an image is a reference string 'registry/name:tag[@sha256:...]' or a dict with registry, name, "
                "tag and digest")
    registry, name, tag = image.get("registry") or "", image.get("name"), image.get("tag")
    if registry and not HOST_RE.match(str(registry)):
        return "registry '%s' is not a host[:port]" % registry
    if not isinstance(name, str) or not REPO_RE.match(name):
        return "name '%s' is not a valid repository name (lower case, [a-z0-9._-/])" % (name,)
    return pin_problem(tag, image.get("digest"))


def image_reference(image, mirror=""):
    """The reference compose (or a site image's build) pulls. A mirror prefix replaces
    the registry: Docker Hub images keep their path (official ones under library/),
    others keep theirs."""
    name = image["name"]
    registry = image.get("registry") or ""
    if mirror:
        if not registry and "/" not in name:
            name = "library/" + name
        name = "%s/%s" % (mirror.rstrip("/"), name)
    else:
        name = (registry + "/" if registry else "") + name
    return name + pin_suffix(image)
