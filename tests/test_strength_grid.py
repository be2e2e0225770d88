"""The batched strength grid (motion_lora.unlearning.strength_grid) against separate generations, on a tiny model."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import filled_denoiser

from motion_lora.model.denoiser import DenoiserConfig
from motion_lora.model.generator import MotionGenerator, SampleOptions
from motion_lora.unlearning.adapters import AdapterSet, LoraSpec
from motion_lora.unlearning.strength_grid import GRID_STRENGTHS, strength_grid

TINY = DenoiserConfig(d_model=32, n_layers=2, n_heads=2, max_frames=48, dropout=0.0, overlap=2)
PROMPT, SEED = "a person kicks", 7
# Row i scales lora_A's input by s_i where a separate run scales the LoRA output by s: equal in exact arithmetic,
# equal to float32 rounding here (measured max |difference| 1e-6 to 3e-6 over 4 UniPC steps).
TOLERANCE = 1e-5


class FakeEncoder:
    """A deterministic stand-in for MiniLM (a hash of the text seeds its token states)."""

    def encode(self, texts):
        rows = [torch.Generator().manual_seed(sum(map(ord, t))) for t in texts]
        tokens = torch.stack([torch.randn(4, 384, generator=g) for g in rows])
        return SimpleNamespace(tokens=tokens, mask=torch.ones(len(texts), 4, dtype=torch.bool), pooled=tokens.mean(1))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    filled_denoiser(TINY).save(folder)
    np.save(folder / "Mean.npy", np.zeros(263, dtype=np.float32))
    np.save(folder / "Std.npy", np.ones(263, dtype=np.float32))
    generator = MotionGenerator(folder, text_encoder=FakeEncoder())
    adapters = AdapterSet(generator.model)
    adapters.add("kick", LoraSpec(rank=4, alpha=8.0))
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in adapters.lora_parameters("kick"):
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return generator, adapters


OPTIONS = SampleOptions(frames=40, steps=4, scheduler="unipc")


def separate(generator, adapters, strength, options=OPTIONS):
    with adapters.using({"kick": 1.0}, strength) as model:
        return generator.sample(
            [PROMPT], [SEED], options, denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L)
        )[0]


@pytest.mark.parametrize("guidance", [2.5, 1.0])  # the teacher's two branches; a student's conditional branch alone
def test_grid_equals_separate_generations_at_each_strength(lab, guidance):
    generator, adapters = lab
    options = SampleOptions(frames=40, steps=4, scheduler="unipc", guidance=guidance)
    strengths = [-1.0, 0.0, 0.5, 1.0, 2.0]
    grid = strength_grid(generator, adapters, PROMPT, SEED, {"kick": 1.0}, strengths, options)
    assert grid.shape == (5, 40, 263)
    for row, s in zip(grid, strengths):
        assert (row - separate(generator, adapters, s, options)).abs().max() < TOLERANCE
    # the strengths really differ: the grid is not the same motion five times
    assert (grid[0] - grid[-1]).abs().max() > 100 * TOLERANCE


def test_strength_zero_is_the_base_exactly(lab):
    """Bit for bit against the base in a batch of the same size (a batch of another size differs in the last bits,
    about 1e-6, from the matmul kernels' blocking: not from the adapter)."""
    generator, adapters = lab
    grid = strength_grid(generator, adapters, PROMPT, SEED, {"kick": 1.0}, GRID_STRENGTHS, OPTIONS)
    with adapters.disabled() as model:
        # the base in a batch of the grid's size, with the adapters off
        base = generator.sample(
            [PROMPT] * len(GRID_STRENGTHS),
            [SEED] * len(GRID_STRENGTHS),
            OPTIONS,
            denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L),
        )
    zero = GRID_STRENGTHS.index(0.0)
    assert torch.equal(grid[zero], base[zero])
    assert torch.equal(grid[zero], base[0])


def test_weights_and_start_step(lab):
    generator, adapters = lab
    # weight 2 at strength 0.5 is weight 1 at strength 1
    half = strength_grid(generator, adapters, PROMPT, SEED, {"kick": 2.0}, [0.5], OPTIONS)
    assert (half[0] - separate(generator, adapters, 1.0)).abs().max() < TOLERANCE
    # steering that starts after the last step leaves every row at the base
    late = strength_grid(
        generator, adapters, PROMPT, SEED, {"kick": 1.0}, [0.0, 1.0], OPTIONS, start_step=OPTIONS.steps
    )
    assert torch.equal(late[0], late[1])


@pytest.mark.parametrize(
    "strengths, match", [([], "1 to 32"), ([float("nan")], "strength"), (list(range(33)), "1 to 32"), ("1", "list")]
)
def test_bad_grids(lab, strengths, match):
    generator, adapters = lab
    with pytest.raises(ValueError, match=match):
        strength_grid(generator, adapters, PROMPT, SEED, {"kick": 1.0}, strengths, OPTIONS)


def test_a_grid_needs_an_adapter(lab):
    generator, adapters = lab
    with pytest.raises(ValueError, match="adapter"):
        strength_grid(generator, adapters, PROMPT, SEED, {"kick": 0.0}, [1.0], OPTIONS)
