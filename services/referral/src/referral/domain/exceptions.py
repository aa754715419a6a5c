"""What can go wrong with a referral, in the domain's words."""


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with another body."""


class UnknownOrganization(Exception):
    """No such organization (an intake entry naming one that does not exist)."""


class UnknownTask(Exception):
    """A provider answered about a task this service never created (see `record_task_update`)."""


class CaseEnded(Exception):
    """Consent cannot change on a referral withdrawn, closed, or whose person was erased."""


class NotAChild(Exception):
    """`not_required_child` given for a person who is an adult."""


class NotLinked(Exception):
    """The referral is not (or no longer) linked to another case as a possible duplicate."""


class NotInReview(Exception):
    """No referral with that id waits in review (none, decided, or withdrawn meanwhile)."""


class OpenReferralsCap(Exception):
    """The organization has as many open referrals as it may; `cap` says how many."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"{cap} open referrals")
        self.cap = cap


class TooManyWebhooks(Exception):
    """An organization has as many webhook endpoints as it may; one must be removed first."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"at most {cap} webhook endpoints")
        self.cap = cap


class UnknownEventType(ValueError):
    """A webhook asked for an event type Körpü does not send."""
