"""The ontology and the shapes: they parse, agree with each other, follow the
stewards' conventions, hold the alignments the design asks for, and work with
the reasoners and validators lifecyclegraph relies on (pySHACL, OWL RL).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import owlrl
import pyshacl
import pytest
from owlrl.Namespaces import ERRNS
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, PROV, RDF, RDFS, SH

ROOT = Path(__file__).parent.parent
ONTOLOGY_DIR = ROOT / "ontology"
SHAPES_DIR = ROOT / "shapes"

LG = Namespace("https://w3id.org/lifecyclegraph/ontology#")
LGSH = Namespace("https://w3id.org/lifecyclegraph/shapes#")
# Open namespaces: rdflib's closed XSD warns when pytest probes module attributes,
# and its DCAT is DCAT 2 (no dcat:isVersionOf).
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
MLS = Namespace("http://www.w3.org/ns/mls#")
ORG = Namespace("http://www.w3.org/ns/org#")
ONTOLOGY_BASE = "https://w3id.org/lifecyclegraph/ontology/"
CORE_ONTOLOGY = URIRef(ONTOLOGY_BASE + "core")

DOMAIN_FILES = {
    "models": LG.ModelsDomain,
    "pipelines": LG.PipelinesDomain,
    "features": LG.FeaturesDomain,
    "experiments": LG.ExperimentsDomain,
    "datasets": LG.DatasetsDomain,
    "identity": LG.IdentityDomain,
}

TERM_TYPES = (
    OWL.Class,
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    OWL.NamedIndividual,
)

# The only predicates an ontology file may use (the house profile: no
# restrictions, no cardinalities, no disjointness).
ALLOWED_ONTOLOGY_PREDICATES = {
    RDF.type,
    RDF.first,
    RDF.rest,
    RDFS.label,
    RDFS.comment,
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    RDFS.domain,
    RDFS.range,
    OWL.inverseOf,
    OWL.propertyChainAxiom,
    OWL.imports,
    LG.domain,
    LG.componentType,
    LG.graphqlName,
    LG.readTransitively,
}
ALLOWED_ONTOLOGY_TYPES = {
    OWL.Ontology,
    OWL.Class,
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    OWL.NamedIndividual,
    OWL.TransitiveProperty,
    OWL.SymmetricProperty,
}


def _ttl_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ttl"))


def _load(folder: Path) -> Graph:
    graph = Graph()
    for path in _ttl_files(folder):
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return _load(ONTOLOGY_DIR)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return _load(SHAPES_DIR)


def _lg_terms(graph: Graph) -> set[URIRef]:
    return {
        s
        for kind in TERM_TYPES
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and s.startswith(str(LG))
    }


def _declared_classes(graph: Graph) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)}


def _declared_properties(graph: Graph) -> set[URIRef]:
    return {
        s
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef)
    }


def _component_classes(graph: Graph) -> set[URIRef]:
    return {s for s in graph.subjects(LG.componentType, None) if isinstance(s, URIRef)}


def _superclasses(graph: Graph, cls: URIRef) -> set[URIRef]:
    return set(graph.transitive_objects(cls, RDFS.subClassOf))


def _property_shapes(shapes: Graph) -> set:
    return set(shapes.objects(None, SH.property))


def _near_miss(name: URIRef, candidates: set[URIRef]) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1)
    return f" (did you mean {close[0]}?)" if close else ""


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def test_folders_hold_one_file_per_domain():
    expected = {"core", "lineage", *DOMAIN_FILES}
    assert {p.stem for p in _ttl_files(ONTOLOGY_DIR)} == expected
    assert {p.stem for p in _ttl_files(SHAPES_DIR)} == {"core", *DOMAIN_FILES}


@pytest.mark.parametrize(
    "path",
    _ttl_files(ONTOLOGY_DIR) + _ttl_files(SHAPES_DIR),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_turtle_file_parses_without_error(path: Path):
    graph = Graph().parse(path, format="turtle")
    assert len(graph) > 0


@pytest.mark.parametrize("path", _ttl_files(ONTOLOGY_DIR), ids=lambda p: p.name)
def test_ontology_file_declares_its_ontology_when_parsed_alone(path: Path):
    graph = Graph().parse(path, format="turtle")
    iri = URIRef(ONTOLOGY_BASE + path.stem)
    assert set(graph.subjects(RDF.type, OWL.Ontology)) == {iri}
    assert graph.value(iri, RDFS.label) is not None
    assert graph.value(iri, RDFS.comment) is not None
    imports = set(graph.objects(iri, OWL.imports))
    assert imports == (set() if path.stem == "core" else {CORE_ONTOLOGY})


@pytest.mark.parametrize("path", _ttl_files(SHAPES_DIR), ids=lambda p: p.name)
def test_shapes_file_declares_its_shapes_graph_when_parsed_alone(path: Path):
    graph = Graph().parse(path, format="turtle")
    ontologies = list(graph.subjects(RDF.type, OWL.Ontology))
    assert len(ontologies) == 1
    assert graph.value(ontologies[0], RDFS.label) is not None
    assert graph.value(ontologies[0], RDFS.comment) is not None


@pytest.mark.parametrize("path", _ttl_files(ONTOLOGY_DIR), ids=lambda p: p.name)
def test_ontology_file_uses_only_the_house_profile(path: Path):
    graph = Graph().parse(path, format="turtle")
    bad_predicates = {p for p in graph.predicates() if p not in ALLOWED_ONTOLOGY_PREDICATES}
    bad_types = {
        o
        for s, o in graph.subject_objects(RDF.type)
        if o not in ALLOWED_ONTOLOGY_TYPES and not str(o).startswith(str(LG))
    }
    assert not bad_predicates, f"{path.name} uses {sorted(bad_predicates)}"
    assert not bad_types, f"{path.name} declares {sorted(bad_types)}"


# ---------------------------------------------------------------------------
# Conventions of the ontology
# ---------------------------------------------------------------------------


def test_lg_terms_have_english_label_and_comment(ontology: Graph):
    missing = []
    for term in sorted(_lg_terms(ontology)):
        labels = [lab for lab in ontology.objects(term, RDFS.label) if isinstance(lab, Literal)]
        comments = list(ontology.objects(term, RDFS.comment))
        if not any(lab.language == "en" for lab in labels) or not comments:
            missing.append(term)
    assert not missing, f"terms without an English label or a comment: {missing}"


def test_lg_terms_used_anywhere_are_declared(ontology: Graph, shapes: Graph):
    declared = _lg_terms(ontology)
    used = {
        node
        for graph in (ontology, shapes)
        for triple in graph
        for node in triple
        if isinstance(node, URIRef) and node.startswith(str(LG))
    }
    undeclared = sorted(used - declared)
    assert not undeclared, "; ".join(
        f"unknown term {term}{_near_miss(term, declared)}" for term in undeclared
    )


def test_lg_domain_values_are_domain_individuals(ontology: Graph):
    domains = set(ontology.subjects(RDF.type, LG.Domain))
    assert domains == set(DOMAIN_FILES.values())
    for cls, domain in ontology.subject_objects(LG.domain):
        assert domain in domains, f"{cls} has lg:domain {domain}, which is not an lg:Domain"


def test_component_classes_carry_a_domain_and_one_component_type(ontology: Graph):
    for cls in _component_classes(ontology):
        assert (cls, RDF.type, OWL.Class) in ontology
        assert len(set(ontology.objects(cls, LG.domain))) == 1, cls
        types = list(ontology.objects(cls, LG.componentType))
        assert len(types) == 1 and types[0].datatype in (None, XSD.string), cls


@pytest.mark.parametrize("stem", sorted(DOMAIN_FILES))
def test_classes_of_a_domain_file_carry_its_domain(stem: str):
    graph = Graph().parse(ONTOLOGY_DIR / f"{stem}.ttl", format="turtle")
    classes = _declared_classes(graph)
    assert classes, f"{stem}.ttl declares no class"
    for cls in classes:
        assert graph.value(cls, LG.domain) == DOMAIN_FILES[stem], cls
        assert graph.value(cls, LG.componentType) is not None, cls


# The AIP URI table of the source-systems contract (and the sub-entities the
# design adds). A new entity type adds a row here only if the contract does.
AIP_COMPONENT_TYPES = {
    LG.Model: "model",
    LG.ModelInstance: "model",
    LG.Deployment: "deployment",
    LG.Pipeline: "pipeline",
    LG.Schedule: "schedule",
    LG.PipelineRun: "pipeline-run",
    LG.RunAttempt: "run-attempt",
    LG.Feature: "feature",
    LG.ABTest: "ab-test",
    LG.ABTestCell: "ab-test-cell",
    LG.Dataset: "dataset",
    LG.DatasetVersion: "dataset-version",
    LG.User: "user",
    LG.Team: "team",
}


def test_component_types_match_the_aip_uri_table(ontology: Graph):
    component_types = {cls: str(value) for cls, value in ontology.subject_objects(LG.componentType)}
    for cls, expected in AIP_COMPONENT_TYPES.items():
        assert component_types.get(cls) == expected, cls
    for cls, value in component_types.items():
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", value), f"{cls}: {value!r}"


def test_properties_have_one_kind_and_a_matching_range(ontology: Graph):
    objects = set(ontology.subjects(RDF.type, OWL.ObjectProperty))
    datatypes = set(ontology.subjects(RDF.type, OWL.DatatypeProperty))
    assert not objects & datatypes, f"declared as both kinds: {objects & datatypes}"
    classes = _declared_classes(ontology)
    for prop in datatypes:
        ranges = list(ontology.objects(prop, RDFS.range))
        assert len(ranges) == 1 and str(ranges[0]).startswith(str(XSD)), prop
    for prop in objects:
        for range_ in ontology.objects(prop, RDFS.range):
            assert range_ in classes, f"{prop} has range {range_}, not a declared class"
        for domain in ontology.objects(prop, RDFS.domain):
            assert domain in classes, f"{prop} has domain {domain}, not a declared class"


# What PROV-O says about the subjects and objects of the PROV terms we align
# to; an lg property's declared domain and range must fit them (PROV-O makes
# prov:Activity and prov:Entity disjoint, so a misfit is an inconsistency).
PROV_SIGNATURES = {
    PROV.used: (PROV.Activity, PROV.Entity),
    PROV.generated: (PROV.Activity, PROV.Entity),
    PROV.wasGeneratedBy: (PROV.Entity, PROV.Activity),
    PROV.wasDerivedFrom: (PROV.Entity, PROV.Entity),
    PROV.wasAttributedTo: (PROV.Entity, PROV.Agent),
    PROV.wasAssociatedWith: (PROV.Activity, PROV.Agent),
    PROV.startedAtTime: (PROV.Activity, None),
    PROV.endedAtTime: (PROV.Activity, None),
    PROV.generatedAtTime: (PROV.Entity, None),
}
PROV_CLASS_HIERARCHY = [
    (PROV.Person, PROV.Agent),
    (PROV.Organization, PROV.Agent),
    (PROV.Plan, PROV.Entity),
]


def test_prov_alignment_fits_prov_domains_and_ranges(ontology: Graph):
    graph = Graph()
    graph += ontology
    for sub, sup in PROV_CLASS_HIERARCHY:
        graph.add((sub, RDFS.subClassOf, sup))
    misfits = []
    for prop in _declared_properties(graph):
        for prov_prop in graph.transitive_objects(prop, RDFS.subPropertyOf):
            if prov_prop not in PROV_SIGNATURES:
                continue
            prov_domain, prov_range = PROV_SIGNATURES[prov_prop]
            for domain in graph.objects(prop, RDFS.domain):
                if prov_domain not in _superclasses(graph, domain):
                    misfits.append(f"{prop} domain {domain} is not a {prov_domain}")
            for range_ in graph.objects(prop, RDFS.range):
                if prov_range is not None and prov_range not in _superclasses(graph, range_):
                    misfits.append(f"{prop} range {range_} is not a {prov_range}")
    assert not misfits, "; ".join(misfits)


# ---------------------------------------------------------------------------
# Alignment and axioms the design asks for
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sub", "sup"),
    [
        (LG.PipelineRun, PROV.Activity),
        (LG.PipelineRun, MLS.Run),
        (LG.Dataset, DCAT.Dataset),
        (LG.Dataset, MLS.Dataset),
        (LG.ModelInstance, MLS.Model),
        (LG.Feature, MLS.Feature),
        (LG.Pipeline, PROV.Plan),
        (LG.Team, ORG.OrganizationalUnit),
        (LG.User, PROV.Person),
        (LG.Model, PROV.Entity),
    ],
)
def test_class_is_aligned_with_standard_class(ontology: Graph, sub: URIRef, sup: URIRef):
    assert sup in _superclasses(ontology, sub)


@pytest.mark.parametrize(
    ("sub", "sup"),
    [
        (LG.memberOf, ORG.memberOf),
        (LG.producedByRun, PROV.wasGeneratedBy),
        (LG.versionOf, DCAT.isVersionOf),
        (LG.owner, PROV.wasAttributedTo),
        (LG.name, RDFS.label),
        (LG.dependsOn, PROV.wasInfluencedBy),
        (LG.dependsOn, LG.upstream),
        (LG.usesFeature, LG.upstream),
        (LG.cellOf, LG.partOf),
        (LG.parentTeam, LG.ancestorTeam),
    ],
)
def test_property_is_aligned_with_super_property(ontology: Graph, sub: URIRef, sup: URIRef):
    assert sup in set(ontology.transitive_objects(sub, RDFS.subPropertyOf))


def test_upstream_is_one_step_read_transitively_and_inverse_of_downstream(ontology: Graph):
    # issue 17: the store holds one-step edges; the full lineage is lg:upstream+
    for prop in (LG.upstream, LG.downstream, LG.dependsOn):
        assert (prop, RDF.type, OWL.TransitiveProperty) not in ontology, prop
    assert (LG.upstream, OWL.inverseOf, LG.downstream) in ontology
    read_transitively = set(ontology.subjects(LG.readTransitively, Literal(True)))
    assert read_transitively == {LG.upstream, LG.downstream}


def _chains(graph: Graph, prop: URIRef) -> list[list[URIRef]]:
    return [list(Collection(graph, head)) for head in graph.objects(prop, OWL.propertyChainAxiom)]


def test_associated_ab_test_is_derived_by_property_chain(ontology: Graph):
    assert _chains(ontology, LG.associatedAbTest) == [[LG.producedByRun, LG.ranForCell, LG.cellOf]]
    assert (LG.associatedAbTest, OWL.inverseOf, LG.testsInstance) in ontology


def test_owning_team_is_derived_by_two_property_chains(ontology: Graph):
    chains = sorted(_chains(ontology, LG.owningTeam))
    assert chains == sorted([[LG.owner, LG.memberOf], [LG.owningTeam, LG.parentTeam]])


def test_graphql_names_answer_the_design_query(ontology: Graph):
    names = {prop: str(name) for prop, name in ontology.subject_objects(LG.graphqlName)}
    for prop, expected in {
        LG.owner: "owners",
        LG.currentInstance: "currentInstance",
        LG.trainedByPipeline: "pipeline",
        LG.usesFeature: "features",
        LG.sourceDataset: "data",
        LG.associatedAbTest: "associatedAbTests",
        LG.hasCell: "cells",
        LG.cellNumber: "number",
    }.items():
        assert names.get(prop) == expected, prop


# ---------------------------------------------------------------------------
# Ontology and shapes agree
# ---------------------------------------------------------------------------


def test_every_component_class_has_exactly_one_node_shape(ontology: Graph, shapes: Graph):
    for cls in _component_classes(ontology):
        node_shapes = [
            s for s in shapes.subjects(SH.targetClass, cls) if (s, RDF.type, SH.NodeShape) in shapes
        ]
        assert node_shapes == [LGSH[f"{cls.removeprefix(str(LG))}Shape"]], cls


@pytest.mark.parametrize("stem", sorted(DOMAIN_FILES))
def test_node_shapes_live_in_the_shapes_file_of_their_domain(ontology: Graph, stem: str):
    graph = Graph().parse(SHAPES_DIR / f"{stem}.ttl", format="turtle")
    targets = set(graph.objects(None, SH.targetClass))
    expected = {
        c
        for c in _component_classes(ontology)
        if ontology.value(c, LG.domain) == DOMAIN_FILES[stem]
    }
    assert targets == expected


def test_shape_targets_are_component_classes(ontology: Graph, shapes: Graph):
    assert set(shapes.objects(None, SH.targetClass)) == _component_classes(ontology)


def test_shape_paths_are_declared_properties(ontology: Graph, shapes: Graph):
    declared = _declared_properties(ontology) | {RDF.type}
    paths = set(shapes.objects(None, SH.path))
    assert paths, "no sh:path in the shapes"
    unknown = sorted(p for p in paths if p not in declared)
    assert not unknown, "; ".join(
        f"sh:path {p} is not a declared property{_near_miss(p, declared)}" for p in unknown
    )


def test_shape_classes_are_declared_classes(ontology: Graph, shapes: Graph):
    declared = _declared_classes(ontology)
    unknown = sorted(c for c in shapes.objects(None, SH["class"]) if c not in declared)
    assert not unknown, f"sh:class values that are not declared classes: {unknown}"


def test_shape_datatypes_match_property_ranges(ontology: Graph, shapes: Graph):
    for shape in _property_shapes(shapes):
        path = shapes.value(shape, SH.path)
        datatype = shapes.value(shape, SH.datatype)
        if datatype is not None:
            assert (path, RDF.type, OWL.DatatypeProperty) in ontology, path
            assert ontology.value(path, RDFS.range) == datatype, path
        if shapes.value(shape, SH["class"]) is not None:
            assert (path, RDF.type, OWL.ObjectProperty) in ontology, path


def test_shapes_have_label_comment_and_property_names_and_messages(shapes: Graph):
    for node_shape in shapes.subjects(RDF.type, SH.NodeShape):
        assert shapes.value(node_shape, RDFS.label) is not None, node_shape
        assert shapes.value(node_shape, RDFS.comment) is not None, node_shape
        assert shapes.value(node_shape, SH.property) is not None, node_shape
    for shape in _property_shapes(shapes):
        where = shapes.value(shape, SH.path)
        assert shapes.value(shape, SH.name) is not None, f"property shape on {where} has no sh:name"
        assert shapes.value(shape, SH.message) is not None, (
            f"property shape on {where} has no sh:message"
        )
        if not isinstance(shape, BNode):
            assert shapes.value(shape, RDFS.label) is not None, shape
            assert shapes.value(shape, RDFS.comment) is not None, shape


def test_property_shapes_state_a_datatype_or_a_class(shapes: Graph):
    for shape in _property_shapes(shapes):
        checks_presence_only = shapes.value(shape, SH.severity) == SH.Warning
        states_type = (shape, SH.datatype, None) in shapes or (shape, SH["class"], None) in shapes
        assert checks_presence_only or states_type, shapes.value(shape, SH.path)


def test_quality_shapes_warn_about_description_and_owner(shapes: Graph):
    def warned(cls: URIRef) -> set[URIRef]:
        node_shape = shapes.value(None, SH.targetClass, cls)
        return {
            shapes.value(p, SH.path)
            for p in shapes.objects(node_shape, SH.property)
            if shapes.value(p, SH.severity) == SH.Warning
            and shapes.value(p, SH.minCount) is not None
        }

    for cls in (LG.Model, LG.Pipeline, LG.Feature, LG.ABTest, LG.Dataset):
        assert warned(cls) == {LG.description, LG.owner}, cls
    assert warned(LG.ModelInstance) == {LG.owner}


# ---------------------------------------------------------------------------
# pySHACL on small data graphs
# ---------------------------------------------------------------------------

PREFIXES = """
@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
ALICE = """
<aip://user/identity/alice> a lg:User ; lg:name "Alice Liddell" ; lg:sourceId "alice" ;
    lg:email "alice@example.com" ; lg:active true .
"""
MODEL = URIRef("aip://model/registry/ranking-model")


