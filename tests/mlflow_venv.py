"""MLflow in a venv of its own, beside the project's: its server and its client for the tests.

lifecyclegraph's MLflow provider speaks MLflow's REST API with the project's HTTP
client and imports no ``mlflow``. MLflow itself (whose server the tests start and
whose client fills it) holds old versions of shared packages (graphene keeps
graphql-core below 3.3), so it is not installed in the project's venv: it lives in
a venv made here with ``python -m venv`` and
``pip install -c tests/mlflow-constraints.txt -r tests/mlflow-requirements.txt``
(the pinned version and its own lock, refreshed by ``bash .ci/lock``), cached under
``~/.cache/lifecyclegraph/`` and keyed by a digest of those two files, so a new pin
makes a new venv. ``$LIFECYCLEGRAPH_MLFLOW_VENV`` names another place.

Run as a script, it makes the venv (if needed) and prints its path::

    python3 tests/mlflow_venv.py
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "mlflow-requirements.txt"
CONSTRAINTS = HERE / "mlflow-constraints.txt"
READY = "lifecyclegraph-mlflow-venv.ok"  # written last: a venv without it is incomplete


class VenvError(RuntimeError):
    """The MLflow venv could not be made; the message holds pip's output."""


def pinned_version() -> str:
    """The MLflow version of ``tests/mlflow-requirements.txt`` (its one ``mlflow==`` line)."""
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.lower().startswith("mlflow=="):
            return line.split("==", 1)[1].strip()
    raise VenvError(f"{REQUIREMENTS}: no 'mlflow==<version>' line")


def venv_path() -> Path:
    """Where the venv of the current pin lives."""
    override = os.environ.get("LIFECYCLEGRAPH_MLFLOW_VENV")
    if override:
        return Path(override)
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, CONSTRAINTS):
        digest.update(path.read_bytes() if path.exists() else b"")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    name = f"mlflow-venv-{pinned_version()}-{digest.hexdigest()[:12]}"
    return cache / "lifecyclegraph" / name


def ensure_venv(timeout: float = 1800.0) -> Path:
    """The MLflow venv's ``bin`` directory, made first if it is not there yet.

    Safe to call from several processes at once (a file lock); an interrupted
    install is started again, never used.

    Raises:
        VenvError: ``venv`` or ``pip`` failed (no network, no such version...).
    """
    venv = venv_path()
    if (venv / READY).exists():
        return venv / "bin"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / READY).exists():  # another process made it while we waited
            return venv / "bin"
        shutil.rmtree(venv, ignore_errors=True)  # an interrupted install
        try:
            # made where it will live: its scripts name its own python
            _run([sys.executable, "-m", "venv", str(venv)], timeout)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
            constraints = ["-c", str(CONSTRAINTS)] if CONSTRAINTS.exists() else []
            _run([*pip, *constraints, "-r", str(REQUIREMENTS)], timeout)
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        (venv / READY).write_text(pinned_version() + "\n")
    return venv / "bin"


def _run(command: list[str], timeout: float) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise VenvError(f"{' '.join(command)}: no end within {timeout:g} s") from error
    if done.returncode != 0:
        raise VenvError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


if __name__ == "__main__":
    print(ensure_venv().parent)
