"""The stewards' checks: ``lint`` (the model), ``validate`` (data against the shapes),
``impact`` (what a candidate model changes), ``quality`` (the metadata's quality) and
``suggest`` (relationships the graph hints at, never written).

``lint`` and ``validate`` write their findings as text, JSON, JUnit XML, SARIF 2.1.0
or GitHub annotations (``--format``), ``impact`` as text, Markdown (a pull request
comment) or JSON; to standard output or a file (``--output``).

Exit codes: 0 nothing at the ``--fail-on`` level or worse; 1 something is; 2 bad input
(a missing or unreadable file, a data file or, for ``validate``, a model file that does
not parse, a bad configuration).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from lifecyclegraph.cli.context import EXIT_CHECK_FAILED, config_of, open_graph, server_of
from lifecyclegraph.cli.model import current_model, model_options, resolve_model
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.validation.findings import Report
from lifecyclegraph.validation.formats import FORMATS, render
from lifecyclegraph.validation.model import KINDS, ModelDirs, use_model

_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text, json, junit (JUnit XML), sarif (SARIF 2.1.0) or github (annotations).",
)
_OUTPUT = click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report to this file instead of standard output.",
)


def _write(text: str, output: Path) -> None:
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{output}: cannot write the report: {error}") from error


def _emit(report: Report, fmt: str, output: Path | None, fail_at: str) -> None:
    text = render(report, fmt, fail_at)
    if output is not None:
        _write(text, output)
        counts = report.counts()
        names = report.level_names
        click.echo(
            f"{output}: {counts['error']} {names['error']}(s), "
            f"{counts['warning']} {names['warning']}(s), {counts['note']} {names['note']}(s)",
            err=True,
        )
    else:
        click.echo(text, nl=False)
    if report.fails(fail_at):
        sys.exit(EXIT_CHECK_FAILED)


def _fail_on(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--fail-on violation|warning`` (validate, impact): the level that exits 1."""
    return click.option(
        "--fail-on",
        type=click.Choice(["violation", "warning"]),
        default="violation",
        show_default=True,
        help=help,
    )


@click.command()
@model_options
@_FORMAT
@_OUTPUT
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at this level or worse.",
)
def lint(fmt: str, output: Path | None, fail_on: str) -> None:
    """Check the ontology, the shapes and the rules together: syntax, undefined terms,
    entity types without a shape, shapes on unknown classes, properties or datatypes,
    missing labels, comments and messages, rule problems, OWL the engine does not run.

    Each finding names its file:line:col and, for a near miss, what was probably meant.
    """
    from lifecyclegraph.validation.lint import lint_model

    _emit(lint_model(current_model()), fmt, output, fail_on)


@click.command()
@model_options
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@_FORMAT
@_OUTPUT
@_fail_on("Exit 1 when a result is at this severity or worse.")
@click.pass_context
def validate(
    ctx: click.Context, files: tuple[Path, ...], fmt: str, output: Path | None, fail_on: str
) -> None:
    """Validate against the shapes: the store's current entities, or data FILES before
    they are ingested (Turtle .ttl, N-Triples .nt, JSON-LD .jsonld/.json; a folder:
    every such file under it).

    Every result names the shape by a stable id (lgsh:ModelShape/lg:name for an inline
    property shape) with the shape's file:line, and has an id that is the same from one
    run to the next. Try a candidate shapes folder with --shapes DIR.
    """
    from lifecyclegraph.graph.quality import validate_current, validate_store
    from lifecyclegraph.validation.run import validate_data

    dirs = current_model()
    if files:
        report = validate_data(list(files), dirs)
    elif server_of(ctx) is not None:
        with open_graph(ctx) as graph:
            report = validate_current(graph, dirs)
    else:
        report = validate_store(Path(config_of(ctx).store.path), dirs)
    _emit(report, fmt, output, "error" if fail_on == "violation" else "warning")


@click.command()
@model_options
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--against",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The current model: a folder holding ontology/, shapes/ and rules/ (a checkout "
    "of the base branch) [default: [model] of the configuration, else shipped].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text, markdown (a pull request comment) or json.",
)
@_OUTPUT
@_fail_on("Exit 1 when the candidate gives a new result at this severity or worse.")
@click.pass_context
def impact(
    ctx: click.Context,
    files: tuple[Path, ...],
    against: Path | None,
    fmt: str,
    output: Path | None,
    fail_on: str,
) -> None:
    """What a candidate model (--ontology, --shapes, --rules) changes, compared with the
    current one (--against DIR, else the configuration's): the entities that newly fail
    or pass validation, each new or gone result by shape id, and the derived facts that
    appear or disappear (both models' rules run on an in-memory copy).

    Runs on the store's current entities (read only: the store is never changed), or
    on data FILES as validate reads them.
    """
    from lifecyclegraph.graph.impact import impact_of_data, impact_of_graph, render_impact

    candidate = current_model()
    current = _current_model(ctx, against)
    config = config_of(ctx)
    if files:
        found = impact_of_data(list(files), current, candidate, rule_limit=config.rules.limit)
    else:
        _require_store(ctx, "give --store, or data files")
        with open_graph(ctx) as graph:
            found = impact_of_graph(graph, current, candidate, rule_limit=config.rules.limit)
    fail_at = "error" if fail_on == "violation" else "warning"
    text = render_impact(found, fmt, fail_at)
    if output is not None:
        _write(text, output)
        click.echo(f"{output}: " + render_impact(found, "text").splitlines()[-1], err=True)
    else:
        click.echo(text, nl=False)
    if found.fails(fail_at):
        sys.exit(EXIT_CHECK_FAILED)


