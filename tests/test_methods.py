"""The unlearning baselines (`--method` of the train CLI) on tiny random models: each method's invariant, the
CLI path and folder layout of each, the evaluation of weight edits, and clear errors."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from conftest import filled_denoiser

from motion_lora.model.denoiser import DenoiserConfig
from motion_lora.unlearning import test_unlearn as test_unlearn_cli
from motion_lora.unlearning import train as train_cli
from motion_lora.unlearning.adapters import AdapterSet, LoraSpec, base_state_hash
from motion_lora.unlearning.methods import MethodOptions, check_method, make_trainer
from motion_lora.unlearning.our_denoiser import denoiser_target
from motion_lora.unlearning.task_vector import negate_lora
from motion_lora.unlearning.uce import UCE, context_tokens, edited_layers
from motion_lora.unlearning.unlearn import METHODS, UnlearnConfig, Unlearner
from motion_lora.unlearning.weight_edit import applied, changed_tensors, lora_from_deltas, state_key

TINY = DenoiserConfig(d_model=32, n_layers=2, n_heads=2, max_frames=196, dropout=0.0)
CONCEPT_CLIPS, OTHER_CLIPS = 6, 6
RETAIN = ("a person walks forward", "someone claps", "a man jumps")


def tiny_base(seed=0):
    return filled_denoiser(TINY, seed)


class FakeEncoder:
    """Deterministic stand-in for MiniLM: per-text token states, so tests run in a second."""

    def encode(self, texts):
        from motion_lora.model.text_encoder import TextBatch

        rows = [torch.Generator().manual_seed(sum(ord(ch) * (i + 1) for i, ch in enumerate(t)) % 2**31) for t in texts]
        tokens = torch.stack([torch.randn(5, 384, generator=g) for g in rows])
        pooled = torch.nn.functional.normalize(tokens.mean(1), dim=-1)
        return TextBatch(tokens=tokens, mask=torch.ones(len(texts), 5, dtype=torch.bool), pooled=pooled)


def ours(adapters):
    """The tiny denoiser of `adapters` with the stand-in encoder, as the protocol object the trainers take."""
    return denoiser_target(adapters.base, FakeEncoder())


@pytest.fixture
def base_dir(tmp_path):
    """A base checkpoint folder (weights, config, identity normaliser) of the tiny random model."""
    folder = tmp_path / "t2m" / "tiny_random"
    tiny_base().save(folder)
    np.save(folder / "Mean.npy", np.zeros(263, dtype=np.float32))
    np.save(folder / "Std.npy", np.ones(263, dtype=np.float32))
    return folder


@pytest.fixture
def dataset(tmp_path):
    """A HumanML3D-layout folder with random clips: kicks and walks (labels, captions, train split)."""
    root = tmp_path / "bank"
    for sub in ("new_joint_vecs", "texts", "labels"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    ids = []
    for i in range(CONCEPT_CLIPS + OTHER_CLIPS):
        kick = i < CONCEPT_CLIPS
        clip = f"{i:06d}"
        ids.append(clip)
        np.save(root / "new_joint_vecs" / f"{clip}.npy", rng.normal(size=(int(rng.integers(48, 80)), 263)).astype(np.float32))
        caption = "a person kicks with the right leg" if kick else "a person walks forward"
        (root / "texts" / f"{clip}.txt").write_text(f"{caption}#a/DET person/NOUN#0.0#0.0\n")
        (root / "labels" / f"{clip}.json").write_text(json.dumps({"concept": "kick" if kick else "walk", "fine": "kick_front_right" if kick else "walk"}))
    (root / "train.txt").write_text("\n".join(ids) + "\n")
    np.save(root / "Mean.npy", np.zeros(263, dtype=np.float32))
    np.save(root / "Std.npy", np.ones(263, dtype=np.float32))
    return root


def inputs(B=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, 48, 263, generator=g), torch.tensor([10, 500][:B]), torch.randn(B, 5, 384, generator=g), torch.ones(B, 5, dtype=torch.bool), torch.randn(B, 384, generator=g), torch.full((B,), 48))


def config(method, **overrides):
    options = {"concept": "kick", "method": method, "iterations": 4, "batch_size": 2, "rollout_steps": 3, "frames": 48, "pool_refresh": 2, "lora": LoraSpec(rank=4, alpha=4.0), "lr": 1e-2}
    return UnlearnConfig(**{**options, **overrides})


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# ---------------------------------------------------------------------------- UCE


def test_uce_edits_only_the_cross_attention_keys_and_values_and_moves_them_to_the_target():
    adapters = AdapterSet(tiny_base())
    before = snapshot(adapters.base)
    # 2 concept prompts and 3 preserved ones: 25 token vectors, which a 32-d projection can separate
    uce = UCE(ours(adapters), adapters, config("uce", paraphrases=0, retain_prompts=RETAIN), "kick")
    events = uce.run()
    assert len(events) == 1 and uce.finished
    # the base is untouched; the edited weight set differs from it in exactly the cross-attention k/v weights
    assert all(torch.equal(v, before[k]) for k, v in adapters.base.state_dict().items() if "lora_" not in k and "base_layer" not in k)
    plain = tiny_base()
    edited_state = {k: uce.edited.get(k, v) for k, v in plain.state_dict().items()}
    changed = changed_tensors(plain.state_dict(), edited_state)
    assert set(changed) == {f"blocks.{i}.cross_attn.{p}.weight" for i in range(TINY.n_layers) for p in ("to_k", "to_v")}
    # the concept's keys and values move towards the target (the null token's), the preserved ones barely move
    with applied(plain, uce.edited):
        after = {n: layer.weight.detach().clone() for n, layer in edited_layers(plain).items()}
    concept = torch.cat(context_tokens(tiny_base(), FakeEncoder(), uce.prompts)).float()
    kept = torch.cat(context_tokens(tiny_base(), FakeEncoder(), uce.retain)).float()
    null = tiny_base().null_token.detach().reshape(1, -1)
    for n, layer in edited_layers(tiny_base()).items():
        W0, W = layer.weight.detach(), after[n]
        goal = null @ W0.T
        old_gap = (concept @ W0.T - goal).norm(dim=-1).mean()
        new_gap = (concept @ W.T - goal).norm(dim=-1).mean()
        assert new_gap < 0.5 * old_gap, n
        drift = (kept @ W.T - kept @ W0.T).norm(dim=-1).mean()
        assert drift < 0.5 * old_gap, n
        assert (null @ W.T - goal).norm() < 0.02 * goal.norm()  # the unconditional branch keeps its keys/values
    assert uce.summary["residual_after"] < uce.summary["residual_before"]


def test_uce_lora_factorisation_reproduces_the_edited_weights():
    adapters = AdapterSet(tiny_base())
    uce = UCE(ours(adapters), adapters, config("uce", paraphrases=0, retain_prompts=RETAIN), "kick")
    uce.run()
    plain = tiny_base()
    with applied(plain, uce.edited):
        edited_out = plain(*inputs())
    with adapters.using({"kick": 1.0}) as model:
        lora_out = model(*inputs())
    with adapters.using({"kick": 0.0}) as model:
        base_out = model(*inputs())
    assert (lora_out - edited_out).abs().max() <= 1e-4 * edited_out.abs().max()
    assert (lora_out - base_out).abs().max() > 1e-3 * base_out.abs().max()  # and the edit does something
    assert torch.equal(base_out, tiny_base()(*inputs()))


def test_lora_from_deltas_is_exact_and_rejects_unknown_layers():
    adapters = AdapterSet(tiny_base())
    g = torch.Generator().manual_seed(0)
    deltas = {"blocks.0.cross_attn.to_k": torch.randn(32, 3, generator=g) @ torch.randn(3, 32, generator=g)}
    assert lora_from_deltas(adapters, "d", deltas, "xattn-kv") == 3
    layer = dict(adapters.peft.named_modules())["base_model.model.blocks.0.cross_attn.to_k"]
    assert torch.allclose(layer.lora_B["d"].weight @ layer.lora_A["d"].weight * layer.scaling["d"], deltas["blocks.0.cross_attn.to_k"], atol=1e-5)
    with pytest.raises(ValueError, match="no 'xattn-kv' LoRA layer"):
        lora_from_deltas(adapters, "e", {"blocks.0.self_attn.to_q": torch.zeros(32, 32)}, "xattn-kv")
    assert "e" not in adapters.specs


# ---------------------------------------------------------------------------- task vector and gradient ascent


def test_task_vector_is_stored_negated_and_scale_zero_is_the_base(dataset, base_dir):
    adapters = AdapterSet(tiny_base())
    trainer = make_trainer(ours(adapters), adapters, config("task_vector"), "tv", options=MethodOptions(data=str(dataset)), base_dir=base_dir)
    assert trainer.summary["forget_clips"] == CONCEPT_CLIPS
    events = list(trainer)
    assert trainer.negated and trainer.finished and len(events) == 4
    x = inputs()
    with adapters.using({"tv": 1.0}, 0.0) as model:
        assert torch.equal(model(*x), tiny_base()(*x))  # scale 0 = the base, bit for bit
    with adapters.using({"tv": 1.0}) as model:
        erased = model(*x)
    with adapters.using({"tv": 1.0}, -1.0) as model:
        learned = model(*x)  # the fine-tuned direction (towards the concept's clips)
    base = tiny_base()(*x)
    assert (erased - base).abs().max() > 1e-4 * base.abs().max()
    assert not torch.allclose(erased, learned)
    negate_lora(adapters, "tv")  # negating the stored adapter gives back what training produced: scale -1 of it
    with adapters.using({"tv": 1.0}) as model:
        assert (model(*x) - learned).abs().max() <= 1e-5 * base.abs().max()


def test_negation_scale_multiplies_the_stored_delta(dataset, base_dir):
    adapters = AdapterSet(tiny_base())
    trainer = make_trainer(ours(adapters), adapters, config("task_vector"), "tv", options=MethodOptions(data=str(dataset), negation_scale=2.5), base_dir=base_dir)
    finish, trainer.finish = trainer.finish, lambda: None
    trainer.run()
    learned = {n: p.detach().clone() for n, p in adapters.peft.named_parameters() if "lora_" in n}
    finish()
    for n, p in adapters.peft.named_parameters():
        if "lora_" in n:
            assert torch.equal(p, -2.5 * learned[n] if "lora_B" in n else learned[n]), n
    with pytest.raises(ValueError, match="negation scale must be a finite number > 0"):
        MethodOptions(data=str(dataset), negation_scale=0.0).validated("task_vector")


def test_task_vector_training_lowers_the_concept_v_loss(dataset, base_dir):
    """Before negation the adapter fits the concept's clips better than the base (it learned the concept)."""
    from motion_lora.unlearning.concept_data import ClipStream, concept_split

    adapters = AdapterSet(tiny_base())
    trainer = make_trainer(ours(adapters), adapters, config("task_vector", iterations=30, lr=3e-3), "tv", options=MethodOptions(data=str(dataset)), base_dir=base_dir)
    trainer.finish = lambda: None  # keep the trained direction to measure it
    trainer.run()
    forget, _ = concept_split(dataset, "kick", base_dir)

    def loss(weights):
        stream = ClipStream(forget, 6, torch.Generator().manual_seed(5))
        trainer.g.manual_seed(7)
        with torch.no_grad(), adapters.using(weights) as model:
            trainer.student = model
            return trainer.v_loss(stream).item()

    assert loss({"tv": 1.0}) < loss({})


