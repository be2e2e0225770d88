"""LoRA adapter invariants (PEFT-style) on a tiny denoiser, and the ESD loop's guarantees."""

import math
import threading

import pytest
import torch
from conftest import filled_denoiser

from motion_lora.model.denoiser import DenoiserConfig
from motion_lora.model.diffusion import masked_mse
from motion_lora.unlearning.adapters import BASE, PRESETS, AdapterSet, LoraSpec, base_state_hash
from motion_lora.unlearning.our_denoiser import denoiser_target
from motion_lora.unlearning.unlearn import (
    Rows,
    UnlearnConfig,
    Unlearner,
    concept_key,
    concept_prompts,
    nearest_retain_prompts,
)

TINY = DenoiserConfig(d_model=32, n_layers=2, n_heads=2, max_frames=48, dropout=0.0)


def tiny_base(seed=0):
    return filled_denoiser(TINY, seed)


def inputs(B=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(B, 48, 263, generator=g),
        torch.tensor([10, 500][:B]),
        torch.randn(B, 5, 384, generator=g),
        torch.ones(B, 5, dtype=torch.bool),
        torch.randn(B, 384, generator=g),
        torch.full((B,), 48),
    )


def with_trained_looking_adapter(adapters, name, spec=LoraSpec(rank=4, alpha=8.0), seed=1):
    adapters.add(name, spec)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in adapters.lora_parameters(name):
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return adapters


class FakeEncoder:
    """Deterministic stand-in for MiniLM so the loop tests run in a second."""

    def encode(self, texts):
        from motion_lora.model.text_encoder import TextBatch

        rows = [torch.Generator().manual_seed(abs(hash(t)) % 2**31) for t in texts]
        tokens = torch.stack([torch.randn(4, 384, generator=g) for g in rows])
        pooled = torch.nn.functional.normalize(tokens.mean(1), dim=-1)
        return TextBatch(tokens=tokens, mask=torch.ones(len(texts), 4, dtype=torch.bool), pooled=pooled)


def close(a, b, rel=1e-5):
    """Equal up to float rounding, relative to the output's scale (v = (alpha x - x0) / sigma is large at small t)."""
    return (a - b).abs().max() <= rel * b.abs().max()


def run(adapters, name, scale=1.0, weights=None):
    with adapters.using(weights or {name: 1.0}, scale) as model:
        return model(*inputs())


def test_presets_target_only_the_named_projections():
    adapters = AdapterSet(tiny_base())
    for preset in PRESETS:
        adapters.add(preset, LoraSpec(rank=2, alpha=2, preset=preset))
    targeted = {preset: {n.split(".lora_A")[0] for n, _ in adapters.peft.named_parameters() if f"lora_A.{preset}." in n} for preset in PRESETS}
    assert all(".cross_attn." in n for n in targeted["xattn"]) and len(targeted["xattn"]) == 2 * 4
    assert {n.rsplit(".", 1)[1] for n in targeted["xattn-kv"]} == {"to_k", "to_v"}
    assert len(targeted["attn"]) == 2 * 2 * 4
    assert targeted["attn"] < targeted["all-linear"]
    assert {n.rsplit(".", 1)[1] for n in targeted["attn+text"] - targeted["attn"]} == {"text_proj", "text_pool"}


def test_fresh_disabled_and_zero_scale_equal_base():
    base = tiny_base()
    y0 = base(*inputs())
    adapters = AdapterSet(base)
    adapters.add("fresh", LoraSpec(rank=4, alpha=4))
    assert torch.equal(run(adapters, "fresh"), y0)  # B = 0 at init
    with_trained_looking_adapter(adapters, "kick")
    with adapters.disabled() as model:
        assert torch.equal(model(*inputs()), y0)
    assert torch.equal(run(adapters, "kick", scale=0.0), y0)
    assert not torch.allclose(run(adapters, "kick"), y0, atol=1e-4)


