"""Körpü command line: runs, seeds and demonstrates the services."""
