# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The site's Compose definition as a stack file for ``docker stack deploy`` (Docker Swarm).

Groundwork for sites spread over several machines: :func:`stack_file` turns the manifest
:meth:`.compose.Renderer.compose` returns into a stack file Docker 26's ``docker stack
deploy`` takes (a version-less Compose file, checked by the CLI against its latest v3
schema, 3.12), so one site description can run on one host or on a Swarm. The site
model renders it for ``omero_site_engine: swarm`` (model.py ``stack``); no role deploys
it yet.

What changes, and why:

- Swarm schedules tasks, not containers: ``container_name`` and ``depends_on`` mean
  nothing there (dependants ride out a missing peer by their restart policy), ``build``
  and ``pull_policy`` are the single host's image handling, ``privileged``, ``devices``
  and ``pid`` are ignored by Swarm services. ``restart`` becomes ``deploy.restart_policy``
  and ``mem_limit``/``cpus``/``pids_limit`` become ``deploy.resources.limits`` (the CLI
  refuses them at service level).
- ``endpoint_mode`` is ``dnsrr`` by default: a service VIP needs IPVS, missing on the
  test kernel, and behind a proxy a VIP adds nothing. Published ports use the long
  syntax with ``mode: host``, because the ingress routing mesh needs IPVS too and Swarm
  refuses ingress ports on a dnsrr service. The stack file cannot bind a port to one
  address (no ``host_ip`` in the schema): a port the site binds to a given address (a
  local one, e.g. 127.0.0.1) is left unpublished rather than opened on every interface.
- ``update_config.order`` is ``stop-first`` for a service that owns state (a writable
  mount other than a log directory or the Docker socket: two tasks on one data directory
  corrupt it or wait on its lock) or publishes a host-mode port (the new task could not
  take the port on the node, and would stay pending); ``start-first`` otherwise.
- The container labels, the input hash among them, are also service labels
  (``deploy.labels``), so a later update can find and target a service by its hash.
  One more service label, :data:`SPEC_HASH_LABEL`, hashes the service's whole entry in
  the stack file: the deploy compares it with the running services' and runs ``docker
  stack deploy`` only when one differs (the CLI updates every service of the stack on
  each run, which changes their inspect output though no task restarts).
- Networks become attachable overlays, keeping their names.
- Secret files stay files (``docker stack deploy`` creates a Swarm secret from each), but
  Swarm secrets are immutable, so each gets a name that changes with its value: see
  :func:`secret_name`.

