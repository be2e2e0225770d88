"""Soft prompt tokens: free vectors appended to a prompt's encoded token states.

The soft-prompt attack (motion_lora.unlearning.attack) optimises them to bring an erased concept back; adversarial
unlearning (motion_lora.unlearning.unlearn, `adversarial_tokens`) trains the adapter against them. Both live in the text
encoder's *output* space (MiniLM last hidden states, 384-d), which is what the denoiser reads.
"""

from __future__ import annotations

import math

import torch

from ..model.text_batch import TextBatch


def append_soft_tokens(text: TextBatch, soft: torch.Tensor | None) -> TextBatch:
    """The prompts with `soft` (P, n, D) vectors appended after their tokens (`TextBatch.appended`: the pooled
    vector recomputed over the longer list); None = the prompts as they are."""
    return text if soft is None else text.appended(soft)


def initial_soft_tokens(text: TextBatch, n: int, gen: torch.Generator) -> torch.Tensor:
    """(P, n, D) starting vectors: a random real token state of each prompt per slot, plus a little noise —
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
    """Scale every vector of soft (P, n, D) down to at most max_norm (P, 1), in place: the vectors stay in the
    range of what the encoder emits."""
    n = soft.norm(dim=-1, keepdim=True)
    soft.mul_(torch.clamp(max_norm[..., None] / n.clamp(min=1e-8), max=1.0))