def test_gradient_ascent_updates_only_lora_and_its_loss_is_retain_minus_lambda_forget(dataset, base_dir):
    adapters = AdapterSet(tiny_base())
    before = snapshot(adapters.base)
    trainer = make_trainer(ours(adapters), adapters, config("ga", iterations=6), "ga", options=MethodOptions(data=str(dataset), forget_weight=0.5), base_dir=base_dir)
    assert (trainer.summary["forget_clips"], trainer.summary["retain_clips"]) == (CONCEPT_CLIPS, OTHER_CLIPS)
    optimised = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    names = {n for n, p in adapters.peft.named_parameters() if id(p) in optimised}
    assert names and all("lora_" in n for n in names)
    lora_before = {n: p.detach().clone() for n, p in adapters.peft.named_parameters() if "lora_" in n}
    events = list(trainer)
    assert all(abs(e.loss - (e.preserve_loss - 0.5 * e.esd_loss)) < 1e-4 * max(1.0, abs(e.loss)) for e in events)
    after = adapters.base.state_dict()
    for k, v in before.items():  # every frozen tensor is bit-identical
        if "lora_" not in k:
            assert torch.equal(after[state_key(after, k)], v), k
    assert any(not torch.equal(p, lora_before[n]) for n, p in adapters.peft.named_parameters() if "lora_" in n)


