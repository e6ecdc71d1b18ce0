"""The walk over a JSON-like value: secret-named fields redacted by name (their values
learnt), and, when scanning, every string searched for learnt values and key shapes.

Copy on write: what holds no secret comes back as the same object, so a clean entry costs
no allocation and its caller can tell "nothing changed" by identity.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyagent_trace._scrub_config import ScrubConfig
from pyagent_trace._scrub_found import Found, label_of
from pyagent_trace._scrub_strings import SecretStrings
from pyagent_trace._secrets import REDACTED, is_placeholder, is_secret_name

__all__ = ["ValueWalker"]


class ValueWalker:
    """Redacts JSON fields named like secrets (or in ``config.fields``) at any depth,
    learning their values into ``strings``, which also scans every string."""

    def __init__(self, config: ScrubConfig, strings: SecretStrings) -> None:
        self.config = config
        self._strings = strings

    def _secret_field(self, key: Any, item: str, container: Mapping[Any, Any]) -> bool:
        """Called for string items only (the caller checks: this runs for every dict item)."""
        if not item or type(key) is not str or not (is_secret_name(key) or key.lower() in self.config.fields):
            return False
        return not is_placeholder(item) and "logprob" not in container  # logprobs name each token "token"

    def walk(self, value: Any, trail: list[Any], found: list[Found], scan: bool = True) -> Any:
        """``value`` with secret fields redacted (their values learnt) and, when ``scan``,
        secret strings too; the same object when nothing changed."""
        kind = type(value)
        if kind is str:
            return self._strings.scrub(value, trail, found) if scan else value
        if kind is dict:
            changed: dict[Any, Any] | None = None
            for key, item in value.items():
                trail.append(key)
                if type(item) is str and self._secret_field(key, item, value):
                    self._strings.learn(item, str(key))
                    found.append(Found("secret-field", label_of(trail)))
                    new: Any = REDACTED
                else:
                    new = self.walk(item, trail, found, scan)
                trail.pop()
                if new is not item:
                    changed = changed if changed is not None else dict(value)
                    changed[key] = new
            return value if changed is None else changed
        if kind is list:
            out: list[Any] | None = None
            for index, item in enumerate(value):
                if not scan and type(item) is not dict and type(item) is not list:
                    continue
                trail.append(index)
                new = self.walk(item, trail, found, scan)
                trail.pop()
                if new is not item:
                    out = out if out is not None else list(value)
                    out[index] = new
            return value if out is None else out
        return value
