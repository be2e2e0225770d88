"""The few-step student (motion_lora.model.distill, student.py) on a tiny teacher: the objective is learned, the
student samples on its own schedule through MotionGenerator, and other settings go to the teacher."""

import dataclasses
import json

import pytest
import torch

from motion_lora.model.diffusion import Schedule
from motion_lora.model.distill import (
    DistillConfig,
    distill,
    main,
    student_estimates,
)
from motion_lora.model.generator import MotionGenerator, SampleOptions
from motion_lora.model.sampler import DEFAULT_SCHEDULER, Sampler
from motion_lora.model.student import StudentSpec, read_student, write_student
from motion_lora.model.teacher_samples import VAL_FILE

# The teacher setting here is UniPC 6 steps (the app's 12 would double the test's time; 6 is still 3x the student's).
FAST = DistillConfig(
    student_steps=2, val_items=8, steps=100, batch_size=16, lr=1e-3, warmup=10, ckpt_every=50, ema=0.9, teacher_steps=6
)
# The student's sample against the slow teacher's (UniPC 12 steps, guidance 2.5) on val-split captions, as relative
# squared error |student - teacher|^2 / |teacher|^2. Measured on this tiny model: 0.26 before distillation
# (2 DDIM steps of the teacher without guidance), 0.064 after 100 steps of 16 samples.
BEFORE_AT_LEAST, AFTER_AT_MOST = 0.15, 0.12


@pytest.fixture(scope="module")
def student(tiny_root, quick_bank, tmp_path_factory):
    data, _ = quick_bank
    out = tmp_path_factory.mktemp("student")
    distill(tiny_root / "t2m" / "tiny_base", data, out, FAST, log=lambda *_: None)
    return out


def relative_error(student_x0: torch.Tensor, teacher_x0: torch.Tensor) -> float:
    return float(((student_x0 - teacher_x0) ** 2).sum() / (teacher_x0**2).sum())


def val_samples(folder, val, options):
    """Every validation item sampled by the generator of `folder` at `options` (frames: each item's own)."""
    gen = MotionGenerator(folder)
    return [
        gen.sample([c], [s], SampleOptions(**{**options, "frames": n}))[0]
        for c, s, n in zip(val["captions"], val["seeds"], val["lengths"])
    ]


def test_student_matches_the_slow_teacher_after_distillation_and_not_before(student, tiny_root):
    val = torch.load(student / VAL_FILE, weights_only=True)  # val-split captions: never trained on
    teacher = torch.cat([x.float() for x in val["x0"]])
    slow = dict(steps=FAST.teacher_steps, scheduler=FAST.teacher_scheduler, guidance=FAST.guidance, plant_feet=False)
    # the validation set holds the slow teacher's samples (float16): the generator at that setting gives them again
    again = torch.cat(val_samples(tiny_root / "t2m" / "tiny_base", val, slow))
    assert relative_error(again, teacher) < 1e-5
    # before: the teacher itself on the student's schedule (2 DDIM steps, caption alone)
    before = torch.cat(
        val_samples(
            tiny_root / "t2m" / "tiny_base", val, dict(steps=2, scheduler="ddim", guidance=1.0, plant_feet=False)
        )
    )
    # after: the student at the teacher setting, which it samples on its own 2-step schedule
    after = torch.cat(val_samples(student, val, slow))
    assert relative_error(before, teacher) > BEFORE_AT_LEAST
    assert relative_error(after, teacher) < AFTER_AT_MOST
    log = [json.loads(line) for line in (student / "train_log.jsonl").read_text().splitlines()]
    errors = [r["val_error"] for r in log if "val_error" in r]
    assert errors[-1] < 0.3 * errors[0]


def test_training_unroll_is_the_sampler(student):
    """The differentiable DDIM chain the loss runs equals Sampler('ddim', K), which the generator samples with."""
    gen = MotionGenerator(student)
    spec = gen.student
    noise, lengths = torch.randn(2, 40, 263), torch.tensor([40, 40])
    text = gen.text_encoder.encode(["a person walks", "a person jumps"])
    timesteps = Sampler(spec.scheduler, spec.steps).timesteps
    with torch.no_grad():
        ours = student_estimates(
            gen.model, noise, (text.tokens, text.mask, text.pooled), lengths, timesteps, Schedule()
        )[-1]
        theirs = Sampler(spec.scheduler, spec.steps).sample(
            lambda x, t, i: gen.model(x, t, text.tokens, text.mask, text.pooled, lengths), noise
        )
    assert (ours - theirs).abs().max() < 1e-4


