"""Körpü legal_aid service."""
