# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""How an image of the site description is pinned: a version tag, a digest, or both.

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
