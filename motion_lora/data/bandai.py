"""The Bandai Namco Research Motion dataset (Kobayashi et al. 2023, CC BY-NC 4.0) as MotionBank `Motion`s.

    from motion_lora.data.bandai import describe_bandai, load_bandai
    motions = load_bandai("PATH/TO/bandai-namco-research-motiondataset.tar.xz")   # or the unpacked folder

The data is never committed (licence): it is read at build time from the unpacked folder (holding
`Bandai-Namco-Research-Motiondataset-1/2`, each with `data/*.bvh`, `data/*.json`, `cfg/*_label.txt`) or
straight from the tarball, which is unpacked into a temporary folder that is removed afterwards (decoding
the xz stream is most of the cost either way, and plain files let two processes read in parallel).

Every BVH file is one take: `dataset-{1,2}_{content}_{style}_{id}.bvh` with a JSON beside it naming the
content and style by index into cfg/content_label.txt and cfg/style_label.txt (checked against the file
name). A take becomes joints at 20 fps (bvh_import), is cut into pieces of at most 197 frames (pieces under
41 frames are dropped) and every piece becomes one Motion with real=True, cyclic=False, source = the take
id (so no take straddles two splits), one Segment over the piece, and attrs["manner"] = the raw style name.

What the contents are, read off the joints (tests/test_bandai.py re-measures the signs):

    content                 concept     fine label / attrs
    walk                    walk        walk_forward, direction forward
    walk-back               walk        walk_backward: the body faces forward and travels backwards
    walk-left / -right      walk        walk_left / walk_right: the actor walks towards its left (right),
                                        travelling ~20-30 deg left (right) of where the hips face; the body
                                        is turned into the walk, so this is not a side step
    walk-turn-left / -right walk        walk_turn_left / _right, turn left / right: ~90 deg of positive
                                        (negative) yaw about +y; a piece turning < 45 deg is walk_forward
    run                     run         run_forward
    dash                    run         run_fast, speed fast (a sprint, ~3 m/s)
    bow                     bow         bow
    bye, byebye             wave        wave_<side>: bye waves the right hand, byebye both (measured)
    wave-{left,right,both}-hand(s)      wave_<side>, side measured (it agrees with the name)
    raise-up-*-hand(s)      raise_arms  raise_arms_<side>, side measured
    kick                    kick        kick_<side>, count: one take of turning kicks, all right leg
    punch                   punch       punch_<side>, count: one take of left punches, one of right
    slash                   slash       slash_<side>: sword-like swings
    dance-short             dance       dance
    guide / call / respond  gesture     gesture_guide / gesture_call / gesture_respond (+ side)

Sides are measured, never taken from the name: the hand that moves (wrist speed relative to the pelvis)
for waves, gestures and slashes, the hand that goes up for raised arms, the limb that extends (arm
extension, foot height peaks) for punches and kicks; `both` when the weaker is at least half the stronger.
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import os
import re
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..motion.skeleton import FPS, JOINT, forward_direction
from .bvh_import import read_bvh
from .clip import Motion, Segment

PARTS = ("Bandai-Namco-Research-Motiondataset-1", "Bandai-Namco-Research-Motiondataset-2")
MAX_PIECE_FRAMES = 196 + 1  # HumanML3D's longest clip (196 feature rows) plus the frame features drop
MIN_PIECE_FRAMES = 40 + 1
FILE_NAME = re.compile(r"dataset-(?P<part>[12])_(?P<content>[a-z-]+)_(?P<style>[a-z-]+)_(?P<id>\d+)$")
WORKERS = 2  # the development machine has 2 cores; one process reads ~1,500 frames a second

# Thresholds of the measurements below (angles in degrees, heights in metres).
TURN_MIN_DEG = 45.0  # a walk piece counts as turning when its heading changes at least this much
SIDE_STEP_MIN_DEG = 60.0  # travel this far off the facing direction is a side step, not a walk
BACKWARD_MIN_DEG = 135.0
DIAGONAL_MIN_DEG = 10.0  # walk-left/right must travel at least this far towards their side
BOTH_SIDES_RATIO = 0.5  # the weaker side must do at least half of the stronger side's work for "both"
PUNCH_EXTENSION = (0.9, 0.7)  # arm straightened to 90% of its length counts a punch; below 70% re-arms
KICK_HEIGHT = (0.35, 0.15)  # the foot joint above 35 cm counts a kick; below 15 cm re-arms

# content -> concept, fine label and fixed attributes; "measure" says what is read off the joints.
CONTENTS: dict[str, dict] = {
    "walk": dict(concept="walk", fine="walk_forward", attrs={"direction": "forward"}, measure="walk"),
    "walk-back": dict(concept="walk", fine="walk_backward", attrs={"direction": "backward"}, measure="walk"),
    "walk-left": dict(concept="walk", fine="walk_left", attrs={"direction": "left"}, measure="walk"),
    "walk-right": dict(concept="walk", fine="walk_right", attrs={"direction": "right"}, measure="walk"),
    "walk-turn-left": dict(concept="walk", fine="walk_turn_left", attrs={"direction": "forward"}, measure="walk"),
    "walk-turn-right": dict(concept="walk", fine="walk_turn_right", attrs={"direction": "forward"}, measure="walk"),
    "run": dict(concept="run", fine="run_forward", attrs={"direction": "forward"}, measure=None),
    "dash": dict(concept="run", fine="run_fast", attrs={"direction": "forward", "speed": "fast"}, measure=None),
    "bow": dict(concept="bow", fine="bow", attrs={}, measure=None),
    "bye": dict(concept="wave", fine="wave", attrs={}, measure="moving_hand"),
    "byebye": dict(concept="wave", fine="wave", attrs={}, measure="moving_hand"),
    "wave-both-hands": dict(concept="wave", fine="wave", attrs={}, measure="moving_hand"),
    "wave-left-hand": dict(concept="wave", fine="wave", attrs={}, measure="moving_hand"),
    "wave-right-hand": dict(concept="wave", fine="wave", attrs={}, measure="moving_hand"),
    "raise-up-both-hands": dict(concept="raise_arms", fine="raise_arms", attrs={}, measure="raised_hand"),
    "raise-up-left-hand": dict(concept="raise_arms", fine="raise_arms", attrs={}, measure="raised_hand"),
    "raise-up-right-hand": dict(concept="raise_arms", fine="raise_arms", attrs={}, measure="raised_hand"),
    "kick": dict(concept="kick", fine="kick", attrs={}, measure="kick"),
    "punch": dict(concept="punch", fine="punch", attrs={}, measure="punch"),
    "slash": dict(concept="slash", fine="slash", attrs={}, measure="moving_hand"),
    "dance-short": dict(concept="dance", fine="dance", attrs={}, measure=None),
    "dance-long": dict(concept="dance", fine="dance", attrs={}, measure=None),
    "guide": dict(concept="gesture", fine="gesture_guide", attrs={}, measure="gesture"),
    "call": dict(concept="gesture", fine="gesture_call", attrs={}, measure="gesture"),
    "respond": dict(concept="gesture", fine="gesture_respond", attrs={}, measure="gesture"),
}


@dataclass(frozen=True)
class Take:
    """One BVH file of the dataset and what its name and JSON say."""

    bvh: str
    part: int
    content: str
    style: str
    number: str

    @property
    def source(self) -> str:
        return f"bandai{self.part}_{self.content}_{self.style}_{self.number}"


# ----------------------------------------------------------------------------- measurements on (T, 22, 3)


def heading(joints: np.ndarray) -> np.ndarray:
    """(T, 22, 3) -> (T,) unwrapped facing angle (radians) about +y; 0 faces +Z, positive turns left."""
    across = joints[:, JOINT["right_hip"]] - joints[:, JOINT["left_hip"]]
    across = across + joints[:, JOINT["right_shoulder"]] - joints[:, JOINT["left_shoulder"]]
    forward = forward_direction(across)
    return np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))


def turn_degrees(joints: np.ndarray) -> float:
    """Heading change from the first to the last half second (degrees, positive = turned left)."""
    h = heading(joints)
    k = max(1, min(10, len(h) // 4))
    return float(np.degrees(np.median(h[-k:]) - np.median(h[:k])))


def travel_degrees(joints: np.ndarray) -> float:
    """Median angle of the root's horizontal velocity off the facing direction (degrees, positive = to the left)."""
    velocity = np.diff(joints[:, 0], axis=0)
    moving = np.linalg.norm(velocity[:, [0, 2]], axis=-1) > 0.1 / 20  # faster than 0.1 m/s
    if not moving.any():
        return 0.0
    travel = np.arctan2(velocity[moving, 0], velocity[moving, 2])
    off = np.angle(np.exp(1j * (travel - heading(joints)[1:][moving])))  # wrapped to (-pi, pi]
    return float(np.degrees(np.angle(np.exp(1j * off).mean())))  # circular mean