def test_full_result_keeps_the_base_and_is_evaluated_by_swapping(tmp_path):
    adapters = AdapterSet(tiny_base())
    trainer = make_trainer(ours(adapters), adapters, config("full"), "full")
    assert isinstance(trainer, Unlearner)
    before = base_state_hash(adapters.model)
    trainer.run()
    assert base_state_hash(adapters.model) == before
    edited = changed_tensors(tiny_base().state_dict(), trainer.student.state_dict())
    assert edited and len(edited) <= len(trainer.student.state_dict())
    model = tiny_base()
    x = inputs()
    original = model(*x)
    with applied(model, edited):
        assert torch.allclose(model(*x), trainer.student(*x), rtol=1e-5, atol=1e-5 * original.abs().max().item())
    assert torch.equal(model(*x), original)  # restored bit for bit


# ---------------------------------------------------------------------------- CLI and layout


def train(base_dir, out_root, method, *extra):
    return train_cli.main(["--name", str(base_dir), "--method", method, "--out_root", str(out_root), "--iterations", "2", "--batch_size", "2", "--lora_rank", "2", "--lora_alpha", "2", *extra])


@pytest.mark.parametrize("method", METHODS)
def test_each_method_runs_from_the_cli_and_writes_the_layout(method, base_dir, dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(train_cli, "TextEncoder", lambda device="cpu": FakeEncoder())
    real_config = train_cli.config_from_args  # short rollouts: the CLI's own config, with 48 frames and 3 steps
    monkeypatch.setattr(train_cli, "config_from_args", lambda args: dataclasses.replace(real_config(args), frames=48, rollout_steps=3))
    out = tmp_path / "out"
    extra = ["--data", str(dataset)] if method in ("ga", "task_vector") else []
    assert train(base_dir, out, method, *extra) == 0, capsys.readouterr().err
    suffix = {"lora": "", "full": "", "ga": "_ga", "uce": "_uce", "task_vector": "_task_vector"}[method]
    folder = out / "t2m" / ("tiny_random_FullFT_kick" if method == "full" else f"tiny_random_LoRA_kick{suffix}")
    assert folder.is_dir(), sorted(p.name for p in (out / "t2m").iterdir())
    meta = json.loads((folder / "adapter.json").read_text())
    assert meta["method"] == method and meta["concept"] == "kick"
    assert (folder / "logs" / "train_lora.log").is_file() and (folder / "eval").is_dir()
    files = {p.name for p in (folder / "model").iterdir()}
    if method == "full":
        assert files == {"edited.safetensors"} and meta["rank"] is None and meta["trainable_parameters"] == sum(p.numel() for p in tiny_base().parameters())
        assert test_unlearn_cli.result_kind(folder) == "edit"
        return
    assert {"adapter_config.json", "adapter_model.safetensors", "latest.tar"} <= files
    assert ("edited.safetensors" in files) == (method == "uce")
    # an ordinary adapter: loads like the app loads one, and changes the output
    adapters = AdapterSet(tiny_base())
    spec = adapters.load("x", folder / "model")
    assert (spec.rank, spec.alpha, spec.preset) == (meta["rank"], meta["alpha"], meta["targets"])
    with adapters.using({"x": 1.0}) as model:
        assert not torch.equal(model(*inputs()), tiny_base()(*inputs()))
    if method == "uce":
        assert meta["trainable_parameters"] == 0 and meta["edited_parameters"] == 2 * TINY.n_layers * TINY.d_model**2 and meta["targets"] == "xattn-kv"
    else:
        assert meta["trainable_parameters"] > 0
    if method == "task_vector":
        assert meta["stored_negated"] is True
    if method in ("ga", "task_vector"):
        assert meta["method_options"]["data"] == str(dataset) and meta["method_details"]["forget_clips"] == CONCEPT_CLIPS


def test_bad_methods_and_missing_data_are_clear_errors(base_dir, tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown unlearning method 'sgd'; choose one of lora, full, ga, uce, task_vector"):
        UnlearnConfig(method="sgd").validated()
    with pytest.raises(ValueError, match="unknown unlearning method 'esd'"):
        check_method("esd")
    with pytest.raises(ValueError, match="not ESD"):
        adapters = AdapterSet(tiny_base())
        Unlearner(ours(adapters), adapters, config("uce"), "kick")
    with pytest.raises(SystemExit):
        train(base_dir, tmp_path, "sgd")
    assert "invalid choice: 'sgd'" in capsys.readouterr().err
    for method in ("ga", "task_vector"):
        assert train(base_dir, tmp_path, method) == 2
        err = capsys.readouterr().err
        assert f"method {method!r} learns from motion clips and needs the dataset folder (--data)" in err and "motion_lora.data build" in err
        assert train(base_dir, tmp_path, method, "--data", str(tmp_path / "nowhere")) == 2
        assert "is not one (no train.txt" in capsys.readouterr().err
    assert train(base_dir, tmp_path, "ga", "--forget_weight", "-1") == 2
    assert "forget weight must be a finite number > 0" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "t2m").iterdir()) == ["tiny_random"]  # nothing was written beside the base


