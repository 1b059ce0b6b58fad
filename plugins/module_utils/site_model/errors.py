# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""The one error the site model raises: every problem found, each naming its variable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class SiteModelError(Exception):
    """Raised with a list of ``(variable, message)`` problems."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(SiteModelError, self).__init__(self.format())

    @property
    def variables(self):
        return [error[0] for error in self.errors]

    def format(self):
        lines = ["The site description has %d problem(s); nothing was changed:" % len(self.errors)]
        for var, msg in self.errors:
            lines.append("- %s: %s" % (var, msg))
        return "\n".join(lines)
