"""Static checks of roles/omero_bootstrap that need no OMERO.server and no Ansible run."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
ROLE = REPO_ROOT / "roles" / "omero_bootstrap"


def _yaml(rel):
    return yaml.safe_load((ROLE / rel).read_text())


def test_every_default_is_in_the_argument_spec():
    defaults = set(_yaml("defaults/main.yml"))
    options = set(_yaml("meta/argument_specs.yml")["argument_specs"]["main"]["options"])
    assert defaults <= options, sorted(defaults - options)
    assert all(name.startswith("omero_bootstrap_") for name in defaults)


def test_reads_the_site_model_not_the_raw_site_lists():
    """The lists come validated and shaped from omero_site_model.bootstrap; the role reads
    none of the site variables the model checks, and checks none of them again."""
    for rel in ("defaults/main.yml", "vars/main.yml", "tasks/main.yml"):
        text = "\n".join(line for line in (ROLE / rel).read_text().splitlines()
                         if not line.lstrip().startswith("#"))
        for raw in ("omero_groups", "omero_users", "omero_scripts", "omero_server_config"):
            assert not re.search(r"\b%s\b(?!-)" % raw, text), (rel, raw)  # not omero_scripts-X.dist-info
    assert not any("ansible.builtin.assert" in task and "omero_bootstrap_scripts" in str(task)
                   for task, _parents in _tasks())


def test_defaults_come_from_the_model():
    from ansible.template import trust_as_template

    defaults = _yaml("defaults/main.yml")
    variables = {k: trust_as_template(v) if isinstance(v, str) else v
                 for k, v in dict(_yaml("vars/main.yml"), **defaults).items()}
    scripts = {"official": ["*"], "official_version": "5.9.0", "site": [{"path": "/f/A.py", "content": "x"}]}
    model = {"bootstrap": {"read_write": False, "groups": [{"name": "lab"}], "users": [{"name": "u"}],
                           "scripts": scripts}}
    seen = dict(variables, omero_site_model=model)
    assert _template(defaults["omero_bootstrap_enabled"], seen) is False
    assert _template(defaults["omero_bootstrap_groups"], seen) == [{"name": "lab"}]
    assert _template(defaults["omero_bootstrap_users"], seen) == [{"name": "u"}]
    assert _template(variables["_omero_bootstrap_official"], seen) == ["*"]
    assert _template(variables["_omero_bootstrap_site_scripts"], seen) == scripts["site"]
    assert _template(variables["_omero_bootstrap_version"], seen) == "5.9.0"
    # without a model (or a pin): nothing to apply, the role's own pinned release
    bare = dict(variables)
    assert _template(defaults["omero_bootstrap_enabled"], bare) is True
    assert _template(defaults["omero_bootstrap_users"], bare) == []
    assert _template(variables["_omero_bootstrap_official"], bare) == []
    assert _template(variables["_omero_bootstrap_version"], bare) == defaults["omero_bootstrap_scripts_version"]


def test_pinned_omero_scripts_is_the_one_the_tests_install():
    pins = dict(
        line.split("==", 1)
        for line in (REPO_ROOT / "requirements" / "omero.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert _yaml("defaults/main.yml")["omero_bootstrap_scripts_version"] == pins["omero-scripts"]


def test_job_service_user_is_sudo_only_by_default():
    defaults = _yaml("defaults/main.yml")
    assert defaults["omero_bootstrap_job_service_privileges"] == ["Sudo"]


def test_secrets_are_no_log_in_the_spec():
    options = _yaml("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    for name in ("omero_bootstrap_admin_password", "omero_bootstrap_job_service_password"):
        assert options[name]["no_log"] is True


def _tasks():
    """Every task of tasks/main.yml, blocks flattened, in order (with its enclosing blocks)."""
    out = []

    def walk(items, parents):
        for task in items:
            out.append((task, parents))
            for key in ("block", "rescue", "always"):
                if key in task:
                    walk(task[key], parents + [task])

    walk(_yaml("tasks/main.yml"), [])
    return out


def _task(name):
    for task, parents in _tasks():
        if task.get("name") == name:
            return task, parents
    raise AssertionError("no task named %r" % name)


def _template(expr, variables):
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expr))


def test_module_payloads_are_piped_not_written_into_the_container():
    """Every OMERO module runs through the docker-exec interpreter with pipelining."""
    wrapper, _parents = _task("Interpreter (docker exec into the omeroserver container)")
    assert "exec docker exec -i -u" in wrapper["ansible.builtin.copy"]["content"]
    assert wrapper["ansible.builtin.copy"]["mode"] == "0700"
    seen = 0
    for task, parents in _tasks():
        if not any(key.startswith("omero_docker.stack.omero_") for key in task):
            continue
        seen += 1
        scopes = [p.get("vars") or {} for p in parents] + [task.get("vars") or {}]
        assert any(v.get("ansible_pipelining") is True for v in scopes), task["name"]
        assert any(v.get("ansible_python_interpreter") == "{{ omero_bootstrap_interpreter }}" for v in scopes), \
            task["name"]
    assert seen >= 5


def test_job_service_password_is_always_applied():
    task, _parents = _task("Users, the job-service user first (a restricted administrator)")
    assert "'update_password': 'always'" in task["vars"]["_omero_bootstrap_job_service"]
    # the other users keep the site's policy
    policy = task["omero_docker.stack.omero_user"]["update_password"]
    assert policy == "{{ omero_bootstrap_update_password }}"  # noqa: S105 - a template, not a password


def test_wait_stops_only_on_wrong_credentials_or_missing_library():
    task, _parents = _task("Log in to OMERO.server (retried until it is ready, at most omero_bootstrap_wait_timeout s)")
    assert "['bad_credentials', 'missing_library']" in task["until"]
    assert "not_ready" not in task["until"]
    assert "omero_bootstrap_wait_timeout" in task["until"]  # a deadline, even with slow attempts


def test_every_omero_call_has_the_invocation_timeout():
    for task, _parents in _tasks():
        for module in ("omero_group", "omero_user", "omero_script"):
            args = task.get("omero_docker.stack." + module)
            if args is not None:
                assert "invocation_timeout" in args, task["name"]


def test_root_password_rotation_keeps_the_old_value_until_the_new_one_works():
    names = [task.get("name") for task, _parents in _tasks()]
    change, parents = _task("Change root's password, logged in with the one applied last")
    args = change["omero_docker.stack.omero_user"]
    assert args["password"] == "{{ _omero_bootstrap_root_previous }}"  # noqa: S105 - a template
    assert args["users"] == [{"name": "root", "password": "{{ omero_bootstrap_admin_password }}",
                              "update_password": "always"}]
    assert change["no_log"] is True
    assert "bad_credentials" in parents[-1]["when"]
    verify, _parents = _task("Log in with the new root password")
    new = verify["omero_docker.stack.omero_group"]["password"]
    assert new == "{{ omero_bootstrap_admin_password }}"  # noqa: S105 - a template
    write, _parents = _task("Root password that works (root-only file, never shown)")
    copy = write["ansible.builtin.copy"]
    assert copy["mode"] == "0600" and copy["owner"] == "root"
    assert copy["content"] == "{{ omero_bootstrap_admin_password }}"
    assert write["no_log"] is True and write["diff"] is False
    # old value read before the wait, new value written only after the check of the new one
    assert (names.index("Read the root password applied last")
            < names.index("Change root's password, logged in with the one applied last")
            < names.index("Log in with the new root password")
            < names.index("Fail when the new root password does not log in")
            < names.index("Root password that works (root-only file, never shown)"))
    directory, _parents = _task("Directory of the applied root password (root only)")
    assert directory["ansible.builtin.file"]["mode"] == "0700"


def test_every_task_that_reads_a_password_value_is_no_log():
    secret_refs = ("_omero_bootstrap_root_previous", "_omero_bootstrap_applied.content",
                   "omero_bootstrap_admin_password", "_omero_bootstrap_login")
    module_keys = ("omero_docker.stack.omero_group", "omero_docker.stack.omero_user", "omero_docker.stack.omero_script")
    for task, _parents in _tasks():
        if "block" in task:
            continue
        args = next((task[k] for k in module_keys if k in task), None)
        if args is not None and "_omero_bootstrap_root_previous" not in str(args):
            # module calls: their password options are no_log in the modules' own specs
            continue
        if "ansible.builtin.fail" in task:
            # messages name the variables, never print their values
            msg = re.sub(r"\s+", " ", str(task["ansible.builtin.fail"]["msg"]))
            expressions = " ".join(re.findall(r"\{\{.*?\}\}|\{%.*?%\}", msg))
            assert not any(ref in expressions for ref in secret_refs), task["name"]
            continue
        text = yaml.safe_dump({k: v for k, v in task.items() if k not in ("name", "when", "failed_when")})
        if any(ref in text for ref in secret_refs) or "slurp" in text:
            assert task.get("no_log") is True, task["name"]


def test_root_password_file_default_comes_from_the_site_model():
    defaults = _yaml("defaults/main.yml")
    expr = defaults["omero_bootstrap_root_password_file"]
    model = {"paths": {"secrets": "/srv/omero/secrets"}}
    assert _template(expr, {"omero_site_model": model}) == "/srv/omero/secrets/.applied/omero_root_password"
    assert _template(expr, {}) == ""


def test_managed_script_folders_default_to_the_site_model_list():
    expr = _yaml("defaults/main.yml")["omero_bootstrap_scripts_managed_folders"]
    assert _template(expr, {}) == []
    assert _template(expr, {"omero_site_model": {"omero": {}}}) == []
    model = {"omero": {"script_folders": ["/site", "/opt/omero/server/OMERO.server/lib/scripts/lab"]}}
    assert _template(expr, {"omero_site_model": model}) == ["/site", "/lab"]


def test_readme_says_what_ready_means():
    readme = (ROLE / "README.md").read_text()
    assert "a real login as" in readme and "4064" in readme and "internal server error" in readme
