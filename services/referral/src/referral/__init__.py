"""Körpü referral service."""