def _side(left: float, right: float) -> str:
    """'both' when the weaker side does at least BOTH_SIDES_RATIO of the stronger side's amount."""
    if min(left, right) >= BOTH_SIDES_RATIO * max(left, right):
        return "both"
    return "left" if left > right else "right"


def hand_speed(joints: np.ndarray) -> tuple[float, float]:
    """90th percentile of each wrist's speed relative to the pelvis (m/s at 20 fps): (left, right)."""
    out = []
    for wrist in ("left_wrist", "right_wrist"):
        rel = joints[:, JOINT[wrist]] - joints[:, JOINT["pelvis"]]
        out.append(float(np.percentile(np.linalg.norm(np.diff(rel, axis=0), axis=-1) * 20, 90)))
    return out[0], out[1]


def hand_rise(joints: np.ndarray) -> tuple[float, float]:
    """How far each wrist rises relative to the pelvis: 95th minus 5th percentile of its height (m)."""
    out = []
    for wrist in ("left_wrist", "right_wrist"):
        h = joints[:, JOINT[wrist], 1] - joints[:, JOINT["pelvis"], 1]
        out.append(float(np.percentile(h, 95) - np.percentile(h, 5)))
    return out[0], out[1]


def count_peaks(signal: np.ndarray, high: float, low: float) -> int:
    """Times `signal` (T,) rises above `high` after having been below `low` (hysteresis against jitter)."""
    count, armed = 0, True
    for value in signal:
        if armed and value > high:
            count, armed = count + 1, False
        elif value < low:
            armed = True
    return count