def _validate(data_ttl: str, ontology: Graph, shapes: Graph) -> tuple[bool, Graph]:
    data = Graph().parse(data=PREFIXES + ALICE + data_ttl, format="turtle")
    conforms, report, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=False,
        allow_warnings=True,  # warnings are data quality findings, not failures
    )
    return conforms, report


def _results(report: Graph) -> list[tuple]:
    return [
        (
            report.value(r, SH.focusNode),
            report.value(r, SH.resultPath),
            report.value(r, SH.resultSeverity),
        )
        for r in report.subjects(RDF.type, SH.ValidationResult)
    ]


def test_valid_model_conforms_without_results(ontology: Graph, shapes: Graph):
    conforms, report = _validate(
        """
        <aip://model/registry/ranking-model> a lg:Model ; lg:name "Ranking model" ;
            lg:sourceId "ranking-model" ; lg:description "Ranks rows on the home page." ;
            lg:owner <aip://user/identity/alice> ; lg:tag "team::personalization" ;
            lg:createdAt "2026-01-01T00:00:00Z"^^xsd:dateTime .
        """,
        ontology,
        shapes,
    )
    assert conforms
    assert _results(report) == []


def test_model_does_not_conform_when_name_is_missing(ontology: Graph, shapes: Graph):
    conforms, report = _validate(
        """
        <aip://model/registry/ranking-model> a lg:Model ; lg:sourceId "ranking-model" ;
            lg:description "Ranks rows on the home page." ; lg:owner <aip://user/identity/alice> .
        """,
        ontology,
        shapes,
    )
    assert not conforms
    assert _results(report) == [(MODEL, LG.name, SH.Violation)]


