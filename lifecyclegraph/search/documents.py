"""Search documents: what the index holds for one URI, and how search names types.

The index is derived data. Everything in a :class:`Document` is read from the
store's current asserted facts (by :class:`~lifecyclegraph.search.builder.DocumentBuilder`)
and from the ontology (type labels and domains, :class:`TypeCatalog`), so the index can
be thrown away and rebuilt at any time, and a document's :attr:`~Document.version` (a
content hash) tells whether the index holds the current one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cached_property
from urllib.parse import unquote

from lifecyclegraph.core.errors import SearchQueryError
from lifecyclegraph.core.ontology import Ontology
from lifecyclegraph.core.vocab import PREFIXES, compact, expand

__all__ = ["Built", "Document", "TypeCatalog", "TypeInfo", "resource_id", "tokens"]

_IDENTITY_DOMAIN = PREFIXES["lg"] + "IdentityDomain"
WORD = re.compile(r"[^\W_]+")  #: a word, as every backend splits text


def tokens(text: str) -> list[str]:
    """The lower-case words of ``text``, as every backend analyses names and queries.

    Underscores, hyphens and punctuation separate words:

    >>> tokens("watch_time_7d / Weekly-Ranking")
    ['watch', 'time', '7d', 'weekly', 'ranking']
    """
    return WORD.findall(text.lower())


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """An entity type as search shows it, read from the ontology."""

    iri: str
    name: str  #: compact, as stored and faceted (``lg:Model``)
    label: str  #: ``rdfs:label`` (``model instance``), or the local name
    domain: str | None  #: the domain's label (``models``)
    is_owner: bool  #: users, teams and any class of the identity domain


class TypeCatalog:
    """The entity types of an ontology, and how filter values name them.

    >>> catalog = TypeCatalog(Ontology.load())
    >>> catalog.type_name("model instance"), catalog.type_name("lg:User")
    ('lg:ModelInstance', 'lg:User')
    >>> catalog.domain_name("lg:ModelsDomain")
    'models'
    >>> catalog.type_name("modle")
    Traceback (most recent call last):
    ...
    lifecyclegraph.core.errors.SearchQueryError: unknown entity type 'modle'; did you mean model?
    """

    def __init__(self, ontology: Ontology) -> None:
        self.ontology = ontology
        self.types: dict[str, TypeInfo] = {}
        for iri in ontology.entity_classes():
            domain = ontology.domain(iri)
            self.types[iri] = TypeInfo(
                iri=iri,
                name=compact(iri),
                label=ontology.label(iri) or compact(iri).rpartition(":")[2],
                domain=(ontology.label(domain) or compact(domain)) if domain else None,
                is_owner=domain == _IDENTITY_DOMAIN,
            )
        self._type_keys: dict[str, str] = {}
        self._domain_keys: dict[str, str] = {}
        for info in self.types.values():
            for key in (info.iri, info.name, info.name.rpartition(":")[2], info.label):
                self._type_keys[key.lower()] = info.name
            if info.domain:
                self._domain_keys[info.domain.lower()] = info.domain
        for info in self.types.values():
            domain = ontology.domain(info.iri)
            if domain and info.domain:
                self._domain_keys[domain.lower()] = info.domain
                self._domain_keys[compact(domain).lower()] = info.domain

    def info(self, types: Iterable[str]) -> TypeInfo | None:
        """The most specific entity type among ``types`` (IRIs), if any is one."""
        known = [self.types[t] for t in types if t in self.types]
        if not known:
            return None
        # Drop a type when another of the entity's types is its subclass.
        specific = [
            k
            for k in known
            if not any(o is not k and k.iri in self.ontology.superclasses(o.iri) for o in known)
        ]
        return min(specific or known, key=lambda k: k.name)

    def type_name(self, value: str) -> str:
        """The stored name of the type that ``value`` names (IRI, ``lg:X``, ``X`` or label).

        Raises:
            SearchQueryError: if no entity type has that name, with the near miss.
        """
        found = self._type_keys.get(expand(value).lower()) or self._type_keys.get(value.lower())
        if found is None:
            raise _unknown("entity type", value, sorted({i.label for i in self.types.values()}))
        return found

    def domain_name(self, value: str) -> str:
        """The stored name of the domain that ``value`` names (label, ``lg:X`` or IRI)."""
        found = self._domain_keys.get(expand(value).lower()) or self._domain_keys.get(value.lower())
        if found is None:
            labels = sorted({i.domain for i in self.types.values() if i.domain})
            raise _unknown("domain", value, labels)
        return found


def _unknown(what: str, value: str, choices: list[str]) -> Exception:
    import difflib

    near = difflib.get_close_matches(value.lower(), choices, n=1)
    hint = f"; did you mean {near[0]}?" if near else f"; known: {', '.join(choices)}"
    return SearchQueryError(f"unknown {what} {value!r}{hint}")


@dataclass(frozen=True)
class Document:
    """What the index holds for one entity; every field is derived from the graph.

    Tuples are sorted so that equal graphs give equal documents (and versions).
    """

    uri: str
    name: str  #: ``lg:name``, else ``lg:sourceId``, else the URI's resource id
    type: str  #: the compact class name, ``lg:Model``
    type_label: str
    domain: str  #: the domain's label, or ``""``
    description: str
    owners: tuple[str, ...]  #: owner URIs
    owner_names: tuple[str, ...]
    owner_keys: tuple[str, ...]  #: lower-case URIs, ids and names, matched by owner filters
    tags: tuple[str, ...]  #: ``key::value``
    related: tuple[str, ...]  #: names of the entities this one links to
    keywords: tuple[str, ...]  #: source id, email, status, version, platform
    is_owner: bool  #: also in the owners index (a user or a team)

    @cached_property
    def version(self) -> str:
        """A hash of the content: the index is current for this URI when it holds this."""
        # the JSON of dataclasses.asdict(self), without its deep copy (10% of the
        # indexer's time at a million entities): the fields are strings, tuples of
        # strings and a bool, which JSON writes alike either way
        content = {name: getattr(self, name) for name in _FIELDS}
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def text(self) -> str:
        """Every searchable word of the document, for tests and backends that need it."""
        parts = [self.name, self.type_label, self.domain, self.description, self.uri]
        parts += [*self.owner_names, *self.tags, *self.related, *self.keywords]
        return "\n".join(p for p in parts if p)


_FIELDS = tuple(f.name for f in fields(Document))


@dataclass(frozen=True, slots=True)
class Built:
    """A document as built, with what its dependents and a later rebuild need.

    ``names`` are the entity's own ``lg:name`` values (what documents that link to it
    embed); ``links`` the entities, not owners, whose names it embeds in ``related``
    (its owners are :attr:`Document.owners`). ``document`` is ``None`` for an entity
    unknown or deleted.
    """

    uri: str
    document: Document | None
    names: tuple[str, ...] = ()
    links: tuple[str, ...] = ()


def resource_id(uri: str) -> str:
    """The last path segment of a URI, decoded.

    >>> resource_id("aip://user/identity/alice")
    'alice'
    """
    return unquote(uri.rstrip("/").rpartition("/")[2]) or uri
