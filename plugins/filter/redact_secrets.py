# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Filter ``redact_secrets``: a text with every given secret value replaced by ``********``.

For the safe summaries that follow ``no_log`` tasks: an error message from a tool that
saw the secrets (an engine, psql, a CLI in a container) is shown with them blanked out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

MASK = "********"


def redact_secrets(text, values):
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if isinstance(values, dict):
        values = list(values.values())
    if not isinstance(values, (list, tuple)):
        raise AnsibleFilterError("redact_secrets: the values must be a list or a mapping of secret values")
    # Longest first, so that a value containing another is blanked out whole.
    for value in sorted((str(v) for v in values if v is not None and str(v) != ""), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


class FilterModule(object):
    def filters(self):
        return {"redact_secrets": redact_secrets}
