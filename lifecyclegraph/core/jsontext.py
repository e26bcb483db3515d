"""JSON text in: one decoder for request bodies, event lines and dead letters.

Python's :mod:`json` fails on hostile text in ways other than ``JSONDecodeError``:
a ``ValueError`` for an integer longer than ``sys.get_int_max_str_digits()``, a
``RecursionError`` for arrays nested a few thousand deep, a ``UnicodeDecodeError``
for bytes that are not UTF-8; and it takes ``NaN``, ``Infinity`` and lone
surrogate escapes (``"\\ud800"``) that are not JSON (RFC 8259, I-JSON) and break
whatever encodes them again. :func:`loads` turns every one of these into a
:class:`~lifecyclegraph.core.errors.JsonTextError` that says what is wrong and where.

:func:`array_items` splits a JSON array into the texts of its items without
failing on an item that is only over a limit, so that a batch of events can
refuse that one event and accept the others.

>>> loads('{"a": [1, 2.5, "x"]}')
{'a': [1, 2.5, 'x']}
>>> try:
...     loads('{"n": ' + '9' * 5000 + '}')
... except JsonTextError as error:
...     print(error)
line 1 column 7: integer with 5000 digits exceeds the limit of 4300
>>> loads(b'{"a":\\n "\\xff"}')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lifecyclegraph.core.errors.JsonTextError: line 2 column 3: invalid UTF-8: byte 0xff ...
>>> list(array_items('[{"a": 1}, ' + '[' * 5000 + ']' * 5000 + ' ]'))[0]
'{"a": 1}'
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from lifecyclegraph.core.errors import JsonTextError

__all__ = ["array_items", "decode_utf8", "is_array", "json_lines", "loads"]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BOM = "\ufeff"
# Tokens that matter when looking for where a limit was crossed: strings (skipped
# whole), numbers, the non-JSON constants and brackets. Only used on the error path.
_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*+"'
    r"|(?P<number>-?(?P<digits>\d++)(?P<fraction>(?:\.\d++)?(?:[eE][-+]?\d++)?))"
    r"|(?P<constant>-?Infinity|NaN)"
    r"|(?P<open>[\[{])|(?P<close>[\]}])"
)
_SURROGATE = re.compile(r"\\u([dD][89a-fA-F][0-9a-fA-F]{2})")


def json_lines(lines: Iterable[bytes], first: int = 1) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of a JSON-lines text, numbered from ``first``, without their
    line break: how ``lifecyclegraph ingest`` reads a file and ``POST /api/v1/events``
    a JSON-lines body (``lines`` as a binary file iterates them: split after each ``\\n``).

    >>> import io
    >>> list(json_lines(io.BytesIO(b'{"a": 1}\\r\\n\\n  \\n{not json'), first=7))
    [(7, b'{"a": 1}'), (10, b'{not json')]
    """
    for number, line in enumerate(lines, first):
        if line.strip():
            yield number, line.rstrip(b"\r\n")


class _Constant(Exception):
    """Raised by the decoder's hook for ``NaN``, ``Infinity`` and ``-Infinity``."""


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _error(msg: str, text: str, pos: int) -> JsonTextError:
    line = text.count("\n", 0, pos) + 1
    return JsonTextError(msg, line, pos - text.rfind("\n", 0, pos), pos)


