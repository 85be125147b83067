"""Load benchmark of the HTTP API, run by hand: ``newsrag serve`` over a copy of an index,
N concurrent clients asking and searching through /v1/chat/completions, /api/ask and
/api/search for a bounded time while another client uploads articles through /api/articles.
Prints requests, errors and latency percentiles per route.

    python -m benchmarks.api_load --index ./idx --clients 20 --seconds 60

The index is copied into ``--work`` first, so the uploads never touch it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

SAMPLE_QA = Path(__file__).with_name("sample_qa.jsonl")
KEY = "sk-newsrag-load-0000"


def start_server(index: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from assistant.cli import run; run()", "serve"]
    command += ["--index", str(index), "--port", str(port), "--api-key", KEY]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"newsrag serve exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit("newsrag serve did not answer in 180 s")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Tally:
    """Latencies and errors by route, from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def add(self, route: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.seconds[route].append(seconds)
            if error:
                self.errors.append(f"{route}: {error}")


def request(client: httpx.Client, n: int, question: str) -> tuple[str, httpx.Response]:
    """The n-th request of a client: chat completion, ask and search in turn."""
    if n % 3 == 0:
        body = {"model": "newsrag", "messages": [{"role": "user", "content": question}]}
        return "/v1/chat/completions", client.post("/v1/chat/completions", json=body)
    if n % 3 == 1:
        return "/api/ask", client.post("/api/ask", json={"question": question})
    return "/api/search", client.post("/api/search", json={"query": question, "k": 5})


def asker(url: str, questions: list[str], offset: int, stop: float, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        n = offset
        while time.monotonic() < stop:
            question = questions[n % len(questions)]
            started = time.perf_counter()
            try:
                route, response = request(client, n, question)
                error = None if response.status_code == 200 else response.text[:200]
            except httpx.HTTPError as exc:
                route, error = "transport", repr(exc)
            tally.add(route, time.perf_counter() - started, error)
            n += 1


def uploader(url: str, stop: float, tally: Tally) -> None:
    """Upload batches of five new articles one after another until ``stop``."""
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
        batch = 0
        while time.monotonic() < stop:
            files = [
                ("files", (f"load-{batch}-{i}.txt", article(batch, i).encode())) for i in range(5)
            ]
            started = time.perf_counter()
            response = client.post("/api/articles", files=files)
            ok = response.status_code == 200 and response.json()["added"] == 5
            tally.add("/api/articles", time.perf_counter() - started, None if ok else response.text)
            batch += 1


def article(batch: int, i: int) -> str:
    return (
        f"Harbour board meeting {batch}-{i}\n\n"
        f"The harbour board met for session {batch}-{i} on Thursday and approved "
        f"{100 + batch * 5 + i} new berths for ferries, the chair said after the vote. "
        "Fishing crews asked for more cold storage on the north quay. "
        "The board will publish its budget for the coming year next month."
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(tally: Tally, seconds: float, clients: int) -> dict[str, Any]:
    routes = {}
    for route, values in sorted(tally.seconds.items()):
        routes[route] = {
            "requests": len(values),
            "p50_ms": round(statistics.median(values) * 1000),
            "p95_ms": round(percentile(values, 0.95) * 1000),
            "max_ms": round(max(values) * 1000),
        }
    asked = [v for r, vs in tally.seconds.items() if r != "/api/articles" for v in vs]
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(asked),
        "errors": len(tally.errors),
        "per_second": round(len(asked) / seconds, 2),
        "p50_ms": round(statistics.median(asked) * 1000) if asked else None,
        "p95_ms": round(percentile(asked, 0.95) * 1000) if asked else None,
        "routes": routes,
        "first_errors": tally.errors[:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="An index to copy and serve.")
    parser.add_argument("--work", type=Path, help="Where the copy goes (default: a temp dir).")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="newsrag-api-load-"))
    copy = work / "idx"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(args.index, copy)
    port = free_port()
    server = start_server(copy, port, work / "serve.log")
    url = f"http://127.0.0.1:{port}"
    questions = [
        json.loads(line)["question"] for line in SAMPLE_QA.read_text(encoding="utf-8").splitlines()
    ]
    tally = Tally()
    stop = time.monotonic() + args.seconds
    threads = [
        threading.Thread(target=asker, args=(url, questions, n * 7, stop, tally))
        for n in range(args.clients)
    ]
    threads.append(threading.Thread(target=uploader, args=(url, stop, tally)))
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(report(tally, args.seconds, args.clients), indent=2))
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
