"""Körpü medical service."""
