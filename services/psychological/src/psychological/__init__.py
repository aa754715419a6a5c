"""Körpü psychological service."""