Caveats for the wiring to come: a bind mount needs its host path on whichever node the
placement picks (a path exists on the node its label pins the service to); env files are
read where ``docker stack deploy`` runs and their values land in the service definition
(the site's env files hold no secret: see secret_env_as_files in catalog.yml); a locally
built image must be present on every node that may run it; Swarm secrets are mounted
root-owned, mode 0444, unless ``secret_owners`` names their consumers' account; Docker 26
ignores ``security_opt`` with a warning (kept: the schema takes it, and the warning says
the hardening is missing).
"""

from __future__ import annotations

import copy
import hashlib
import json
import posixpath
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import secrets as secretlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import err
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.compose import DOCKER_SOCKET
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.labels import LABEL_PREFIX

ENDPOINT_MODES = ("dnsrr", "vip")
PUBLISH_MODES = ("host", "ingress")
UPDATE_ORDERS = ("start-first", "stop-first")
# Swarm refuses a secret name longer than this (docker/swarmkit, controlapi).
SECRET_NAME_MAX = 64
SECRET_SUFFIX_LENGTH = 12
# Service label: a digest of the service's entry in the stack file (without this label).
SPEC_HASH_LABEL = LABEL_PREFIX + ".stack-spec-hash"
# Service keys a stack file carries unchanged: those Docker 26's schema (3.12) takes and
# Swarm applies, plus security_opt (see the module's docstring).
KEPT_KEYS = frozenset((
    "cap_add", "cap_drop", "command", "configs", "deploy", "dns", "dns_search", "entrypoint", "env_file",
    "environment", "extra_hosts", "healthcheck", "hostname", "image", "init", "isolation", "labels", "logging",
    "networks", "read_only", "security_opt", "stop_grace_period", "stop_signal", "sysctls", "tmpfs", "tty", "ulimits",
    "user", "working_dir",
))
# Keys rewritten into another form, and keys a Swarm service has no use for.
REWRITTEN_KEYS = frozenset(("ports", "volumes", "secrets", "restart", "mem_limit", "cpus", "pids_limit"))
DROPPED_KEYS = frozenset(("build", "container_name", "depends_on", "devices", "pid", "privileged", "pull_policy"))
_WILDCARD_ADDRESSES = ("0.0.0.0", "::")  # noqa: S104 - compared with, never bound
_LOG_DIRECTORIES = ("log", "logs")
_NODE_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_RESTART_RE = re.compile(r"^(no|always|unless-stopped|on-failure(:([0-9]+))?)$")


def stack_file(compose, placement, *, endpoint_mode="dnsrr", publish_mode="host", update_order=None,
               secret_digests=None, global_services=(), secret_owners=None):
    """A new stack file (plain dict) for the Compose manifest ``compose``; never changes it.

    ``placement`` maps service names to node labels: the service runs only on nodes
    labelled ``<label>=true``; a service it does not name may run anywhere.
    ``update_order`` maps service names to ``start-first`` or ``stop-first`` where the
    derived order must not apply. ``global_services`` run one task on every node (what
    reads a node's own engine, paths or logs); they take no placement. ``secret_owners``
    maps secrets to ``{uid, gid}``: Swarm mounts them owned by that account, mode 0400
    (root's, mode 0444, otherwise; :func:`secret_owners_of`). ``secret_digests``
    maps each secret of the manifest to a digest of its value (:func:`secret_digests_of`):
    the manifest carries none, since compose.py folds them into the services' input hashes
    only.

    The stack file has no ``name`` (``docker stack deploy`` takes the stack's name on its
    command line) and no ``version`` (optional since Docker 20.10: the CLI then validates
    against its newest schema).

    Raises :class:`SiteModelError` with every problem, each naming its key.
    """
    errors = []
    services = compose.get("services") or {}
    placement = _checked_mapping("placement", placement, services, _label_problem, errors)
    orders = _checked_mapping("update_order", update_order, services, _order_problem, errors)
    if endpoint_mode not in ENDPOINT_MODES:
        err(errors, "endpoint_mode", "'%s' is not one of %s" % (endpoint_mode, ", ".join(ENDPOINT_MODES)))
    if publish_mode not in PUBLISH_MODES:
        err(errors, "publish_mode", "'%s' is not one of %s" % (publish_mode, ", ".join(PUBLISH_MODES)))
    for name in sorted(set(global_services) - set(services)):
        err(errors, "global_services", "'%s' runs no container in this stack" % name)
    for name in sorted(set(global_services) & set(placement)):
        err(errors, "placement.%s" % name, "a global service runs on every node: it takes no node label")
    stack = {"services": dict(
        (name, _service(name, svc, errors, label=placement.get(name), order=orders.get(name),
                        modes=(endpoint_mode, publish_mode), spread=name in global_services,
                        owners=secret_owners or {}))
        for name, svc in services.items())}
    for key in sorted(set(compose) - {"name", "version", "services", "networks", "secrets"}):
        err(errors, key, "a stack file of this collection takes no top-level '%s'" % key)
    if compose.get("networks"):
        stack["networks"] = dict((key, _network(spec)) for key, spec in compose["networks"].items())
    if compose.get("secrets"):
        stack["secrets"] = _secrets(compose.get("name") or "", compose["secrets"], secret_digests or {}, errors)
    if errors:
        raise SiteModelError(errors)
    for service in stack["services"].values():
        service["deploy"].setdefault("labels", {})[SPEC_HASH_LABEL] = spec_hash(service, stack.get("secrets") or {})
    return stack


def spec_hash(service, secrets):
    """A digest of a service's entry in the stack file and of the Swarm names of the secrets
    it mounts (names that change with their values), without :data:`SPEC_HASH_LABEL`."""
    entry = copy.deepcopy(service)
    entry.get("deploy", {}).get("labels", {}).pop(SPEC_HASH_LABEL, None)
    names = sorted((secrets.get(ref["source"]) or {}).get("name", ref["source"]) for ref in entry.get("secrets") or [])
    data = json.dumps([entry, names], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def secret_digests_of(model, secret_values):
    """``{secret key of the manifest: digest of its value}`` for :func:`stack_file`, from
    the site model (which secret each file holds) and the secret values."""
    holds = dict((item["path"], item["secret"]) for item in model["secret_files"])
    return dict((key, secretlib.digest(secret_values[holds[spec["file"]]]))
                for key, spec in (model["compose"].get("secrets") or {}).items())


def secret_owners_of(model):
    """``{secret key of the manifest: {uid, gid}}``: the account each secret file belongs to
    (the user its consumer runs as), for :func:`stack_file`."""
    owners = dict((item["path"], {"uid": item["owner"], "gid": item["group"]}) for item in model["secret_files"])
    return dict((key, owners[spec["file"]]) for key, spec in (model["compose"].get("secrets") or {}).items()
                if spec.get("file") in owners)


def _secret_ref(ref, owner):
    """The long syntax of a service's secret, owned by ``owner`` (mode 0400) when given."""
    ref = copy.deepcopy(ref) if isinstance(ref, dict) else {"source": ref}
    if owner:
        ref.update({"uid": str(owner["uid"]), "gid": str(owner["gid"]), "mode": 0o400})
    return ref


def secret_name(site, key, digest):
    """The Swarm name of the secret ``key``: ``<site>_<key>_<suffix>``, at most 64 characters.

    Swarm refuses to change a secret's data, so a new value needs a new name; an unchanged
    one must keep its name, or every deploy would replace every secret and restart its
    consumers. The suffix hashes the key with the value's digest (itself one-way, see
    secrets.py): it changes with the value only, tells nothing about it, and does not
    show which secrets share a value. Names are not scoped by ``docker stack deploy``
    when given, hence the site prefix; a long one is cut, the suffix keeps names apart.
    """
    suffix = hashlib.sha256(("%s:%s" % (key, digest)).encode("utf-8")).hexdigest()[:SECRET_SUFFIX_LENGTH]
    prefix = "_".join(part for part in (site, key) if part)
    return "%s_%s" % (prefix[:SECRET_NAME_MAX - SECRET_SUFFIX_LENGTH - 1], suffix)


def owns_state(svc):
    """Whether a service writes to a mount another task of it must not share: any writable
    mount but a log directory (a second writer only interleaves lines) or the Docker socket."""
    for mount in svc.get("volumes") or []:
        if not isinstance(mount, dict) or mount.get("read_only") or mount.get("type") == "tmpfs":
            continue
        target = posixpath.normpath(mount.get("target") or "/")
        if target != DOCKER_SOCKET and posixpath.basename(target) not in _LOG_DIRECTORIES:
            return True
    return False


def _checked_mapping(var, mapping, services, problem, errors):
    """``mapping`` (service name -> value) when every key names a service of the stack."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        err(errors, var, "must map service names to values")
        return {}
    for key in sorted(mapping, key=str):
        if key not in services:
            err(errors, "%s.%s" % (var, key), "'%s' runs no container in this stack; its services are: %s"
                % (key, ", ".join(sorted(services))))
        elif problem(mapping[key]):
            err(errors, "%s.%s" % (var, key), problem(mapping[key]))
    return mapping


def _label_problem(label):
    if not isinstance(label, str) or not _NODE_LABEL_RE.match(label):
        return "'%s' is not a node label name (letters, digits, '.', '_', '-')" % (label,)
    return None


def _order_problem(order):
    return None if order in UPDATE_ORDERS else "'%s' is not one of %s" % (order, ", ".join(UPDATE_ORDERS))


def _service(name, svc, errors, *, label, order, modes, spread=False, owners=None):
    """The stack file's definition of one service (its ``deploy`` section derived)."""
    endpoint_mode, publish_mode = modes
    service = {}
    for key in svc:
        if key not in KEPT_KEYS | REWRITTEN_KEYS | DROPPED_KEYS:
            err(errors, "services.%s.%s" % (name, key), "a Swarm service takes no such setting in this renderer")
        elif key in KEPT_KEYS and key != "deploy":
            service[key] = copy.deepcopy(svc[key])
    ports = _ports(svc.get("ports"), publish_mode)
    if ports:
        service["ports"] = ports
        if endpoint_mode == "dnsrr" and publish_mode != "host":
            err(errors, "publish_mode", "service '%s' publishes ports with endpoint_mode dnsrr, which Swarm allows "
                                        "in host mode only (ingress needs endpoint_mode vip)" % name)
    if svc.get("volumes"):
        service["volumes"] = [_mount(mount) for mount in svc["volumes"]]
    if svc.get("secrets"):
        service["secrets"] = [_secret_ref(ref, (owners or {}).get(ref.get("source") if isinstance(ref, dict) else ref))
                              for ref in svc["secrets"]]
    deploy = copy.deepcopy(svc.get("deploy") or {})
    deploy.update({"mode": "global"} if spread else {"mode": "replicated", "replicas": 1})
    deploy.update({"endpoint_mode": endpoint_mode,
                   "restart_policy": _restart_policy(name, svc.get("restart", "no"), errors),
                   "update_config": {"order": order or _derived_order(svc, ports)}})
    limits = _limits(svc)
    if limits:
        deploy["resources"] = {"limits": limits}
    if label:
        deploy["placement"] = {"constraints": ["node.labels.%s == true" % label]}
    if svc.get("labels"):
        deploy["labels"] = copy.deepcopy(svc["labels"])
    service["deploy"] = deploy
    return service


def _ports(ports, publish_mode):
    """The long syntax Docker 26's stack schema takes (integers; no name, no address)."""
    return [{"target": int(port["target"]), "published": int(port["published"]),
             "protocol": port.get("protocol", "tcp"), "mode": publish_mode}
            for port in ports or [] if port.get("host_ip", _WILDCARD_ADDRESSES[0]) in _WILDCARD_ADDRESSES]


def _mount(mount):
    """A mount without ``bind.create_host_path``: Swarm never creates a missing bind source
    (the task fails), which is what the manifest asks for; the schema does not take it."""
    mount = copy.deepcopy(mount)
    if isinstance(mount.get("bind"), dict):
        mount["bind"].pop("create_host_path", None)
        if not mount["bind"]:
            del mount["bind"]
    return mount


def _derived_order(svc, ports):
    host_ports = any(port["mode"] == "host" for port in ports)
    return "stop-first" if owns_state(svc) or host_ports else "start-first"


def _restart_policy(name, restart, errors):
    """Compose's restart policy as Swarm's: ``always`` and ``unless-stopped`` restart on any
    exit (to stop a service, scale it to 0), ``on-failure[:N]`` on failure (N attempts)."""
    match = _RESTART_RE.match(restart) if isinstance(restart, str) else None
    if not match:
        err(errors, "services.%s.restart" % name, "'%s' is not a Compose restart policy" % (restart,))
        return {"condition": "none"}
    if restart == "no":
        return {"condition": "none"}
    if restart.startswith("on-failure"):
        policy = {"condition": "on-failure"}
        if match.group(3):
            policy["max_attempts"] = int(match.group(3))
        return policy
    return {"condition": "any"}


def _limits(svc):
    """``mem_limit``, ``cpus`` and ``pids_limit`` as ``deploy.resources.limits`` (strings
    for memory and CPUs, as the stack schema wants them)."""
    limits = {}
    if svc.get("mem_limit"):
        limits["memory"] = str(svc["mem_limit"])
    if svc.get("cpus"):
        limits["cpus"] = format(float(svc["cpus"]), "g")
    if svc.get("pids_limit"):
        limits["pids"] = int(svc["pids_limit"])
    return limits


def _network(spec):
    """An attachable overlay (one-off tasks and debugging containers can join it), same name."""
    network = copy.deepcopy(spec or {})
    if not network.get("external"):
        network.update({"driver": "overlay", "attachable": True})
    return network


def _secrets(site, secrets, digests, errors):
    result = {}
    for key, spec in secrets.items():
        result[key] = copy.deepcopy(spec)
        if "file" not in spec:
            continue
        if not digests.get(key):
            err(errors, "secret_digests.%s" % key, "is required: a file secret's Swarm name carries a digest of its "
                                                   "value (swarm.secret_digests_of)")
            continue
        result[key]["name"] = secret_name(site, key, digests[key])
    return result
