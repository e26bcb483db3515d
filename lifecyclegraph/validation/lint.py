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

from pyoxigraph import BlankNode, NamedNode

from lifecyclegraph.validation.findings import Check, Finding, Report, near_miss
from lifecyclegraph.validation.lint_rules import read_rules, rule_findings
from lifecyclegraph.validation.lint_shapes import (
    classes_without_shapes,
    shape_documentation,
    shape_references,
    shape_terms,
)
from lifecyclegraph.validation.lint_terms import (
    OWL,
    RDF,
    RDFS,
    SHAPE_OBJECTS,
    Terms,
    compact,
    english,
    places,
)
from lifecyclegraph.validation.model import ModelDirs
from lifecyclegraph.validation.sources import ModelSources, display_path
from lifecyclegraph.validation.turtle import Position, RdfDocument

__all__ = ["CHECKS", "lint_model"]

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
    program, syntax = read_rules(dirs)
    findings += syntax
    ontology_ok = not sources.failed("ontology")
    shapes_ok = not sources.failed("shapes")
    terms = Terms.of(sources.documents["ontology"]) if ontology_ok else None
    if terms is not None:
        findings += _undefined_terms(sources.documents["ontology"], terms)
        findings += _documentation(sources.documents["ontology"], terms)
        findings += _owl_not_run(sources.documents["ontology"])
    if shapes_ok:
        findings += shape_references(sources.documents["shapes"])
        findings += shape_documentation(sources)
        if terms is not None:
            findings += _undefined_terms(sources.documents["shapes"], terms)
            findings += shape_terms(sources.documents["shapes"], terms)
            findings += classes_without_shapes(sources, terms)
    if terms is not None and program is not None:
        findings += rule_findings(program, dirs, terms)
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


# -- terms used and not declared -----------------------------------------------------------


def _undefined_terms(documents: list[RdfDocument], terms: Terms) -> list[Finding]:
    out = []
    for doc in documents:
        reported: set[str] = set()
        for t, sp, pp, op in places(doc):
            for term, where, role in (
                (t.subject, sp, "s"),
                (t.predicate, pp, "p"),
                (t.object, op, "o"),
            ):
                if not isinstance(term, NamedNode) or not terms.is_own(term.value):
                    continue
                if term.value in terms.declared:
                    continue
                if role == "o" and t.predicate.value in SHAPE_OBJECTS:
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
    doc: RdfDocument, iri: str, where: Position | None, terms: Terms, kind: str = "any"
) -> Finding:
    shown = compact(iri)
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


def _documentation(documents: list[RdfDocument], terms: Terms) -> list[Finding]:
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
            shown = compact(iri)
            if not english(terms.values(node, RDFS + "label")):
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


# -- OWL the engine does not run ---------------------------------------------------------------


def _owl_not_run(documents: list[RdfDocument]) -> list[Finding]:
    out = []
    for doc in documents:
        objects = {t.object for t in doc.triples if isinstance(t.object, BlankNode)}
        for t, sp, pp, op in places(doc):
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
            shown = compact(construct)
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
