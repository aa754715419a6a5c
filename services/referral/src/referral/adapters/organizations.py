"""Agencies and their API keys: the runtime's one key design (korpu_runtime.api_keys),
with the referral service's scopes."""

from __future__ import annotations

from korpu_runtime import api_keys
from referral.adapters import tables

SUBMIT = "referrals:submit"  # POST a referral, withdraw one
READ = "referrals:read"  # GET a referral
# GET a referral's person: the personal data the organization itself sent. Apart
# from READ so a dashboard following progress never holds a key to names.
PERSONS = "persons:read"
# GET /v1/statistics: the administrators' figures across every organization.
# Given only when asked for (`korpu org keys create ORG --scope statistics:read`).
STATISTICS = "statistics:read"
# The national coordinator's routes (/v1/coordinator/...): every organization's cases
# listed and searched, the Action needed queue, identification and recovery recorded.
# Never a person's data: that stays with `persons:read`, of the organization's own.
# Given only to the coordinator (`korpu org create NAME --coordinator`).
COORDINATE = "cases:coordinate"
# POST, GET and DELETE /v1/webhooks: where the organization's events are sent, and
# their delivery log. Given only when asked for (`--scope webhooks:manage`): a key
# that can point the events elsewhere belongs to whoever runs the agency's systems.
WEBHOOKS = "webhooks:manage"
SCOPES = (SUBMIT, READ, PERSONS, STATISTICS, COORDINATE, WEBHOOKS)
# What a new organization's first key, and a key created without --scope, holds.
DEFAULT_SCOPES = (SUBMIT, READ, PERSONS)
# What the national coordinator's first key holds: it refers no one itself.
COORDINATOR_SCOPES = (STATISTICS, COORDINATE)

KEYRING = api_keys.Keyring(tables.keys, SCOPES, DEFAULT_SCOPES)

KEY_PREFIX = api_keys.KEY_PREFIX
UnknownScope = api_keys.UnknownScope
Principal = api_keys.Principal
Key = api_keys.Key
hash_key = api_keys.hash_key
create = KEYRING.create_organization
create_key = KEYRING.create_key
keys = KEYRING.keys
key = KEYRING.key
revoke = KEYRING.revoke
authenticate = KEYRING.authenticate
exists = KEYRING.exists
