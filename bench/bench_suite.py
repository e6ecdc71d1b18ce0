"""Whole-suite replay: what a CI run pays per SDK call when a suite of N tests replays,
pyagent-trace against pytest-recording and against an in-memory transport, in one script.

Run: .venv/bin/python bench/bench_suite.py             (N = 200 x 7 rounds, N = 1,000 x 3 rounds; ~6 minutes)
     .venv/bin/python bench/bench_suite.py --quick     (N = 50 x 2 rounds: a smoke run)
     .venv/bin/python bench/bench_suite.py --profile   (then cProfile: pyagent-trace and floor, smallest N)
     .venv/bin/python bench/bench_suite.py --sizes 200:5  (chosen sizes and rounds)

Each test makes 5 ``openai.OpenAI(...).chat.completions.create`` calls with messages of its
own (the fifth streamed with ``stream_options={"include_usage": True}`` and iterated to the
end) through one client per process, built when the helper module is imported: building a
default client costs ~20 ms of TLS setup, which every variant, the baseline included, pays
once. Tests live in modules of 50. Variants, each a ``pytest`` subprocess of its own in a
project folder of its own (no xdist):

1. ``pyagent``: ``@pytest.mark.cassette``; recorded with ``--record-mode=once`` against
   ``tests/integration/fake_providers.py``'s server on 127.0.0.1, which is then stopped;
   replayed by plain ``pytest -p no:recording``.
2. ``vcr``: ``@pytest.mark.vcr`` with ``vcr_config`` matching on the body too; recorded the
   same way, replayed with ``--record-mode=none -p no:pyagent_trace``.
3. ``floor``: the same calls answered by an ``httpx2.MockTransport`` (the openai 3.x SDK's
   client is httpx2) with canned responses of the same shape and the same headers as the
   recorded ones (server, date, content-type, a session cookie: what a replay hands the SDK,
   whose cookie jar then does the same work in both), no patching at all. Before 2026-11-29
   the floor's responses had a content-type only: that floor is still measured, as ``bare``.
4. ``bare``: the floor with content-type as the only header (no cookie for the SDK's jar).
5. ``baseline``: the same tests, making no call (the client is still built once).

Per run: wall time around the subprocess, the duration pytest prints, and the peak RSS of
the pytest process, read from ``os.wait4`` on its pid (the kernel's ``ru_maxrss`` of that
one child, in KiB: no wrapper process, no delta arithmetic). Rounds are interleaved, the
variant order rotated each round; each variant first runs once untimed (the recorded ones
are checked to replay: the server is gone, so a miss fails the run). Reported figures are
medians over rounds; per-call cost is ``(t_variant - t_baseline) / (N * 5)`` with the
baseline of the same round.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAKE_PROVIDERS = ROOT / "tests" / "integration" / "fake_providers.py"
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:ddtrace", "-p", "no:logfire",
          "-p", "no:pytest_logfire", "-p", "no:pytest_genai_semconv", "-p", "no:randomly"]  # fmt: skip
CALLS_PER_TEST = 5
TESTS_PER_MODULE = 50
ORDER = ("pyagent", "vcr", "floor", "bare", "baseline")
LABELS = {
    "pyagent": "**pyagent-trace** (`@pytest.mark.cassette`)",
    "vcr": "pytest-recording (`@pytest.mark.vcr`, body matcher)",
    "floor": "floor: `httpx2.MockTransport`",
    "bare": "bare floor: `httpx2.MockTransport`, content-type only",
    "baseline": "baseline: no SDK call",
}
MARKERS = {"pyagent": "@pytest.mark.cassette\n", "vcr": "@pytest.mark.vcr\n", "floor": "", "bare": "", "baseline": ""}
REPLAY_ARGS = {
    "pyagent": ("-p", "no:recording"),
    "vcr": ("-p", "no:pyagent_trace", "--record-mode=none"),
    "floor": ("-p", "no:pyagent_trace", "-p", "no:recording"),
    "bare": ("-p", "no:pyagent_trace", "-p", "no:recording"),
    "baseline": ("-p", "no:pyagent_trace", "-p", "no:recording"),
}
RECORD_ARGS = {
    "pyagent": ("-p", "no:recording", "--record-mode=once"),
    "vcr": ("-p", "no:pyagent_trace", "--record-mode=once"),
}
FLOOR_HEADERS = {"server": "BaseHTTP/0.6 Python/3.11.7", "date": "Sun, 29 Nov 2026 12:00:00 GMT"}
"""The headers the fake provider's responses carry besides content-type and the cookie: the
floor answers with the same headers as the recorded responses a replay hands the client, so
the SDK does the same work with them (its cookie jar most of all) in both."""
VCR_CONFTEST = """import pytest