def test_model_conforms_with_warning_when_description_is_missing(ontology: Graph, shapes: Graph):
    conforms, report = _validate(
        """
        <aip://model/registry/ranking-model> a lg:Model ; lg:name "Ranking model" ;
            lg:sourceId "ranking-model" ; lg:owner <aip://user/identity/alice> .
        """,
        ontology,
        shapes,
    )
    assert conforms
    assert _results(report) == [(MODEL, LG.description, SH.Warning)]


def test_model_warns_no_resolved_owner_when_owner_is_missing(ontology: Graph, shapes: Graph):
    conforms, report = _validate(
        """
        <aip://model/registry/ranking-model> a lg:Model ; lg:name "Ranking model" ;
            lg:sourceId "ranking-model" ; lg:description "Ranks rows." ;
            lg:unresolvedOwnerEmail "nobody@example.com" .
        """,
        ontology,
        shapes,
    )
    assert conforms
    assert _results(report) == [(MODEL, LG.owner, SH.Warning)]
    messages = [str(m) for m in report.objects(None, SH.resultMessage)]
    assert len(messages) == 1 and "has no resolved owner" in messages[0].lower()


def test_model_does_not_conform_when_owner_is_not_a_user(ontology: Graph, shapes: Graph):
    conforms, report = _validate(
        """
        <aip://model/registry/ranking-model> a lg:Model ; lg:name "Ranking model" ;
            lg:sourceId "ranking-model" ; lg:description "Ranks rows." ;
            lg:owner <aip://team/identity/personalization> .
        <aip://team/identity/personalization> a lg:Team ; lg:name "Personalization" ;
            lg:sourceId "personalization" .
        """,
        ontology,
        shapes,
    )
    assert not conforms
    assert _results(report) == [(MODEL, LG.owner, SH.Violation)]


