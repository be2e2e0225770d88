"""The text-to-motion denoiser: a small transformer over short temporal tokens of a motion.

Feature space: x_t (B, 196, 263) --4-frame patches--> (B, 49, d) --[AdaLN self-attn, cross-attn, MLP] x L--> v (B, 196, 263)
Latent (the shipped base): x_t (B, 49, 32) --one token per latent frame (patch 1)--> (B, 49, d) --...--> v (B, 49, 32)

* Tokens are short temporal windows: 4-frame patches of the features, or the frames of a motion autoencoder's
  latent at a quarter of the frame rate (model/autoencoder.py), the latent stride of the field's motion models.
* The timestep and the pooled sentence vector condition every block through adaptive LayerNorm.
* Cross-attention reads MiniLM token states; a learned null token is always present, so the
  unconditional branch of classifier-free guidance is "attend to the null token only".
* The network's head estimates the clean motion x0 and the forward returns v = (alpha x_t - x0) / sigma, the
  exact v of that estimate. A 4-frame token carries 4 x 263 = 1052 numbers through a 256-d stream; a head
  that had to emit v (almost pure noise at low noise levels) would need to pass full-rank noise through that
  bottleneck, which it cannot, and samples would keep their noise. Training still minimises the v-loss.
* Attention projections are plain `nn.Linear` layers named `to_q`, `to_k`, `to_v`, `to_out`, so LoRA
  can target them by name (PyTorch's fused MultiheadAttention would silently bypass LoRA in eval mode).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..motion.features import FEATURE_DIM
from .checkpoints import read_model_files, save_model_files
from .diffusion import NUM_TRAIN_STEPS, cosine_alpha_bar



@dataclass(frozen=True, kw_only=True)
class DenoiserConfig:
    feature_dim: int = FEATURE_DIM
    max_frames: int = 196
    patch: int = 4  # frames per token
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    text_dim: int = 384  # MiniLM hidden size
    mlp_ratio: float = 4.0
    dropout: float = 0.1
    # Frames each token also writes into each neighbouring patch (0: none, the original head). With 0 the
    # errors of neighbouring tokens are independent and the motion jumps at every patch boundary.
    overlap: int = 0

    def __post_init__(self):
        if not 0 <= self.overlap <= self.patch:
            raise ValueError(f"overlap must be between 0 and the patch size {self.patch}, got {self.overlap}")

    @property
    def max_tokens(self) -> int:
        return self.max_frames // self.patch

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """(B,) float timesteps in [0, 1000) -> (B, dim) sinusoidal features."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """x (B, N, d) * (1 + scale) + shift, per row (B, d): one fused op on the big tensor (CPU steps are op-bound)."""
    return torch.addcmul(shift[:, None], x, 1 + scale[:, None])


class Attention(nn.Module):
    """Multi-head attention with explicit projections (LoRA targets) and a boolean key mask."""

    def __init__(self, d_model: int, n_heads: int, kv_dim: int | None = None, dropout: float = 0.0):
        super().__init__()
        kv_dim = kv_dim or d_model
        self.n_heads, self.dropout = n_heads, dropout
        self.to_q = nn.Linear(d_model, d_model)
        self.to_k = nn.Linear(kv_dim, d_model)
        self.to_v = nn.Linear(kv_dim, d_model)
        self.to_out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, context: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        """x (B, N, d), context (B, M, kv_dim), key_mask (B, M) True = attend -> (B, N, d)."""
        B, N, D = x.shape
        h = self.n_heads
        q = self.to_q(x).view(B, N, h, D // h).transpose(1, 2)
        k = self.to_k(context).view(B, -1, h, D // h).transpose(1, 2)
        v = self.to_v(context).view(B, -1, h, D // h).transpose(1, 2)
        # no mask when every key is valid (full-length clips): SDPA then skips building an additive mask
        mask = None if bool(key_mask.all()) else key_mask[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        return self.to_out(out.transpose(1, 2).reshape(B, N, D))


class Block(nn.Module):
    """AdaLN-zero transformer block: self-attention over time, cross-attention to text, MLP."""

    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        d = cfg.d_model
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False)
        self.self_attn = Attention(d, cfg.n_heads, dropout=cfg.dropout)
        self.norm2 = nn.LayerNorm(d)
        self.cross_attn = Attention(d, cfg.n_heads, kv_dim=d, dropout=cfg.dropout)
        self.norm3 = nn.LayerNorm(d, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(d, int(d * cfg.mlp_ratio)), nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(int(d * cfg.mlp_ratio), d))
        # shift/scale/gate for the self-attention and MLP branches, from the conditioning vector
        self.ada = nn.Linear(d, 6 * d)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, cond_act, x_mask, text, text_mask):
        """x (B, N, d), cond_act = silu(cond) (B, d), x_mask (B, N), text (B, M, d), text_mask (B, M) -> (B, N, d).

        silu(cond) comes in precomputed: it is the same for every block."""
        s1, c1, g1, s2, c2, g2 = self.ada(cond_act).chunk(6, dim=-1)
        h = modulate(self.norm1(x), s1, c1)
        x = torch.addcmul(x, g1[:, None], self.self_attn(h, h, x_mask))  # x + gate * branch, fused
        x = x + self.cross_attn(self.norm2(x), text, text_mask)
        return torch.addcmul(x, g2[:, None], self.mlp(modulate(self.norm3(x), s2, c2)))


class MotionDenoiser(nn.Module):
    """v-prediction denoiser. forward(x_t, t, text_tokens, text_mask, text_pooled, lengths) -> v."""

    def __init__(self, cfg: DenoiserConfig = DenoiserConfig()):
        super().__init__()
        self.cfg = cfg
        d, p = cfg.d_model, cfg.patch
        self.patch_in = nn.Linear(cfg.feature_dim * p, d)
        self.pos = nn.Parameter(torch.randn(1, cfg.max_tokens, d) * 0.02)
        self.time_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.text_pool = nn.Linear(cfg.text_dim, d)
        self.text_proj = nn.Linear(cfg.text_dim, d)
        self.null_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False)
        self.ada_out = nn.Linear(d, 2 * d)
        self.patch_out = nn.Linear(d, cfg.feature_dim * p)
        # each token's share of the `overlap` frames on either side of its patch, added to the neighbours' own
        self.patch_spill = nn.Linear(d, 2 * cfg.overlap * cfg.feature_dim) if cfg.overlap else None
        for layer in (self.ada_out, self.patch_out, self.patch_spill):
            if layer is None:
                continue
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        abar = cosine_alpha_bar(NUM_TRAIN_STEPS).float()
        self.register_buffer("alpha", abar.sqrt(), persistent=False)
        self.register_buffer("sigma", (1 - abar).sqrt(), persistent=False)

    def forward(
        self,
        x: torch.Tensor,  # (B, T, 263), T a multiple of the patch size, <= max_frames
        t: torch.Tensor,  # (B,) timesteps
        text_tokens: torch.Tensor,  # (B, L, 384)
        text_mask: torch.Tensor,  # (B, L) True = real token; all False = unconditional
        text_pooled: torch.Tensor,  # (B, 384); zeros for unconditional
        lengths: torch.Tensor,  # (B,) valid frames
    ) -> torch.Tensor:
        B, T, _ = x.shape
        p = self.cfg.patch
        if T % p or T > self.cfg.max_frames:
            raise ValueError(f"frames must be a multiple of {p} and at most {self.cfg.max_frames}, got {T}")
        n = T // p
        h = self.patch_in(x.reshape(B, n, p * x.shape[-1])) + self.pos[:, :n]
        x_mask = token_mask(lengths, n, p)  # (B, n)
        cond = self.time_mlp(timestep_embedding(t, self.cfg.d_model)) + self.text_pool(text_pooled)
        text = torch.cat([self.null_token.expand(B, -1, -1), self.text_proj(text_tokens)], dim=1)
        text_mask = torch.cat([torch.ones(B, 1, dtype=torch.bool, device=x.device), text_mask], dim=1)
        cond_act = F.silu(cond)  # (B, d), shared by every block's and the head's AdaLN
        for block in self.blocks:
            h = block(h, cond_act, x_mask, text, text_mask)
        shift, scale = self.ada_out(cond_act).chunk(2, dim=-1)
        y = modulate(self.norm_out(h), shift, scale)  # (B, n, d)
        x0 = self.patch_out(y).reshape(B, n, p, -1)
        if self.patch_spill is not None:
            x0 = x0 + self._spill(self.patch_spill(y) * x_mask[..., None], n)
        x0 = x0.reshape(B, T, -1).float()
        alpha, sigma = self.alpha[t.long()].view(-1, 1, 1), self.sigma[t.long()].view(-1, 1, 1)
        return (alpha * x.float() - x0) / sigma  # v of the x0 estimate

    def _spill(self, spill: torch.Tensor, n: int) -> torch.Tensor:
        """(B, n, 2 * o * C) per-token spill -> (B, n, p, C): token k's first half lands on the last o frames of
        patch k - 1, its second half on the first o frames of patch k + 1. Padding tokens were zeroed."""
        B, p, o = spill.shape[0], self.cfg.patch, self.cfg.overlap
        spill = spill.reshape(B, n, 2, o, -1)
        out = spill.new_zeros(B, n, p, spill.shape[-1])
        out[:, :-1, p - o :] = spill[:, 1:, 0]
        out[:, 1:, :o] = out[:, 1:, :o] + spill[:, :-1, 1]
        return out

    def with_overlap(self, overlap: int) -> "MotionDenoiser":
        """A copy with another head overlap that computes the same function (new spill weights start at 0),
        for fine-tuning a checkpoint trained without it."""
        model = MotionDenoiser(dataclasses.replace(self.cfg, overlap=overlap)).to(next(self.parameters()).device)
        missing, unexpected = model.load_state_dict(self.state_dict(), strict=False)
        if unexpected or any(not k.startswith("patch_spill.") for k in missing):
            raise ValueError(f"cannot change the overlap of this model (missing {missing}, unexpected {unexpected})")
        return model

    # --------------------------------------------------------------- persistence

    def save(self, directory: str | Path, dtype: torch.dtype = torch.float32) -> None:
        """safetensors weights (float16 halves the shipped file; loading casts back to float32) + config."""
        save_model_files(self.state_dict(), dataclasses.asdict(self.cfg), directory, dtype)

    @classmethod
    def load(cls, directory: str | Path, device: str | torch.device = "cpu") -> "MotionDenoiser":
        config, state = read_model_files(directory, ": not a denoiser checkpoint", device)
        model = cls(DenoiserConfig(**config))
        model.load_state_dict({k: v.float() for k, v in state.items()})
        return model.to(device).eval()


def token_mask(lengths: torch.Tensor, n_tokens: int, patch: int) -> torch.Tensor:
    """(B,) frame lengths -> (B, n_tokens) True for tokens that hold at least one valid frame."""
    starts = torch.arange(n_tokens, device=lengths.device) * patch
    return starts[None] < lengths[:, None]


def frame_mask(lengths: torch.Tensor, n_frames: int) -> torch.Tensor:
    """(B,) lengths -> (B, n_frames) True for valid frames."""
    return torch.arange(n_frames, device=lengths.device)[None] < lengths[:, None]
