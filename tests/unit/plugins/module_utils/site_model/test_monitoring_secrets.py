"""The secrets of omero_monitoring.alerting: a webhook address with a token in it and the mail
relay's password, given in omero_secrets, mounted into Alertmanager as files, never rendered."""

from __future__ import annotations

import json

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import (
    build_site_model,
    secrets_needed,
)

from tests.helpers.sites import base_site, merged

HOOK_URL = "https://chat.facility.test/hooks/T0KEN-9f2c1e7a5b3d"
RELAY_PASSWORD = "Relay-password-4b1d9c2e7f"  # noqa: S105 - a test value
ALERTING = {
    "webhooks": [{"url": "http://plain.facility.test/alerts"}, {"url_secret": "chat_webhook_url"}],
    "email": {"to": "ops@facility.test", "from": "omero@facility.test", "smarthost": "smtp.facility.test:587",
              "auth_username": "alerts@facility.test"},
}


def _site(secrets=None, alerting=None, **site_vars):
    site = merged(base_site(), {"omero_services": {"alertmanager": {"enabled": True}},
                                "omero_secrets": dict(secrets or {})}, "/srv/omero-test")
    site["omero_monitoring"] = {"alerting": alerting or ALERTING}
    site.update(site_vars)
    return site


def _model(site):
    return build_site_model(site, site.get("omero_secrets"))


def _errors(site):
    with pytest.raises(SiteModelError) as caught:
        _model(site)
    return str(caught.value)


GIVEN = {"chat_webhook_url": HOOK_URL, "alertmanager_smtp_password": RELAY_PASSWORD}


def test_the_router_reads_them_from_files_and_no_rendered_text_holds_them():
    model = _model(_site(GIVEN))
    config = yaml.safe_load([f for f in model["files"] if f["path"].endswith("/alertmanager.yml")][0]["content"])
    site = [r for r in config["receivers"] if r["name"] == "site"][0]
    assert site["webhook_configs"] == [
        {"send_resolved": True, "url": "http://plain.facility.test/alerts"},
        {"send_resolved": True, "url_file": "/run/secrets/chat_webhook_url"}]
    email = site["email_configs"][0]
    assert email["auth_username"] == "alerts@facility.test"
    assert email["auth_password_file"] == "/run/secrets/alertmanager_smtp_password"  # noqa: S105 - a path
    files = dict((f["secret"], f) for f in model["secret_files"] if f["service"] == "alertmanager")
    assert sorted(files) == ["alertmanager_smtp_password", "chat_webhook_url"]
    assert all((f["owner"], f["mode"]) == (65534, "0600") for f in files.values())
    targets = [s["target"] for s in model["compose"]["services"]["alertmanager"]["secrets"]]
    assert sorted(targets) == ["alertmanager_smtp_password", "chat_webhook_url"]
    text = json.dumps(model)
    assert HOOK_URL not in text and RELAY_PASSWORD not in text


def test_a_new_value_recreates_only_the_router():
    before = _model(_site(GIVEN))["service_hashes"]
    after = _model(_site(dict(GIVEN, chat_webhook_url=HOOK_URL + "x")))["service_hashes"]
    assert sorted(n for n in before if before[n] != after[n]) == ["alertmanager"]


def test_missing_ones_are_refused_naming_the_setting_and_never_generated():
    site = _site(omero_site_generate_secrets=True)
    message = _errors(site)
    assert ("omero_secrets.chat_webhook_url: is named by omero_monitoring.alerting.webhooks[1].url_secret"
            in message)
    assert ("omero_secrets.alertmanager_smtp_password: is named by omero_monitoring.alerting.email.auth_username"
            in message)
    assert "cannot generate it" in message
    needed = secrets_needed(site)
    assert "chat_webhook_url" not in needed and "alertmanager_smtp_password" not in needed


def test_a_weak_value_is_refused_without_quoting_it():
    weak = dict(GIVEN, alertmanager_smtp_password="short1")  # noqa: S106 - a weak test value
    message = _errors(_site(weak))
    assert "omero_secrets.alertmanager_smtp_password: is shorter than" in message
    assert "short1" not in message


@pytest.mark.parametrize(("alerting", "expected"), [
    ({"webhooks": [{"url": "http://a.test/x", "url_secret": "chat_webhook_url"}]},
     "omero_monitoring.alerting.webhooks[0]: needs url (an http:// or https:// address) or url_secret"),
    ({"webhooks": [{"url_secret": "Chat-URL"}]}, "omero_monitoring.alerting.webhooks[0].url_secret: needs the name"),
    ({"email": dict(ALERTING["email"], auth_password="x")},  # noqa: S106 - a refused key
     "the relay's password goes in omero_secrets.alertmanager_smtp_password"),
    ({"email": dict(ALERTING["email"], auth_username="")}, "omero_monitoring.alerting.email.auth_username: needs"),
])
def test_mistakes_are_refused_naming_the_key(alerting, expected):
    assert expected in _errors(_site(GIVEN, alerting))


def test_without_them_nothing_is_mounted():
    model = _model(_site(alerting={"webhooks": [{"url": "http://plain.facility.test/alerts"}]}))
    assert [f for f in model["secret_files"] if f["service"] == "alertmanager"] == []
    assert "secrets" not in model["compose"]["services"]["alertmanager"]
