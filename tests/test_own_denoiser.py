"""Bring your own denoiser: a second, differently built model erased through the public calls the train CLI uses.

The model is MDM-shaped, unlike ours: an encoder-only transformer over single frames with the sentence vector
prepended as one token (no cross-attention, no patches), its own forward signature, epsilon prediction on a linear
beta schedule of 50 steps, DDIM only, 8 features per frame. It learns three toy motions (kick, walk, standing
still) in a few seconds, is wrapped in the protocol (`wrap`, the lines docs/unlearning.md shows), and kick is
erased towards the standing anchor by `train.unlearn_to_folder`, which writes the same adapter folder as the CLI.
"""

import copy
import hashlib
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from motion_lora.model.text_batch import TextBatch, mean_pool
from motion_lora.unlearning.adapters import AdapterSet, base_state_hash
from motion_lora.unlearning.target import NoiseSchedule, TextToMotion
from motion_lora.unlearning.train import unlearn_to_folder
from motion_lora.unlearning.unlearn import UnlearnConfig

FEATURES, FRAMES, TEXT_DIM, STEPS = 8, 20, 64, 50
ANCHOR = "a person stands still"
KICK, WALK = "a person kicks", "a person walks"
TRAIN_STEPS = 400
CAPTIONS = {"kick": ("kick", KICK, "someone kicks", "a man kicks high"), "walk": ("walk", WALK, "someone walks", "a man walks slowly"),
            "still": (ANCHOR, "someone stands still", "a man stands")}


class Words:
    """A stand-in text encoder: a fixed random vector per word, pooled by the mean (64 wide, not MiniLM's 384)."""

    def encode(self, texts):
        rows = [[self.vector(w) for w in t.lower().split()] for t in texts]
        tokens = torch.zeros(len(rows), max(len(r) for r in rows), TEXT_DIM)
        mask = torch.zeros(tokens.shape[:2], dtype=torch.bool)
        for i, r in enumerate(rows):
            tokens[i, : len(r)], mask[i, : len(r)] = torch.stack(r), True
        return TextBatch(tokens, mask, mean_pool(tokens, mask))

    @staticmethod
    def vector(word: str) -> torch.Tensor:
        return torch.randn(TEXT_DIM, generator=torch.Generator().manual_seed(int(hashlib.sha256(word.encode()).hexdigest()[:8], 16)))


class Block(nn.Module):
    """Pre-norm self-attention and MLP with plain Linear layers (what LoRA wraps)."""

    def __init__(self, d: int, heads: int = 2):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, h):
        B, N, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(B, N, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        h = h + self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, N, d))
        return h + self.mlp(self.norm2(h))


class TinyMDM(nn.Module):
    """forward(x_t (B, T, 8), t (B,), sentence (B, 64)) -> epsilon (B, T, 8); a zero sentence vector = no text."""

    def __init__(self, d: int = 32, layers: int = 2):
        super().__init__()
        self.frame_in, self.text_in = nn.Linear(FEATURES, d), nn.Linear(TEXT_DIM, d)
        self.time = nn.Embedding(STEPS, d)
        self.pos = nn.Parameter(torch.randn(1, FRAMES + 1, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d) for _ in range(layers))
        self.out = nn.Linear(d, FEATURES)

    def forward(self, x_t, t, sentence):
        # the sentence is one more token, as MDM prepends its CLIP embedding; the timestep is added to every token
        h = torch.cat([self.text_in(sentence)[:, None], self.frame_in(x_t)], 1) + self.time(t)[:, None] + self.pos[:, : x_t.shape[1] + 1]
        for block in self.blocks:
            h = block(h)
        return self.out(h[:, 1:])


def linear_schedule() -> NoiseSchedule:
    betas = torch.linspace(1e-3, 0.2, STEPS, dtype=torch.float64)
    return NoiseSchedule(torch.cumprod(1 - betas, 0), prediction="epsilon")


def wrap(denoiser: nn.Module, encoder) -> TextToMotion:
    """The protocol object for TinyMDM: what a user writes for their own model (docs/unlearning.md)."""
    return TextToMotion(
        denoiser=denoiser,
        encode=encoder.encode,
        forward=lambda module, x_t, t, text, lengths: module(x_t, t, text.pooled),
        schedule=linear_schedule(),
        lora_targets={"attn": r"blocks\.\d+\.(qkv|proj)", "all": r"blocks\.\d+\.(qkv|proj|mlp\.0|mlp\.2)"},
        feature_dim=FEATURES,
        max_frames=FRAMES,
        label="tiny_mdm",
    )


def motion(kind: str) -> torch.Tensor:
    """(FRAMES, FEATURES): kick swings features 0-3, walk features 4-7, standing still is zero."""
    phase = torch.arange(FRAMES)[:, None] / FRAMES * 2 * math.pi + torch.arange(4)[None]
    out = torch.zeros(FRAMES, FEATURES)
    if kind == "kick":
        out[:, :4] = 1.5 * torch.sin(phase)
    elif kind == "walk":
        out[:, 4:] = 1.5 * torch.cos(phase)
    return out


