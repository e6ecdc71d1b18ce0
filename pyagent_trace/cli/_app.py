"""The typer application: one sub-command per module, registered here.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import typer

from pyagent_trace.cli._audit import audit
from pyagent_trace.cli._diff import diff
from pyagent_trace.cli._html import html
from pyagent_trace.cli._merge import report_app
from pyagent_trace.cli._prices import prices
from pyagent_trace.cli._scrub import scrub
from pyagent_trace.cli._stats import stats
from pyagent_trace.cli._view import view

__all__ = ["app"]

app = typer.Typer(
    name="pyagent-trace",
    help="Look at recorded agent runs (tree, stats, diff, HTML), audit secrets, merge run reports, show prices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("view")(view)
app.command("stats")(stats)
app.command("diff")(diff)
app.command("html")(html)
app.command("scrub")(scrub)
app.command("audit")(audit)
app.command("prices")(prices)
app.add_typer(report_app, name="report")
