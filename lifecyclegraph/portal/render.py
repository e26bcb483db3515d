"""The portal's HTML: autoescaped Jinja2 templates, static files, the security policy.

Every value from the graph reaches the page through a template with autoescaping on,
so a source's ``<script>`` is shown as text. The only markup taken from data is the
``<mark>`` of search highlights, and :func:`marked` rebuilds it from escaped text.

>>> str(marked("a <mark>rank</mark> &lt;b&gt;"))
'a <mark>rank</mark> &lt;b&gt;'
>>> "<script>" in render("error.html", title="x", message="<script>")
False
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from lifecyclegraph.portal.pages import ago, type_colour

__all__ = [
    "CSP",
    "GRAPHIQL_CSP",
    "SPARQL_CSP",
    "STATIC",
    "entity_url",
    "marked",
    "render",
    "static_file",
]

HERE = Path(__file__).parent
#: The portal's scripts, styles and vendored libraries (with their licences).
STATIC = HERE / "static"
#: The Content-Security-Policy of every portal page: scripts and styles from this
#: server's files only (no inline script, no ``on*`` attribute, no ``style=``), no
#: plugins, no framing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: The policy of the GraphQL page: :data:`CSP` and the fonts that GraphiQL's stylesheet
#: embeds as ``data:`` URLs (GraphiQL and React need no inline script, no ``eval`` and
#: no inline style; the browser tests check it).
GRAPHIQL_CSP = CSP + "; font-src 'self' data:"
#: The policy of the SPARQL page: :data:`CSP` with inline ``<style>`` elements, which
#: YASR's table column resizer (column-resizer) adds for its grips. Scripts stay this
#: server's files only, and images, fonts and connections stay this server's, so no
#: injected style could send the page's content anywhere.
SPARQL_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
_MARK = re.compile(r"(</?mark>)")


def marked(text: str) -> Markup:
    """A search highlight as safe HTML: its ``<mark>`` tags kept, everything else escaped."""
    out = []
    for part in _MARK.split(text):
        if part in ("<mark>", "</mark>"):
            out.append(part)
        else:
            out.append(str(escape(html.unescape(part))))
    return Markup("".join(out))


@lru_cache(maxsize=100_000)
def _quoted(value: str) -> str:
    return quote_plus(value)


def entity_url(uri: str, **params: Any) -> str:
    """The portal page of an entity.

    >>> entity_url("aip://model/registry/m")
    '/portal/entity?uri=aip%3A%2F%2Fmodel%2Fregistry%2Fm'
    """
    return _url("/portal/entity", uri=uri, **params)


def _url(path: str, **params: Any) -> str:
    """``path`` with ``params`` as its query (lists repeat the name; empty ones left out),
    as ``urlencode`` writes it, with each value's quoting cached.

    >>> _url("/", q="a b", type=["x", "y"], owner=[], page=None)
    '/?q=a+b&type=x&type=y'
    """
    parts = []
    for name, value in params.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None and item != "":
                parts.append(f"{_quoted(name)}={_quoted(str(item))}")
    return f"{path}?{'&'.join(parts)}" if parts else path


_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(marked=marked, ago=ago, colour=type_colour)
_ENV.globals.update(entity_url=entity_url, url=_url)


def render(template: str, **context: Any) -> str:
    """The HTML of a portal template with ``context``."""
    return _ENV.get_template(template).render(**context)


def static_file(name: str) -> Path | None:
    """The path of a static file by its name under ``static/``, or ``None`` if there is
    no such file (a name that climbs out of the folder is none).

    >>> static_file("portal.js").name, static_file("../render.py")
    ('portal.js', None)
    """
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file():
        return None
    return path
