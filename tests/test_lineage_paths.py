"""Lineage as one-step edges and a property path (issue 17, "step"): on random graphs of
datasets (cycles included), the store holds exactly the one-step ``lg:upstream`` and
``lg:downstream`` edges, before and after incremental changes, and every reader of the
full lineage (``lineage.reach``, SPARQL ``lg:upstream+``, GraphQL's walk, ``explain``,
the ``lineage`` walk with its depths, names and types) answers what a plain breadth-first
search over the dependencies answers."""

from __future__ import annotations

from collections import deque

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.graph.lineage import lineage, reach
from lifecyclegraph.read.graphql.reads import Context

SIZE = 7
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

edge_sets = st.sets(st.tuples(st.integers(0, SIZE - 1), st.integers(0, SIZE - 1)), max_size=14)


def uri(i: int) -> str:
    return f"aip://dataset/datasets/d{i}"


def write(graph: LifecycleGraph, edges: set[tuple[int, int]]) -> None:
    """Each dataset with the upstream datasets ``edges`` give it (``(a, b)``: a reads b)."""
    for i in range(SIZE):
        inputs = sorted(b for a, b in edges if a == i)
        pairs: dict = {"rdf:type": Ref("lg:Dataset")}
        if i % 2:
            pairs["lg:name"] = f"dataset {i}"
        if inputs:
            pairs["lg:upstreamDataset"] = [Ref(uri(b)) for b in inputs]
        graph.write(Facts.of(uri(i), pairs), source="datasets", validate=False)


def reference(edges: set[tuple[int, int]], start: int) -> dict[int, int]:
    """Every node ``edges`` reach from ``start`` in one or more steps, with its
    distance (a plain BFS; ``start`` itself only on a cycle)."""
    found: dict[int, int] = {}
    todo = deque([(start, 0)])
    while todo:
        current, distance = todo.popleft()
        for a, b in sorted(edges):
            if a == current and b not in found:
                found[b] = distance + 1
                todo.append((b, distance + 1))
    return found


def stored(graph: LifecycleGraph, predicate: str) -> set[tuple[str, str]]:
    query = f"SELECT ?s ?o WHERE {{ ?s lg:{predicate} ?o }}"
    return {(row["s"].value, row["o"].value) for row in graph.sparql(query)}


def check_readers(graph: LifecycleGraph, edges: set[tuple[int, int]]) -> None:
    backwards = {(b, a) for a, b in edges}
    assert stored(graph, "upstream") == {(uri(a), uri(b)) for a, b in edges}
    assert stored(graph, "downstream") == {(uri(b), uri(a)) for a, b in edges}
    context = Context(graph)
    for i in range(SIZE):
        up, down = reference(edges, i), reference(backwards, i)
        assert reach(graph, uri(i), "upstream") == sorted(uri(j) for j in up)
        assert reach(graph, uri(i), "downstream") == sorted(uri(j) for j in down)
        for direction, want in (("upstream", up), ("downstream", down)):
            for depth in (1, 2, SIZE):
                view = lineage(graph, uri(i), direction=direction, depth=depth)
                near = {j: d for j, d in want.items() if d <= depth and j != i}
                assert {n["uri"]: n["depth"] for n in view["nodes"]} == {
                    uri(j): d for j, d in near.items()
                }
                assert all(
                    n["name"] == (f"dataset {n['uri'][-1]}" if int(n["uri"][-1]) % 2 else None)
                    and n["types"] == ["lg:Dataset"]
                    for n in [view["root"], *view["nodes"]]
                )
                # the direct edges out of each node short of the depth, between
                # returned nodes (and the root), pointing dependent -> dependency
                distance = {**near, i: 0}
                arrows = edges if direction == "upstream" else backwards
                expected = {
                    (uri(a), uri(b)) if direction == "upstream" else (uri(b), uri(a))
                    for a, b in arrows
                    if a in distance and b in distance and distance[a] < depth
                }
                assert {(e["from"], e["to"]) for e in view["edges"]} == expected
                assert view["reach"] == len(want)
        node = context.node(uri(i))
        assert node is not None
        assert [u for u, _ in node.reach(LG.upstream.value)] == sorted(uri(j) for j in up)
        for j, distance in up.items():
            tree = graph.explain(uri(i), "lg:upstream", uri(j))
            assert tree is not None, (i, j)
            steps = tree.premises if tree.rule.origin == "path" else (tree,)
            assert len(steps) == distance, (i, j)  # a shortest chain
        for j in set(range(SIZE)) - set(up):
            assert graph.explain(uri(i), "lg:upstream", uri(j)) is None, (i, j)


@SETTINGS
@given(edges=edge_sets)
def test_every_reader_of_the_full_lineage_answers_the_reference_on_any_graph(edges):
    with LifecycleGraph.in_memory(rules=True) as graph:
        write(graph, edges)
        check_readers(graph, edges)


@SETTINGS
@given(before=edge_sets, after=edge_sets)
def test_incremental_changes_keep_the_one_step_edges_equal_to_recomputation(before, after):
    with LifecycleGraph.in_memory(rules=True) as changed:
        write(changed, before)
        write(changed, after)  # each dataset rewritten with its new inputs
        with LifecycleGraph.in_memory(rules=True) as fresh:
            write(fresh, after)
            for predicate in ("upstream", "downstream"):
                assert stored(changed, predicate) == stored(fresh, predicate)
        check_readers(changed, after)