@pytest.fixture(scope="module")
def vcr_config():
    return {"match_on": ["method", "scheme", "host", "port", "path", "query", "body"]}
"""
SUITE_HELPER = '''"""The five calls each generated test makes, through one client per process."""

import httpx2
import openai

VARIANT = {variant!r}
SYSTEM = "You are a careful analyst. Answer in three short bullet points and cite figures."
CLIENT = openai.OpenAI(api_key="sk-bench-not-a-key", base_url={base_url!r}, max_retries=0)

if VARIANT in ("floor", "bare"):
    _JSON = {json_body!r}
    _EVENTS = {events!r}

    _HEADERS = {headers!r}  # what the recorded responses carry (a real provider sets cookies too)

    def _answer(request):
        if b'"stream"' in request.content:
            headers = {{**_HEADERS, "content-type": "text/event-stream"}}
            return httpx2.Response(200, headers=headers, content=iter(_EVENTS))
        return httpx2.Response(200, headers={{**_HEADERS, "content-type": "application/json"}}, content=_JSON)

    CLIENT = openai.OpenAI(api_key="sk-bench-not-a-key", base_url={base_url!r}, max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(_answer)))


def _messages(tag, k):
    return [{{"role": "system", "content": SYSTEM}}, {{"role": "user", "content": f"{{tag}}: question {{k}}?"}}]


def run(tag):
    if VARIANT == "baseline":
        return
    for k in range(4):
        reply = CLIENT.chat.completions.create(model="gpt-4o-mini", messages=_messages(tag, k))
        assert reply.choices[0].message.content
    stream = CLIENT.chat.completions.create(
        model="gpt-4o-mini", messages=_messages(tag, 4), stream=True, stream_options={{"include_usage": True}}
    )
    chunks = list(stream)
    assert chunks[-1].usage.total_tokens == 150
'''


def load_fake_providers():
    spec = importlib.util.spec_from_file_location("_bench_fake_providers", FAKE_PROVIDERS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Run:
    wall: float
    reported: float
    rss_kib: int


def env() -> dict[str, str]:
    """This environment, less what would change how pytest runs (PYTHONPATH is kept: it may
    point at a snapshot of the plugin to measure), and with bytecode caching on: a user's
    install has compiled modules, and with PYTHONDONTWRITEBYTECODE set (this machine's shell
    sets it) every run would compile the modules of ours that changed since the last cache
    (~0.1 s a session), a cost only the variants that load pyagent-trace would pay."""
    dropped = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if k not in dropped}


def run_pytest(args: list[str], cwd: Path, tests: int, log: Path) -> Run:
    """One pytest subprocess: wall time around it, pytest's own duration, its peak RSS."""
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    found = re.search(r"^(\d+) passed([^\n]*) in ([\d.]+)s", text, re.MULTILINE)
    if proc.returncode != 0 or found is None or int(found[1]) != tests or re.search("failed|error", found[2]):
        tail = "\n".join(text.splitlines()[-30:])
        sys.exit(f"pytest failed in {cwd} ({' '.join(args[2:])}), rc={proc.returncode}:\n{tail}")
    return Run(wall, float(found[3]), usage.ru_maxrss)


