"""roles/omero_bootstrap run for real by ansible-playbook, against FAKE omero_* modules.

What is tested here is the role's own logic: the bounded wait (not_ready is retried,
wrong credentials stop it), the root password rotation (the old value logs in, the new
one is set and checked, and only then recorded on the host), check mode, and that no
password value is printed at -v --diff. The modules themselves are tested against the
autospec fake of omero-py (test_omero_*_module.py); here they are replaced by small
stand-ins with the same options and results that keep a server's passwords in a JSON
file. The delegated container connection is forced to `local` with an extra var.
community.docker.docker_container_info is FAKE too (no container runs here): it returns
the id and start time kept in the same JSON file, as the real module's `container`
(the inspect) holds them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import playbook

REPO_ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.playbook

_COMMON = r'''
import json, os
from ansible.module_utils.basic import AnsibleModule

CONNECTION = dict(host=dict(type="str", default="localhost"), port=dict(type="int", default=4064),
                  user=dict(type="str", default="root"), password=dict(type="str", required=True, no_log=True),
                  connect_timeout=dict(type="int", default=30), invocation_timeout=dict(type="int", default=300))


def state():
    with open(os.environ["FAKE_OMERO_STATE"]) as handle:
        return json.load(handle)


def save(data):
    with open(os.environ["FAKE_OMERO_STATE"], "w") as handle:
        json.dump(data, handle)


def login(module, user=None, password=None):
    data = state()
    user = user or module.params["user"]
    password = module.params["password"] if password is None else password
    data["logins"].append(user)
    if data["starting"] > 0:
        data["starting"] -= 1
        save(data)
        module.fail_json(msg="OMERO.server answers but does not accept logins yet (internal server error)",
                         error_kind="not_ready")
    save(data)
    if data["passwords"].get(user) != password:
        module.fail_json(msg="OMERO.server refused the login of user %r: wrong user name or password" % user,
                         error_kind="bad_credentials")
    return data
'''

FAKE_MODULES = {
    "site_model": r'''
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec=dict(return_secret_values=dict(type="bool")), supports_check_mode=True)
module.exit_json(changed=False, secret_values={}, user_passwords={"alice": "alice-pw-5555"})
''',
    "omero_group": _COMMON + r'''
spec = dict(CONNECTION, groups=dict(type="list", elements="dict", required=True), chmod_timeout=dict(type="int"))
module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
login(module)
module.exit_json(changed=False, created=[], updated=[], groups=[])
''',
    "omero_user": _COMMON + r'''
spec = dict(CONNECTION, users=dict(type="list", elements="dict", required=True,
                                   options=dict(name=dict(type="str", required=True),
                                                password=dict(type="str", no_log=True),
                                                update_password=dict(type="str", no_log=False),
                                                admin_privileges=dict(type="list", elements="str"))),
            update_password=dict(type="str", default="on_create", no_log=False))
module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
data = login(module)
changed = []
for user in module.params["users"]:
    data["users"][user["name"]] = user.get("update_password") or module.params["update_password"]
    data.setdefault("user_passwords", {})[user["name"]] = user.get("password")
    if user["name"] == "root" and data["passwords"]["root"] != user["password"]:
        changed.append("root")
        if not module.check_mode:
            data["passwords"]["root"] = user["password"]
            data["writes"].append("changeUserPassword root")
save(data)
module.exit_json(changed=bool(changed), created=[], updated=changed, password_changed=changed, skipped=[],
                 users=[])
''',
    "omero_script": _COMMON + r'''
spec = dict(CONNECTION, official=dict(type="list"), official_version=dict(type="str"),
            official_search_path=dict(type="list"), scripts=dict(type="list"), prune=dict(type="bool"),
            managed_folders=dict(type="list"))
module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
login(module)
module.exit_json(changed=False, added=[], replaced=[], removed=[], unchanged=[])
''',
}

FAKE_DOCKER_CONTAINER_INFO = r'''
import json, os
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec=dict(name=dict(type="str", required=True)), supports_check_mode=True)
with open(os.environ["FAKE_OMERO_STATE"]) as handle:
    container = json.load(handle).get("container")
module.exit_json(changed=False, exists=container is not None, container=container)
'''

PLAYBOOK = [{
    "name": "bootstrap",
    "hosts": "omero",
    "gather_facts": False,
    "roles": [{"role": "omero_docker.stack.omero_bootstrap"}],
}]


@pytest.fixture
def site(tmp_path):
    """A collection tree with the real role and fake modules, an inventory, a state file."""
    coll = tmp_path / "collections" / "ansible_collections" / "omero_docker" / "stack"
    (coll / "roles").mkdir(parents=True)
    (coll / "roles" / "omero_bootstrap").symlink_to(REPO_ROOT / "roles" / "omero_bootstrap")
    (coll / "plugins" / "modules").mkdir(parents=True)
    for name, code in FAKE_MODULES.items():
        (coll / "plugins" / "modules" / (name + ".py")).write_text("#!/usr/bin/python\n" + code)
    docker = tmp_path / "collections" / "ansible_collections" / "community" / "docker" / "plugins" / "modules"
    docker.mkdir(parents=True)
    (docker / "docker_container_info.py").write_text("#!/usr/bin/python\n" + FAKE_DOCKER_CONTAINER_INFO)
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump(PLAYBOOK))
    applied = tmp_path / "secrets" / ".applied" / "omero_root_password"
    record = tmp_path / "secrets" / ".applied" / "omero_bootstrap"
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"children": {"omero": {"hosts": {
        "omero-host": {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "omero_site_model": {"paths": {"secrets": str(tmp_path / "secrets")},
                                 "bootstrap": {"read_write": True, "groups": [], "users": [{"name": "alice"}],
                                               "scripts": {"official": [], "official_version": None,
                                                           "site": []}}},
            "omero_bootstrap_wait_delay": 1,
            "omero_bootstrap_wait_timeout": 20,
            "omero_bootstrap_job_service_password": "job-service-pw-4711",
            "omero_bootstrap_server_log": str(tmp_path / "no-such-Blitz-0.log"),
        }}}}}}))
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"passwords": {"root": "first-root-pw-1234", "job-service": "x"},
                                 "starting": 0, "logins": [], "writes": [], "users": {},
                                 "container": {"Id": "c0ffee", "State": {"StartedAt": "2026-12-04T10:00:00Z"}}}))

    class Site:
        path = tmp_path

        @staticmethod
        def server():
            return json.loads(state.read_text())

        @staticmethod
        def set(**values):
            data = json.loads(state.read_text())
            data.update(values)
            state.write_text(json.dumps(data))

        applied_file = applied
        record_file = record

        last = None

        @staticmethod
        def run(root_password, *args):
            """Run the role at -v --diff (json callback, tests/helpers/playbook.py): (rc, output)."""
            env = {"FAKE_OMERO_STATE": str(state), "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
                   "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")}
            extra = {"omero_bootstrap_admin_password": root_password,
                     # the container's interpreter of the OMERO tasks
                     "omero_bootstrap_interpreter": str(tmp_path / "bin" / "python"),
                     "ansible_connection": "local",
                     "ansible_python_interpreter": sys.executable}
            done = playbook.run_playbook(tmp_path / "playbook.yml", tmp_path / "inventory.yml", "-v", "--diff",
                                         "-e", json.dumps(extra), *args, env=env, timeout=240)
            Site.last = done
            return done.rc, done.output

        @staticmethod
        def changed():
            return Site.last.stats("omero-host")["changed"]

    return Site()


SECRETS = ("first-root-pw-1234", "second-root-pw-5678", "third-root-pw-9012", "job-service-pw-4711",
           "alice-pw-5555")


def _assert_no_secret(output):
    for value in SECRETS:
        assert value not in output, "a password is printed"


def test_first_run_records_the_root_password_then_changes_nothing(site):
    rc, out = site.run("first-root-pw-1234")
    assert rc == 0, out
    _assert_no_secret(out)
    assert site.applied_file.read_text() == "first-root-pw-1234"
    assert oct(site.applied_file.stat().st_mode & 0o777) == "0o600"
    assert oct(site.applied_file.parent.stat().st_mode & 0o777) == "0o700"
    # the job-service user's password is always applied; the others keep the policy
    assert site.server()["users"]["job-service"] == "always"
    # the site model's users get their passwords from the secret values, never printed
    assert site.server()["user_passwords"] == {"job-service": "job-service-pw-4711", "alice": "alice-pw-5555"}
    rc, out = site.run("first-root-pw-1234")
    assert rc == 0 and site.changed() == 0, out


def test_login_refused_while_blitz_starts_is_waited_for(site):
    site.set(starting=3)
    rc, out = site.run("first-root-pw-1234")
    assert rc == 0, out
    assert site.server()["starting"] == 0


def test_changed_root_password_is_applied_with_the_one_recorded(site):
    assert site.run("first-root-pw-1234")[0] == 0
    # check mode: reports, changes nothing on the server or the host
    rc, out = site.run("second-root-pw-5678", "--check")
    assert rc == 0, out
    _assert_no_secret(out)
    assert "root's password would be changed" in out
    assert site.server()["passwords"]["root"] == "first-root-pw-1234"
    assert site.applied_file.read_text() == "first-root-pw-1234"
    # for real
    rc, out = site.run("second-root-pw-5678")
    assert rc == 0, out
    _assert_no_secret(out)
    assert site.server()["passwords"]["root"] == "second-root-pw-5678"
    assert site.server()["writes"] == ["changeUserPassword root"]
    assert site.applied_file.read_text() == "second-root-pw-5678"
    rc, out = site.run("second-root-pw-5678")
    assert rc == 0 and site.changed() == 0, out


def test_neither_password_works_fails_and_keeps_the_recorded_one(site):
    assert site.run("first-root-pw-1234")[0] == 0
    record = site.record_file.read_text()
    site.set(passwords={"root": "set-elsewhere-pw", "job-service": "x"})
    rc, out = site.run("third-root-pw-9012")
    assert rc != 0
    _assert_no_secret(out)
    assert "neither the new password nor the one applied last" in out
    assert site.applied_file.read_text() == "first-root-pw-1234"
    # the record of the last run that worked stays: the next run applies again
    assert site.record_file.read_text() == record


def test_wrong_password_without_a_recorded_one_stops_the_wait_at_once(site):
    rc, out = site.run("third-root-pw-9012")
    assert rc != 0
    _assert_no_secret(out)
    assert "The password is wrong" in out
    assert site.server()["logins"] == ["root"]  # one attempt, no retries
    assert not site.applied_file.exists()


def test_an_external_server_is_not_bootstrapped_and_the_role_says_why(site):
    model = {"paths": {"secrets": str(site.path / "secrets")},
             "bootstrap": {"read_write": True, "external_server": {"host": "omero.example.org", "port": 4064},
                           "groups": [{"name": "lab"}], "users": [{"name": "alice"}],
                           "scripts": {"official": [], "official_version": None, "site": []}}}
    rc, out = site.run("first-root-pw-1234", "-e", json.dumps({"omero_site_model": model,
                                                               "omero_bootstrap_enabled": True}))
    assert rc == 0, out
    assert "omero_bootstrap skipped: OMERO.server is external (omero.example.org:4064" in out
    assert "1 group(s), 1 user(s)" in out
    assert site.server()["logins"] == []
    assert not site.applied_file.exists()
    assert site.changed() == 0


def test_a_run_with_the_inputs_and_container_of_the_record_skips_the_bootstrap(site):
    assert site.run("first-root-pw-1234")[0] == 0
    record = site.record_file.read_text()
    assert oct(site.record_file.stat().st_mode & 0o777) == "0o600"
    salt, digest = record.split(":")
    assert len(salt) == 16 and len(digest) == 64
    for value in SECRETS:
        assert value not in record
    logins = len(site.server()["logins"])
    # the same inputs, the same container: no login, nothing changed, the record kept
    rc, out = site.run("first-root-pw-1234")
    assert rc == 0 and site.changed() == 0, out
    assert "OMERO bootstrap skipped" in out
    assert len(site.server()["logins"]) == logins
    assert site.record_file.read_text() == record
    # check mode skips the same way
    rc, out = site.run("first-root-pw-1234", "--check")
    assert rc == 0 and len(site.server()["logins"]) == logins, out


def test_a_changed_container_or_input_applies_again_and_is_then_recorded(site):
    assert site.run("first-root-pw-1234")[0] == 0
    changes = [
        ("restarted", {"container": {"Id": "c0ffee", "State": {"StartedAt": "2026-12-04T11:00:00Z"}}}, {}),
        ("recreated", {"container": {"Id": "decaf", "State": {"StartedAt": "2026-12-04T11:00:00Z"}}}, {}),
        ("user added", {}, {"omero_bootstrap_users": [{"name": "alice"}, {"name": "bob", "password": "bob-pw-0"}]}),
        ("job-service password", {}, {"omero_bootstrap_job_service_password": "job-service-pw-4712"}),
    ]
    for change, server, extra in changes:
        site.set(**server)
        logins = len(site.server()["logins"])
        rc, out = site.run("first-root-pw-1234", "-e", json.dumps(extra))
        assert rc == 0 and "OMERO bootstrap skipped" not in out, (change, out)
        assert len(site.server()["logins"]) > logins, change
    # the last one is recorded: the same run again skips
    logins = len(site.server()["logins"])
    rc, out = site.run("first-root-pw-1234", "-e", json.dumps(extra))
    assert rc == 0 and "OMERO bootstrap skipped" in out, out
    assert len(site.server()["logins"]) == logins
    # omero_bootstrap_force applies anyway
    rc, out = site.run("first-root-pw-1234", "-e", json.dumps(dict(extra, omero_bootstrap_force=True)))
    assert rc == 0 and len(site.server()["logins"]) > logins, out


def test_no_container_no_record_means_every_run_applies(site):
    site.set(container=None)
    assert site.run("first-root-pw-1234")[0] == 0
    assert not site.record_file.exists()
    logins = len(site.server()["logins"])
    rc, out = site.run("first-root-pw-1234")
    assert rc == 0 and "OMERO bootstrap skipped" not in out, out
    assert len(site.server()["logins"]) > logins
