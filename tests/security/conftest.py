"""Fixtures of the attack tests (defined in support.fixtures)."""

from support.acl_redis import acl_bus
from support.fixtures import referral_service

__all__ = ["acl_bus", "referral_service"]
