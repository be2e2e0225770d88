"""LoRA-ESD vs full fine-tuning ESD, and plain ESD vs ESD + preservation, on the shipped base model.

    python -m benchmarks.performance.unlearn [--concept kick] [--iterations 300]
    python -m benchmarks.performance.unlearn --rollouts_only     # just the earlier 20-step DDIM rollouts vs the default ones

Each variant trains in its own process (same base, iterations, seed), then a quick forget/retain evaluation
runs on the result. Prints one table: seconds per iteration, peak extra memory while training, trainable
share, optimizer-state bytes, forget presence and retain accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import torch

from motion_lora.evaluation.protocol import forget_set, present, retain_set
from motion_lora.model.denoiser import MotionDenoiser
from motion_lora.model.generator import SampleOptions
from motion_lora.serving.service import MotionLab
from motion_lora.unlearning.adapters import AdapterSet, LoraSpec
from motion_lora.unlearning.our_denoiser import denoiser_target
from motion_lora.unlearning.unlearn import UnlearnConfig, Unlearner

# plain ESD for the LoRA / full comparison; preservation (lambda 1, nearest retain prompts) is the default's. No
# adversarial tokens in any variant, so each pair differs in the one thing it compares.
VARIANTS = {
    "lora": dict(method="lora", preserve_weight=0.0, adversarial_tokens=0),
    "full": dict(method="full", preserve_weight=0.0, adversarial_tokens=0),
    "lora+preserve": dict(method="lora", preserve_weight=1.0, adversarial_tokens=0),
}


class PeakRSS:
    """Peak resident memory above the level at start, sampled every 5 ms in a thread."""

    def __enter__(self):
        self.proc, self.start, self.peak, self.done = psutil.Process(), psutil.Process().memory_info().rss, 0, False
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _poll(self):
        while not self.done:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.done = True
        self.thread.join()
        self.extra_mb = max(self.peak - self.start, 0) / 2**20


def quick_eval(lab: MotionLab, model, concept: str) -> dict:
    """Forget presence and retain accuracy of `model` on small prompt sets (one repeat)."""
    out = {}
    for set_name, prompts in (("forget", forget_set(concept, per_kind=8)), ("retain", retain_set(concept, per_concept=2))):
        opts = SampleOptions(frames=120).validated()
        feats = []
        for i in range(0, len(prompts), 16):
            chunk = prompts[i : i + 16]
            feats.append(lab.generator.sample([p.text for p in chunk], list(range(i, i + len(chunk))), opts, denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L)))
        u = lab._unnormalise(torch.cat(feats))
        _, probs = lab.judge.score(u, np.full(len(u), u.shape[1]))
        out[set_name] = float(present(probs, prompts).mean())
    return out


def bare_model(lab: MotionLab) -> AdapterSet:
    """The base denoiser without the shipped adapters the lab loaded (a full fine-tune must not copy them)."""
    return AdapterSet(MotionDenoiser.load(lab.generator.checkpoint))


def child(variant: str, concept: str, iterations: int) -> dict:
    lab = MotionLab()
    adapters = bare_model(lab)
    base_model = adapters.base
    before = quick_eval(lab, base_model, concept)
    cfg = UnlearnConfig(concept=concept, iterations=iterations, lora=LoraSpec(), **VARIANTS[variant])
    u = Unlearner(denoiser_target(adapters.base, lab.generator.text_encoder, autoencoder=lab.generator.autoencoder), adapters, cfg, f"bench_{variant.replace('+', '_')}")
    with PeakRSS() as mem:
        start = time.perf_counter()
        u.run()
        seconds = time.perf_counter() - start
    trainable = sum(p.numel() for p in u.params)
    total = sum(p.numel() for n, p in base_model.named_parameters() if "lora_" not in n)
    opt_bytes = sum(t.numel() * t.element_size() for s in u.optimizer.state.values() for t in s.values() if torch.is_tensor(t))
    if cfg.method == "lora":
        with adapters.using({u.name: 1.0}, 1.0) as m:
            after = quick_eval(lab, m, concept)
    else:
        after = quick_eval(lab, u.student, concept)
    return {
        "variant": variant, "seconds_per_iteration": seconds / iterations, "extra_memory_mb": mem.extra_mb,
        "trainable": trainable, "total": total, "optimizer_bytes": opt_bytes,
        "forget_presence_base": before["forget"], "forget_presence": after["forget"],
        "retain_accuracy_base": before["retain"], "retain_accuracy": after["retain"],
    }


def time_to_bar(concept: str, iterations: int, every: int = 25, bar: float = 0.05) -> dict:
    """The train CLI's default LoRA run, pausing every `every` iterations to measure forget presence;
    the training seconds (evaluation excluded) until presence first reaches <= bar."""
    from motion_lora.unlearning.train import build_parser, config_from_args

    lab = MotionLab()
    adapters = bare_model(lab)
    cfg = config_from_args(build_parser().parse_args(["--target_concept", concept, "--iterations", str(iterations)]))
    u = Unlearner(denoiser_target(adapters.base, lab.generator.text_encoder, autoencoder=lab.generator.autoencoder), adapters, cfg, "bench_to_bar")
    curve, train_s = [(0, 0.0, quick_eval(lab, adapters.base, concept)["forget"])], 0.0
    t0 = time.perf_counter()
    for event in u:
        if event.step % every and event.step != cfg.iterations:
            continue
        train_s += time.perf_counter() - t0
        with adapters.using({u.name: 1.0}, 1.0) as model:
            curve.append((event.step, train_s, quick_eval(lab, model, concept)["forget"]))
        adapters.trainable(u.name)  # evaluation froze the adapter; training goes on
        t0 = time.perf_counter()
    reached = next(((step, sec) for step, sec, presence in curve if presence <= bar), (None, None))
    return {"concept": concept, "bar": bar, "curve": curve, "iterations_to_bar": reached[0], "seconds_to_bar": reached[1]}


def rollout_child(concept: str, scheduler: str, steps: int) -> dict:
    """The train CLI's default run with the teacher rollouts on (scheduler, steps): wall and CPU seconds of the
    whole loop and of its rollouts, then forget/retain of the result (judged with the default sampler)."""
    import dataclasses

    from motion_lora.unlearning.train import build_parser, config_from_args

    lab = MotionLab()
    adapters = bare_model(lab)
    cfg = dataclasses.replace(config_from_args(build_parser().parse_args(["--target_concept", concept])), scheduler=scheduler, rollout_steps=steps).validated()
    u = Unlearner(denoiser_target(adapters.base, lab.generator.text_encoder, autoencoder=lab.generator.autoencoder), adapters, cfg, "bench_rollout")
    spent = {"wall": 0.0, "cpu": 0.0}
    rollout = u.rollout

    def timed(prompts):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return rollout(prompts)
        finally:
            spent["wall"] += time.perf_counter() - t0
            spent["cpu"] += time.process_time() - c0

    u.rollout = timed
    t0, c0 = time.perf_counter(), time.process_time()
    u.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    with adapters.using({u.name: 1.0}, 1.0) as m:
        after = quick_eval(lab, m, concept)
    return {"scheduler": scheduler, "steps": steps, "iterations": cfg.iterations, "seconds": wall, "cpu_seconds": cpu,
            "rollout_seconds": spent["wall"], "rollout_cpu_seconds": spent["cpu"], "forget_presence": after["forget"], "retain_accuracy": after["retain"]}


def rollouts(concept: str, candidates: list[str] | None = None) -> dict:
    """The earlier rollouts (20 DDIM steps) beside the default ones (UnlearnConfig's scheduler and rollout steps;
    or `candidates`, "SCHEDULER:STEPS"), each run in its own process."""
    d = UnlearnConfig()
    settings = [("ddim", 20)] + [(c.split(":")[0], int(c.split(":")[1])) for c in (candidates or [f"{d.scheduler}:{d.rollout_steps}"])]
    rows = []
    for scheduler, steps in settings:
        out = subprocess.run([sys.executable, __file__, "--child", "rollouts", "--concept", concept, "--rollout", f"{scheduler}:{steps}"], capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if out.returncode:
            raise RuntimeError(out.stderr[-2000:])
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"\ndefault unlearning run ('{concept}', {rows[0]['iterations']} iterations), teacher rollouts, the earlier 20 DDIM steps vs the default; {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")
    print("| rollouts | loop wall s | loop CPU s | rollouts wall s | rollouts CPU s | forget presence | retain accuracy |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scheduler']} {r['steps']} steps | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['rollout_seconds']:.1f} | {r['rollout_cpu_seconds']:.1f} | {r['forget_presence']:.2f} | {r['retain_accuracy']:.2f} |")
    today = rows[0]
    for new in rows[1:]:
        saved = today["rollout_cpu_seconds"] - new["rollout_cpu_seconds"]
        print(f"rollout savings with {new['scheduler']} {new['steps']} steps: {saved:.1f} CPU s of {today['cpu_seconds']:.1f} ({saved / today['cpu_seconds']:.0%} of the loop); loop CPU time {today['cpu_seconds'] / new['cpu_seconds']:.2f}x faster")
    return {"rows": rows}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concept", default="kick")
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--bar_iterations", type=int, default=400, help="longest run when timing the kick bar")
    p.add_argument("--child", choices=[*VARIANTS, "to_bar", "rollouts"])
    p.add_argument("--rollout", default="ddim:20", help="SCHEDULER:STEPS of the rollouts child")
    p.add_argument("--rollouts_only", action="store_true", help="only compare the earlier 20-step DDIM rollouts with the default ones")
    p.add_argument("--rollout_candidates", nargs="*", default=None, help="SCHEDULER:STEPS settings to compare with the earlier ones (default: UnlearnConfig's)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args()
    if args.child == "to_bar":
        print(json.dumps(time_to_bar(args.concept, args.iterations)))
        return 0
    if args.child == "rollouts":
        scheduler, steps = args.rollout.split(":")
        print(json.dumps(rollout_child(args.concept, scheduler, int(steps))))
        return 0
    if args.child:
        print(json.dumps(child(args.child, args.concept, args.iterations)))
        return 0
    if args.rollouts_only:
        result = rollouts(args.concept, args.rollout_candidates)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        return 0
    results = {}
    for variant in [*VARIANTS, "to_bar"]:
        iterations = args.bar_iterations if variant == "to_bar" else args.iterations
        out = subprocess.run([sys.executable, __file__, "--child", variant, "--concept", args.concept, "--iterations", str(iterations)], capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if out.returncode:
            print(out.stderr[-2000:], file=sys.stderr)
            return 1
        results[variant] = json.loads(out.stdout.strip().splitlines()[-1])
    bar = results.pop("to_bar")
    rows = list(results.values())
    by = results
    print(f"ESD on '{args.concept}', {args.iterations} iterations, seed 0, {os.cpu_count()} CPU cores, torch {torch.__version__}")
    print("| variant | s / iteration | peak extra memory (MB) | trainable share | optimizer state | forget presence (base -> after) | retain accuracy (base -> after) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['variant']} | {r['seconds_per_iteration']:.3f} | {r['extra_memory_mb']:.0f} | {r['trainable'] / r['total']:.2%} ({r['trainable']:,}) | "
            f"{r['optimizer_bytes'] / 2**20:.1f} MiB | {r['forget_presence_base']:.2f} -> {r['forget_presence']:.2f} | {r['retain_accuracy_base']:.2f} -> {r['retain_accuracy']:.2f} |"
        )
    lo, fu = by["lora"], by["full"]
    print(f"\nfull / LoRA: time per iteration {fu['seconds_per_iteration'] / lo['seconds_per_iteration']:.2f}x, peak extra memory {fu['extra_memory_mb'] / max(lo['extra_memory_mb'], 1):.2f}x, optimizer state {fu['optimizer_bytes'] / lo['optimizer_bytes']:.1f}x")
    pr = by["lora+preserve"]
    print(f"collateral damage (retain accuracy drop): plain ESD {lo['retain_accuracy_base'] - lo['retain_accuracy']:+.3f}, ESD + preservation {pr['retain_accuracy_base'] - pr['retain_accuracy']:+.3f}")
    curve = ", ".join(f"{step}: {presence:.2f}" for step, _, presence in bar["curve"])
    print(f"\ndefault LoRA run, forget presence by iteration: {curve}")
    if bar["seconds_to_bar"] is None:
        print(f"presence did not reach <= {bar['bar']:.0%} within {args.bar_iterations} iterations")
    else:
        print(f"time to reach the bar (presence <= {bar['bar']:.0%}): {bar['seconds_to_bar']:.1f} s of training ({bar['iterations_to_bar']} iterations)")
    roll = rollouts(args.concept, args.rollout_candidates)
    if args.json:
        args.json.write_text(json.dumps({"variants": rows, "to_bar": bar, "rollouts": roll}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
