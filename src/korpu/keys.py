"""`korpu keys`: the keys sealing personal data at rest in the referral service
(`generate`, `rotate`), and the keys each service signs its stream entries with
(`signing generate|list|retire`, korpu_runtime.signing), and the key agencies seal
referrals on the bus to (`intake show|generate|list|retire`, referral.adapters.intake_keys).

A key is printed only by `generate`, for the operator to put in the referral
service's settings; `rotate` prints key ids and counts, never a key.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from korpu import output


def add_parser(commands: Any) -> None:
    keys = commands.add_parser("keys", help="keys sealing personal data at rest").add_subparsers(
        title="keys commands"
    )
    generate = keys.add_parser("generate", help="print a fresh key for the referral settings")
    generate.add_argument(
        "--blind-index",
        action="store_true",
        help="a REFERRAL_BLIND_INDEX_KEY instead of a REFERRAL_DATA_KEYS entry",
    )
    output.add_json(generate)
    generate.set_defaults(run=_generate)
    rotate = keys.add_parser(
        "rotate", help="seal every row under the current (first) key, services running"
    )
    output.add_json(rotate)
    rotate.set_defaults(run=_rotate)
    _add_signing(keys)
    _add_intake(keys)


def _add_intake(keys: Any) -> None:
    intake = keys.add_parser(
        "intake", help="the key agencies on the bus seal referrals to (HPKE)"
    ).add_subparsers(title="intake key commands")
    show = intake.add_parser("show", help="print the public key to give agencies, with its id")
    output.add_json(show)
    show.set_defaults(run=_intake_show)
    generate = intake.add_parser(
        "generate", help="a new key pair, given to agencies from now on; the old still opens"
    )
    output.add_json(generate)
    generate.set_defaults(run=_intake_generate)
    listing = intake.add_parser("list", help="every intake key, oldest first")
    output.add_json(listing)
    listing.set_defaults(run=_intake_list)
    retire = intake.add_parser(
        "retire", help="remove an old key: referrals sealed to it are refused"
    )
    retire.add_argument("key_id")
    output.add_json(retire)
    retire.set_defaults(run=_intake_retire)


def _intake_show(args: argparse.Namespace) -> int:
    from korpu_contracts import sealed
    from korpu_runtime.settings import ServiceSettings
    from referral.adapters import intake_keys

    settings = ServiceSettings(service="operator")
    try:
        key = intake_keys.current(settings.keys_dir, create=settings.env != "production")
    except intake_keys.NoIntakeKey as error:
        print(f"korpu keys intake show: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"key": str(key), "key_id": key.key_id, "suite": sealed.SUITE_NAME}))
        return 0
    print(str(key))
    print(
        f"\nGive agencies the line above (key id, then the X25519 public key in base64; "
        f"suite {sealed.SUITE_NAME}).\nThey seal each referral to it with "
        "korpu_contracts.sealed.seal_referral (README, Agency systems on the bus).",
        file=sys.stderr,
    )
    return 0


def _intake_generate(args: argparse.Namespace) -> int:
    from referral.adapters import intake_keys

    key_id = intake_keys.generate(_keys_dir())
    if args.json:
        output.document({"key_id": key_id})
        return 0
    print(f"New intake key {key_id}: `korpu keys intake show` prints it for agencies.")
    print("Referrals sealed to older keys open until those are retired.")
    return 0


def _intake_list(args: argparse.Namespace) -> int:
    from referral.adapters import intake_keys

    found = intake_keys.public_keys(_keys_dir())
    if args.json:
        # The newest is the one given to agencies.
        output.document(
            [
                {"key_id": key.key_id, "given_to_agencies": number == len(found)}
                for number, key in enumerate(found, 1)
            ]
        )
        return 0
    if not found:
        print("No intake key (the referral service makes its first at its first start).")
    for number, key in enumerate(found, 1):
        print(f"{key.key_id}{'  (given to agencies)' if number == len(found) else ''}")
    return 0


def _intake_retire(args: argparse.Namespace) -> int:
    from referral.adapters import intake_keys

    try:
        intake_keys.retire(_keys_dir(), args.key_id)
    except (LookupError, ValueError) as error:
        print(f"korpu keys intake retire: {error}", file=sys.stderr)
        return 1
    if args.json:
        output.document({"retired": args.key_id})
        return 0
    print(f"Retired the intake key {args.key_id}: referrals sealed to it are refused.")
    return 0


def _add_signing(keys: Any) -> None:
    signing = keys.add_parser(
        "signing", help="the keys each service signs its stream entries with"
    ).add_subparsers(title="signing commands")
    generate = signing.add_parser(
        "generate", help="a new key for each service named (all by default): also a rotation"
    )
    generate.add_argument("services", nargs="*", metavar="SERVICE")
    output.add_json(generate)
    generate.set_defaults(run=_signing_generate)
    listing = signing.add_parser("list", help="every service's keys, oldest first")
    output.add_json(listing)
    listing.set_defaults(run=_signing_list)
    retire = signing.add_parser("retire", help="remove an old key: its entries are refused")
    retire.add_argument("service")
    retire.add_argument("key_id")
    output.add_json(retire)
    retire.set_defaults(run=_signing_retire)


def _keys_dir() -> Path:
    from korpu_runtime.settings import ServiceSettings

    return ServiceSettings(service="operator").keys_dir


def _signing_generate(args: argparse.Namespace) -> int:
    from korpu import catalog
    from korpu_runtime import signing

    unknown = sorted(set(args.services) - set(catalog.SERVICES))
    if unknown:
        print(f"korpu keys signing: unknown service {', '.join(unknown)}", file=sys.stderr)
        return 2
    made = {
        service: signing.generate(_keys_dir(), service)
        for service in args.services or catalog.SERVICES
    }
    if args.json:
        output.document({"generated": made, "used_within_s": signing.RESCAN_SECONDS})
        return 0
    for service, key_id in made.items():
        print(f"{service}: new signing key {key_id} (used within {signing.RESCAN_SECONDS:.0f} s)")
    return 0


def _signing_list(args: argparse.Namespace) -> int:
    from korpu_runtime import signing

    found = signing.list_keys(_keys_dir())
    if args.json:
        output.document(
            [{"service": k.service, "key_id": k.key_id, "private": k.has_private} for k in found]
        )
        return 0
    if not found:
        print("No signing keys (each service makes its first at its first start).")
    for key in found:
        where = "private and public" if key.has_private else "public only"
        print(f"{key.service:<12} {key.key_id}  {where}")
    return 0


def _signing_retire(args: argparse.Namespace) -> int:
    from korpu_runtime import signing

    try:
        signing.retire(_keys_dir(), args.service, args.key_id)
    except (LookupError, ValueError) as error:
        print(f"korpu keys signing retire: {error}", file=sys.stderr)
        return 1
    if args.json:
        output.document({"service": args.service, "retired": args.key_id})
        return 0
    print(f"Retired {args.service}'s key {args.key_id}: entries signed with it are refused.")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from referral.adapters import key_store, sealing

    # A key for the operator's secret store: printed as the text form prints it, once.
    if args.blind_index:
        key, name = key_store.generate_index_key(), "blind_index_key"
    else:
        key, name = sealing.DataKey.generate().line(), "data_key"
    if args.json:
        output.document({name: key})
    else:
        print(key)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from referral import bootstrap
    from referral.adapters import audit, sealing

    # The referral service seals batch by batch and tells nothing until done: a line
    # every few seconds says it still works, then one per table.
    output.progress("keys rotate", "sealing every row under the newest key; services keep running")
    try:
        with output.still_working("keys rotate", "re-encrypting"):
            rotated = bootstrap.rotate_keys(bootstrap.Settings(), audit.operator())
    except (sealing.KeyConfigError, sealing.CannotOpen) as error:
        print(f"korpu keys rotate: {error}", file=sys.stderr)
        return 1
    for table, count in rotated.counts().items():
        output.progress("keys rotate", f"{table}: {count} re-encrypted under {rotated.key_id}")
    if args.json:
        result: dict[str, Any] = {
            "key_id": rotated.key_id,
            "re_encrypted": rotated.counts(),
            "remaining": rotated.remaining,
        }
        print(json.dumps(result))
    else:
        counts = ", ".join(f"{count} {table}" for table, count in rotated.counts().items())
        print(f"Re-encrypted under key {rotated.key_id}: {counts}.")
        if rotated.remaining:
            print(f"{rotated.remaining} rows changed meanwhile: run it again.")
        else:
            print("Every sealed value is under this key; older keys may now be removed.")
    return 1 if rotated.remaining else 0
