"""Installing a tiny distribution from a test: modules plus a ``.dist-info`` with its
entry points, in a temporary site directory put on ``sys.path``, the way pip installs a
package. lifecyclegraph then finds its plugins exactly as it finds an installed one's.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest


def install(
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    modules: Mapping[str, str],
    entry_points: Mapping[str, Mapping[str, str]],
    files: Mapping[str, str] | None = None,
) -> None:
    """Write the distribution ``name`` into ``site`` and put ``site`` on ``sys.path``.

    Args:
        modules: dotted module name -> source (``acme`` is a package, ``acme.fake`` a
            module of it).
        entry_points: group -> entry-point name -> ``module:attribute``.
        files: more files of the packages, path under ``site`` -> text (data files).
    """
    for module, source in modules.items():
        parts = module.split(".")
        package = site.joinpath(*parts)
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text(source)
    for path, text in (files or {}).items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text)
    dist = site / f"{name.replace('-', '_')}-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in points.items())
            for group, points in entry_points.items()
        )
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()


def forget(*packages: str) -> None:
    """Drop the modules of ``packages`` (and their submodules) from ``sys.modules``."""
    for module in list(sys.modules):
        if module.split(".")[0] in packages:
            del sys.modules[module]
