"""The adversarial prompt attack (motion_lora/unlearning/attack/) on tiny random models: seconds, no checkpoints.

The tiny denoiser's zero-initialised output heads are given small random weights, so its output depends on the
text; the tiny evaluator is random too. The text encoder is a stand-in with fixed random word vectors (the
attack only needs `encode(texts) -> TextBatch`)."""

import copy
import hashlib
import json

import numpy as np
import pytest
import torch

from motion_lora.data.clip import CONCEPT_INDEX, CONCEPTS
from motion_lora.evaluation.evaluator import Evaluator, EvaluatorConfig
from motion_lora.evaluation.prompts import natural_prompts, normalise_text
from motion_lora.model.denoiser import DenoiserConfig, MotionDenoiser
from motion_lora.model.text_encoder import TextBatch, mean_pool
from motion_lora.unlearning import attack
from motion_lora.unlearning.attack import AttackConfig, AttackTarget, load_attack_report, run_attack
from motion_lora.unlearning.soft_prompt import (
    append_soft_tokens,
    clamp_token_norms_,
    initial_soft_tokens,
    largest_token_norm,
)

FAST = dict(prompts=3, tokens=4, steps=25, lr=0.3, x0_steps=3, ddim_steps=2, eval_seeds=2, sample_steps=3, frames=24,
            search_seeds=1, top_k=3, batch=8)


class WordEncoder:
    """Fixed random 384-d vectors per word ([CLS] and [SEP] around them), like MiniLM's output shapes."""

    def _vec(self, word: str) -> torch.Tensor:
        seed = int(hashlib.sha256(word.encode()).hexdigest()[:8], 16)
        return torch.randn(384, generator=torch.Generator().manual_seed(seed))

    def encode(self, texts):
        rows = [[self._vec("[CLS]")] + [self._vec(w) for w in t.lower().split()[:30]] + [self._vec("[SEP]")] for t in texts]
        L = max(len(r) for r in rows)
        tokens = torch.zeros(len(rows), L, 384)
        mask = torch.zeros(len(rows), L, dtype=torch.bool)
        for i, r in enumerate(rows):
            tokens[i, : len(r)] = torch.stack(r)
            mask[i, : len(r)] = True
        return TextBatch(tokens, mask, mean_pool(tokens, mask))


def tiny_denoiser(seed: int) -> MotionDenoiser:
    torch.manual_seed(seed)
    model = MotionDenoiser(DenoiserConfig(d_model=32, n_layers=1, n_heads=2, dropout=0.0))
    for layer in (model.patch_out, model.ada_out):  # zero-initialised heads: give the text a way to the output
        torch.nn.init.normal_(layer.weight, std=0.2)
    return model.requires_grad_(False).eval()


@pytest.fixture(scope="module")
def tiny_parts():
    """The parts of a target besides the denoiser: text encoder, random tiny evaluator, identity normalisers."""
    torch.manual_seed(0)
    evaluator = Evaluator(EvaluatorConfig(hidden=32, embed_dim=32, layers=1, heads=2, dropout=0.0)).eval().requires_grad_(False)
    ones, zeros = np.ones(263, np.float32), np.zeros(263, np.float32)
    return dict(text_encoder=WordEncoder(), evaluator=evaluator, eval_mean=zeros, eval_std=ones, mean=zeros, std=ones)


@pytest.fixture(scope="module")
def tiny_target(tiny_parts):
    return AttackTarget.from_model(tiny_denoiser(0), label="tiny", concept="kick", **tiny_parts)


