"""MotionBank: the builder's output layout, labels, splits, determinism, and the HumanML3D-layout Dataset."""

import dataclasses
import hashlib
import json
import sys
from collections import Counter

import numpy as np
import pytest

from motion_lora.data import augment, builder, procedural
from motion_lora.data.captions import caption_segments, heldout_markers, parse_text_line
from motion_lora.data.clip import BANDAI_ONLY_CONCEPTS, CONCEPT_INDEX, CONCEPTS, Motion, Segment
from motion_lora.data.dataset import MotionDataset, collate
from motion_lora.motion import features as F
from motion_lora.motion.skeleton import BONE_LENGTHS, bone_lengths


def tree_hash(root):
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def labels(root):
    return {p.stem: json.loads(p.read_text()) for p in (root / "labels").glob("*.json")}


def test_summary_and_layout(quick_bank):
    root, summary = quick_bank
    assert summary["clips"] == len(list((root / "new_joint_vecs").glob("*.npy")))
    assert summary["captions"] > 3 * summary["clips"] - 1
    assert summary["hours"] > 0 and summary["frames"] > 40 * summary["clips"] - 1
    for name in ("Mean.npy", "Std.npy", "train.txt", "val.txt", "test.txt", "concepts.json"):
        assert (root / name).exists()
    assert np.load(root / "Std.npy").shape == (263,)
    for clip_id, label in list(labels(root).items())[:40]:
        vecs = np.load(root / "new_joint_vecs" / f"{clip_id}.npy")
        joints = np.load(root / "new_joints" / f"{clip_id}.npy")
        assert vecs.shape[1] == 263 and 40 <= len(vecs) <= 196
        assert joints.shape == (len(vecs), 22, 3)
        assert label["concept"] in CONCEPTS and label["fine"].startswith(label["concept"])
        for seg in label["segments"]:
            assert 0 <= seg["start"] < seg["end"] <= len(vecs)
        lines = (root / "texts" / f"{clip_id}.txt").read_text().splitlines()
        assert len(lines) >= 3
        for line in lines:
            caption, tokens, start, end = parse_text_line(line)
            assert caption and "/" in tokens and (start, end) == (0.0, 0.0)


def test_every_concept_present(quick_bank):
    """Without the Bandai dataset every concept but the Bandai-only ones has clips."""
    _, summary = quick_bank
    missing = [c for c in CONCEPTS if summary["clips_per_concept"][c] == 0]
    assert missing and set(missing) <= set(BANDAI_ONLY_CONCEPTS)  # quick_bank is built without Bandai


def test_summary_counts_real_and_procedural_frames(quick_bank):
    _, summary = quick_bank
    per_concept = summary["frames_per_concept"]
    assert sum(f["real"] for f in per_concept.values()) == summary["real_frames"] > 0
    assert per_concept["backflip"]["procedural"] == 0 < per_concept["backflip"]["real"]  # DeepMimic only
    assert per_concept["clap"]["real"] == 0 < per_concept["clap"]["procedural"]  # procedural only
    assert "motion capture" in builder.format_summary({**summary, "seconds": 1.0})


def test_real_take_splits_hold_out_every_concept_with_two_takes():
    config = builder.BuildConfig()
    takes = [("deepmimic_kick", "kick"), ("deepmimic_spinkick", "kick"), ("bandai_kick_1", "kick"),
             ("bandai_punch_1", "punch"), ("bandai_punch_2", "punch"), ("deepmimic_roll", "roll")]
    takes += [(f"bandai_walk_{i}", "walk") for i in range(30)]
    splits = builder.real_take_splits(takes, config, np.random.default_rng(0))
    by = lambda concept: [splits[t] for t, c in takes if c == concept]  # noqa: E731
    assert splits["deepmimic_roll"] == "train"  # a single take cannot be held out
    assert sorted(by("punch")) == ["test", "train"]
    assert sorted(by("kick")) == ["test", "train", "train"] and splits["bandai_kick_1"] == "test"  # DeepMimic stays in train
    walk = by("walk")
    assert walk.count("test") >= 2 and walk.count("val") >= 2 and walk.count("train") >= 20


def test_cap_takes_keeps_whole_takes():
    seg = lambda fine: [Segment(concept="wave", fine=fine, start=0, end=41)]  # noqa: E731
    pieces = [Motion(joints=np.zeros((41, 22, 3)), segments=seg("wave_left"), source=f"take{i // 2}", real=True)
              for i in range(20)]
    kept = builder.cap_takes(pieces, 3, seed=0)
    assert len({m.source for m in kept}) == 3 and len(kept) == 6  # both pieces of each kept take


