"""Körpü employment service."""
