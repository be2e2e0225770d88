"""Calibration of the kinematic judge (motion_lora/evaluation/kinematic_judge/) on real and procedural motion.

    python -m benchmarks.calibration.judge                       # MotionBank's real clips if built, else raw mocap
    python -m benchmarks.calibration.judge --data data/motionbank --procedural 20 --details

For every judged concept it prints the recall on real clips of that concept and the false-positive rate on
real clips of every other concept, per split. Real clips come from MotionBank (labels/*.json with
"real": true, split as built) when `--data` exists; otherwise straight from the mocap sources — the
DeepMimic clips (cyclic ones looped to 4 s, as the build does) and, when `--bandai` points at the dataset
and motion_lora.data.bandai is available, the Bandai Namco takes — split per take with the builder's
stratified rule. Thresholds are tuned on the train rows; val/test are the held-out figures. The same
table is printed for procedural clips (motion_lora.data.procedural.sample_motion). Nothing is written:
the Bandai data is CC BY-NC and only figures measured on it may be quoted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from motion_lora.data import augment, deepmimic
from motion_lora.evaluation import kinematic_judge as kj

# The unpacked dataset, or its archive in the shared/data folder beside the repository.
BESIDE_REPO = Path(__file__).resolve().parents[3]
DEFAULT_BANDAI = ("/tmp/bandai/dataset", str(BESIDE_REPO / "shared" / "data" / "bandai-namco-research-motiondataset.tar.xz"))
LOOP_FRAMES = 80  # cyclic mocap clips are a single cycle (0.8-1.3 s); the build loops them, so do we


class Clip:
    """One real or procedural clip: joints (T, 22, 3), the concepts it shows, its split and take."""

    def __init__(self, joints: np.ndarray, concepts: set[str], split: str, source: str):
        self.joints, self.concepts, self.split, self.source = joints, concepts, split, source


def motionbank_clips(root: Path) -> list[Clip]:
    out = []
    for path in sorted((root / "labels").glob("*.json")):
        label = json.loads(path.read_text())
        if not label.get("real"):
            continue
        joints = np.load(root / "new_joints" / f"{label['id']}.npy").astype(np.float64)
        concepts = {s["concept"] for s in label.get("segments", [])} or {label["concept"]}
        out.append(Clip(joints, concepts, label.get("split", "all"), label.get("source", label["id"])))
    return out


def mocap_clips(bandai_path: str | None, seed: int) -> tuple[list[Clip], str]:
    """Real clips straight from the sources, split per take like the MotionBank builder does."""
    motions = deepmimic.load_all()
    note = "DeepMimic"
    if bandai_path:
        try:
            from motion_lora.data import bandai
        except ImportError as err:
            note += f" (Bandai skipped: {err})"
        else:
            motions += bandai.load_bandai(bandai_path)
            note += " + Bandai Namco"
    motions = [augment.loop(m, LOOP_FRAMES) if m.cyclic else m for m in motions]
    from motion_lora.data.builder import BuildConfig, real_take_splits

    splits = real_take_splits([(m.source, m.concept) for m in motions], BuildConfig(seed=seed), np.random.default_rng(seed))
    return [Clip(m.joints, {s.concept for s in m.segments}, splits[m.source], m.source) for m in motions], note


def procedural_clips(per_concept: int, seed: int) -> list[Clip]:
    from motion_lora.data import procedural

    rng = np.random.default_rng(seed)
    out = []
    for concept in procedural.PROCEDURAL_CONCEPTS:
        for i in range(per_concept):
            m = procedural.sample_motion(concept, rng, source=f"proc_{concept}_{i}")
            out.append(Clip(m.joints, {concept}, "procedural", m.source))
    return out


def verdicts(clips: list[Clip]) -> np.ndarray:
    """(N, len(JUDGED_CONCEPTS)) bool; a clip the judge cannot read (too short) judges nothing."""
    rows = []
    for c in clips:
        try:
            rows.append(list(kj.judge(c.joints).values()))
        except ValueError:
            rows.append([False] * len(kj.JUDGED_CONCEPTS))
    return np.array(rows, dtype=bool).reshape(len(clips), len(kj.JUDGED_CONCEPTS))


def rates(clips: list[Clip], judged: np.ndarray) -> dict[str, dict]:
    """{concept: {n_pos, recall, n_neg, fpr, fp_by_concept}} over the given clips."""
    out = {}
    for k, concept in enumerate(kj.JUDGED_CONCEPTS):
        pos = np.array([concept in c.concepts for c in clips], dtype=bool)
        fp_by = defaultdict(int)
        for c, hit, p in zip(clips, judged[:, k], pos):
            if hit and not p:
                fp_by["+".join(sorted(c.concepts))] += 1
        out[concept] = {
            "n_pos": int(pos.sum()),
            "recall": float(judged[pos, k].mean()) if pos.any() else float("nan"),
            "n_neg": int((~pos).sum()),
            "fpr": float(judged[~pos, k].mean()) if (~pos).any() else float("nan"),
            "fp_by_concept": dict(sorted(fp_by.items(), key=lambda kv: -kv[1])),
        }
    return out


def table(title: str, parts: dict[str, dict], details: bool) -> str:
    names = list(parts)
    head = "| concept | " + " | ".join(f"{n}: recall (n) | {n}: FPR (n)" for n in names) + " |"
    lines = [f"### {title}", "", head, "|---|" + "---|---|" * len(names)]
    fmt = lambda v: "–" if v != v else f"{v:.2f}"  # noqa: E731
    for concept in kj.JUDGED_CONCEPTS:
        cells = []
        for n in names:
            r = parts[n][concept]
            cells += [f"{fmt(r['recall'])} ({r['n_pos']})", f"{fmt(r['fpr'])} ({r['n_neg']})"]
        lines.append(f"| {concept} | " + " | ".join(cells) + " |")
    if details:
        for n in names:
            for concept in kj.JUDGED_CONCEPTS:
                fp = parts[n][concept]["fp_by_concept"]
                if fp:
                    lines.append(f"- {n} {concept}: false positives on " + ", ".join(f"{k} {v}" for k, v in list(fp.items())[:6]))
    return "\n".join(lines)


def by_split(clips: list[Clip], judged: np.ndarray) -> dict[str, dict]:
    parts = {}
    groups = {"train": ("train",), "val+test": ("val", "test"), "val": ("val",), "test": ("test",), "all": ("all",)}
    for name, splits in groups.items():
        idx = [i for i, c in enumerate(clips) if c.split in splits]
        if idx:
            parts[name] = rates([clips[i] for i in idx], judged[idx])
    return parts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/motionbank"), help="a built MotionBank (labels/*.json)")
    p.add_argument("--bandai", default=None, help="Bandai Namco dataset folder or tarball (raw-mocap mode only)")
    p.add_argument("--procedural", type=int, default=20, help="procedural clips per concept (0 skips them)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--details", action="store_true", help="list the concepts of the false positives")
    args = p.parse_args(argv)
    started = time.perf_counter()
    if (args.data / "labels").is_dir():
        real, note = motionbank_clips(args.data), f"MotionBank real clips ({args.data})"
    else:
        bandai_path = args.bandai or next((d for d in DEFAULT_BANDAI if Path(d).exists()), None)
        real, note = mocap_clips(bandai_path, args.seed)
    judged = verdicts(real)
    print(f"{len(real)} real clips from {note}; {len({c.source for c in real})} takes")
    print("n counts clips: in MotionBank's train split a take appears as several augmented copies and their mirrors;")
    print("val and test hold each take once with its mirror, so a held-out take counts 2 (more when it was cut in pieces).\n")
    print(table("Real motion capture, by split (recall on clips of the concept, FPR on clips of other concepts)", by_split(real, judged), args.details))
    if args.procedural:
        proc = procedural_clips(args.procedural, args.seed)
        print()
        print(table(f"Procedural clips ({args.procedural} per procedural concept)", {"procedural": rates(proc, verdicts(proc))}, args.details))
    print(f"\n{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
