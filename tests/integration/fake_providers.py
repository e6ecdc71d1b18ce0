"""A fake OpenAI / Anthropic / Gemini-compatible HTTP server on 127.0.0.1.

It answers the four APIs the HTTP cassettes understand (chat completions, responses,
messages, generateContent), each also as Server-Sent Events, with usage that includes
cache tokens in each provider's own convention. Every reply carries a call number, so
identical requests get different answers and replay order can be checked. Bodies are
gzip-compressed when the client accepts it, and every response sets a session cookie:
both things a cassette must not store as they come.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["ANTHROPIC_USAGE", "GEMINI_USAGE", "OPENAI_USAGE", "FakeProviderServer"]

OPENAI_USAGE = {"input": 120, "cached": 100, "output": 30}
ANTHROPIC_USAGE = {"input": 12, "cache_read": 100, "cache_write": 20, "output": 9}
GEMINI_USAGE = {"prompt": 30, "cached": 10, "candidates": 5, "thoughts": 3}
COOKIE = "session=fake-session-cookie; Path=/; HttpOnly"
_GEMINI = re.compile(r"/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$")


def _last_text(messages: list[dict[str, Any]]) -> str:
    content = messages[-1].get("content", "") if messages else ""
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)


def _sse(data: Any, event: str | None = None, newline: str = "\n") -> bytes:
    head = f"event: {event}{newline}" if event else ""
    text = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {text}{newline}{newline}".encode()


def _words(text: str) -> list[str]:
    if CHUNK_CHARS.size:  # pieces of a fixed size: a key in the text is sent split across events
        return [text[i : i + CHUNK_CHARS.size] for i in range(0, len(text), CHUNK_CHARS.size)]
    return [w + " " for w in text.split(" ")[:-1]] + [text.split(" ")[-1]]


class _ChunkChars(threading.local):
    size = 0


CHUNK_CHARS = _ChunkChars()
"""Set by the handler from ``FakeProviderServer.chunk_chars`` for the request it answers."""


# -- one function per API: (JSON body, SSE events) ----------------------------------------
def openai_chat(model: str, text: str, number: int, include_usage: bool) -> tuple[dict[str, Any], list[bytes]]:
    usage = {
        "prompt_tokens": OPENAI_USAGE["input"],
        "completion_tokens": OPENAI_USAGE["output"],
        "total_tokens": OPENAI_USAGE["input"] + OPENAI_USAGE["output"],
        "prompt_tokens_details": {"cached_tokens": OPENAI_USAGE["cached"]},
    }
    base = {"id": f"chatcmpl-fake-{number}", "created": 1700000000, "model": f"{model}-2024-07-18"}
    message = {"role": "assistant", "content": text}
    body = {**base, "object": "chat.completion", "usage": usage,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip
    chunk = {**base, "object": "chat.completion.chunk"}
    events = [_sse({**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})]
    events += [_sse({**chunk, "choices": [{"index": 0, "delta": {"content": w}}]}) for w in _words(text)]
    events.append(_sse({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    if include_usage:
        events.append(_sse({**chunk, "choices": [], "usage": usage}))
    return body, [*events, _sse("[DONE]")]


_FAKE_VALUES = {"string": "fake", "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}


def fake_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """Arguments for a tool's JSON schema: a plain value for each required property."""
    properties = schema.get("properties") or {}
    return {name: _FAKE_VALUES.get(str(properties.get(name, {}).get("type")), "fake")
            for name in schema.get("required") or []}  # fmt: skip


def openai_tool_call(model: str, body: dict[str, Any], number: int) -> tuple[dict[str, Any], list[bytes]]:
    """A chat completion calling the tool ``tool_choice`` names (else the first tool): what
    agent frameworks (a tool call) and instructor (a forced function) need to go on."""
    choice = body.get("tool_choice")
    wanted = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    functions = [t["function"] for t in body["tools"] if t.get("type") == "function"]
    function = next((f for f in functions if f["name"] == wanted), functions[0])
    arguments = json.dumps(fake_arguments(function.get("parameters") or {}))
    call = {"id": f"call_fake_{number}", "type": "function",
            "function": {"name": function["name"], "arguments": arguments}}  # fmt: skip
    body_out, _ = openai_chat(model, "", number, include_usage=False)
    choice_out = body_out["choices"][0]
    choice_out["message"] = {"role": "assistant", "content": None, "tool_calls": [call]}
    choice_out["finish_reason"] = "tool_calls"
    return body_out, []


