"""The evaluator network: a motion encoder and a text head into one embedding space, and a concept head.

Also its config and how it is saved and loaded (config.json + model.safetensors)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...data.clip import CONCEPTS
from ...model.checkpoints import read_model_files, save_model_files

DOWNSAMPLE = 4  # two stride-2 convs; lengths are multiples of 4, so token counts are exact


@dataclass(kw_only=True)
class EvaluatorConfig:
    feature_dim: int = 263
    max_frames: int = 196
    text_dim: int = 384  # all-MiniLM-L6-v2 pooled vector
    embed_dim: int = 512
    hidden: int = 256  # motion transformer width
    layers: int = 2
    heads: int = 4
    ff_mult: int = 2
    dropout: float = 0.1
    num_concepts: int = len(CONCEPTS)
    init_temperature: float = 0.07
    concept_weight: float = 0.5  # weight of the concept cross-entropy next to the contrastive loss
    weight_decay: float = 0.01
    warmup_frac: float = 0.05  # of the steps, linear warm-up before cosine decay

    @classmethod
    def from_dict(cls, d: dict) -> "EvaluatorConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown evaluator config keys: {', '.join(sorted(unknown))}")
        return cls(**d)


def frame_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(B,) lengths -> (B, T) bool, True on real frames."""
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


class MotionEncoder(nn.Module):
    def __init__(self, cfg: EvaluatorConfig):
        super().__init__()
        h = cfg.hidden
        self.inp = nn.Linear(cfg.feature_dim, h)
        # kernel 4, stride 2, padding 1 halves the length exactly; two of them give one token per 4 frames
        self.down = nn.ModuleList([nn.Conv1d(h, h, 4, stride=2, padding=1) for _ in range(2)])
        self.pos = nn.Parameter(torch.zeros(1, math.ceil(cfg.max_frames / DOWNSAMPLE), h))
        nn.init.normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(
            h, cfg.heads, h * cfg.ff_mult, cfg.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        # nested tensors take another code path in eval mode; one path keeps train/eval numerics alike
        self.transformer = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(h)
        self.out = nn.Linear(h, cfg.embed_dim)

    def forward(self, motion: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, F), (B,) -> unnormalised z (B, embed_dim)."""
        B, T, _ = motion.shape
        if T > self.pos.shape[1] * DOWNSAMPLE:
            limit = self.pos.shape[1] * DOWNSAMPLE
            raise ValueError(f"motion has {T} frames, the evaluator was built for at most {limit}")
        lengths = lengths.to(motion.device).long().clamp(min=1, max=T)
        pad = (-T) % DOWNSAMPLE
        x = F.pad(motion, (0, 0, 0, pad))
        mask = frame_mask(lengths, T + pad)
        x = self.inp(x) * mask[..., None]  # zero padding frames, whatever the caller put there
        x = x.transpose(1, 2)  # (B, H, T) for Conv1d
        for conv in self.down:
            lengths = (lengths + 1) // 2  # ceil: a token that sees any real frame is real
            x = F.leaky_relu(conv(x), 0.2)
            x = x * frame_mask(lengths, x.shape[-1])[:, None, :]  # keep biases out of the padding
        x = x.transpose(1, 2)  # (B, T/4, H)
        mask = frame_mask(lengths, x.shape[1])
        x = self.transformer(x + self.pos[:, : x.shape[1]], src_key_padding_mask=~mask)
        m = mask[..., None].to(x.dtype)
        pooled = (self.norm(x) * m).sum(1) / m.sum(1)
        return self.out(pooled)


class Evaluator(nn.Module):
    def __init__(self, config: EvaluatorConfig | None = None):
        super().__init__()
        self.config = cfg = config or EvaluatorConfig()
        self.motion_encoder = MotionEncoder(cfg)
        self.text_head = nn.Sequential(
            nn.Linear(cfg.text_dim, cfg.embed_dim),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.embed_dim, cfg.embed_dim),
        )
        self.concept_head = nn.Sequential(nn.LayerNorm(cfg.embed_dim), nn.Linear(cfg.embed_dim, cfg.num_concepts))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / cfg.init_temperature)))

    # --- the three outputs -------------------------------------------------------------------------------
    def motion_features(self, motion: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One pass for both outputs: (unit embedding (B, D), concept logits (B, C))."""
        z = self.motion_encoder(motion, lengths)
        return F.normalize(z, dim=-1), self.concept_head(z)

    def encode_motion(self, motion: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, 263) normalised features, (B,) lengths -> (B, embed_dim) unit-length embeddings."""
        return F.normalize(self.motion_encoder(motion, lengths), dim=-1)

    def encode_text(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, 384) MiniLM pooled sentence vectors -> (B, embed_dim) unit-length embeddings."""
        return F.normalize(self.text_head(pooled), dim=-1)

    def concept_logits(self, motion: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, 263), (B,) -> (B, num_concepts) logits over CONCEPTS."""
        return self.concept_head(self.motion_encoder(motion, lengths))

    # --- persistence --------------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        return save_model_files(self.state_dict(), dataclasses.asdict(self.config), directory)

    @classmethod
    def load(cls, directory: str | Path, device: str | torch.device = "cpu") -> "Evaluator":
        config, state = read_model_files(directory, "; train with `python -m motion_lora.evaluator`")
        model = cls(EvaluatorConfig.from_dict(config))
        model.load_state_dict(state, strict=True)
        return model.to(device).eval().requires_grad_(False)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