def make_project(folder: Path, variant: str, n: int, base_url: str, fake) -> None:
    folder.mkdir(parents=True)
    (folder / "pytest.ini").write_text("[pytest]\n")
    body, events = fake.openai_chat("gpt-4o-mini", "Reply 1: m00-t0000: question 0? " * 2, 1, True)
    (folder / "_suite.py").write_text(
        SUITE_HELPER.format(
            variant=variant,
            base_url=f"{base_url}/v1",
            json_body=json.dumps(body).encode(),
            events=events,
            headers=FLOOR_HEADERS | {"set-cookie": fake.COOKIE} if variant == "floor" else {},
        )
    )
    if variant == "vcr":
        (folder / "conftest.py").write_text(VCR_CONFTEST)
    for m in range((n + TESTS_PER_MODULE - 1) // TESTS_PER_MODULE):
        tests = range(m * TESTS_PER_MODULE, min(n, (m + 1) * TESTS_PER_MODULE))
        source = "import pytest\n\nimport _suite\n" + "".join(
            f'\n\n{MARKERS[variant]}def test_{t:04d}():\n    _suite.run("m{m:02d}-t{t:04d}")\n' for t in tests
        )
        (folder / f"test_m{m:02d}.py").write_text(source)


def prepare(tmp: Path, n: int, fake) -> dict[str, Path]:
    """Project folders for every variant; the two recorders record against the fake server."""
    server = fake.FakeProviderServer().start()
    base_url = server.url
    folders = {}
    try:
        for variant in ORDER:
            folders[variant] = tmp / f"n{n}-{variant}"
            make_project(folders[variant], variant, n, base_url, fake)
            if variant in RECORD_ARGS:
                run_pytest([*PYTEST, *RECORD_ARGS[variant]], folders[variant], n, tmp / "record.log")
        calls = len([r for r in server.received if r["path"].endswith("/chat/completions")])
        expected = len(RECORD_ARGS) * n * CALLS_PER_TEST
        assert calls == expected, f"recorded {calls} calls, expected {expected}"
    finally:
        server.stop()  # replays run with nothing listening there: a miss fails the run
    for variant in ORDER:  # untimed warm-up: assertion-rewritten modules cached, replay checked
        run_pytest([*PYTEST, *REPLAY_ARGS[variant]], folders[variant], n, tmp / "warmup.log")
    return folders


def bench_size(tmp: Path, n: int, rounds: int, fake) -> dict[str, list[Run]]:
    folders = prepare(tmp, n, fake)
    samples: dict[str, list[Run]] = {v: [] for v in ORDER}
    for r in range(rounds):
        order = ORDER[r % len(ORDER) :] + ORDER[: r % len(ORDER)]
        for variant in order:
            run = run_pytest([*PYTEST, *REPLAY_ARGS[variant]], folders[variant], n, tmp / f"{variant}.log")
            samples[variant].append(run)
        times = ", ".join(f"{v} {samples[v][-1].wall:.2f}s" for v in ORDER)
        print(f"  N={n} round {r + 1}/{rounds}: {times}", file=sys.stderr, flush=True)
    return samples


def per_call_us(samples: dict[str, list[Run]], variant: str, n: int) -> list[float]:
    """Per round: (t_variant - t_baseline) / (N * 5), in µs."""
    pairs = zip(samples[variant], samples["baseline"], strict=True)
    return [(a.wall - b.wall) / (n * CALLS_PER_TEST) * 1e6 for a, b in pairs]


def table(results: dict[int, dict[str, list[Run]]]) -> str:
    lines = [
        "| N tests | variant | wall (s) | pytest-reported (s) | per SDK call above baseline (µs) | x floor "
        "| peak RSS (MB) |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, samples in results.items():
        floor = per_call_us(samples, "floor", n)
        for variant in ORDER:
            runs = samples[variant]
            wall = statistics.median(r.wall for r in runs)
            reported = statistics.median(r.reported for r in runs)
            rss = statistics.median(r.rss_kib for r in runs) / 1024
            if variant == "baseline":
                cost, ratio = "—", "—"
            else:
                mine = per_call_us(samples, variant, n)
                cost = f"{statistics.median(mine):,.0f}"
                ratios = [a / b for a, b in zip(mine, floor, strict=True)]
                ratio = "1.00" if variant == "floor" else f"{statistics.median(ratios):.2f}"  # bare: below 1
            name = LABELS[variant]
            lines.append(f"| {n:,} | {name} | {wall:.2f} | {reported:.2f} | {cost} | {ratio} | {rss:.1f} |")
    return "\n".join(lines)


def scaling(results: dict[int, dict[str, list[Run]]]) -> str:
    """RSS growth and marginal per-call cost between the smallest and largest N."""
    small, large = min(results), max(results)
    if small == large:
        return ""
    lines = [
        f"| variant | peak RSS N={large:,} minus N={small:,} (MB) "
        f"| marginal cost per SDK call, N={small:,}→{large:,} (µs) |",
        "|---|---:|---:|",
    ]
    calls = (large - small) * CALLS_PER_TEST
    for variant in ORDER:
        rss = [statistics.median(r.rss_kib for r in results[n][variant]) / 1024 for n in (small, large)]
        wall = [statistics.median(r.wall for r in results[n][variant]) for n in (small, large)]
        base = [statistics.median(r.wall for r in results[n]["baseline"]) for n in (small, large)]
        marginal = ((wall[1] - base[1]) - (wall[0] - base[0])) / calls * 1e6
        shown = "—" if variant == "baseline" else f"{marginal:,.0f}"
        lines.append(f"| {LABELS[variant]} | {rss[1] - rss[0]:+.1f} | {shown} |")
    return "\n".join(lines)


def verdict(results: dict[int, dict[str, list[Run]]]) -> str:
    out = []
    for n, samples in results.items():
        mine, floor = per_call_us(samples, "pyagent", n), per_call_us(samples, "floor", n)
        ratios = sorted(a / b for a, b in zip(mine, floor, strict=True))
        ratio = statistics.median(ratios)
        bare = statistics.median(a / b for a, b in zip(mine, per_call_us(samples, "bare", n), strict=True))
        spread = f"per-round ratios {ratios[0]:.2f} to {ratios[-1]:.2f}"
        if len(ratios) >= 4:
            quartiles = statistics.quantiles(ratios, n=4)
            spread += f", middle half {quartiles[0]:.2f} to {quartiles[2]:.2f}"
        out.append(f"N={n:,}: pyagent-trace per-call cost {ratio:.2f}x the floor (target ≤ 1.15x: "
                   f"{'met' if ratio <= 1.15 else 'missed'}; {spread}); {bare:.2f}x the bare floor")  # fmt: skip
    small, large = min(results), max(results)
    if small != large:
        rss = [statistics.median(r.rss_kib for r in results[n]["pyagent"]) / 1024 for n in (small, large)]
        grow = rss[1] - rss[0]
        out.append(f"pyagent-trace peak RSS N={small:,}→{large:,}: {grow:+.1f} MB "
                   f"(target within 10 MB: {'met' if abs(grow) <= 10 else 'missed'})")  # fmt: skip
    return "\n".join(out)


def profile(tmp: Path, n: int, fake, top: int = 25) -> None:
    """cProfile of the pyagent-trace and floor replays at N tests: own time by package for
    both (so the difference shows where pyagent-trace's extra time goes), then the top
    cumulative entries of our code and of vcrpy in the pyagent-trace run."""
    if not (tmp / f"n{n}-pyagent").exists():
        prepare(tmp, n, fake)
    stats = {}
    for variant in ("pyagent", "floor"):
        out = tmp / f"{variant}.prof"
        args = [sys.executable, "-m", "cProfile", "-o", str(out), *PYTEST[1:], *REPLAY_ARGS[variant]]
        run_pytest(args, tmp / f"n{n}-{variant}", n, tmp / "profile.log")
        stats[variant] = pstats.Stats(str(out))
    total, floor_total = stats["pyagent"].total_tt, stats["floor"].total_tt
    print(f"\n### Profile at N={n:,} ({n * CALLS_PER_TEST:,} SDK calls): pyagent-trace {total:.2f} s, "
          f"floor {floor_total:.2f} s under cProfile\n")  # fmt: skip
    buckets = {variant: _buckets(st) for variant, st in stats.items()}
    extra = total - floor_total
    print("| own time by package | pyagent-trace s | % of run | floor s | difference s | % of the difference |")
    print("|---|---:|---:|---:|---:|---:|")
    names = sorted(set(buckets["pyagent"]) | set(buckets["floor"]),
                   key=lambda k: -(buckets["pyagent"].get(k, 0.0) - buckets["floor"].get(k, 0.0)))  # fmt: skip
    for name in names:
        mine, floor = buckets["pyagent"].get(name, 0.0), buckets["floor"].get(name, 0.0)
        print(f"| {name} | {mine:.2f} | {mine / total * 100:.1f} | {floor:.2f} | {mine - floor:+.2f} "
              f"| {(mine - floor) / extra * 100:.0f} |")  # fmt: skip
    entries = stats["pyagent"].stats  # (file, line, name) -> (primitive calls, calls, tottime, cumtime, callers)
    for title, test in (("pyagent_trace + pytest_pyagent_trace", lambda p: "pyagent_trace" in p),
                        ("vcrpy", lambda p: f"{os.sep}vcr{os.sep}" in p)):  # fmt: skip
        rows = sorted(((k, v) for k, v in entries.items() if test(k[0])), key=lambda kv: -kv[1][3])[:top]
        print(f"\n| top {top} cumulative: {title} | calls | cum s | % of run | % of extra over floor | own s "
              f"| µs per call (cum) |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|---:|")
        for (path, line, name), (_, calls, tottime, cumtime, _) in rows:
            where = f"{_short(path)}:{line} {name}"
            print(f"| `{where}` | {calls:,} | {cumtime:.3f} | {cumtime / total * 100:.1f} | "
                  f"{cumtime / extra * 100:.0f} | {tottime:.3f} | {cumtime / calls * 1e6:,.0f} |")  # fmt: skip


def _buckets(stats: pstats.Stats) -> dict[str, float]:
    out: dict[str, float] = {}
    for (path, _, _), (_, _, tottime, _, _) in stats.stats.items():
        name = _bucket(path)
        out[name] = out.get(name, 0.0) + tottime
    return out


def _bucket(path: str) -> str:
    for name in ("pytest_pyagent_trace", "pyagent_trace", f"{os.sep}vcr{os.sep}", "openai", "httpx2", "pydantic",
                 "_pytest", "pluggy", "opentelemetry", "yaml", "httpcore", "anyio"):  # fmt: skip
        if name in path:
            return name.strip(os.sep)
    if path.startswith("<frozen importlib"):
        return "importlib (module search, imports)"
    if f"unittest{os.sep}mock" in path:
        return "unittest.mock (patch start/stop)"
    if path.startswith("~") or path == "":
        return "builtins (C)"
    return "other (stdlib, ...)"


def _short(path: str) -> str:
    for anchor in (f"{os.sep}pytest_pyagent_trace{os.sep}", f"{os.sep}pyagent_trace{os.sep}", "site-packages" + os.sep):
        if anchor in path:
            tail = path.rsplit(anchor, 1)[1]
            return (anchor.strip(os.sep) + "/" + tail) if "pyagent" in anchor else tail
    return path


def code_under_test() -> str:
    """Where the subprocesses import the plugin from (PYTHONPATH can point at a snapshot)."""
    probe = "import os, pytest_pyagent_trace as p; print(os.path.dirname(os.path.dirname(os.path.abspath(p.__file__))))"
    where = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env(), check=True)
    folder = where.stdout.strip()
    git = subprocess.run(["git", "-C", folder, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if git.returncode != 0:
        return f"plugin imported from {folder}"
    status = ["git", "-C", folder, "status", "--porcelain", "--", "pyagent_trace", "pytest_pyagent_trace"]
    dirty = subprocess.run(status, capture_output=True, text=True).stdout.strip()
    return f"plugin at commit {git.stdout.strip()}{' + uncommitted changes' if dirty else ''}"


def parse_sizes(text: str) -> dict[int, int]:
    """``200:5,1000:2`` -> {200: 5, 1000: 2}; argparse turns the error into one line."""
    sizes = {}
    for pair in text.split(","):
        n, _, rounds = pair.partition(":")
        if not (n.strip().isdigit() and rounds.strip().isdigit() and int(n) > 0 and int(rounds) > 0):
            msg = f"{pair!r}: give N:rounds with positive whole numbers, e.g. 200:5"
            raise argparse.ArgumentTypeError(msg)
        sizes[int(n)] = int(rounds)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N=50, 2 rounds: a smoke run")
    parser.add_argument("--profile", action="store_true", help="also profile the pyagent-trace replay")
    parser.add_argument("--sizes", type=parse_sizes, help="N:rounds pairs, e.g. 200:5,1000:2 (default 200:7,1000:3)")
    args = parser.parse_args()
    sizes = {50: 2} if args.quick else {200: 7, 1_000: 3}
    if args.sizes:
        sizes = args.sizes
    fake = load_fake_providers()
    print(code_under_test(), file=sys.stderr, flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        results = {n: bench_size(Path(tmp), n, rounds, fake) for n, rounds in sizes.items()}
        print(f"\n`.venv/bin/python bench/bench_suite.py{' --quick' if args.quick else ''}`, "
              f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores, noisy; medians of interleaved rounds "
              f"({', '.join(f'N={n:,}: {r} rounds' for n, r in sizes.items())})\n")  # fmt: skip
        print(table(results))
        extra = scaling(results)
        if extra:
            print("\n" + extra)
        print("\n" + verdict(results))
        if args.profile:
            profile(Path(tmp), min(sizes), fake)
    print(f"\n(total {time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