def arm_extension(joints: np.ndarray, side: str) -> np.ndarray:
    """(T,) shoulder-to-wrist distance over upper arm + forearm: 1 for a straight arm."""
    s, e, w = (joints[:, JOINT[f"{side}_{n}"]] for n in ("shoulder", "elbow", "wrist"))
    return np.linalg.norm(w - s, axis=-1) / (np.linalg.norm(e - s, axis=-1) + np.linalg.norm(w - e, axis=-1))


def punches(joints: np.ndarray) -> tuple[int, int]:
    return tuple(count_peaks(arm_extension(joints, side), *PUNCH_EXTENSION) for side in ("left", "right"))


def kicks(joints: np.ndarray) -> tuple[int, int]:
    return tuple(count_peaks(joints[:, JOINT[f"{side}_foot"], 1] - joints[..., 1].min(), *KICK_HEIGHT) for side in ("left", "right"))


# ----------------------------------------------------------------------------- labelling a piece


def _walk_label(joints: np.ndarray, content: str) -> tuple[str, str, dict]:
    """walk_forward / _backward / _left / _right / walk_turn_*, or side_step when the measurements say so."""
    off = travel_degrees(joints)
    turn = turn_degrees(joints)
    if abs(turn) >= TURN_MIN_DEG:
        side = "left" if turn > 0 else "right"
        return "walk", f"walk_turn_{side}", {"direction": "forward", "turn": side}
    if abs(off) >= BACKWARD_MIN_DEG:
        return "walk", "walk_backward", {"direction": "backward"}
    if abs(off) >= SIDE_STEP_MIN_DEG:
        side = "left" if off > 0 else "right"
        return "side_step", f"side_step_{side}", {"direction": side}
    if content in ("walk-left", "walk-right") and abs(off) >= DIAGONAL_MIN_DEG:
        side = "left" if off > 0 else "right"
        return "walk", f"walk_{side}", {"direction": side}
    return "walk", "walk_forward", {"direction": "forward"}


