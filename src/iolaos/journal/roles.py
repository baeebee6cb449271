"""The PostgreSQL role the application connects as: full use of its tables, but append-only on the journal.

Migrations run as the tables' owner; the service runs as an ordinary LOGIN role that is granted
SELECT/INSERT/UPDATE/DELETE on the tables (and USAGE/SELECT/UPDATE on the sequences) in schema ``public``, except
that ``audit_record`` gets only SELECT and INSERT, with UPDATE, DELETE and TRUNCATE revoked explicitly. The
triggers of migration 0001 refuse those changes even for the owner; the grant makes them fail for the
application before any trigger runs. Tables that belong to an extension (PostGIS's ``spatial_ref_sys``) and
``alembic_version`` are read-only for the application. Grants name existing tables only: run this again after
every ``iolaos db upgrade``.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

APPEND_ONLY = frozenset({"audit_record"})
READ_ONLY = frozenset({"alembic_version"})
FORBIDDEN_ON_APPEND_ONLY = ("UPDATE", "DELETE", "TRUNCATE")


class RoleError(Exception):
    """The role cannot safely be made the application's role (or the backend has no roles)."""


_RELATIONS = text("""
SELECT c.relname, c.relkind,
       EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
               AND d.deptype = 'e') AS from_extension
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
ORDER BY c.relname
""")


def grant_app_role(connection: Connection, role: str) -> dict[str, str]:
    """Grant ``role`` what the application needs in schema public, append-only on the audit table.

    Runs in the caller's transaction (commit it). Returns each relation with the privileges granted.
    Refuses superusers and owners of the audit table, on whom privileges have no effect, and checks
    afterwards that the role really cannot UPDATE, DELETE or TRUNCATE ``audit_record`` (a membership in
    a more privileged role would show up here).
    """
    if connection.dialect.name != "postgresql":
        raise RoleError("database roles exist on PostgreSQL only; on SQLite the triggers are the protection")
    info = connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
    if info is None:
        raise RoleError(f"role {role!r} does not exist (CREATE ROLE {role} LOGIN PASSWORD '…' first)")
    if info[0]:
        raise RoleError(f"role {role!r} is a superuser: privileges cannot restrict it")
    owners = connection.execute(text(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(:tables)"
    ), {"tables": sorted(APPEND_ONLY)}).scalars().all()
    if role in owners:
        raise RoleError(f"role {role!r} owns the audit table; the application must not connect as the owner")
    quote = connection.dialect.identifier_preparer.quote
    who = quote(role)
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {who}"))
    granted: dict[str, str] = {}
    for name, kind, from_extension in connection.execute(_RELATIONS).all():
        target = f"public.{quote(name)}"
        if kind == "S":
            privileges = "USAGE, SELECT, UPDATE"
            connection.execute(text(f"GRANT {privileges} ON SEQUENCE {target} TO {who}"))
        elif name in APPEND_ONLY:
            privileges = "SELECT, INSERT"
            connection.execute(text(f"GRANT {privileges} ON TABLE {target} TO {who}"))
            connection.execute(text(f"REVOKE {', '.join(FORBIDDEN_ON_APPEND_ONLY)} ON TABLE {target} FROM {who}"))
        elif kind in ("v", "m") or from_extension or name in READ_ONLY:
            privileges = "SELECT"
            connection.execute(text(f"GRANT {privileges} ON TABLE {target} TO {who}"))
            connection.execute(text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE {target} FROM {who}"))
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
            connection.execute(text(f"GRANT {privileges} ON TABLE {target} TO {who}"))
        granted[name] = privileges
    leaks = audit_privilege_leaks(connection, role)
    if leaks:
        raise RoleError(f"role {role!r} can still {', '.join(leaks)} (through membership in another role?)")
    return granted


def audit_privilege_leaks(connection: Connection, role: str) -> list[str]:
    """Which of UPDATE, DELETE, TRUNCATE ``role`` holds on an append-only table (directly or inherited)."""
    leaks = []
    for table in sorted(APPEND_ONLY):
        for privilege in FORBIDDEN_ON_APPEND_ONLY:
            held = connection.execute(text("SELECT has_table_privilege(:role, :table, :privilege)"),
                                      {"role": role, "table": f"public.{table}", "privilege": privilege}).scalar()
            if held:
                leaks.append(f"{privilege} {table}")
    return leaks
