"""Memory trace: where the served model's memory goes under load, in-process (no web server).

    python -m benchmarks.performance.memory_trace [--requests 240] [--every 20] [--visitors 3] [--train_at 0 120] [--tracemalloc]

Drives a MotionLab on the shipped checkpoints the way the app's visitors do: side-by-side generations from a
few threads with distinct prompts (so prompt-keyed caches fill), varied lengths, strengths and seeds, and
in-app trainings (iterate_training, the Unlearn tab's defaults but --train_iterations) in a background thread, each
once --train_at requests were served (after the caches filled, what a training leaves shows apart). Every --every
requests it
prints the process RSS next to what could explain it: the motion cache's and the text encoder cache's own
counters, the adapters the PEFT model carries, live MotionDenoiser copies and torch tensors, and glibc's
heap (bytes in use vs free bytes kept by malloc: RSS that grows while "in use" stays flat is allocator
retention, not a leak). --tracemalloc adds the top Python allocation growth since the previous report.
--arenas 0 --release_s 0 turns off what motion_lora.serving.memory does against allocator retention (to see the
curve without it); --trim reports how much RSS one malloc_trim would give back at each report.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import sys
import tempfile
import threading
import time
import tracemalloc
import warnings
from pathlib import Path

import psutil
import torch

ACTIONS = ["kicks high", "walks slowly in a circle", "jumps twice", "punches to the left", "waves hello", "spins around",
           "steps back and kicks", "runs forward", "crouches and stands up", "swings both arms"]
WHO = ["a person", "a tired man", "someone", "a dancer", "a child", "an old woman", "a fighter"]
LENGTHS = [2.0, 3.4, 5.0, 6.6, 8.2, 9.8]
STRENGTHS = [-0.5, 0.3, 0.8, 1.0, 1.4, 2.0]


class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap_mb() -> tuple[float, float] | None:
    """(in use, free but kept) MB of glibc's heap (mmapped chunks counted as in use); None off glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = Mallinfo2
    except (OSError, AttributeError):
        return None
    m = libc.mallinfo2()
    return (m.uordblks + m.hblkhd) / 2**20, m.fordblks / 2**20


def rss_parts() -> dict:
    """Linux: resident anonymous memory (heaps, tensors) and file-backed pages (code of the libraries in use), MB."""
    try:
        status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
        return {"anon_mb": round(int(status["RssAnon"].split()[0]) / 1024), "file_mb": round(int(status["RssFile"].split()[0]) / 1024)}
    except (OSError, KeyError, ValueError):
        return {}


