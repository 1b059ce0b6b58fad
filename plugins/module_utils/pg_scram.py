# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""PostgreSQL password verifiers, with the standard library only.

PostgreSQL stores a role's password in ``pg_authid.rolpassword`` as a verifier, never as
plain text:

- ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (RFC 5802 and RFC 7677;
  salt and keys in base64), the default since PostgreSQL 14;
- ``md5<hex md5(password + user name)>``, the older format.

``matches`` tells whether a plain password matches a verifier (so a deploy can leave an
unchanged password alone), ``scram_verifier`` builds a SCRAM-SHA-256 verifier for
``ALTER ROLE ... PASSWORD '<verifier>'`` (PostgreSQL stores a verifier it is given as
is, so the plain password never reaches the server or its log).

Passwords are normalised with SASLprep (RFC 4013) exactly where PostgreSQL does it
(src/common/saslprep.c): a pure ASCII password is used as is; otherwise, the SASLprep
form when it exists, else the raw UTF-8 bytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import hmac
import os
import re
import stringprep
import unicodedata

SCRAM_PREFIX = "SCRAM-SHA-256"
# PostgreSQL's defaults (scram_iterations, SCRAM_DEFAULT_SALT_LEN).
DEFAULT_ITERATIONS = 4096
DEFAULT_SALT_LENGTH = 16
_SCRAM_RE = re.compile(r"^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$")
_MD5_RE = re.compile(r"^md5[0-9a-f]{32}$")

# RFC 4013 section 2.3 (as in PostgreSQL's prohibited_output_ranges).
_PROHIBITED = (
    stringprep.in_table_c12, stringprep.in_table_c21, stringprep.in_table_c22, stringprep.in_table_c3,
    stringprep.in_table_c4, stringprep.in_table_c5, stringprep.in_table_c6, stringprep.in_table_c7,
    stringprep.in_table_c8, stringprep.in_table_c9, stringprep.in_table_a1,
)


class VerifierError(ValueError):
    """A value that is not a verifier this module can build or check."""


def saslprep(password):
    """The SASLprep form of ``password`` (str), or None where PostgreSQL would use the raw bytes.

    PostgreSQL returns a pure ASCII string unchanged (even with control characters) and
    falls back to the raw password when SASLprep prohibits a character.
    """
    if all(ord(c) < 0x80 for c in password):
        return password
    mapped = []
    for c in password:
        if stringprep.in_table_b1(c):
            continue  # commonly mapped to nothing
        mapped.append(" " if stringprep.in_table_c12(c) else c)
    text = unicodedata.normalize("NFKC", "".join(mapped))
    if any(check(c) for c in text for check in _PROHIBITED):
        return None
    if any(stringprep.in_table_d1(c) for c in text):
        # RFC 3454 section 6: no LCat character, and RandALCat first and last.
        if any(stringprep.in_table_d2(c) for c in text):
            return None
        if not (stringprep.in_table_d1(text[0]) and stringprep.in_table_d1(text[-1])):
            return None
    return text


def _password_bytes(password):
    if not isinstance(password, str):
        raise VerifierError("the password must be a string")
    prepared = saslprep(password)
    try:
        return (password if prepared is None else prepared).encode("utf-8")
    except UnicodeEncodeError:
        raise VerifierError("the password is not valid Unicode text") from None


def _keys(password_bytes, salt, iterations):
    salted = hashlib.pbkdf2_hmac("sha256", password_bytes, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return stored_key, server_key


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def parse_scram(verifier):
    """(iterations, salt, stored_key, server_key) of a SCRAM-SHA-256 verifier, or None."""
    match = _SCRAM_RE.match(verifier or "")
    if not match:
        return None
    try:
        salt, stored_key, server_key = (base64.b64decode(match.group(i), validate=True) for i in (2, 3, 4))
    except (binascii.Error, ValueError):
        return None
    iterations = int(match.group(1))
    if iterations < 1 or not salt or len(stored_key) != 32 or len(server_key) != 32:
        return None
    return iterations, salt, stored_key, server_key


def scram_verifier(password, salt=None, iterations=DEFAULT_ITERATIONS):
    """A SCRAM-SHA-256 verifier of ``password`` in PostgreSQL's format.

    ``salt`` (bytes) defaults to 16 random bytes, as PostgreSQL does.
    """
    if salt is None:
        salt = os.urandom(DEFAULT_SALT_LENGTH)
    if not isinstance(salt, bytes) or not salt:
        raise VerifierError("the salt must be non-empty bytes")
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 1:
        raise VerifierError("iterations must be a positive integer")
    stored_key, server_key = _keys(_password_bytes(password), salt, iterations)
    return "%s$%d:%s$%s:%s" % (SCRAM_PREFIX, iterations, _b64(salt), _b64(stored_key), _b64(server_key))


def verifier_kind(verifier):
    """``scram-sha-256``, ``md5`` or None (no verifier, or one this module does not know)."""
    if parse_scram(verifier):
        return "scram-sha-256"
    if _MD5_RE.match(verifier or ""):
        return "md5"
    return None


def matches(verifier, password, user=None):
    """Whether ``password`` matches the stored ``verifier`` (SCRAM-SHA-256, or md5 with ``user``).

    An empty or unknown verifier matches nothing (a role without a password needs one).
    """
    if not isinstance(password, str):
        raise VerifierError("the password must be a string")
    verifier = (verifier or "").strip()
    scram = parse_scram(verifier)
    if scram:
        iterations, salt, stored_key, server_key = scram
        computed = _keys(_password_bytes(password), salt, iterations)
        return hmac.compare_digest(computed[0], stored_key) and hmac.compare_digest(computed[1], server_key)
    if _MD5_RE.match(verifier):
        if not user:
            raise VerifierError("an md5 verifier can only be checked with the role's name")
        digest = hashlib.md5((password + user).encode("utf-8")).hexdigest()  # noqa: S324 - PostgreSQL's md5 format
        return hmac.compare_digest("md5" + digest, verifier)
    return False
