# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Filters for PostgreSQL password verifiers (see plugins/module_utils/pg_scram.py).

- ``pg_verifier_matches``: whether a plain password matches a stored verifier
  (C(SCRAM-SHA-256$...) or C(md5...)), so a deploy changes a role's password only when it differs.
- ``pg_scram_verifier``: a new SCRAM-SHA-256 verifier of a password, for
  C(ALTER ROLE ... PASSWORD '<verifier>') (the plain password never reaches the server).

Use both only in tasks whose output is not logged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

from ansible.errors import AnsibleFilterError
from ansible_collections.omero_docker.stack.plugins.module_utils import pg_scram


def _text(value, what):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AnsibleFilterError("%s must be a string" % what)
    return str(value)


def pg_verifier_matches(verifier, password, user=None):
    try:
        return pg_scram.matches(_text(verifier, "the verifier"), _text(password, "the password"),
                                None if user is None else _text(user, "the user"))
    except pg_scram.VerifierError as exc:
        raise AnsibleFilterError("pg_verifier_matches: %s" % exc) from None


def pg_scram_verifier(password, salt=None, iterations=pg_scram.DEFAULT_ITERATIONS):
    raw_salt = None
    if salt is not None:
        try:
            raw_salt = base64.b64decode(_text(salt, "the salt"), validate=True)
        except (binascii.Error, ValueError):
            raise AnsibleFilterError("pg_scram_verifier: the salt must be base64") from None
    try:
        return pg_scram.scram_verifier(_text(password, "the password"), salt=raw_salt, iterations=int(iterations))
    except (pg_scram.VerifierError, ValueError, TypeError) as exc:
        raise AnsibleFilterError("pg_scram_verifier: %s" % exc) from None


class FilterModule(object):
    def filters(self):
        return {
            "pg_verifier_matches": pg_verifier_matches,
            "pg_scram_verifier": pg_scram_verifier,
        }
