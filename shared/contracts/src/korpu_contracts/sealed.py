"""A referral sealed to the referral service's key: only that service can read the person.

An agency on the bus writes its referral into Redis, whose append-only file,
replicas and backups keep every entry long after the referral service has
deleted it. So the agency encrypts the referral with HPKE (RFC 9180, base mode)
to the referral service's intake public key before it adds the entry: Redis and
every copy of it hold a ciphertext, and only the holder of the private key reads
the person.

The suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305. X25519
has 32-byte keys an operator can paste, every public key is valid (no point to
check) and it is constant-time everywhere; ChaCha20-Poly1305 is constant-time
in software, on an agency's laptop or a small ARM box without AES instructions,
where AES-GCM would be slow or leak through tables. Rejected: a post-quantum
KEM (ML-KEM), whose 1 KB keys and ciphertexts do not paste, and whose support
in other languages' HPKE libraries an agency cannot count on yet.

The ciphertext is bound to its entry: the HPKE `info` names the intake stream,
the organization, the idempotency key and the key id (`context`). Moved under
another organization's entry, another idempotency key or another stream, it
does not open. Each entry has its own ephemeral key (`enc`), so two entries
never share a secret.

Usage, by an agency (the key as `korpu keys intake show` prints it):

    key = sealed.IntakeKey.parse("20261207T120000000000Z-a1b2c3:0123…=")
    command = intake.SubmitReferral(
        organization_id=org, idempotency_key=idem,
        sealed_referral=sealed.seal_referral(body, key, org, idem),
    )
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ConfigDict, StringConstraints

SUITE_NAME: Literal["x25519-sha256-chacha20poly1305"] = "x25519-sha256-chacha20poly1305"
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_ENC_BYTES = 32  # an X25519 public key: the encapsulated key before the ciphertext
_DOMAIN = b"korpu-intake-referral-v1\n"
# A referral body is bounded by its model (notes up to 4000 characters, names
# 100): 64 KB of ciphertext is far above any valid one.
MAX_CIPHERTEXT = 65_536
KEY_ID_PATTERN = r"^[0-9]{8}T[0-9]{12}Z-[0-9a-f]{6}$"
_KEY_ID = re.compile(KEY_ID_PATTERN)
_BASE64 = r"^[A-Za-z0-9+/]*={0,2}$"

# Why a plain (unencrypted) intake entry is refused; answered on the replies stream.
MUST_BE_SEALED = "the referral must be sealed to the referral service's key"

KeyId = Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)]


class SealedReferral(BaseModel):
    """The agency's referral body, encrypted to the referral service's intake key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: Literal["x25519-sha256-chacha20poly1305"] = SUITE_NAME
    # Which of the referral service's intake keys it was sealed to (several are
    # accepted while an old one is being retired).
    key_id: KeyId
    # The HPKE encapsulated key (the sender's ephemeral X25519 public key), base64.
    enc: Annotated[str, StringConstraints(min_length=44, max_length=44, pattern=_BASE64)]
    # The AEAD ciphertext of the referral body as JSON, with its tag, base64.
    ciphertext: Annotated[
        str,
        StringConstraints(min_length=1, max_length=(MAX_CIPHERTEXT + 2) // 3 * 4, pattern=_BASE64),
    ]


class Unopened(ValueError):
    """A sealed referral the referral service cannot open. The text never holds its content."""


@dataclasses.dataclass(frozen=True)
class IntakeKey:
    """One of the referral service's intake public keys, as agencies are given it."""

    key_id: str
    public_key: X25519PublicKey

    def __str__(self) -> str:
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return f"{self.key_id}:{base64.b64encode(raw).decode()}"

    @classmethod
    def parse(cls, text: str) -> IntakeKey:
        """`<key id>:<base64 of the 32-byte X25519 public key>`, as `__str__` writes it."""
        key_id, _, encoded = text.strip().partition(":")
        if not _KEY_ID.fullmatch(key_id):
            raise ValueError("not an intake key: expected <key id>:<base64 public key>")
        try:
            raw = base64.b64decode(encoded, validate=True)
            return cls(key_id, X25519PublicKey.from_public_bytes(raw))
        except (binascii.Error, ValueError):
            raise ValueError(
                "not an intake key: the public key is not 32 bytes of base64"
            ) from None


# What a sealed referral is for, bound into every ciphertext: the name the intake
# stream had when sealing came (kept, so that nothing sealed before opens differently).
_PURPOSE = "korpu.referral.intake"


def context(key_id: str, organization_id: str, idempotency_key: str) -> bytes:
    """The HPKE `info`: what a ciphertext is bound to. Length-prefixed, so no two encode alike."""
    parts = [_DOMAIN]
    for part in (_PURPOSE, organization_id, idempotency_key, key_id):
        encoded = part.encode()
        parts.append(b"%d:%s\n" % (len(encoded), encoded))
    return b"".join(parts)


def seal_referral(
    referral: BaseModel | Mapping[str, Any],
    key: IntakeKey,
    organization_id: str,
    idempotency_key: str,
) -> SealedReferral:
    """Encrypt a referral body (`intake.ReferralRequest` or its JSON as a dict) to `key`,
    for the intake entry of this organization under this idempotency key."""
    if isinstance(referral, BaseModel):
        plain = referral.model_dump_json().encode()
    else:
        plain = json.dumps(referral, ensure_ascii=False).encode()
    sealed = _SUITE.encrypt(
        plain, key.public_key, info=context(key.key_id, organization_id, idempotency_key)
    )
    return SealedReferral(
        key_id=key.key_id,
        enc=base64.b64encode(sealed[:_ENC_BYTES]).decode(),
        ciphertext=base64.b64encode(sealed[_ENC_BYTES:]).decode(),
    )


def open_referral(
    sealed: SealedReferral,
    private_keys: Mapping[str, X25519PrivateKey],
    organization_id: str,
    idempotency_key: str,
) -> bytes:
    """The referral body's JSON, for the referral service; `Unopened` saying why otherwise."""
    key = private_keys.get(sealed.key_id)
    if key is None:
        raise Unopened(f"sealed to key {sealed.key_id}, which the referral service does not hold")
    try:
        whole = base64.b64decode(sealed.enc, validate=True) + base64.b64decode(
            sealed.ciphertext, validate=True
        )
        return _SUITE.decrypt(
            whole, key, info=context(sealed.key_id, organization_id, idempotency_key)
        )
    except (InvalidTag, binascii.Error, ValueError):
        raise Unopened(
            "the sealed referral does not open: altered, or sealed for another "
            "organization, idempotency key or key"
        ) from None
