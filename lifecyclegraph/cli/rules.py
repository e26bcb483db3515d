"""Rule commands: ``rules check``, ``rules run`` and ``explain``.

Exit codes: 0 ok; 1 nothing matched (``explain``); 2 the rules or the input are bad
(every problem is printed as ``file:line:col: message``).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from lifecyclegraph.cli.context import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    open_graph,
    open_store,
    run_job,
    service_client,
)
from lifecyclegraph.cli.model import model_options
from lifecyclegraph.core.errors import ConfigError, RuleAnalysisError, RuleSyntaxError


def _program() -> Any:
    """The compiled program of the model in use, or exit 2 printing every problem."""
    from lifecyclegraph.rules.load import load_program

    try:
        return load_program()
    except RuleSyntaxError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_BAD_INPUT)
    except RuleAnalysisError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(error.problems)} problem(s); the rules cannot run", err=True)
        sys.exit(EXIT_BAD_INPUT)


@click.group("rules")
def rules() -> None:
    """Check the rule files, or run them on the store."""


@rules.command("check")
@model_options
def check() -> None:
    """Parse and analyse the rule files with the ontology's axioms.

    Prints every problem as file:line:col: message and exits 2 if there is any.
    """
    compiled = _program()
    rules_ = compiled.analysed.rules
    own = sum(1 for r in rules_ if r.origin == "rules")
    restated = sum(1 for r in rules_ if r.origin == "rules" and r.also_stated_at)
    click.echo(
        f"ok: {len(rules_)} rules ({own} from rule files, of which {restated} restate an "
        f"ontology axiom; {len(rules_) - own} from ontology axioms), "
        f"{len(compiled.analysed.strata)} strata"
    )


@rules.command("run")
@model_options
@click.option(
    "--limit",
    type=int,
    default=None,
    help="Stop if a run would hold more facts than this [default: 20 per asserted "
    "fact, and at least 10,000,000].",
)
@click.pass_context
def run(ctx: click.Context, limit: int | None) -> None:
    """Derive every fact from the store's current state into its inferred graph and
    print how many derived facts each predicate has.

    With --server, the service's rules job runs its own rules (its model and
    [rules] limit)."""
    client = service_client(ctx)
    if client is not None:
        if limit is not None:
            raise ConfigError("--limit: the service runs its rules with its own [rules] limit")
        with client:
            found = run_job(client, "rules", "deriving")["found"]
        counts, seconds = found["counts"], found["seconds"]
        derived, added, removed = found["derived"], found["added"], found["removed"]
    else:
        program = _program()
        with open_store(ctx) as graph:
            report = graph.materialize(program=program, limit=limit)
        counts, seconds = report.counts, report.seconds
        derived, added, removed = report.derived, report.added, report.removed
    width = max((len(name) for name in counts), default=10)
    for name, count in counts.items():
        click.echo(f"{name:{width}}  {count:>10,}")
    click.echo(
        f"{'total':{width}}  {derived:>10,} derived facts "
        f"(+{added:,} -{removed:,} written) in {seconds:.2f} s"
    )


@click.command()
@model_options
@click.argument("pattern")
@click.option(
    "--limit",
    type=int,
    default=20,
    show_default=True,
    help="Explain at most this many matching facts.",
)
@click.pass_context
def explain(ctx: click.Context, pattern: str, limit: int) -> None:
    """Explain why facts hold: each derivation down to the asserted facts, with the
    source and time of each.

    PATTERN is one fact, N-Triples-like, prefixed names accepted, ?x or _ for any
    value: '<aip://model/registry/m-v5> lg:associatedAbTest ?test'. A pair several
    lg:upstream (or lg:downstream) steps apart, fully given, is explained by the chain
    of one-step facts between them. Exits 1 if no fact matches.
    """
    from lifecyclegraph.rules.parser import parse_pattern
    from lifecyclegraph.rules.program import Const

    subject, predicate, obj = (
        t.term if isinstance(t, Const) else None for t in parse_pattern(pattern)
    )
    with open_graph(ctx) as graph:
        trees = graph.explain_all(subject, predicate, obj, limit=limit)
        if not trees and None not in (subject, predicate, obj):
            found = graph.explain(subject, predicate, obj)  # a multi-step lineage pair
            trees = [found] if found is not None else []
    if not trees:
        click.echo(f"no fact matches {pattern}", err=True)
        sys.exit(EXIT_CHECK_FAILED)
    click.echo("\n\n".join(tree.render() for tree in trees))
