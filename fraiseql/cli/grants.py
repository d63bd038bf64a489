"""``fraiseql grants add|revoke|list|check``: which subjects hold which roles (SQL 0008).

A grant gives a subject a role in one tenant (``--tenant``) or in every tenant, until
it expires (``--expires-in``); ``check`` answers whether a subject holds a permission
and names the patterns, and their roles, that decide.
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from fraiseql.cli.common import action_parsers, add_action


def register(subparsers: Any) -> None:
    """Add the ``grants`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "grants", help="grant roles to subjects (RBAC)",
        description="Grant roles to subjects, in a tenant or in every tenant, and check "
                    "what a subject may do.")
    actions = action_parsers(parser, "fraiseql grants add|revoke|list|check")
    action = functools.partial(add_action, actions)

    add = action("add", "grant a role to a subject",
                 "Grant a role to a subject; granting it again updates the expiry.", run_add)
    add.add_argument("subject", help="the principal's subject (the sub claim)")
    add.add_argument("role", help="the role")
    add.add_argument("--tenant", help="only in this tenant (default: in every tenant)")
    add.add_argument("--expires-in", help="e.g. 7d, 12h, 2w (default: never)")
    add.add_argument("--granted-by", help="who grants it (default: the OS user)")
    revoke = action("revoke", "remove a grant",
                    "Remove the grant of a role to a subject (in --tenant, or the grant "
                    "for every tenant).", run_revoke)
    revoke.add_argument("subject", help="the subject")
    revoke.add_argument("role", help="the role")
    revoke.add_argument("--tenant", help="the grant in this tenant (default: the grant for "
                                         "every tenant)")
    show = action("list", "list grants",
                  "List grants, oldest first (tab-separated; tenant * means every tenant).",
                  run_list)
    show.add_argument("--subject", help="only this subject's grants")
    show.add_argument("--tenant", help="only the grants that count in this tenant")
    check = action("check", "does a subject hold a permission, and why",
                   "Print allowed or denied, then the patterns that decide and the role "
                   "holding each.", run_check)
    check.add_argument("subject", help="the subject")
    check.add_argument("permission", help="resource:action, e.g. post:publish")
    check.add_argument("--tenant", help="in this tenant")
    check.add_argument("--role", action="append", default=[], dest="roles",
                       help="a role its token carries (repeat for several)")


def run_add(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from fraiseql.auth.store import parse_duration
    from fraiseql.authz.manage import grant_role
    from fraiseql.cli.common import UsageError
    from fraiseql.cli.roles import with_rbac
    expires_at = None
    if args.expires_in is not None:
        try:
            expires_at = datetime.now(UTC) + timedelta(seconds=parse_duration(args.expires_in))
        except ValueError as exc:
            raise UsageError(f"--expires-in: {exc}") from None
    granted_by = args.granted_by or _os_user()
    grant_id = with_rbac(args, lambda conn: grant_role(conn, args.subject, args.role,
                                                       args.tenant, expires_at, granted_by))
    where = f"in tenant {args.tenant}" if args.tenant else "in every tenant"
    until = f"until {expires_at.isoformat(timespec='seconds')}" if expires_at else "for good"
    print(f"granted {args.role} to {args.subject} {where} {until} (grant {grant_id})")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from fraiseql.authz.manage import revoke_role
    from fraiseql.cli.common import CliError
    from fraiseql.cli.roles import with_rbac
    where = f"in tenant {args.tenant}" if args.tenant else "in every tenant"
    if not with_rbac(args, lambda conn: revoke_role(conn, args.subject, args.role,
                                                    args.tenant)):
        raise CliError(f"{args.subject} holds no grant of {args.role} {where}")
    print(f"revoked {args.role} from {args.subject} {where}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from fraiseql.authz.manage import list_grants
    from fraiseql.cli.roles import with_rbac
    grants = with_rbac(args, lambda conn: list_grants(conn, args.subject, args.tenant))
    for g in grants:
        state = ("expired" if g.expired else
                 f"expires {g.expires_at.isoformat(timespec='seconds')}" if g.expires_at
                 else "active")
        sys.stdout.write("\t".join([
            str(g.id), g.subject, g.role, g.tenant_id or "*", state,
            f"granted {g.granted_at.isoformat(timespec='seconds')}",
            f"by {g.granted_by or '-'}"]) + "\n")
    print(f"{len(grants)} grant(s)", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    from fraiseql.authz.manage import check
    from fraiseql.cli.roles import with_rbac
    verdict = with_rbac(args, lambda conn: check(conn, args.subject, args.permission,
                                                 args.tenant, frozenset(args.roles)))
    where = f" in tenant {args.tenant}" if args.tenant else ""
    print(f"{'allowed' if verdict.allowed else 'denied'}: {args.subject} "
          f"{'may' if verdict.allowed else 'may not'} {args.permission}{where}")
    for reason in verdict.reasons:
        print(f"  {reason.effect} {reason.pattern} from role {reason.role}")
    if not verdict.reasons:
        print("  no role of theirs allows it")
    print(f"  roles: {', '.join(sorted(verdict.access.roles)) or '-'}")
    return 0


def _os_user() -> str | None:
    import getpass
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None
