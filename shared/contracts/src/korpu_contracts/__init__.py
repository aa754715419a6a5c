"""Körpü message contracts: envelope, event types, stream and group names. Needs only pydantic."""
