"""The signature of one stream entry: what is signed, and how the signature field reads.

Every service signs its entries (korpu_runtime.signing, which keeps the keys and
checks them); an agency on the bus signs its intake entries the same way with its
organization's bus key, so no organization can send as another. Here, in the
contracts, because an agency's system needs the exact bytes too and nothing of
the runtime.

The field `signature` holds `v1:<signer>:<key id>:<Ed25519 signature, base64url>`.
The signer is a service's name, or `agency` for an organization's bus key (whose
key id names the organization to the referral service).

Usage, by an agency (the key as `korpu org keys create ORG --bus` printed it once):

    key = entry_signature.AgencyKey.parse(os.environ["KORPU_BUS_KEY"])
    stream = streams.intake(organization_id)
    fields = key.signed(stream, {streams.ENTRY_FIELD: envelope.to_json()})
    redis.xadd(stream, fields)
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from korpu_contracts import streams

VERSION = "v1"
_DOMAIN = b"korpu-entry-v1\n"
# Fields the signature leaves out: itself, and the mark of an operator's replay.
_UNSIGNED = frozenset({streams.SIGNATURE_FIELD, streams.REPLAY_FIELD})
NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
KEY_ID = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9a-f]{6}")
MAX_SIGNATURE = 200
# The signer of an agency's intake entry: the key id tells which organization.
AGENCY = "agency"


class Malformed(ValueError):
    """A signature field that is not one. The text is ours, never the entry's."""


def _text(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def signed_bytes(stream: str, signer: str, key_id: str, fields: Mapping[str, bytes | str]) -> bytes:
    """The exact bytes signed: length-prefixed, so no two entries encode alike."""
    parts = [_DOMAIN]
    for part in (stream, signer, key_id):
        parts.append(b"%d:%s\n" % (len(part), part.encode()))
    for name in sorted(fields):
        if name in _UNSIGNED:
            continue
        value = _text(fields[name])
        parts.append(b"%d:%s%d:%s\n" % (len(name), name.encode(), len(value), value))
    return b"".join(parts)


def field_value(signer: str, key_id: str, signature: bytes) -> str:
    encoded = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    return f"{VERSION}:{signer}:{key_id}:{encoded}"


def parse(fields: Mapping[str, bytes | str]) -> tuple[str, str, bytes]:
    """(signer, key id, signature) from an entry's signature field; `Malformed` otherwise."""
    raw = _text(fields.get(streams.SIGNATURE_FIELD, b""))
    if not raw:
        raise Malformed("the entry is not signed")
    if len(raw) > MAX_SIGNATURE:
        raise Malformed("the signature is malformed")
    version, signer, key_id, encoded = (raw.decode(errors="replace").split(":") + [""] * 4)[:4]
    if version != VERSION or not NAME.fullmatch(signer) or not KEY_ID.fullmatch(key_id):
        raise Malformed("the signature is malformed")
    try:
        signature = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise Malformed("the signature is malformed") from None
    return signer, key_id, signature


@dataclasses.dataclass(frozen=True)
class AgencyKey:
    """An organization's bus key: signs its intake entries as that organization alone."""

    key_id: str
    private_key: Ed25519PrivateKey = dataclasses.field(repr=False)

    def __str__(self) -> str:
        raw = self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return f"{self.key_id}:{base64.b64encode(raw).decode()}"

    @classmethod
    def generate(cls, key_id: str) -> AgencyKey:
        return cls(key_id, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> AgencyKey:
        """`<key id>:<base64 of the 32-byte Ed25519 private key>`, as `__str__` writes it."""
        key_id, _, encoded = text.strip().partition(":")
        if not KEY_ID.fullmatch(key_id):
            raise ValueError("not a bus key: expected <key id>:<base64 private key>")
        try:
            raw = base64.b64decode(encoded, validate=True)
            return cls(key_id, Ed25519PrivateKey.from_private_bytes(raw))
        except (binascii.Error, ValueError):
            raise ValueError("not a bus key: the private key is not 32 bytes of base64") from None

    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def signed(self, stream: str, fields: Mapping[str, bytes | str]) -> dict[str, bytes | str]:
        """`fields` with this organization's signature added, ready for XADD on `stream`."""
        signature = self.private_key.sign(signed_bytes(stream, AGENCY, self.key_id, fields))
        return {**fields, streams.SIGNATURE_FIELD: field_value(AGENCY, self.key_id, signature)}