def test_model_instance_does_not_conform_when_state_is_unknown(ontology: Graph, shapes: Graph):
    conforms, report = _validate(
        """
        <aip://model/registry/ranking-model> a lg:Model ; lg:name "Ranking model" ;
            lg:sourceId "ranking-model" ; lg:description "Ranks rows." ;
            lg:owner <aip://user/identity/alice> .
        <aip://model/registry/ranking-model-v5> a lg:ModelInstance ;
            lg:sourceId "ranking-model-v5" ;
            lg:instanceOf <aip://model/registry/ranking-model> ; lg:version "5" ;
            lg:status "DEPLOYED" ; lg:owner <aip://user/identity/alice> .
        """,
        ontology,
        shapes,
    )
    assert not conforms
    assert _results(report) == [
        (URIRef("aip://model/registry/ranking-model-v5"), LG.status, SH.Violation)
    ]


def test_ab_test_cell_does_not_conform_when_allocation_exceeds_100(ontology: Graph, shapes: Graph):
    conforms, report = _validate(
        """
        <aip://ab-test/experimentation/12345> a lg:ABTest ; lg:name "Ranking v5 vs v4" ;
            lg:sourceId "12345" ; lg:status "ACTIVE" ; lg:description "Compares rankers." ;
            lg:owner <aip://user/identity/alice> ;
            lg:hasCell <aip://ab-test-cell/experimentation/12345:2> .
        <aip://ab-test-cell/experimentation/12345:2> a lg:ABTestCell ;
            lg:name "treatment_ranking_v5" ; lg:cellNumber 2 ; lg:allocationPct 150.0 ;
            lg:cellOf <aip://ab-test/experimentation/12345> .
        """,
        ontology,
        shapes,
    )
    assert not conforms
    assert _results(report) == [
        (URIRef("aip://ab-test-cell/experimentation/12345:2"), LG.allocationPct, SH.Violation)
    ]


