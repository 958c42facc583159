"""``toml_literal`` writes the TOML that bench suites pass as ``--set key=VALUE``: whatever it
accepts must come back exactly, through tomllib and through ``parse_override``, which would
otherwise silently take a literal TOML rejects as a bare string (quotes and all)."""

from __future__ import annotations

import math
import tomllib
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from meshnet.bench.suite import SuiteError, toml_literal
from meshnet.scenario import parse_override

# characters a TOML basic string must escape, and others an encoder may get wrong
AWKWARD = ['"', "\\", "\x7f", "\t", "\n", "\r", "\b", "\f", "\x1b", "\x00", "\x1f", "\x85",
           "\u2028", "\ufeff", "\uffff", "\U0001F600", "\U0010FFFF", "'", "=", "#", "[", "}"]

# lone surrogates included: a str may hold one, TOML cannot, and toml_literal must refuse it
texts = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(AWKWARD)), max_size=30)
scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**63 - 1, -(2**63), 2**64, -(2**80)]),
    st.floats(),  # NaN, +-inf, -0.0 and subnormals included
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 5e-324, 1e16, 1e308]),
    texts,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(texts, inner, max_size=4)),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same type all the way down: True is not 1, -0.0 is not 0.0, NaN is
    NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def any_string(value: Any, holds) -> bool:
    """True if ``holds(s)`` for some string ``s`` in ``value`` (dictionary keys included)."""
    if isinstance(value, str):
        return holds(value)
    if isinstance(value, list):
        return any(any_string(v, holds) for v in value)
    if isinstance(value, dict):
        return any(any_string(k, holds) or any_string(v, holds) for k, v in value.items())
    return False


def surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@settings(max_examples=600, deadline=None)
@given(values)
def test_every_value_round_trips_through_tomllib_or_is_refused(value):
    if any_string(value, surrogate):
        with pytest.raises(SuiteError, match="lone surrogate"):
            toml_literal(value)
        return
    text = toml_literal(value)
    assert "\n" not in text and "\r" not in text  # one line: --set refuses line breaks
    assert same(tomllib.loads(f"v = {text}")["v"], value), text


@settings(max_examples=300, deadline=None)
@given(values)
def test_every_value_round_trips_through_set(value):
    assume(not any_string(value, surrogate))
    assume(not any_string(value, lambda s: "\x00" in s))  # --set refuses NUL characters
    _, parsed = parse_override(f"protocol.v={toml_literal(value)}")
    assert same(parsed, value)


@pytest.mark.parametrize("value, text", [
    ("\U0001F600", '"\U0001F600"'),  # as itself, not a surrogate pair TOML rejects
    ("a\x7fb", '"a\\u007Fb"'),  # DEL is not allowed raw in a basic string
    ('say "hi" \\o/', '"say \\"hi\\" \\\\o/"'),
    ("\x00\x01\t\n", '"\\u0000\\u0001\\t\\n"'),
    ("\u00e9\u2028", '"\u00e9\u2028"'),
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"), (-0.0, "-0.0"),
    (True, "true"), (2**64, "18446744073709551616"),
    ((1, "a"), '[1, "a"]'),
    ({"x y": [], "": {}}, '{"x y" = [], "" = {}}'),
])
def test_the_text_written(value, text):
    assert toml_literal(value) == text


@pytest.mark.parametrize("value", [None, "\ud83d", ["ok", "x\udfffy"], {1: 2}, {"a": {2.5: 1}},
                                   b"bytes", {1, 2}])
def test_what_toml_cannot_hold_is_refused_in_one_line(value):
    with pytest.raises(SuiteError) as caught:
        toml_literal(value)
    assert "\n" not in str(caught.value) and "cannot use" in str(caught.value)