def label_piece(joints: np.ndarray, content: str) -> tuple[str, str, dict]:
    """(concept, fine label, attrs) of one piece of a take with this content, measured where CONTENTS says."""
    if content not in CONTENTS:
        raise ValueError(f"unknown Bandai content {content!r}; known: {', '.join(CONTENTS)}")
    info = CONTENTS[content]
    concept, fine, attrs, measure = info["concept"], info["fine"], dict(info["attrs"]), info["measure"]
    if measure == "walk":
        return _walk_label(joints, content)
    if measure in ("moving_hand", "gesture"):
        attrs["side"] = _side(*hand_speed(joints))
    elif measure == "raised_hand":
        attrs["side"] = _side(*hand_rise(joints))
    elif measure in ("punch", "kick"):
        left, right = punches(joints) if measure == "punch" else kicks(joints)
        if left + right:
            attrs["side"] = _side(left, right)
            attrs["count"] = left + right if attrs["side"] == "both" else max(left, right)
    if "side" in attrs and measure != "gesture":
        fine = f"{fine}_{attrs['side']}"
    return concept, fine, attrs


def cut_pieces(num_frames: int) -> list[tuple[int, int]]:
    """[start, end) frame ranges: as few near-equal pieces as fit MAX_PIECE_FRAMES, too-short ones dropped."""
    n = max(1, math.ceil(num_frames / MAX_PIECE_FRAMES))
    bounds = np.linspace(0, num_frames, n + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= MIN_PIECE_FRAMES]


def take_motions(take: Take) -> tuple[list[Motion], int]:
    """One take -> its Motions (one per piece) and the number of frames dropped (pieces too short)."""
    joints = read_bvh(take.bvh).joints
    motions = []
    kept = 0
    for start, end in cut_pieces(len(joints)):
        piece = joints[start:end]
        concept, fine, attrs = label_piece(piece, take.content)
        attrs["manner"] = take.style
        segment = Segment(concept=concept, fine=fine, start=0, end=end - start, attrs=attrs)
        motions.append(Motion(joints=piece, segments=[segment], source=take.source, real=True, cyclic=False))
        kept += end - start
    return motions, len(joints) - kept


# ----------------------------------------------------------------------------- finding the takes


