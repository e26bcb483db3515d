"""The stewards' checks: ``lint`` (the model) and ``validate`` (data against the shapes).

Both write their findings as text, JSON, JUnit XML, SARIF 2.1.0 or GitHub annotations
(``--format``), to standard output or a file (``--output``).

Exit codes: 0 nothing at the ``--fail-on`` level or worse; 1 something is; 2 bad input
(a missing or unreadable file, a data file or, for ``validate``, a model file that does
not parse, a bad configuration).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lifecyclegraph.cli.context import EXIT_CHECK_FAILED, config_of
from lifecyclegraph.cli.model import current_model, model_options
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.validation.findings import Report
from lifecyclegraph.validation.formats import FORMATS, render

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


def _emit(report: Report, fmt: str, output: Path | None, fail_at: str) -> None:
    text = render(report, fmt, fail_at)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"{output}: cannot write the report: {error}") from error
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
@click.option(
    "--fail-on",
    type=click.Choice(["violation", "warning"]),
    default="violation",
    show_default=True,
    help="Exit 1 when a result is at this severity or worse.",
)
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
    from lifecyclegraph.graph.quality import validate_store
    from lifecyclegraph.validation.run import validate_data

    dirs = current_model()
    if files:
        report = validate_data(list(files), dirs)
    else:
        report = validate_store(Path(config_of(ctx).store.path), dirs)
    _emit(report, fmt, output, "error" if fail_on == "violation" else "warning")