# ---------------------------------------------------------------------------- evaluation of weight edits


@pytest.mark.slow
def test_weight_edit_generations_equal_the_same_weights_as_an_adapter(checkpoints, tmp_path):
    """ResultEvaluation's swap path generates what an adapter holding the same delta generates, and a full
    fine-tune's folder evaluates through test_unlearn.evaluate_folder with the app's protocol."""
    from motion_lora.evaluation.protocol import EvalPrompt
    from motion_lora.model.generator import SampleOptions
    from motion_lora.unlearning.weight_edit import save_edited

    from motion_lora.unlearning.results import load_results

    lab = load_results("tiny_base", record=True)
    spec = LoraSpec(rank=2, alpha=2.0, preset="xattn-kv")
    g = torch.Generator().manual_seed(0)
    deltas = {n: 0.2 * torch.randn(48, 2, generator=g) @ torch.randn(2, 48, generator=g) for n in edited_layers(lab.adapters.base)}
    lora_from_deltas(lab.adapters, "probe", deltas, spec.preset)
    state = lab.adapters.base.state_dict()
    edited = {f"{n}.weight": state[f"{n}.base_layer.weight"] + d for n, d in deltas.items()}
    folder = tmp_path / "results" / "t2m" / "tiny_base_FullFT_kick"
    (folder / "model").mkdir(parents=True)
    save_edited(edited, folder / "model")
    (folder / "adapter.json").write_text(json.dumps({"concept": "kick", "base": "tiny_base", "method": "full", "rank": None, "alpha": None, "retain_prompts": []}))
    name = lab.add_edit(folder, json.loads((folder / "adapter.json").read_text()))
    prompts = [EvalPrompt("a person kicks", "kick", "train"), EvalPrompt("a person walks forward", "walk", "retain")]
    opts = SampleOptions(frames=40, steps=4)
    via_edit = lab.generate_set(prompts, {name: 1.0}, 1.0, opts, seed=3)
    via_lora = lab.generate_set(prompts, {"probe": 1.0}, 1.0, opts, seed=3)
    base = lab.generate_set(prompts, {}, 1.0, opts, seed=3)
    assert np.abs(via_edit - via_lora).max() < 1e-3 * np.abs(base).max()
    assert np.abs(via_edit - base).max() > 1e-2 * np.abs(base).max()
    assert np.array_equal(lab.generate_set(prompts, {}, 1.0, opts, seed=3), base)  # swapped weights came back
    assert (name, ("a person kicks", "a person walks forward"), 3) in lab.recorded
    with pytest.raises(ValueError, match="weight edit"):
        lab.generate_set(prompts, {name: 0.5}, 1.0, opts)
    result = test_unlearn_cli.evaluate_folder(folder, results=lab, per_kind=2, per_concept=1, natural_forget=2, natural_per_concept=0, repeats=1, steps=2)
    assert result["adapter"] == name and result["config"]["method"] == "full"
    assert set(result["forget"]) == {"base", "unlearned"} and result["forget"]["unlearned"]["n_prompts"] == 3 * 2 + 2


