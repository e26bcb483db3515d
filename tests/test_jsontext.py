"""One JSON decoder for every way text comes in: every failure says what and where."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.jsontext import array_items, is_array, loads

LIMIT = sys.get_int_max_str_digits()

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.parametrize(
    ("text", "line", "column", "says"),
    [
        ('{"event_type": ' + "9" * 5000 + "}", 1, 16, f"5000 digits exceeds the limit of {LIMIT}"),
        ('{"a": "' + "9" * 5000 + '",\n "b": -' + "1" * 4301 + "}", 2, 7, "4301 digits"),
        ("[" * 5000 + "]" * 5000, 1, None, "nested 5000 deep"),
        ('{"a": [1, NaN]}', 1, 11, "NaN is not JSON"),
        ('{"a": -Infinity}', 1, 7, "-Infinity is not JSON"),
        ('{"a": "x\\ud800y"}', 1, 9, "\\ud800 is a lone surrogate"),
        ('["\\udc00"]', 1, 3, "\\udc00 is a lone surrogate"),
        ('{"a": "\x00"}', 1, 8, "control character U+0000"),
        ("", 1, 1, "expecting value"),
        ('{"a": 1} {"b": 2}', 1, 10, "extra data"),
        (b'{"a":\n "\xc3\x28"}', 2, 3, "invalid UTF-8: byte 0xc3"),
    ],
)
def test_refused_text_says_what_and_where(text, line, column, says):
    with pytest.raises(JsonTextError) as caught:
        loads(text)
    error = caught.value
    assert says in error.msg
    assert error.lineno == line
    if column is not None:
        assert error.colno == column
    assert str(error).startswith(f"line {line} column {error.colno}: ")
    assert isinstance(error, ValueError)


def test_text_that_python_takes_but_json_does_not_is_refused_and_escaped_text_is_not():
    assert loads('"\\ud83d\\ude00"') == "\U0001f600"  # a surrogate pair is one character
    assert loads('"\\\\ud800"') == "\\ud800"  # an escaped backslash, then text
    assert loads("\ufeff[1]") == [1]  # a byte order mark may be ignored (RFC 8259, 8.1)
    assert loads("1e400") == float("inf")  # a number, even if a float cannot hold it


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_json_values_decode_to_themselves(value):
    assert loads(json.dumps(value)) == value
    assert loads(json.dumps(value, ensure_ascii=False).encode()) == value


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_text_decodes_or_raises_a_json_text_error(data):
    try:
        loads(data)
    except JsonTextError as error:
        assert error.lineno >= 1 and error.colno >= 1


@st.composite
def hostile_items(draw):
    """The text of an item that is well formed but over a decoder limit."""
    return draw(
        st.sampled_from(
            [
                "9" * (LIMIT + 1),
                "NaN",
                "[" * 3000 + "]" * 3000,
                '{"a": {"b": ' + "-" + "1" * (LIMIT + 7) + "}}",
                '"\\ud800"',
            ]
        )
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(JSON_VALUES.map(json.dumps), hostile_items()), max_size=6))
def test_array_items_are_the_texts_of_the_items_even_those_over_a_limit(items):
    text = "[" + " ,\n ".join(items) + "]"
    assert is_array(text) and is_array(text.encode())
    assert list(array_items(text)) == items


@pytest.mark.parametrize(
    ("text", "says"),
    [("[1 2]", "expected ',' or ']'"), ("[1,", "expecting value"), ("[1] 2", "extra data")],
)
def test_malformed_array_says_where(text, says):
    with pytest.raises(JsonTextError, match=says):
        list(array_items(text))
