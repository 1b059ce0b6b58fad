"""site_images_to_prune: the tags of a site's own images to remove (recorded-shaped
docker_host_info output)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.omero_docker.stack.plugins.filter.site_images import site_images_to_prune


def image(service, tag, created, iid=None):
    return {"Id": iid or "sha256:%s-%s" % (service, tag), "RepoTags": ["omero-docker-stack/%s:%s" % (service, tag)],
            "Created": created, "Labels": {"org.omero-docker.stack.service": service,
                                           "org.omero-docker.stack.site": "omero"}}


WEB = [image("omero-web", "5.31.0-h%d" % i, "2026-12-0%dT10:00:00Z" % i) for i in range(1, 6)]
SERVER = [image("omero-server", "5.6.17-h%d" % i, "2026-12-0%dT11:00:00Z" % i) for i in range(1, 3)]


def tags(images):
    return [t for i in images for t in i["RepoTags"]]


def test_keeps_the_newest_per_service_and_removes_the_rest_oldest_first():
    current = ["omero-docker-stack/omero-web:5.31.0-h5", "omero-docker-stack/omero-server:5.6.17-h2"]
    assert site_images_to_prune(WEB + SERVER, [], current, 3) == tags(WEB[:2])
    assert site_images_to_prune(WEB + SERVER, [], current, 1) == tags(SERVER[:1]) + tags(WEB[:4])


def test_the_deployed_image_is_kept_even_when_it_is_not_the_newest():
    # a rollback deployed h2: it stays, with the newest others up to keep
    current = ["omero-docker-stack/omero-web:5.31.0-h2"]
    assert site_images_to_prune(WEB, [], current, 2) == tags([WEB[0], WEB[2], WEB[3]])


def test_an_image_a_container_uses_is_never_removed():
    stopped = [{"Image": "omero-docker-stack/omero-web:5.31.0-h1", "ImageID": "sha256:x"},
               {"Image": "sha256:other", "ImageID": WEB[1]["Id"]}]
    assert site_images_to_prune(WEB, stopped, ["omero-docker-stack/omero-web:5.31.0-h5"], 1) == tags(WEB[2:4])


def test_images_without_the_service_label_or_tags_are_not_ours():
    foreign = {"Id": "sha256:f", "RepoTags": ["postgres:16"], "Created": "2020-01-01T00:00:00Z", "Labels": {}}
    dangling = dict(WEB[0], RepoTags=["<none>:<none>"])
    assert site_images_to_prune([foreign, dangling], [], [], 1) == []


@pytest.mark.parametrize("keep", [0, -1, "three"])
def test_keep_must_be_a_positive_number(keep):
    with pytest.raises(AnsibleFilterError, match="keep must be"):
        site_images_to_prune(WEB, [], [], keep)
