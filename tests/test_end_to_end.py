"""End to end on tiny models: pretrain -> evaluator -> generate -> unlearn -> evaluate, through the CLIs."""

import json

import numpy as np
import pytest
import torch
from conftest import TINY_DENOISER as TINY

from motion_lora.model.denoiser import MotionDenoiser
from motion_lora.model.pretrain import TrainConfig, pretrain
from motion_lora.serving import generate as generate_cli
from motion_lora.unlearning import test_unlearn as test_unlearn_cli
from motion_lora.unlearning import train as train_cli
from motion_lora.unlearning.adapters import base_state_hash
from motion_lora.unlearning.unlearn import RETAIN_PROMPTS, UnlearnConfig

pytestmark = pytest.mark.slow


def fixed_batch_loss(model, data, seeds=range(4)) -> float:
    """The training loss on the same 32 training clips, timesteps and noise for every model (one logged batch
    loss is far too noisy to compare: random timesteps move it by 10x)."""
    from motion_lora.data.dataset import MotionDataset, collate
    from motion_lora.model.diffusion import Schedule
    from motion_lora.model.pretrain import training_loss
    from motion_lora.model.text_encoder import TextEncoder

    dataset = MotionDataset(data, "train", random_crop=False, seed=0)
    batch = collate([dataset[i] for i in range(32)])
    text = TextEncoder().encode(batch["caption"])
    cfg = TrainConfig(cond_drop=0.0)
    with torch.no_grad():
        return float(np.mean([training_loss(model.eval(), Schedule(), batch, text, cfg, torch.Generator().manual_seed(s)).item() for s in seeds]))


