"""``lifecyclegraph config``: write a commented configuration file to start from.

Exit codes: 0 ok; 2 the file exists (and ``--force`` was not given).
"""

from __future__ import annotations

from pathlib import Path

import click

from lifecyclegraph.core.config import Config, sample_config
from lifecyclegraph.core.errors import ConfigError


@click.group("config")
def config() -> None:
    """The configuration file (lifecyclegraph.toml): write a commented one."""


@config.command("init")
@click.argument(
    "path", type=click.Path(path_type=Path, dir_okay=False), default="lifecyclegraph.toml"
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def init(path: Path, force: bool) -> None:
    """Write PATH [default: lifecyclegraph.toml]: every table and key with its meaning
    and default, commented out, so it starts as the default configuration."""
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; give --force to overwrite it")
    text = sample_config()
    Config.from_text(text, str(path))  # what is written always loads
    path.write_text(text)
    click.echo(f"wrote {path}: uncomment and change the keys you need")
