"""``pyagent-trace prices MODEL``: the price in force, its tiers and source; unknown is one line."""

from __future__ import annotations

import genai_prices
import pytest
from typer.testing import CliRunner

from pyagent_trace.cli._app import app


@pytest.fixture
def runner():
    return CliRunner()


def test_prices_shows_rates_tiers_and_source(runner):
    args = ["prices", "claude-sonnet-4-5-20250929", "--provider", "anthropic", "--at", "2026-11-01"]
    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "claude-sonnet-4-5 (anthropic): price in force on 2026-11-01 00:00 UTC, USD per 1M tokens"
    assert lines[1:5] == [
        "  input        $3.00",
        "  output       $15.00",
        "  cache read   $0.30",
        "  cache write  $3.75",
    ]
    assert lines[5].startswith("  above 200,000 input tokens: input $6.00, output $22.50")
    assert lines[6].startswith(f"source: genai-prices {genai_prices.__version__} (newer prices: upgrade the package")


def test_prices_at_a_past_date_shows_the_price_then(runner):
    before, after = (runner.invoke(app, ["prices", "o3", "--at", day]).stdout for day in ("2025-05-01", "2025-07-01"))

    assert "  input        $10.00" in before.splitlines()
    assert "  input        $2.00" in after.splitlines()


def test_prices_of_an_unknown_model_is_one_line_and_exit_1(runner):
    result = runner.invoke(app, ["prices", "house-model"])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "No price for model 'house-model'" in result.stderr
    assert 'prices={"house-model": {"input": ..., "output": ...}}' in result.stderr


def test_prices_rejects_a_bad_date_naming_it(runner):
    result = runner.invoke(app, ["prices", "gpt-4o", "--at", "yesterday"])

    assert result.exit_code == 2
    assert "--at 'yesterday'" in result.stderr
