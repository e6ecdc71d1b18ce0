"""The recorded responses of the real OpenAI, Anthropic and Gemini APIs in shared/real-traffic
(from pydantic-ai's cassettes), as interactions in this project's cassette shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "real-traffic"


def index() -> list[dict[str, Any]]:
    """index.json: one row per interaction file (api, provider, model, stream/error flags)."""
    rows: list[dict[str, Any]] = json.loads((ROOT / "index.json").read_text())["interactions"]
    return rows


def load(name: str) -> dict[str, Any]:
    """One interaction file, by its index.json ``file`` (``interactions/…json``) or bare name."""
    path = ROOT / name if "/" in name else ROOT / "interactions" / name
    return dict(json.loads(path.read_text()))


def as_interaction(recorded: dict[str, Any]) -> dict[str, Any]:
    """``{"request": ..., "response": ...}`` as a cassette stores it (lists of header values,
    SSE events each with their blank-line terminator)."""
    request, response = recorded["request"], recorded["response"]
    stored: dict[str, Any] = {"status": response["status"], "headers": _lists(response.get("headers", {}))}
    if "sse_events" in response:
        separator = "\r\n\r\n" if "gemini" in recorded["api"] else "\n\n"
        stored["body"] = ""
        stored["sse_events"] = [event + separator for event in response["sse_events"]]
    else:
        stored["body"] = response.get("body")
    return {
        "request": {
            "method": request["method"],
            "url": request["url"],
            "headers": _lists(request.get("headers", {})),
            "body": request.get("body"),
        },
        "response": stored,
    }


def _lists(headers: dict[str, str]) -> dict[str, list[str]]:
    return {name: [value] for name, value in headers.items()}
