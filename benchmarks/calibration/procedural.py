"""Kinematics of real vs procedural kicks, punches, walks and runs (the calibration table of docs/data.md).

    python -m benchmarks.calibration.procedural [--bandai PATH] [--seeds 20] [--takes 3] [--out benchmarks/results/calibration.json]

Real: the DeepMimic clips in the pybullet wheel (kick, spinkick, punch, walk, run; the cyclic walk and run looped
to 6 s) and, when the Bandai Namco dataset is found (`--bandai`, default shared/data/... in the folder that holds the
repository, or /tmp/bandai/dataset),
its kick, punch, walk and run takes (up to `--takes` per style and part). Every real clip is retargeted to the
reference skeleton first, as feature extraction does, so lengths compare. Procedural: `--seeds` clips per concept
(walks forward only; the real walks are forward walks). Measures are `motion_lora.data.gait_stats`; kicks and
punches give one row per kick or punch in a clip. Prints min / median / max of each; the JSON (never committed:
benchmarks/results/ is ignored, and the Bandai numbers are derived from CC BY-NC data) holds every value.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from motion_lora.data import augment, deepmimic, gait_stats, procedural
from motion_lora.motion.skeleton import retarget

ROOT = Path(__file__).resolve().parents[2]

CONCEPTS = ("kick", "punch", "walk", "run")
DEEPMIMIC = {"kick": ("kick", "spinkick"), "punch": ("punch",), "walk": ("walk",), "run": ("run",)}
BANDAI_DEFAULTS = (ROOT.parent / "shared" / "data" / "bandai-namco-research-motiondataset.tar.xz", Path("/tmp/bandai/dataset"))
LOOP_FRAMES = 120  # cyclic mocap gaits are one cycle long; six seconds give several touch-downs to count


def measure(concept: str, joints: np.ndarray) -> list[dict]:
    """Rows of measures for one clip (T, 22, 3): one per kick / punch, or one for a gait."""
    if concept == "kick":
        return [gait_stats.as_dict(e) for e in gait_stats.kick_events(joints)]
    if concept == "punch":
        return [gait_stats.as_dict(e) for e in gait_stats.punch_events(joints)]
    return [gait_stats.as_dict(gait_stats.gait_stats(joints))]


def deepmimic_clips() -> dict[str, list[tuple[str, np.ndarray]]]:
    out = defaultdict(list)
    for concept, names in DEEPMIMIC.items():
        for name in names:
            motion = deepmimic.load_clip(name)
            if concept in ("walk", "run"):
                motion = augment.loop(motion, LOOP_FRAMES)
            out[concept].append((f"deepmimic_{name}", retarget(motion.joints)))
    return out


def bandai_folder(path: Path) -> Path | None:
    """The unpacked dataset folder; a tarball is looked up as its unpacked twin in /tmp/bandai/dataset."""
    if path.is_dir():
        return path
    twin = Path("/tmp/bandai/dataset")
    return twin if twin.is_dir() else None


def bandai_takes(folder: Path) -> list[tuple[str, str, str, Path]]:
    """(part, content, style, bvh path) of every take: through `bandai.find_takes` (labels checked against the
    JSON) once that module is present, else from the file names."""
    try:
        from motion_lora.data.bandai import find_takes
    except ImportError:
        pattern = re.compile(r"dataset-(\d)_([a-z-]+)_([a-z-]+)_(\d+)\.bvh$")
        files = sorted(folder.glob("Bandai-Namco-Research-Motiondataset-*/data/*.bvh"))
        return [(m[1], m[2], m[3], f) for f in files if (m := pattern.match(f.name))]
    return [(str(t.part), t.content, t.style, Path(t.bvh)) for t in find_takes(folder)]


def bandai_clips(path: Path, takes: int) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Bandai kick / punch / walk / run takes, whole (kicks and punches are counted per take), read by the
    project's BVH importer; `--takes` per part, content and style."""
    from motion_lora.data.bvh_import import bvh_to_joints

    folder = bandai_folder(path)
    out = defaultdict(list)
    if folder is None:
        return out
    per_style = defaultdict(int)
    for part, content, style, bvh in bandai_takes(folder):
        if content not in CONCEPTS or per_style[(part, content, style)] >= takes:
            continue
        per_style[(part, content, style)] += 1
        out[content].append((bvh.stem, retarget(bvh_to_joints(bvh))))
    return out


