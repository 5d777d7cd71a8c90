"""Fault-injection points for the reliability tests (G1, G4, G5); inert in production.

The loader and the curated writer call `fault_point(stage, **info)` at each step. Tests either install a hook
(`set_fault_hook`) that raises at a chosen step — e.g. after k staged rows — or, for crash tests in a
subprocess, set MINSHENG_FAULT_STOP_AT=<stage> so the process stops itself (SIGSTOP) there and can be SIGKILLed
at an exactly known point.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

STOP_ENV = "MINSHENG_FAULT_STOP_AT"

FaultHook = Callable[[str, dict[str, Any]], None]

_hook: FaultHook | None = None


def set_fault_hook(hook: FaultHook | None) -> None:
    """Install (or with None remove) the hook called at every fault point of this process."""
    global _hook
    _hook = hook


def fault_point(stage: str, **info: Any) -> None:
    """Mark a step; a test hook may raise here, and MINSHENG_FAULT_STOP_AT=<stage> stops the process."""
    if _hook is not None:
        _hook(stage, info)
    if os.environ.get(STOP_ENV) == stage and hasattr(signal, "SIGSTOP"):
        os.kill(os.getpid(), signal.SIGSTOP)
