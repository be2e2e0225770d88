"""Build MotionBank: real motion capture + procedural motions + composites, written in the HumanML3D layout.

Real motion comes from the 15 DeepMimic clips in the pybullet wheel and, when a path is given, from the
Bandai Namco Research Motion dataset (CC BY-NC 4.0; read at build time, never committed). Every source motion
becomes a few augmented variants, and every variant is written twice: as `<id>` and as its mirror image
`M<id>` (HumanML3D's convention), with left/right swapped in labels and captions. All copies of one source
take land in the same split, so no take straddles splits. The build is deterministic for a seed.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..motion.features import extract_features, feature_statistics, recover_joints
from ..motion.skeleton import FPS
from . import augment, deepmimic, procedural
from .captions import caption_motion, format_text_line
from .clip import CONCEPTS, Motion, Segment

MIN_JOINT_FRAMES = augment.MIN_FRAMES + 1  # features drop one frame: 41 joint frames -> 40 feature rows
MAX_JOINT_FRAMES = augment.MAX_FRAMES + 1
COMPOSITE_PART_MAX = 90  # frames kept of each part of a composite, so 2-3 parts fit in 196


@dataclass(frozen=True, kw_only=True)
class BuildConfig:
    seed: int = 0
    sources_per_concept: int = 25  # procedural source motions per concept
    variants_per_source: int = 2  # augmented copies of each procedural source (each is also mirrored)
    real_variants: int = 27  # augmented copies of each DeepMimic clip (each is also mirrored)
    composites: int = 400  # composite source motions (each is also mirrored)
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    captions_per_clip: int = 3
    heldout_captions: int = 2  # extra held-out-phrasing captions on every test clip
    bandai: str | None = None  # path to the Bandai Namco dataset (folder or .tar.xz); None builds without it
    bandai_variants: int = 1  # augmented copies of each Bandai piece (each is also mirrored)
    # ... and of pieces whose concept has only a few Bandai takes (one kick, two punches, two slashes), so
    # that rare real motions are not drowned by the thousands of walks and waves
    bandai_rare_variants: int = 10
    bandai_rare_takes: int = 10
    # Bandai part 2 holds ~430 takes of each raise/wave content; capping takes per content keeps the concept
    # balance close to the procedural part while still making mocap the larger share of frames.
    bandai_takes_per_content: int = 80


QUICK = BuildConfig(sources_per_concept=3, variants_per_source=1, real_variants=1, composites=12, val_fraction=0.2, test_fraction=0.3)


@dataclass(frozen=True)
class Clip:
    id: str
    motion: Motion
    split: str
    caption_seed: int


# ----------------------------------------------------------------------------- sources and variants


def real_sources(config: BuildConfig) -> list[tuple[Motion, int]]:
    """(motion, number of augmented variants) for every real clip: DeepMimic, then Bandai if a path is given."""
    out = [(m, config.real_variants) for m in deepmimic.load_all()]
    if config.bandai:
        from . import bandai  # needs the BVH reader; only a build with the dataset pays for importing it

        pieces = cap_takes(bandai.load_bandai(config.bandai), config.bandai_takes_per_content, config.seed)
        takes_per_concept = Counter(concept for concept, _ in {(m.concept, m.source) for m in pieces})
        rare = {c for c, n in takes_per_concept.items() if n < config.bandai_rare_takes}
        out += [(m, config.bandai_rare_variants if m.concept in rare else config.bandai_variants) for m in pieces]
    return out


def cap_takes(pieces: list[Motion], per_label: int, seed: int) -> list[Motion]:
    """Keep the pieces of at most `per_label` takes (sources) per fine label, chosen in a seeded order."""
    takes: dict[str, list[str]] = {}
    for m in pieces:
        names = takes.setdefault(m.fine, [])
        if m.source not in names:
            names.append(m.source)
    rng = np.random.default_rng(seed)
    keep = {t for names in takes.values() for t in (names if len(names) <= per_label else rng.choice(names, per_label, replace=False))}
    return [m for m in pieces if m.source in keep]


def procedural_sources(config: BuildConfig, rng: np.random.Generator) -> list[Motion]:
    return [
        procedural.sample_motion(concept, rng, source=f"proc_{concept}_{i:03d}")
        for concept in procedural.PROCEDURAL_CONCEPTS
        for i in range(config.sources_per_concept)
    ]


def composite_sources(config: BuildConfig, rng: np.random.Generator) -> list[Motion]:
    """2-3 fresh procedural motions played in a row, e.g. walk then kick."""
    out = []
    for i in range(config.composites):
        n_parts = int(rng.choice([2, 2, 3]))
        concepts = rng.choice(procedural.PROCEDURAL_CONCEPTS, size=n_parts, replace=False)
        parts = [
            augment.crop(procedural.sample_motion(str(c), rng, source=f"comp_{i:03d}_{j}"), COMPOSITE_PART_MAX, rng)
            for j, c in enumerate(concepts)
        ]
        motion = augment.composite(parts)
        out.append(dataclasses.replace(motion, source=f"comp_{i:03d}"))
    return out


def make_variant(motion: Motion, rng: np.random.Generator, first: bool) -> Motion:
    """One augmented copy: time-warp (+ amplitude for mocap), then looped/padded/cropped to 41..197 frames."""
    if not first:
        motion = augment.time_warp(motion, float(rng.uniform(0.8, 1.25)))
        if motion.real:
            motion = augment.amplitude_warp(motion, float(rng.uniform(0.85, 1.15)))
    motion = augment.rotate_heading(motion, float(rng.uniform(-np.pi, np.pi)))
    if motion.num_frames < MIN_JOINT_FRAMES:
        motion = augment.loop(motion, MIN_JOINT_FRAMES) if motion.cyclic else augment.pad_idle(motion, MIN_JOINT_FRAMES, rng)
    if motion.real and motion.cyclic and motion.num_frames < MAX_JOINT_FRAMES:
        # mocap cycles are short: loop them to a random length so clips are not all one duration
        motion = augment.loop(motion, int(rng.integers(MIN_JOINT_FRAMES, MAX_JOINT_FRAMES)))
    return augment.crop(motion, MAX_JOINT_FRAMES, rng)


def draw_split(config: BuildConfig, rng: np.random.Generator) -> str:
    u = rng.uniform()
    return "test" if u < config.test_fraction else "val" if u < config.test_fraction + config.val_fraction else "train"


def real_take_splits(takes: list[tuple[str, str]], config: BuildConfig, rng: np.random.Generator) -> dict[str, str]:
    """{take: split} for real takes given as (take, concept), stratified per concept.

    Real takes are few for some concepts (one Bandai kick, two punches), so a plain draw would leave whole
    concepts without real clips in val/test or in train. Per concept, in a seeded order: a single take goes
    to train; with two or more at least one goes to test, with four or more at least one to val too,
    and the rest follow the configured fractions. The DeepMimic clips (one per motion) are kept in train
    when a concept has other real takes to hold out.
    """
    by_concept: dict[str, list[str]] = {}
    for take, concept in takes:
        by_concept.setdefault(concept, [])
        if take not in by_concept[concept]:
            by_concept[concept].append(take)
    splits: dict[str, str] = {}
    for concept in sorted(by_concept):
        names = [t for t in by_concept[concept] if t not in splits]
        names = [names[i] for i in rng.permutation(len(names))]
        names.sort(key=lambda t: t.startswith("deepmimic"))  # stable: DeepMimic takes last, i.e. into train
        n = len(names)
        n_test = 0 if n < 2 else max(1, int(round(n * config.test_fraction)))
        n_val = 0 if n < 4 else max(1, int(round(n * config.val_fraction)))
        for i, take in enumerate(names):
            splits[take] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return splits


def plan_clips(config: BuildConfig) -> list[Clip]:
    """All clips of the build, in a fixed order, each with its split and a seed for its captions."""
    rng = np.random.default_rng(config.seed)
    real = real_sources(config)
    proc = [(m, config.variants_per_source) for m in procedural_sources(config, rng)]
    comp = [(m, 1) for m in composite_sources(config, rng)]
    real_splits = real_take_splits([(m.source, m.concept) for m, _ in real], config, rng)
    clips: list[Clip] = []
    count = 0  # numbers every variant, kept or not, so train ids do not depend on what val/test keep
    for source, n_variants in real + proc + comp:
        split = real_splits[source.source] if source.real else draw_split(config, rng)
        for v in range(n_variants):
            # drawn for every variant, so the rng stream (and with it the whole train split) stays the same
            variant = make_variant(source, rng, first=v == 0)
            caption_seed = int(rng.integers(2**31))
            number = f"{count:06d}"
            count += 1
            if split != "train" and v > 0:
                continue  # augmentation is for training: val/test hold each take once (and its mirror)
            clips.append(Clip(number, variant, split, caption_seed))
            clips.append(Clip("M" + number, augment.mirror(variant), split, caption_seed))
    return clips


# ----------------------------------------------------------------------------- writing


def clip_captions(clip: Clip, config: BuildConfig) -> tuple[list[str], list[int]]:
    """Training-grammar captions; test clips add held-out phrasings. Returns (captions, held-out indices).

    Captions describe what the clip's own joints do (which limb, how high, which way, how many times) as
    well as its labels. A clip and its mirror draw from the same seed, so their captions differ only in
    left/right.
    """
    rng = np.random.default_rng(clip.caption_seed)
    joints, segments = clip.motion.joints, clip.motion.segments
    captions = caption_motion(joints, segments, rng, n=config.captions_per_clip)
    heldout: list[int] = []
    if clip.split == "test" and config.heldout_captions:
        extra = caption_motion(joints, segments, rng, n=config.heldout_captions, heldout=True)
        heldout = list(range(len(captions), len(captions) + len(extra)))
        captions += extra
    return captions, heldout


def segment_json(segment: Segment, num_rows: int) -> dict:
    """Segments in feature-row frames (row t spans joint frames t..t+1), clamped to the clip."""
    end = min(segment.end, num_rows)
    return {"concept": segment.concept, "fine": segment.fine, "start": min(segment.start, end - 1), "end": end, "attrs": segment.attrs}


def write_clip(root: Path, clip: Clip, config: BuildConfig) -> tuple[np.ndarray, list[str]]:
    features = extract_features(clip.motion.joints).astype(np.float32)  # (N, 263)
    np.save(root / "new_joint_vecs" / f"{clip.id}.npy", features)
    np.save(root / "new_joints" / f"{clip.id}.npy", recover_joints(features).astype(np.float32))
    captions, heldout = clip_captions(clip, config)
    (root / "texts" / f"{clip.id}.txt").write_text("".join(format_text_line(c) + "\n" for c in captions), encoding="utf-8")
    label = {
        "id": clip.id,
        "concept": clip.motion.concept,
        "fine": clip.motion.fine,
        "segments": [segment_json(s, len(features)) for s in clip.motion.segments],
        "composite": clip.motion.is_composite,
        "source": clip.motion.source,
        "real": clip.motion.real,
        "split": clip.split,
        "frames": int(len(features)),
        "heldout_captions": heldout,
    }
    (root / "labels" / f"{clip.id}.json").write_text(json.dumps(label, indent=1, sort_keys=True) + "\n")
    return features, captions


def build(out: str | Path, config: BuildConfig = BuildConfig(), log=print) -> dict:
    """Write the whole dataset to `out` (replacing it) and return its summary."""
    root = Path(out)
    started = time.perf_counter()
    clips = plan_clips(config)
    if root.exists():
        shutil.rmtree(root)
    for sub in ("new_joint_vecs", "new_joints", "texts", "labels"):
        (root / sub).mkdir(parents=True)
    train_features, n_captions, frames = [], 0, 0
    per_concept: Counter = Counter()
    frames_by_source: dict[str, Counter] = {"real": Counter(), "procedural": Counter()}
    real_by_split: Counter = Counter()
    for clip in clips:
        features, captions = write_clip(root, clip, config)
        n_captions += len(captions)
        frames += len(features)
        per_concept.update({s.concept for s in clip.motion.segments})
        kind = "real" if clip.motion.real else "procedural"
        for segment in clip.motion.segments:  # frames of a composite count for each of its concepts
            frames_by_source[kind][segment.concept] += min(segment.end, len(features)) - min(segment.start, len(features))
        if clip.motion.real:
            real_by_split[clip.split] += 1
        if clip.split == "train":
            train_features.append(features)
    mean, std = feature_statistics(train_features)
    np.save(root / "Mean.npy", mean.astype(np.float32))
    np.save(root / "Std.npy", std.astype(np.float32))
    for split in ("train", "val", "test"):
        (root / f"{split}.txt").write_text("".join(c.id + "\n" for c in clips if c.split == split))
    (root / "all.txt").write_text("".join(c.id + "\n" for c in clips))
    (root / "concepts.json").write_text(json.dumps(list(CONCEPTS), indent=1) + "\n")
    summary = {
        "clips": len(clips),
        "frames": frames,
        "hours": frames / FPS / 3600,
        "captions": n_captions,
        "splits": dict(Counter(c.split for c in clips)),
        "clips_per_concept": {c: per_concept.get(c, 0) for c in CONCEPTS},
        "real_clips": sum(c.motion.real for c in clips),
        "real_clips_per_split": {k: real_by_split.get(k, 0) for k in ("train", "val", "test")},
        "real_frames": sum(frames_by_source["real"].values()),
        "frames_per_concept": {c: {k: frames_by_source[k].get(c, 0) for k in ("real", "procedural")} for c in CONCEPTS},
        "composites": sum(c.motion.is_composite for c in clips),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (root / "summary.json").write_text(json.dumps({k: v for k, v in summary.items() if k != "seconds"}, indent=1) + "\n")
    log(format_summary(summary))
    return summary


def format_summary(summary: dict) -> str:
    share = summary["real_frames"] / max(summary["frames"], 1)
    lines = [
        f"MotionBank: {summary['clips']} clips, {summary['frames']} frames ({summary['hours']:.2f} h at {FPS} fps), "
        f"{summary['captions']} captions; splits {summary['splits']}; {summary['composites']} composites; "
        f"built in {summary['seconds']} s",
        f"motion capture: {summary['real_clips']} clips, {summary['real_frames']} frames ({share:.1%} of all frames); "
        f"real clips per split {summary['real_clips_per_split']}",
        "per concept (a composite counts for each concept in it):   clips | real frames | procedural frames",
    ]
    for c, n in summary["clips_per_concept"].items():
        f = summary["frames_per_concept"][c]
        lines.append(f"  {c:<14} {n:>6} | {f['real']:>9} | {f['procedural']:>9}")
    return "\n".join(lines)
