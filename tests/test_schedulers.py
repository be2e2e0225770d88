"""The diffusers schedulers behind motion_lora.sampler, on a tiny random-weight denoiser (seconds)."""

import threading

import pytest
import torch

from motion_lora.model.denoiser import DenoiserConfig, MotionDenoiser
from motion_lora.model.diffusion import NUM_TRAIN_STEPS, Schedule, cosine_alpha_bar
from motion_lora.model.generator import SampleOptions
from motion_lora.model.sampler import (
    DEFAULT_SCHEDULER,
    SCHEDULERS,
    Sampler,
    check_steps,
    make_scheduler,
    seeded_noise,
)

# diffusers 0.42 + numpy 2 warn inside set_timesteps (np.array(tensor, copy=False)); harmless
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TINY = DenoiserConfig(d_model=32, n_layers=2, n_heads=2, max_frames=48, dropout=0.0)


# ------------------------------------------------------------------ oracle: the hand-written DDIM we replaced


def reference_ddim(schedule: Schedule, steps: int, predict_v, noise: torch.Tensor) -> torch.Tensor:
    """The project's DDIM (eta = 0) before diffusers, kept verbatim in the test as the oracle."""
    T = schedule.num_steps
    timesteps = [int(round(T * (steps - i) / steps)) - 1 for i in range(steps)]
    x = noise
    for i, t in enumerate(timesteps):
        tt = torch.full((x.shape[0],), t, dtype=torch.long)
        v = predict_v(x, tt, i).float()
        x0 = schedule.predict_x0(x, v, tt)
        eps = schedule.predict_eps(x, v, tt)
        t_prev = timesteps[i + 1] if i + 1 < len(timesteps) else -1
        if t_prev < 0:
            x = x0
        else:
            abar_prev = schedule.alpha_bar[t_prev].item()
            x = abar_prev**0.5 * x0 + (1 - abar_prev) ** 0.5 * eps
    return x


def tiny_model():
    torch.manual_seed(0)
    model = MotionDenoiser(TINY)
    with torch.no_grad():  # zero-initialised output layers would make the model output 0
        for p in model.parameters():
            if p.abs().sum() == 0 and p.dim() > 1:
                p.normal_(0, 0.05)
    return model.eval()


def model_predict_v(model, B, frames, guidance=2.5):
    """A CFG predict_v over the tiny model, like MotionGenerator's."""
    g = torch.Generator().manual_seed(3)
    tokens = torch.randn(B, 5, 384, generator=g)
    mask = torch.ones(B, 5, dtype=torch.bool)
    pooled = torch.nn.functional.normalize(torch.randn(B, 384, generator=g), dim=-1)
    both = (torch.cat([tokens, tokens]), torch.cat([mask, torch.zeros_like(mask)]), torch.cat([pooled, torch.zeros_like(pooled)]))
    lengths = torch.full((2 * B,), frames)

    @torch.no_grad()
    def predict_v(x, t, i):
        v = model(torch.cat([x, x]), torch.cat([t, t]), *both, lengths)
        return v[B:] + guidance * (v[:B] - v[B:])

    return predict_v


def oracle_predict_v(x0: torch.Tensor, schedule: Schedule):
    """The exact v for a single known clean sample x0: a perfect denoiser (checks parameterisation, not skill)."""

    def predict_v(x, t, i):
        alpha, sigma = schedule.scales(t, x)
        eps = (x - alpha * x0) / sigma
        return alpha * eps - sigma * x0

    return predict_v


# ------------------------------------------------------------------ tests


def test_diffusers_cosine_schedule_is_ours():
    for name in SCHEDULERS:
        abar = make_scheduler(name, 10).alphas_cumprod.double()
        assert torch.allclose(abar, cosine_alpha_bar(NUM_TRAIN_STEPS), atol=1e-6, rtol=0), name


