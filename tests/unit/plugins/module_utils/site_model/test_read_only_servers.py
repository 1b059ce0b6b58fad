"""Read-only OMERO.servers (omero_site_read_only_servers, read_only.py; issue 13): copies of
the read-write server configured as OMERO's clustering documentation says, sharing its
repository (read-only) and database, each with its own memo directory; OMERO.web's server
list names them; the site image is built once.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import (
    build_site_model,
    enabled_services,
)

from tests.helpers.sites import base_site, merged

RO = ["omeroserver-ro-1", "omeroserver-ro-2"]
READ_ONLY_LINES = (
    "config set -- omero.cluster.read_only.db true",
    "config set -- omero.cluster.read_only.repo true",
    "config set -- omero.pixeldata.memoizer.dir.local /opt/omero/server/BioFormatsCache",
)


def _site(**overlay):
    return merged(base_site(), overlay, "/x")


def _build(site):
    return build_site_model(site, site.get("omero_secrets"))


def _errors(site):
    with pytest.raises(SiteModelError) as info:
        _build(site)
    return dict(info.value.errors)


def _omero_file(model, service):
    return next(f["content"] for f in model["files"] if f["path"].endswith("/%s/60-omero-docker-stack.omero" % service))


def _web_server_list(model):
    return json.loads(next(o["value"] for o in model["omero"]["web"] if o["property"] == "omero.web.server_list"))


def test_none_by_default_and_the_web_names_the_read_write_server():
    model = _build(_site())
    assert not [name for name in model["enabled_services"] if name.startswith("omeroserver-ro-")]
    assert _web_server_list(model) == [["omeroserver", 4064, "omero-test"]]


def test_two_read_only_servers_beside_the_read_write_one():
    model = _build(_site(omero_site_read_only_servers=2))
    assert set(RO) <= set(model["enabled_services"]) and set(RO) <= set(enabled_services(_site(
        omero_site_read_only_servers=2)))
    compose = model["compose"]["services"]
    server = compose["omeroserver"]
    for index, name in enumerate(RO, start=1):
        ro = compose[name]
        # The read-write server's site image, built once.
        assert ro["image"] == server["image"] and name not in model["images"]
        # Nothing published: OMERO.web reaches them on the site's network.
        assert "ports" not in ro
        mounts = dict((m["target"], m) for m in ro["volumes"])
        assert mounts["/OMERO"]["source"] == model["paths"]["omero_data"] and mounts["/OMERO"]["read_only"]
        assert mounts["/opt/omero/server/OMERO.server/var/log"]["source"].endswith("/logs/" + name)
        assert mounts["/opt/omero/server/BioFormatsCache"]["source"] == model["paths"][
            "omero_data_ro_%d_memo" % index] and not mounts["/opt/omero/server/BioFormatsCache"]["read_only"]
        # No scripts (a read-only server runs none) and no ROOTPASS (the database exists).
        assert not [t for t in mounts if t.startswith("/opt/omero/server/OMERO.server/lib/scripts")]
        assert [s["target"] for s in ro["secrets"]] == ["CONFIG_omero_db_pass"]
        assert ro["depends_on"]["omeroserver"] == {"condition": "service_healthy"}
        # The server's properties, then the read-only ones, last.
        content = _omero_file(model, name)
        assert content.strip().splitlines()[-3:] == list(READ_ONLY_LINES)
        assert "omero.data.dir /OMERO" in content
    assert not any(line in _omero_file(model, "omeroserver") for line in READ_ONLY_LINES)
    assert _web_server_list(model) == [[name, 4064, "omero-test (read-only %d)" % i] for i, name in
                                       enumerate(RO, start=1)]
    # Each memo directory is the read-only server's own, owned by its account.
    dirs = dict((d["path"], d) for d in model["directories"])
    memo = dirs[model["paths"]["omero_data_ro_1_memo"]]
    assert memo["owner"] == model["services"]["omeroserver-ro-1"]["uid"] and memo["mode"] == "0750"
    # The bootstrap stays on the read-write server.
    assert model["bootstrap"]["read_write"] is True


def test_copies_take_the_servers_settings_but_its_ports_and_their_own_win():
    site = _site(omero_site_read_only_servers=1, omero_services={
        "omeroserver": {"image": "registry.example.org/omero-server:5.6.17", "resources": {"memory": "6g"},
                        "ports": {"ssl": {"host": 14064}}},
        "omeroserver-ro-1": {"resources": {"memory": "3g"}},
    })
    model = _build(site)
    assert model["services"]["omeroserver-ro-1"]["base_image"] == "registry.example.org/omero-server:5.6.17"
    assert model["compose"]["services"]["omeroserver-ro-1"]["mem_limit"] == "3g"
    assert "ports" not in model["compose"]["services"]["omeroserver-ro-1"]
    assert model["compose"]["services"]["omeroserver"]["ports"][0]["published"] == "14064"


def test_what_recreates_them():
    before = _build(_site(omero_site_read_only_servers=1))

    def changed(**overlay):
        after = _build(_site(omero_site_read_only_servers=1, **overlay))
        return {n for n in after["service_hashes"] if after["service_hashes"][n] != before["service_hashes"].get(n)}

    # A web property: the web only. A server property: every server, read-only ones included.
    assert changed(omero_web_config={"omero.web.public.enabled": True}) == {"omeroweb"}
    assert changed(omero_server_config={"omero.mail.enabled": True}) == {"omeroserver", "omeroserver-ro-1"}


@pytest.mark.parametrize("value", ["two", -1, 10, True, 1.5])
def test_a_bad_number_is_refused(value):
    assert "not a number of read-only OMERO.servers" in _errors(_site(omero_site_read_only_servers=value))[
        "omero_site_read_only_servers"]


def test_no_copies_of_a_server_the_site_does_not_run():
    errors = _errors(_site(omero_site_read_only_servers=1, omero_services={"omeroserver": {"enabled": False}}))
    assert "set omero_site_read_only_servers to 0" in errors["omero_site_read_only_servers"]
