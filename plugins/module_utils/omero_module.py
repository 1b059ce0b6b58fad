# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What the main() functions of the omero_* modules share.

Each module builds its own AnsibleModule and checks its options before logging in;
then :func:`run_logged_in` logs in, runs the module's work, exits with its result and
turns every expected failure into ``fail_json`` (no traceback), logging out in all cases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.omero_docker.stack.plugins.module_utils import omero_client
from ansible_collections.omero_docker.stack.plugins.module_utils.omero_plan import PlanError


def named_entries_spec(**options):
    """Argument spec of a required list of dicts, each with a required ``name`` and ``options``."""
    return dict(type="list", elements="dict", required=True,
                options=dict(name=dict(type="str", required=True), **options))


def fail_on_repeated_names(module, option):
    """fail_json when two entries of the list ``option`` have the same name."""
    names = [entry["name"] for entry in module.params[option]]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        module.fail_json(msg="%s lists these names more than once: %s" % (option, ", ".join(repeated)))


def run_logged_in(module, what, work, *args):
    """Log in, ``exit_json(**work(module, session, *args))``, log out.

    A PlanError fails with its text, a failed extra login (omero_user tries passwords)
    with its ``error_kind``, an OMERO refusal or a call without an answer through
    :func:`omero_client.fail_server_error`, whose message names ``what`` (for example
    ``"group change"``).
    """
    session = omero_client.connect(module)
    try:
        module.exit_json(**work(module, session, *args))
    except PlanError as err:
        module.fail_json(msg=str(err))
    except omero_client.OmeroConnectionError as err:
        module.fail_json(msg=err.message, error_kind=err.kind)
    except omero_client.ice_error_types() as err:
        omero_client.fail_server_error(module, what, err)
    finally:
        session.close()
