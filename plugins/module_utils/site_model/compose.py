# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The Compose definition of the site, and the files, env files and secret files it mounts.

:class:`Renderer` derives them for each enabled service from the checked site model.
Each service's definition carries the hash of its inputs (:data:`HASH_LABEL`): its
definition, its files, its environment and digests of its secrets, so that Compose
recreates exactly the services whose inputs changed; and one label per category of
these inputs (labels.py :func:`input_labels`), from which the change plan (plan.py)
says why. The labels are set after hashing: they are not inputs.
"""

from __future__ import annotations

import copy
import json
import posixpath

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import config_files as configlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import dashboards as dashboardlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import labels as labellib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import placeholders
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import scripts as scriptlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import secrets as secretlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import services as servicelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.image_refs import image_reference
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.omero_defaults import OMERO_FILE_NAME

# Defined in labels.py; imported from here too.
LABEL_PREFIX = labellib.LABEL_PREFIX
HASH_LABEL = labellib.HASH_LABEL
DOCKER_SOCKET = "/var/run/docker.sock"
_canonical_hash = labellib.canonical_hash


def _bind(source, target, read_only=True, **extra):
    bind = {"create_host_path": False}
    bind.update(extra)
    return {"type": "bind", "source": source, "target": target, "read_only": read_only, "bind": bind}


class Renderer:
    """Derives the files, env files, secrets and compose definition of each enabled service."""

    def __init__(self, catalog, settings, services, *, paths, used_paths, secrets, omero_files,
                 web_registration=None, script_folders=()):
        self.catalog = catalog
        self.settings = settings
        self.services = services
        self.paths = paths
        self.used_paths = used_paths
        self.values, self.given, self.generated = secrets
        self.omero_files = omero_files
        self.web_registration = web_registration
        self.script_folders = list(script_folders)
        self.enabled = servicelib.enabled(services)
        self.site_name = settings["omero_site_name"]
        self.context = placeholders.context(settings, services)
        self.files, self.env_files, self.secret_files, self.directories = [], [], [], []
        self.compose_services, self.compose_secrets, self.hashes = {}, {}, {}
        self.input_labels, self.restart_with = {}, {}
        self.secret_refs = {}

    def fill(self, value):
        """``value`` (YAML data) with its placeholders filled (placeholders.py)."""
        return placeholders.fill_data(value, self.context)

    def fill_text(self, value):
        """``value`` (a string) with its placeholders filled."""
        return placeholders.fill_text(value, self.context)

    def secret_ref(self, sname):
        if sname not in self.secret_refs:
            self.secret_refs[sname] = {
                "variable": "omero_secrets.%s" % sname,
                "source": "generated" if (sname in self.generated and sname not in self.given) else "inventory",
                "consumers": [],
                "description": (self.catalog["secrets"].get(sname) or {}).get("description", "site secret"),
            }
        return self.secret_refs[sname]

    def mounts(self, svc):
        mounts = [_bind(self.paths[v["path"]], v["target"], bool(v.get("read_only", False))) for v in svc["volumes"]
                  if not v.get("when_in_use") or v["path"] in self.used_paths]
        if svc.get("docker_socket"):
            mounts.append(_bind(DOCKER_SOCKET, DOCKER_SOCKET, svc["docker_socket"] != "rw"))
        for host in svc["host_mounts"]:
            extra = {"propagation": host["propagation"]} if host.get("propagation") else {}
            mounts.append(_bind(host["source"], host["target"], host.get("read_only", True), **extra))
        if svc.get("data_paths_read_only"):
            mounts.extend(_bind(self.paths[key], "/data/" + key) for key in self.used_paths
                          if self.catalog["paths"][key].get("service"))
        if svc.get("script_folders_target"):
            mounts.extend(_bind(host, target, False) for dummy, host, target in scriptlib.mounts(
                self.script_folders, self.paths["omero_scripts"], svc["script_folders_target"]))
        return mounts

    def config_files(self, name, svc, mounts, inputs):
        """OMERO and monitoring files, mounted read-only one by one."""
        rendered = {}
        if svc.get("omero_config"):
            component = svc["omero_config"]
            rendered[OMERO_FILE_NAME] = (self.omero_files[component],
                                         posixpath.join(svc["omero_config_dir"], OMERO_FILE_NAME))
        if svc.get("omero_config") == "web" and self.web_registration:
            # Written by the images stage from the plugin list (what it hashes is here).
            reg = self.web_registration
            mounts.append(_bind(reg["file"], reg["target"]))
            inputs["web_registration"] = {"plugins": reg["plugins"], "base_config": reg["base_config"]}
        for fname, spec in svc["config_files"].items():
            rendered[fname] = (configlib.render(spec, self.services, self.enabled, self.fill, self.fill_text,
                                                monitoring=self.settings[placeholders.MONITORING]), spec["target"])
        if svc.get("dashboards"):
            for fname, dashboard in sorted(dashboardlib.dashboards(self.enabled).items()):
                rendered[fname] = (json.dumps(dashboard, indent=1, sort_keys=True) + "\n",
                                   posixpath.join(svc["dashboards"]["target"], fname))
        config_dir = posixpath.join(self.paths["config"], name)
        for fname in sorted(rendered):
            content, target = rendered[fname]
            path = posixpath.join(config_dir, fname)
            self.files.append({"path": path, "content": content, "owner": 0, "group": 0, "mode": "0644",
                               "service": name, "kind": "omero" if fname.endswith(".omero") else "monitoring"})
            mounts.append(_bind(path, target))
            inputs["files"][target] = content
        if rendered:
            self.directories.append({"path": config_dir, "owner": 0, "group": 0, "mode": "0755",
                                     "purpose": "config of " + name, "service": name})

    def env_file(self, name, svc, inputs):
        """One root-only env file per service: plain settings and secrets without *_FILE support."""
        env = {"TZ": self.settings["omero_site_timezone"]}
        env.update((key, self.fill_text(value)) for key, value in svc["env"].items())
        # What a consumer needs besides the host of an external provider (its port).
        env.update((key, self.fill_text(value)) for provider, extra in sorted(svc["external_env"].items())
                   if self.services[provider].get("external") for key, value in extra.items())
        path = posixpath.join(self.paths["env"], name + ".env")
        self.env_files.append({"path": path, "service": name, "env": env, "secret_env": dict(svc["secret_env"]),
                               "owner": 0, "group": 0, "mode": "0600"})
        inputs["env"] = env
        for key, sname in svc["secret_env"].items():
            # Applied only at first initialisation: a new value must not recreate the
            # container (it would change nothing); rotation is a deploy/bootstrap step.
            if key not in svc["init_only"]:
                inputs["secrets"]["env:" + key] = secretlib.digest(self.values[sname])
            self.secret_ref(sname)["consumers"].append("%s (env %s)" % (name, key))
        return path

    def secrets_for(self, name, svc, inputs):
        """Secret files per consumer, owned by the user the container runs as."""
        refs = []
        for target, sname in sorted(svc["secret_files"].items()):
            spath = posixpath.join(self.paths["secrets"], name, target)
            self.secret_files.append({"path": spath, "secret": sname, "service": name, "owner": svc["uid"],
                                      "group": svc["gid"], "mode": "0600"})
            key = "%s_%s" % (name.replace("-", "_"), target)
            self.compose_secrets[key] = {"file": spath}
            refs.append({"source": key, "target": target})
            if target not in svc["init_only"]:
                inputs["secrets"]["file:" + target] = secretlib.digest(self.values[sname])
            self.secret_ref(sname)["consumers"].append("%s (/run/secrets/%s)" % (name, target))
        if refs:
            self.directories.append({"path": posixpath.join(self.paths["secrets"], name), "owner": 0, "group": 0,
                                     "mode": "0700", "purpose": "secrets of " + name, "service": name})
        return refs

    def depends_on(self, svc):
        deps = {}
        for dep in svc["depends_on"] + svc["optional_deps"]:
            if dep in self.enabled:
                healthy = bool(self.services[dep].get("healthcheck"))
                deps[dep] = {"condition": "service_healthy" if healthy else "service_started"}
        return deps

    def definition(self, svc, env_path, mounts, secret_refs):
        settings = self.settings
        definition = {
            "image": svc.get("run_image") or image_reference(svc["image"], settings["omero_site_registry_mirror"]),
            "restart": svc["restart"],
            "env_file": [env_path],
            "networks": ["omero"],
            "security_opt": ["no-new-privileges:true"],
            "logging": {"driver": "json-file", "options": {"max-size": str(settings["omero_site_log_max_size"]),
                                                           "max-file": str(settings["omero_site_log_max_files"])}},
        }
        optional = {
            "pull_policy": "never" if svc.get("build") else None,
            "privileged": True if svc.get("privileged") else None,
            "devices": list(svc["devices"]) or None,
            "ports": [{"target": p["container"], "published": str(p["host"]), "host_ip": p["bind"],
                       "protocol": "tcp", "name": p["name"]} for p in svc["published_ports"]] or None,
            "volumes": mounts or None,
            "secrets": secret_refs or None,
            "depends_on": self.depends_on(svc) or None,
            "healthcheck": copy.deepcopy(svc.get("healthcheck")) or None,
            "mem_limit": str(svc["resources"]["memory"]) if svc["resources"].get("memory") else None,
            "cpus": float(svc["resources"]["cpus"]) if svc["resources"].get("cpus") else None,
            "ulimits": copy.deepcopy(svc["ulimits"]) if svc.get("ulimits") else None,
        }
        definition.update((k, v) for k, v in optional.items() if v is not None)
        definition.update((k, self.fill(copy.deepcopy(v))) for k, v in svc["extra"].items())
        return definition

    def render(self, name):
        svc = self.services[name]
        inputs = {"files": {}, "secrets": {}}
        mounts = self.mounts(svc)
        self.config_files(name, svc, mounts, inputs)
        env_path = self.env_file(name, svc, inputs)
        secret_refs = self.secrets_for(name, svc, inputs)
        definition = self.definition(svc, env_path, mounts, secret_refs)
        inputs["definition"] = definition
        digest = _canonical_hash(inputs)
        self.hashes[name] = digest
        self.input_labels[name] = labellib.input_labels(inputs)
        self.restart_with[name] = []
        definition["labels"] = {
            LABEL_PREFIX + ".site": self.site_name,
            LABEL_PREFIX + ".service": name,
            HASH_LABEL: digest,
        }
        definition["labels"].update(self.input_labels[name])
        self.compose_services[name] = definition

    def render_all(self, secret_names):
        """The reference of every secret (sorted), every enabled service, then their restart_with peers."""
        for sname in sorted(secret_names):
            self.secret_ref(sname)
        for name in self.enabled:
            self.render(name)
        self.apply_restart_with(self.enabled)

    def apply_restart_with(self, enabled):
        """Fold the own input hashes of the services a service declares it restarts with
        (catalog ``restart_with``) into its hash label, so that Compose recreates it
        whenever one of them is recreated. Not transitive: each service lists its peers.
        Its ``restart-with`` input label digests the same peer hashes (labels.py)."""
        own = dict(self.hashes)
        for name in enabled:
            peers = sorted(p for p in self.services[name]["restart_with"] if p in own)
            if not peers:
                continue
            peer_hashes = dict((p, own[p]) for p in peers)
            digest = _canonical_hash({"own": own[name], "restart_with": peer_hashes})
            self.hashes[name] = digest
            self.restart_with[name] = peers
            self.input_labels[name][labellib.INPUT_LABEL_PREFIX + labellib.RESTART_WITH] = \
                labellib.restart_with_label(peer_hashes)
            self.compose_services[name]["labels"].update(self.input_labels[name])
            self.compose_services[name]["labels"][HASH_LABEL] = digest

    def compose(self):
        compose = {
            "name": self.site_name,
            "services": self.compose_services,
            "networks": {"omero": {"name": "%s_omero" % self.site_name}},
        }
        if self.compose_secrets:
            compose["secrets"] = self.compose_secrets
        return compose

    def summary(self):
        """The ``services`` part of the model: every service of the catalog; an external one
        with its ``external`` address (and no container: not enabled, no ports)."""
        return dict((name, self._summary(name, svc)) for name, svc in sorted(self.services.items()))

    def _summary(self, name, svc):
        mirror = self.settings["omero_site_registry_mirror"]
        summary = {
            "enabled": svc["enabled"],
            "description": svc.get("description", ""),
            "image": svc.get("run_image") or image_reference(svc["image"], mirror),
            "build": bool(svc.get("build")),
            "base_image": image_reference(svc["image"], mirror) if svc.get("build") else "",
            "uid": svc["uid"],
            "gid": svc["gid"],
            "ports": [] if svc.get("external") else svc["published_ports"],
            "depends_on": list(svc["depends_on"]),
            "env_file": posixpath.join(self.paths["env"], name + ".env") if svc["enabled"] else "",
            "inputs_hash": self.hashes.get(name, ""),
            "input_labels": dict(self.input_labels.get(name) or {}),
            "restart_with": list(self.restart_with.get(name) or []),
        }
        if svc.get("external"):
            summary["external"] = dict(svc["external"])
        return summary

    def stale_paths(self):
        """Files this collection rendered for services that run no container now (disabled or
        external; never data)."""
        stale = []
        for name in sorted(n for n, s in self.services.items() if not s["enabled"]):
            stale.extend([posixpath.join(self.paths["env"], name + ".env"),
                          posixpath.join(self.paths["secrets"], name),
                          posixpath.join(self.paths["config"], name)])
        return stale
