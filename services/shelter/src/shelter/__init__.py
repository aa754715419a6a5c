"""Körpü shelter service."""