def test_scale_multiplies_the_lora_delta_of_every_layer():
    """On a LoRA layer, scale s gives exactly s times the delta (the network output is nonlinear in it)."""
    adapters = with_trained_looking_adapter(AdapterSet(tiny_base()), "kick")
    layer = adapters.peft.base_model.model.blocks[0].cross_attn.to_k
    x = torch.randn(3, 32)
    with adapters.disabled():
        y0 = layer(x)
    deltas = {}
    for s in (1.0, 2.5, -0.5):
        with adapters.using({"kick": 1.0}, s):
            deltas[s] = layer(x) - y0
    assert torch.allclose(deltas[2.5], 2.5 * deltas[1.0], atol=1e-6)
    assert torch.allclose(deltas[-0.5], -0.5 * deltas[1.0], atol=1e-6)


def test_weighted_combination_sums_deltas():
    adapters = AdapterSet(tiny_base())
    with_trained_looking_adapter(adapters, "kick", seed=1)
    with_trained_looking_adapter(adapters, "punch", LoraSpec(rank=8, alpha=4.0), seed=2)
    layer = adapters.peft.base_model.model.blocks[1].self_attn.to_q
    x = torch.randn(3, 32)
    with adapters.disabled():
        y0 = layer(x)
    with adapters.using({"kick": 1.0}, 1.0):
        dk = layer(x) - y0
    with adapters.using({"punch": 1.0}, 1.0):
        dp = layer(x) - y0
    with adapters.using({"kick": 0.7, "punch": 1.5}, 2.0):
        both = layer(x) - y0
    assert torch.allclose(both, 2.0 * (0.7 * dk + 1.5 * dp), atol=1e-5)


@pytest.mark.parametrize("preset", ["attn", "all-linear"])  # all-linear also adapts 2-d inputs (the AdaLN layers)
def test_mixed_batch_equals_two_separate_runs(preset):
    adapters = with_trained_looking_adapter(AdapterSet(tiny_base()), "kick", LoraSpec(preset=preset))
    args = inputs()
    with adapters.disabled() as model:
        base_out = model(*args)
    steered = run(adapters, "kick", scale=1.5)
    doubled = tuple(torch.cat([a, a]) for a in args)
    with adapters.mixed({"kick": 1.0}, 1.5) as (model, name):
        out = model(*doubled, adapter_names=[BASE, BASE, name, name])
    assert close(out[:2], base_out)
    assert close(out[2:], steered)
    assert close(run(adapters, "kick", scale=1.5), steered)  # the row mask is gone after the mixed forward


def test_save_load_round_trip_keeps_rank_and_alpha(tmp_path):
    adapters = with_trained_looking_adapter(AdapterSet(tiny_base()), "kick", LoraSpec(rank=6, alpha=3.0, preset="xattn"))
    expected = run(adapters, "kick")
    adapters.save("kick", tmp_path)
    fresh = AdapterSet(tiny_base())
    spec = fresh.load("kick", tmp_path)  # no rank flag: it comes from the files
    assert (spec.rank, spec.alpha, spec.preset) == (6, 3.0, "xattn")
    assert close(run(fresh, "kick"), expected)


def test_bad_adapter_requests():
    adapters = with_trained_looking_adapter(AdapterSet(tiny_base()), "kick")
    with pytest.raises(ValueError, match="unknown adapter"):
        adapters.resolve({"dance": 1.0})
    with pytest.raises(ValueError, match="finite"):
        adapters.resolve({"kick": 1.0}, float("nan"))
    with pytest.raises(ValueError, match="already loaded"):
        adapters.add("kick", LoraSpec())
    for bad in (LoraSpec(rank=0), LoraSpec(rank=-2), LoraSpec(alpha=float("nan")), LoraSpec(preset="mlp")):
        with pytest.raises(ValueError):
            bad.validated()