def test_the_student_checkpoint(student, tiny_root):
    spec = read_student(student)
    assert (spec.steps, spec.scheduler, spec.teacher_scheduler, spec.teacher_steps, spec.guidance) == (
        2,
        "ddim",
        DEFAULT_SCHEDULER,
        6,
        2.5,
    )
    weights = student / "model.safetensors"
    from safetensors.torch import load_file

    assert {t.dtype for t in load_file(str(weights)).values()} == {torch.float16}
    info = json.loads((student / "train_info.json").read_text())
    assert info["steps"] == FAST.steps and info["samples"] == FAST.steps * FAST.batch_size
    assert 0 < info["teacher_sampling_seconds"] < info["train_seconds"]


def test_other_settings_take_the_teacher_path(student, tiny_root):
    gen, teacher = MotionGenerator(student), MotionGenerator(tiny_root / "t2m" / "tiny_base")
    options = SampleOptions(frames=40, steps=5, scheduler="ddim")
    assert torch.equal(gen.sample(["a person waves"], [3], options), teacher.sample(["a person waves"], [3], options))
    # a caller's own forward of the module (as adapters run) gets the teacher's weights on the teacher path
    mine = gen.sample(["a person waves"], [3], options, denoise=lambda x, t, tok, m, p, L, i: gen.model(x, t, tok, m, p, L))
    assert torch.equal(mine, teacher.sample(["a person waves"], [3], options))
    # at the teacher setting a caller's forward runs on the student's own schedule: 2 calls
    calls = []
    gen.sample(
        ["a person waves"],
        [3],
        SampleOptions(frames=40, steps=6),
        denoise=lambda x, t, tok, m, p, L, i: calls.append(x.shape) or gen.model(x, t, tok, m, p, L),
    )
    assert calls == [(1, 40, 263)] * 2  # the caption alone: no unconditional rows
    # fast=False asks the full sampler even at the student's setting
    full = SampleOptions(frames=40, steps=6, fast=False)
    assert torch.equal(gen.sample(["a person waves"], [3], full), teacher.sample(["a person waves"], [3], full))