def _current_model(ctx: click.Context, against: Path | None) -> ModelDirs:
    """The model a candidate is compared with: the folders under ``against``, else
    the configuration's ``[model]``, else the shipped folders."""
    if against is not None:
        missing = [kind for kind in KINDS if not (against / kind).is_dir()]
        if missing:
            raise ConfigError(
                f"--against: {against} has no {', '.join(f'{k}/' for k in missing)} folder "
                "(it holds the current model: ontology/, shapes/, rules/)"
            )
        folders = {kind: against / kind for kind in KINDS}
        return ModelDirs(**folders, origin=dict.fromkeys(KINDS, "--against"))
    from lifecyclegraph.core.ontology import shipped_dir

    shipped = ModelDirs(shipped_dir("ontology"), shipped_dir("shapes"), shipped_dir("rules"))
    with use_model(shipped):  # not the candidate the command runs with
        return resolve_model(ctx)


@click.command()
@model_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="The most entities listed (the lowest scores first), and dead letters and stubs.",
)
@click.option(
    "--max-age",
    type=click.FloatRange(min=0, min_open=True),
    default=7.0,
    show_default=True,
    help="Days a hydration stays fresh.",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 1 when the overall score is under this (0 to 1).",
)
@click.pass_context
def quality(
    ctx: click.Context, fmt: str, limit: int, max_age: float, fail_under: float | None
) -> None:
    """The metadata's quality, per entity, team, domain and source: completeness (the
    recommended properties the shapes warn about), freshness (last hydrated and
    enriched), dangling references (stubs never hydrated), owners unknown to identity
    or deactivated; from the ingestion journal, rejected entities with their reasons,
    dead letters, and sources gone silent against their usual event rate.

    Reads the store (--store) and its journal; writes nothing. With --server, the
    graph is the service's and the journal the one of --store (SQLite, which a
    running service shares), if there is one.
    """
    from datetime import timedelta

    from lifecyclegraph.graph.metadata import metadata_quality, render_quality
    from lifecyclegraph.ingest.journal import Journal

    _require_store(ctx, "give --store")
    journal_file = Path(config_of(ctx).store.path) / "ingest.sqlite"
    journal = Journal(journal_file) if journal_file.is_file() else None
    try:
        with open_graph(ctx) as graph:
            report = metadata_quality(graph, journal, max_age=timedelta(days=max_age))
    finally:
        if journal is not None:
            journal.close()
    click.echo(render_quality(report, fmt, limit), nl=False)
    score = report.as_dict(0)["overall"]["score"]
    if fail_under is not None and score is not None and score < fail_under:
        sys.exit(EXIT_CHECK_FAILED)


@click.command()
@model_options
@click.option(
    "--kind",
    "kinds",
    type=click.Choice(["similar-models", "missing-feature", "unconsumed-output"]),
    multiple=True,
    help="Only these kinds (repeat the option) [default: every kind].",
)
@click.option(
    "--min-similarity",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.3,
    show_default=True,
    help="The least Jaccard similarity of two models' features that makes them similar.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.pass_context
def suggest(ctx: click.Context, kinds: tuple[str, ...], min_similarity: float, fmt: str) -> None:
    """Relationships the graph suggests, each with a score and the reason: models that
    share features (Jaccard similarity), features similar models use and a model does
    not, pipeline outputs nobody consumes.

    Suggestions are answers, not facts: nothing is written to the store.
    """
    from lifecyclegraph.graph.suggest import KINDS, render_suggestions
    from lifecyclegraph.graph.suggest import suggest as suggestions_of

    _require_store(ctx, "give --store")
    with open_graph(ctx) as graph:
        found = suggestions_of(graph, min_similarity=min_similarity, kinds=kinds or KINDS)
    click.echo(render_suggestions(found, fmt), nl=False)


def _require_store(ctx: click.Context, hint: str) -> None:
    """Refuse a store path that is not a directory (unless a server is given: the
    service has the store)."""
    if server_of(ctx) is not None:
        return
    store = Path(config_of(ctx).store.path)
    if not store.is_dir():
        raise ConfigError(f"{store}: no store here ({hint})")
