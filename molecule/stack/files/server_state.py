"""Print, as one JSON line, what an OMERO.server holds for the stack scenario's checks.

Run with the server's Python inside its container, root's password on stdin:
groups (name -> permission string), users (name -> groups, default group, admin
privileges) and the registered scripts (repository paths). Only omero-py calls the
collection's modules make too, so it reads a real server the same way as the stand-in.
"""

import json
import sys

import omero

client = omero.client("localhost", 4064)
try:
    session = client.createSession("root", sys.stdin.read())
    admin = session.getAdminService()
    all_groups = admin.lookupGroups()
    names = {g.getId().val: g.getName().val for g in all_groups}
    users = {}
    for exp in admin.lookupExperimenters():
        try:
            default = admin.getDefaultGroup(exp.getId().val).getName().val
        except omero.ServerError:
            default = None
        users[exp.getOmeName().val] = {
            "groups": sorted(names[gid] for gid in admin.getMemberOfGroupIds(exp)),
            "default_group": default,
            "admin_privileges": sorted(p.getValue().val for p in admin.getAdminPrivileges(exp)),
        }
    print(json.dumps({
        "groups": {g.getName().val: str(g.getDetails().getPermissions()) for g in all_groups},
        "users": users,
        "scripts": sorted(f.getPath().val + f.getName().val for f in session.getScriptService().getScripts()),
    }, sort_keys=True))
finally:
    client.closeSession()