def test_class_check_accepts_an_instance_of_a_subclass(ontology: Graph, shapes: Graph):
    # lg:UnusedAsset is a subclass of lg:Asset only, so it is no lg:Dataset;
    # the check must use the ontology's hierarchy, which ont_graph supplies.
    conforms, report = _validate(
        """
        <aip://dataset/datasets/viewing-history> a lg:Dataset, lg:UnusedAsset ;
            lg:name "viewing_history" ; lg:sourceId "viewing-history" ;
            lg:description "Plays per member." ; lg:owner <aip://user/identity/alice> .
        <aip://feature/featurestore/watch-time-7d> a lg:Feature ; lg:name "watch_time_7d" ;
            lg:sourceId "watch-time-7d" ; lg:valueType "FLOAT" ; lg:description "Watch time." ;
            lg:owner <aip://user/identity/alice> ;
            lg:sourceDataset <aip://dataset/datasets/viewing-history> .
        """,
        ontology,
        shapes,
    )
    assert conforms, _results(report)


# ---------------------------------------------------------------------------
# OWL RL
# ---------------------------------------------------------------------------

LINEAGE_EXAMPLE = """
<aip://model/registry/ranking-model-v5> a lg:ModelInstance ;
    lg:producedByRun <aip://pipeline-run/orchestrator/train-1> ;
    lg:usesFeature <aip://feature/featurestore/watch-time-7d> ;
    lg:owner <aip://user/identity/alice> .
<aip://pipeline-run/orchestrator/train-1> a lg:PipelineRun ;
    lg:runOf <aip://pipeline/orchestrator/weekly-trainer> ;
    lg:ranForCell <aip://ab-test-cell/experimentation/12345:2> ;
    lg:readVersion <aip://dataset-version/datasets/viewing-history:2026-01-01> ;
    lg:wroteVersion <aip://dataset-version/datasets/scores:2026-01-01> .
<aip://ab-test-cell/experimentation/12345:2> lg:cellOf <aip://ab-test/experimentation/12345> .
<aip://dataset-version/datasets/viewing-history:2026-01-01>
    lg:versionOf <aip://dataset/datasets/viewing-history> .
<aip://dataset/datasets/viewing-history>
    lg:upstreamDataset <aip://dataset/datasets/playback-events> .
<aip://feature/featurestore/watch-time-7d>
    lg:sourceDataset <aip://dataset/datasets/viewing-history> .
<aip://user/identity/alice> lg:memberOf <aip://team/identity/personalization> .
<aip://team/identity/personalization> lg:parentTeam <aip://team/identity/ml-platform> .
<aip://team/identity/ml-platform> lg:parentTeam <aip://team/identity/engineering> .
"""


