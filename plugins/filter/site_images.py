# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Filter: which tags of a site's own images (the images stage builds them, one tag per set of
build inputs) to remove, keeping the newest few of each service for a rollback.

``images | omero_docker.stack.site_images_to_prune(containers, current, keep)``:

- ``images``: ``community.docker.docker_host_info``'s ``images`` (``verbose_output: true``:
  Id, RepoTags, Created, Labels) of the site (label ``org.omero-docker.stack.site``);
- ``containers``: its ``containers`` (all states; ``Image`` and ``ImageID``): an image a
  container uses is never removed;
- ``current``: the references of the site model's images (what this run deploys): kept;
- ``keep``: how many images of each service to keep, the current one included (>= 1).

Returns the tags to remove, oldest first. Pure: reads what it is given, touches no host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

SERVICE_LABEL = "org.omero-docker.stack.service"


def site_images_to_prune(images, containers, current, keep):
    try:
        keep = int(keep)
    except (TypeError, ValueError):
        raise AnsibleFilterError("site_images_to_prune: keep must be a number, not %r" % (keep,)) from None
    if keep < 1:
        raise AnsibleFilterError("site_images_to_prune: keep must be at least 1 (the image in use), not %d" % keep)
    current = set(current or [])
    in_use = set()
    for container in containers or []:
        in_use.add(container.get("ImageID") or "")
        in_use.add(container.get("Image") or "")
    by_service = {}
    for image in images or []:
        service = (image.get("Labels") or {}).get(SERVICE_LABEL)
        tags = [t for t in image.get("RepoTags") or [] if t and t != "<none>:<none>"]
        if not service or not tags:
            continue
        by_service.setdefault(service, []).append(image)
    prune = []
    for service in sorted(by_service):
        newest_first = sorted(by_service[service], key=lambda i: (str(i.get("Created") or ""), i.get("Id")),
                              reverse=True)
        kept = [i for i in newest_first if set(i.get("RepoTags") or []) & current]
        for image in newest_first:
            if len(kept) >= keep:
                break
            if image not in kept:
                kept.append(image)
        for image in reversed(newest_first):
            if image in kept or image.get("Id") in in_use or set(image.get("RepoTags") or []) & in_use:
                continue
            prune.extend(sorted(image.get("RepoTags") or []))
    return prune


class FilterModule(object):
    def filters(self):
        return {"site_images_to_prune": site_images_to_prune}
