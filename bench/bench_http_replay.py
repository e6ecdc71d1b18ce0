"""HTTP cassettes: load + replay of N chat-completion interactions through httpx, against
stock vcrpy's own YAML and JSON cassettes of the same interactions, in one run.

Run: .venv/bin/python bench/bench_http_replay.py            (N = 100, 1,000, 10,000)
     .venv/bin/python bench/bench_http_replay.py 100 1000    (other sizes)

* load: read the file and be ready to replay. pyagent-trace: ``load_entries`` + the
  ``HttpCassette`` index; vcrpy: ``Cassette.load`` (what ``use_cassette`` does on enter);
  floor: ``orjson.loads`` of every line of our file.
* replay: one ``httpx.Client.post`` per recorded interaction, in recorded order. Ours:
  every request of the cassette. vcrpy: its cost per request grows with the position of
  the request in the cassette (it scans), so 20 requests at evenly spaced positions are
  timed, each with the cassette in the state a full replay would have reached there,
  and their mean is the per-request cost (a full replay at N=10,000 would take hours).
  vcrpy runs twice: with its default ``match_on`` (method, scheme, host, port, path,
  query: all chat calls look the same, so it replays in order whatever is asked) and with
  ``body`` added, which is what chat APIs need for replay to answer the question asked.
* real: the same POST to a local HTTP server on 127.0.0.1 (keep-alive), for scale.

Timings are medians of repeated runs (``_timing.median_seconds``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import vcr
from vcr.cassette import Cassette as VcrCassette
from vcr.request import Request as VcrRequest
from vcr.serialize import serialize
from vcr.serializers import jsonserializer, yamlserializer

sys.path.insert(0, str(Path(__file__).parent))
from _timing import median_seconds

from pyagent_trace._recording import RecordEntry, load_entries, save_entries
from pyagent_trace.http import HttpCassette

URL = "http://127.0.0.1:9/v1/chat/completions"  # never reached: every request is replayed
SYSTEM = "You are a careful analyst. Answer in three short bullet points, cite figures. " * 5
REQUEST_HEADERS = {"content-type": "application/json", "accept": "application/json", "user-agent": "OpenAI/Python 3.57",
                   "x-stainless-lang": "python", "authorization": "<redacted>"}  # fmt: skip
RESPONSE_HEADERS = {"content-type": "application/json", "openai-processing-ms": "812", "x-request-id": "req_123",
                    "openai-version": "2020-10-01", "set-cookie": "<redacted>"}  # fmt: skip
VCR_SAMPLES = 20


def interaction(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    question = f"Question {i}: how did segment {i % 7} do this quarter?"
    body = {"model": "gpt-4o-mini", "temperature": 0.2,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]}  # fmt: skip
    text = f"Answer {i}: revenue grew 4%, margins fell 1.2 points, guidance held. " * 8
    answer = {"id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1_700_000_000 + i,
              "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_123",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 180, "completion_tokens": 140, "total_tokens": 320,
                        "prompt_tokens_details": {"cached_tokens": 0}}}  # fmt: skip
    return body, answer


def write_cassettes(n: int, folder: Path) -> tuple[Path, Path, Path, list[bytes]]:
    """The same N interactions as our JSONL, vcrpy YAML and vcrpy JSON; and the request bodies."""
    entries, requests, responses, bodies = [], [], [], []
    for i in range(n):
        body, answer = interaction(i)
        raw_body, raw_answer = orjson.dumps(body), orjson.dumps(answer)
        bodies.append(raw_body)
        http = {
            "request": {"method": "POST", "url": URL, "headers": {k: [v] for k, v in REQUEST_HEADERS.items()},
                        "body": body},
            "response": {"status": 200, "reason": "OK", "headers": {k: [v] for k, v in RESPONSE_HEADERS.items()},
                         "body": answer},
        }  # fmt: skip
        entries.append(RecordEntry("http_interaction", model="gpt-4o-mini", input_tokens=180, output_tokens=140,
                                   tokens=320, cost_usd=0.0001110, metadata={"provider": "openai", "operation": "chat",
                                   "http": http}))  # fmt: skip
        requests.append(VcrRequest("POST", URL, raw_body, REQUEST_HEADERS))
        headers = {k: [v] for k, v in RESPONSE_HEADERS.items()}
        responses.append({"status": {"code": 200, "message": "OK"}, "headers": headers, "body": {"string": raw_answer}})
    ours = save_entries(folder / f"ours-{n}.jsonl", entries)
    data = {"requests": requests, "responses": responses}
    yaml_path, json_path = folder / f"vcr-{n}.yaml", folder / f"vcr-{n}.json"
    yaml_path.write_text(serialize(data, yamlserializer))
    json_path.write_text(serialize(data, jsonserializer))
    return ours, yaml_path, json_path, bodies


# -- load -------------------------------------------------------------------------------------
def orjson_floor(path: Path) -> None:
    [orjson.loads(line) for line in path.read_bytes().splitlines() if line]


def ours_load(path: Path) -> HttpCassette:
    return HttpCassette(load_entries(path), mode="none", source=str(path))


def vcr_load(path: Path, serializer: Any) -> VcrCassette:
    return VcrCassette.load(path=str(path), serializer=serializer, record_mode="none")


# -- replay -----------------------------------------------------------------------------------
def ours_replay(path: Path, bodies: list[bytes]) -> float:
    """Seconds per request over a full replay of the cassette."""
    entries = load_entries(path)
    headers = {"content-type": "application/json"}
    with HttpCassette(entries, mode="none") as http, httpx.Client() as client:
        started = time.perf_counter()
        for body in bodies:
            client.post(URL, content=body, headers=headers)
        elapsed = time.perf_counter() - started
    if http.calls_replayed != len(bodies):
        msg = f"replayed {http.calls_replayed} of {len(bodies)}"
        raise RuntimeError(msg)
    return elapsed / len(bodies)


def vcr_replay(path: Path, bodies: list[bytes], match_on: tuple[str, ...]) -> float:
    """Mean seconds per request of vcrpy at evenly spaced positions (see the module doc)."""
    n = len(bodies)
    positions = sorted({min(n - 1, int(n * (k + 0.5) / VCR_SAMPLES)) for k in range(VCR_SAMPLES)})
    my_vcr = vcr.VCR(serializer="json", record_mode="none", match_on=match_on or vcr.VCR().match_on)
    samples = []
    with my_vcr.use_cassette(str(path)) as cassette, httpx.Client() as client:
        for position in positions:
            cassette.play_counts.clear()
            cassette.play_counts.update(dict.fromkeys(range(position), 1))  # earlier requests were replayed
            started = time.perf_counter()
            reply = client.post(URL, content=bodies[position], headers={"content-type": "application/json"})
            samples.append(time.perf_counter() - started)
            if reply.json()["id"] != f"chatcmpl-{position}":
                msg = f"vcrpy replayed {reply.json()['id']} for position {position}"
                raise RuntimeError(msg)
    return statistics.fmean(samples)


def real_request_seconds(answer: bytes, count: int = 300) -> float:
    """Median seconds of one POST to a local HTTP/1.1 server over a kept-alive connection."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every kept-alive request

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    body = orjson.dumps(interaction(0)[0])
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    samples = []
    try:
        with httpx.Client() as client:
            for _ in range(count):
                started = time.perf_counter()
                client.post(url, content=body, headers={"content-type": "application/json"})
                samples.append(time.perf_counter() - started)
    finally:
        server.shutdown()
        server.server_close()
    return statistics.median(samples)


