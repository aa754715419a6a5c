"""The list of services (`korpu_contracts.vocabulary.Service`): every name it gives is usable
everywhere it lands, and nothing derived from it collapses two providers into one."""

from __future__ import annotations

import re

import pytest

from korpu import catalog
from korpu_contracts import streams
from korpu_contracts.vocabulary import Purpose, Service
from korpu_provider.bootstrap import default_port

# A package, a stream segment, a Redis user, a PostgreSQL database and an env prefix.
NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")


@pytest.mark.parametrize("service", list(Service))
def test_a_providers_name_fits_everywhere_it_is_used(service: Service) -> None:
    assert NAME.fullmatch(service), service
    assert service != catalog.REFERRAL
    assert NAME.fullmatch(service.seed_key), service.seed_key


def test_names_seed_keys_streams_and_ports_are_each_the_providers_own() -> None:
    services = list(Service)
    assert len({service.seed_key for service in services}) == len(services)
    assert len(catalog.DIRECTORY_KEYS) == len(services)
    assert len(set(streams.REQUESTS_BY_SERVICE.values())) == len(services)
    assert len(set(streams.UPDATES_BY_SERVICE.values())) == len(services)
    ports = [default_port(service) for service in services]
    assert ports == list(range(8081, 8081 + len(services)))


def test_every_provider_is_a_consent_purpose_and_reporting_is_no_provider() -> None:
    assert [str(purpose) for purpose in Purpose] == [*map(str, Service), "reporting"]
    assert Purpose(Service.SHELTER).name == "SHELTER"
    with pytest.raises(ValueError):
        Service("reporting")
