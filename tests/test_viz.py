"""Tests for motion_lora.viz on a small synthetic walk (no dataset needed)."""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from motion_lora.motion.features import FEATURE_DIM, extract_features
from motion_lora.motion.quaternion import qfrom_axis_angle
from motion_lora.motion.skeleton import JOINT, NUM_JOINTS, pose_joints, rest_quats
from motion_lora.serving import viz

HAVE_CHROMIUM = os.path.exists("/usr/bin/chromium")
X_AXIS = np.array([1.0, 0.0, 0.0])


def synthetic_walk(frames: int = 40) -> np.ndarray:
    """A crude walk: legs and arms swing in opposite phase, knees bend, the body moves along +z."""
    t = np.arange(frames) / viz.FPS
    phase = 2 * np.pi * 1.0 * t  # one stride per second
    quats = rest_quats(frames)
    swing = 0.45 * np.sin(phase)
    # rotation about +x by a positive angle swings a hanging limb backwards
    quats[:, JOINT["left_hip"]] = qfrom_axis_angle(X_AXIS, -swing)
    quats[:, JOINT["right_hip"]] = qfrom_axis_angle(X_AXIS, swing)
    quats[:, JOINT["left_knee"]] = qfrom_axis_angle(X_AXIS, 0.5 * np.clip(np.sin(phase + 1.2), 0, None))
    quats[:, JOINT["right_knee"]] = qfrom_axis_angle(X_AXIS, 0.5 * np.clip(-np.sin(phase + 1.2), 0, None))
    quats[:, JOINT["left_shoulder"]] = qfrom_axis_angle(X_AXIS, 0.6 * swing)
    quats[:, JOINT["right_shoulder"]] = qfrom_axis_angle(X_AXIS, -0.6 * swing)
    root = np.zeros((frames, 3))
    root[:, 1] = 0.86 + 0.02 * np.cos(2 * phase)
    root[:, 2] = 1.1 * t
    return pose_joints(root, quats)


@pytest.fixture(scope="module")
def walk() -> np.ndarray:
    return synthetic_walk()


@pytest.fixture()
def dataset(tmp_path, walk) -> Path:
    root = tmp_path / "bank"
    (root / "new_joints").mkdir(parents=True)
    (root / "new_joint_vecs").mkdir()
    (root / "texts").mkdir()
    np.save(root / "new_joints" / "000001.npy", walk.astype(np.float32))
    np.save(root / "new_joint_vecs" / "000001.npy", extract_features(walk).astype(np.float32))
    (root / "texts" / "000001.txt").write_text(
        "a person walks forward#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0\n"
        "someone strolls ahead#someone/PRON stroll/VERB ahead/ADV#0.0#0.0\n"
    )
    return root


# ------------------------------------------------------------------------------------------ loading


def test_load_by_id_uses_first_caption(dataset, walk):
    joints, title = viz.load_motion("000001", dataset)
    assert joints.shape == walk.shape
    assert title == "a person walks forward"


def test_load_path_inside_dataset_gets_caption(dataset):
    _, title = viz.load_motion(dataset / "new_joints" / "000001.npy", "unused")
    assert title == "a person walks forward"


def test_feature_input_is_auto_detected(tmp_path, walk):
    features = extract_features(walk)
    assert features.shape == (len(walk) - 1, FEATURE_DIM)
    path = tmp_path / "feats.npy"
    np.save(path, features)
    joints, title = viz.load_motion(path, tmp_path)
    assert joints.shape == (len(walk) - 1, NUM_JOINTS, 3)
    assert title == "feats"
    # recovered from features, the clip still walks forward about as far as the original
    travelled = joints[-1, 0, 2] - joints[0, 0, 2]
    assert travelled == pytest.approx(walk[-2, 0, 2] - walk[0, 0, 2], abs=0.1)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such motion file"):
        viz.load_motion(tmp_path / "nope.npy", tmp_path)


def test_unknown_id(dataset):
    with pytest.raises(FileNotFoundError, match="unknown clip id '999999'"):
        viz.load_motion("999999", dataset)


@pytest.mark.parametrize("shape", [(10, 21, 3), (10, 262), (22, 3), (10, 22, 3, 1)])
def test_wrong_shape(tmp_path, shape):
    path = tmp_path / "bad.npy"
    np.save(path, np.zeros(shape))
    with pytest.raises(ValueError, match="cannot tell what an array of shape"):
        viz.load_motion(path, tmp_path)


@pytest.mark.parametrize("features", [False, True])
def test_nan_rejected(tmp_path, walk, features):
    array = extract_features(walk) if features else walk.copy()
    array[3, 5] = np.nan
    path = tmp_path / "nan.npy"
    np.save(path, array)
    with pytest.raises(ValueError, match="NaN"):
        viz.load_motion(path, tmp_path)