@pytest.mark.slow
def test_methods_benchmark_runs_every_method_on_one_protocol(tiny_root, quick_bank, tmp_path, monkeypatch):
    """benchmarks/experiments/methods.py end to end on the tiny base: five trained results, one table with every column
    (the tiny base itself stands in for the retrained reference), figures in [0, 1] where they are shares."""
    import importlib.util

    from conftest import copy_without_adapters

    # a root without other tests' adapters: a same-named adapter of another rank there would shadow the results
    checkpoints = tmp_path / "checkpoints"
    copy_without_adapters(tiny_root, checkpoints)
    monkeypatch.setenv("MOTION_LORA_CHECKPOINTS", str(checkpoints))
    monkeypatch.delenv("MOTION_LORA_HUB_REPO", raising=False)

    spec = importlib.util.spec_from_file_location("methods_benchmark", "benchmarks/experiments/methods.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out, js, md = tmp_path / "runs", tmp_path / "results" / "m.json", tmp_path / "results" / "m.md"  # results/: not made yet, as in a clean clone
    rc = bench.main(["--base", "tiny_base", "--data", str(quick_bank[0]), "--reference", str(checkpoints / "t2m" / "tiny_base"), "--out_root", str(out),
                     "--iterations", "2", "--repeats", "1", "--per_kind", "2", "--per_concept", "1", "--natural_per_concept", "1", "--steps", "2",
                     "--attack", "soft", "--attack_prompts", "1", "--attack_steps", "1", "--json", str(js), "--md", str(md), "--neighbour", "punch"])
    assert rc == 0
    result = json.loads(js.read_text())
    assert [r["method"] for r in result["methods"]] == list(METHODS)
    for row in result["methods"]:
        for key in ("forget_natural", "forget_heldout", "forget_composite", "retain_natural", "neighbour_natural"):
            assert 0.0 <= row["unlearned"][key] <= 1.0, (row["method"], key)
        same = ("forget_natural", "forget_heldout", "forget_composite", "retain_natural", "neighbour_natural")
        assert {k: row["base"][k] for k in same} == {k: result["methods"][0]["base"][k] for k in same}  # one base, one prompt set
    assert set(result["reference_fid"]) == {"base", *METHODS} and set(result["attack"]) == {"base", *METHODS}
    assert set(result["attacks"]) == {"evaluator", "match"} and set(result["attacks"]["match"]) == {"base", *METHODS}
    assert "evaluator objective: soft:" in result["settings_text"] and "match objective: soft:" in result["settings_text"]  # each budget named
    text = md.read_text()
    assert "forget FID to retrained" in text and text.count("attack success (soft)") == 2 and text.count("\n| ") == 1 + 1 + len(METHODS)
    # no retrained reference: that column is left out, the rest is the same
    rc = bench.main(["--base", "tiny_base", "--data", str(quick_bank[0]), "--reference", str(tmp_path / "absent"), "--out_root", str(out), "--reuse", "--methods", "uce",
                     "--repeats", "1", "--per_kind", "2", "--per_concept", "1", "--natural_per_concept", "1", "--steps", "2", "--attack", "none", "--json", str(js), "--md", str(md)])
    assert rc == 0 and "forget FID to retrained" not in md.read_text() and json.loads(js.read_text())["reference_fid"] is None
    # the column added afterwards, from the stored embeddings: the same figure a full run gave for that reference
    ref = str(checkpoints / "t2m" / "tiny_base")
    rc = bench.main(["--only_reference", "--reference", ref, "--json", str(js), "--md", str(md)])
    later = json.loads(js.read_text())
    assert rc == 0 and set(later["reference_fid"]) == {"base", "uce"} and "forget FID to retrained" in md.read_text()
    assert later["reference_fid"]["uce"]["mean"] == pytest.approx(result["reference_fid"]["uce"]["mean"], rel=1e-4)
    assert bench.main(["--only_reference", "--reference", str(tmp_path / "absent"), "--json", str(js), "--md", str(md)]) == 2


def test_a_same_named_adapter_elsewhere_cannot_stand_in(checkpoints, tmp_path, monkeypatch):
    """evaluate_folder loads the folder it is given (its files, its adapter.json), never a same-named adapter of the
    checkpoint root or another root."""
    from motion_lora.unlearning.results import load_results

    monkeypatch.setattr(train_cli, "TextEncoder", lambda device="cpu": FakeEncoder())
    real_config = train_cli.config_from_args
    monkeypatch.setattr(train_cli, "config_from_args", lambda args: dataclasses.replace(real_config(args), frames=48, rollout_steps=3))
    for root, retain in (("mine", "a person walks forward"), ("other", "someone claps")):
        assert train_cli.main(["--name", "tiny_base", "--out_root", str(tmp_path / root), "--iterations", "1", "--batch_size", "1", "--lora_rank", "2",
                               "--lora_alpha", "2", "--retain_prompts", retain]) == 0
    results = load_results("tiny_base", evaluator=None)
    for root in ("mine", "other"):
        folder = tmp_path / root / "t2m" / "tiny_base_LoRA_kick"
        with pytest.raises(ValueError, match="evaluator checkpoint"):  # loaded, then refused: this results object has no judge
            test_unlearn_cli.evaluate_folder(folder, results=results)
        name = folder.name
        assert results.folders[name] == folder and results.metas[name]["retain_prompts"] == json.loads((folder / "adapter.json").read_text())["retain_prompts"]
        weights = test_unlearn_cli.load_checkpoint(folder, "latest.tar")["weights"]
        loaded = {k: v for k, v in results.adapters.peft.state_dict().items() if f".{name}." in k}
        assert all(torch.equal(loaded[k.replace(".lora_A.", f".lora_A.{name}.").replace(".lora_B.", f".lora_B.{name}.")], v) for k, v in weights.items())
