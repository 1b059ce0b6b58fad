# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""Small helpers the checks of the site model share.

A check reports a problem by appending ``(variable, message)`` to the list it is given;
:class:`~.errors.SiteModelError` reports them all at once.
"""

from __future__ import annotations

import copy
import ipaddress


def err(errors, var, msg):
    errors.append((var, msg))


def as_int(value):
    """``value`` as an int when it is one (or a string of digits), else None (booleans too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def check_bind(errors, var, value):
    """Whether ``value`` is an IP address to bind to; reports it under ``var`` if not."""
    try:
        valid = isinstance(value, str) and "%" not in value and bool(ipaddress.ip_address(value))
    except ValueError:
        valid = False
    if not valid:
        err(errors, var, "'%s' is not an IP address to bind to (e.g. 0.0.0.0, 127.0.0.1, ::, ::1; an IPv6 "
                         "address without brackets)" % (value,))
        return False
    return True


def named_list(items, var, errors, required=("name",)):
    """A copy of a list of dictionaries, each with the ``required`` strings and a name of its own."""
    names = set()
    for i, item in enumerate(items or []):
        ivar = "%s[%d]" % (var, i)
        if not isinstance(item, dict):
            err(errors, ivar, "must be a dictionary with %s" % ", ".join(required))
            continue
        for key in required:
            if not isinstance(item.get(key), str) or not item.get(key):
                err(errors, "%s.%s" % (ivar, key), "is required")
        name = item.get("name")
        if isinstance(name, str):
            if name in names:
                err(errors, ivar + ".name", "'%s' is listed twice" % name)
            names.add(name)
    return copy.deepcopy(list(items or []))


def inherit_settings(site, template, names, not_inherited):
    """``site``, or a copy whose ``omero_services`` gives each service of ``names`` (services the
    site adds as copies of ``template``: read-only servers, plugin workers) the template's
    settings but ``not_inherited``, under each one's own ``omero_services.<name>``."""
    services = site.get("omero_services")
    given = services.get(template) if isinstance(services, dict) and template else None
    if not names or not isinstance(given, dict):
        return site
    inherited = dict((key, value) for key, value in given.items() if key not in not_inherited)
    site = dict(site, omero_services=dict(services))
    for name in names:
        own = services.get(name)
        site["omero_services"][name] = dict(inherited, **own) if isinstance(own, dict) else (
            dict(inherited) if own is None else own)
    return site