@pytest.fixture(scope="module")
def closure(ontology: Graph) -> Graph:
    graph = Graph()
    graph += ontology
    graph.parse(data=PREFIXES + LINEAGE_EXAMPLE, format="turtle")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    return graph


def test_owlrl_expands_ontology_and_example_without_errors(closure: Graph):
    errors = [
        str(closure.value(e, ERRNS.error)) for e in closure.subjects(RDF.type, ERRNS.ErrorMessage)
    ]
    assert not errors
    assert (URIRef("aip://model/registry/ranking-model-v5"), RDF.type, PROV.Entity) in closure


def test_owlrl_derives_the_design_relationships(closure: Graph):
    instance = URIRef("aip://model/registry/ranking-model-v5")
    test = URIRef("aip://ab-test/experimentation/12345")
    assert set(closure.objects(instance, LG.associatedAbTest)) == {test}
    assert (test, LG.testsInstance, instance) in closure
    assert set(closure.objects(instance, LG.trainedByPipeline)) == {
        URIRef("aip://pipeline/orchestrator/weekly-trainer")
    }
    assert set(closure.objects(instance, LG.owningTeam)) == {
        URIRef("aip://team/identity/personalization"),
        URIRef("aip://team/identity/ml-platform"),
        URIRef("aip://team/identity/engineering"),
    }
    playback = URIRef("aip://dataset/datasets/playback-events")
    run = URIRef("aip://pipeline-run/orchestrator/train-1")
    viewing = URIRef("aip://dataset/datasets/viewing-history")
    # one-step edges only (no owl:TransitiveProperty): the run is one step upstream...
    assert (instance, LG.upstream, run) in closure
    assert (run, LG.downstream, instance) in closure
    assert (viewing, LG.upstream, playback) in closure
    # ...playback-events four steps, so only the property path reaches it
    assert (instance, LG.upstream, playback) not in closure
    assert (instance, LG.dependsOn, playback) not in closure
    ask = "ASK {{ <{}> <{}>+ <{}> }}"
    assert closure.query(ask.format(instance, LG.upstream, playback)).askAnswer
    assert closure.query(ask.format(playback, LG.downstream, instance)).askAnswer
    assert not closure.query(ask.format(playback, LG.upstream, instance)).askAnswer


