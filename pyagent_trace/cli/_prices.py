"""``pyagent-trace prices MODEL``: the price in force for a model, and where it comes from.

So a user can check a budget against the very price the tracker will use: the same
:meth:`PriceTable.quote` that prices every recorded and replayed call.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import datetime
from typing import Annotated

import typer

from pyagent_trace._usd import usd_exact
from pyagent_trace.cli._common import fail
from pyagent_trace.pricing import DEFAULT_PRICES, ModelPrice

__all__ = ["prices"]

EXIT_UNKNOWN = 1


def _when(at: str | None) -> datetime.datetime:
    if at is None:
        return datetime.datetime.now(datetime.UTC)
    try:
        moment = datetime.datetime.fromisoformat(at)
    except ValueError:
        fail(f"--at {at!r}: give a date (2025-05-01) or an ISO datetime (2025-05-01T14:30:00Z).")
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _rate(value: float | None, *, instead: str = "billed as input") -> str:
    if value is None:
        return f"- ({instead})"
    return usd_exact(value, places=6)


def _rows(price: ModelPrice) -> list[tuple[str, str]]:
    return [
        ("input", _rate(price.input)),
        ("output", _rate(price.output)),
        ("cache read", _rate(price.cache_read)),
        ("cache write", _rate(price.cache_write)),
    ]


def prices(
    model: Annotated[str, typer.Argument(help="The model as your code names it: gpt-4o-mini.", show_default=False)],
    provider: Annotated[
        str | None, typer.Option("--provider", help="openai, anthropic, gemini, ...: helps find the model.")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="The price in force at this date or ISO datetime (default: now).")
    ] = None,
) -> None:
    """The price in force for MODEL (USD per 1M tokens, cache and long-context tiers) and its source."""
    when = _when(at)
    quote = DEFAULT_PRICES.quote(model, provider=provider, at=when)
    if quote is None:
        typer.echo(
            f"No price for model {model!r} in {DEFAULT_PRICES.source}: its calls are unpriced "
            f'(not $0); price it with prices={{"{model}": {{"input": ..., "output": ...}}}} '
            "(USD per 1M tokens) or upgrade genai-prices.",
            err=True,
        )
        raise typer.Exit(EXIT_UNKNOWN)
    where = f" ({quote.provider})" if quote.provider else ""
    typer.echo(f"{quote.model}{where}: price in force on {when:%Y-%m-%d %H:%M} UTC, USD per 1M tokens")
    for name, value in _rows(quote.price):
        typer.echo(f"  {name:<12} {value}")
    for threshold, tier in quote.tiers:
        shown = ", ".join(f"{name} {value}" for name, value in _rows(tier) if not value.startswith("-"))
        typer.echo(f"  above {threshold:,} input tokens: {shown}")
    if quote.per_request:
        typer.echo(f"  per request  ${quote.per_request:g}")
    typer.echo(
        f"source: {quote.source} (newer prices: upgrade the package; "
        "your own: CostTracker(prices={...}) or the pyagent_trace_prices fixture)"
    )