def responses_tool_call(model: str, body: dict[str, Any], number: int) -> tuple[dict[str, Any], list[bytes]]:
    """A Responses API answer calling the first function tool (pydantic-ai's default API)."""
    tool = next(t for t in body["tools"] if t.get("type") == "function")
    arguments = json.dumps(fake_arguments(tool.get("parameters") or {}))
    response, _ = openai_responses(model, "", number)
    response["output"] = [{"type": "function_call", "id": f"fc_{number}", "call_id": f"call_fake_{number}",
                           "name": tool["name"], "arguments": arguments, "status": "completed"}]  # fmt: skip
    return response, []


def _answered(items: Any) -> bool:
    """Whether a Responses API input already holds a tool's result."""
    return isinstance(items, list) and any(isinstance(i, dict) and i.get("type") == "function_call_output"
                                           for i in items)  # fmt: skip


def openai_responses(model: str, text: str, number: int) -> tuple[dict[str, Any], list[bytes]]:
    usage = {
        "input_tokens": OPENAI_USAGE["input"],
        "input_tokens_details": {"cached_tokens": OPENAI_USAGE["cached"]},
        "output_tokens": OPENAI_USAGE["output"],
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": OPENAI_USAGE["input"] + OPENAI_USAGE["output"],
    }
    item = {"type": "message", "id": f"msg_{number}", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}  # fmt: skip
    body = {"id": f"resp_fake_{number}", "object": "response", "created_at": 1700000000, "status": "completed",
            "model": f"{model}-2024-07-18", "output": [item], "usage": usage, "parallel_tool_calls": True,
            "tool_choice": "auto", "tools": []}  # fmt: skip
    started = {**body, "status": "in_progress", "output": [], "usage": None}
    events = [_sse({"type": "response.created", "sequence_number": 0, "response": started}, "response.created")]
    for seq, word in enumerate(_words(text), start=1):
        delta = {"type": "response.output_text.delta", "item_id": f"msg_{number}", "output_index": 0,
                 "content_index": 0, "delta": word, "sequence_number": seq, "logprobs": []}  # fmt: skip
        events.append(_sse(delta, "response.output_text.delta"))
    done = {"type": "response.completed", "sequence_number": len(events), "response": body}
    return body, [*events, _sse(done, "response.completed")]


def anthropic_messages(model: str, text: str, number: int) -> tuple[dict[str, Any], list[bytes]]:
    u = ANTHROPIC_USAGE
    usage = {"input_tokens": u["input"], "cache_creation_input_tokens": u["cache_write"],
             "cache_read_input_tokens": u["cache_read"], "output_tokens": u["output"]}  # fmt: skip
    base = {"id": f"msg_fake_{number}", "type": "message", "role": "assistant", "model": f"{model}-20251001"}
    body = {**base, "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": usage}  # fmt: skip
    start = {**base, "content": [], "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}
    events = [
        _sse({"type": "message_start", "message": start}, "message_start"),
        _sse(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        ),
        _sse({"type": "ping"}, "ping"),
    ]
    for word in _words(text):
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}}
        events.append(_sse(delta, "content_block_delta"))
    events += [
        _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": u["output"]},
            },
            "message_delta",
        ),
        _sse({"type": "message_stop"}, "message_stop"),
    ]
    return body, events


