"""The stand-in's state in the site's PostgreSQL (so it survives container recreation).

Tables are the stand-in's own (prefixed standin_), plus `dbpatch`, the marker the real
image's database step looks for ("select * from dbpatch") to tell an initialised
database from an empty one. Every method runs in one transaction under one lock: the
Ice thread pool may call in parallel, PostgreSQL sees one connection.
"""

import contextlib
import threading

import psycopg2
import psycopg2.errors

from . import rules

SCHEMA = """
CREATE TABLE dbpatch (
    id serial PRIMARY KEY, currentversion text NOT NULL, currentpatch integer NOT NULL,
    previousversion text NOT NULL, previouspatch integer NOT NULL, message text,
    finished timestamptz DEFAULT now());
CREATE TABLE standin_group (
    id bigint PRIMARY KEY, name text UNIQUE NOT NULL, description text,
    permissions text NOT NULL, ldap boolean NOT NULL DEFAULT false);
CREATE SEQUENCE standin_group_seq START 3;
CREATE TABLE standin_experimenter (
    id bigint PRIMARY KEY, omename text UNIQUE NOT NULL, firstname text, middlename text,
    lastname text, email text, institution text, ldap boolean NOT NULL DEFAULT false,
    password_hash text);
CREATE SEQUENCE standin_experimenter_seq START 2;
CREATE TABLE standin_membership (
    group_id bigint REFERENCES standin_group ON DELETE CASCADE,
    experimenter_id bigint REFERENCES standin_experimenter ON DELETE CASCADE,
    owner boolean NOT NULL DEFAULT false, child_index integer NOT NULL,
    PRIMARY KEY (group_id, experimenter_id));
CREATE TABLE standin_privilege_denied (
    experimenter_id bigint REFERENCES standin_experimenter ON DELETE CASCADE,
    privilege text NOT NULL, PRIMARY KEY (experimenter_id, privilege));
CREATE SEQUENCE standin_originalfile_seq START 1;
CREATE TABLE standin_script (
    id bigint PRIMARY KEY, path text NOT NULL, name text NOT NULL, sha1 text NOT NULL,
    size bigint NOT NULL, mimetype text NOT NULL, UNIQUE (path, name));
"""

USER_FIELDS = ("firstname", "middlename", "lastname", "email", "institution")


def connect(params):
    conn = psycopg2.connect(
        host=params["host"], port=int(params.get("port") or 5432), user=params["user"],
        password=params["password"], dbname=params["name"], connect_timeout=10,
        application_name="omero-server-standin",
    )  # fmt: skip
    if params.get("read_only"):
        # omero.cluster.read_only.db: no INSERT or UPDATE over this connection (PostgreSQL
        # refuses them in a read-only transaction), as a read-only server's JDBC connection.
        conn.set_session(readonly=True)
    return conn


def initialise(params, root_password):
    """Create the schema on an empty database; leave an existing one alone.

    Returns "initialised" or "existing" ("missing" for a read-only server, which never
    creates it). Root's password is set only here, at first initialisation, as the real
    image does with ROOTPASS.
    """
    conn = connect(params)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('public.dbpatch') IS NOT NULL")
            if cur.fetchone()[0]:
                return "existing"
            if params.get("read_only"):
                return "missing"
            cur.execute(SCHEMA)
            cur.execute(
                "INSERT INTO dbpatch (currentversion, currentpatch, previousversion, previouspatch, message)"
                " VALUES (%s, %s, '0', 0, 'Database ready (OMERO.server stand-in).')",
                (rules.SCHEMA_VERSION, rules.SCHEMA_PATCH),
            )
            cur.executemany(
                "INSERT INTO standin_group (id, name, permissions) VALUES (%s, %s, %s)",
                [(rules.SYSTEM_GROUP_ID, rules.SYSTEM_GROUP, "rw----"),
                 (rules.USER_GROUP_ID, rules.USER_GROUP, "rwr-r-"),
                 (rules.GUEST_GROUP_ID, rules.GUEST_GROUP, "rw----")],
            )  # fmt: skip
            cur.executemany(
                "INSERT INTO standin_experimenter (id, omename, firstname, lastname, password_hash)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(rules.ROOT_ID, rules.ROOT_NAME, "root", "root", rules.hash_password(root_password)),
                 (rules.GUEST_ID, rules.GUEST_NAME, "Guest", "Account", None)],
            )  # fmt: skip
            cur.executemany(
                "INSERT INTO standin_membership (group_id, experimenter_id, child_index) VALUES (%s, %s, %s)",
                [(rules.SYSTEM_GROUP_ID, rules.ROOT_ID, 0), (rules.USER_GROUP_ID, rules.ROOT_ID, 1),
                 (rules.GUEST_GROUP_ID, rules.GUEST_ID, 0)],
            )  # fmt: skip
        return "initialised"
    finally:
        conn.close()