def test_pretraining_loss_falls_and_resumes(tiny_root, quick_bank):
    log = [json.loads(line) for line in (tiny_root / "t2m" / "tiny_base" / "train_log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 60
    torch.manual_seed(0)
    untrained = MotionDenoiser(TINY)
    trained = MotionDenoiser.load(tiny_root / "t2m" / "tiny_base")
    assert fixed_batch_loss(trained, quick_bank[0]) < 0.8 * fixed_batch_loss(untrained, quick_bank[0])
    # resuming a finished run is a no-op that keeps the weights
    before = (tiny_root / "t2m" / "tiny_base" / "model.safetensors").read_bytes()
    messages = []
    pretrain(quick_bank[0], tiny_root / "t2m" / "tiny_base", TINY, TrainConfig(steps=60, batch_size=16, lr=1e-3, warmup=5, ckpt_every=30), log=messages.append)
    assert "resumed from step 60" in messages
    assert (tiny_root / "t2m" / "tiny_base" / "model.safetensors").read_bytes() == before


def test_pretraining_can_start_from_a_checkpoint(tiny_root, quick_bank, tmp_path):
    """--init: a new run (fresh optimiser) from shipped weights; its config is the checkpoint's, and with a
    vanishing learning rate the weights stay where they started."""
    init = tiny_root / "t2m" / "tiny_base"
    other = type(TINY)(d_model=16, n_layers=1, n_heads=1)  # ignored: the checkpoint's config wins
    out = pretrain(quick_bank[0], tmp_path / "ft", other, TrainConfig(steps=3, batch_size=8, lr=1e-12, warmup=1, ckpt_every=3), device="cpu", init=init, log=lambda *_: None)
    start, tuned = MotionDenoiser.load(init), MotionDenoiser.load(out)
    assert tuned.cfg == start.cfg
    for (name, a), b in zip(start.state_dict().items(), tuned.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_generate_cli_shapes_and_determinism(checkpoints, tmp_path):
    out = tmp_path / "m.npz"
    assert generate_cli.main(["--ckpt", "tiny_base", "--prompt", "a person kicks", "a person waves", "--num_seeds", "2", "--frames", "40", "--steps", "4", "--out", str(out)]) == 0
    data = np.load(out)
    assert data["joints"].shape == (2, 2, 40, 22, 3)
    assert list(data["prompts"]) == ["a person kicks", "a person waves"] and list(data["seeds"]) == [0, 1]
    one = tmp_path / "one.npy"
    assert generate_cli.main(["--ckpt", "tiny_base", "--prompt", "a person kicks", "--seed", "1", "--frames", "40", "--steps", "4", "--out", str(one)]) == 0
    assert np.load(one).shape == (40, 22, 3)
    assert np.allclose(np.load(one), data["joints"][0, 1], atol=1e-5)  # same seed -> same motion
    raw = tmp_path / "raw.npy"
    assert generate_cli.main(["--ckpt", "tiny_base", "--prompt", "a person kicks", "--seed", "1", "--frames", "40", "--steps", "4", "--no_plant_feet", "--out", str(raw)]) == 0
    shift = np.load(one) - np.load(raw)  # planting moves the whole body sideways per frame, nothing else
    assert np.abs(shift - shift[:, :1]).max() < 1e-5 and np.abs(shift[..., 1]).max() < 1e-6
    assert np.abs(shift).max() > 1e-4  # the flag reached the sampler: the raw root differs


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--prompt", "   "], "empty"),
        (["--prompt", "a kick", "--frames", "500"], "frames"),
        (["--prompt", "a kick", "--frames", "8"], "frames"),
        (["--prompt", "a kick", "--steps", "0"], "steps"),
        (["--prompt", "a kick", "--ckpt", "no_such_model"], "not found"),
        (["--prompt", "a kick", "--ckpt", "../etc"], "invalid"),
        (["--prompt", "a", "b"], ".npy output holds one motion"),
        (["--prompt", "a kick", "--student", "no_such_student"], "not found"),
        (["--prompt", "a kick", "--student", "tiny_base"], "not a few-step student"),
    ],
)
def test_generate_cli_bad_input(checkpoints, tmp_path, capsys, argv, message):
    assert generate_cli.main(["--ckpt", "tiny_base"] + argv + ["--out", str(tmp_path / "x.npy")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.npy").exists()


def test_train_then_test_unlearn(checkpoints, capsys):
    base_hash = base_state_hash(MotionDenoiser.load(checkpoints / "t2m" / "tiny_base"))
    argv = ["--name", "tiny_base", "--target_concept", "kick", "--lora_rank", "4", "--lora_alpha", "4", "--iterations", "6", "--batch_size", "2"]
    assert train_cli.main(argv) == 0
    folder = checkpoints / "t2m" / "tiny_base_LoRA_kick"
    for rel in ("model/latest.tar", "model/adapter_config.json", "model/adapter_model.safetensors", "logs/train_lora.log", "adapter.json"):
        assert (folder / rel).is_file(), rel
    payload = torch.load(folder / "model" / "latest.tar", weights_only=True)
    assert payload["config"]["rank"] == 4 and payload["config"]["alpha"] == 4.0 and payload["config"]["base_hash"] == base_hash
    summary = json.loads((folder / "adapter.json").read_text())  # preservation is on by default, on derived neighbours
    assert summary["preserve_weight"] == UnlearnConfig().preserve_weight and len(summary["retain_prompts"]) == RETAIN_PROMPTS
    assert not any("kick" in p for p in summary["retain_prompts"])
    assert f"retain {json.dumps(summary['retain_prompts'])}" in (folder / "logs" / "train_lora.log").read_text()
    assert not [p for p in (checkpoints / "t2m").iterdir() if p.name.startswith(".")]  # no staging left
    # a mismatching rank is refused, never silently rescaled
    assert test_unlearn_cli.main(["--name", "tiny_base_LoRA_kick", "--lora_rank", "16"]) == 2
    assert "does not match the checkpoint's rank 4" in capsys.readouterr().err
    small = ["--repeats", "1", "--per_kind", "2", "--per_concept", "1", "--steps", "3", "--scheduler", "dpmsolver++"]
    assert test_unlearn_cli.main(["--name", "tiny_base_LoRA_kick", "--ckpt", "latest.tar", "--target_concept", "kick"] + small) == 0
    metrics = json.loads((folder / "eval" / "metrics.json").read_text())
    assert set(metrics) >= {"forget", "retain", "config"} and metrics["scheduler"] == "dpmsolver++" and metrics["steps"] == 3
    assert 0.0 <= metrics["forget"]["unlearned"]["metrics"]["presence"]["mean"] <= 1.0
    assert "| presence |" in (folder / "eval" / "report.md").read_text()


def test_generate_with_adapters(checkpoints, tmp_path, capsys):
    if not (checkpoints / "t2m" / "tiny_base_LoRA_kick").exists():
        assert train_cli.main(["--name", "tiny_base", "--lora_rank", "4", "--lora_alpha", "4", "--iterations", "6", "--batch_size", "2"]) == 0
    common = ["--ckpt", "tiny_base", "--prompt", "a person kicks", "--num_seeds", "2", "--frames", "40", "--steps", "4"]
    off, on = tmp_path / "off.npz", tmp_path / "on.npz"
    assert generate_cli.main(common + ["--adapter", "kick", "--scale", "0", "--both", "--out", str(off)]) == 0
    assert generate_cli.main(common + ["--adapter", "kick", "--scale", "3", "--both", "--out", str(on)]) == 0
    a, b = np.load(off), np.load(on)
    assert a["joints"].shape == a["base_joints"].shape == (1, 2, 40, 22, 3)
    assert np.array_equal(a["joints"], a["base_joints"])  # scale 0 = base
    assert np.allclose(b["base_joints"], a["base_joints"], atol=1e-5)  # same noise -> same base
    assert not np.allclose(b["joints"], b["base_joints"], atol=1e-3)
    assert generate_cli.main(common + ["--adapter", "dance_LoRA", "--out", str(tmp_path / "x.npz")]) == 2
    assert "unknown adapter" in capsys.readouterr().err
    assert generate_cli.main(common + ["--both", "--out", str(tmp_path / "y.npz")]) == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--target_concept", "kick", "--lora_rank", "0"], "rank"),
        (["--target_concept", ""], "empty"),
        (["--target_concept", "kick", "--unlearn_lr", "nan"], "learning rate"),
        (["--target_concept", "../../etc"], "letters"),
        (["--name", "missing_base"], "not found"),
    ],
)
def test_train_cli_bad_input(checkpoints, capsys, argv, message):
    assert train_cli.main(["--name", "tiny_base", "--iterations", "2"] + argv) == 2
    assert message in capsys.readouterr().err


def test_train_into_unwritable_folder(checkpoints, tmp_path, capsys):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    assert train_cli.main(["--name", "tiny_base", "--iterations", "2", "--out_root", str(blocked)]) == 2
    assert "not writable" in capsys.readouterr().err


def test_eval_base_cli(checkpoints, quick_bank, tmp_path):
    from motion_lora.evaluation import eval_base

    assert eval_base.main(["--data", str(quick_bank[0]), "--ckpt", "tiny_base", "--repeats", "1", "--steps", "3", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "metrics.json").read_text())
    assert {"concept_accuracy", "r_precision_top3", "fid"} <= set(result["generated"])
    # the quick bank holds DeepMimic test takes: their prompts' generations are compared with them, like for like
    assert set(result["physics"]) == {"generated", "real_test", "mocap_test", "generated_mocap_prompts", "generated_mocap_prompts_raw", "mocap_prompts"}
    planted, raw = result["physics"]["generated_mocap_prompts"], result["physics"]["generated_mocap_prompts_raw"]
    assert planted["floor_penetration_cm"] == raw["floor_penetration_cm"]  # planting moves the root sideways only
    assert "raw model output (no foot planting)" in (tmp_path / "report.md").read_text()
    assert 0 < result["physics"]["mocap_prompts"] < result["prompts"]["train"] + result["prompts"]["heldout"]
    assert result["physics"]["mocap_test"] != result["physics"]["real_test"]
    assert result["generated"]["fid"]["n"] == 1 and result["generated"]["fid"]["method"] == "se"  # no t-interval
    assert "| concept | accuracy |" in (tmp_path / "report.md").read_text()


def test_shipped_fid_reference_leaves_out_bandai_clips(tiny_root, quick_bank, tmp_path):
    """Per-clip embeddings are derived data: clips of the Bandai Namco dataset (CC BY-NC 4.0) never go into it."""
    import shutil

    from safetensors.numpy import load_file

    from motion_lora.data.dataset import MotionDataset
    from motion_lora.evaluation.evaluator import write_reference
    from motion_lora.model.text_encoder import TextEncoder

    data = tmp_path / "bank"
    shutil.copytree(quick_bank[0], data)
    ids = (data / "test.txt").read_text().split()
    marked = ids[: len(ids) // 2]
    for clip_id in marked:  # pretend half of the test clips came from the Bandai dataset
        path = data / "labels" / f"{clip_id}.json"
        label = json.loads(path.read_text())
        path.write_text(json.dumps({**label, "source": f"bandai1_{label['source']}"}))
    evaluator = tmp_path / "evaluator"
    shutil.copytree(tiny_root / "evaluator", evaluator)
    written = load_file(write_reference(evaluator, MotionDataset(data, "test", captions="first", random_crop=False), TextEncoder()))
    assert len(written["motion_emb"]) == len(ids) - len(marked)


def test_result_folder_outside_the_checkpoint_root_is_evaluated_and_attacked(checkpoints, tmp_path, capsys):
    """train --out_root R, then test_unlearn --out_root R and attack --adapter PATH read that folder, even when the
    checkpoint root holds a same-named adapter."""
    from motion_lora.unlearning import attack as attack_cli

    small = ["--lora_rank", "4", "--lora_alpha", "4", "--iterations", "3", "--batch_size", "2"]
    if not (checkpoints / "t2m" / "tiny_base_LoRA_kick").exists():
        assert train_cli.main(["--name", "tiny_base"] + small) == 0
    assert train_cli.main(["--name", "tiny_base", "--seed", "1", "--out_root", str(tmp_path / "elsewhere")] + small) == 0
    folder = tmp_path / "elsewhere" / "t2m" / "tiny_base_LoRA_kick"
    small_eval = ["--repeats", "1", "--per_kind", "2", "--per_concept", "1", "--natural_per_concept", "1", "--steps", "2"]
    assert test_unlearn_cli.main(["--name", "tiny_base_LoRA_kick", "--out_root", str(tmp_path / "elsewhere")] + small_eval) == 0
    assert json.loads((folder / "eval" / "metrics.json").read_text())["adapter"] == "tiny_base_LoRA_kick"
    budget = ["--mode", "soft", "--prompts", "1", "--tokens", "2", "--steps", "2", "--x0-steps", "2", "--eval-seeds", "1",
              "--sample-steps", "2", "--frames", "24", "--no-base", "--quiet"]
    out = tmp_path / "attack.json"
    assert attack_cli.main(["--adapter", str(folder), "--out", str(out)] + budget) == 0
    [report] = json.loads(out.read_text())["reports"]
    assert report["label"] == "tiny_base_LoRA_kick"
    assert report["fingerprint"] == attack_cli.file_sha256(folder / "model" / "adapter_model.safetensors")
    assert report["fingerprint"] != attack_cli.file_sha256(checkpoints / "t2m" / "tiny_base_LoRA_kick" / "model" / "adapter_model.safetensors")
    assert attack_cli.main(["--adapter", str(tmp_path / "nowhere" / "x_LoRA_kick")] + budget) == 2
    assert "no result folder" in capsys.readouterr().err
