# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""The uid/gid of the accounts OMERO's images run as, read from the images themselves.

A catalog service with ``image_user`` (omero-server, omero-web) runs as an account of
its image whose uid/gid the collection cannot know in advance: the official OMERO.web
image creates ``omero-web`` as a system account without a fixed uid. The directories
the container writes must belong to that uid, so:

1. the model lists, in ``image_users``, the enabled services whose ids the site did not
   set (``omero_services.<name>.uid/gid`` always win), with the image to read them from
   (the base image of a built service: the site image keeps the base's accounts);
2. the site_layout role runs ``id <user>`` in each image on the host and computes the
   model again with the result (``image_ids``), before it creates any directory;
3. until then, and in check mode on a host without the image, the catalog's uid/gid are
   the fallback.

Owners are not an input of the containers' hashes: reading them recreates nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

GIVEN = "_ids_given"


def mark_given(svc, key):
    """Record that the site set ``uid`` or ``gid`` of a service itself."""
    svc.setdefault(GIVEN, set()).add(key)


def _as_id(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 0 <= value < 2 ** 31:
        return value
    return None


def apply(services, image_ids, errors):
    """Set the uid/gid read from the images (``{service: {uid, gid}}``) where the site did
    not set them; mark each looked-up service ``_ids_resolved``."""
    if not image_ids:
        return
    if not isinstance(image_ids, dict):
        errors.append(("image_ids", "must map service names to {uid, gid} read from their images"))
        return
    for name in sorted(image_ids, key=str):
        ids = image_ids[name]
        var = "image_ids.%s" % name
        svc = services.get(name)
        if svc is None or not svc.get("image_user"):
            errors.append((var, "'%s' is not a service whose image account is looked up" % name))
            continue
        values = dict((k, _as_id(ids.get(k))) for k in ("uid", "gid")) if isinstance(ids, dict) else {}
        if not isinstance(ids, dict) or set(ids) != {"uid", "gid"} or None in values.values():
            errors.append((var, "must be {uid: N, gid: N} with numeric ids, got %r" % (ids,)))
            continue
        for key, value in values.items():
            if key not in svc.get(GIVEN, ()):
                svc[key] = value
        svc["_ids_resolved"] = True


def lookups(services, enabled, image_of):
    """What the site_layout role must read: ``[{service, user, image, uid, gid, resolved}]``
    for the enabled services with an image account and an id the site did not set.
    ``image_of(svc)`` is the reference to run ``id`` in."""
    result = []
    for name in enabled:
        svc = services[name]
        if not svc.get("image_user") or svc.get(GIVEN, set()) >= {"uid", "gid"}:
            continue
        result.append({"service": name, "user": svc["image_user"], "image": image_of(svc),
                       "uid": svc["uid"], "gid": svc["gid"], "resolved": bool(svc.get("_ids_resolved"))})
    return result