def gemini_generate(model: str, text: str, number: int) -> tuple[dict[str, Any], list[bytes]]:
    g = GEMINI_USAGE
    usage = {"promptTokenCount": g["prompt"], "cachedContentTokenCount": g["cached"],
             "candidatesTokenCount": g["candidates"], "thoughtsTokenCount": g["thoughts"],
             "totalTokenCount": g["prompt"] + g["candidates"] + g["thoughts"]}  # fmt: skip

    def chunk(part: str, final: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": part}], "role": "model"}, "index": 0}
        if final:
            candidate["finishReason"] = "STOP"
        partial = usage if final else {"promptTokenCount": g["prompt"]}
        return {"candidates": [candidate], "usageMetadata": partial, "modelVersion": model,
                "responseId": f"fake-{number}"}  # fmt: skip

    words = _words(text)
    events = [_sse(chunk(w, i == len(words) - 1), newline="\r\n") for i, w in enumerate(words)]
    return chunk(text, True), events


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to kept-alive requests
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # the test output stays clean
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:  # OTLP protobuf and other non-JSON payloads
            body = {"raw": raw.hex()}
        path, _, query = self.path.partition("?")
        self.server.owner.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if path.endswith(("/v1/traces", "/v1/metrics", "/v1/logs")) or "/api/public/" in path:
            self._reply(200, {"partialSuccess": {}})
            return
        number = next(self.server.owner.counter)
        if path.endswith("/binary"):  # a body that is not UTF-8, with the key in it
            self._reply_bytes(b"\xff\xfe\x00 " + str(body.get("echo", "")).encode() + b" \xff")
            return
        CHUNK_CHARS.size = self.server.owner.chunk_chars
        answer = self._answer(path, query, body, number)
        if answer is None:
            self._reply(404, {"error": {"message": f"fake server: no route for {path}"}})
        elif self._streaming(path, query, body):
            self._stream(answer[1])
        else:
            self._reply(200, answer[0])

    def _answer(self, path: str, query: str, body: dict[str, Any], n: int) -> tuple[dict[str, Any], list[bytes]] | None:
        echo = self.server.owner.echo_header
        if echo and self.headers.get(echo):  # a secret header echoed back in the reply text
            body = {**body, "messages": [{"role": "user", "content": f"{echo} is {self.headers[echo]}"}]}
        if path.endswith("/chat/completions"):
            messages = body.get("messages") or [{}]
            if body.get("tools") and messages[-1].get("role") != "tool" and not body.get("stream"):
                return openai_tool_call(body["model"], body, n)
            text = f"Reply {n}: {_last_text(body['messages'])}"
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return openai_chat(body["model"], text, n, usage)
        if path.endswith("/responses"):
            functions = [t for t in body.get("tools") or [] if t.get("type") == "function"]
            if functions and not _answered(body["input"]) and not body.get("stream"):
                return responses_tool_call(body["model"], body, n)
            prompt = body["input"] if isinstance(body["input"], str) else _last_text(body["input"])
            return openai_responses(body["model"], f"Reply {n}: {prompt}", n)
        if path.endswith("/messages"):
            return anthropic_messages(body["model"], f"Reply {n}: {_last_text(body['messages'])}", n)
        match = _GEMINI.search(path)
        if match:
            prompt = " ".join(p.get("text", "") for p in body["contents"][-1]["parts"])
            return gemini_generate(match["model"], f"Reply {n}: {prompt}", n)
        return None

    @staticmethod
    def _streaming(path: str, query: str, body: dict[str, Any]) -> bool:
        return bool(body.get("stream")) or "alt=sse" in query or path.endswith(":streamGenerateContent")

    def _reply_bytes(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", COOKIE)
        echo = self.server.owner.echo_header
        if echo and self.headers.get(echo):
            self.send_header("X-Echo", self.headers[echo])
        if "gzip" in self.headers.get("accept-encoding", ""):
            data = gzip.compress(data)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, events: list[bytes]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Set-Cookie", COOKIE)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:  # one HTTP chunk per event, flushed, as real providers do
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeProviderServer


class FakeProviderServer:
    """``start()`` binds 127.0.0.1 on a free port; ``url`` is its base; ``stop()`` frees it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.counter: Iterator[int] = itertools.count(1)
        self.chunk_chars = 0
        """Stream the reply text in pieces of this many characters (0: word by word)."""
        self.echo_header = ""
        """A request header whose value the reply echoes (in its text and an ``x-echo`` header)."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            msg = "FakeProviderServer is not running: call start() first."
            raise RuntimeError(msg)
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, port: int = 0) -> FakeProviderServer:
        """Serve on ``port`` (0: a free one); a new server on an old port restarts the numbering."""
        self.counter = itertools.count(1)
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-providers", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
