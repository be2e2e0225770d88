"""The Bandai Namco Research Motion dataset as MotionBank motions.

The dataset (CC BY-NC 4.0) is never committed: tests that need it stream a few takes out of
shared/data/bandai-namco-research-motiondataset.tar.xz in the folder that holds the repository, and skip
cleanly without it. The takes they use are all near the start of the archive (part 1 and the first
part-2 waves), so reaching them decodes only a few seconds of the xz stream.
"""

from __future__ import annotations

import re
import shutil
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from motion_lora.data.bandai import (
    MAX_PIECE_FRAMES,
    MIN_PIECE_FRAMES,
    Take,
    count_peaks,
    cut_pieces,
    describe_bandai,
    find_takes,
    label_piece,
    load_bandai,
    take_motions,
    turn_degrees,
)
from motion_lora.data.bvh_import import read_bvh
from motion_lora.motion.features import BLOCKS, extract_features
from motion_lora.motion.skeleton import JOINT

TARBALL = Path(__file__).resolve().parents[2] / "shared" / "data" / "bandai-namco-research-motiondataset.tar.xz"
PART1 = "Bandai-Namco-Research-Motiondataset-1"
PART2 = "Bandai-Namco-Research-Motiondataset-2"
# name in the tests -> the first archive member (without .bvh) matching the pattern; its JSON comes along
WANTED = {
    "walk": r"-1/data/dataset-1_walk_normal_001",
    "walk_back": r"-1/data/dataset-1_walk-back_sad_001",
    "walk_left": r"-1/data/dataset-1_walk-left_normal_001",
    "bye": r"-1/data/dataset-1_bye_normal_001",
    "kick": r"-1/data/dataset-1_kick_normal_001",
    "punch_1": r"-1/data/dataset-1_punch_normal_001",
    "punch_2": r"-1/data/dataset-1_punch_normal_002",
    "wave_left": r"-2/data/dataset-2_wave-left-hand_[a-z-]+_\d+",
    "wave_right": r"-2/data/dataset-2_wave-right-hand_[a-z-]+_\d+",
    "walk2": r"-2/data/dataset-2_walk_[a-z-]+_\d+",
    "turn_left": r"-2/data/dataset-2_walk-turn-left_[a-z-]+_\d+",
}

needs_data = pytest.mark.skipif(not TARBALL.is_file(), reason=f"Bandai Namco dataset not present at {TARBALL}")


@pytest.fixture(scope="module")
def bandai(tmp_path_factory) -> dict:
    """{name: path of the extracted .bvh} for WANTED, plus "root": a folder with part 1's label files and JSONs."""
    if not TARBALL.is_file():
        pytest.skip(f"Bandai Namco dataset not present at {TARBALL}")
    root = tmp_path_factory.mktemp("bandai")
    stems: dict[str, str] = {}
    found: dict[str, Path] = {}
    with tarfile.open(TARBALL, "r|xz") as archive:
        for member in archive:
            name = member.name
            keep = "/cfg/" in name and f"{PART1}/cfg/" in name and name.endswith(".txt")
            for key, pattern in WANTED.items():
                if key not in stems and name.endswith(".bvh") and re.search(pattern + r"\.bvh$", name):
                    stems[key] = name[:-4]
                    keep = True
            keep = keep or name.endswith(".json")  # labels are tiny, and may come before their BVH
            if keep and member.isfile():
                archive.extract(member, root, filter="data")
                if name.endswith(".bvh"):
                    found[next(k for k, s in stems.items() if s == name[:-4])] = root / name
            # part 1 (all the small copy needs labels for) comes first in the archive, then part 2
            have_json = all((root / (s + ".json")).is_file() for s in stems.values() if PART1 in s)
            if len(found) == len(WANTED) and have_json and (root / "dataset" / PART1 / "cfg" / "style_label.txt").is_file():
                break
    missing = set(WANTED) - set(found)
    assert not missing, f"takes not found in the archive: {missing}"
    return {**found, "root": root / "dataset"}


def take_of(path: Path) -> Take:
    part, content, style, number = re.match(r"dataset-(\d)_([a-z-]+)_([a-z-]+)_(\d+)$", path.stem).groups()
    return Take(str(path), int(part), content, style, number)


# ---------------------------------------------------------------- without the data


def test_cut_pieces():
    assert cut_pieces(MAX_PIECE_FRAMES) == [(0, MAX_PIECE_FRAMES)]
    pieces = cut_pieces(450)
    assert len(pieces) == 3 and pieces[0][0] == 0 and pieces[-1][1] == 450
    assert all(MIN_PIECE_FRAMES <= b - a <= MAX_PIECE_FRAMES for a, b in pieces)
    assert all(a == b for (_, a), (b, _) in zip(pieces[:-1], pieces[1:]))  # contiguous
    assert cut_pieces(MIN_PIECE_FRAMES - 1) == []


