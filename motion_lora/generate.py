"""Generate motions from text.

    python -m motion_lora.generate --prompt "a person kicks with the right leg" --seed 0 --out kick.npy
    python -m motion_lora.generate --prompts_file prompts.txt --num_seeds 4 --out motions.npz

`.npz` output: joints (P, K, T, 22, 3) for P prompts and seeds S..S+K-1, plus `prompts` and `seeds`.
`.npy` output (one prompt, one seed): joints (T, 22, 3). The model is loaded once for all prompts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .checkpoints import DEFAULT_BASE, resolve_base
from .generator import DEFAULT_GUIDANCE, MotionGenerator, SampleOptions, check_prompts
from .sampler import DEFAULT_STEPS

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m motion_lora.generate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--prompt", nargs="+", help="one or more prompts")
    p.add_argument("--prompts_file", help="a text file with one prompt per line")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num_seeds", type=int, default=1)
    p.add_argument("--frames", type=int, default=120, help="length in frames at 20 fps (20..196, rounded to a multiple of 4)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE)
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster on CPUs with AMX)")
    p.add_argument("--ckpt", default=DEFAULT_BASE, help="base checkpoint name or folder")
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
        options = SampleOptions(frames=args.frames, steps=args.steps, guidance=args.guidance, bf16=args.bf16).validated()
        generator = MotionGenerator(resolve_base(args.ckpt), device=args.device)
        seeds = list(range(args.seed, args.seed + args.num_seeds))
        joints = generate_grid(generator, prompts, seeds, options)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, joints[0, 0])
    else:
        np.savez(out, joints=joints, prompts=np.array(prompts), seeds=np.array(seeds))
    print(f"wrote {out}: joints {joints.shape if out.suffix == '.npz' else joints[0, 0].shape}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