@pytest.mark.parametrize("steps", [1, 4, 10, 20, 50])
def test_ddim_through_diffusers_equals_the_previous_sampler(steps):
    model, s = tiny_model(), Schedule()
    noise = seeded_noise([5, 6], 48, 263, max_frames=48)
    predict_v = model_predict_v(model, 2, 48)
    expected = reference_ddim(s, steps, predict_v, noise)
    got = Sampler("ddim", steps).sample(predict_v, noise)
    assert (got - expected).abs().max().item() < 1e-4
    assert got.abs().max() > 0.1  # not a trivially zero sample


def test_ddim_timesteps_are_the_trailing_ones():
    assert Sampler("ddim", 4).timesteps == [999, 749, 499, 249]
    assert Sampler("ddim", 20).timesteps == [int(round(1000 * (20 - i) / 20)) - 1 for i in range(20)]
    for name in SCHEDULERS:
        assert Sampler(name, 15).timesteps[0] == 999  # every scheduler starts from pure noise


@pytest.mark.parametrize("name", SCHEDULERS)
def test_each_scheduler_denoises_a_tiny_models_sample(name):
    model = tiny_model()
    noise = seeded_noise([1, 2, 3], 48, 263, max_frames=48)
    x = Sampler(name, 6).sample(model_predict_v(model, 3, 48), noise)
    assert x.shape == (3, 48, 263) and x.dtype == torch.float32
    assert torch.isfinite(x).all()
    assert x.std() < 0.5 * noise.std()  # the tiny model's x0 head is small: sampling removed the noise


@pytest.mark.parametrize("name", SCHEDULERS)
@pytest.mark.parametrize("steps", [3, 8, 20])
def test_with_the_true_v_every_scheduler_recovers_x0(name, steps):
    """With a perfect denoiser any consistent solver lands on x0; a wrong VP/VE conversion (Euler) does not."""
    s = Schedule()
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(2, 8, 263, generator=g), torch.randn(2, 8, 263, generator=g)
    x = Sampler(name, steps).sample(oracle_predict_v(x0, s), noise)
    assert (x - x0).abs().max().item() < 1e-3, name


def test_euler_model_inputs_are_vp_samples():
    """Euler's own sample is x_t / alpha (VE); the denoiser must be called with the VP x_t = alpha x0 + sigma eps."""
    s = Schedule()
    g = torch.Generator().manual_seed(1)
    x0, noise = torch.randn(1, 8, 263, generator=g), torch.randn(1, 8, 263, generator=g)
    seen = []
    oracle = oracle_predict_v(x0, s)

    def recording(x, t, i):
        seen.append((x.clone(), t.clone()))
        return oracle(x, t, i)

    sampler = Sampler("euler", 5)
    sampler.sample(recording, noise)
    assert sampler.scheduler.init_noise_sigma > 100  # Euler's sample really is in VE scale
    for x, t in seen:
        alpha, sigma = s.scales(t, x)
        # with the true v the trajectory stays on x_t = alpha x0 + sigma eps0 (eps0 = the first noise); diffusers
        # steps Euler in float32 from sigma_max ~ 2e4, which cancels to ~2e-3 (DDIM: 2e-4); a wrong conversion is O(1)
        assert torch.allclose(x, alpha * x0 + sigma * noise, atol=5e-3), t
        assert x.abs().max() < 10  # unit scale, not the VE sample's ~2e4


def test_bad_scheduler_names_and_step_counts_give_clear_errors():
    with pytest.raises(ValueError, match="scheduler must be one of ddim, dpmsolver"):
        make_scheduler("pndm", 10)
    with pytest.raises(ValueError, match="scheduler must be one of"):
        Sampler(None, 10)
    for bad in (0, -3, 201, 2.5, True, "10", float("nan")):
        with pytest.raises(ValueError, match="steps must be a whole number between 1 and 200"):
            make_scheduler("ddim", bad)
    with pytest.raises(ValueError, match="scheduler must be one of"):
        SampleOptions(scheduler="karras").validated()
    assert SampleOptions(scheduler=" UniPC ").validated().scheduler == "unipc"
    assert SampleOptions().validated().scheduler == DEFAULT_SCHEDULER
    assert check_steps(20.0) == 20


