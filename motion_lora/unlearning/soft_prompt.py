"""Soft prompt tokens: free vectors appended to a prompt's encoded token states.

The soft-prompt attack (motion_lora.unlearning.attack) optimises them to bring an erased concept back; adversarial
unlearning (motion_lora.unlearning.unlearn, `adversarial_tokens`) trains the adapter against them. Both live in the text
encoder's *output* space (MiniLM last hidden states, 384-d), which is what the denoiser reads.
"""

from __future__ import annotations

import math

import torch

from ..model.text_encoder import TextBatch, mean_pool


def append_soft_tokens(text: TextBatch, soft: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Token states, mask and pooled vector of prompts with `soft` (P, n, 384) vectors appended after them.

    The denoiser's cross-attention has no position embedding of its own (positions live inside MiniLM's states),
    so appending after the padding is the same as appending after each prompt's last real token. The pooled
    vector is recomputed as the encoder computes it over the longer token list."""
    if soft is None:
        return text.tokens, text.mask, text.pooled
    tokens = torch.cat([text.tokens, soft], dim=1)
    mask = torch.cat([text.mask, torch.ones(soft.shape[:2], dtype=torch.bool, device=soft.device)], dim=1)
    return tokens, mask, mean_pool(tokens, mask)


def initial_soft_tokens(text: TextBatch, n: int, gen: torch.Generator) -> torch.Tensor:
    """(P, n, 384) starting vectors: a random real token state of each prompt per slot, plus a little noise —
    neutral vectors of the right scale, not a hint of any concept."""
    P = text.tokens.shape[0]
    lengths = text.mask.sum(1).cpu()
    pick = (torch.rand(P, n, generator=gen) * lengths[:, None]).long().clamp(max=text.tokens.shape[1] - 1).to(text.tokens.device)
    init = torch.gather(text.tokens, 1, pick[..., None].expand(-1, -1, text.tokens.shape[-1]))
    noise = torch.randn(init.shape, generator=gen).to(init.device) / math.sqrt(init.shape[-1])
    return init + 0.1 * init.norm(dim=-1, keepdim=True).mean() * noise


def largest_token_norm(text: TextBatch) -> torch.Tensor:
    """(P, 1) the largest norm among each prompt's real token states."""
    return (text.tokens.norm(dim=-1) * text.mask).max(dim=1).values[:, None]


@torch.no_grad()
def clamp_token_norms_(soft: torch.Tensor, max_norm: torch.Tensor) -> None:
    """Scale every vector of soft (P, n, 384) down to at most max_norm (P, 1), in place: the vectors stay in the
    range of what the encoder emits."""
    n = soft.norm(dim=-1, keepdim=True)
    soft.mul_(torch.clamp(max_norm[..., None] / n.clamp(min=1e-8), max=1.0))
