"""``lifecyclegraph lint``: the ontology, the shapes and the rules checked together.

Every finding names its file, line and column and, for a name that is almost a known
one, the near miss ("did you mean lg:visualizesModel?"). What is checked (the check
ids of :data:`CHECKS`):

* **syntax**: a Turtle file that does not parse (``turtle-syntax``), a rule file that
  does not parse (``rule-syntax``), with pyoxigraph's and the rule parser's position;
* **terms**: a term of the ontology's own namespaces that it does not declare, wherever
  it is used, in the ontology, the shapes or a rule (``undefined-term``); a shape that
  refers to a shape that is not defined (``unknown-shape``);
* **shapes**: ``sh:targetClass`` or ``sh:class`` on something that is not a class
  (``shape-unknown-class``), ``sh:path`` through something that is not a property
  (``shape-unknown-property``), ``sh:datatype`` that is not a datatype
  (``shape-unknown-datatype``), an entity type (a class with ``lg:componentType``)
  that no node shape targets (``class-without-shape``);
* **documentation**: a term without an English ``rdfs:label`` or an ``rdfs:comment``,
  a node shape without them, a property shape without ``sh:name``
  (``missing-label``, ``missing-comment``) or ``sh:message`` (``missing-message``);
* **rules** (the rule engine's own analysis): unknown predicates, wrong arities,
  unsafe rules and negation that cannot be stratified (``rule-unknown-predicate``,
  ``rule-arity``, ``rule-unsafe``, ``rule-unstratifiable``);
* **OWL**: a construct the rule engine does not run (``owl-not-run``): it derives and
  checks nothing, which a steward who wrote it would not expect.

A folder with a file that does not parse is checked for syntax only: what depends on
it would report the missing terms of the broken file.

>>> report = lint_model(ModelDirs.current())
>>> report.counts()
{'error': 0, 'warning': 0, 'note': 0}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from lifecyclegraph.errors import RuleAnalysisError, RuleSyntaxError
from lifecyclegraph.rules.axioms import Axioms, Vocabulary
from lifecyclegraph.rules.program import Atom, Builtin, Comparison, Const, Negation, Program
from lifecyclegraph.validation.findings import Check, Finding, Report, near_miss
from lifecyclegraph.validation.model import ModelDirs
from lifecyclegraph.validation.sources import ModelSources, display_path
from lifecyclegraph.validation.turtle import Position, RdfDocument
from lifecyclegraph.vocab import PREFIXES

__all__ = ["CHECKS", "lint_model"]

RDF, RDFS, OWL, XSD, SH = (PREFIXES[p] for p in ("rdf", "rdfs", "owl", "xsd", "sh"))
LG = PREFIXES["lg"]
_STANDARD = (RDF, RDFS, OWL, XSD, SH)

CHECKS = {
    check.id: check
    for check in (
        Check("turtle-syntax", "Turtle syntax error", "A Turtle file does not parse."),
        Check("rule-syntax", "rule syntax error", "A rule file does not parse."),
        Check(
            "undefined-term",
            "undefined term",
            "A term of the ontology's own namespace that the ontology does not declare.",
        ),
        Check("unknown-shape", "unknown shape", "A shape refers to a shape nobody defines."),
        Check(
            "shape-unknown-class",
            "shape on an unknown class",
            "sh:targetClass or sh:class names something that is not a class of the ontology.",
        ),
        Check(
            "shape-unknown-property",
            "shape on an unknown property",
            "sh:path goes through something that is not a property of the ontology.",
        ),
        Check(
            "shape-unknown-datatype",
            "unknown datatype",
            "sh:datatype names something that is not a datatype: every value would fail.",
        ),
        Check(
            "class-without-shape",
            "entity type without a shape",
            "A class with lg:componentType (an entity type) that no node shape targets: "
            "its entities are stored unchecked.",
        ),
        Check("missing-label", "missing label", "A term or a shape has no English label."),
        Check("missing-comment", "missing comment", "A term or a node shape has no comment."),
        Check(
            "missing-message",
            "missing message",
            "A property shape has no sh:message: its results say only which constraint failed.",
        ),
        Check(
            "rule-unknown-predicate",
            "unknown predicate in a rule",
            "A rule names a predicate that is neither a class nor a property of the ontology.",
        ),
        Check("rule-arity", "wrong number of arguments", "A class takes 1, a property 2."),
        Check(
            "rule-unsafe",
            "unsafe rule",
            "A variable that no positive body atom binds: the rule cannot be evaluated.",
        ),
        Check(
            "rule-unstratifiable",
            "negation through recursion",
            "A predicate depends on its own negation: the rules cannot be stratified.",
        ),
        Check("rule-problem", "rule problem", "A rule the engine cannot run."),
        Check(
            "not-checked",
            "checks skipped",
            "A folder with a file that does not parse: what depends on it was not checked.",
        ),
        Check(
            "owl-not-run",
            "OWL construct not run",
            "An OWL construct the rule engine does not run: it derives and checks nothing.",
        ),
    )
}

_CLASS_TYPES = {OWL + "Class", RDFS + "Class"}
_PROPERTY_TYPES = {
    RDF + "Property",
    *(
        OWL + name
        for name in (
            "ObjectProperty",
            "DatatypeProperty",
            "AnnotationProperty",
            "TransitiveProperty",
            "SymmetricProperty",
            "AsymmetricProperty",
            "FunctionalProperty",
            "InverseFunctionalProperty",
            "ReflexiveProperty",
            "IrreflexiveProperty",
        )
    ),
}
#: OWL terms the engine runs (lifecyclegraph.rules.owl) or that only describe.
_OWL_RUN = {
    OWL + name
    for name in (
        "Class",
        "ObjectProperty",
        "DatatypeProperty",
        "AnnotationProperty",
        "NamedIndividual",
        "Ontology",
        "TransitiveProperty",
        "SymmetricProperty",
        "Thing",
        "inverseOf",
        "equivalentClass",
        "equivalentProperty",
        "propertyChainAxiom",
        "imports",
        "versionInfo",
        "versionIRI",
        "priorVersion",
        "backwardCompatibleWith",
        "incompatibleWith",
        "deprecated",
    )
}
_OWL_HINTS = {
    "FunctionalProperty": "; to check it, give the property sh:maxCount 1 in a shape",
    "Restriction": "; constraints on data belong in shapes/",
    "sameAs": "; the engine does not merge individuals",
}
_XSD_TYPES = (
    "string",
    "boolean",
    "decimal",
    "integer",
    "double",
    "float",
    "date",
    "time",
    "dateTime",
    "dateTimeStamp",
    "duration",
    "dayTimeDuration",
    "yearMonthDuration",
    "gYear",
    "gYearMonth",
    "gMonth",
    "gMonthDay",
    "gDay",
    "anyURI",
    "base64Binary",
    "hexBinary",
    "normalizedString",
    "token",
    "language",
    "Name",
    "NCName",
    "NMTOKEN",
    "long",
    "int",
    "short",
    "byte",
    "nonNegativeInteger",
    "positiveInteger",
    "nonPositiveInteger",
    "negativeInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
)
_DATATYPES = {XSD + name for name in _XSD_TYPES} | {
    RDF + "langString",
    RDF + "HTML",
    RDF + "XMLLiteral",
    RDF + "JSON",
}


def lint_model(dirs: ModelDirs) -> Report:
    """Check the model in ``dirs``: ontology, shapes and rules together.

    Returns:
        A report of every finding (none for a clean model).

    Raises:
        ConfigError: a file cannot be read at all.
    """
    sources = ModelSources.load(dirs)
    findings = [
        Finding(
            "turtle-syntax",
            "error",
            str(error.message),
            key=(str(error.filename),),
            where=Position(str(error.filename), error.lineno or 1, error.offset or 1),
        )
        for error in sources.errors
    ]
    program, rule_findings = _read_rules(dirs)
    findings += rule_findings
    ontology_ok = not sources.failed("ontology")
    shapes_ok = not sources.failed("shapes")
    terms = _Terms.of(sources.documents["ontology"]) if ontology_ok else None
    if terms is not None:
        findings += _undefined_terms(sources.documents["ontology"], terms)
        findings += _documentation(sources.documents["ontology"], terms)
        findings += _owl_not_run(sources.documents["ontology"])
    if shapes_ok:
        findings += _shape_references(sources.documents["shapes"])
        findings += _shape_documentation(sources)
        if terms is not None:
            findings += _undefined_terms(sources.documents["shapes"], terms)
            findings += _shape_terms(sources.documents["shapes"], terms)
            findings += _classes_without_shapes(sources, terms)
    if terms is not None and program is not None:
        findings += _rule_findings(program, dirs, terms)
    findings += _skipped(dirs, ontology_ok, shapes_ok, program is not None)
    return Report("lint", findings, checks=dict(CHECKS))


def _skipped(dirs: ModelDirs, ontology_ok: bool, shapes_ok: bool, rules_ok: bool) -> list[Finding]:
    """A note for each folder whose checks did not run, so that a clean result after a
    syntax error is not taken for a clean model."""
    skipped = {
        "ontology": (not ontology_ok, "the ontology's terms, and everything that uses them"),
        "shapes": (not shapes_ok or not ontology_ok, "the shapes' classes, paths and shapes"),
        "rules": (not rules_ok or not ontology_ok, "the rules' predicates and stratification"),
    }
    out = []
    for kind, (missed, what) in skipped.items():
        if missed:
            folder = display_path(dirs.folder(kind))
            out.append(
                Finding(
                    "not-checked",
                    "note",
                    f"{what} were not checked: a file does not parse (fix it first)",
                    key=(kind,),
                    file=folder,
                )
            )
    return out


# -- the ontology's terms -----------------------------------------------------------------


@dataclass
class _Terms:
    """What the ontology declares (and, for shapes and rules, uses as classes and
    properties), and its own namespaces."""

    declared: set[str]
    vocabulary: Vocabulary
    own: set[str]
    documents: list[RdfDocument] = field(default_factory=list)

    @classmethod
    def of(cls, documents: list[RdfDocument]) -> _Terms:
        triples = [t for doc in documents for t in doc.triples]
        ontologies = {
            t.subject
            for t in triples
            if t.predicate.value == RDF + "type" and t.object == NamedNode(OWL + "Ontology")
        }
        declared = {
            t.subject.value
            for t in triples
            if t.predicate.value == RDF + "type"
            and isinstance(t.subject, NamedNode)
            and t.subject not in ontologies
        }
        own = {_namespace(term) for term in declared} - set(_STANDARD)
        vocabulary = Axioms.from_triples(triples).vocabulary()
        return cls(declared, vocabulary, own, documents)

    def is_own(self, iri: str) -> bool:
        return _namespace(iri) in self.own

    def names(self, kind: str = "any") -> list[str]:
        """Known names, compacted, for "did you mean"."""
        pool = {
            "class": self.vocabulary.classes,
            "property": self.vocabulary.properties,
        }.get(kind, self.declared | self.vocabulary.classes | self.vocabulary.properties)
        return sorted({_compact(term) for term in pool})

    def first_place(self, term: NamedNode) -> Position | None:
        for doc in self.documents:
            found = doc.first_as_subject(term)
            if found is not None:
                return found
        return None

    def values(self, subject: object, predicate: str) -> list[object]:
        node = NamedNode(predicate)
        return [
            t.object
            for doc in self.documents
            for t in doc.triples
            if t.subject == subject and t.predicate == node
        ]


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1] if cut >= 0 else iri


def _compact(iri: str) -> str:
    for prefix, base in PREFIXES.items():
        if iri.startswith(base) and len(iri) > len(base):
            return f"{prefix}:{iri[len(base) :]}"
    return f"<{iri}>"


def _places(
    doc: RdfDocument,
) -> Iterator[tuple[Triple, Position | None, Position | None, Position | None]]:
    """Each triple of ``doc`` with the places of its terms (``None`` when unknown)."""
    if doc.located is not None:
        for item in doc.located:
            yield item.triple, item.subject, item.predicate, item.object
    else:
        for t in doc.triples:
            yield t, None, None, None


# -- terms used and not declared -----------------------------------------------------------

#: predicates whose objects the shape checks look at (reported there, not twice)
_SHAPE_OBJECTS = {SH + "path", SH + "targetClass", SH + "class"}


def _undefined_terms(documents: list[RdfDocument], terms: _Terms) -> list[Finding]:
    out = []
    for doc in documents:
        reported: set[str] = set()
        for t, sp, pp, op in _places(doc):
            for term, where, role in (
                (t.subject, sp, "s"),
                (t.predicate, pp, "p"),
                (t.object, op, "o"),
            ):
                if not isinstance(term, NamedNode) or not terms.is_own(term.value):
                    continue
                if term.value in terms.declared:
                    continue
                if role == "o" and t.predicate.value in _SHAPE_OBJECTS:
                    continue
                if where is None and term.value in reported:
                    continue
                reported.add(term.value)
                kind = (
                    "property"
                    if role == "p"
                    else (
                        "class"
                        if t.predicate.value in (RDF + "type", RDFS + "subClassOf")
                        else "any"
                    )
                )
                out.append(_unknown_term(doc, term.value, where, terms, kind))
    return out


def _unknown_term(
    doc: RdfDocument, iri: str, where: Position | None, terms: _Terms, kind: str = "any"
) -> Finding:
    shown = _compact(iri)
    suggestion = near_miss(shown, terms.names(kind)) or near_miss(shown, terms.names())
    message = f"unknown term {shown}: the ontology does not declare it"
    if suggestion:
        message += f"; did you mean {suggestion}?"
    return Finding(
        "undefined-term",
        "error",
        message,
        key=(doc.name, iri),
        subject=iri,
        suggestion=suggestion,
        where=where,
        file=doc.name,
    )


# -- documentation -----------------------------------------------------------------------------


def _english(values: Iterable[object]) -> bool:
    return any(isinstance(v, Literal) and v.language in (None, "en") for v in values)


def _documentation(documents: list[RdfDocument], terms: _Terms) -> list[Finding]:
    out = []
    for doc in documents:
        for iri in sorted(
            {t.subject.value for t in doc.triples if isinstance(t.subject, NamedNode)}
            & terms.declared
        ):
            if not terms.is_own(iri):
                continue
            node = NamedNode(iri)
            where = doc.first_as_subject(node)
            shown = _compact(iri)
            if not _english(terms.values(node, RDFS + "label")):
                out.append(
                    Finding(
                        "missing-label",
                        "warning",
                        f"{shown} has no English rdfs:label",
                        key=(iri,),
                        subject=iri,
                        where=where,
                        file=doc.name,
                    )
                )
            if not terms.values(node, RDFS + "comment"):
                out.append(
                    Finding(
                        "missing-comment",
                        "warning",
                        f"{shown} has no rdfs:comment",
                        key=(iri,),
                        subject=iri,
                        where=where,
                        file=doc.name,
                    )
                )
    # a term described in two files is reported once, in the first
    return _first_per_key(out)


def _first_per_key(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, ...]] = set()
    out = []
    for f in findings:
        identity = (f.check, *f.key)
        if identity not in seen:
            seen.add(identity)
            out.append(f)
    return out


def _shape_documentation(sources: ModelSources) -> list[Finding]:
    out = []
    index = sources.shape_index
    for doc in sources.documents["shapes"]:
        values: dict[tuple[object, str], list[object]] = {}
        for t in doc.triples:
            values.setdefault((t.subject, t.predicate.value), []).append(t.object)
        node_shapes = [
            t.subject
            for t in doc.triples
            if t.predicate.value == RDF + "type"
            and t.object == NamedNode(SH + "NodeShape")
            and isinstance(t.subject, NamedNode | BlankNode)
        ]
        property_shapes = [
            t.subject
            for t in doc.triples
            if t.predicate.value == SH + "path" and isinstance(t.subject, NamedNode | BlankNode)
        ]
        for node in node_shapes:
            name = index.name(node.value)
            where = doc.first_as_subject(node)
            if not _english(values.get((node, RDFS + "label"), [])):
                out.append(
                    Finding(
                        "missing-label",
                        "warning",
                        f"the node shape {name} has no English rdfs:label",
                        key=(name,),
                        subject=name,
                        where=where,
                        file=doc.name,
                    )
                )
            if not values.get((node, RDFS + "comment")):
                out.append(
                    Finding(
                        "missing-comment",
                        "warning",
                        f"the node shape {name} has no rdfs:comment",
                        key=(name,),
                        subject=name,
                        where=where,
                        file=doc.name,
                    )
                )
        for node in property_shapes:
            name = index.name(node.value)
            where = doc.first_as_subject(node)
            if not _english(values.get((node, SH + "name"), [])):
                out.append(
                    Finding(
                        "missing-label",
                        "warning",
                        f"the property shape {name} has no sh:name",
                        key=(name,),
                        subject=name,
                        where=where,
                        file=doc.name,
                    )
                )
            if not values.get((node, SH + "message")):
                out.append(
                    Finding(
                        "missing-message",
                        "warning",
                        f"the property shape {name} has "
                        "no sh:message: its results will say only which constraint "
                        "failed",
                        key=(name,),
                        subject=name,
                        where=where,
                        file=doc.name,
                    )
                )
    return out


# -- shapes --------------------------------------------------------------------------------------


def _shape_references(documents: list[RdfDocument]) -> list[Finding]:
    """``sh:property`` / ``sh:node`` to a named shape that no file describes."""
    described = {t.subject for doc in documents for t in doc.triples}
    shapes = sorted(_compact(s.value) for s in described if isinstance(s, NamedNode))
    out = []
    for doc in documents:
        for t, _, _, op in _places(doc):
            if t.predicate.value not in (SH + "property", SH + "node"):
                continue
            if not isinstance(t.object, NamedNode) or t.object in described:
                continue
            shown = _compact(t.object.value)
            suggestion = near_miss(shown, shapes)
            message = f"unknown shape {shown}: no shapes file defines it"
            if suggestion:
                message += f"; did you mean {suggestion}?"
            out.append(
                Finding(
                    "unknown-shape",
                    "error",
                    message,
                    key=(doc.name, t.object.value),
                    subject=t.object.value,
                    suggestion=suggestion,
                    where=op,
                    file=doc.name,
                )
            )
    return out


def _shape_terms(documents: list[RdfDocument], terms: _Terms) -> list[Finding]:
    out: list[Finding] = []
    for doc in documents:
        by_subject: dict[object, list[Triple]] = {}
        for t in doc.triples:
            by_subject.setdefault(t.subject, []).append(t)
        for t, _, _, op in _places(doc):
            predicate = t.predicate.value
            if predicate in (SH + "targetClass", SH + "class"):
                out += _class_term(doc, t, op, terms)
            elif predicate == SH + "path":
                for iri in _path_iris(t.object, by_subject):
                    out += _property_term(doc, t, iri, op, terms)
            elif predicate == SH + "datatype" and isinstance(t.object, NamedNode):
                iri = t.object.value
                if iri in _DATATYPES or not (iri.startswith(XSD) or iri.startswith(RDF)):
                    continue
                shown = _compact(iri)
                suggestion = near_miss(shown, sorted(_compact(d) for d in _DATATYPES))
                message = f"sh:datatype {shown} is not a datatype: every value would fail"
                if suggestion:
                    message += f"; did you mean {suggestion}?"
                out.append(
                    Finding(
                        "shape-unknown-datatype",
                        "error",
                        message,
                        key=(doc.name, iri),
                        subject=iri,
                        suggestion=suggestion,
                        where=op,
                        file=doc.name,
                    )
                )
    return out


def _class_term(
    doc: RdfDocument, t: Triple, where: Position | None, terms: _Terms
) -> list[Finding]:
    if not isinstance(t.object, NamedNode):
        return []
    iri = t.object.value
    if iri in terms.vocabulary.classes:
        return []
    shown, via = _compact(iri), _compact(t.predicate.value)
    if iri in terms.vocabulary.properties:
        message, suggestion = f"{via} {shown}: {shown} is a property, not a class", None
    else:
        suggestion = near_miss(shown, terms.names("class"))
        message = f"{via} {shown}: not a class of the ontology"
        if suggestion:
            message += f"; did you mean {suggestion}?"
    return [
        Finding(
            "shape-unknown-class",
            "error",
            message,
            key=(doc.name, t.predicate.value, iri),
            subject=iri,
            suggestion=suggestion,
            where=where,
            file=doc.name,
        )
    ]


def _property_term(
    doc: RdfDocument, t: Triple, iri: str, where: Position | None, terms: _Terms
) -> list[Finding]:
    if iri in terms.vocabulary.properties or iri.startswith(_STANDARD):
        return []
    shown = _compact(iri)
    level = "error"
    suggestion = None
    if iri in terms.vocabulary.classes:
        message = f"sh:path {shown}: {shown} is a class, not a property"
    else:
        suggestion = near_miss(shown, terms.names("property"))
        if terms.is_own(iri):
            message = f"sh:path {shown}: not a property of the ontology"
        else:
            level = "warning"
            message = f"sh:path {shown}: the ontology neither declares nor uses this property"
        if suggestion:
            message += f"; did you mean {suggestion}?"
    return [
        Finding(
            "shape-unknown-property",
            level,
            message,
            key=(doc.name, iri),
            subject=iri,
            suggestion=suggestion,
            where=where,
            file=doc.name,
        )
    ]


def _path_iris(path: object, by_subject: dict[object, list[Triple]], depth: int = 0) -> list[str]:
    """The property IRIs of a SHACL path (an IRI, or a blank node path expression)."""
    if isinstance(path, NamedNode):
        return [] if path.value == RDF + "nil" else [path.value]
    if not isinstance(path, BlankNode) or depth > 20:
        return []
    out: list[str] = []
    for t in by_subject.get(path, []):
        if (
            t.predicate.value == RDF + "rest"
            or t.predicate.value.startswith(SH)
            or (t.predicate.value == RDF + "first")
        ):
            out += _path_iris(t.object, by_subject, depth + 1)
    return out


def _classes_without_shapes(sources: ModelSources, terms: _Terms) -> list[Finding]:
    from lifecyclegraph.ontology import Ontology

    ontology = Ontology(sources.graph("ontology"))
    targeted = {
        t.object.value
        for doc in sources.documents["shapes"]
        for t in doc.triples
        if t.predicate.value == SH + "targetClass" and isinstance(t.object, NamedNode)
    }
    out = []
    for cls in ontology.entity_classes():
        if ontology.superclasses(cls) & targeted:
            continue
        shown = _compact(cls)
        where = terms.first_place(NamedNode(cls))
        out.append(
            Finding(
                "class-without-shape",
                "warning",
                f"{shown} is an entity type (it has lg:componentType) but no node shape "
                "targets it: its entities are stored unchecked",
                key=(cls,),
                where=where,
                file=where.file if where else None,
                subject=cls,
            )
        )
    return out


# -- OWL the engine does not run ---------------------------------------------------------------


def _owl_not_run(documents: list[RdfDocument]) -> list[Finding]:
    out = []
    for doc in documents:
        objects = {t.object for t in doc.triples if isinstance(t.object, BlankNode)}
        for t, sp, pp, op in _places(doc):
            predicate = t.predicate.value
            construct, where = None, pp
            if isinstance(t.subject, BlankNode) and t.subject in objects:
                continue  # inside an expression, reported where the expression is used
            if predicate == RDF + "type" and isinstance(t.object, NamedNode):
                if t.object.value.startswith(OWL) and t.object.value not in _OWL_RUN:
                    construct, where = t.object.value, op
            elif predicate.startswith(OWL) and predicate not in _OWL_RUN:
                construct = predicate
            elif predicate in (RDFS + "subClassOf", OWL + "equivalentClass") and isinstance(
                t.object, BlankNode
            ):
                kinds = [
                    x.object.value
                    for x in doc.triples
                    if x.subject == t.object
                    and x.predicate.value == RDF + "type"
                    and isinstance(x.object, NamedNode)
                ]
                construct, where = (kinds[0] if kinds else OWL + "Restriction"), op
            if construct is None:
                continue
            local = construct.removeprefix(OWL)
            shown = _compact(construct)
            subject = t.subject.value if isinstance(t.subject, NamedNode) else str(sp or "")
            out.append(
                Finding(
                    "owl-not-run",
                    "warning",
                    f"{shown} is not run by the rule engine: it derives and checks nothing"
                    + _OWL_HINTS.get(local, ""),
                    key=(doc.name, subject, construct),
                    subject=subject or None,
                    where=where,
                    file=doc.name,
                )
            )
    return out


# -- rules -----------------------------------------------------------------------------------------


def _read_rules(dirs: ModelDirs) -> tuple[Program | None, list[Finding]]:
    """Parse each rule file; the program, or ``None`` when a file does not parse."""
    from lifecyclegraph.rules.parser import parse_rules

    program = Program(())
    findings = []
    for path in dirs.files("rules"):
        name = display_path(path)
        try:
            program = program.merge(parse_rules(path.read_text(encoding="utf-8"), name))
        except RuleSyntaxError as error:
            problem = error.problem
            findings.append(
                Finding(
                    "rule-syntax",
                    "error",
                    problem.message,
                    key=(problem.filename,),
                    where=Position(problem.filename, problem.line, problem.column),
                )
            )
    return (None if findings else program), findings


_RULE_CHECKS = (
    ("unknown predicate", "rule-unknown-predicate"),
    ("negation through recursion", "rule-unstratifiable"),
    ("unsafe rule", "rule-unsafe"),
    ("argument", "rule-arity"),
)
_DID_YOU_MEAN = re.compile(r"did you mean (\S+)\?")


def _rule_findings(program: Program, dirs: ModelDirs, terms: _Terms) -> list[Finding]:
    from lifecyclegraph.rules.load import analyse_program

    folder = dirs.folder("ontology")
    # files named as in the other findings: relative to the working directory if inside
    root = Path.cwd() if folder.is_absolute() and folder.is_relative_to(Path.cwd()) else None
    findings = _rule_constants(program, terms)
    try:
        analyse_program(program, Axioms.load(dirs.folder("ontology"), root=root))
    except RuleAnalysisError as error:
        for problem in error.problems:
            check = next((c for text, c in _RULE_CHECKS if text in problem.message), "rule-problem")
            near = _DID_YOU_MEAN.search(problem.message)
            findings.append(
                Finding(
                    check,
                    "error",
                    problem.message,
                    key=(problem.filename, problem.message),
                    where=Position(problem.filename, problem.line, problem.column),
                    suggestion=near.group(1) if near else None,
                )
            )
    return findings


def _rule_constants(program: Program, terms: _Terms) -> list[Finding]:
    """IRIs of the ontology's namespaces used as values in rules and not declared."""
    out = []
    for rule in program.rules:
        for item in (rule.head, *rule.body):
            atom = item.atom if isinstance(item, Negation) else item
            if isinstance(atom, Atom | Builtin):
                args = atom.args
            elif isinstance(atom, Comparison):
                args = (atom.left, atom.right)
            else:
                continue
            for arg in args:
                if not isinstance(arg, Const) or not isinstance(arg.term, NamedNode):
                    continue
                iri = arg.term.value
                if not terms.is_own(iri) or iri in terms.declared:
                    continue
                loc = atom.location
                where = Position(loc.filename, loc.line, loc.column)
                shown = _compact(iri)
                suggestion = near_miss(shown, terms.names())
                message = f"unknown term {shown}: the ontology does not declare it"
                if suggestion:
                    message += f"; did you mean {suggestion}?"
                out.append(
                    Finding(
                        "undefined-term",
                        "error",
                        message,
                        key=(loc.filename, iri),
                        where=where,
                        subject=iri,
                        suggestion=suggestion,
                    )
                )
    return out
