"""Generate motions from text.

    python -m motion_lora.generate --prompt "a person kicks with the right leg" --seed 0 --out kick.npy
    python -m motion_lora.generate --prompts_file prompts.txt --num_seeds 4 --out motions.npz

`.npz` output: joints (P, K, T, 22, 3) for P prompts and seeds S..S+K-1, plus `prompts` and `seeds`.
`.npy` output (one prompt, one seed): joints (T, 22, 3). The model is loaded once for all prompts.

With --adapter NAME[,NAME...] (concept names such as `kick`, or adapter folder names) the motions are steered
by the adapters (--weights per adapter, --scale overall, --start_step to keep them off for the noisiest
steps); --both also stores `base_joints`, the unsteered motions from the same noise.

At the default setting (UniPC 12 steps, guidance 2.5) the base's few-step student samples when it is shipped
(`<ckpt>_student`, in 2 steps); --student none, another --scheduler/--steps/--guidance, or a --start_step runs
the full sampler.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..model.checkpoints import AUTO_STUDENT, DEFAULT_BASE, resolve_base, resolve_student
from ..model.generator import DEFAULT_GUIDANCE, MotionGenerator, SampleOptions, check_prompts
from ..model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS, SCHEDULERS

BATCH = 16  # (prompt, seed) pairs per sampling batch


def read_prompts(args) -> list[str]:
    prompts = list(args.prompt or [])
    if args.prompts_file:
        path = Path(args.prompts_file)
        if not path.is_file():
            raise ValueError(f"prompts file not found: {path}")
        prompts += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not prompts:
        raise ValueError("give --prompt TEXT or --prompts_file FILE")
    return prompts


def generate_grid(generator: MotionGenerator, prompts: list[str], seeds: list[int], options: SampleOptions, **kwargs) -> np.ndarray:
    """Joints (P, K, T, 22, 3): every prompt with every seed, sampled in batches."""
    pairs = [(p, s) for p in prompts for s in seeds]
    chunks = [generator.generate([p for p, _ in pairs[i : i + BATCH]], [s for _, s in pairs[i : i + BATCH]], options, **kwargs) for i in range(0, len(pairs), BATCH)]
    joints = np.concatenate(chunks)
    return joints.reshape((len(prompts), len(seeds)) + joints.shape[1:])


def steered_grid(args, prompts: list[str], seeds: list[int], options: SampleOptions) -> tuple[np.ndarray, np.ndarray]:
    """Steered and base joints (P, K, T, 22, 3), each pair from one mixed batch with the same noise."""
    from .service import MotionLab

    names = [n.strip() for n in args.adapter.split(",") if n.strip()]
    weights = [float(w) for w in args.weights.split(",")] if args.weights else None
    lab = MotionLab(base=args.ckpt, device=args.device, evaluator=None, student=args.student)
    mix = lab.adapter_weights(names, weights)
    steered, base = [], []
    for p in prompts:
        for s in seeds:
            pair = lab.generator.to_joints(lab.sample_pair(p, s, options, mix, args.scale, args.start_step))
            base.append(pair[0])
            steered.append(pair[1])
    shape = (len(prompts), len(seeds)) + steered[0].shape
    return np.stack(steered).reshape(shape), np.stack(base).reshape(shape)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m motion_lora.generate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--prompt", nargs="+", help="one or more prompts")
    p.add_argument("--prompts_file", help="a text file with one prompt per line")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num_seeds", type=int, default=1)
    p.add_argument("--frames", type=int, default=120, help="length in frames at 20 fps (20..196, rounded to a multiple of 4)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--scheduler", default=DEFAULT_SCHEDULER, choices=list(SCHEDULERS), help="the sampler: ddim, dpmsolver++ (multistep), unipc or euler")
    p.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE)
    p.add_argument("--no_plant_feet", action="store_true", help="keep the raw model output: no root correction for the feet the model calls planted")
    p.add_argument("--ckpt", default=DEFAULT_BASE, help="base checkpoint name or folder")
    p.add_argument("--student", default=AUTO_STUDENT,
                   help="few-step student for the default setting: auto (<ckpt>_student when shipped), none, or a checkpoint")
    p.add_argument("--adapter", default=None, help="NAME[,NAME...]: concept names (kick) or adapter folder names")
    p.add_argument("--weights", default=None, help="w1,w2,...: one weight per adapter (default 1 each)")
    p.add_argument("--scale", type=float, default=1.0, help="adapter strength: 0 = base, 1 = trained, <0 amplifies")
    p.add_argument("--start_step", type=int, default=0, help="keep adapters off for this many of the noisiest steps")
    p.add_argument("--both", action="store_true", help="also write base_joints from the same noise")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=True, help="out.npz, or out.npy for one prompt and one seed")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        prompts = read_prompts(args)
        out = Path(args.out)
        if out.suffix not in (".npz", ".npy"):
            raise ValueError(f"--out must end in .npz or .npy, got {out.name}")
        if args.num_seeds < 1:
            raise ValueError(f"--num_seeds must be at least 1, got {args.num_seeds}")
        if out.suffix == ".npy" and (len(prompts) > 1 or args.num_seeds > 1):
            raise ValueError("a .npy output holds one motion: use one prompt and one seed, or write .npz")
        prompts = check_prompts(prompts)  # before loading anything, so bad input fails fast
        options = SampleOptions(frames=args.frames, steps=args.steps, guidance=args.guidance, scheduler=args.scheduler,
                                plant_feet=not args.no_plant_feet).validated()
        seeds = list(range(args.seed, args.seed + args.num_seeds))
        base_joints = None
        if args.adapter:
            joints, base_joints = steered_grid(args, prompts, seeds, options)
        elif args.both:
            raise ValueError("--both needs --adapter: it stores the base beside the steered motion")
        else:
            generator = MotionGenerator(resolve_base(args.ckpt), device=args.device, student=resolve_student(args.ckpt, args.student))
            joints = generate_grid(generator, prompts, seeds, options)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, joints[0, 0])
    else:
        extra = {"base_joints": base_joints} if args.both else {}
        np.savez(out, joints=joints, prompts=np.array(prompts), seeds=np.array(seeds), **extra)
    print(f"wrote {out}: joints {joints.shape if out.suffix == '.npz' else joints[0, 0].shape}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
