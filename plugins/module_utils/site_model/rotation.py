# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""What the steps that rotate secrets need to know (no values, only names).

Some images apply a secret only when they initialise their data: PostgreSQL's
``POSTGRES_PASSWORD_FILE`` at initdb, OMERO.server's ``ROOTPASS`` on an empty database.
Those consumers are marked ``init_only`` in the catalog: the secret is still written,
but it is not part of the service's input hash, since recreating the container would not
apply a new value. The deploy and bootstrap stages apply a rotation for real (``ALTER
ROLE`` inside the database container, ``changeUserPassword`` for root) from:

- ``databases``: ``{service: {service, user, database, secret}}`` of each enabled database
  service (catalog ``database_role``): the role its image created and the secret with its
  password; an external one (``omero_services.<name>.external``) is listed with its
  ``external: {host, port}``: its role is the server's, which the deploy never alters;
- ``init_only_secrets``: ``[{service, secret, via}]``, each consumer that applies a secret
  only at initialisation (``via``: ``env NAME`` or ``file /run/secrets/NAME``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def databases(services, provided, substitute):
    """``{service: {service, user, database, secret[, external]}}`` of the ``provided``
    services (enabled or external); ``substitute`` fills the placeholders."""
    result = {}
    for name in provided:
        role = services[name].get("database_role")
        if role:
            result[name] = {"service": name, "user": substitute(role["user"]),
                            "database": substitute(role["database"]), "secret": role["secret"]}
            if services[name].get("external"):
                result[name]["external"] = dict(services[name]["external"])
    return result


def init_only_secrets(services, enabled):
    """``[{service, secret, via}]`` of the consumers that apply a secret only at initialisation."""
    result = []
    for name in enabled:
        svc = services[name]
        for key in svc.get("init_only") or []:
            if key in svc["secret_env"]:
                result.append({"service": name, "secret": svc["secret_env"][key], "via": "env " + key})
            elif key in svc["secret_files"]:
                result.append({"service": name, "secret": svc["secret_files"][key],
                               "via": "file /run/secrets/" + key})
    return result
