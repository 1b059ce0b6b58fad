# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The monitoring settings of a site (``omero_monitoring``) and what they render.

``omero_monitoring`` (all keys optional)::

    scrape_interval: 30s        Prometheus' scrape interval
    evaluation_interval: 30s    how often the alert rules are evaluated
    metrics_retention: 30d      how long Prometheus keeps metrics
    logs_retention: 744h        how long Loki keeps logs (hours: Loki's retention_period)
    alert_rules:                the collection's rules (alert_rules.yml) changed or added:
      - {alert: ServiceDown, for: 5m}            same name: the given fields replace its own
      - {alert: DiskFilling, enabled: false}     left out
      - {alert: MyRule, expr: ..., for: 10m, labels: {severity: warning},
         annotations: {summary: ...}}            a new name needs expr
    alerting:                   where Alertmanager sends the alerts (it must be enabled)
      webhooks: [{url: https://..., send_resolved: true},
                 {url_secret: chat_webhook_url}]   the url in omero_secrets.chat_webhook_url
      email: {to: ops@example.org, from: omero@example.org, smarthost: "smtp.example.org:587",
              require_tls: true, auth_username: alerts@example.org}
                                the relay's password in omero_secrets.alertmanager_smtp_password
      group_by: [alertname, service]
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 4h

A webhook URL that holds a token (``url_secret``) and the mail relay's password are secrets
the mail relay or the webhook's service holds, so the collection never generates them: they
are given in ``omero_secrets`` (the vault), mounted into the alert router as files (like every
secret file of the site: /run/secrets/<name>, mode 0600) and named in its configuration by
Alertmanager's ``url_file`` and ``auth_password_file``; neither value is in any rendered
configuration, environment or diff (:func:`held_secrets`, :func:`attach_secrets`).

A default rule is rendered only while the services whose metrics it reads run
(``when_enabled``), so no rule names a metric Prometheus cannot have.
"""

from __future__ import annotations

import copy
import os
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import err

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

VARIABLE = "omero_monitoring"
DEFAULTS = {
    "scrape_interval": "30s",
    "evaluation_interval": "30s",
    "metrics_retention": "30d",
    "logs_retention": "744h",
    "alert_rules": [],
    "alerting": {},
}
ALERTING_DEFAULTS = {"group_by": ["alertname", "service"], "group_wait": "30s", "group_interval": "5m",
                     "repeat_interval": "4h"}
RULE_KEYS = ("alert", "expr", "for", "labels", "annotations", "enabled")
EMAIL_KEYS = ("to", "from", "smarthost", "require_tls", "hello", "send_resolved", "auth_username")
WEBHOOK_KEYS = ("url", "url_secret", "send_resolved", "max_alerts")
# The relay's password, when email.auth_username is given (catalog secret of that name).
SMTP_PASSWORD_SECRET = "alertmanager_smtp_password"  # noqa: S105 - a secret's name
SECRETS_DIR = "/run/secrets"
_SECRET_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Prometheus' duration syntax (a sequence of units, largest first; "0s" too).
_DURATION_RE = re.compile(r"^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$")
_HOURS_RE = re.compile(r"^[0-9]+h$")
_ALERT_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_SMARTHOST_RE = re.compile(r"^[^\s:]+:[0-9]{1,5}$")
RULES_FILE = os.path.join(os.path.dirname(__file__), "alert_rules.yml")


def is_duration(value):
    return isinstance(value, str) and value not in ("",) and bool(_DURATION_RE.match(value)) and value != "0ms"


def load_rules(path=RULES_FILE):
    """The collection's default alert rules (alert_rules.yml), in file order."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["rules"]


def _check_durations(given, errors):
    for key in ("scrape_interval", "evaluation_interval", "metrics_retention"):
        if key in given and not is_duration(given[key]):
            err(errors, "%s.%s" % (VARIABLE, key), "'%s' is not a Prometheus duration such as 30s, 5m or 30d"
                % (given[key],))
    if "logs_retention" in given and not (isinstance(given["logs_retention"], str)
                                          and _HOURS_RE.match(given["logs_retention"])):
        err(errors, VARIABLE + ".logs_retention", "'%s' is not a number of hours such as 744h (Loki takes hours)"
            % (given["logs_retention"],))


def _unknown_keys(errors, where, given, known, hint=""):
    """Refuse the keys of ``given`` that are not in ``known``, listing the known ones."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        err(errors, where, "unknown key(s) %s; known: %s%s" % (", ".join(unknown), ", ".join(known), hint))


def _check_rule(i, rule, known, errors):
    where = "%s.alert_rules[%d]" % (VARIABLE, i)
    if not isinstance(rule, dict):
        err(errors, where, "must be a mapping with alert and the fields to set")
        return
    _unknown_keys(errors, where, rule, RULE_KEYS)
    name = rule.get("alert")
    if not isinstance(name, str) or not _ALERT_NAME_RE.match(name):
        err(errors, where + ".alert", "the rule's name is required (letters, digits and _)")
        return
    if name not in known and rule.get("enabled", True) and not rule.get("expr"):
        err(errors, where + ".expr", "'%s' is not a rule of the collection (%s): a new rule needs expr"
            % (name, ", ".join(sorted(known))))
    if "expr" in rule and not (isinstance(rule["expr"], str) and rule["expr"].strip()):
        err(errors, where + ".expr", "must be a PromQL expression (a non-empty string)")
    if "for" in rule and not is_duration(rule["for"]):
        err(errors, where + ".for", "'%s' is not a Prometheus duration such as 0s, 2m or 1h" % (rule["for"],))
    for key in ("labels", "annotations"):
        value = rule.get(key)
        if value is not None and not (isinstance(value, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items())):
            err(errors, "%s.%s" % (where, key), "must map names to strings")
    if "enabled" in rule and not isinstance(rule["enabled"], bool):
        err(errors, where + ".enabled", "must be true or false")


def _check_webhook(hwhere, hook, errors):
    if not isinstance(hook, dict):
        err(errors, hwhere, "needs url (an http:// or https:// address) or url_secret (a name in omero_secrets)")
        return
    _unknown_keys(errors, hwhere, hook, WEBHOOK_KEYS)
    if ("url" in hook) == ("url_secret" in hook):
        err(errors, hwhere, "needs url (an http:// or https:// address) or url_secret (the name of a secret in "
            "omero_secrets that holds the address, for a URL with a token in it), one of them")
    elif "url" in hook and not (isinstance(hook["url"], str) and _URL_RE.match(hook["url"])):
        err(errors, hwhere + ".url", "needs an http:// or https:// address (for one with a token in it, put it in "
            "the vault and name it with url_secret)")
    elif "url_secret" in hook and not (isinstance(hook["url_secret"], str)
                                       and _SECRET_NAME_RE.match(hook["url_secret"])):
        err(errors, hwhere + ".url_secret", "needs the name of a secret in omero_secrets ([a-z][a-z0-9_]*)")


def _check_webhooks(where, webhooks, errors):
    if not isinstance(webhooks, list):
        err(errors, where, "must be a list of {url or url_secret, send_resolved}")
        return
    for i, hook in enumerate(webhooks):
        _check_webhook("%s[%d]" % (where, i), hook, errors)


def _check_email(where, email, errors):
    if not isinstance(email, dict):
        err(errors, where, "must be a mapping with to, from and smarthost")
        return
    for key in ("to", "from"):
        if not isinstance(email.get(key), str) or "@" not in email[key]:
            err(errors, "%s.%s" % (where, key), "needs an email address")
    if not isinstance(email.get("smarthost"), str) or not _SMARTHOST_RE.match(email["smarthost"]):
        err(errors, where + ".smarthost", "needs host:port of the mail relay, such as mail.example.org:25")
    hint = (" (the relay's password goes in omero_secrets.%s, with auth_username here)" % SMTP_PASSWORD_SECRET
            if set(email) & {"auth_password", "auth_password_file", "auth_secret"} else "")
    _unknown_keys(errors, where, email, EMAIL_KEYS, hint)
    if "auth_username" in email and not (isinstance(email["auth_username"], str) and email["auth_username"].strip()):
        err(errors, where + ".auth_username", "needs the relay account's user name (its password goes in "
            "omero_secrets.%s)" % SMTP_PASSWORD_SECRET)


def _check_alerting(alerting, services, errors):
    where = VARIABLE + ".alerting"
    if not isinstance(alerting, dict):
        err(errors, where, "must be a mapping (webhooks, email, group_by, group_wait, ...)")
        return
    _unknown_keys(errors, where, alerting, ("webhooks", "email") + tuple(ALERTING_DEFAULTS))
    routers = sorted(name for name, svc in services.items() if svc.get("alerting"))
    if (alerting.get("webhooks") or alerting.get("email")) and not any(services[n]["enabled"] for n in routers):
        err(errors, where, "routes alerts, but no alert router runs: set %s"
            % " or ".join("omero_services.%s.enabled: true" % name for name in routers))
    _check_webhooks(where + ".webhooks", alerting.get("webhooks") or [], errors)
    if alerting.get("email") is not None:
        _check_email(where + ".email", alerting["email"], errors)
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if key in alerting and not is_duration(alerting[key]):
            err(errors, "%s.%s" % (where, key), "'%s' is not a duration such as 30s or 4h" % (alerting[key],))
    if "group_by" in alerting and not (isinstance(alerting["group_by"], list)
                                       and all(isinstance(x, str) for x in alerting["group_by"])):
        err(errors, where + ".group_by", "must be a list of label names")


def settings(site, services, errors):
    """``omero_monitoring`` checked, with the defaults applied."""
    given = site.get(VARIABLE)
    if given is None:
        given = {}
    if not isinstance(given, dict):
        err(errors, VARIABLE, "must be a mapping (scrape_interval, alert_rules, alerting, ...)")
        return copy.deepcopy(DEFAULTS)
    _unknown_keys(errors, VARIABLE, given, DEFAULTS)
    _check_durations(given, errors)
    rules = given.get("alert_rules") or []
    if not isinstance(rules, list):
        err(errors, VARIABLE + ".alert_rules", "must be a list of rules ({alert, expr, for, ...})")
        rules = []
    known = set(rule["alert"] for rule in load_rules())
    for i, rule in enumerate(rules):
        _check_rule(i, rule, known, errors)
    _check_alerting(given.get("alerting") or {}, services, errors)
    result = copy.deepcopy(DEFAULTS)
    result.update((k, copy.deepcopy(v)) for k, v in given.items() if k in DEFAULTS and v is not None)
    result["alert_rules"] = rules
    return result


def _wanted(rule, enabled):
    needs = rule.get("when_enabled") or []
    needs = [needs] if isinstance(needs, str) else needs
    any_of = rule.get("when_any_enabled") or []
    return all(name in enabled for name in needs) and (not any_of or any(name in enabled for name in any_of))


def rules(monitoring, enabled):
    """The alert rules of the site: the collection's (those whose services run), changed,
    left out or added by ``omero_monitoring.alert_rules``, as Prometheus takes them."""
    own = [dict(rule) for rule in load_rules() if _wanted(rule, enabled)]
    by_name = dict((rule["alert"], rule) for rule in own)
    every_default = set(rule["alert"] for rule in load_rules())
    for change in monitoring.get("alert_rules") or []:
        name = change["alert"]
        if name in by_name:
            by_name[name].update(copy.deepcopy(change))
        elif name not in every_default:
            rule = copy.deepcopy(change)
            own.append(rule)
            by_name[name] = rule
    result = []
    for rule in own:
        if not rule.get("enabled", True):
            continue
        out = {"alert": rule["alert"], "expr": rule["expr"].strip()}
        if rule.get("for"):
            out["for"] = rule["for"]
        for key in ("labels", "annotations"):
            if rule.get(key):
                out[key] = dict(rule[key])
        result.append(out)
    return result


def alert_route(monitoring):
    """Alertmanager's route: everything to the site's receiver, or to the null one."""
    alerting = dict(ALERTING_DEFAULTS)
    alerting.update(monitoring.get("alerting") or {})
    routed = bool(alerting.get("webhooks") or alerting.get("email"))
    route = {"receiver": "site" if routed else "null"}
    route.update((key, copy.deepcopy(alerting[key])) for key in ALERTING_DEFAULTS)
    return route


def held_secrets(monitoring):
    """The secrets ``omero_monitoring.alerting`` names, which the collection cannot generate
    (a webhook's service or the mail relay holds them): {secret name: where it is named}."""
    alerting = monitoring.get("alerting") or {}
    held = {}
    for i, hook in enumerate(alerting.get("webhooks") or []):
        if isinstance(hook, dict) and isinstance(hook.get("url_secret"), str):
            where = "%s.alerting.webhooks[%d].url_secret" % (VARIABLE, i)
            held.setdefault(hook["url_secret"], where + " (a webhook's address)")
    email = alerting.get("email")
    if isinstance(email, dict) and email.get("auth_username"):
        held[SMTP_PASSWORD_SECRET] = "%s.alerting.email.auth_username (the mail relay's password)" % VARIABLE
    return held


def attach_secrets(services, monitoring):
    """Mount the held secrets into the alert router(s) as files (/run/secrets/<name>)."""
    held = held_secrets(monitoring)
    for svc in services.values():
        if svc.get("alerting"):
            svc["secret_files"].update((name, name) for name in held)


def alert_destinations(monitoring):
    """Alertmanager's receivers: ``null`` (drops) and ``site`` (the webhooks and email given).
    Secret values are named by file (``url_file``, ``auth_password_file``), never written."""
    alerting = monitoring.get("alerting") or {}
    site = {"name": "site"}
    if alerting.get("webhooks"):
        site["webhook_configs"] = []
        for given in alerting["webhooks"]:
            hook = dict({"send_resolved": True}, **given)
            if "url_secret" in hook:
                hook["url_file"] = "%s/%s" % (SECRETS_DIR, hook.pop("url_secret"))
            site["webhook_configs"].append(hook)
    if alerting.get("email"):
        email = dict({"send_resolved": True}, **alerting["email"])
        if email.get("auth_username"):
            email["auth_password_file"] = "%s/%s" % (SECRETS_DIR, SMTP_PASSWORD_SECRET)
        site["email_configs"] = [email]
    receivers = [{"name": "null"}]
    if len(site) > 1:
        receivers.append(site)
    return receivers
