"""Turning a source's JSON into normalized facts: the rules every provider shares.

platform ids become AIP URIs; ``owner_emails`` become owners resolved through the
identity platform (an unknown email is kept as ``lg:unresolvedOwnerEmail`` and
reported); ``labels`` become tags ``key::value``; foreign keys become references
with the class the referenced entity must have (so stubs can be made for it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.facts import Facts, Object, to_literal
from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import LG, RDF_TYPE, XSD
from lifecyclegraph.providers.base import HydrationContext

__all__ = ["EntityBuilder", "parse_time"]


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (``None`` if absent or invalid)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class EntityBuilder:
    """Collects the facts of one entity, its references and its parts.

    >>> b = EntityBuilder(AipUri("feature", "featurestore", "f"), "Feature")
    >>> b.text("name", "watch_time_7d").ref("sourceDataset",
    ...     AipUri("dataset", "datasets", "d"), "Dataset")
    <...EntityBuilder object at ...>
    >>> facts, refs = b.build()
    >>> sorted(refs.values())
    ['https://w3id.org/lifecyclegraph/ontology#Dataset']
    """

    def __init__(self, uri: AipUri, cls: str, ctx: HydrationContext | None = None) -> None:
        self.uri = uri
        self.node = NamedNode(str(uri))
        self.ctx = ctx
        self.pairs: set[tuple[NamedNode, Object]] = {(RDF_TYPE, LG[cls])}
        self.references: dict[str, str] = {}
        self.parts: list[EntityBuilder] = []
        self.unresolved: list[str] = []
        self.text("sourceId", uri.resource_id).text("platform", uri.platform_id)

    def add(self, predicate: str, value: Object) -> EntityBuilder:
        self.pairs.add((LG[predicate], value))
        return self

    def text(self, predicate: str, value: Any) -> EntityBuilder:
        """A string property; absent, ``None`` and empty values are skipped."""
        if value is not None and value != "":
            self.add(predicate, to_literal(str(value)))
        return self

    def integer(self, predicate: str, value: Any) -> EntityBuilder:
        if isinstance(value, int) and not isinstance(value, bool):
            self.add(predicate, to_literal(value))
        elif value is not None:
            self._malformed(predicate, value, "an integer")
        return self

    def decimal(self, predicate: str, value: Any) -> EntityBuilder:
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                self.add(predicate, to_literal(Decimal(str(value))))
            except InvalidOperation:
                self._malformed(predicate, value, "a number")
        elif value is not None:
            self._malformed(predicate, value, "a number")
        return self

    def boolean(self, predicate: str, value: Any) -> EntityBuilder:
        if isinstance(value, bool):
            self.add(predicate, to_literal(value))
        elif value is not None:
            self._malformed(predicate, value, "a boolean")
        return self

    def time(self, predicate: str, value: Any) -> EntityBuilder:
        """An RFC 3339 timestamp; a malformed one is skipped and reported."""
        parsed = parse_time(value)
        if parsed is not None:
            self.add(predicate, to_literal(parsed))
        elif value is not None:
            self._malformed(predicate, value, "an RFC 3339 timestamp")
        return self

    def uri_literal(self, predicate: str, value: Any) -> EntityBuilder:
        if isinstance(value, str) and value:
            self.add(predicate, Literal(value, datatype=XSD.anyURI))
        return self

    def ref(self, predicate: str, target: AipUri | None, cls: str) -> EntityBuilder:
        """A relationship to another entity, which must be of class ``cls``."""
        if target is not None:
            iri = str(target)
            self.add(predicate, NamedNode(iri))
            self.references[iri] = LG[cls].value
        return self

    def tags(self, labels: Any) -> EntityBuilder:
        """``labels`` ``[{"key": k, "value": v}]`` become tags ``k::v``."""
        for label in labels or []:
            if isinstance(label, dict) and label.get("key"):
                self.text("tag", f"{label['key']}::{label.get('value', '')}")
        return self

    async def owners(
        self, emails: Any, predicate: str = "owner", unresolved: str = "unresolvedOwnerEmail"
    ) -> EntityBuilder:
        """Resolve owner emails to users; keep and report the ones nobody has."""
        for email in emails or []:
            if not isinstance(email, str) or not email:
                continue
            user = await self.ctx.resolve_email(email) if self.ctx else None
            if user is not None:
                self.ref(predicate, AipUri.parse(user), "User")
            else:
                self.text(unresolved, email)
                self.unresolved.append(email)
                if self.ctx:
                    self.ctx.report.warn(
                        "unresolved-owner",
                        str(self.uri),
                        f"no user of the identity platform has the email {email!r}",
                    )
        return self

    def part(self, part: EntityBuilder) -> EntityBuilder:
        self.parts.append(part)
        return self

    def build(self) -> tuple[Facts, dict[str, str]]:
        """The facts (with parts) and every reference made by the entity or its parts."""
        references: dict[str, str] = {}
        parts = []
        for part in self.parts:
            facts, refs = part.build()
            parts.append(facts)
            references.update(refs)
            self.unresolved.extend(part.unresolved)
        references.update(self.references)
        local = {str(self.uri), *(p.uri for p in parts)}
        references = {k: v for k, v in references.items() if k not in local}
        return Facts(str(self.uri), frozenset(self.pairs), tuple(parts)), references

    def _malformed(self, predicate: str, value: Any, expected: str) -> None:
        if self.ctx:
            self.ctx.report.warn(
                "malformed-field",
                str(self.uri),
                f"{predicate}: expected {expected}, got {value!r}; the field is left out",
            )
