"""Hypothesis strategies that mutate the contract's example referral into hostile bodies."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from support.referrals import referral_body

# Every JSON type, strings reaching past each column's width, and the odd characters
# a database may refuse (NUL, lone surrogates are not JSON-encodable so left out).
_huge_strings = st.sampled_from(["x" * 101, "y" * 4001, "Ə" * 70, "\U0001f600" * 101, "é" * 65])
_odd_strings = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "\u202e", "\ufeff", "9999-12-31", "0000-00-00", "-1", "1e309"]
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    _huge_strings,
    _odd_strings,
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"x": [value]}
    return value


_values = st.one_of(_json, st.integers(min_value=10, max_value=200).map(_deep))


def _paths(body: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path into the nested dictionaries of `body`."""
    found: list[tuple[str, ...]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    return found


_PATHS = _paths(referral_body())
_FREE_TEXT = ["agency_reference", "region", "notes", "given_name", "family_name", "contact_phone"]


@st.composite
def _mutation(draw: st.DrawFn, body: dict[str, Any]) -> None:
    path = draw(st.sampled_from(_PATHS))
    parent: Any = body
    for key in path[:-1]:
        if not isinstance(parent, dict) or key not in parent:
            return
        parent = parent[key]
    if not isinstance(parent, dict):
        return
    action = draw(st.sampled_from(["drop", "replace", "add", "poison"]))
    if action == "poison" and isinstance(parent.get(path[-1]), str):
        # A valid string with one odd character inside: the body stays valid to the schema.
        odd = draw(st.sampled_from(["\x00", "\u202e", "\ufeff", "\U0001f600", "\u0301"]))
        parent[path[-1]] = parent[path[-1]][:3] + odd + parent[path[-1]][3:]
    elif action == "drop":
        parent.pop(path[-1], None)
    elif action == "replace":
        parent[path[-1]] = draw(_values)
    else:
        parent[draw(st.text(min_size=1, max_size=12))] = draw(_values)


@st.composite
def hostile_bodies(draw: st.DrawFn) -> Any:
    """The example body after one to four mutations, or now and then no JSON object at all."""
    if draw(st.integers(0, 19)) == 0:
        return draw(_json)
    body = copy.deepcopy(referral_body())
    if draw(st.integers(0, 3)) == 0:
        # Most mutations make the body invalid; these stay valid, so they reach the database.
        field = draw(st.sampled_from(_FREE_TEXT))
        parent = body["person"] if field in body["person"] else body
        odd = draw(st.sampled_from(["\x00", "\u202e", "\ufeff", "\U0001f600", "\u0301"]))
        parent[field] = parent[field][:3] + odd + parent[field][3:]
        return body
    for _ in range(draw(st.integers(1, 4))):
        draw(_mutation(body))
    return body


def draw_bodies(count: int) -> list[Any]:
    """`count` hostile bodies, the same ones every run.

    Drawn before the requests rather than with `@given` on the async test: the
    running service is one function-scoped fixture, and a fixed list names the
    failing body in the assertion message, which the HTTP answer alone cannot.
    """
    bodies: list[Any] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_bodies())
    def collect(body: Any) -> None:
        bodies.append(body)

    collect()
    return bodies
