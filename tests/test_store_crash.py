"""A process killed in the middle of writing never leaves half an entity behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from pyoxigraph import NamedNode

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.core.vocab import LG

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta, timezone
    from lifecyclegraph import Facts, LifecycleGraph, Observation, Ref

    graph = LifecycleGraph.open(sys.argv[1])
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    step = 0
    while True:
        batch = []
        for n in range(50):
            test = f"aip://ab-test/experimentation/t{n}"
            cells = [
                Facts.of(f"aip://ab-test-cell/experimentation/t{n}:{c}",
                         {"rdf:type": Ref("lg:ABTestCell"), "lg:cellNumber": c,
                          "lg:name": f"cell {c} at step {step}", "lg:cellOf": Ref(test)})
                for c in range(1 + step % 3)
            ]
            facts = Facts.of(test, {"rdf:type": Ref("lg:ABTest"), "lg:name": f"step {step}"},
                             parts=cells)
            batch.append((facts, Observation("experimentation", t0 + timedelta(seconds=step))))
        graph.write_many(batch, validate=False)  # partial tests and cells: the crash is the point
        step += 1
        print(step, flush=True)
    """
)


def test_sigkill_during_writes_leaves_every_entity_whole(tmp_path):
    db = tmp_path / "db"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # let it get well into updates (steps change the names and the number of cells)
        for _ in range(12):
            assert proc.stdout.readline(), "the writer stopped before it was killed"
        time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()

    with LifecycleGraph.open(db) as graph:
        hydrated = list(graph.entities(HydrationState.HYDRATED))
        assert len(hydrated) >= 50
        for n in range(50):
            test = graph.entity(f"aip://ab-test/experimentation/t{n}")
            step = int(test.name.split()[1])
            live_cells = sorted(test.related("lg:cellOf", incoming=True))
            # the parts are exactly those of the parent's current snapshot step
            assert len(live_cells) == 1 + step % 3, (test.uri, step, live_cells)
            for cell_uri in live_cells:
                cell = graph.entity(cell_uri)
                assert cell.name.endswith(f"at step {step}")
                assert cell.state.part_of == test.uri
        # every live entity's current snapshot graph exists and holds its facts
        for uri in hydrated:
            state = graph.store.state(uri)
            content = list(
                graph.store.current.quads_for_pattern(
                    None, None, None, NamedNode(state.current_snapshot)
                )
            )
            assert content, uri
            assert all(q.subject.value == uri for q in content)
            assert graph.store.snapshot(state.current_snapshot).entity == uri
        # exactly one name per live entity in the current state
        rows = graph.sparql("SELECT ?s (COUNT(?n) AS ?c) WHERE { ?s lg:name ?n } GROUP BY ?s")
        assert all(int(row["c"].value) == 1 for row in rows)
        assert LG.name