def test_count_peaks_needs_the_signal_to_drop_in_between():
    signal = np.array([0.0, 1.0, 0.8, 1.0, 0.2, 1.0, 0.0])
    assert count_peaks(signal, high=0.9, low=0.5) == 2


def test_unknown_content_is_an_error():
    with pytest.raises(ValueError, match="unknown Bandai content 'juggle'"):
        label_piece(np.zeros((50, 22, 3)), "juggle")


# ---------------------------------------------------------------- one take at a time


@needs_data
def test_walk_imports_standing_on_the_floor_with_alternating_contacts(bandai):
    started = time.perf_counter()
    motion = read_bvh(bandai["walk2"])
    assert time.perf_counter() - started < 1.5  # one file, well under a few seconds
    joints = motion.joints
    assert (motion.skeleton, motion.scale, motion.up, motion.fps_in) == ("bandai", 0.01, "+y", 30.0)
    feet = joints[:, [JOINT["left_ankle"], JOINT["left_foot"], JOINT["right_ankle"], JOINT["right_foot"]], 1]
    height = np.percentile(joints[:, JOINT["head"], 1] - feet.min(1), 95)  # the most upright moments of the gait
    assert 1.3 <= height <= 1.5, f"joint-to-joint height {height:.2f} m"
    assert feet.min() == pytest.approx(0.0, abs=1e-9)
    assert np.median(feet.min(1)) < 0.03  # a foot is on the floor in most frames, not just the lowest one
    contacts = extract_features(joints)[:, BLOCKS["contacts"]]  # (T-1, 4): L ankle, L foot, R ankle, R foot
    left, right = contacts[:, :2].max(1), contacts[:, 2:].max(1)
    assert 0.2 < left.mean() < 0.9 and 0.2 < right.mean() < 0.9
    assert ((left > 0) & (right == 0)).mean() > 0.1 and ((right > 0) & (left == 0)).mean() > 0.1  # alternating
    assert (np.diff(left) > 0).sum() >= 2 and (np.diff(right) > 0).sum() >= 2  # steps, several of each foot


@needs_data
def test_wave_left_hand_raises_joint_20(bandai):
    """Handedness: in wave-left-hand the actor's left wrist (our joint 20) goes above the head."""
    joints = read_bvh(bandai["wave_left"]).joints
    head = joints[:, JOINT["head"], 1]
    assert (joints[:, JOINT["left_wrist"], 1] > head).mean() > 0.3
    assert (joints[:, JOINT["right_wrist"], 1] < joints[:, JOINT["right_shoulder"], 1]).all()
    assert label_piece(joints, "wave-left-hand") == ("wave", "wave_left", {"side": "left"})
    right = read_bvh(bandai["wave_right"]).joints
    assert label_piece(right, "wave-right-hand")[1] == "wave_right"


@needs_data
def test_walk_turn_left_is_positive_yaw(bandai):
    joints = read_bvh(bandai["turn_left"]).joints
    assert turn_degrees(joints) > 45
    concept, fine, attrs = label_piece(joints, "walk-turn-left")
    assert (concept, fine, attrs["turn"]) == ("walk", "walk_turn_left", "left")


@needs_data
@pytest.mark.parametrize(
    "key, content, fine",
    [("walk", "walk", "walk_forward"), ("walk_back", "walk-back", "walk_backward"), ("walk_left", "walk-left", "walk_left"),
     ("bye", "bye", "wave_right"), ("kick", "kick", "kick_right"), ("punch_1", "punch", "punch_left"), ("punch_2", "punch", "punch_right")],
)
def test_measured_labels(bandai, key, content, fine):
    motions, _ = take_motions(take_of(bandai[key]))
    assert motions and all(m.fine == fine for m in motions)


@needs_data
def test_take_motions_are_real_pieces_of_one_take(bandai):
    take = take_of(bandai["kick"])  # 12 s: cut into pieces
    motions, dropped = take_motions(take)
    assert len(motions) >= 2 and dropped == 0
    for m in motions:
        assert m.real and not m.cyclic and m.source == "bandai1_kick_normal_001"
        assert MIN_PIECE_FRAMES <= m.num_frames <= MAX_PIECE_FRAMES
        (segment,) = m.segments
        assert (segment.start, segment.end) == (0, m.num_frames)
        assert segment.attrs["manner"] == "normal" and segment.attrs["count"] >= 1