def test_a_teacher_with_its_student_is_one_module_with_two_weight_sets(student, tiny_root):
    """MotionGenerator(teacher, student=...) samples like the student at its setting and like the teacher at any
    other, through one module (so one set of adapters steers both); the weights it swaps in always come back."""
    base = tiny_root / "t2m" / "tiny_base"
    pair, alone, teacher = MotionGenerator(base, student=student), MotionGenerator(student), MotionGenerator(base)
    before = {k: v.clone() for k, v in pair.model.state_dict().items()}
    fast, other = SampleOptions(frames=40, steps=6), SampleOptions(frames=40, steps=4, scheduler="ddim")
    assert pair.serves_with_student(fast.validated()) and not pair.serves_with_student(other.validated())
    assert torch.equal(pair.sample(["a person jumps"], [1], fast), alone.sample(["a person jumps"], [1], fast))
    assert torch.equal(pair.sample(["a person jumps"], [1], other), teacher.sample(["a person jumps"], [1], other))
    assert "student" in pair.describe(fast.validated()) and "student" not in pair.describe(other.validated())
    with pytest.raises(RuntimeError, match="boom"):  # an error mid-sample still swaps the teacher back
        pair.sample(["a person jumps"], [1], fast, denoise=lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    assert all(torch.equal(v, before[k]) for k, v in pair.model.state_dict().items())
    with pytest.raises(ValueError, match="not a few-step student"):
        MotionGenerator(base, student=base)
    with pytest.raises(ValueError, match="student already"):
        MotionGenerator(student, student=student)


def test_resume_adds_steps_and_keeps_the_validation_set(student, tiny_root, quick_bank):
    data, _ = quick_bank
    val_written = (student / VAL_FILE).stat().st_mtime_ns
    before = json.loads((student / "train_info.json").read_text())
    more = dataclasses.replace(FAST, steps=FAST.steps + 10)
    distill(tiny_root / "t2m" / "tiny_base", data, student, more, log=lambda *_: None)
    after = json.loads((student / "train_info.json").read_text())
    assert after["steps"] == FAST.steps + 10 and after["train_seconds"] > before["train_seconds"]
    assert (student / VAL_FILE).stat().st_mtime_ns == val_written


def test_bad_specs_and_arguments(tmp_path, quick_bank):
    with pytest.raises(ValueError, match="student steps"):
        write_student(
            tmp_path, StudentSpec(teacher="x", steps=0, teacher_scheduler="unipc", teacher_steps=12, guidance=2.5)
        )
    (tmp_path / "student.json").write_text('{"steps": 2}')
    with pytest.raises(ValueError, match="not a student spec"):
        read_student(tmp_path)
    with pytest.raises(ValueError, match="batch_size"):
        DistillConfig(batch_size=0).validated()
    data, _ = quick_bank
    assert main(["--teacher", str(tmp_path / "missing"), "--data", str(data), "--out", str(tmp_path / "o")]) == 2


def test_the_shipped_student_loads_offline_and_samples_on_its_schedule():
    from motion_lora.model.checkpoints import REPO_ROOT, resolve_base

    folder = REPO_ROOT / "checkpoints" / "t2m" / "motionbank_base_student"
    gen = MotionGenerator(folder)
    assert gen.student.steps == 2 and resolve_base(gen.student.teacher).is_dir()
    calls = []
    x = gen.sample(["a person walks forward"], [0], SampleOptions(frames=40),
                   denoise=lambda x, t, tok, m, p, L, i: calls.append(int(t[0])) or gen.model(x, t, tok, m, p, L))
    assert x.shape == (1, 40, 263) and torch.isfinite(x).all()
    assert calls == Sampler("ddim", 2).timesteps  # 2 DDIM steps, the caption alone (one row)


def test_the_lab_serves_the_default_setting_with_the_student_beside_its_base(student, private_root, tmp_path):
    """MotionLab finds <base>_student, steers it with the same adapter as the teacher (one module), and runs the
    full sampler when asked (fast=False), for a start step, or with MOTION_LORA_STUDENT's 'none'."""
    import shutil

    from motion_lora.serving.service import MotionLab
    from motion_lora.unlearning.adapters import AdapterSet
    from tests.test_adapters import with_trained_looking_adapter

    shutil.copytree(student, private_root / "t2m" / "tiny_base_student")
    lab = MotionLab(base="tiny_base", user_dir=tmp_path / "user", evaluator=None)
    assert lab.generator.student is not None and lab.generator.student.steps == 2
    with_trained_looking_adapter(lab.adapters, "probe")
    fast, full = SampleOptions(frames=40, steps=6), SampleOptions(frames=40, steps=6, fast=False)
    for folder, opts in ((student, fast), (private_root / "t2m" / "tiny_base", full)):
        alone = MotionGenerator(folder)
        adapters = with_trained_looking_adapter(AdapterSet(alone.model), "probe")  # the same seed: the same LoRA
        with adapters.using({"probe": 1.0}) as model:
            expected = alone.sample(["a person kicks"], [0], opts, denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L))
        pair = lab.sample_pair("a person kicks", 0, opts, {"probe": 1.0}, 1.0, 0)
        assert torch.allclose(pair[1], expected[0], atol=1e-5)
        assert not torch.allclose(pair[0], pair[1], atol=1e-3)  # the adapter steers on this path
    assert MotionLab(base="tiny_base", user_dir=tmp_path / "user", evaluator=None, student="none").generator.student is None


def test_the_strength_grid_on_the_student_equals_separate_generations(student, tiny_root):
    """One batch of strengths on the student path: each row is the student's own steered sample at that strength,
    strength 0 is the student's base sample (same batch size: bit for bit), and a start step takes the teacher."""
    from motion_lora.unlearning.adapters import AdapterSet
    from motion_lora.unlearning.strength_grid import strength_grid
    from tests.test_adapters import with_trained_looking_adapter

    pair = MotionGenerator(tiny_root / "t2m" / "tiny_base", student=student)
    adapters = with_trained_looking_adapter(AdapterSet(pair.model), "probe")
    fast, strengths = SampleOptions(frames=40, steps=6), [-1.0, 0.0, 1.0, 2.0]
    grid = strength_grid(pair, adapters, "a person kicks", 5, {"probe": 1.0}, strengths, fast)
    for row, s in zip(grid, strengths):
        with adapters.using({"probe": 1.0}, s) as model:
            alone = pair.sample(["a person kicks"], [5], fast, denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L))
        assert (row - alone[0]).abs().max() < 1e-5
    with adapters.disabled() as model:
        base = pair.sample(["a person kicks"] * 4, [5] * 4, fast, denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L))
    assert torch.equal(grid[1], base[1])
    calls = []
    real = pair.model.forward
    pair.model.forward = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:
        strength_grid(pair, adapters, "a person kicks", 5, {"probe": 1.0}, strengths, fast, start_step=1)
    finally:
        del pair.model.forward
    assert len(calls) == 6  # the teacher's 6 UniPC steps, not the student's 2
