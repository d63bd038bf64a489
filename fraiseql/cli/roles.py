"""``fraiseql roles create|allow|deny|list|delete``: the roles of a database (SQL 0008).

A role allows or denies permission patterns (``post:publish``, ``post:*``, ``*:read``)
and inherits everything of its parents; a deny beats every allow. Every change
reaches the access cache of every running server at once (NOTIFY fraiseql_rbac).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from fraiseql.cli.common import action_parsers, add_action

PERMISSION_HELP = "resource:action, * for a whole resource or action (post:*, *:read)"


def register(subparsers: Any) -> None:
    """Add the ``roles`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "roles", help="manage roles and their permissions (RBAC)",
        description="Manage the roles of role-based access control: what each allows and "
                    "denies, and which roles it inherits from.")
    actions = action_parsers(parser, "fraiseql roles create|allow|deny|list|delete")
    action = functools.partial(add_action, actions)

    create = action("create", "create a role (or add parents to one)",
                    "Create a role; on an existing role, add the parents and set the "
                    "description if given.", run_create)
    create.add_argument("name", help="the role's name")
    create.add_argument("--inherits", action="append", default=[], metavar="PARENT",
                        help="a role whose permissions it inherits (repeat for several)")
    create.add_argument("--description", help="what the role is for")
    for effect, verb in (("allow", "allows"), ("deny", "denies (beats every allow)")):
        sub = action(effect, f"the role {verb} a permission",
                     f"The role {verb} a permission pattern.", run_set_permission)
        sub.add_argument("name", help="the role")
        sub.add_argument("permission", help=PERMISSION_HELP)
        sub.set_defaults(effect=effect)
    action("list", "list the roles", "List every role: its parents, allows, denies and "
           "description (tab-separated).", run_list)
    delete = action("delete", "delete a role and its grants",
                    "Delete a role, with its permissions, its grants and the inheritance "
                    "of it.", run_delete)
    delete.add_argument("name", help="the role")


def run_create(args: argparse.Namespace) -> int:
    from fraiseql.authz.manage import create_role
    created = with_rbac(args, lambda conn: create_role(conn, args.name, args.description,
                                                         args.inherits))
    parents = f" inheriting from {', '.join(args.inherits)}" if args.inherits else ""
    print(f"{'created' if created else 'updated'} role {args.name}{parents}")
    return 0


def run_set_permission(args: argparse.Namespace) -> int:
    from fraiseql.authz.manage import set_permission
    with_rbac(args, lambda conn: set_permission(conn, args.name, args.permission, args.effect))
    verb = "allows" if args.effect == "allow" else "denies"
    print(f"role {args.name} {verb} {args.permission}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from fraiseql.authz.manage import list_roles
    roles = with_rbac(args, list_roles)
    for role in roles:
        sys.stdout.write("\t".join([
            role.name, "inherits " + (",".join(role.parents) or "-"),
            "allow " + (",".join(role.allowed) or "-"), "deny " + (",".join(role.denied) or "-"),
            role.description or "-"]) + "\n")
    print(f"{len(roles)} role(s)", file=sys.stderr)
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from fraiseql.authz.manage import delete_role
    from fraiseql.cli.common import CliError
    grants = with_rbac(args, lambda conn: delete_role(conn, args.name))
    if grants is None:
        raise CliError(f"unknown role: {args.name}")
    print(f"deleted role {args.name} and its {grants} grant(s)")
    return 0


def with_rbac(args: argparse.Namespace, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """``await work(conn)`` on a database with the RBAC tables; its errors as CliErrors."""
    import asyncpg

    from fraiseql.cli.apikey import connect_auth
    from fraiseql.cli.common import CliError, database_url
    from fraiseql.cli.common import run as run_async
    url = database_url(args.database_url)

    async def go() -> Any:
        conn = await connect_auth(url, "fraiseql.role_grants")
        try:
            return await work(conn)
        finally:
            await conn.close()

    try:
        return run_async(go())
    except ValueError as exc:  # a format checked before asking the database
        raise CliError(str(exc)) from None
    except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as exc:
        # The SQL functions' own messages: unknown role, cycle, bad permission, ...
        raise CliError(str(exc).strip()) from None
