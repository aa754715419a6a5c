"""Fixtures of the attack tests (defined in support.fixtures)."""

from support.fixtures import referral_service

__all__ = ["referral_service"]
