"""How reports spell dollar amounts: the CLI, the HTML report and the library's drift messages.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

__all__ = ["usd", "usd_delta", "usd_exact"]


def usd(value: float) -> str:
    """``$0.00094``: five decimals, as the docs print costs; more for sub-cent-thousandths."""
    if 0 < abs(value) < 0.00001:
        return "$" + f"{value:.10f}".rstrip("0")
    return f"${value:,.5f}"


def usd_exact(value: float, places: int = 8) -> str:
    """``$0.0001425``, ``$1.50``: every significant digit down to ``places`` decimals, at
    least cents (CostSummary, the session summary, price rates)."""
    whole, _, fraction = f"{value:,.{places}f}".rstrip("0").partition(".")
    return f"${whole}.{fraction:0<2}"


def usd_delta(value: float) -> str:
    sign = "+" if value >= 0 else "-"
    return sign + usd(abs(value))