def _example_in_the_engine() -> set[tuple[str, str, str]]:
    """The lineage facts the rule engine derives from LINEAGE_EXAMPLE (the shipped
    rules and ontology, through the graph's door)."""
    from collections import defaultdict

    from lifecyclegraph import Facts, LifecycleGraph, Ref

    data = Graph().parse(data=PREFIXES + LINEAGE_EXAMPLE, format="turtle")
    pairs: dict[str, dict[str, list[Ref]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in data:
        pairs[str(s)][str(p)].append(Ref(str(o)))
    with LifecycleGraph.in_memory(rules=True) as graph:
        for uri, values in pairs.items():
            graph.write(Facts.of(uri, dict(values)), source="test", validate=False)
        query = "SELECT ?s ?p ?o WHERE { VALUES ?p { lg:upstream lg:downstream } ?s ?p ?o }"
        return {(r["s"].value, r["p"].value, r["o"].value) for r in graph.sparql(query)}


def test_owlrl_and_the_engine_derive_the_same_one_step_lineage(closure: Graph):
    lineage = {LG.upstream, LG.downstream}
    by_owlrl = {
        (str(s), str(p), str(o))
        for s, p, o in closure
        if p in lineage and str(s).startswith("aip://") and str(o).startswith("aip://")
    }
    assert len(by_owlrl) > 10
    assert _example_in_the_engine() == by_owlrl


def test_owlrl_does_not_retype_assets_reached_by_a_chain(closure: Graph):
    # A dataset version written by a run for an A/B cell gets the chained
    # properties too; their domain must not turn it into a model instance.
    version = URIRef("aip://dataset-version/datasets/scores:2026-01-01")
    assert (version, LG.associatedAbTest, URIRef("aip://ab-test/experimentation/12345")) in closure
    assert (version, RDF.type, LG.ModelInstance) not in closure
