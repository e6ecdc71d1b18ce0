"""Shared set-up of the example agent suite: how each agent gets its LLM.

``cassette.llm(real, agent_name=...)`` replays the committed cassette (the default, zero API
calls) or, with ``--record``, calls ``real`` and records it. ``real`` is pyagent-providers'
OpenAI/Anthropic provider when their API keys are set; without keys it is ``ScriptedLLM``, a
deterministic stand-in, which is what recorded the cassettes shipped here (this repository's
CI has no API keys).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

SCRIPTS: dict[str, list[str]] = {
    "extractor": ["Revenue $25.2B (+8% YoY); automotive gross margin 17.1%; 497k deliveries; FCF $2.7B."],
    "writer": ["Tesla Q3: record deliveries lifted revenue 8% to $25.2B, but price cuts held margins at 17.1%."],
    "bull": [
        "Demand for accelerators outruns supply through 2026; CUDA lock-in keeps gross margin above 70%.",
        "Custom chips serve narrow inference jobs; frontier training still runs on Nvidia hardware.",
    ],
    "bear": [
        "A $3.2T valuation prices in flawless execution while hyperscalers build their own silicon.",
        "Export controls and any capex pause would hit a stock priced for no surprises.",
    ],
    "judge": ["HOLD: the demand case is stronger, but the valuation leaves no margin of safety."],
}


class ScriptedLLM:
    """Answers from SCRIPTS in order: a local stand-in for a real provider."""

    def __init__(self, agent_name: str, model: str) -> None:
        self._model = model
        self._answers = list(SCRIPTS[agent_name])
        self._calls = 0

    async def __call__(self, messages: Any) -> str:
        answer = self._answers[self._calls % len(self._answers)]
        self._calls += 1
        return answer


def _real_llm(agent_name: str, model: str) -> Any:
    if model.startswith("gpt") and os.environ.get("OPENAI_API_KEY"):
        from pyagent_providers.adapters.openai import OpenAIProvider

        return OpenAIProvider(default_model=model)
    if model.startswith("claude") and os.environ.get("ANTHROPIC_API_KEY"):
        from pyagent_providers.adapters.anthropic import AnthropicProvider

        return AnthropicProvider(default_model=model)
    return ScriptedLLM(agent_name, model)


@pytest.fixture
def llm_for(cassette: Any) -> Callable[[str, str], Any]:
    """``llm_for("writer", "gpt-4o-mini")``: the agent's LLM, replayed or recorded."""

    def make(agent_name: str, model: str) -> Any:
        return cassette.llm(_real_llm(agent_name, model), agent_name=agent_name, model=model)

    return make
