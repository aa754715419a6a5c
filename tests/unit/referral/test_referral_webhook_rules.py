"""Webhook rules: the standard's signature, its retry schedule, addresses never called."""

from __future__ import annotations

import random

import pytest

from referral.domain import webhooks

SCHEDULE = (0.0, 5.0, 300.0)


def test_the_signature_is_the_standards_own_example() -> None:
    # The example of the Standard Webhooks specification and its libraries' tests.
    signed = webhooks.signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_during_a_rotation_each_secret_signs_separated_by_a_space() -> None:
    old, new = webhooks.new_secret(b"o" * 32), webhooks.new_secret(b"n" * 32)
    header = webhooks.signatures([new, old], "msg_1", 1, b"{}")
    assert header.split(" ") == [
        webhooks.signature(new, "msg_1", 1, b"{}"),
        webhooks.signature(old, "msg_1", 1, b"{}"),
    ]


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_is_delivered(status: int) -> None:
    assert webhooks.after_attempt(1, status, None, SCHEDULE).verdict is webhooks.Verdict.DELIVERED


@pytest.mark.parametrize("status", [None, 301, 400, 404, 500, 503])
def test_anything_else_waits_the_next_step_of_the_schedule_give_or_take_a_fifth(
    status: int | None,
) -> None:
    after = webhooks.after_attempt(2, status, None, SCHEDULE, random.Random(7))
    assert after.verdict is webhooks.Verdict.RETRY
    assert after.wait_seconds is not None and 240 <= after.wait_seconds <= 360


def test_a_410_stops_for_good_whatever_the_schedule_left() -> None:
    assert webhooks.after_attempt(1, 410, None, SCHEDULE).verdict is webhooks.Verdict.GONE


def test_the_schedule_used_up_is_a_failure() -> None:
    after = webhooks.after_attempt(len(SCHEDULE), 500, None, SCHEDULE)
    assert after.verdict is webhooks.Verdict.FAILED


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_waits_as_long_as_the_receiver_asks_up_to_a_day(status: int) -> None:
    asked = webhooks.after_attempt(1, status, 3600.0, SCHEDULE, random.Random(1))
    assert asked.wait_seconds == 3600.0
    greedy = webhooks.after_attempt(1, status, 10 * 86400.0, SCHEDULE, random.Random(1))
    assert greedy.wait_seconds == webhooks.RETRY_AFTER_CAP_SECONDS
    shorter = webhooks.after_attempt(1, status, 1.0, SCHEDULE, random.Random(1))
    assert shorter.wait_seconds is not None and shorter.wait_seconds >= 4.0


def test_retry_after_as_a_date_is_left_to_the_schedule() -> None:
    assert webhooks.retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert webhooks.retry_after_seconds(" 120 ") == 120.0


def test_the_standards_schedule_is_ten_attempts_over_three_days() -> None:
    assert len(webhooks.SCHEDULE_SECONDS) == 10
    assert sum(webhooks.SCHEDULE_SECONDS) / 3600 == pytest.approx(75.6, abs=0.1)


@pytest.mark.parametrize("text", ["", "a,b", "1,-2", ","])
def test_a_schedule_is_seconds_none_negative(text: str) -> None:
    with pytest.raises(ValueError):
        webhooks.parse_schedule(text)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "240.0.0.1", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "fe80::1%eth0",
    ],
)  # fmt: skip
def test_loopback_private_link_local_and_reserved_addresses_are_never_called(
    address: str,
) -> None:
    assert not webhooks.is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_may_be_called(address: str) -> None:
    assert webhooks.is_public(address)
