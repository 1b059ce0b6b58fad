# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Action plugin: compute the site model on the controller (see the site_model module docs)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import hashlib
import json
import os
import subprocess

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.omero_docker.stack.plugins.module_utils import app_wheel, project_wheel
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import accounts
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import secrets as secretlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.images import is_wheel_file
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import (
    DICT_VARIABLES,
    LIST_VARIABLES,
    OUTPUT_VARIABLES,
    SITE_DEFAULTS,
    build_site_model,
    secrets_needed,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import PluginError

SITE_VARIABLES = DICT_VARIABLES + LIST_VARIABLES


def _plain(value):
    """Templated values as plain Python types (no tagged/lazy containers)."""
    return json.loads(json.dumps(value, default=to_text))


def _text(path):
    """A file's UTF-8 text, or None."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("fact_name", "return_secret_values", "image_ids"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec={
            "fact_name": {"type": "str", "default": "omero_site_model"},
            "return_secret_values": {"type": "bool", "default": False},
            "image_ids": {"type": "dict", "default": {}},
        })

        site = {}
        names = [k for k in task_vars if k.startswith("omero_site_") and k not in OUTPUT_VARIABLES]
        names += [k for k in SITE_VARIABLES if k in task_vars]
        try:
            for name in sorted(set(names)):
                site[name] = _plain(self._templar.template(task_vars[name]))
        except Exception as exc:  # noqa: BLE001 - report any templating error against its variable
            result.update(failed=True, msg="Could not read the site variable %s: %s" % (name, to_text(exc)))
            return result
        given = site.get("omero_secrets") if isinstance(site.get("omero_secrets"), dict) else {}
        secret_values = dict((k, v) for k, v in given.items() if v is not None)
        generated = []
        warnings = []
        if site.get("omero_site_generate_secrets") is True:
            try:
                generated, warnings = self._generated_secrets(site, secret_values)
            except (OSError, ValueError) as exc:
                result.update(failed=True, msg="omero_site_secrets_store: cannot use the secrets store: %s"
                              % to_text(exc))
                return result
        try:
            model = build_site_model(site, secret_values, generated=generated, local_files=self._local_files(site),
                                     image_ids=_plain(args["image_ids"]))
        except SiteModelError as exc:
            result.update(failed=True, msg=exc.format(),
                          errors=[{"variable": v, "message": m} for v, m in exc.errors])
            return result
        result["changed"] = False
        if warnings:
            result["warnings"] = warnings
        if args["return_secret_values"]:
            # Only for tasks that write secrets: no fact is set, and the whole result is censored.
            result["secret_values"] = dict((k, secret_values[k]) for k in model["secrets"] if k in secret_values)
            # The passwords of omero_users, which the model's bootstrap.users leave out.
            result["user_passwords"] = accounts.user_passwords(site)
            result["_ansible_no_log"] = True
        else:
            # Where the generated secrets are (a path, never a value), for reports.
            model["site"]["secrets_store"] = (self._store_path(site)
                                              if site.get("omero_site_generate_secrets") is True else "")
            result["ansible_facts"] = {args["fact_name"]: model}
        return result

    def _local_files(self, site):
        """Wheel files and script files named in the site description, found like `copy: src=`
        finds files (the play's files/ directories, or an absolute path), with their digests;
        scripts with their text too (None when it is not UTF-8), which the bootstrap registers."""
        specs = [p.get("pip") for p in (site.get("omero_web_plugins") or []) if isinstance(p, dict)]
        specs += list(site.get("omero_server_cli_plugins") or [])
        # Site scripts given by src (read by the bootstrap with the file lookup).
        scripts = [s.get("src") for s in (site.get("omero_scripts") or []) if isinstance(s, dict)]
        scripts = [s for s in scripts if isinstance(s, str) and s]
        found = {}
        for spec in specs + scripts:
            if not (is_wheel_file(spec) or spec in scripts) or spec in found:
                continue
            try:
                path = spec if os.path.isabs(spec) else self._find_needle("files", spec)
            except AnsibleError:
                continue  # the site model reports it, naming the variable
            if not os.path.isfile(path):
                continue
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            found[spec] = {"path": path, "sha256": digest.hexdigest()}
            if spec in scripts:
                found[spec]["content"] = _text(path)
        for plugin in site.get("omero_web_plugins") or []:
            if isinstance(plugin, dict) and "src" in plugin and not app_wheel.src_problem(plugin["src"]):
                found.setdefault(app_wheel.src_key(plugin["src"]), self._app_folder(plugin))
        return found

    def _app_folder(self, plugin):
        """A plugin's folder (omero_web_plugins[].src): a plain app folder packaged, or a Python
        project built (project_wheel), as a wheel in the controller's cache: {path, sha256,
        requires}, {problem}, or None when the folder is not found."""
        src = plugin["src"]
        cache = app_wheel.controller_cache()
        try:
            if isinstance(src, dict):
                folder = app_wheel.git_checkout(src, cache, self._run_local)
            else:
                try:
                    folder = src if os.path.isabs(src) else self._find_needle("files", src)
                except AnsibleError:
                    return None
                if not os.path.isdir(folder):
                    return None
            packed = project_wheel.folder_wheel(folder, str(plugin.get("name") or plugin.get("app")),
                                                str(plugin.get("app")), plugin.get("version"), self._run_local,
                                                cache_dir=cache)
            path = app_wheel.write_wheel(packed, cache)
        except (PluginError, OSError, UnicodeDecodeError) as exc:
            return {"problem": to_text(exc)}
        return {"path": path, "sha256": packed["sha256"], "requires": packed["requires"]}

    @staticmethod
    def _run_local(argv, cwd, env=None):
        """Run a command on the controller (git, pip wheel): (rc, stdout, stderr); ``env`` added."""
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                              env=dict(os.environ, GIT_TERMINAL_PROMPT="0", **(env or {})))
        return proc.returncode, proc.stdout, proc.stderr

    @staticmethod
    def _store_path(site):
        """Where generated secrets are kept on the controller."""
        site_name = site.get("omero_site_name") or SITE_DEFAULTS["omero_site_name"]
        store = site.get("omero_site_secrets_store") or secretlib.default_store_path(str(site_name))
        return os.path.expanduser(str(store))

    def _generated_secrets(self, site, secret_values):
        """Fill missing required secrets from the controller store, generating new ones."""
        store = self._store_path(site)
        missing = [n for n in secrets_needed(site) if n not in secret_values]
        if not missing:
            return [], []
        directory = os.path.dirname(store)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        warnings = []
        with open(os.path.join(directory, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            stored = secretlib.read_store(store)
            if os.path.exists(store) and (os.stat(store).st_mode & 0o077):
                os.chmod(store, 0o600)
                warnings.append("%s was readable by others; its mode is now 0600" % store)
            new = [n for n in missing if n not in stored]
            for name in new:
                stored[name] = secretlib.generate()
            if new:
                if self._task.check_mode:
                    warnings.append("check mode: generated %s for this run only; a real run stores them in %s"
                                    % (", ".join(new), store))
                else:
                    secretlib.write_store(store, stored)
            for name in missing:
                secret_values[name] = stored[name]
        return missing, warnings
