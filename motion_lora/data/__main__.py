"""`python -m motion_lora.data build --out data/motionbank --seed 0 [--quick]`
`python -m motion_lora.data import-bvh FILES_OR_DIR... --out DIR [--fps-in N] [--scale S] [--caption TEXT]`"""

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
    add_import_bvh_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "import-bvh":
        return run_import_bvh(args)
    config = dataclasses.replace(QUICK if args.quick else BuildConfig(), seed=args.seed, bandai=args.bandai)
    try:
        build(args.out, config)
    except (RuntimeError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def add_import_bvh_parser(sub) -> None:
    i = sub.add_parser("import-bvh", help="turn BVH motion capture into the HumanML3D layout")
    i.add_argument("inputs", nargs="+", metavar="FILES_OR_DIR", help="BVH files, or folders searched for *.bvh")
    i.add_argument("--out", required=True, help="output folder (new, or empty)")
    i.add_argument("--fps-in", type=float, default=None, help="source frame rate (default: the file's Frame Time)")
    i.add_argument("--scale", type=float, default=None, help="file units -> metres (default: detect m, cm or mm)")
    i.add_argument("--up", default=None, choices=("+y", "-y", "+z", "-z", "+x", "-x"), help="the file's up axis (default: detect)")
    i.add_argument("--caption", default=None, help="caption of every clip (default: the file name's words)")


def run_import_bvh(args) -> int:
    from .bvh_import import BvhImportError, import_bvh_files

    try:
        summary = import_bvh_files(args.inputs, args.out, caption=args.caption, fps_in=args.fps_in, scale=args.scale, up=args.up)
    except (BvhImportError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
