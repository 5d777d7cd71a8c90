"""The `minsheng` command line. Each area registers its commands from `minsheng/commands/<area>.py`."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="minsheng",
    help="Keeps a prefecture's annual livelihood targets honest: collect, validate, load, alert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # One import per area keeps the wiring visible; each module adds its commands to `app`.
    from minsheng.commands import catalog  # noqa: F401
    from minsheng.commands import report  # noqa: F401
    from minsheng.commands import aq  # noqa: F401


def main() -> None:
    _register()
    app()