def test_unsupported_output_extension(tmp_path, walk):
    with pytest.raises(ValueError, match="unsupported output"):
        viz.save(viz.motion_figure([walk], ["walk"]), tmp_path / "walk.gif")


# ------------------------------------------------------------------------------------------ figures


def test_motion_figure_structure(walk):
    other = walk[:25] + np.array([0.0, 0.0, -0.5])
    fig = viz.motion_figure([walk, other], ["a", "b"], title="two clips")
    assert len(fig.frames) == len(walk)  # the longer clip sets the length
    assert fig.layout.title.text == "two clips"
    # axis ranges are fixed: they cover every joint of every frame
    for name in ("xaxis", "yaxis", "zaxis"):
        axis = fig.layout.scene[name]
        assert axis.autorange is False and axis.range[0] < axis.range[1]
    z_range = fig.layout.scene.zaxis.range  # our y (up)
    assert z_range[0] <= 0.0 and z_range[1] >= walk[..., 1].max()
    # the two skeletons are side by side: their pelvises are apart along our x (plotly y)
    pelvis_ys = [trace.y[0] for trace in fig.frames[0].data if trace.mode == "lines+markers" and trace.name == "spine / head"]
    assert len(pelvis_ys) == 2 and abs(pelvis_ys[0] - pelvis_ys[1]) > 0.5
    # three bone colours: left, right, spine
    colours = {trace.line.color for trace in fig.frames[0].data if trace.mode == "lines+markers"}
    assert len(colours) == 3
    assert list(fig.layout.sliders[0].steps[-1].args[0]) == [str(len(walk) - 1)]
    assert fig.layout.updatemenus[0].buttons[0].args[1]["frame"]["duration"] == 1000 / viz.FPS


def test_motion_figure_label_count_mismatch(walk):
    with pytest.raises(ValueError, match="labels"):
        viz.motion_figure([walk, walk], ["only one"])


def test_filmstrip_figure_layout(walk):
    fig = viz.filmstrip_figure(walk, poses=5, view="both")
    titles = [fig.layout[key].title.text for key in fig.layout if key.startswith("xaxis")]
    assert sum(1 for t in titles if t and t.startswith("frame ")) == 10  # 5 poses x 2 views
    assert fig.layout.xaxis.title.text.startswith("frame 0<")
    assert fig.layout.xaxis5.title.text.startswith(f"frame {len(walk) - 1}<")
    # equal scale: every cell spans the same extent in metres horizontally
    widths = {round(fig.layout[key].range[1] - fig.layout[key].range[0], 6) for key in fig.layout if key.startswith("xaxis")}
    assert len(widths) == 1
    one_view = viz.filmstrip_figure(walk, poses=3, view="side")
    assert len([k for k in one_view.layout if k.startswith("xaxis")]) == 3
    with pytest.raises(ValueError, match="unknown view"):
        viz.filmstrip_figure(walk, view="top")


# ------------------------------------------------------------------------------------------ CLI / files


def test_html_written_and_self_contained(dataset, tmp_path, walk):
    out = tmp_path / "clip.html"
    viz.main(["000001", "--data", str(dataset), "--out", str(out)])
    html = out.read_text(encoding="utf-8")
    assert len(html) > 1_000_000  # plotly.js is embedded
    assert "addFrames" in html  # animation frames are registered with plotly.js
    assert '"name":"0"' in html and f'"name":"{len(walk) - 1}"' in html  # one frame per pose
    assert "a person walks forward" in html
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", html), "HTML loads a remote script"


def test_cli_errors_exit_with_message(dataset, tmp_path):
    with pytest.raises(SystemExit, match="unknown clip id"):
        viz.main(["424242", "--data", str(dataset), "--out", str(tmp_path / "x.html")])
    with pytest.raises(SystemExit, match="unsupported output"):
        viz.main(["000001", "--data", str(dataset), "--out", str(tmp_path / "x.jpg")])
    with pytest.raises(SystemExit, match="no such motion file"):
        viz.main([str(tmp_path / "missing.npy"), "--out", str(tmp_path / "x.html")])


def test_png_without_browser_is_a_clear_error(tmp_path, walk, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chrome"))
    with pytest.raises(RuntimeError, match="install chromium|Install chromium"):
        viz.save(viz.filmstrip_figure(walk, poses=2), tmp_path / "x.png")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(not HAVE_CHROMIUM, reason="PNG export needs Chromium at /usr/bin/chromium for kaleido")
def test_png_filmstrip_written(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/usr/bin/chromium")
    out = tmp_path / "clip.png"
    viz.main(["000001", "--data", str(dataset), "--out", str(out), "--poses", "4", "--view", "both"])
    data = out.read_bytes()
    width, height = _png_size(data)
    assert 400 < width < 4000 and 300 < height < 3000
    assert len(data) > 10_000  # not a blank image