@pytest.fixture(scope="module")
def trained():
    """TinyMDM trained on kick, walk and standing captions (15% without text, for guidance): seconds."""
    torch.manual_seed(0)
    encoder, model = Words(), TinyMDM()
    captions = [(p, k) for k, ps in CAPTIONS.items() for p in ps]
    text = encoder.encode([c for c, _ in captions]).pooled
    x0 = torch.stack([motion(k) for _, k in captions])
    schedule, g = linear_schedule(), torch.Generator().manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    for _ in range(TRAIN_STEPS):
        i = torch.randint(0, len(captions), (64,), generator=g)
        t, noise = torch.randint(0, STEPS, (64,), generator=g), torch.randn(64, FRAMES, FEATURES, generator=g)
        keep = (torch.rand(64, generator=g) > 0.15).float()[:, None]
        loss = F.mse_loss(model(schedule.add_noise(x0[i], noise, t), t, text[i] * keep), schedule.training_target(x0[i], noise, t))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval().requires_grad_(False), encoder


def samples(model: TextToMotion, module, prompt: str, seeds=range(8)) -> torch.Tensor:
    noise = torch.stack([torch.randn(FRAMES, FEATURES, generator=torch.Generator().manual_seed(s)) for s in seeds])
    with torch.no_grad():
        return model.sample(module, model.text([prompt] * len(noise)), noise, guidance=2.5, steps=10)


def presence(x: torch.Tensor, concept: str, instead: str = "still") -> float:
    """How much the motions are `concept` rather than `instead`: +1 = exactly the concept's motion, -1 = exactly
    the other, 0 = halfway (mean over samples of the distance difference, in units of the two motions' distance)."""
    a, b = motion(concept), motion(instead)
    return float(((x - b).norm(dim=(1, 2)) - (x - a).norm(dim=(1, 2))).mean() / (a - b).norm())


def test_an_mdm_shaped_denoiser_is_erased_through_the_cli_path(trained, tmp_path):
    denoiser, encoder = trained
    model = wrap(copy.deepcopy(denoiser), encoder)
    before_hash = base_state_hash(model.denoiser)
    base_kick, base_walk = samples(model, model.denoiser, KICK), samples(model, model.denoiser, WALK)
    assert presence(base_kick, "kick") > 0.6 and presence(base_walk, "walk") > 0.6  # the model knows both motions

    config = UnlearnConfig(concept="kick", anchor=ANCHOR, iterations=80, batch_size=4, frames=FRAMES, rollout_steps=5, scheduler="ddim", lr=5e-3, seed=0)
    folder = unlearn_to_folder(base_name="tiny_mdm", config=config, out_root=tmp_path, model=model)
    assert folder == tmp_path / "t2m" / "tiny_mdm_LoRA_kick" and (folder / "model" / "adapter_model.safetensors").is_file()
    assert base_state_hash(model.denoiser) == before_hash  # training touched no base weight

    fresh = wrap(copy.deepcopy(denoiser), encoder)  # a new process: the base from disk, the adapter from its folder
    adapters = AdapterSet.for_model(fresh)
    adapters.load("kick", folder / "model")
    assert base_state_hash(adapters.model) == before_hash
    with adapters.using({"kick": 0.0}) as module:  # strength 0 is the base, bit for bit
        assert torch.equal(samples(fresh, module, KICK), base_kick)
    with adapters.disabled() as module:
        assert torch.equal(samples(fresh, module, KICK), base_kick)
    with adapters.using({"kick": 1.0}) as module:
        erased_kick, erased_walk = samples(fresh, module, KICK), samples(fresh, module, WALK)
    # kick is gone (closer to standing still than to kicking, by a margin); walk, a retained concept, stays walk
    assert presence(erased_kick, "kick") < presence(base_kick, "kick") - 0.6, (presence(base_kick, "kick"), presence(erased_kick, "kick"))
    assert presence(erased_kick, "kick") < 0
    assert presence(erased_walk, "walk") > 0.5, presence(erased_walk, "walk")


def test_the_protocol_refuses_what_the_model_does_not_offer(trained):
    denoiser, encoder = trained
    model = wrap(copy.deepcopy(denoiser), encoder)
    with pytest.raises(ValueError, match="offers the samplers ddim, not 'unipc'"):
        model.reverse_process("unipc", 10)
    with pytest.raises(ValueError, match="prediction must be one of"):
        NoiseSchedule(linear_schedule().alpha_bar, prediction="score")
    with pytest.raises(ValueError, match="unknown LoRA target preset 'xattn'"):
        AdapterSet.for_model(model).add("x", UnlearnConfig().lora.__class__(preset="xattn"))
    with pytest.raises(ValueError, match="frames must be at most the model's 20"):
        from motion_lora.unlearning.unlearn import Unlearner

        Unlearner(model, AdapterSet.for_model(model), UnlearnConfig(frames=40, scheduler="ddim"), "kick")
