"""Record real PostgreSQL password verifiers for test_pg_password.py, and check logins.

Usage: python3 tests/unit/plugins/filter/record_pg_verifiers.py [IMAGE]
(IMAGE default omero-stack-test/postgres:17, built by tests/images/services/build.sh).

Starts a throw-away container of IMAGE, sets each password of PASSWORDS on a role (as
PostgreSQL computes it: SCRAM-SHA-256 with the default or a raised iteration count, or
md5), reads ``pg_authid.rolpassword`` and writes pg_verifiers.json beside this file.
Then checks the other direction against the server: a verifier computed by
plugins/module_utils/pg_scram.py, stored with ``ALTER ROLE ... PASSWORD '<verifier>'``,
accepts a real login over TCP (scram-sha-256) with the plain password, and refuses a
wrong one. Passwords go to psql on stdin or in the environment of ``docker exec``, never
on its command line. The container is removed at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[3]
DATA = HERE / "pg_verifiers.json"

# (name, password, how): how = scram (server default), scram10000 (scram_iterations), md5
PASSWORDS = [
    ("ascii", "correct horse battery staple", "scram"),
    ("ascii_quotes", "it's a \"pa$$\\word\" `x`", "scram"),
    ("ascii_control", "tab\there\x01", "scram"),
    ("saslprep_mapped", "\ufb01\u00a0caf\u00e9\u00ad!", "scram"),
    ("saslprep_prohibited", "caf\u00e9\u0007", "scram"),
    ("saslprep_bidi", "\u05d0a", "scram"),
    ("saslprep_unassigned", "smile \U0001f642", "scram"),
    ("iterations_10000", "correct horse battery staple", "scram10000"),
    ("md5", "correct horse battery staple", "md5"),
]
USER = "omero_test"
READ_VERIFIER = "SELECT rolpassword FROM pg_authid WHERE rolname = 'omero_test';"


def run(argv, stdin=None, check=True):
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise SystemExit("%s failed (rc %d): %s" % (argv[:3], proc.returncode, proc.stderr.strip()))
    return proc


def psql(container, sql, db="postgres", user=USER):
    return run(["docker", "exec", "-i", container, "psql", "-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1",
                "-h", "/var/run/postgresql", "-U", user, "-d", db], stdin=sql).stdout.strip()


def login(container, password):
    """A real password login over TCP to the container's own network address: pg_hba.conf
    trusts the socket and loopback (initdb's defaults) and asks the rest for a password
    (the image's ``host all all all scram-sha-256``)."""
    address = run(["docker", "exec", container, "hostname", "-i"]).stdout.split()[0]
    proc = subprocess.run(
        ["docker", "exec", "-e", "PGPASSWORD", container, "psql", "-X", "-A", "-t", "-w",
         "-h", address, "-U", USER, "-d", "postgres", "-c", "SELECT 'login ok'"],
        capture_output=True, text=True, check=False, env=dict(os.environ, PGPASSWORD=password))
    return proc.returncode == 0 and proc.stdout.strip() == "login ok"


def literal(text):
    return "'" + text.replace("'", "''") + "'"


def main():
    sys.path.insert(0, str(REPO_ROOT / "plugins" / "module_utils"))
    import pg_scram  # noqa: PLC0415 - the module under test, by path (no collection tree needed)

    image = sys.argv[1] if len(sys.argv) > 1 else "omero-stack-test/postgres:17"
    name = "omero-stack-pg-verifiers-%s" % uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        pwfile = Path(tmp) / "pw"
        pwfile.write_text("initial-password\n")
        pwfile.chmod(0o644)
        run(["docker", "run", "-d", "--name", name, "-e", "POSTGRES_USER=%s" % USER,
             "-e", "POSTGRES_PASSWORD_FILE=/run/pw", "-v", "%s:/run/pw:ro" % pwfile, image])
        try:
            for _attempt in range(60):
                ready = run(["docker", "exec", name, "pg_isready", "-h", "127.0.0.1", "-U", USER], check=False)
                if ready.returncode == 0:
                    break
                time.sleep(1)
            else:
                raise SystemExit("PostgreSQL did not start: %s" % run(["docker", "logs", name], check=False).stderr)
            version = psql(name, "SHOW server_version;")
            records = []
            for case, password, how in PASSWORDS:
                setting = {"scram": "", "scram10000": "SET scram_iterations = 10000;",
                           "md5": "SET password_encryption = 'md5';"}[how]
                psql(name, "%s ALTER ROLE %s PASSWORD %s;" % (setting, USER, literal(password)))
                verifier = psql(name, READ_VERIFIER)
                if how != "md5" and not (login(name, password) and not login(name, password + "x")):
                    raise SystemExit("PostgreSQL's own verifier for %s: login check failed" % case)
                records.append({"case": case, "password": password, "user": USER, "verifier": verifier})
            # The other direction: our verifiers, stored as is, accept the plain password.
            logins = []
            for case, password, how in PASSWORDS:
                if how != "scram":
                    continue
                verifier = pg_scram.scram_verifier(password)
                psql(name, "ALTER ROLE %s PASSWORD %s;" % (USER, literal(verifier)))
                stored = psql(name, READ_VERIFIER)
                ok = stored == verifier and login(name, password) and not login(name, password + "x")
                logins.append({"case": case, "stored_as_given": stored == verifier, "login": ok})
                if not ok:
                    raise SystemExit("computed verifier for %s: stored %s, login refused" % (case, stored == verifier))
        finally:
            run(["docker", "rm", "-f", name], check=False)
    DATA.write_text(json.dumps({"postgresql": version, "image": image, "verifiers": records,
                                "computed_verifier_logins": logins}, indent=1, ensure_ascii=True) + "\n")
    print("wrote %s (%d verifiers from PostgreSQL %s; %d computed verifiers accepted by a real login)"
          % (DATA, len(records), version, len(logins)))


if __name__ == "__main__":
    main()
