"""`korpu erase REFERRAL --reason TEXT`: erase a person's data at once, on a legal decision.

In Azerbaijan access to a victim's data ends on a prosecutor's or court decision
(docs/domain.md). The case stays (status, tasks, history, statistics); the person goes.
The reason is the decision's reference, kept in the audit trail with the
operator's name, and refused when it names the person.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid

from korpu import output

REASON_LIMIT = 500


def command(args: argparse.Namespace) -> int:
    from referral import bootstrap
    from referral.adapters import audit, sealing, tables
    from referral.adapters import erasure as erasure_adapter
    from referral.service_layer import erasure

    try:
        referral_id = str(uuid.UUID(args.referral))
    except ValueError:
        return _fail("REFERRAL must be a referral id, as the intake answered it", 2)
    reason = (args.reason or "").strip()
    if not 1 <= len(reason) <= REASON_LIMIT:
        return _fail(f"give --reason, 1 to {REASON_LIMIT} characters", 2)
    actor = audit.operator()
    try:
        # With the keys: it opens the person (is the reason naming them?) and
        # parked entries (which are this submission's?).
        database = bootstrap.database(bootstrap.Settings())
    except sealing.KeyConfigError as error:
        return _fail(str(error), 1)
    try:
        database.create_schema(tables.metadata)
        erased = database.transaction(
            lambda conn: erasure.erase(conn, referral_id, erasure.Basis.ORDER, actor, reason)
        )
        erasure_adapter.checkpoint(database.engine)
    except erasure.UnknownReferral:
        return _fail(f"no referral {referral_id}", 1)
    except sealing.CannotOpen as error:
        return _fail(f"{error}; nothing was erased", 1)
    except erasure.ReasonNamesThePerson:
        return _fail(
            "the reason names the person, and the audit trail is never erased: "
            "give the decision's reference instead (authority, number, date)",
            2,
        )
    finally:
        database.close()
    _report(erased.referral_id, erased.erased_at, erased.before, args.json)
    return 0


def _report(referral_id: str, at: dt.datetime, before: bool, as_json: bool) -> None:
    when = at.astimezone(dt.UTC).isoformat()
    if as_json:
        output.show(
            json.dumps({"referral_id": referral_id, "erased_at": when, "erased_before": before})
        )
    elif before:
        output.show(f"Referral {referral_id}: its personal data was already erased at {when}.")
    else:
        output.show(f"Referral {referral_id}: personal data erased at {when}.")
        print("The case stays, without the person: status, services, history, statistics.")


def _fail(message: str, code: int) -> int:
    output.show(f"korpu erase: {message}", sys.stderr)
    return code
