"""Turn whatever an agent passes an LLM into plain JSON dicts, and show differences.

Agents pass pyagent-patterns ``Message`` objects, OpenAI-style dicts or a bare string;
recordings store one shape so that replay can compare and a person can read them.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

__all__ = ["render_messages", "to_plain_messages"]


def _plain_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value


def _plain_message(message: Any) -> dict[str, Any]:
    if isinstance(message, dict):
        return {str(k): _plain_value(v) for k, v in message.items()}
    role = getattr(message, "role", None)
    content = getattr(message, "content", None)
    if role is None or content is None:
        return {"role": "user", "content": str(message)}
    plain: dict[str, Any] = {"role": _plain_value(role), "content": content}
    name = getattr(message, "name", None)
    if name:
        plain["name"] = name
    return plain


def to_plain_messages(messages: Any) -> list[dict[str, Any]]:
    """Messages as ``[{"role": …, "content": …}]``: accepts Message objects, dicts, a str."""
    if messages is None:
        return []
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    if isinstance(messages, dict) or hasattr(messages, "role"):
        return [_plain_message(messages)]
    if not isinstance(messages, Iterable):
        return [{"role": "user", "content": str(messages)}]
    return [_plain_message(m) for m in messages]


def render_messages(messages: Sequence[dict[str, Any]]) -> list[str]:
    """One ``role: content`` block per message, for diffs and error messages."""
    lines: list[str] = []
    for message in messages:
        role = message.get("role", "?")
        name = f" ({message['name']})" if message.get("name") else ""
        content = message.get("content", "")
        text = content if isinstance(content, str) else repr(content)
        body = text.splitlines() or [""]
        lines.append(f"{role}{name}: {body[0]}")
        lines.extend(f"    {line}" for line in body[1:])
    return lines
