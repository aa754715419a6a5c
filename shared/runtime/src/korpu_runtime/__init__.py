"""Körpü service runtime: broker set-up, outbox relay, inbox, logging, settings, health."""
