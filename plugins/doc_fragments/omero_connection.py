# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Connection options of the omero_* modules (module_utils/omero_client.py).
    DOCUMENTATION = r"""
options:
  host:
    description:
      - Host name or address of the OMERO.server (its Glacier2 router).
      - Inside the omeroserver container this is C(localhost).
    type: str
    default: localhost
  port:
    description:
      - Port of the OMERO.server router (4064 for SSL).
    type: int
    default: 4064
  user:
    description:
      - Name of the OMERO user to log in as. It must be C(root) or an administrator
        with the privileges the module needs (for example C(ModifyGroup), C(ModifyUser),
        C(WriteScriptRepo)).
    type: str
    default: root
  password:
    description:
      - Password of O(user). Never logged.
    type: str
    required: true
  secure:
    description:
      - Keep the whole session on the encrypted (SSL) connection.
      - When V(false), the module logs in over SSL and then continues on the server's
        insecure router (C(omero.router.insecure)), as C(BlitzGateway(secure=False)) does.
    type: bool
    default: true
  group:
    description:
      - Name of the OMERO group to use as the session's security context.
    type: str
  connect_timeout:
    description:
      - Seconds to wait for a TCP connection to the server before failing with
        C(error_kind=unreachable).
    type: int
    default: 30
  session_timeout:
    description:
      - Idle timeout of the module's session, in seconds (C(UpdateSessionTimeoutRequest)).
        The module ends its session when it finishes; this only bounds how long a session
        left by an interrupted run stays open. Server default when not set.
    type: int
requirements:
  - omero-py (5.23 was tested) with zeroc-ice 3.6.5, importable by the Python that runs the module.
notes:
  - Expected failures end with a message and C(error_kind) in the result, never with a
    traceback; C(error_kind) is one of C(unreachable) (no connection), C(not_ready) (the
    server answers but does not accept logins yet), C(bad_credentials),
    C(missing_library) or C(error).
"""
