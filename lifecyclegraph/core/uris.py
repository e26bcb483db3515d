"""AIP URIs: the one global name of every asset, ``aip://<componentType>/<platformId>/<resourceId>``.

The resource id is the source system's own id, percent-encoded as RFC 3986 requires
in a path segment, so an id never adds a ``/``. :class:`AipUri` holds the decoded
parts; ``str()`` gives the canonical text form (upper-case hex escapes, and only the
characters a path segment cannot hold escaped), which is the IRI used in the graph.

>>> uri = AipUri("dataset", "datasets", "raw/events 2026")
>>> str(uri)
'aip://dataset/datasets/raw%2Fevents%202026'
>>> AipUri.parse("aip://dataset/datasets/raw%2Fevents%202026").resource_id
'raw/events 2026'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from lifecyclegraph.core.errors import InvalidUriError

__all__ = ["SCHEME", "AipUri", "is_aip_uri", "path_segment"]

SCHEME = "aip"

# RFC 3986: pchar = unreserved / pct-encoded / sub-delims / ":" / "@".
# ``quote`` never escapes ALPHA / DIGIT / "-._~" (the unreserved set).
_SEGMENT_SAFE = "!$&'()*+,;=:@"
_PCHAR_ENCODED = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*")
_NEEDS_NO_ESCAPE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]*")  # what quote() leaves as it is
_COMPONENT_TYPE = re.compile(r"[a-z][a-z0-9-]*")
_PLATFORM_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_PREFIX = SCHEME + "://"


@dataclass(frozen=True, slots=True)
class AipUri:
    """A parsed, valid AIP URI.

    Args:
        component_type: the kind of component, lower case (``model``, ``ab-test-cell``).
        platform_id: the source system's platform id, lower case (``registry``).
        resource_id: the source's id for the object, not encoded; any non-empty text.

    Raises:
        InvalidUriError: if a part is empty or not of the allowed form.

    >>> AipUri("ab-test-cell", "experimentation", "12345:2")
    AipUri('aip://ab-test-cell/experimentation/12345:2')
    >>> AipUri("model", "registry", "")
    Traceback (most recent call last):
    ...
    lifecyclegraph.core.errors.InvalidUriError: the resource id is empty: 'aip://model/registry/'
    """

    component_type: str
    platform_id: str
    resource_id: str

    def __post_init__(self) -> None:
        text = f"{_PREFIX}{self.component_type}/{self.platform_id}/{self.resource_id}"
        if not _COMPONENT_TYPE.fullmatch(self.component_type):
            raise InvalidUriError(
                "the component type must be lower-case letters, digits and '-', "
                f"starting with a letter, not {self.component_type!r}",
                text,
            )
        if not _PLATFORM_ID.fullmatch(self.platform_id):
            raise InvalidUriError(
                "the platform id must be lower-case letters, digits, '.', '_' and '-', "
                f"not {self.platform_id!r}",
                text,
            )
        if not self.resource_id:
            raise InvalidUriError("the resource id is empty", text)
        try:
            self.resource_id.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidUriError(
                f"the resource id is not valid Unicode text ({error.reason})", text
            ) from error

    @classmethod
    def parse(cls, uri: str) -> AipUri:
        """Parse the text form of an AIP URI.

        Percent-escapes are decoded; lower-case hex escapes and escaped characters that
        need no escape are accepted (``str()`` of the result is the canonical form).

        Args:
            uri: text such as ``aip://model/registry/ranking-model``.

        Returns:
            The parsed URI.

        Raises:
            InvalidUriError: naming what is wrong: the scheme, a missing part, an
                unescaped ``/``, ``?``, ``#`` or space, a bad escape, or an escape that
                does not decode to UTF-8.

        >>> AipUri.parse("aip://model/registry/ranking-model-v5-20XX0101").component_type
        'model'
        >>> AipUri.parse("aip://model/registry/a/b")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lifecyclegraph.core.errors.InvalidUriError: the resource id holds an unescaped '/' ...
        """
        if not isinstance(uri, str):
            raise InvalidUriError(f"an AIP URI must be text, not {type(uri).__name__}", str(uri))
        if not uri.startswith(_PREFIX):
            scheme, sep, _ = uri.partition(":")
            if sep and scheme.lower() == SCHEME:
                raise InvalidUriError("an AIP URI starts with 'aip://' in lower case", uri)
            raise InvalidUriError("an AIP URI starts with 'aip://'", uri)
        parts = uri[len(_PREFIX) :].split("/", 2)
        if len(parts) < 3:
            raise InvalidUriError(
                "an AIP URI has three parts, aip://<componentType>/<platformId>/<resourceId>",
                uri,
            )
        component_type, platform_id, encoded = parts
        if not component_type:
            raise InvalidUriError("the component type is empty", uri)
        if not platform_id:
            raise InvalidUriError("the platform id is empty", uri)
        if not encoded:
            raise InvalidUriError("the resource id is empty", uri)
        for char, name in (("/", "%2F"), ("?", "%3F"), ("#", "%23"), (" ", "%20")):
            if char in encoded:
                raise InvalidUriError(
                    f"the resource id holds an unescaped {char!r} (write it as {name})", uri
                )
        if not _PCHAR_ENCODED.fullmatch(encoded):
            bad = next(
                (c for c in encoded if not re.fullmatch(r"[A-Za-z0-9\-._~!$&'()*+,;=:@%]", c)),
                None,
            )
            if bad is not None:
                raise InvalidUriError(
                    f"the resource id holds {bad!r}, which must be percent-encoded "
                    f"(write it as {quote(bad, safe='')})",
                    uri,
                )
            raise InvalidUriError(
                "the resource id holds a '%' that does not start an escape %XX "
                "(write a literal '%' as %25)",
                uri,
            )
        try:
            resource_id = _unquote_strict(encoded)
        except UnicodeDecodeError as error:
            raise InvalidUriError(
                "the resource id's percent-escapes do not decode to UTF-8 text", uri
            ) from error
        return cls(component_type, platform_id, resource_id)

    def __str__(self) -> str:
        resource = self.resource_id
        if not _NEEDS_NO_ESCAPE.fullmatch(resource):
            resource = quote(resource, safe=_SEGMENT_SAFE)
        return f"{_PREFIX}{self.component_type}/{self.platform_id}/{resource}"

    def __repr__(self) -> str:
        return f"AipUri({str(self)!r})"


def _unquote_strict(encoded: str) -> str:
    """Decode percent-escapes, failing on bytes that are not UTF-8."""
    if "%" not in encoded:
        return encoded  # already checked to be ASCII characters allowed in a segment
    raw = bytearray()
    i = 0
    while i < len(encoded):
        char = encoded[i]
        if char == "%":
            raw.append(int(encoded[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(char.encode("ascii"))
            i += 1
    return raw.decode("utf-8", errors="strict")


def path_segment(value: str) -> str:
    """``value`` as one path segment of a URL (a source system's id in its API's path).

    Every character outside RFC 3986's unreserved set is percent-encoded, so the id
    never adds a ``/``; and an id of only ``.`` or ``..`` is encoded too (``%2E``),
    since clients, proxies and servers remove such dot-segments (RFC 3986, 5.2.4)
    and the URL would name the collection, or the level above, instead of the id.

    >>> path_segment("raw/events 2026")
    'raw%2Fevents%202026'
    >>> path_segment(".."), path_segment("."), path_segment("v1..2")
    ('%2E%2E', '%2E', 'v1..2')
    """
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


def is_aip_uri(text: str) -> bool:
    """Tell whether ``text`` is a valid AIP URI in canonical form.

    >>> is_aip_uri("aip://user/identity/alice")
    True
    >>> is_aip_uri("aip://user/identity/a%2fb")  # lower-case hex is not canonical
    False
    """
    try:
        return str(AipUri.parse(text)) == text
    except InvalidUriError:
        return False
