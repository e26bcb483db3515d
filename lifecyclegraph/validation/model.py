"""Where the model lives: the folders of the ontology, the shapes and the rules.

lifecyclegraph ships an ontology, shapes and rules (the top-level folders of a source
checkout, ``lifecyclegraph/_data/`` in a wheel). A stewards' repository keeps its own
and says where in ``[model]`` of ``lifecyclegraph.toml``, or with ``--ontology``,
``--shapes`` and ``--rules``; a folder not given stays the shipped one.
:meth:`ModelDirs.resolve` works out the folders (an option over the configuration over
the shipped folder) and checks that each is there; :func:`use_model` makes them the
default of every reader in the process (the ingestion gate, the rule engine, the
GraphQL schema, search) for the duration of a ``with`` block; :func:`init_model` copies
the shipped folders as a start (``lifecyclegraph model init DIR``).

>>> dirs = ModelDirs.resolve()
>>> dirs.origin["shapes"]
'shipped'
>>> with use_model(dirs.replace(rules=Path("/srv/model/rules"))):
...     data_dir("rules")
PosixPath('/srv/model/rules')
>>> data_dir("rules") == shipped_dir("rules")
True
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from pathlib import Path

from lifecyclegraph.core.config import ModelConfig
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.ontology import data_dir, set_data_dirs, shipped_dir

__all__ = ["KINDS", "ModelDirs", "init_model", "use_model"]

#: The model's folders, and the files each holds.
KINDS = {"ontology": "*.ttl", "shapes": "*.ttl", "rules": "*.rules"}


@dataclass(frozen=True)
class ModelDirs:
    """The three folders of a model, and where each choice came from.

    Attributes:
        ontology: the folder of the ontology's ``*.ttl`` files.
        shapes: the folder of the SHACL shapes' ``*.ttl`` files.
        rules: the folder of the ``*.rules`` files.
        origin: for each, ``shipped``, the option (``--shapes``) or the configuration
            key (``lifecyclegraph.toml: model.shapes``) that chose it.
    """

    ontology: Path
    shapes: Path
    rules: Path
    origin: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def resolve(
        cls,
        config: ModelConfig | None = None,
        *,
        config_file: str | None = None,
        ontology: Path | None = None,
        shapes: Path | None = None,
        rules: Path | None = None,
    ) -> ModelDirs:
        """The folders to use: each option given, else the configuration's, else the
        folder in use (the shipped one unless :func:`use_model` chose another).

        Raises:
            ConfigError: a folder given does not exist or is not a folder, naming the
                option or the configuration key that gave it.
        """
        options = {"ontology": ontology, "shapes": shapes, "rules": rules}
        chosen: dict[str, Path] = {}
        origin: dict[str, str] = {}
        for kind in KINDS:
            option = options[kind]
            configured = getattr(config, kind) if config is not None else None
            if option is not None:
                chosen[kind], origin[kind] = Path(option), f"--{kind}"
            elif configured is not None:
                chosen[kind] = Path(configured)
                origin[kind] = f"{config_file or 'the configuration'}: model.{kind}"
            else:
                chosen[kind] = data_dir(kind)
                origin[kind] = "shipped" if chosen[kind] == shipped_dir(kind) else "in use"
            if not chosen[kind].is_dir():
                raise ConfigError(
                    f"{origin[kind]}: {chosen[kind]} is not a folder "
                    f"(the {kind} folder: {KINDS[kind]} files)"
                )
        return cls(chosen["ontology"], chosen["shapes"], chosen["rules"], origin)

    @classmethod
    def current(cls) -> ModelDirs:
        """The folders in use in this process."""
        return cls.resolve()

    def replace(self, **dirs: Path) -> ModelDirs:
        """These folders with some replaced (their origin is ``given``)."""
        origin = {**self.origin, **dict.fromkeys(dirs, "given")}
        return _replace(self, origin=origin, **dirs)

    def folder(self, kind: str) -> Path:
        """The folder of ``ontology``, ``shapes`` or ``rules``."""
        return Path(getattr(self, kind))

    def files(self, kind: str) -> list[Path]:
        """The files of one folder (``*.ttl`` or ``*.rules``), by name."""
        return sorted(self.folder(kind).glob(KINDS[kind]))


@contextmanager
def use_model(dirs: ModelDirs) -> Iterator[ModelDirs]:
    """Make ``dirs`` the folders every reader of the model takes by default, until the
    block ends (the previous choice is restored, also on error)."""
    previous = set_data_dirs({kind: dirs.folder(kind) for kind in KINDS})
    try:
        yield dirs
    finally:
        set_data_dirs(previous)


def init_model(target: Path, *, source: ModelDirs | None = None) -> list[Path]:
    """Copy a model (default: the shipped one) into ``target/ontology``, ``target/shapes``
    and ``target/rules``, READMEs included, as the start of a stewards' repository.

    Returns:
        The three folders made.

    Raises:
        ConfigError: one of them already exists and is not empty (nothing is copied).
    """
    source = source or ModelDirs(
        shipped_dir("ontology"), shipped_dir("shapes"), shipped_dir("rules")
    )
    made = [target / kind for kind in KINDS]
    for folder in made:
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise ConfigError(f"{folder} already exists and is not empty: nothing was copied")
    for kind, folder in zip(KINDS, made, strict=True):
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(source.folder(kind).iterdir()):
            if path.is_file() and (path.match(KINDS[kind]) or path.suffix == ".md"):
                shutil.copy2(path, folder / path.name)
    return made