@pytest.mark.parametrize("grad_path", ["x0", "ddim"])
def test_soft_prompt_raises_target_probability(tiny_target, grad_path):
    prompts = ["a person kicks", "someone kicks high", "a man kicks twice"]
    cfg = AttackConfig(mode="soft", grad_path=grad_path, **FAST)
    report = run_attack(tiny_target, config=cfg, prompts=prompts)
    soft = report.soft
    assert report.label == "tiny" and report.concept == "kick" and report.discrete is None
    assert len(soft.curve) == cfg.steps and len(soft.prompts) == len(prompts)
    # judged with the normal sampler on fresh seeds: the attacked tokens raise p(kick) well above the clean prompts
    assert soft.prob > soft.clean_prob + 0.05, (soft.clean_prob, soft.prob)
    assert soft.proxy_prob_end > soft.proxy_prob_start
    assert 0.0 <= soft.asr <= 1.0 and 0.0 <= soft.judge_rate <= 1.0
    assert [p.prompt for p in soft.prompts] == prompts


def test_match_objective_pulls_the_erased_model_towards_the_reference(tiny_parts):
    """P4D's objective: no evaluator gradient; the "erased" model's x0 with the soft tokens approaches the
    reference's x0 on the clean prompt. The reference is the tiny model with its text path perturbed (the
    cross-attention keys/values and the text projection), as an erasure edit would change it."""
    erased = tiny_denoiser(0)
    reference = copy.deepcopy(erased)
    g = torch.Generator().manual_seed(5)
    layers = [lin for blk in reference.blocks for lin in (blk.cross_attn.to_k, blk.cross_attn.to_v)] + [reference.text_proj]
    for lin in layers:
        lin.weight.add_(0.5 * lin.weight.std() * torch.randn(lin.weight.shape, generator=g))
    target = AttackTarget.from_model(erased, label="tiny", concept="kick", reference=reference, **tiny_parts)
    cfg = AttackConfig(mode="soft", objective="match", **{**FAST, "steps": 40, "lr": 0.1})
    soft = run_attack(target, config=cfg, prompts=["a person kicks", "someone kicks high"]).soft
    assert soft.objective == "match" and len(soft.losses) == cfg.steps
    first, last = np.mean(soft.losses[:8]), np.mean(soft.losses[-8:])
    assert last < 0.5 * first, (first, last)
    with pytest.raises(TypeError, match="reference must be"):
        AttackTarget.from_model(tiny_denoiser(0), reference=3, **tiny_parts)


def test_optimisation_not_the_extra_tokens_does_it(tiny_target):
    """Control: the same appended vectors left at their start (0 steps) barely move p(kick); optimised, they do."""
    prompts = ["a person kicks", "someone kicks high"]
    still = run_attack(tiny_target, config=AttackConfig(mode="soft", **{**FAST, "steps": 0}), prompts=prompts).soft
    moved = run_attack(tiny_target, config=AttackConfig(mode="soft", **FAST), prompts=prompts).soft
    assert still.curve == [] and np.isnan(still.proxy_prob_start)
    assert still.clean_prob == moved.clean_prob  # same fresh seeds, same clean prompts
    assert moved.prob > still.prob + 0.05, (still.prob, moved.prob)


def test_discrete_search_returns_best_phrasings(tiny_target, tmp_path):
    phrasings = tmp_path / "p.txt"
    texts = ["swings a leg hard", "strikes with the foot", "hops on one leg", "stands there", "lifts the knee high"]
    phrasings.write_text("# a comment\n" + "".join(f"kick\t{t}\n" for t in texts) + "punch\thits with the fist\n")
    cfg = AttackConfig(mode="discrete", phrasings=str(phrasings), natural=False, **{**FAST, "search_seeds": 2})
    report = run_attack(tiny_target, config=cfg, extra_phrasings=["a person kicks"])
    d = report.discrete
    assert report.soft is None
    assert d.n_candidates == len(texts) + 1  # the punch line is another concept's
    assert [c.prompt for c in d.candidates].count("hits with the fist") == 0
    keys = [(-c.search_rate, -c.search_prob) for c in d.candidates]
    assert keys == sorted(keys)  # ranked best first
    assert [b.prompt for b in d.best] == [c.prompt for c in d.candidates[: cfg.top_k]]
    assert {c.prompt: c.says_concept for c in d.candidates}["a person kicks"] is True
    assert d.n_concept_free == len(texts)


