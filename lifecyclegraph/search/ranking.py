"""The ranking plan every backend follows: which fields count how much, and when to go fuzzy.

A query's words must all match (each in any field); the last one also as a prefix.
Scores add up over the fields a word matches, so a multi-field match beats a single
one; a name match weighs most; an exact match of the whole name is boosted far above
everything else. The last resort, only when exact words find fewer than
``fuzzy_below`` hits (by default: none), is a second pass that also accepts words
within one edit (two from seven letters on).

>>> p = plan(SearchQuery("rankng"))
>>> p.words, [s.fuzzy for s in p.steps]
(('rankng',), [False, True])
>>> plan(SearchQuery("")).every
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import escape

from lifecyclegraph.search.backend import SearchQuery
from lifecyclegraph.search.documents import WORD, tokens

__all__ = [
    "FILTER_FIELDS",
    "HIGHLIGHTED",
    "Plan",
    "Step",
    "Weights",
    "highlight",
    "highlighter",
    "matches",
    "plan",
]


@dataclass(frozen=True, slots=True)
class Weights:
    """Field boosts and thresholds (shared by backends so that they rank alike)."""

    exact_boost: float = 50.0
    term_fields: dict[str, float] = field(
        default_factory=lambda: {
            "name": 6.0,
            "type_label": 3.0,
            "owner_names": 3.0,
            "tags_text": 2.0,
            "keywords": 2.0,
            "related": 1.5,
            "description": 1.0,
            "uri_text": 1.0,
        }
    )
    fuzzy_fields: dict[str, float] = field(
        default_factory=lambda: {
            "name": 2.0,
            "owner_names": 1.0,
            "tags_text": 1.0,
            "type_label": 1.0,
        }
    )
    prefix_boost: float = 3.0
    prefix_min: int = 3  #: words shorter than this are not used as prefixes
    fuzzy_min: int = 4  #: words shorter than this are never matched fuzzily
    fuzzy_two_edits_from: int = 7  #: words this long may be two edits away


@dataclass(frozen=True, slots=True)
class Step:
    """One pass of a search: exact words, or exact plus fuzzy words, or every document."""

    fuzzy: bool = False
    every: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """The analysed query: its words and the passes to try in order."""

    words: tuple[str, ...]
    steps: tuple[Step, ...]
    weights: Weights

    @property
    def every(self) -> bool:
        return not self.words

    def is_prefix(self, word: str) -> bool:
        """Whether ``word`` is also matched as a prefix: the last word, as one types."""
        return word == self.words[-1] and len(word) >= self.weights.prefix_min

    @property
    def fuzzy_possible(self) -> bool:
        return any(s.fuzzy for s in self.steps)


WEIGHTS = Weights()

#: The index field each search filter matches (the same in every backend).
FILTER_FIELDS = {"type": "type", "domain": "domain", "tag": "tags", "owner": "owner_keys"}
#: The result key of each highlighted snippet, and the index field it comes from.
HIGHLIGHTED = {
    "name": "name",
    "description": "description",
    "related": "related",
    "owners": "owner_names",
    "tags": "tags_text",
}


def plan(query: SearchQuery, weights: Weights = WEIGHTS) -> Plan:
    """How to run ``query``: the words, then the passes (a fuzzy one if it can help)."""
    words = tuple(tokens(query.text))
    if not words:
        return Plan((), (Step(every=True),), weights)
    steps = [Step()]
    if query.fuzzy_below > 0 and any(len(w) >= weights.fuzzy_min for w in words):
        steps.append(Step(fuzzy=True))
    return Plan(words, tuple(steps), weights)


def _within(a: str, b: str, limit: int) -> bool:
    """Whether the edit distance of ``a`` and ``b`` is at most ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


def matches(token: str, plan: Plan, fuzzy: bool) -> bool:
    """Whether an indexed word matches one of the plan's words (for highlighting).

    >>> p = plan(SearchQuery("rankng mod"))
    >>> matches("ranking", p, fuzzy=True), matches("models", p, fuzzy=False)
    (True, True)
    """
    w = plan.weights
    for word in plan.words:
        if token == word or (plan.is_prefix(word) and token.startswith(word)):
            return True
        distance = 1 if len(word) < w.fuzzy_two_edits_from else 2
        close = fuzzy and len(word) >= w.fuzzy_min and token[:1] == word[:1]
        if close and _within(token, word, distance):
            return True
    return False


def highlighter(plan: Plan, fuzzy: bool, context: int = 60) -> Callable[[str], str]:
    """A function that marks the plan's words in a text (see :func:`highlight`).

    Exact words and the last word's prefix are found with one compiled regular
    expression; only a fuzzy search looks at every word of the text.
    """
    if fuzzy:
        return lambda text: highlight(text, plan, True, context)
    alternatives = [re.escape(w) + ("[^\\W_]*" if plan.is_prefix(w) else "") for w in plan.words]
    found = re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])", re.IGNORECASE)
    return lambda text: _marked(text, [m.span() for m in found.finditer(text)], context)


def first_marks(
    highlight: Callable[[str], str], values_of: Callable[[str], Iterable[str]]
) -> dict[str, str]:
    """For each field of :data:`HIGHLIGHTED`, its first stored value with a match, marked
    (``values_of`` gives a stored field's values).

    >>> mark = highlighter(plan(SearchQuery("home")), False)
    >>> stored = {"description": ["Ranks rows.", "The home page."]}
    >>> first_marks(mark, lambda name: stored.get(name, []))
    {'description': 'The <mark>home</mark> page.'}
    """
    marks = {}
    for key, fieldname in HIGHLIGHTED.items():
        for value in values_of(fieldname):
            text = highlight(value)
            if text:
                marks[key] = text
                break
    return marks


def highlight(text: str, plan: Plan, fuzzy: bool, context: int = 60) -> str:
    """``text`` with matched words in ``<mark>``, cut around the first match (``""`` if none).

    >>> highlight("Ranks rows on the home page.", plan(SearchQuery("home")), False)
    'Ranks rows on the <mark>home</mark> page.'
    >>> highlighter(plan(SearchQuery("rows hom")), False)("Ranks rows on the home page.")
    'Ranks <mark>rows</mark> on the <mark>home</mark> page.'
    """
    spans = [m.span() for m in WORD.finditer(text) if matches(m[0].lower(), plan, fuzzy)]
    return _marked(text, spans, context)


def _marked(text: str, spans: list[tuple[int, int]], context: int) -> str:
    if not spans:
        return ""
    start = max(0, spans[0][0] - context)
    end = min(len(text), spans[-1][1] + context, spans[0][1] + 3 * context)
    out, at = [], start
    for a, b in spans:
        if b > end:
            break
        out.append(escape(text[at:a], quote=False))
        out.append("<mark>" + escape(text[a:b], quote=False) + "</mark>")
        at = b
    out.append(escape(text[at:end], quote=False))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")