def row(n: int, folder: Path) -> dict[str, float]:
    ours, yaml_path, json_path, bodies = write_cassettes(n, folder)
    repeats = 7 if n <= 1_000 else 3
    per = 1e6 / n  # seconds for N interactions -> microseconds per interaction
    return {
        "size_kb": ours.stat().st_size / n / 1024,
        "orjson": median_seconds(lambda: orjson_floor(ours), repeats) * per,
        "ours_load": median_seconds(lambda: ours_load(ours), repeats) * per,
        "yaml_load": median_seconds(lambda: vcr_load(yaml_path, yamlserializer), max(1, repeats // 2)) * per,
        "json_load": median_seconds(lambda: vcr_load(json_path, jsonserializer), repeats) * per,
        "ours_replay": statistics.median(ours_replay(ours, bodies) for _ in range(repeats)) * 1e6,
        "vcr_replay": statistics.median(vcr_replay(json_path, bodies, ()) for _ in range(3)) * 1e6,
        "vcr_body_replay": statistics.median(
            vcr_replay(json_path, bodies, (*vcr.VCR().match_on, "body")) for _ in range(3)
        ) * 1e6,
    }  # fmt: skip


def main(sizes: list[int]) -> None:
    real = real_request_seconds(orjson.dumps(interaction(0)[1])) * 1e6
    print(f"Real POST to a local server on 127.0.0.1 through httpx: {real:.0f} µs (median of 300)\n")
    print("| N | KB/interaction | orjson parse µs/int. | **pyagent load** µs/int. (x orjson) | vcrpy YAML load | "
          "vcrpy JSON load | **pyagent replay** µs/req | vcrpy replay (default match_on) | vcrpy replay (+body) | "
          "speed-up vs vcrpy (default / +body) |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            r = row(n, Path(tmp))
            print(
                f"| {n:,} | {r['size_kb']:.1f} | {r['orjson']:.1f} | **{r['ours_load']:.1f}** "
                f"({r['ours_load'] / r['orjson']:.2f}x) | {r['yaml_load']:.0f} | {r['json_load']:.0f} | "
                f"**{r['ours_replay']:.0f}** | {r['vcr_replay']:,.0f} | {r['vcr_body_replay']:,.0f} | "
                f"{r['vcr_replay'] / r['ours_replay']:,.1f}x / {r['vcr_body_replay'] / r['ours_replay']:,.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [100, 1_000, 10_000])
