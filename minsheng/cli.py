"""The `minsheng` command line. Each area registers its commands from `minsheng/commands/<area>.py`."""

from __future__ import annotations

import logging
import os

import typer

app = typer.Typer(
    name="minsheng",
    help="Keeps a prefecture's annual livelihood targets honest: collect, validate, load, alert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Quiet, patient defaults for running flows in-process (an ephemeral Prefect API); a configured server wins.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # no telemetry calls from a machine without internet
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "minsheng",  # per-file progress to the terminal and the run's logs
}


def prefect_defaults() -> None:
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    logging.getLogger("minsheng").setLevel(logging.INFO)


def _register() -> None:
    # One import per area keeps the wiring visible; each module adds its commands to `app`.
    from minsheng.commands import (  # noqa: F401
        aq,
        bench,
        catalog,
        check,
        db,
        report,
        run,
    )


def main() -> None:
    prefect_defaults()
    _register()
    app()
