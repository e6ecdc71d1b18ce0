"""What a scrub reports: the kind and the place of each secret it removed, never its value.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Found", "label_of"]

_BY_NAME = frozenset({"secret-header", "secret-query-param", "secret-field", "url-password"})


class Found(NamedTuple):
    """One removed secret: its kind (``openai-key``, ``secret-header``…) and where it was."""

    kind: str
    where: str

    def __str__(self) -> str:
        return self.where if self.kind in _BY_NAME else f"{self.kind} in {self.where}"


def label_of(trail: list[Any]) -> str:
    """``messages[0].content`` from a trail: its root, then dict keys and list indexes
    (formatted only when something is found: the walk itself just pushes and pops)."""
    parts = [str(trail[0])] if trail else []
    parts += [f"[{part}]" if type(part) is int else f".{part}" for part in trail[1:]]
    return "".join(parts).lstrip(".")
