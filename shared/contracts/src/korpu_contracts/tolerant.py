"""How a reader takes a vocabulary's value added after it was built: the rule, once.

A value is added to a vocabulary (`vocabulary.Service`, `TaskStatus`, `Reason`...)
without a new event version, so a service built before it may read it: a provider
upgraded first answers with a status the referral service does not know yet. An
event field typed with a closed enum would refuse the whole event, and the entry
would be retried and dead-lettered for one word. So every vocabulary field of an
event says what an older reader makes of a value it does not know:

- `Fallback`: read as a documented member that already means "something else" or
  "not said" (a reason as `other`, a sex or safety risk as `unknown`).
- `Kept`: kept as an `Unknown`, which the type makes every reader handle; a reader
  never applies a value it does not know (a task status is logged and left as it was).
- `Skipped`: an entry of a mapping or list naming one is left out, as an unknown
  field is (an agency's status without the answer of a service added later; a
  consent of a kind unknown is read as not given, never as granted).

Only while reading (`registry.read` passes `READING`): a writer building an event,
and the agency's HTTP and sealed bodies, are refused any value not in the
vocabulary, naming the field. Only a code (`CODE`) is tolerated: anything else is
not a value added later but a broken event, refused as before. The published JSON
Schemas list the known values; readers must take values added later this way.
Rejected: a new event version per added value (every provider and agency would
upgrade for each kind of help); open strings (writers would lose the check).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final

from pydantic import GetCoreSchemaHandler, ValidationInfo
from pydantic_core import core_schema

from korpu_contracts import vocabulary

# The validation context a reader passes (`registry.read`); writers pass none.
READING: Final = {"korpu_reading": True}

# What a vocabulary's value looks like: lowercase words joined by `_` or `-`, short.
CODE = re.compile(r"[a-z][a-z0-9_-]{0,63}")


class Unknown(str):
    """A code a reader's vocabulary does not have: a value added after the reader was built."""

    __slots__ = ()


def _reading(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and info.context.get("korpu_reading") is True


def _added_later(value: object, known: type[StrEnum]) -> bool:
    """A code that is none of `known`'s values (a member or anything else: False)."""
    if not isinstance(value, str) or isinstance(value, StrEnum):
        return False
    return CODE.fullmatch(value) is not None and value not in known._value2member_map_


Validate = core_schema.ValidatorFunctionWrapHandler


class _WhenReading:
    """An annotation that takes a value its own way while reading, and validates it else.

    The schema (and so the published JSON Schema) and the way the value is written
    stay those of the annotated type, unless `schema` and `written_as` say otherwise.
    """

    written_as: ClassVar[core_schema.SerSchema | None] = None

    def take(self, value: Any, validate: Validate) -> Any:
        raise NotImplementedError

    def schema(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return handler(source)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def read(value: Any, validate: Validate, info: ValidationInfo) -> Any:
            return self.take(value, validate) if _reading(info) else validate(value)

        return core_schema.with_info_wrap_validator_function(
            read, self.schema(source, handler), serialization=self.written_as
        )


@dataclass(frozen=True)
class Fallback(_WhenReading):
    """Read a value added later as `member`."""

    member: StrEnum

    def take(self, value: Any, validate: Validate) -> Any:
        return self.member if _added_later(value, type(self.member)) else validate(value)


@dataclass(frozen=True)
class Kept(_WhenReading):
    """Read a value added later as an `Unknown` of that code; the type is `known | Unknown`."""

    known: type[StrEnum]
    # Were a reader to pass on what it read, an `Unknown` is written as its code.
    written_as: ClassVar[core_schema.SerSchema | None] = (
        core_schema.plain_serializer_function_ser_schema(str, when_used="json")
    )

    def take(self, value: Any, validate: Validate) -> Any:
        return Unknown(value) if _added_later(value, self.known) else validate(value)

    def schema(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        # The vocabulary's alone: `Unknown` is never written, so never published.
        return handler.generate_schema(self.known)


@dataclass(frozen=True)
class Skipped(_WhenReading):
    """Leave out the items (or mapping entries) naming a value added later.

    `known` is what a list holds or a mapping's keys are; `values`, a mapping's values.
    """

    known: type[StrEnum]
    values: type[StrEnum] | None = None

    def take(self, value: Any, validate: Validate) -> Any:
        if isinstance(value, dict):
            return validate({k: v for k, v in value.items() if not self._added(k, v)})
        if isinstance(value, list):
            return validate([item for item in value if not _added_later(item, self.known)])
        return validate(value)

    def _added(self, key: object, value: object) -> bool:
        later_value = self.values is not None and _added_later(value, self.values)
        return _added_later(key, self.known) or later_value


# Per vocabulary an event carries, what a reader makes of a value added later.
# The field naming a service on that service's own stream (`TaskRequested.service`,
# `TaskCancelled.service`) stays a plain `vocabulary.Service`: a service its reader
# does not know is not the reader's, so the entry was never for it.
Reason = Annotated[vocabulary.Reason, Fallback(vocabulary.Reason.OTHER)]
Sex = Annotated[vocabulary.Sex, Fallback(vocabulary.Sex.UNKNOWN)]
SafetyRisk = Annotated[vocabulary.SafetyRisk, Fallback(vocabulary.SafetyRisk.UNKNOWN)]
TaskStatus = Annotated[vocabulary.TaskStatus | Unknown, Kept(vocabulary.TaskStatus)]
ReferralStatus = Annotated[vocabulary.ReferralStatus | Unknown, Kept(vocabulary.ReferralStatus)]
Service = Annotated[vocabulary.Service | Unknown, Kept(vocabulary.Service)]
ActionNeeded = Annotated[vocabulary.ActionNeeded | Unknown, Kept(vocabulary.ActionNeeded)]