def decode_utf8(data: bytes) -> str:
    """``data`` as text; it must be UTF-8 (RFC 8259).

    Raises:
        JsonTextError: a byte sequence is not UTF-8 (with where, in bytes).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        start = error.start
        line_start = data.rfind(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", "replace")) + 1
        raise JsonTextError(
            f"invalid UTF-8: byte 0x{data[start]:02x} ({error.reason})",
            data.count(b"\n", 0, start) + 1,
            column,
            start,
        ) from None


def _start(text: str) -> int:
    """Where the value begins: after a byte order mark (RFC 8259 allows ignoring it)
    and whitespace."""
    return _WHITESPACE.match(text, 1 if text.startswith(_BOM) else 0).end()  # type: ignore[union-attr]


def _skip(text: str, pos: int) -> int:
    return _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]


def loads(text: str | bytes) -> Any:
    """Decode one JSON text (``bytes`` must be UTF-8).

    Raises:
        JsonTextError: the text is not JSON, or holds what this decoder refuses: an
            integer over ``sys.get_int_max_str_digits()`` digits, arrays and objects
            nested deeper than the interpreter's recursion limit (about 1,000),
            ``NaN`` or ``Infinity``, or a lone surrogate escape.
    """
    if isinstance(text, bytes | bytearray):
        text = decode_utf8(bytes(text))
    value, end = _decode(text, _start(text))
    end = _skip(text, end)
    if end != len(text):
        raise _error("extra data after the JSON value", text, end)
    return value


def is_array(data: str | bytes) -> bool:
    """Whether a JSON text is an array (judged by its first character only).

    >>> is_array(b' [1]'), is_array('{}')
    (True, False)
    """
    if isinstance(data, bytes | bytearray):
        data = bytes(data).lstrip(b"\xef\xbb\xbf \t\r\n")[:1].decode("latin-1")
    return data[_start(data) :].startswith("[")


def array_items(text: str) -> Iterator[str]:
    """The texts of a JSON array's items, in order, as they are written in ``text``.

    An item that is well formed but over a limit of :func:`loads` (a huge integer,
    deep nesting, ``NaN``) is still yielded: decoding it reports that problem.

    Raises:
        JsonTextError: ``text`` is not an array, or is malformed (where, in ``text``).
    """
    pos = _start(text)
    if not text.startswith("[", pos):
        raise _error("expected '[' (an array)", text, pos)
    pos = _skip(text, pos + 1)
    if not text.startswith("]", pos):
        while True:
            end = _item_end(text, pos)
            yield text[pos:end]
            pos = _skip(text, end)
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
            elif text.startswith("]", pos):
                break
            else:
                raise _error("expected ',' or ']' after an array item", text, pos)
    end = _skip(text, pos + 1)
    if end != len(text):
        raise _error("extra data after the array", text, end)


def _item_end(text: str, pos: int) -> int:
    """Where the value at ``pos`` ends; a value over a decoder limit is skipped over."""
    try:
        return _DECODER.raw_decode(text, pos)[1]
    except json.JSONDecodeError as error:
        raise _malformed(error) from None
    except (_Constant, RecursionError, ValueError):
        pass
    depth = 0
    for token in _TOKEN.finditer(text, pos):
        if token.start() == pos and depth == 0 and not token["open"]:
            return token.end()  # a scalar: a long integer or a constant
        if token["open"]:
            depth += 1
        elif token["close"]:
            depth -= 1
            if depth == 0:
                return token.end()
    raise _error("unterminated array or object", text, pos)


def _decode(text: str, pos: int) -> tuple[Any, int]:
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as error:
        raise _malformed(error) from None
    except _Constant as constant:
        raise _at_first(text, pos, "constant", f"{constant} is not JSON") from None
    except RecursionError:
        raise _too_deep(text, pos) from None
    except ValueError as error:  # Python's limit on integer digits
        raise _long_integer(text, pos, error) from None
    if _SURROGATE.search(text, pos, end):
        _check_surrogates(text, pos, end)
    return value, end


def _malformed(error: json.JSONDecodeError) -> JsonTextError:
    """The decoder's own syntax error, worded as a sentence that needs no "at"."""
    msg = error.msg.removesuffix(" at").removesuffix(" starting")
    if msg == "Invalid control character":
        msg = f"control character U+{ord(error.doc[error.pos]):04X} in a string (escape it)"
    return JsonTextError(msg[0].lower() + msg[1:], error.lineno, error.colno, error.pos)


def _at_first(text: str, pos: int, group: str, msg: str) -> JsonTextError:
    for token in _TOKEN.finditer(text, pos):
        if token[group]:
            return _error(msg, text, token.start())
    return _error(msg, text, pos)


def _long_integer(text: str, pos: int, error: ValueError) -> JsonTextError:
    limit = sys.get_int_max_str_digits()
    for token in _TOKEN.finditer(text, pos):
        if token["number"] and not token["fraction"] and len(token["digits"]) > limit > 0:
            digits = len(token["digits"])
            return _error(
                f"integer with {digits} digits exceeds the limit of {limit}", text, token.start()
            )
    return _error(str(error), text, pos)


def _too_deep(text: str, pos: int) -> JsonTextError:
    depth = deepest = 0
    where = pos
    for token in _TOKEN.finditer(text, pos):
        if token["open"]:
            depth += 1
            if depth > deepest:
                deepest, where = depth, token.start()
        elif token["close"]:
            depth -= 1
    return _error(
        f"arrays and objects nested {deepest} deep; the decoder takes about "
        f"{sys.getrecursionlimit()} levels",
        text,
        where,
    )


def _check_surrogates(text: str, start: int, end: int) -> None:
    """Refuse a ``\\uD800``-``\\uDFFF`` escape that is not half of a pair."""
    low_expected_at = -1
    for escape in _SURROGATE.finditer(text, start, end):
        at = escape.start()
        backslashes = at
        while backslashes > start and text[backslashes - 1] == "\\":
            backslashes -= 1
        if (at - backslashes) % 2:
            continue  # "\\ud800": an escaped backslash, then plain text
        code = escape[1]
        if code[1] in "89abAB":  # a high surrogate: a low one must follow at once
            follow = _SURROGATE.match(text, escape.end(), end)
            if follow is not None and follow[1][1] in "cdefCDEF":
                low_expected_at = escape.end()
                continue
        elif at == low_expected_at:
            continue
        raise _error(f"\\u{code} is a lone surrogate, not a character", text, at)
