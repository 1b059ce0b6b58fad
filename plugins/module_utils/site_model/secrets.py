# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Secret value checks, generation and the controller-side store of generated secrets.

Values never leave this module in anything the site model returns: the model only
carries references (secret name, variable, files). Generated secrets are kept on the
controller in a YAML file of mode 0600 in a directory of mode 0700, so that every run
renders the same values.

Which secrets the site needs follows from its enabled services (:func:`required_secrets`);
:func:`validate` checks that each is given, or to be generated, and that every given one is
strong. A secret whose value an external server holds (catalog ``external.secrets`` of a
service the site gives as ``omero_services.<name>.external``: the password of an existing
database's role) cannot be generated: it must be given (:func:`generatable`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import secrets as _secrets
import tempfile

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import err
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.external import owned_secrets

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - the controller always has PyYAML
    HAS_YAML = False

MIN_LENGTH = 16
_PLACEHOLDER_WORDS = ("changeme", "change_me", "changethis", "replaceme", "replace_me", "placeholder",
                      "todo", "fixme", "xxxx", "secret_here", "password_here", "your_password",
                      "vault_value", "insert", "example")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_JINJA_MARKERS = ("{{", "{%", "{#")


def name_problem(name):
    if not isinstance(name, str) or not _NAME_RE.match(name):
        return "secret names are lower-case identifiers ([a-z][a-z0-9_]*)"
    return None


def _placeholder_problem(value):
    folded = re.sub(r"[^a-z0-9]", "", value.lower())
    for word in _PLACEHOLDER_WORDS:
        if word.replace("_", "") in folded:
            return ("looks like a placeholder (contains '%s'): put the real secret in the vault, "
                    "e.g. `ansible-vault encrypt_string --name NAME`" % word)
    if value.startswith("<") and value.endswith(">"):
        return "looks like a placeholder (<...>): put the real secret in the vault"
    return None


def value_problem(value):
    """Why ``value`` is not acceptable as a secret, or None. Never quotes the value."""
    if not isinstance(value, str):
        return "must be a string (quote it in YAML; use ansible-vault encrypt_string)"
    checks = (
        (_placeholder_problem(value), None),
        (len(value) < MIN_LENGTH,
         "is shorter than %d characters: use a longer one (e.g. `openssl rand -base64 24`)" % MIN_LENGTH),
        ("\n" in value or "\r" in value or "\x00" in value, "must be a single line without NUL characters"),
        (value != value.strip(), "has leading or trailing whitespace, which services would not agree on"),
        (any(marker in value for marker in _JINJA_MARKERS),
         "holds a Jinja marker ({{, {% or {#): a template may expand it wherever the value is used; generate "
         "another one (e.g. `openssl rand -base64 24`)"),
    )
    for failed, message in checks:
        if failed:
            return message or failed
    return None


def generate():
    """A new random secret: 32 URL-safe characters (192 bits) that passes :func:`value_problem`."""
    while True:
        value = _secrets.token_urlsafe(24)
        if value_problem(value) is None and not value.startswith("-"):
            return value


def required_secrets(catalog, services):
    """Secret names the enabled services need."""
    needed = set()
    for svc in services.values():
        if not svc["enabled"]:
            continue
        needed.update(svc["secret_env"].values())
        needed.update(svc["secret_files"].values())
    for sname, spec in catalog["secrets"].items():
        if any(services[s]["enabled"] for s in (spec or {}).get("required_by", [])):
            needed.add(sname)
    return needed


def generatable(catalog, services):
    """The secrets the site needs that the collection may generate (none an external server holds)."""
    return required_secrets(catalog, services) - set(owned_secrets(services))


def _owned_problems(given, needed, services, errors):
    """A needed secret an external server holds must be given in omero_secrets."""
    for sname, owner in sorted(owned_secrets(services).items()):
        if sname in needed and sname not in given:
            address = services[owner]["external"]
            err(errors, "omero_secrets.%s" % sname,
                "belongs to the existing server of %s (omero_services.%s.external: %s:%s), which the site's services "
                "use: the collection cannot generate it (omero_site_generate_secrets does not); set the value that "
                "server has in the inventory vault" % (owner, owner, address["host"], address["port"]))


def _held_problems(given, needed, held, errors):
    """A needed secret that another system holds (a mail relay's password, a webhook's address
    with its token: ``held`` maps it to where it is named) must be given in omero_secrets."""
    for sname, where in sorted(held.items()):
        if sname in needed and sname not in given:
            err(errors, "omero_secrets.%s" % sname,
                "is named by %s: the collection cannot generate it (omero_site_generate_secrets does not); set it in "
                "the inventory vault, e.g. `ansible-vault encrypt_string --name %s`" % (where, sname))


def validate(site, secret_values, catalog, services, errors, *, held=None):
    """Required secrets present and every given one strong. Returns (values, given, needed).
    ``held``: {secret name: where it is named} of the secrets another system holds
    (monitoring.held_secrets), never generated."""
    held = held or {}
    given = site.get("omero_secrets") if isinstance(site.get("omero_secrets"), dict) else {}
    given = dict((k, v) for k, v in given.items() if v is not None)
    values = dict(given)
    values.update((k, v) for k, v in (secret_values or {}).items() if v is not None)
    for sname in sorted(values, key=str):
        problem = name_problem(sname) or value_problem(values[sname])
        if (not problem and site.get("omero_site_generate_secrets") is True and sname not in catalog["secrets"]
                and sname not in held):
            problem = ("is not a secret of the site, so the one it was meant for would be generated instead: fix the "
                       "name; known: %s" % ", ".join(sorted(catalog["secrets"])))
        if problem:
            err(errors, "omero_secrets.%s" % sname, problem)
    needed = required_secrets(catalog, services)
    enabled = [n for n, svc in services.items() if svc["enabled"]]
    _owned_problems(given, needed, services, errors)
    _held_problems(given, needed, held, errors)
    for sname in sorted(needed - set(values) - set(owned_secrets(services)) - set(held)):
        users = sorted(n for n in enabled if sname in services[n]["secret_env"].values()
                       or sname in services[n]["secret_files"].values())
        users = users or sorted((catalog["secrets"].get(sname) or {}).get("required_by", []))
        err(errors, "omero_secrets.%s" % sname,
            "is required by %s (%s): set it in the inventory vault, or set "
            "omero_site_generate_secrets: true to generate it on the controller"
            % (", ".join(users), catalog["secrets"][sname]["description"]))
    return values, given, needed


def digest(value):
    """A one-way digest of a secret for input hashes (never the value itself)."""
    return hashlib.sha256(("omero_docker.stack:" + value).encode("utf-8")).hexdigest()


def default_store_path(site_name, home=None):
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(home or os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "omero_docker_stack", "sites", site_name, "secrets.yml")


def read_store(path):
    """Read the store: ``{name: value}`` (empty when the file does not exist)."""
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError("%s is not a mapping of secret names to values" % path)
    return dict((str(k), str(v)) for k, v in data.items())


def write_store(path, values):
    """Write the store atomically with mode 0600 (directory 0700)."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    os.chmod(directory, 0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".secrets-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("# Secrets generated by omero_docker.stack for this site. Keep this file private;\n"
                         "# back it up with the site. Move values to the inventory vault to take over.\n")
            yaml.safe_dump(dict(sorted(values.items())), handle, default_flow_style=False)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