def test_bone_lengths_exact_in_written_joints(quick_bank):
    root, _ = quick_bank
    for path in sorted((root / "new_joints").glob("*.npy"))[:30]:
        lengths = bone_lengths(np.load(path).astype(np.float64))
        assert np.abs(lengths - BONE_LENGTHS).max() < 1e-4  # float32 storage


def test_splits_by_source_and_mirrors_paired(quick_bank):
    root, _ = quick_bank
    lab = labels(root)
    split_of_source = {}
    for clip_id, label in lab.items():
        assert split_of_source.setdefault(label["source"], label["split"]) == label["split"]
        if not clip_id.startswith("M"):
            assert lab["M" + clip_id]["split"] == label["split"]
    ids = {s: set((root / f"{s}.txt").read_text().split()) for s in ("train", "val", "test")}
    assert not (ids["train"] & ids["val"]) and not (ids["train"] & ids["test"]) and not (ids["val"] & ids["test"])


def test_augmented_copies_only_in_train():
    config = dataclasses.replace(builder.QUICK, variants_per_source=3, real_variants=2, composites=4)
    clips_per_source: dict[tuple[str, str], int] = Counter((c.motion.source, c.split) for c in builder.plan_clips(config))
    for (_, split), n in clips_per_source.items():
        if split != "train":
            assert n == 2  # one variant and its mirror
    assert max(n for (_, split), n in clips_per_source.items() if split == "train") >= 6
    assert {split for _, split in clips_per_source} == {"train", "val", "test"}


def test_heldout_phrasings_only_in_test(quick_bank):
    root, _ = quick_bank
    markers = [m for c in CONCEPTS for m in heldout_markers(c)]
    found_in_test = 0
    for clip_id, label in labels(root).items():
        text = (root / "texts" / f"{clip_id}.txt").read_text().lower()
        words = " " + " ".join(w.strip(".,") for w in text.replace("#", " ").split()) + " "
        has_marker = any(f" {m} " in words for m in markers)
        if label["split"] != "test":
            assert not has_marker, f"held-out phrasing in {label['split']} clip {clip_id}"
            assert label["heldout_captions"] == []
        else:
            found_in_test += has_marker
    assert found_in_test > 0


def test_mirrored_right_kick_matches_generated_left_kick():
    right = procedural.sample_motion("kick", np.random.default_rng(7), source="r", side="right", style="front")
    left = procedural.sample_motion("kick", np.random.default_rng(7), source="l", side="left", style="front")
    mirrored = augment.mirror(right)
    assert [s.fine for s in mirrored.segments] == [s.fine for s in left.segments] == ["kick_front_left"]
    assert mirrored.segments[0].attrs == left.segments[0].attrs
    assert caption_segments(mirrored.segments, np.random.default_rng(3)) == caption_segments(left.segments, np.random.default_rng(3))


def test_same_seed_same_bytes_other_seed_differs(tmp_path, quick_bank):
    root, _ = quick_bank
    again = tmp_path / "again"
    builder.build(again, builder.QUICK, log=lambda *_: None)
    assert tree_hash(again) == tree_hash(root)
    other = tmp_path / "other"
    builder.build(other, builder.dataclasses.replace(builder.QUICK, seed=1), log=lambda *_: None)
    assert tree_hash(other) != tree_hash(root)


def test_foot_contacts_plausible():
    """Standing still: feet in contact; walking: in between; running: mostly airborne or moving."""
    rng = np.random.default_rng(0)

    def contact_rate(motion):
        return F.extract_features(motion.joints)[:, F.BLOCKS["contacts"]].mean()

    stand = augment.pad_idle(procedural.sample_motion("wave", rng, source="w"), 120, rng)
    idle = F.extract_features(stand.joints[:20])[:, F.BLOCKS["contacts"]].mean()
    walk = contact_rate(procedural.sample_motion("walk", rng, source="a"))
    run = contact_rate(procedural.sample_motion("run", rng, source="b", speed="fast"))
    assert idle > 0.95
    assert 0.2 < walk < 0.85
    assert run < walk and run < 0.4