def request(k: int) -> dict:
    """Visitor request number k: a distinct prompt (k-th combination, numbered past the combinations), a length,
    a strength and a seed that vary independently."""
    prompt = f"{WHO[k % len(WHO)]} {ACTIONS[(k // len(WHO)) % len(ACTIONS)]}"
    if k >= len(WHO) * len(ACTIONS):
        prompt += f" {k} times"
    return {"prompt": prompt, "frames": int(20 * LENGTHS[k % len(LENGTHS)]) // 4 * 4, "scale": STRENGTHS[(k // 2) % len(STRENGTHS)], "seed": k % 50}


def counters(lab) -> dict:
    """What could hold memory, each by its own count."""
    from peft.tuners.lora import LoraLayer

    from motion_lora.model.denoiser import MotionDenoiser

    peft = lab.adapters.peft
    motions, cache_bytes = lab.cache_usage()
    with warnings.catch_warnings():  # isinstance() on every object touches torch's deprecated lazy attributes
        warnings.simplefilter("ignore")
        objects = gc.get_objects()
        denoisers, tensors = sum(isinstance(o, MotionDenoiser) for o in objects), sum(isinstance(o, torch.Tensor) for o in objects)
    return {
        "cache_motions": motions, "cache_mb": round(cache_bytes / 2**20, 1),
        "text_cache": len(lab.generator.text_encoder._cache),
        "adapters": len(lab.adapters.specs), "peft_configs": len(peft.peft_config) if peft else 0,
        "lora_a": sum(len(m.lora_A) for m in peft.modules() if isinstance(m, LoraLayer)) if peft else 0,
        "denoisers": denoisers, "tensors": tensors,
        "threads": threading.active_count(),
    }


def report(proc: psutil.Process, lab, done: int, started: float, snapshot, top: int, trim: bool = False) -> tuple[dict, object]:
    row = {"requests": done, "s": round(time.time() - started), "rss_mb": round(proc.memory_info().rss / 2**20), **rss_parts(), **counters(lab)}
    heap = heap_mb()
    if heap:
        row["heap_used_mb"], row["heap_free_mb"] = round(heap[0]), round(heap[1])
    if trim:  # how much of the RSS was free memory malloc kept
        t0 = time.perf_counter()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        row["trim_ms"] = round(1000 * (time.perf_counter() - t0), 1)
        row["rss_after_trim_mb"] = round(proc.memory_info().rss / 2**20)
    print(json.dumps(row), flush=True)
    if snapshot is None:
        return row, None
    now = tracemalloc.take_snapshot()
    for stat in now.compare_to(snapshot, "lineno")[:top]:
        print(f"    {stat.size_diff / 2**10:+9.0f} KiB {stat.count_diff:+6d} blocks  {stat.traceback}", flush=True)
    return row, now


def train(lab, starts: list[int], iterations: int, done: list[int], log: list) -> None:
    """In-app trainings, one after the other, the way the Unlearn tab runs them (iterate_training, its default
    settings but `iterations`); training i waits until `starts[i]` requests were served (after the caches filled,
    what a training leaves behind shows apart from them)."""
    from motion_lora.serving.service import iterate_training
    from motion_lora.unlearning.unlearn import UnlearnConfig

    for i, start in enumerate(starts):
        while done[0] < start:
            time.sleep(0.2)
        t0 = time.time()
        print(f"  -- training {i + 1} starts after {done[0]} requests", flush=True)
        info = list(iterate_training(lab, UnlearnConfig(concept=["spin", "wave"][i % 2], iterations=iterations), threading.Event()))[-1]
        log.append(f"training {i + 1}: {info.short if info else 'stopped'} in {time.time() - t0:.0f} s")
        print(f"  -- {log[-1]}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=240)
    p.add_argument("--every", type=int, default=20)
    p.add_argument("--visitors", type=int, default=3, help="threads generating at once (their requests merge into batches)")
    p.add_argument("--train_at", type=int, nargs="*", default=[0, 120], help="start a training after this many requests (one after the other)")
    p.add_argument("--train_iterations", type=int, default=20)
    p.add_argument("--steps", type=int, default=6, help="sampling steps per generation (fewer = more requests per minute)")
    p.add_argument("--tracemalloc", action="store_true")
    p.add_argument("--top", type=int, default=8)
    p.add_argument("--trim", action="store_true", help="malloc_trim(0) at every report, RSS after it reported too")
    p.add_argument("--arenas", type=int, default=2, help="memory.limit_arenas(n) as the app does; 0 = glibc's default (8 per core)")
    p.add_argument("--release_s", type=float, default=None, help="MotionLab's malloc_trim interval; 0 = never (default: the lab's)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()

    from motion_lora.serving import memory
    from motion_lora.serving.service import MotionLab

    if args.arenas:
        memory.limit_arenas(args.arenas)
    proc = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        lab = MotionLab(user_dir=tmp, **({} if args.release_s is None else {"release_s": args.release_s}))
        lab.warm_up()
        print(f"ready: {lab.base_name}, RSS {proc.memory_info().rss / 2**20:.0f} MB", flush=True)
        if args.tracemalloc:
            tracemalloc.start(8)
        snapshot = tracemalloc.take_snapshot() if args.tracemalloc else None
        started, rows, log = time.time(), [], []
        counter, lock = iter(range(args.requests)), threading.Lock()
        done = [0]
        starts = [n for n in args.train_at if n < args.requests]  # a later one would wait forever
        trainer = threading.Thread(target=train, args=(lab, starts, args.train_iterations, done, log), daemon=True)
        trainer.start()

        def visitor():
            nonlocal snapshot
            while True:
                with lock:
                    k = next(counter, None)
                if k is None:
                    return
                r = request(k)
                lab.compare(r["prompt"], ["kick"], scale=r["scale"], seed=r["seed"], frames=r["frames"], steps=args.steps)
                with lock:
                    done[0] += 1
                    if done[0] % args.every == 0:
                        row, snapshot = report(proc, lab, done[0], started, snapshot, args.top, args.trim)
                        rows.append(row)

        threads = [threading.Thread(target=visitor) for _ in range(args.visitors)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        trainer.join()
        gc.collect()
        row, _ = report(proc, lab, done[0], started, None, 0)
        rows.append({**row, "final": True})
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "trainings": log}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