def procedural_clips(seeds: int) -> dict[str, list[tuple[str, np.ndarray]]]:
    out = defaultdict(list)
    for concept in CONCEPTS:
        extra = {"direction": "forward"} if concept == "walk" else {}
        for seed in range(seeds):
            m = procedural.sample_motion(concept, np.random.default_rng(seed), source=f"calib_{concept}_{seed}", **extra)
            out[concept].append((m.fine, m.joints))
    return out


def table(clips: dict[str, list[tuple[str, np.ndarray]]]) -> dict[str, dict]:
    """concept -> {"rows": [...], "kick_check": fraction of clips passing (kicks only), "clips": n}."""
    out = {}
    for concept in CONCEPTS:
        rows = []
        for name, joints in clips.get(concept, []):
            rows += [{"clip": name, **row} for row in measure(concept, joints)]
        entry = {"clips": len(clips.get(concept, [])), "rows": rows}
        if concept == "kick":
            passed = [gait_stats.passes_kick_check(j) for _, j in clips.get(concept, [])]
            entry["kick_check"] = float(np.mean(passed)) if passed else float("nan")
        out[concept] = entry
    return out


def summary(rows: list[dict]) -> dict[str, tuple[float, float, float]]:
    keys = [k for k in (rows[0] if rows else {}) if k not in ("clip", "side")]
    return {k: tuple(float(f(np.array([r[k] for r in rows]))) for f in (np.nanmin, np.nanmedian, np.nanmax)) for k in keys}


def inside(values: list[float], lo: float, hi: float) -> float:
    v = np.asarray(values)
    v = v[np.isfinite(v)]
    return float(((v >= lo) & (v <= hi)).mean()) if len(v) else float("nan")


def print_table(real: dict, proc: dict) -> None:
    print(f"{'concept':<7} {'measure':<24} {'real min / median / max':>26} {'n':>4}   {'procedural min / median / max':>30} {'n':>4} {'inside':>7}")
    for concept in CONCEPTS:
        r_rows, p_rows = real[concept]["rows"], proc[concept]["rows"]
        r_sum, p_sum = summary(r_rows), summary(p_rows)
        for key in r_sum:
            lo, med, hi = r_sum[key]
            p = p_sum.get(key, (np.nan,) * 3)
            share = inside([row[key] for row in p_rows], lo, hi)
            print(f"{concept:<7} {key:<24} {lo:8.2f} {med:8.2f} {hi:8.2f} {len(r_rows):>4}   "
                  f"{p[0]:9.2f} {p[1]:9.2f} {p[2]:9.2f} {len(p_rows):>4} {share:7.0%}")
    print(f"kick check (one foot down, other leg raised and nearly straight): real {real['kick']['kick_check']:.0%} "
          f"of {real['kick']['clips']} clips, procedural {proc['kick']['kick_check']:.0%} of {proc['kick']['clips']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bandai", type=Path, default=next((p for p in BANDAI_DEFAULTS if p.exists()), BANDAI_DEFAULTS[0]))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--takes", type=int, default=3, help="Bandai takes per part, content and style")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "calibration.json")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    real_clips = deepmimic_clips()
    for concept, clips in bandai_clips(args.bandai, args.takes).items():
        real_clips[concept] += clips
    real, proc = table(real_clips), table(procedural_clips(args.seeds))
    print_table(real, proc)
    print(f"({time.perf_counter() - start:.1f} s; real clips: "
          + ", ".join(f"{c} {real[c]['clips']}" for c in CONCEPTS) + ")")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"real": real, "procedural": proc}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
