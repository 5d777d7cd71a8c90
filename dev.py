#!/usr/bin/env python3
"""The two set-up commands: ``python3 dev.py run`` and ``python3 dev.py test``.

Each creates ``.venv`` on first use (and refreshes it when ``pyproject.toml`` or ``constraints.txt`` change),
installs minsheng with pinned dependencies, then runs the demo job or the whole test suite. Only Python 3.11+
and the package registry are needed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".minsheng-installed"


def _requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create or refresh the virtual environment; a no-op when it already matches the pins."""
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py runs on whatever python3 the machine has)
        sys.exit(f"minsheng needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = _requirements_digest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.create(VENV, with_pip=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check"]
    print("installing minsheng and its pinned dependencies into .venv …", flush=True)
    subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-q", "-c", "constraints.txt", "-e", ".[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "setup"}:
        print("usage: python3 dev.py run|test|setup [extra args]", file=sys.stderr)
        return 2
    ensure_venv()
    command, extra = argv[0], argv[1:]
    if command == "setup":
        return 0
    if command == "run":
        return subprocess.call([str(BIN / "minsheng"), "demo", *extra], cwd=ROOT)
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *extra], cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
