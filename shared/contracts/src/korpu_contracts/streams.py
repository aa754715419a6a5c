"""Stream and consumer-group names: the only place they are spelt."""

import re
from typing import Final

from korpu_contracts.vocabulary import Service

# The three streams between the referral service and one agency on the bus: one of
# each per organization, named by its id (`{organization_id}` below is a template,
# filled by the functions after it). On a Redis with users (korpu.redis_acl), each
# organization's user may add to its own intake and read its own replies and status
# changes, and nothing else: no agency can read, trim (XADD MAXLEN 0), delete or
# block (an entry with the highest id) another's entries. Rejected: one stream of
# each for every agency, where Redis's permissions cannot split one writer from
# another, nor one reader's entries from another's.
#
# Agency systems submit referrals here; the referral service reads, stores and then
# deletes each entry (it carries personal data in transit).
INTAKE: Final = "korpu.referral.intake.{organization_id}"
# Answers to intake entries: accepted with the referral id, or rejected naming the bad fields.
INTAKE_REPLIES: Final = "korpu.referral.replies.{organization_id}"
# Every change of the coordinated status of the organization's referrals.
REFERRAL_STATUS: Final = "korpu.referral.status.{organization_id}"
PER_ORGANIZATION: Final = (INTAKE, INTAKE_REPLIES, REFERRAL_STATUS)
_ORGANIZATION_ID: Final = re.compile(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def _of(template: str, organization_id: str) -> str:
    # Checked: an id lands in a key name and in a Redis user's key pattern.
    if not _ORGANIZATION_ID.fullmatch(organization_id):
        raise ValueError("an organization id is a UUID in lower case")
    return template.format(organization_id=organization_id)


def intake(organization_id: str) -> str:
    return _of(INTAKE, organization_id)


def intake_replies(organization_id: str) -> str:
    return _of(INTAKE_REPLIES, organization_id)


def referral_status(organization_id: str) -> str:
    return _of(REFERRAL_STATUS, organization_id)


def template_of(stream: str) -> str:
    """The template a per-organization stream was made from; any other stream itself."""
    for template in PER_ORGANIZATION:
        prefix = template.removesuffix("{organization_id}")
        if stream.startswith(prefix) and _ORGANIZATION_ID.fullmatch(stream[len(prefix) :]):
            return template
    return stream


def organization_of(stream: str) -> str | None:
    """The organization a per-organization stream is of; None for any other stream."""
    template = template_of(stream)
    if template == stream:
        return None
    return stream[len(template.removesuffix("{organization_id}")) :]


def pattern(template: str) -> str:
    """A Redis glob matching every stream made from `template` (key patterns, SCAN)."""
    return template.replace("{organization_id}", "*")


# Task requests and cancellations, one stream per receiving service; each provider's
# answers about its tasks, read by the referral coordinator: one stream per provider, so
# that on a Redis with the per-service users (korpu.redis_acl) a provider can add answers
# only as itself, and can neither trim, block (an entry with the highest id) nor forge
# another provider's answers. Rejected: one stream all providers add to, which Redis's
# permissions cannot split by writer. Named from the provider's name (`Service`, the one
# list of providers): deployments rely on these names, so they never change.


def requests(service: Service) -> str:
    """The stream of task requests and cancellations `service` reads."""
    return f"korpu.{Service(service)}.requests"


def updates(service: Service) -> str:
    """The stream `service` answers about its tasks on."""
    return f"korpu.{Service(service)}.updates"


def group(service: Service) -> str:
    """The consumer group `service` reads its requests through: its own name."""
    return str(Service(service))


REQUESTS_BY_SERVICE: Final[dict[str, str]] = {str(s): requests(s) for s in Service}
UPDATES_BY_SERVICE: Final[dict[str, str]] = {str(s): updates(s) for s in Service}

# The first providers' names, kept as aliases of the functions above.
SHELTER_REQUESTS: Final = requests(Service.SHELTER)
EMPLOYMENT_REQUESTS: Final = requests(Service.EMPLOYMENT)
LEGAL_AID_REQUESTS: Final = requests(Service.LEGAL_AID)
SHELTER_UPDATES: Final = updates(Service.SHELTER)
EMPLOYMENT_UPDATES: Final = updates(Service.EMPLOYMENT)
LEGAL_AID_UPDATES: Final = updates(Service.LEGAL_AID)

# Cases entering the national coordinator's Action needed queue (`referral.Escalated`),
# for the operators' console and any alerting that reads the bus. No personal data.
ESCALATIONS: Final = "korpu.referral.escalations"

ALL: Final = (
    *PER_ORGANIZATION,
    ESCALATIONS,
    *REQUESTS_BY_SERVICE.values(),
    *UPDATES_BY_SERVICE.values(),
)

# Who may write each stream: the service whose signature a reader accepts on its
# entries (korpu_runtime.signing). The intake is written by agencies, which sign
# nothing with a service's key: an empty tuple, checked by the intake itself.
# Per-organization streams under their template: look them up with `producers_of`.
PRODUCERS: Final[dict[str, tuple[str, ...]]] = {
    INTAKE: (),
    INTAKE_REPLIES: ("referral",),
    REFERRAL_STATUS: ("referral",),
    ESCALATIONS: ("referral",),
    **{stream: ("referral",) for stream in REQUESTS_BY_SERVICE.values()},
    **{stream: (service,) for service, stream in UPDATES_BY_SERVICE.items()},
}


def producers_of(stream: str) -> tuple[str, ...] | None:
    """Who may write `stream` (a per-organization one under its template); None if unknown."""
    return PRODUCERS.get(template_of(stream))


# Who reads each stream a service reads: the only service that may dead-letter its entries.
READERS: Final[dict[str, str]] = {
    INTAKE: "referral",
    **{stream: "referral" for stream in UPDATES_BY_SERVICE.values()},
    **{stream: service for service, stream in REQUESTS_BY_SERVICE.items()},
}

# Consumer groups: one per reading service role (a provider's: `group(service)`).
GROUP_REFERRAL_INTAKE: Final = "referral-intake"
GROUP_REFERRAL_COORDINATOR: Final = "referral-coordinator"
GROUP_SHELTER: Final = group(Service.SHELTER)
GROUP_EMPLOYMENT: Final = group(Service.EMPLOYMENT)
GROUP_LEGAL_AID: Final = group(Service.LEGAL_AID)

# The single field of every stream entry: one JSON document, the envelope.
ENTRY_FIELD: Final = "event"
# Beside it, the writing service's signature over the entry (korpu_runtime.signing):
# `v1:<service>:<key id>:<Ed25519 signature, base64url>`. A dead letter keeps the
# original entry's signature under EVENT_SIGNATURE_FIELD and carries its own.
SIGNATURE_FIELD: Final = "signature"
EVENT_SIGNATURE_FIELD: Final = "event_signature"

# Entries that failed `max_deliveries` times, moved here by the runtime (not an
# event stream: each entry keeps the original entry and why it died). Fields:
#   origin_stream, origin_id, group, handler, error, deliveries, dead_at (ISO 8601),
#   event (the original entry's `event` field, unchanged), event_signature (its signature),
#   signature (the dead-lettering service's own, over the letter),
#   replay_of (present when the dead entry was itself a replay: the earlier dead-letter id).
# One stream per service that reads, written by it alone: on a shared one, any reader
# allowed to add could also wipe the others' letters (XADD MAXLEN 0) or block the
# stream (an entry with the highest id), which Redis's permissions cannot forbid.


def reader_of(stream: str) -> str | None:
    """The service reading `stream` (a per-organization one under its template)."""
    return READERS.get(template_of(stream))


DEAD_LETTERS_BY_SERVICE: Final[dict[str, str]] = {
    service: f"korpu.deadletters.{service}" for service in dict.fromkeys(READERS.values())
}


def dead_letters(service: str) -> str:
    """The stream of the letters `service` gave up on."""
    return f"korpu.deadletters.{service}"


# What operators did with dead letters: fields id, action (replayed|discarded), reason, at,
# by (who: a console user `console:<name>`, or the login@host of a command line).
DEAD_LETTERS_RESOLVED: Final = "korpu.deadletters.resolved"
# A replayed entry carries this extra field naming the dead letter it came from.
REPLAY_FIELD: Final = "replay_of"
# A dead letter from a stream carrying personal data (the intake) has an empty
# `event` and this field instead: the token of the entry parked in the database
# of the service that read it. A replay carries the token back to that service.
PARKED_FIELD: Final = "parked"
