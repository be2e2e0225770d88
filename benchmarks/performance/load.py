"""Load: N concurrent gradio_client users generating against `python app.py` (shipped checkpoints) for a
while, with an in-app training running at the same time.

    python -m benchmarks.performance.load [--users 16] [--seconds 60] [--student none] [--json out.json]

For each user count: requests served, errors, p50/p95 latency, the app's resident memory after warm-up
and at the end (sampled every second), and whether the concurrent training finished and its adapter was
listed. Each user loops over default-setting generations with its own prompts and seeds, as the Generate button
does: each answer also carries the live slider's strength grid as far as the merged batch had room for it
(MOTION_LORA_GRID_ROWS), so the table also says how many strengths the answers held.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from motion_lora.model.sampler import DEFAULT_STEPS

REPO = Path(__file__).resolve().parents[2]

PROMPTS = ["a person kicks with the right leg", "a person walks forward", "someone jumps up in place", "a man punches forward twice",
           "a person waves with both hands", "a person walks, then kicks with the left leg"]
# concept, preset, rank, alpha, lr, iterations, eta, retain, preserve, extra, batch, seconds, rollout steps
TRAIN = ["spin", "attn", 16, 16.0, 2e-4, 60, 1.0, "", 1.0, "", 4, 6.0, 20]  # the Unlearn tab's defaults, 60 iterations


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, user_dir: Path, timeout: float = 120) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "HF_HUB_OFFLINE": "1", "MOTION_LORA_USER_DIR": str(user_dir)}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the app did not start")


def rss_mb(proc: psutil.Process) -> float:
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def run(users: int, seconds: float, start_timeout: float = 120) -> dict:
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory() as tmp:
        app = start_app(port, Path(tmp), start_timeout)
        proc = psutil.Process(app.pid)
        try:
            memory: list[tuple[float, float]] = []
            latencies: list[float] = []
            grids: list[int] = []  # strengths in each answer's grid
            errors: list[str] = []
            started = time.time()
            stop_at = started + seconds
            sampling = threading.Event()

            def sample_memory():
                while not sampling.is_set():
                    memory.append((time.time() - started, rss_mb(proc)))
                    time.sleep(1.0)

            def user(k: int):
                client = Client(url, verbose=False, download_files=False)
                n = 0
                while time.time() < stop_at:
                    t0 = time.perf_counter()
                    try:
                        out = client.predict(PROMPTS[(k + n) % len(PROMPTS)], ["kick"], 1.0, 1000 * k + n, 5.0, DEFAULT_STEPS, 2.5, 0, "", api_name="/generate")
                        latencies.append(time.perf_counter() - t0)
                        grids.append(len(out[4].get("grid", [])))
                    except Exception as err:  # noqa: BLE001 - counted and reported
                        errors.append(repr(err)[:200])
                    n += 1

            threading.Thread(target=sample_memory, daemon=True).start()
            trainer = Client(url, verbose=False, download_files=False)
            job = trainer.submit(*TRAIN, api_name="/train")
            threads = [threading.Thread(target=user, args=(k,)) for k in range(users)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            training = "not finished"
            try:
                final = job.result(timeout=600)
                training = final[-1]["status"] if isinstance(final, (list, tuple)) else str(final)
            except Exception as err:  # noqa: BLE001
                training = f"failed: {err!r}"[:200]
            listed = [a["concept"] for a in trainer.predict(api_name="/list_adapters")]
            sampling.set()
        finally:
            app.terminate()
            app.wait(timeout=30)
    warm = [m for t, m in memory if t >= min(30.0, seconds / 4)]
    return {
        "users": users, "seconds": seconds, "requests": len(latencies), "errors": len(errors), "error_samples": errors[:5],
        "p50_s": float(np.percentile(latencies, 50)) if latencies else None, "p95_s": float(np.percentile(latencies, 95)) if latencies else None,
        "grid_sizes": {str(n): grids.count(n) for n in sorted(set(grids))},  # strengths per answer -> answers
        "rss_after_warmup_mb": warm[0] if warm else None, "rss_end_mb": memory[-1][1] if memory else None, "rss_max_mb": max(m for _, m in memory) if memory else None,
        "training": training, "trained_adapter_listed": "spin" in listed,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, nargs="+", default=[16])
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--grid_rows", type=int, default=None, help="MOTION_LORA_GRID_ROWS for the app (0: no strength grids, the baseline)")
    p.add_argument("--student", default=None, help="MOTION_LORA_STUDENT for the app (none: the full sampler at the defaults, the baseline)")
    p.add_argument("--start_timeout", type=float, default=120, help="seconds the app may take to start (a busy machine)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    if args.grid_rows is not None:
        os.environ["MOTION_LORA_GRID_ROWS"] = str(args.grid_rows)  # start_app passes the environment on
    if args.student is not None:
        os.environ["MOTION_LORA_STUDENT"] = args.student
    rows = [run(n, args.seconds, args.start_timeout) for n in args.users]
    grid_rows = os.environ.get("MOTION_LORA_GRID_ROWS") or "default"
    student = os.environ.get("MOTION_LORA_STUDENT") or "auto (the shipped few-step student serves the defaults)"
    print(f"load: default generations (5 s, {DEFAULT_STEPS} steps, kick adapter) for {args.seconds:.0f} s while an in-app training ({TRAIN[5]} iterations) runs; "
          f"MOTION_LORA_GRID_ROWS {grid_rows}; MOTION_LORA_STUDENT {student}; {os.cpu_count()} CPU cores")
    print("| users | requests | errors | p50 (s) | p95 (s) | grid strengths per answer: answers | app RSS after warm-up -> end (max), MB | training |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        grid = ", ".join(f"{n}: {c}" for n, c in r["grid_sizes"].items())
        print(f"| {r['users']} | {r['requests']} | {r['errors']} | {r['p50_s']:.2f} | {r['p95_s']:.2f} | {grid} | {r['rss_after_warmup_mb']:.0f} -> {r['rss_end_mb']:.0f} ({r['rss_max_mb']:.0f}) | "
              f"{r['training']}{', adapter listed' if r['trained_adapter_listed'] else ', NOT listed'} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
