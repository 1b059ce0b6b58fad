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
  invocation_timeout:
    description:
      - Seconds every remote call waits at most for the server's answer
        (C(Ice.Default.InvocationTimeout)), so that a wedged server cannot block a run;
        the module then fails with C(error_kind=timeout).
      - Long server-side work is not bound by it; it is polled with short calls and has
        its own limit (for example O(omero_docker.stack.omero_group#module:chmod_timeout)).
      - V(0) means no limit.
    type: int
    default: 300
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
    server answers but does not accept logins yet), C(bad_credentials), C(timeout) (no
    answer within O(invocation_timeout)), C(missing_library) or C(error).
  - C(bad_credentials) means that OMERO's password check refused the login (a
    C(Glacier2.PermissionDeniedException) whose reason starts with C(Password check failed)).
    While OMERO.server starts, its router refuses every login with the reason
    C(internal server error) until Blitz is up; that is C(not_ready), like the server's
    other refusals that are not about the password.
"""
