# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The platform attribute of the modules that write files on a POSIX host (env_file, site_files).
    DOCUMENTATION = r"""
options: {}
attributes:
  platform:
    description: Target platforms.
    support: full
    platforms: posix
"""
