"""`python -m motion_lora.data build --out data/motionbank --seed 0 [--quick]`"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from .builder import QUICK, BuildConfig, build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m motion_lora.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build MotionBank in the HumanML3D layout")
    b.add_argument("--out", default="data/motionbank", help="output folder (replaced if it exists)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--quick", action="store_true", help="a small build for tests (a few hundred clips)")
    b.add_argument("--bandai", default=None, metavar="PATH",
                   help="the Bandai Namco Research Motion dataset (unpacked folder or its .tar.xz; CC BY-NC 4.0)")
    args = parser.parse_args(argv)
    config = dataclasses.replace(QUICK if args.quick else BuildConfig(), seed=args.seed, bandai=args.bandai)
    try:
        build(args.out, config)
    except (RuntimeError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