class Store:
    def __init__(self, params):
        self.params = params
        self._lock = threading.RLock()
        self._conn = None

    @contextlib.contextmanager
    def cursor(self):
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = connect(self.params)
            try:
                with self._conn, self._conn.cursor() as cur:
                    yield cur
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                self._conn = None
                raise

    # ------------------------------------------------------------ reads

    @staticmethod
    def _user(row):
        if row is None:
            return None
        keys = ("id", "omename") + USER_FIELDS + ("ldap",)
        return dict(zip(keys, row, strict=True))

    def user(self, name=None, uid=None):
        with self.cursor() as cur:
            select = "SELECT id, omename, firstname, middlename, lastname, email, institution, ldap"
            select += " FROM standin_experimenter"
            if uid is not None:
                cur.execute(select + " WHERE id = %s", (uid,))
            else:
                cur.execute(select + " WHERE omename = %s", (name,))
            return self._user(cur.fetchone())

    def users(self):
        with self.cursor() as cur:
            cur.execute(
                "SELECT id, omename, firstname, middlename, lastname, email, institution, ldap"
                " FROM standin_experimenter ORDER BY id"
            )
            return [self._user(r) for r in cur.fetchall()]

    @staticmethod
    def _group(row):
        if row is None:
            return None
        return dict(zip(("id", "name", "description", "permissions", "ldap"), row, strict=True))

    def group(self, name=None, gid=None):
        with self.cursor() as cur:
            select = "SELECT id, name, description, permissions, ldap FROM standin_group"
            if gid is not None:
                cur.execute(select + " WHERE id = %s", (gid,))
            else:
                cur.execute(select + " WHERE name = %s", (name,))
            return self._group(cur.fetchone())

    def groups(self):
        with self.cursor() as cur:
            cur.execute("SELECT id, name, description, permissions, ldap FROM standin_group ORDER BY id")
            return [self._group(r) for r in cur.fetchall()]

    def memberships(self, uid):
        """[(group id, group name, owner)] in the user's group order (index 0 = default)."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT g.id, g.name, m.owner FROM standin_membership m JOIN standin_group g ON g.id = m.group_id"
                " WHERE m.experimenter_id = %s ORDER BY m.child_index",
                (uid,),
            )
            return cur.fetchall()

    def denied_privileges(self, uid):
        with self.cursor() as cur:
            cur.execute("SELECT privilege FROM standin_privilege_denied WHERE experimenter_id = %s", (uid,))
            return [r[0] for r in cur.fetchall()]

    def privileges(self, uid):
        is_system = any(g[0] == rules.SYSTEM_GROUP_ID for g in self.memberships(uid))
        return rules.effective_privileges(is_system, self.denied_privileges(uid))

    def password_hash(self, name):
        """(id, stored rules.hash_password value) of a user; (None, None) when unknown.
        The hash is None for a user without a password (rules.check_login refuses both)."""
        with self.cursor() as cur:
            cur.execute("SELECT id, password_hash FROM standin_experimenter WHERE omename = %s", (name,))
            row = cur.fetchone()
        return (row[0], row[1]) if row is not None else (None, None)

    # ------------------------------------------------------------ writes

    def create_group(self, name, description, permissions, ldap=False):
        with self.cursor() as cur:
            cur.execute("SELECT name FROM standin_group")
            rules.check_new_group_name(name, {r[0] for r in cur.fetchall()})
            cur.execute(
                "INSERT INTO standin_group (id, name, description, permissions, ldap)"
                " VALUES (nextval('standin_group_seq'), %s, %s, %s, %s) RETURNING id",
                (name, description, rules.check_permissions(permissions), bool(ldap)),
            )
            return cur.fetchone()[0]

    def update_group(self, gid, name, description, ldap):
        with self.cursor() as cur:
            cur.execute(
                "UPDATE standin_group SET name = %s, description = %s, ldap = %s WHERE id = %s",
                (name, description, bool(ldap), gid),
            )
            if cur.rowcount != 1:
                raise rules.no_such_group(gid)

    def set_group_permissions(self, gid, permissions):
        with self.cursor() as cur:
            cur.execute(
                "UPDATE standin_group SET permissions = %s WHERE id = %s", (rules.check_permissions(permissions), gid)
            )

    def create_user(self, fields, password, group_ids, denied=None):
        """Create an experimenter; group_ids[0] is the default group, then the others
        (rules.memberships_for_new_user orders them)."""
        with self.cursor() as cur:
            cur.execute("SELECT omename FROM standin_experimenter")
            rules.check_new_user_name(fields.get("omename"), {r[0] for r in cur.fetchall()})
            rules.check_user_fields(fields)
            cur.execute(
                "INSERT INTO standin_experimenter (id, omename, firstname, middlename, lastname, email,"
                " institution, ldap, password_hash) VALUES (nextval('standin_experimenter_seq'),"
                " %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (fields["omename"],)
                + tuple(fields.get(f) for f in USER_FIELDS)
                + (bool(fields.get("ldap")), rules.hash_password(password) if password is not None else None),
            )
            uid = cur.fetchone()[0]
            ordered = rules.memberships_for_new_user(group_ids[0], group_ids[1:])
            for index, gid in enumerate(ordered):
                cur.execute(
                    "INSERT INTO standin_membership (group_id, experimenter_id, child_index) VALUES (%s, %s, %s)",
                    (gid, uid, index),
                )
            for priv in denied or ():
                cur.execute("INSERT INTO standin_privilege_denied VALUES (%s, %s)", (uid, priv))
            return uid

    def update_user(self, uid, fields):
        with self.cursor() as cur:
            cur.execute(
                "UPDATE standin_experimenter SET omename = %s, firstname = %s, middlename = %s, lastname = %s,"
                " email = %s, institution = %s, ldap = %s WHERE id = %s",
                (fields["omename"],) + tuple(fields.get(f) for f in USER_FIELDS) + (bool(fields.get("ldap")), uid),
            )
            if cur.rowcount != 1:
                raise rules.no_such_experimenter(uid)

    def set_password(self, name, password):
        with self.cursor() as cur:
            cur.execute(
                "UPDATE standin_experimenter SET password_hash = %s WHERE omename = %s",
                (rules.hash_password(password), name),
            )
            if cur.rowcount != 1:
                raise rules.no_such_experimenter(name)

    def _reindex(self, cur, uid, ordered_gids):
        for index, gid in enumerate(ordered_gids):
            cur.execute(
                "UPDATE standin_membership SET child_index = %s WHERE experimenter_id = %s AND group_id = %s",
                (index, uid, gid),
            )

    def add_groups(self, uid, gids):
        rules.check_add_groups(gids)
        current = [g[0] for g in self.memberships(uid)]
        with self.cursor() as cur:
            for gid in gids:
                if gid in current:
                    continue
                cur.execute(
                    "INSERT INTO standin_membership (group_id, experimenter_id, child_index) VALUES (%s, %s, %s)",
                    (gid, uid, len(current)),
                )
                current.append(gid)

    def remove_groups(self, uid, gids, acting_uid):
        current = [g[0] for g in self.memberships(uid)]
        rules.check_remove_groups(uid, current, gids, acting_uid)
        with self.cursor() as cur:
            cur.execute(
                "DELETE FROM standin_membership WHERE experimenter_id = %s AND group_id = ANY(%s)", (uid, list(gids))
            )
            self._reindex(cur, uid, rules.after_remove_groups(current, gids))

    def set_default_group(self, uid, gid):
        rules.check_default_group(gid)
        ordered = rules.with_default_group(uid, [g[0] for g in self.memberships(uid)], gid)
        with self.cursor() as cur:
            self._reindex(cur, uid, ordered)

    def set_denied_privileges(self, uid, denied):
        with self.cursor() as cur:
            cur.execute("DELETE FROM standin_privilege_denied WHERE experimenter_id = %s", (uid,))
            for priv in sorted(denied):
                cur.execute("INSERT INTO standin_privilege_denied VALUES (%s, %s)", (uid, priv))

    # ------------------------------------------------------------ scripts

    def scripts(self):
        """{server path: row dict} of every registered script."""
        with self.cursor() as cur:
            cur.execute("SELECT id, path, name, sha1, size, mimetype FROM standin_script ORDER BY id")
            keys = ("id", "path", "name", "sha1", "size", "mimetype")
            rows = [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]
        return {r["path"] + r["name"]: r for r in rows}

    def register_script(self, path, sha1, size):
        directory, name = rules.split_script_path(path)
        with self.cursor() as cur:
            cur.execute(
                "INSERT INTO standin_script (id, path, name, sha1, size, mimetype)"
                " VALUES (nextval('standin_originalfile_seq'), %s, %s, %s, %s, %s) RETURNING id",
                (directory, name, sha1, size, rules.SCRIPT_MIMETYPE),
            )
            return cur.fetchone()[0]

    def update_script(self, sid, sha1, size):
        with self.cursor() as cur:
            cur.execute("UPDATE standin_script SET sha1 = %s, size = %s WHERE id = %s", (sha1, size, sid))

    def unregister_scripts(self, ids):
        with self.cursor() as cur:
            cur.execute("DELETE FROM standin_script WHERE id = ANY(%s)", (list(ids),))
