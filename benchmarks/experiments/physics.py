"""Physical sanity of a base checkpoint, like for like, and where its jitter sits inside the 4-frame patches.

    python -m benchmarks.experiments.physics --ckpt motionbank_base [--ckpt runs/base_r2 ...]

Per checkpoint: foot skating, jitter and floor penetration of the motions generated for the mocap test clips'
own captions (UniPC 12), beside those clips (the ratios are the issue's bars), as the model gives them (raw) and
after the generator's default foot planting (`foot_contact.plant_feet`); the mean joint acceleration of the raw
output by a frame's place in its patch (seam frames vs inside); and how many of 16 generations of four jump prompts the
evaluator calls a jump (a short fine-tune can unlearn jumping while the averages barely move).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from motion_lora.data.clip import CONCEPT_INDEX
from motion_lora.data.dataset import read_label
from motion_lora.evaluation import physics
from motion_lora.evaluation.eval_base import concept_probs, generate, test_prompts
from motion_lora.evaluation.protocol import Judge
from motion_lora.model.checkpoints import resolve_base, resolve_evaluator
from motion_lora.model.foot_contact import plant_clip
from motion_lora.model.generator import MotionGenerator, SampleOptions
from motion_lora.motion.features import recover_joints
from motion_lora.motion.skeleton import FPS

JUMP_PROMPTS = ("a person jumps up and down", "someone hops forward twice", "a man jumps as high as he can", "the person leaps over an obstacle")


def acceleration_by_patch_phase(clips: list[np.ndarray], patch: int = 4) -> np.ndarray:
    """Mean joint acceleration (m/s^2) of frames at each place 0..patch-1 inside their patch."""
    total, count = np.zeros(patch), np.zeros(patch)
    for joints in clips:
        acc = np.linalg.norm((joints[2:] - 2 * joints[1:-1] + joints[:-2]) * FPS**2, axis=-1).mean(-1)  # centred on frame t+1
        np.add.at(total, (np.arange(len(acc)) + 1) % patch, acc)
        np.add.at(count, (np.arange(len(acc)) + 1) % patch, 1)
    return total / np.maximum(count, 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", action="append", required=True, help="a base name under checkpoints/t2m or a folder; repeatable")
    p.add_argument("--data", type=Path, default=Path("data/motionbank"))
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--scheduler", default="unipc")
    args = p.parse_args(argv)
    mocap = {i for i in (args.data / "test.txt").read_text().split() if (read_label(args.data, i) or {}).get("real")}
    items = [it for it in test_prompts(args.data) if it["id"] in mocap and it["kind"] != "composite"]
    real = physics.sanity([np.load(args.data / "new_joints" / f"{i}.npy") for i in sorted(mocap)])
    print(f"{len(items)} prompts of {len(mocap)} mocap test clips; real: " + ", ".join(f"{k} {v:.3f}" for k, v in real.items()))
    print("| checkpoint | skating raw → planted | jitter (m/s²) raw → planted | penetration (cm) | acceleration by patch place | jumps of 16 |")
    print("|---|---|---|---|---|---|")
    for ckpt in args.ckpt:
        gen = MotionGenerator(resolve_base(ckpt))
        raw = generate(gen, items, seed=0, steps=args.steps, scheduler=args.scheduler, plant_feet=False)
        joints = [recover_joints(f) for f in raw]
        g, planted = physics.sanity(joints), physics.sanity([recover_joints(plant_clip(f)) for f in raw])
        phases = acceleration_by_patch_phase(joints, gen.model.cfg.patch)
        prompts = [q for q in JUMP_PROMPTS for _ in range(4)]
        feats = gen.sample(prompts, list(range(len(prompts))), SampleOptions(frames=80, steps=args.steps, scheduler=args.scheduler)).cpu().numpy()
        probs = concept_probs(Judge(resolve_evaluator("evaluator"), gen.text_encoder), list(feats * gen.std + gen.mean))
        jumps = int((probs.argmax(1) == CONCEPT_INDEX["jump"]).sum())
        ratio = lambda s, k: f"{s[k]:.3f} ({s[k] / real[k]:.2f}×)" if real[k] else f"{s[k]:.2f}"  # noqa: E731
        both = lambda k: f"{ratio(g, k)} → {ratio(planted, k)}"  # noqa: E731
        print(f"| {ckpt} | {both('foot_skating_ratio')} | {both('jitter_m_s2')} | {g['floor_penetration_cm']:.2f} | "
              f"{' · '.join(f'{a:.1f}' for a in phases)} | {jumps} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
