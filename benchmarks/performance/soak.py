"""Soak: does the app's memory stay flat? Visitors generating without pause against `python app.py` (shipped
checkpoints) for a long while, with in-app trainings during it.

    python -m benchmarks.performance.soak [--minutes 20] [--warmup_minutes 5] [--visitors 6] [--trainings 2] [--json out.json]

Each visitor is a gradio_client session looping over Compare generations with its own mix of prompts, lengths
(2 to 9.8 s), strengths (-1 to 2), seeds and adapter combinations, so every cache sees new keys all the time.
After --session_requests generations a visitor leaves and a new one (a new session) takes its place, as on a
public server, where Gradio keeps every session's state for a while.
The trainings (the Unlearn tab's API, load.py's settings) start at even intervals, 0, 1/n, ... of the run, so at
least one runs after the warm-up. The app's resident memory (with its children) is sampled every second.
Passes when the RSS grows by at most --max_growth_mb (50) from the warm-up mark to the end, with 0 errors. Each
of the two RSS figures is the median of the minute before its mark, so one batch's transient buffers do not
decide it; the per-minute medians show the curve.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from benchmarks.performance.load import TRAIN, free_port, rss_mb, start_app
from motion_lora.model.sampler import DEFAULT_STEPS

SUBJECTS = ["a person", "a man", "a woman", "someone", "a tired old man", "a young dancer", "a boxer", "a child"]
MOTIONS = ["kicks with the right leg", "kicks high with the left foot", "walks forward slowly", "jogs in a small circle",
           "jumps over an obstacle", "hops on one foot", "punches twice with the left hand", "throws an uppercut",
           "waves with both hands above the head", "waves goodbye", "spins around once", "crouches, then stands up",
           "walks forward, then kicks", "steps to the side and punches", "stretches both arms out"]
ADAPTER_MIXES = [["kick"], ["kick"], ["punch"], ["kick", "punch"], ["wave"], ["jump", "kick"]]
TRAIN_CONCEPTS = ["spin", "wave"]
WINDOW_S = 60.0  # the RSS at a mark: median of this many seconds of samples before it


@dataclass
class Record:
    """What every thread reports, under one lock."""

    latencies: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the run, latency)
    sessions: int = 0
    errors: list[str] = field(default_factory=list)
    memory: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the run, RSS MB)
    trainings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str, err: BaseException) -> None:
        with self.lock:
            self.errors.append(f"{what}: {err!r}"[:300])


def generation(rng: random.Random) -> tuple:
    """One Compare request (the /generate API's inputs): prompt, adapters, strength, seed, length, steps, guidance,
    start step, weights. Seeds from a small range, so a base motion is sometimes reused (the live slider's case)."""
    prompt = f"{rng.choice(SUBJECTS)} {rng.choice(MOTIONS)}"
    mix = rng.choice(ADAPTER_MIXES)
    return (prompt, mix, round(rng.uniform(-1.0, 2.0), 1), rng.randrange(200), round(rng.uniform(2.0, 9.8), 1),
            DEFAULT_STEPS, 2.5, 0, "")


def visit(url: str, k: int, started: float, stop_at: float, session_requests: int, rec: Record) -> None:
    """Visitor slot k: generations without pause; every `session_requests` of them a new session (0 = one throughout)."""
    from gradio_client import Client

    rng, client, n = random.Random(k), None, 0
    while time.time() < stop_at:
        if client is None or (session_requests and n % session_requests == 0):
            if client is not None:
                client.close()
            client = Client(url, verbose=False, download_files=False)
            with rec.lock:
                rec.sessions += 1
        t0 = time.perf_counter()
        try:
            client.predict(*generation(rng), api_name="/generate")
            with rec.lock:
                rec.latencies.append((time.time() - started, time.perf_counter() - t0))
        except Exception as err:  # noqa: BLE001 - counted and reported
            rec.error(f"visitor {k}", err)
        n += 1
    client.close()


def train(url: str, k: int, start_at: float, rec: Record) -> None:
    """One in-app training by its own visitor (session), from `start_at`; its final status is recorded."""
    from gradio_client import Client

    time.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    client = Client(url, verbose=False, download_files=False)
    try:
        final = client.submit(TRAIN_CONCEPTS[k % len(TRAIN_CONCEPTS)], *TRAIN[1:], api_name="/train").result(timeout=1200)
        status = final[-1].get("status") if isinstance(final, (list, tuple)) and isinstance(final[-1], dict) else str(final)[:200]
    except Exception as err:  # noqa: BLE001
        rec.error(f"training {k + 1}", err)
        status = "failed"
    if status != "done":
        rec.error(f"training {k + 1}", RuntimeError(f"ended with status {status!r}"))
    with rec.lock:  # when it ran, to read the RSS curve against
        rec.trainings.append(f"training {k + 1}: {status} ({began - rec.started:.0f}-{time.time() - rec.started:.0f} s)")


def sample_memory(proc: psutil.Process, started: float, stop: threading.Event, rec: Record) -> None:
    while not stop.is_set():
        rec.memory.append((time.time() - started, rss_mb(proc)))
        stop.wait(1.0)


def rss_at(memory: list[tuple[float, float]], mark: float) -> float | None:
    """Median RSS of the WINDOW_S seconds before `mark` (or the first sample after it, on a short run)."""
    window = [m for t, m in memory if mark - WINDOW_S <= t <= mark]
    if window:
        return float(np.median(window))
    after = [m for t, m in memory if t >= mark]
    return after[0] if after else None


def per_minute(memory: list[tuple[float, float]]) -> list[float]:
    minutes = int(max((t for t, _ in memory), default=0) // 60) + 1
    out = []
    for m in range(minutes):
        window = [rss for t, rss in memory if 60 * m <= t < 60 * (m + 1)]
        if window:
            out.append(round(float(np.median(window))))
    return out


def run(args) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    seconds, warmup = 60 * args.minutes, 60 * args.warmup_minutes
    rec = Record()
    with tempfile.TemporaryDirectory() as tmp:
        app = start_app(port, Path(tmp))
        try:
            started, stop = time.time(), threading.Event()
            rec.started = started
            threading.Thread(target=sample_memory, args=(psutil.Process(app.pid), started, stop, rec), daemon=True).start()
            threads = [threading.Thread(target=visit, args=(url, k, started, started + seconds, args.session_requests, rec)) for k in range(args.visitors)]
            threads += [threading.Thread(target=train, args=(url, k, started + k * seconds / args.trainings, rec)) for k in range(args.trainings)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            stop.set()
        finally:
            app.terminate()
            app.wait(timeout=30)
    return summarise(args, rec, seconds, warmup)


def summarise(args, rec: Record, seconds: float, warmup: float) -> dict:
    lat = [s for _, s in rec.latencies]
    at_warmup, at_end = rss_at(rec.memory, warmup), rss_at(rec.memory, seconds)
    growth = at_end - at_warmup if at_warmup is not None and at_end is not None else None
    return {
        "minutes": args.minutes, "warmup_minutes": args.warmup_minutes, "visitors": args.visitors, "trainings_started": args.trainings,
        "requests": len(lat), "sessions": rec.sessions, "errors": len(rec.errors), "error_samples": rec.errors[:5],
        "p50_s": float(np.percentile(lat, 50)) if lat else None, "p95_s": float(np.percentile(lat, 95)) if lat else None,
        "rss_at_warmup_mb": at_warmup, "rss_end_mb": at_end, "growth_after_warmup_mb": growth,
        "rss_max_after_warmup_mb": max((m for t, m in rec.memory if t >= warmup), default=None),
        "rss_per_minute_mb": per_minute(rec.memory), "trainings": sorted(rec.trainings),
        "rss_samples": [(round(t, 1), round(m, 1)) for t, m in rec.memory],  # (seconds, MB): the whole curve, for plots
        "passed": growth is not None and growth <= args.max_growth_mb and not rec.errors and bool(lat),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=20)
    p.add_argument("--warmup_minutes", type=float, default=5, help="growth is measured from this mark to the end")
    p.add_argument("--visitors", type=int, default=6)
    p.add_argument("--trainings", type=int, default=2)
    p.add_argument("--session_requests", type=int, default=20, help="generations per visitor session (0 = one session per visitor slot)")
    p.add_argument("--max_growth_mb", type=float, default=50)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    if not 0 < args.warmup_minutes < args.minutes or args.visitors < 1 or args.trainings < 0 or args.session_requests < 0:
        p.error("need 0 < --warmup_minutes < --minutes, at least one visitor, and no negative trainings or session_requests")
    r = run(args)
    fmt = lambda v, spec=".0f": "n/a" if v is None else format(v, spec)
    print(f"soak: {args.visitors} visitors (varied prompts, 2-9.8 s, strength -1..2, {DEFAULT_STEPS} steps) + {args.trainings} in-app trainings "
          f"({TRAIN[5]} iterations) for {args.minutes:g} min; {os.cpu_count()} CPU cores")
    print(f"app RSS at {args.warmup_minutes:g} min: {fmt(r['rss_at_warmup_mb'])} MB, at the end: {fmt(r['rss_end_mb'])} MB, "
          f"growth after minute {args.warmup_minutes:g}: {fmt(r['growth_after_warmup_mb'], '+.0f')} MB (max after it {fmt(r['rss_max_after_warmup_mb'])} MB)")
    print(f"RSS per minute (median, MB): {' '.join(str(m) for m in r['rss_per_minute_mb'])}")
    print(f"requests: {r['requests']} from {r['sessions']} sessions, errors: {r['errors']}, p50 {fmt(r['p50_s'], '.2f')} s, p95 {fmt(r['p95_s'], '.2f')} s; {'; '.join(r['trainings']) or 'no trainings'}")
    for e in r["error_samples"]:
        print(f"  error: {e}")
    print(f"{'PASS' if r['passed'] else 'FAIL'}: growth <= {args.max_growth_mb:g} MB after minute {args.warmup_minutes:g} and 0 errors")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    return 0 if r["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
