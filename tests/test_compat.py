"""Old module paths (issue 12's moves) import the very module of the new path, with a
DeprecationWarning naming it; the new paths import without one."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import warnings

import pytest

import lifecyclegraph
from lifecyclegraph._compat import MOVED, NAMESPACES_MOVED, PACKAGES_MOVED, new_name


def _old_paths() -> list[str]:
    paths = sorted(MOVED)
    for old, new in PACKAGES_MOVED.items():
        paths.append(old)
        package = importlib.import_module(new)
        paths += [f"{old}.{info.name}" for info in pkgutil.iter_modules(package.__path__)]
    return paths


@pytest.mark.parametrize("old", _old_paths())
def test_old_module_path_imports_the_same_module_with_a_warning(old: str) -> None:
    new = new_name(old)
    assert new is not None
    real = importlib.import_module(new)
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        alias = importlib.import_module(old)
    said = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert f"{old} moved to {new}; import it from there" in said
    assert alias is real
    assert alias.__spec__ is not None and alias.__spec__.name == new


@pytest.mark.parametrize("old", sorted(NAMESPACES_MOVED))
def test_old_package_path_gives_the_names_of_its_new_module(old: str) -> None:
    real = importlib.import_module(NAMESPACES_MOVED[old])
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to"):
        alias = importlib.import_module(old)
    for name in real.__all__:
        assert getattr(alias, name) is getattr(real, name)


def test_old_submodule_is_not_run_a_second_time() -> None:
    # Through the aliased package's __path__ the path finder would find query/pool.py
    # and run it as a second module with classes of its own.
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from lifecyclegraph.query.pool import QueryPool as Old\n"
        "from lifecyclegraph.store.sparql.pool import QueryPool as New\n"
        "print(Old is New)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "True"


def test_every_moved_target_exists_and_no_old_file_is_left() -> None:
    root = lifecyclegraph.__path__[0]
    for old in [*MOVED, *PACKAGES_MOVED]:
        assert importlib.util.find_spec(new_name(old) or "") is not None
        relative = old.removeprefix("lifecyclegraph.").replace(".", "/")
        assert not (pkgutil.os.path.exists(f"{root}/{relative}.py")), old


def test_public_names_are_unchanged() -> None:
    assert {"AipUri", "Facts", "LifecycleGraph", "GraphAsOf", "Entity", "Ref"} <= set(
        lifecyclegraph.__all__
    )
    for name in lifecyclegraph.__all__:
        assert getattr(lifecyclegraph, name) is not None