def test_dataset_items(quick_bank):
    root, _ = quick_bank
    ds = MotionDataset(root, "train", seed=0)
    item = ds[0]
    assert item["motion"].shape == (196, 263) and item["length"] % 4 == 0 and 40 <= item["length"] <= 196
    assert (item["motion"][item["length"] :] == 0).all()
    assert item["concept"] >= 0 and item["caption"]
    batch = collate([ds[i] for i in range(4)])
    assert batch["motion"].shape == (4, 196, 263) and batch["length"].shape == (4,)
    test = MotionDataset(root, "test", captions="all", random_crop=False)
    assert any(test[i]["heldout"] for i in range(len(test)))
    assert len(test) > len(test.entries)


def test_dataset_reads_real_humanml3d_layout(tmp_path):
    """No labels folder, sub-clip captions with start/end times, real-style tokens."""
    rng = np.random.default_rng(0)
    root = tmp_path / "HumanML3D"
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    np.save(root / "new_joint_vecs" / "000001.npy", rng.normal(size=(150, 263)).astype(np.float32))
    np.save(root / "new_joint_vecs" / "000002.npy", rng.normal(size=(30, 263)).astype(np.float32))  # too short
    (root / "texts" / "000001.txt").write_text(
        "a man kicks something with his left leg.#a/DET man/NOUN kick/VERB something/PRON with/ADP his/DET left/ADJ leg/NOUN#0.0#0.0\n"
        "a person walks then turns.#a/DET person/NOUN walk/VERB then/ADV turn/VERB#1.0#4.5\n"
    )
    (root / "texts" / "000002.txt").write_text("too short#too/ADV short/ADJ#0.0#0.0\n")
    (root / "train.txt").write_text("000001\n000002\n000003\n")
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    ds = MotionDataset(root, "train", captions="all", random_crop=False)
    ids = sorted(e.id for e in ds.entries)
    assert ids == ["000001", "000001#1"]  # the sub-clip (1.0-4.5 s = 70 frames) is its own entry
    sub = next(e for e in ds.entries if e.id == "000001#1")
    assert len(sub.features) == 70 and sub.concept == -1


def test_dataset_bad_inputs(tmp_path, quick_bank):
    root, _ = quick_bank
    with pytest.raises(ValueError, match="split"):
        MotionDataset(root, "training")
    with pytest.raises(FileNotFoundError, match="train.txt"):
        MotionDataset(tmp_path, "train", mean=np.zeros(263), std=np.ones(263))


def test_missing_pybullet_is_a_clear_error(monkeypatch, tmp_path, capsys):
    from motion_lora.data import __main__ as cli

    monkeypatch.setitem(sys.modules, "pybullet_data", None)
    assert cli.main(["build", "--out", str(tmp_path / "x"), "--quick"]) == 1
    assert "pybullet" in capsys.readouterr().err


def test_looping_a_straight_walk_keeps_its_heading_and_pace():
    from motion_lora.data import deepmimic
    from motion_lora.motion.skeleton import facing_quaternion

    walk = deepmimic.load_clip("walk")
    looped = augment.loop(walk, 190)
    assert looped.num_frames >= 190 and len(looped.segments) == 1
    q = facing_quaternion(looped.joints[[0, -1]])
    turn = np.degrees(2 * np.arccos(min(1.0, abs(float((q[0] * q[1]).sum())))))
    assert turn < 20, f"a looped straight walk turned by {turn:.0f} degrees"
    step = np.linalg.norm(np.diff(looped.joints[:, 0, [0, 2]], axis=0), axis=-1)  # root speed per frame
    assert step.min() > 0.25 * np.median(step) and step.max() < 2.5 * np.median(step)  # no repeated or skipped seam frames


def test_dataset_excludes_a_concept_everywhere(quick_bank):
    """The retrained-without-kick reference sees no kick clip, no composite with a kick, no kick caption."""
    root, _ = quick_bank
    full = MotionDataset(root, "train", seed=0)
    kept = MotionDataset(root, "train", seed=0, exclude_concepts=("kick",))
    kick = CONCEPT_INDEX["kick"]
    assert any(e.concept == kick for e in full.entries)
    assert 0 < len(kept.entries) < len(full.entries)
    assert all(e.concept != kick for e in kept.entries)
    assert not any("kick" in c.lower() for e in kept.entries for c in e.captions)
    with pytest.raises(ValueError, match="unknown concept"):
        MotionDataset(root, "train", exclude_concepts=("kik",))