def spec_world_positions(text: str) -> tuple[list[str], np.ndarray]:
    """World positions (T, J, 3) by the BVH spec, parsed with the independent `bvh` package: each joint's
    channels multiply in listed order; its translation channels, when present, replace its OFFSET."""
    from bvh import Bvh

    parsed = Bvh(text)
    names, T = parsed.get_joints_names(), parsed.nframes
    world_pos, world_rot = {}, {}
    for name in names:
        channels = parsed.joint_channels(name)
        values = np.array(parsed.frames_joint_channels(name, channels), dtype=float).reshape(T, len(channels))
        rot = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
        pos = np.broadcast_to(np.array(parsed.joint_offset(name), dtype=float), (T, 3)).copy()
        for col, channel in enumerate(channels):
            axis = "XYZ".index(channel[0])
            if channel.endswith("position"):
                pos[:, axis] = values[:, col]
                continue
            a = np.radians(values[:, col])
            m = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
            j, k = (axis + 1) % 3, (axis + 2) % 3
            m[:, j, j], m[:, k, k], m[:, j, k], m[:, k, j] = np.cos(a), np.cos(a), -np.sin(a), np.sin(a)
            rot = rot @ m
        parent = parsed.joint_parent(name)
        if parent is None:
            world_pos[name], world_rot[name] = pos, rot
        else:
            world_pos[name] = world_pos[parent.name] + np.einsum("tij,tj->ti", world_rot[parent.name], pos)
            world_rot[name] = world_rot[parent.name] @ rot
    return names, np.stack([world_pos[n] for n in names], axis=1)


@needs_data
def test_forward_kinematics_matches_the_bvh_spec_and_bvhio(bandai, tmp_path):
    """Our numpy FK over bvhio's parsed poses vs an independent spec FK and bvhio's own hierarchy (frame 0..14)."""
    import bvhio

    from motion_lora.data.bvh_import.parse import forward_kinematics, parse_bvh

    head, motion = bandai["wave_left"].read_text().split("MOTION")
    lines = motion.strip().splitlines()
    short = tmp_path / "short.bvh"
    short.write_text(head + "MOTION\nFrames: 15\n" + "\n".join(lines[1:17]) + "\n")  # Frame Time + 15 frames
    names, parents, translations, rotations, _ = parse_bvh(short)
    ours = forward_kinematics(parents, translations, rotations)  # (15, J, 3) centimetres
    spec_names, spec = spec_world_positions(short.read_text())
    assert spec_names == names
    assert np.abs(ours - spec).max() < 1e-3  # 10 micrometres, in cm
    hierarchy = bvhio.readAsHierarchy(str(short))
    joints = {j.Name: j for j, _, _ in hierarchy.layout()}
    for frame in (0, 14):
        hierarchy.loadPose(frame, recursive=True)
        theirs = np.array([tuple(joints[n].PositionWorld) for n in names])
        assert np.abs(ours[frame] - theirs).max() < 1e-3


# ---------------------------------------------------------------- the loader on a small copy of the dataset


@pytest.fixture(scope="module")
def small_copy(bandai, tmp_path_factory) -> Path:
    """A folder laid out like the dataset, holding part 1's label files and the part-1 takes above."""
    root = tmp_path_factory.mktemp("small") / "dataset"
    part = root / PART1
    shutil.copytree(bandai["root"] / PART1 / "cfg", part / "cfg")
    (part / "data").mkdir(parents=True)
    for key in ("walk", "walk_back", "bye", "punch_1"):
        for suffix in (".bvh", ".json"):
            shutil.copy(bandai[key].with_suffix(suffix), part / "data")
    return root


@needs_data
def test_load_bandai_from_a_folder_and_a_tarball(small_copy, tmp_path):
    motions = load_bandai(small_copy)
    assert {m.source for m in motions} == {"bandai1_walk_normal_001", "bandai1_walk-back_sad_001", "bandai1_bye_normal_001", "bandai1_punch_normal_001"}
    assert all(m.real and m.segments[0].attrs["manner"] in ("normal", "sad") for m in motions)
    tarball = tmp_path / "small.tar.xz"
    with tarfile.open(tarball, "w:xz") as archive:
        archive.add(small_copy, arcname="dataset")
    from_tar = load_bandai(tarball)
    assert [m.source for m in from_tar] == [m.source for m in motions]
    assert all(np.array_equal(a.joints, b.joints) for a, b in zip(from_tar, motions))
    summary = describe_bandai(small_copy)
    assert summary["takes"] == 4 and summary["pieces"] == len(motions)
    assert summary["per_content"]["punch"]["fine"] == {"punch_left": 1}
    assert summary["per_concept"]["walk"]["frames"] == sum(m.num_frames for m in motions if m.concept == "walk")


@needs_data
def test_label_that_disagrees_with_the_file_name_is_an_error(small_copy, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(small_copy, broken)
    label = next((broken / PART1 / "data").glob("dataset-1_bye_*.json"))
    label.write_text('{"content": 0, "style": 0}')  # walk / normal
    with pytest.raises(ValueError, match=re.escape(label.name) + ".*file name says bye"):
        find_takes(broken)


def test_not_the_dataset_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="not the Bandai Namco dataset"):
        load_bandai(tmp_path)
    with pytest.raises(ValueError, match="not found"):
        load_bandai(tmp_path / "missing.tar.xz")
    garbage = tmp_path / "garbage.tar.xz"
    garbage.write_bytes(b"not an archive at all")
    with pytest.raises(ValueError, match="garbage.tar.xz: not a readable tar archive"):
        load_bandai(garbage)