def _labels(cfg: Path, name: str, part: int) -> list[str]:
    path = cfg / f"{name}_label.txt"
    if not path.is_file():
        raise ValueError(f"Bandai label file is missing: {path}")
    prefix = f"dataset-{part}_"
    return [line.strip().removeprefix(prefix) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def find_takes(root: Path) -> list[Take]:
    """Every BVH take under an unpacked dataset folder, in a fixed order, with its JSON labels checked."""
    takes = []
    parts = sorted({p for name in PARTS for p in root.rglob(name) if p.is_dir()})
    if not parts:
        raise ValueError(f"no {' or '.join(PARTS)} folder under {root}: not the Bandai Namco dataset")
    for part_dir in parts:
        part = int(part_dir.name[-1])
        contents, styles = _labels(part_dir / "cfg", "content", part), _labels(part_dir / "cfg", "style", part)
        for bvh in sorted((part_dir / "data").glob("*.bvh")):
            match = FILE_NAME.match(bvh.stem)
            if not match:
                raise ValueError(f"{bvh}: unexpected file name (expected dataset-N_content_style_id.bvh)")
            label_path = bvh.with_suffix(".json")
            try:
                label = json.loads(label_path.read_text(encoding="utf-8"))
                content, style = contents[int(label["content"])], styles[int(label["style"])]
            except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
                raise ValueError(f"{label_path}: unreadable label ({err})") from None
            if (content, style) != (match["content"], match["style"]):
                raise ValueError(f"{label_path}: says {content}/{style} but the file name says {match['content']}/{match['style']}")
            takes.append(Take(str(bvh), part, content, style, match["id"]))
    return takes


def _unpack(tarball: Path, into: str) -> Path:
    """Extract the BVH, JSON and label files of the tarball into `into`, in one pass over the xz stream.

    Stream mode ('r|*') matters: listing the members first and extracting them after decodes the stream twice
    (xz cannot seek back), 3x slower. The 'data' filter refuses absolute paths, links and device files.
    """
    wanted = re.compile(r"(/data/[^/]+\.(bvh|json)|/cfg/[^/]+\.txt)$")
    try:
        with tarfile.open(tarball, "r|*") as archive:
            for member in archive:
                if member.isfile() and wanted.search(member.name):
                    archive.extract(member, into, filter="data")
    except (tarfile.TarError, EOFError) as err:
        raise ValueError(f"{tarball}: not a readable tar archive ({err})") from None
    return Path(into)


# ----------------------------------------------------------------------------- public API


def _load(path, workers: int = WORKERS) -> tuple[list[Motion], dict]:
    started = time.perf_counter()
    path = Path(path)
    if not path.exists():
        raise ValueError(f"Bandai dataset not found: {path}")
    with tempfile.TemporaryDirectory(prefix="bandai-") as tmp:
        root = _unpack(path, tmp) if path.is_file() else path
        unpacked = time.perf_counter()
        takes = find_takes(root)
        if workers > 1 and len(takes) > 8:
            with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, os.cpu_count() or 1)) as pool:
                results = list(pool.map(take_motions, takes, chunksize=16))
        else:
            results = [take_motions(t) for t in takes]
    motions = [m for ms, _ in results for m in ms]
    stats = {
        "takes": len(takes),
        "takes_per_content": dict(Counter(t.content for t in takes)),
        "frames_dropped": sum(d for _, d in results),
        "seconds_unpack": round(unpacked - started, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return motions, stats


def load_bandai(path, workers: int = WORKERS) -> list[Motion]:
    """The dataset at `path` (unpacked folder or .tar.xz) -> Motions at 20 fps, one per piece of every take."""
    return _load(path, workers)[0]


def describe_bandai(path, workers: int = WORKERS) -> dict:
    """Load the dataset and count pieces and frames per content, per concept and per fine label."""
    motions, stats = _load(path, workers)
    per_content: dict = defaultdict(lambda: {"pieces": 0, "frames": 0, "fine": Counter()})
    per_concept: dict = defaultdict(lambda: {"pieces": 0, "frames": 0})
    for m in motions:
        content = m.source.split("_")[1]
        per_content[content]["pieces"] += 1
        per_content[content]["frames"] += m.num_frames
        per_content[content]["fine"][m.fine] += 1
        per_concept[m.concept]["pieces"] += 1
        per_concept[m.concept]["frames"] += m.num_frames
    frames = sum(m.num_frames for m in motions)
    return {
        **stats,
        "pieces": len(motions),
        "frames": frames,
        "hours": frames / FPS / 3600,
        "per_content": {c: {**v, "takes": stats["takes_per_content"].get(c, 0), "fine": dict(v["fine"])} for c, v in sorted(per_content.items())},
        "per_concept": dict(sorted(per_concept.items())),
    }
