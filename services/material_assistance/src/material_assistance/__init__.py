"""Körpü material assistance service."""
