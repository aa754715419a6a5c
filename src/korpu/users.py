"""`korpu users`: the console's accounts (korpu.console.accounts), made on this machine.

A password is read from standard input with `--password-stdin`, asked for twice on a
terminal, or else made here and shown once: a script gets one it can hand over, and
nothing echoes a password typed. Each command is written to the console's audit trail.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from korpu import catalog, output


def add_parser(commands: Any) -> None:
    users = commands.add_parser("users", help="the console's accounts").add_subparsers(
        title="users commands", required=True
    )
    create = users.add_parser("create", help="an account: viewer (sees) or operator (also acts)")
    create.add_argument("name")
    create.add_argument(
        "--role", required=True, choices=("viewer", "operator", "case_worker", "coordinator")
    )
    create.add_argument(
        "--provider",
        choices=catalog.PROVIDERS,
        help="a case worker's provider (with --organization)",
    )
    create.add_argument(
        "--organization",
        help="the organization a case worker (at --provider) or coordinator (at the referral "
        "service) acts for; the account gets a key of its own there",
    )
    create.add_argument(
        "--entry",
        action="append",
        default=[],
        help="a case worker's facility, program, lawyer, ... (repeat; none: all of them)",
    )
    _password_source(create)
    output.add_json(create)
    create.set_defaults(run=_create)
    listing = users.add_parser("list", help="every account: name, role, lock, disabled")
    output.add_json(listing)
    listing.set_defaults(run=_list)
    password = users.add_parser(
        "password", help="a new password (lifts a lock, ends every session of the account)"
    )
    password.add_argument("name")
    _password_source(password)
    output.add_json(password)
    password.set_defaults(run=_password)
    disable = users.add_parser("disable", help="no more sign-ins; ends every session now")
    disable.add_argument("name")
    output.add_json(disable)
    disable.set_defaults(run=_disable)


def _password_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def _create(args: argparse.Namespace) -> int:
    from korpu.console import accounts

    role = accounts.Role(args.role)
    try:
        made = _key_for(args, role)
    except accounts.AccountError as error:
        output.show(f"korpu users create: {error}", sys.stderr)
        return 1
    tie, sealed = made if made is not None else (None, None)

    def create(conn: Any, password: str) -> Any:
        return accounts.create(conn, args.name, role, password, tie, sealed)

    code = _with_password(args, "create", create)
    if code != 0 and tie is not None:
        _revoke(tie, "the console account was not created")
    return code


def _key_for(args: argparse.Namespace, role: Any) -> tuple[Any, bytes] | None:
    """A case worker's or coordinator's own key at its service, made now, and sealed."""
    from korpu.console import accounts, delegation
    from korpu.console.settings import ConsoleSettings

    accounts.check_name(args.name)
    if role not in accounts.TIED:
        if args.provider or args.organization or args.entry:
            raise accounts.AccountError(f"a {role} acts for no organization")
        return None
    if role is accounts.Role.CASE_WORKER and not args.provider:
        raise accounts.AccountError("a case worker needs --provider and --organization")
    if not args.organization:
        raise accounts.AccountError(f"a {role} needs --organization")
    if role is accounts.Role.COORDINATOR and (args.provider or args.entry):
        raise accounts.AccountError("a coordinator acts at the referral service: no --provider")
    service = args.provider or catalog.REFERRAL
    keyring = catalog.keyring(service)
    scopes = delegation.SCOPES[str(role)]

    def make(conn: Any) -> tuple[str, str]:
        if not keyring.exists(conn, args.organization):
            raise accounts.AccountError(f"no organization {args.organization} at {service}")
        found: tuple[str, str] = keyring.create_key(conn, args.organization, scopes)
        return found

    key_id, api_key = catalog.once(service, make)
    tie = delegation.Tie(service, args.organization, key_id, tuple(args.entry))
    sealed = delegation.Sealer(ConsoleSettings().keys_dir).seal(api_key, args.name)
    return tie, sealed


def _revoke(tie: Any, reason: str) -> None:
    keyring = catalog.keyring(tie.service)
    catalog.once(tie.service, lambda conn: keyring.revoke(conn, tie.key_id, reason))


def _password(args: argparse.Namespace) -> int:
    from korpu.console import accounts

    return _with_password(
        args, "password", lambda conn, password: accounts.set_password(conn, args.name, password)
    )


def _with_password(args: argparse.Namespace, command: str, work: Any) -> int:
    from korpu.console import accounts

    try:
        accounts.check_name(args.name)
        password, made = _read_password(args)
        catalog.once(catalog.CONSOLE, lambda conn: work(conn, password))
    except accounts.AccountError as error:
        output.show(f"korpu users {command}: {error}", sys.stderr)
        return 1
    document: dict[str, Any] = {"name": args.name}
    if command == "create":
        document["role"] = args.role
    if made:
        document["password"] = password  # shown once: it is stored as a hash only
    if args.json:
        output.document(document)
    else:
        print(f"{args.name}: {'created' if command == 'create' else 'password set'}")
        if made:
            print(f"password (shown once, stored as a hash only): {password}")
    return 0


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password and whether it was made here."""
    from korpu.console import accounts

    if args.password_stdin:
        return accounts.check_password(sys.stdin.readline().rstrip("\r\n")), False
    if sys.stdin.isatty() and not args.json:
        first = getpass.getpass("Password (empty: make one): ")
        if not first:
            return accounts.new_password(), True
        if getpass.getpass("Again: ") != first:
            raise accounts.AccountError("the two passwords differ")
        return accounts.check_password(first), False
    return accounts.new_password(), True


def _list(args: argparse.Namespace) -> int:
    from korpu.console import accounts

    found = catalog.once(catalog.CONSOLE, accounts.listing)
    if args.json:
        output.document({"users": found})
        return 0
    if not found:
        print("No accounts yet: korpu users create NAME --role viewer|operator")
    for user in found:
        state = "disabled" if user["disabled"] else ""
        if user["locked_until"]:
            state = f"locked until {user['locked_until']}"
        output.show(f"{user['name']:<24} {user['role']:<9} {state}")
    return 0


def _disable(args: argparse.Namespace) -> int:
    from korpu.console import accounts

    try:
        tie = catalog.once(catalog.CONSOLE, lambda conn: accounts.disable(conn, args.name))
    except accounts.AccountError as error:
        output.show(f"korpu users disable: {error}", sys.stderr)
        return 1
    if tie is not None:
        _revoke(tie, "the console account was disabled")
    if args.json:
        output.document({"name": args.name, "disabled": True})
    else:
        print(f"{args.name}: disabled, every session ended")
    return 0