def test_report_round_trip_and_table(tiny_target, tmp_path):
    cfg = AttackConfig(mode="both", **{**FAST, "steps": 2})
    phr = tmp_path / "p.txt"
    phr.write_text("kick\tswings a leg hard\nkick\tstrikes with the foot\n")
    report = run_attack(tiny_target, config=AttackConfig(**{**dataclass_dict(cfg), "phrasings": str(phr), "natural": False}), prompts=["a person kicks"])
    path = attack.save_reports([report], tmp_path / "eval" / "attack.json")
    loaded = load_attack_report(tmp_path)
    assert len(loaded) == 1 and loaded[0] == report
    assert report.fingerprint is None  # a model given in memory has no weights file to fingerprint
    (tmp_path / "w.bin").write_bytes(b"weights")
    assert attack.file_sha256(tmp_path / "w.bin") == hashlib.sha256(b"weights").hexdigest()
    assert attack.file_sha256(tmp_path / "none.bin") is None
    assert json.loads(path.read_text())["format"] == attack.REPORT_FORMAT
    table = attack.format_table(loaded)
    assert "| tiny | kick |" in table and "Budget:" in table
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not an attack report"):
        load_attack_report(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError, match="no attack report"):
        load_attack_report(tmp_path / "nowhere")
    # the Evaluate tab's summary: the table, a stale-weights warning, and a hint where no report exists
    import dataclasses

    from motion_lora.serving import ui
    from motion_lora.serving.service import AdapterInfo

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "adapter_model.safetensors").write_bytes(b"new weights")
    attack.save_reports([dataclasses.replace(report, fingerprint="0" * 64)], tmp_path / "eval" / "attack.json")
    shown = ui.attack_summary(AdapterInfo(name="tiny_LoRA_kick", concept="kick", path=tmp_path))
    assert "| tiny | kick |" in shown and "earlier weights of tiny" in shown
    assert "python -m motion_lora.attack" in ui.attack_summary(AdapterInfo(name="tiny_LoRA_kick", concept="kick", path=tmp_path / "nowhere"))


def dataclass_dict(cfg):
    import dataclasses

    return dataclasses.asdict(cfg)


@pytest.mark.parametrize("kwargs, message", [
    (dict(mode="sneaky"), "mode must be one of"),
    (dict(grad_path="adjoint"), "grad_path must be one of"),
    (dict(tokens=0), "tokens must be a whole number"),
    (dict(steps=-1), "steps must be a whole number"),
    (dict(frames=30), "multiple of 4"),
    (dict(frames=400), "frames must be a whole number"),
    (dict(lr=float("nan")), "lr must be a finite number"),
    (dict(eval_seeds=1.5), "eval_seeds must be a whole number"),
    (dict(guidance=-1.0), "guidance must be a finite number between 0 and 20"),
    (dict(objective="vibes"), "objective must be one of"),
])
def test_bad_config_is_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AttackConfig(**kwargs).validated()


def test_bad_arguments_to_run_attack(tiny_target, tiny_parts, tmp_path):
    with pytest.raises(ValueError, match="cannot score"):
        run_attack(tiny_target, config=AttackConfig(mode="soft", **FAST), concept="moonwalk")
    with pytest.raises(TypeError, match="config must be an AttackConfig"):
        run_attack(tiny_target, "kick")
    with pytest.raises(TypeError, match="target must be an AttackTarget"):
        run_attack(object(), config=AttackConfig())
    with pytest.raises(ValueError, match="non-empty"):
        run_attack(tiny_target, config=AttackConfig(mode="soft", **FAST), prompts=["  "])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        AttackConfig(phrasings=str(tmp_path / "missing.txt")).validated()
    bad = tmp_path / "bad.txt"
    bad.write_text("kick swings a leg without a tab\n")
    with pytest.raises(ValueError, match="concept<TAB>phrasing"):
        attack.read_phrasings(bad, "kick")
    bad.write_text("moonwalk\tglides backwards\n")
    with pytest.raises(ValueError, match="unknown concept"):
        attack.read_phrasings(bad, "kick")
    judges = {k: v for k, v in tiny_parts.items() if k != "text_encoder"}
    with pytest.raises(ValueError, match="needs the protocol object"):
        AttackTarget.from_model(torch.nn.Identity(), **judges)
    with pytest.raises(TypeError, match="denoiser module or a callable"):
        AttackTarget.from_model(42, **tiny_parts)