def test_schedulers_are_fresh_per_sampler_and_thread_safe():
    model = tiny_model()
    noise = seeded_noise([9], 48, 263, max_frames=48)
    predict_v = model_predict_v(model, 1, 48)
    expected = Sampler("dpmsolver++", 8).sample(predict_v, noise)
    assert make_scheduler("unipc", 8) is not make_scheduler("unipc", 8)
    results = [None] * 4

    def run(k):
        results[k] = Sampler("dpmsolver++", 8).sample(predict_v, noise)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for r in results:  # a shared multistep history would have mixed the threads' steps
        assert torch.allclose(r, expected, atol=1e-6)


# ------------------------------------------------------------------ ESD rollouts on the chosen scheduler


class FakeEncoder:
    """Deterministic stand-in for MiniLM (the rollout only needs token states, a mask and pooled vectors)."""

    def encode(self, texts):
        from motion_lora.model.text_encoder import TextBatch

        rows = [torch.Generator().manual_seed(sum(map(ord, t))) for t in texts]
        tokens = torch.stack([torch.randn(4, 384, generator=g) for g in rows])
        return TextBatch(tokens=tokens, mask=torch.ones(len(texts), 4, dtype=torch.bool), pooled=torch.nn.functional.normalize(tokens.mean(1), dim=-1))


@pytest.mark.parametrize("name", SCHEDULERS)
def test_esd_rollouts_use_the_chosen_scheduler(name):
    from motion_lora.unlearning.adapters import AdapterSet, LoraSpec
    from motion_lora.unlearning.unlearn import UnlearnConfig, Unlearner

    cfg = UnlearnConfig(concept="kick", iterations=2, batch_size=2, rollout_steps=5, frames=48, preserve_weight=0.0, lora=LoraSpec(rank=2, alpha=2.0), scheduler=name)
    from motion_lora.unlearning.our_denoiser import denoiser_target

    adapters = AdapterSet(tiny_model())
    u = Unlearner(denoiser_target(adapters.base, FakeEncoder()), adapters, cfg, "kick")
    pool = u.rollout(["a person kicks", "someone kicks high"])
    expected_t = Sampler(name, 5).timesteps
    assert pool.ts.view(5, 2)[:, 0].tolist() == expected_t  # the scheduler's timesteps, 2 prompts each
    assert pool.xs.shape == (10, 48, 263) and torch.isfinite(pool.xs).all()
    assert pool.xs.abs().max() < 20  # VP model inputs, never Euler's sigma_max-scaled sample
    events = u.run()
    assert len(events) == 2 and all(torch.isfinite(torch.tensor(e.loss)) for e in events)


def test_unlearn_config_rejects_a_bad_scheduler():
    from motion_lora.unlearning.unlearn import UnlearnConfig

    with pytest.raises(ValueError, match="scheduler must be one of"):
        UnlearnConfig(scheduler="heun").validated()


def test_unmasked_attention_fast_path_equals_the_masked_one():
    """A batch of full-length rows skips the attention mask; the same row inside a padded batch takes the masked
    path. Both must give the same v (the speed change may not change outputs)."""
    model = tiny_model()
    g = torch.Generator().manual_seed(4)
    x, tokens = torch.randn(2, 48, 263, generator=g), torch.randn(2, 5, 384, generator=g)
    mask, pooled = torch.ones(2, 5, dtype=torch.bool), torch.randn(2, 384, generator=g)
    t = torch.tensor([500, 500])
    with torch.no_grad():
        alone = model(x[:1], t[:1], tokens[:1], mask[:1], pooled[:1], torch.tensor([48]))  # no padding: no mask
        padded = model(x, t, tokens, mask, pooled, torch.tensor([48, 20]))  # row 1 padded: masked path
    assert torch.allclose(alone[0], padded[0], rtol=1e-5, atol=1e-5)
