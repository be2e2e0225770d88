"""`python -m motion_lora.viz`: a clip id or `.npy` -> an HTML player or a PNG filmstrip."""

from __future__ import annotations

import argparse
from pathlib import Path

from .filmstrip import VIEWS, filmstrip_figure
from .loading import DEFAULT_DATA, load_motion
from .player import motion_figure
from .saving import check_output, save


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m motion_lora.viz",
        description="Render a HumanML3D-format motion as an animated 3D HTML player or a PNG filmstrip.",
    )
    parser.add_argument("motion", help="clip id (looked up in DATA/new_joints) or a .npy of joints (T,22,3) "
                        "or features (T,263)")
    parser.add_argument("--out", required=True, help="output file: .html (animated 3D) or .png (filmstrip)")
    parser.add_argument("--data", default=DEFAULT_DATA,
                        help=f"dataset folder in HumanML3D layout (default {DEFAULT_DATA})")
    parser.add_argument("--title", default=None, help="figure title (default: the clip's first caption, or its name)")
    parser.add_argument("--view", choices=VIEWS, default="both", help="filmstrip views (PNG only; default both)")
    parser.add_argument("--poses", type=int, default=8, help="number of poses in the filmstrip (PNG only; default 8)")
    return parser


def main(argv: list[str] | None = None) -> Path:
    args = build_parser().parse_args(argv)
    try:
        suffix = check_output(args.out)
        if args.poses < 1:
            raise ValueError(f"--poses must be at least 1, got {args.poses}")
        joints, default_title = load_motion(args.motion, args.data)
        title = args.title if args.title is not None else default_title
        if suffix == ".html":
            label = Path(args.motion).stem if args.motion.endswith(".npy") else args.motion
            fig = motion_figure([joints], [label], title=title)
        else:
            fig = filmstrip_figure(joints, poses=args.poses, view=args.view, title=title)
        out = save(fig, args.out)
    except (OSError, ValueError, RuntimeError) as err:
        raise SystemExit(f"error: {err}") from None
    print(f"wrote {out} ({len(joints)} frames)")
    return out