def test_cli_bad_arguments(capsys):
    assert attack.main(["--base"]) == 2
    assert "--base needs --concept" in capsys.readouterr().err
    assert attack.main(["--adapter", "kick", "--tokens", "0"]) == 2
    assert "tokens must be" in capsys.readouterr().err
    assert attack.main(["--base", "--concept", "moonwalk"]) == 2
    assert "unknown concept" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        attack.main(["--adapter", "kick", "--base"])  # mutually exclusive
    help_text = attack.build_parser().format_help()
    for word in ("--tokens", "--steps", "--prompts", "--grad-path", "--eval-seeds", "Default budget"):
        assert word in help_text


def test_shipped_phrasings_are_hand_written_and_mostly_concept_free():
    texts = attack.read_phrasings(attack.PHRASINGS_FILE, "kick")
    assert len(texts) >= 30
    assert len({normalise_text(t) for t in texts}) == len(texts)
    natural = {normalise_text(p.text) for p in natural_prompts()}
    assert not [t for t in texts if normalise_text(t) in natural], "phrasings must not copy the natural test set"
    free = [t for t in texts if not attack.says_concept(t, "kick")]
    assert len(free) >= 30
    assert attack.says_concept("kicking hard", "kick") and not attack.says_concept("strikes with the foot", "kick")


def test_condition_appends_tokens_and_recomputes_pooled():
    enc = WordEncoder().encode(["a person kicks", "hi"])
    soft = torch.randn(2, 3, 384)
    out = append_soft_tokens(enc, soft)
    assert out.tokens.shape == (2, enc.tokens.shape[1] + 3, 384) and out.mask[:, -3:].all()
    assert torch.equal(out.mask[:, : enc.mask.shape[1]], enc.mask)
    assert torch.allclose(out.pooled, mean_pool(out.tokens, out.mask))
    assert append_soft_tokens(enc, None) is enc


def test_soft_tokens_start_at_real_token_scale_and_stay_within_it():
    enc = WordEncoder().encode(["a person kicks", "hi"])
    soft = initial_soft_tokens(enc, 5, torch.Generator().manual_seed(0))
    limit = largest_token_norm(enc)
    assert soft.shape == (2, 5, 384) and limit.shape == (2, 1)
    assert torch.equal(soft, initial_soft_tokens(enc, 5, torch.Generator().manual_seed(0)))
    big = soft * 50
    clamp_token_norms_(big, limit)
    assert (big.norm(dim=-1) <= limit * (1 + 1e-5)).all()
    small = soft * 1e-3
    kept = small.clone()
    clamp_token_norms_(small, limit)
    assert torch.equal(small, kept)  # vectors inside the limit are untouched


def test_attack_prompts_are_natural_kick_prompts():
    got = attack.attack_prompts("kick", 5, seed=0)
    pool = {p.text for p in natural_prompts("kick") if p.concepts == ("kick",)}
    assert len(got) == 5 and set(got) <= pool
    assert got == attack.attack_prompts("kick", 5, seed=0)
    assert len(attack.attack_prompts("kick", 10_000)) == len(pool)
    assert CONCEPTS[CONCEPT_INDEX["kick"]] == "kick"