def test_load_missing_or_corrupt_adapter_is_a_clear_error(tmp_path):
    adapters = with_trained_looking_adapter(AdapterSet(tiny_base()), "kick")
    with pytest.raises(FileNotFoundError, match="not a LoRA adapter folder"):
        adapters.load("x", tmp_path)
    adapters.save("kick", tmp_path / "ok")
    (tmp_path / "ok" / "adapter_model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="could not load"):
        adapters.load("broken", tmp_path / "ok")
    assert adapters.names == ["kick"] and run(adapters, "kick") is not None  # the rest still works


# ---------------------------------------------------------------------------- ESD loop


def unlearner(adapters, **overrides):
    """A tiny ESD run; plain ESD (no adversarial tokens) unless a test asks for them."""
    overrides = {"adversarial_tokens": 0} | overrides
    cfg = UnlearnConfig(concept="kick", iterations=6, batch_size=2, rollout_steps=4, frames=48, pool_refresh=3, lora=LoraSpec(rank=4, alpha=4.0), lr=1e-2, **overrides)
    return Unlearner(ours(adapters), adapters, cfg, "kick")


def ours(adapters):
    """The tiny denoiser of `adapters` with the stand-in encoder, as the protocol object the loop takes."""
    return denoiser_target(adapters.base, FakeEncoder())


def teacher(u, x, t, text):
    return u.teacher([Rows(x, t, text)])[0]


def student(u, x, t, text):
    with torch.no_grad():
        return u.student_forward([Rows(x, t, text)])[0]


def test_only_lora_parameters_are_optimised_and_base_is_unchanged():
    adapters = AdapterSet(tiny_base())
    before = base_state_hash(adapters.model)
    u = unlearner(adapters)
    optimised = {id(p) for group in u.optimizer.param_groups for p in group["params"]}
    names = {n for n, p in adapters.peft.named_parameters() if id(p) in optimised}
    assert names and all("lora_" in n for n in names)
    assert all(not p.requires_grad for n, p in adapters.peft.named_parameters() if "lora_" not in n)
    events = u.run()
    assert [e.step for e in events] == list(range(1, 7))
    assert base_state_hash(adapters.model) == before
    assert not torch.equal(run(adapters, "kick"), AdapterSet(tiny_base()).model(*inputs()))


def test_teacher_is_frozen_and_targets_are_v_space():
    """The ESD target is built from the adapter-disabled network, and it does not move while training."""
    adapters = AdapterSet(tiny_base())
    u = unlearner(adapters, negative_guidance=2.0)
    text = u.model.text(["a person kicks", "a person kicks"])
    x = torch.randn(2, 48, 263)
    t = torch.tensor([100, 700])
    L = torch.full((2,), 48)
    v_c_before = teacher(u, x, t, text)
    u.run()
    assert torch.equal(teacher(u, x, t, text), v_c_before)
    # ... and equals the plain base network's v prediction (not the student's, not epsilon)
    plain = tiny_base()
    assert close(plain(x, t, text.tokens, text.mask, text.pooled, L), v_c_before)


def test_batched_losses_equal_separate_forwards():
    """Concept and retain rows share one teacher and one student forward; the losses are the per-set ones."""
    adapters = AdapterSet(tiny_base())
    retain = ["a person walks", "someone claps"]
    u = unlearner(adapters, preserve_weight=1.0, retain_prompts=tuple(retain))
    u.run()  # a trained adapter, so student and teacher differ
    concept = ["a person kicks", "someone kicks"]
    pool, rpool = u.rollout(concept + retain).split(2)
    assert len(pool.ts) == len(rpool.ts) == 2 * 4 and set(pool.prompt_idx.tolist()) == set(rpool.prompt_idx.tolist()) == {0, 1}
    state = u.g.get_state()
    esd, preserve = u.losses(pool, concept, rpool, retain)
    u.g.set_state(state)
    x, t, i = pool.draw(2, u.g)
    xr, tr, ir = rpool.draw(2, u.g)
    text, rtext = u.model.text([concept[k] for k in i.tolist()]), u.model.text([retain[k] for k in ir.tolist()])
    v_c, v_u = teacher(u, x, t, text), teacher(u, x, t, text.unconditional())
    target = v_u - 1.0 * (v_c - v_u)
    mask = torch.ones(2, 48, dtype=torch.bool)
    assert close(esd, masked_mse(student(u, x, t, text), target, mask))
    assert close(preserve, masked_mse(student(u, xr, tr, rtext), teacher(u, xr, tr, rtext), mask))
    assert preserve > 0


def test_default_retain_prompts_are_the_nearest_other_concepts():
    """Preservation targets the captions that read most like the concept: for kick, walking "on foot"."""
    from motion_lora.data.captions import heldout_markers
    from motion_lora.model.text_encoder import TextEncoder

    chosen = nearest_retain_prompts("kick", concept_prompts("kick"), TextEncoder().encode, n=12, per_concept=3)
    assert len(chosen) == len(set(chosen)) == 12
    assert not any("kick" in p for p in chosen) and not any(m in p for p in chosen for m in heldout_markers("kick"))
    assert any("on foot" in p for p in chosen[:3])  # walk captions come first (measured collateral damage of kick)
    assert sum("on foot" in p for p in chosen) <= 3  # per-concept cap keeps several neighbours


def test_noise_and_rollout_shapes():
    adapters = AdapterSet(tiny_base())
    u = unlearner(adapters)
    pool = u.rollout(["a person kicks", "someone kicks"])
    assert pool.xs.shape == (2 * 4, 48, 263) and pool.ts.shape == (8,)
    assert sorted(set(pool.ts.tolist()), reverse=True) == [999, 749, 499, 249]


def test_stop_between_steps():
    adapters = AdapterSet(tiny_base())
    stop = threading.Event()
    u = Unlearner(ours(adapters), adapters, UnlearnConfig(iterations=50, batch_size=2, rollout_steps=3, frames=48, lora=LoraSpec(rank=2, alpha=2)), "kick", stop=stop)
    seen = []
    for event in u:
        seen.append(event.step)
        if event.step == 3:
            stop.set()
    assert seen == [1, 2, 3] and not u.finished


def test_full_finetuning_trains_a_copy_and_keeps_the_teacher():
    adapters = AdapterSet(tiny_base())
    before = base_state_hash(adapters.model)
    u = unlearner(adapters, method="full")
    assert len(u.params) == len(list(adapters.base.parameters()))
    u.run()
    assert base_state_hash(adapters.model) == before
    assert base_state_hash(u.student) != before


def test_concept_prompts_and_bad_configs():
    assert concept_key("Kicks") == "kick" and concept_key("raise arms") == "raise_arms" and concept_key("jumping jacks") == "jumping_jacks"
    prompts = concept_prompts("kick", ("my own kick prompt",))
    assert "kick" in prompts and "my own kick prompt" in prompts and len(prompts) > 10
    assert concept_prompts("moonwalk")[0] == "moonwalk"
    for bad in (dict(concept=""), dict(concept="../etc"), dict(lr=float("nan")), dict(iterations=0), dict(method="sgd"), dict(preserve_weight=-1.0), dict(lora=LoraSpec(rank=0))):
        with pytest.raises(ValueError):
            UnlearnConfig(**bad).validated()


ANCHOR = "a person stands still"


def test_anchor_replaces_the_unconditional_prediction_in_the_target():
    """With an anchor, the ESD target is v_a - eta (v_c - v_a), v_a the teacher's anchor prediction on the same x_t."""
    adapters = AdapterSet(tiny_base())
    u = unlearner(adapters, anchor=ANCHOR, negative_guidance=0.5, preserve_weight=0.0)
    u.run()
    concept = ["a person kicks", "someone kicks"]
    pool, _ = u.rollout(concept).split(2)
    state = u.g.get_state()
    esd, _ = u.losses(pool, concept, None, [])
    u.g.set_state(state)
    x, t, i = pool.draw(2, u.g)
    text, anchor = u.model.text([concept[k] for k in i.tolist()]), u.model.text([ANCHOR, ANCHOR])
    v_c, v_a = teacher(u, x, t, text), teacher(u, x, t, anchor)
    assert close(esd, masked_mse(student(u, x, t, text), v_a - 0.5 * (v_c - v_a), torch.ones(2, 48, dtype=torch.bool)))


def test_anchor_training_moves_the_concept_output_towards_the_anchor():
    adapters = AdapterSet(tiny_base())
    u = Unlearner(ours(adapters), adapters, UnlearnConfig(concept="kick", anchor=ANCHOR, negative_guidance=0.0, preserve_weight=0.0, iterations=40, batch_size=2, rollout_steps=4, frames=48, pool_refresh=3, lora=LoraSpec(rank=4, alpha=4.0), lr=1e-2), "kick")
    x = torch.randn(2, 48, 263, generator=torch.Generator().manual_seed(5))
    t = torch.tensor([300, 800])
    text, anchor = u.model.text(["a person kicks", "kick"]), u.model.text([ANCHOR, ANCHOR])

    def gap():
        return (student(u, x, t, text) - teacher(u, x, t, anchor)).pow(2).mean().item()

    before = gap()
    u.run()
    assert gap() < 0.5 * before


def test_adversarial_inner_attack_brings_the_concept_prediction_back():
    """AdvUnlearn's inner step: the soft tokens move so that the student, given them, predicts the teacher's
    concept output more closely; they stay within the prompts' real token norms; no network weight gets a gradient."""
    from motion_lora.unlearning.soft_prompt import append_soft_tokens

    adapters = AdapterSet(tiny_base())
    before = base_state_hash(adapters.model)
    u = unlearner(adapters, adversarial_tokens=3, adversarial_steps=5, adversarial_lr=0.2, preserve_weight=0.0)
    u.run()  # a trained adapter: the student differs from the teacher on the concept
    prompts = ["a person kicks", "someone kicks"]
    u._new_attack(prompts)
    x = torch.randn(2, 48, 263, generator=torch.Generator().manual_seed(3))
    t, pi = torch.tensor([400, 700]), torch.tensor([0, 1])
    text = u.model.text(prompts)
    v_c = teacher(u, x, t, text)
    full = torch.ones(2, 48, dtype=torch.bool)

    def gap(cond):
        return masked_mse(student(u, x, t, cond), v_c, full).item()

    start = gap(append_soft_tokens(text, u.soft.detach()))
    u.optimizer.zero_grad(set_to_none=True)
    attacked = u._attack(Rows(x, t, text), pi, v_c)
    assert gap(attacked) < start
    assert (u.soft.detach().norm(dim=-1) <= u.soft_limit * (1 + 1e-5)).all()
    assert base_state_hash(adapters.model) == before
    assert all(p.grad is None for p in u.params)  # the inner step moves the soft tokens only


def test_adversarial_training_trains_on_the_attacked_prompts_too():
    """With adversarial tokens the ESD term also covers the attacked rows; the run finishes with finite losses and
    only LoRA weights change; 0 tokens is the plain loop (no soft tokens at all)."""
    adapters = AdapterSet(tiny_base())
    before = base_state_hash(adapters.model)
    u = unlearner(adapters, adversarial_tokens=2)
    events = u.run()
    assert len(events) == 6 and all(math.isfinite(e.loss) for e in events)
    assert u.soft is not None and u.soft.shape == (2, 2, 384)
    assert base_state_hash(adapters.model) == before
    # one step's student calls: the inner attack on the 2 concept rows (adversarial_steps times), then one forward
    # of concept + attacked concept + retain rows, the attacked ones attending to 2 more tokens
    concept, retain = ["a person kicks", "someone kicks"], ["a person walks", "someone waves"]
    u._new_attack(concept)
    pool, retain_pool = u.rollout(concept + retain).split(2)
    calls, student = [], u.student
    u.student = lambda x, t, tok, m, p, L: (calls.append((len(x), m.sum(1).tolist())), student(x, t, tok, m, p, L))[1]
    u.losses(pool, concept, retain_pool, retain)
    assert [n for n, _ in calls] == [2] * u.cfg.adversarial_steps + [6]
    attended = calls[-1][1]
    assert attended[2:4] == [a + 2 for a in attended[:2]]
    plain = unlearner(AdapterSet(tiny_base()))
    plain.run()
    assert plain.soft is None
    with pytest.raises(ValueError, match="adversarial_tokens"):
        UnlearnConfig(adversarial_tokens=-1).validated()
    with pytest.raises(ValueError, match="adversarial learning rate"):
        UnlearnConfig(adversarial_lr=0.0).validated()


def test_anchor_must_not_name_the_concept():
    with pytest.raises(ValueError, match="names the concept"):
        UnlearnConfig(concept="kick", anchor="a person kicks a ball").validated()
    with pytest.raises(ValueError, match="anchor"):
        UnlearnConfig(anchor="x" * 301).validated()
    assert UnlearnConfig(anchor=ANCHOR).validated().anchor == ANCHOR
