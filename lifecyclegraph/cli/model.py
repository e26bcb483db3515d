"""Where the model lives, on the command line: ``--ontology``, ``--shapes`` and
``--rules`` on every command that reads the model, and ``model init`` / ``model show``.

Exit codes: 0 ok; 2 a folder given is missing, or ``model init`` would overwrite one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from lifecyclegraph.validation.model import KINDS, ModelDirs, init_model, use_model

F = TypeVar("F", bound=Callable[..., Any])

_HELP = {
    "ontology": "Folder of the ontology's *.ttl files [default: [model] ontology, else shipped].",
    "shapes": "Folder of the SHACL shapes' *.ttl files [default: [model] shapes, else shipped].",
    "rules": "Folder of the *.rules files [default: [model] rules, else shipped].",
}


def model_options(function: F) -> F:
    """Add ``--ontology``, ``--shapes`` and ``--rules`` to a command, and run it with
    the model they choose (over ``[model]`` of the configuration, over the shipped
    folders) as the default of every reader (see :func:`use_model`)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {kind: kwargs.pop(f"model_{kind}") for kind in KINDS}
        ctx = click.get_current_context()
        dirs = ctx.meta["lifecyclegraph.model"] = resolve_model(ctx, **given)
        with use_model(dirs):
            return function(*args, **kwargs)

    for kind in reversed(KINDS):
        wrapper = click.option(
            f"--{kind}",
            f"model_{kind}",
            type=click.Path(path_type=Path, file_okay=False),
            default=None,
            help=_HELP[kind],
        )(wrapper)
    return wrapper  # type: ignore[return-value]


def resolve_model(ctx: click.Context, **given: Path | None) -> ModelDirs:
    """The model folders of the options ``given`` and the configuration of ``ctx``."""
    from lifecyclegraph.cli.context import config_of

    config = config_of(ctx)
    return ModelDirs.resolve(config.model, config_file=config.source_file, **given)


@click.group("model")
def model() -> None:
    """Where the ontology, shapes and rules are: show them, or copy the shipped ones."""


@model.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def init(directory: Path) -> None:
    """Copy the shipped ontology, shapes and rules into DIRECTORY/ontology, /shapes and
    /rules as the start of a stewards' repository, and print the [model] table that
    uses them. Refuses (exit 2) to write into a folder that is not empty."""
    made = init_model(directory)
    for folder in made:
        count = sum(1 for path in folder.iterdir() if path.is_file())
        click.echo(f"{folder}/  ({count} files)")
    click.echo("\nAdd to lifecyclegraph.toml (or pass --ontology, --shapes, --rules):\n")
    click.echo("[model]")
    for folder in made:
        click.echo(f'{folder.name} = "{folder.as_posix()}"')


@model.command("show")
@model_options
def show() -> None:
    """Print the folders in use and where each choice came from."""
    dirs = current_model()
    for kind in KINDS:
        files = len(dirs.files(kind))
        origin = dirs.origin.get(kind, "in use")
        click.echo(f"{kind:9} {dirs.folder(kind)}  ({files} {KINDS[kind]} files; {origin})")


def current_model() -> ModelDirs:
    """The folders :func:`model_options` chose for the running command."""
    found = click.get_current_context().find_root().meta.get("lifecyclegraph.model")
    return found if isinstance(found, ModelDirs) else ModelDirs.current()
