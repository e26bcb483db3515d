"""Search documents: a pure function from the graph to what the index holds for one URI.

The index is derived data. Everything in a :class:`Document` is read from the
store's current asserted facts and from the ontology (type labels and domains),
so the index can be thrown away and rebuilt at any time, and a document's
:attr:`~Document.version` (a content hash) tells whether the index holds the
current one.

>>> from lifecyclegraph import LifecycleGraph
>>> from lifecyclegraph.example import MODEL, load_example
>>> graph = LifecycleGraph.in_memory()
>>> _ = load_example(graph)
>>> doc = DocumentBuilder(graph.store).document(MODEL)
>>> doc.name, doc.type, doc.type_label, doc.domain
('Ranking model', 'lg:Model', 'model', 'models')
>>> doc.owner_names, doc.tags
(('Alice Liddell',), ('team::personalization',))
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from urllib.parse import unquote

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.facts import term_value
from lifecyclegraph.ontology import Ontology
from lifecyclegraph.store import HydrationState, SnapshotStore
from lifecyclegraph.vocab import LG, PREFIXES, RDF_TYPE, compact, expand

__all__ = ["Document", "DocumentBuilder", "TypeCatalog", "TypeInfo", "tokens"]

#: Literal properties whose values are searchable as exact-ish keywords.
_KEYWORDS = (LG.sourceId, LG.email, LG.status, LG.version, LG.platform)
_NAME, _DESCRIPTION, _OWNER, _TAG = LG.name, LG.description, LG.owner, LG.tag
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
    lifecyclegraph.search.backend.SearchQueryError: unknown entity type 'modle'; did you mean model?
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

    from lifecyclegraph.search.backend import SearchQueryError

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
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def text(self) -> str:
        """Every searchable word of the document, for tests and backends that need it."""
        parts = [self.name, self.type_label, self.domain, self.description, self.uri]
        parts += [*self.owner_names, *self.tags, *self.related, *self.keywords]
        return "\n".join(p for p in parts if p)


class DocumentBuilder:
    """Build :class:`Document` s from a store's current state and an ontology.

    Args:
        store: the snapshot store (only its current asserted facts are read).
        ontology: where type labels, domains and owner types come from
            (default: the packaged ontology).
    """

    def __init__(self, store: SnapshotStore, ontology: Ontology | None = None) -> None:
        self.store = store
        self.catalog = TypeCatalog(ontology or Ontology.load())

    def document(self, uri: str) -> Document | None:
        """The document of ``uri``, or ``None`` if the entity is unknown or deleted."""
        state = self.store.state(uri)
        if state is None or state.state is HydrationState.DELETED:
            return None
        types: list[str] = []
        names: list[str] = []
        descriptions: list[str] = []
        owners: list[str] = []
        tags: list[str] = []
        links: list[str] = []
        keywords: list[str] = []
        source_ids: list[str] = []
        for triple in self.store.asserted(NamedNode(uri)):
            p, o = triple.predicate, triple.object
            if p == RDF_TYPE and isinstance(o, NamedNode):
                types.append(o.value)
            elif isinstance(o, NamedNode):
                (owners if p == _OWNER else links).append(o.value)
            elif isinstance(o, Literal):
                if p == _NAME:
                    names.append(o.value)
                elif p == _DESCRIPTION:
                    descriptions.append(o.value)
                elif p == _TAG:
                    tags.append(o.value)
                elif p in _KEYWORDS:
                    keywords.append(o.value)
                    if p == LG.sourceId:
                        source_ids.append(o.value)
        info = self.catalog.info(types)
        type_name = info.name if info else (compact(min(types)) if types else "")
        owner_names = sorted({n for o in set(owners) for n in self._names(o)})
        owner_keys = {o.lower() for o in owners} | {_resource_id(o).lower() for o in owners}
        owner_keys |= {n.lower() for n in owner_names}
        return Document(
            uri=uri,
            name=min(names) if names else min(source_ids) if source_ids else _resource_id(uri),
            type=type_name,
            type_label=info.label if info else type_name.rpartition(":")[2],
            domain=(info.domain or "") if info else "",
            description="\n".join(sorted(descriptions)),
            owners=tuple(sorted(set(owners))),
            owner_names=tuple(owner_names),
            owner_keys=tuple(sorted(owner_keys)),
            tags=tuple(sorted(set(tags))),
            related=tuple(sorted({n for link in set(links) for n in self._names(link)})),
            keywords=tuple(sorted(set(keywords))),
            is_owner=bool(info and info.is_owner),
        )

    def documents(self, uris: Iterable[str]) -> Iterator[tuple[str, Document | None]]:
        """``(uri, document or None)`` for each URI."""
        for uri in uris:
            yield uri, self.document(uri)

    def all_uris(self) -> Iterator[str]:
        """Every entity the index should hold: hydrated ones and stubs, not deleted ones."""
        yield from self.store.entities(HydrationState.HYDRATED)
        yield from self.store.entities(HydrationState.REFERENCED)

    def dependents(self, uri: str) -> set[str]:
        """URIs whose documents embed the name of ``uri`` (they link to it)."""
        node = NamedNode(uri)
        return {term_value(t.subject) for t in self.store.asserted(None, None, node)}

    def _names(self, uri: str) -> list[str]:
        return [term_value(t.object) for t in self.store.asserted(NamedNode(uri), _NAME)]


def _resource_id(uri: str) -> str:
    """The last path segment of a URI, decoded (``alice`` for ``aip://user/identity/alice``)."""
    return unquote(uri.rstrip("/").rpartition("/")[2]) or uri
