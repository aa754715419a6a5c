"""`korpu keys generate|rotate`: the keys sealing personal data at rest in the referral service.

A key is printed only by `generate`, for the operator to put in the referral
service's settings; `rotate` prints key ids and counts, never a key.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


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
    generate.set_defaults(run=_generate)
    rotate = keys.add_parser(
        "rotate", help="seal every row under the current (first) key, services running"
    )
    rotate.add_argument("--json", action="store_true", help="print JSON")
    rotate.set_defaults(run=_rotate)


def _generate(args: argparse.Namespace) -> int:
    from referral.adapters import key_store, sealing

    if args.blind_index:
        print(key_store.generate_index_key())
        return 0
    print(sealing.DataKey.generate().line())
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from referral import bootstrap
    from referral.adapters import audit, sealing

    try:
        rotated = bootstrap.rotate_keys(bootstrap.Settings(), audit.operator())
    except (sealing.KeyConfigError, sealing.CannotOpen) as error:
        print(f"korpu keys rotate: {error}", file=sys.stderr)
        return 1
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
