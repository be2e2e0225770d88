"""Encoded prompts as one value: token states, attention mask and pooled sentence vector, row-aligned.

Everything that conditions a denoiser on text passes a `TextBatch`: the text encoder returns one, the generator and
the unlearning loop select, join, pad and null its rows with the methods below instead of slicing three tensors in
step. The null condition (classifier-free guidance's unconditional branch) is "no token attended, zero pooled
vector": `unconditional()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch


def mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sentence-transformers pooling: (B, L, D), (B, L) bool -> (B, D) L2-normalised mean over the mask."""
    m = mask.unsqueeze(-1).to(states.dtype)
    mean = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean, p=2, dim=-1)


@dataclass
class TextBatch:
    tokens: torch.Tensor  # (B, L, D) float32, last hidden states, zero at padding
    mask: torch.Tensor  # (B, L) bool, True = real token (includes [CLS] and [SEP])
    pooled: torch.Tensor  # (B, D) float32, L2-normalised mean of real tokens

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def to(self, device: torch.device | str) -> "TextBatch":
        return TextBatch(self.tokens.to(device), self.mask.to(device), self.pooled.to(device))

    def detach(self) -> "TextBatch":
        return TextBatch(self.tokens.detach(), self.mask, self.pooled.detach())

    def rows(self, index: slice | torch.Tensor | Sequence[int]) -> "TextBatch":
        """The rows at `index` (a slice, or row numbers in any order, repeats allowed)."""
        if not isinstance(index, slice):
            index = torch.as_tensor(index, dtype=torch.long, device=self.tokens.device)
        return TextBatch(self.tokens[index], self.mask[index], self.pooled[index])

    def split(self, sizes: Sequence[int]) -> list["TextBatch"]:
        """Consecutive groups of rows, `sizes` long each (they must add up to the batch): one encoder call for
        several prompt groups, then each group on its own."""
        if sum(sizes) != len(self):
            raise ValueError(f"the groups hold {sum(sizes)} rows, the batch {len(self)}")
        bounds = [0]
        for n in sizes:
            bounds.append(bounds[-1] + n)
        return [self.rows(slice(a, b)) for a, b in zip(bounds, bounds[1:])]

    def repeat_interleave(self, k: int) -> "TextBatch":
        """Every row k times in a row (k noise draws of one prompt)."""
        return TextBatch(self.tokens.repeat_interleave(k, 0), self.mask.repeat_interleave(k, 0), self.pooled.repeat_interleave(k, 0))

    def unconditional(self) -> "TextBatch":
        """The null condition for every row: no token attended, zero pooled vector. The token states are kept
        (detached, so null rows carry no gradient) only so that the shapes match the conditional rows."""
        return TextBatch(self.tokens.detach(), torch.zeros_like(self.mask), torch.zeros_like(self.pooled))

    def padded(self, length: int) -> "TextBatch":
        """The token axis padded to `length` with zero states that are not attended."""
        extra = length - self.tokens.shape[1]
        if extra < 0:
            raise ValueError(f"cannot pad {self.tokens.shape[1]} tokens to {length}")
        if extra == 0:
            return self
        B, _, D = self.tokens.shape
        return TextBatch(torch.cat([self.tokens, self.tokens.new_zeros(B, extra, D)], 1), torch.cat([self.mask, self.mask.new_zeros(B, extra)], 1), self.pooled)

    def appended(self, extra: torch.Tensor) -> "TextBatch":
        """Free vectors extra (B, n, D) appended as attended tokens after every row's tokens (after the padding:
        attention has no notion of order by itself), with the pooled vector recomputed over the longer list, as
        the encoder computes it."""
        tokens = torch.cat([self.tokens, extra], dim=1)
        mask = torch.cat([self.mask, torch.ones(extra.shape[:2], dtype=torch.bool, device=extra.device)], dim=1)
        return TextBatch(tokens, mask, mean_pool(tokens, mask))

    @staticmethod
    def cat(*batches: "TextBatch") -> "TextBatch":
        """The rows of several batches in order; token axes padded to the longest."""
        length = max(b.tokens.shape[1] for b in batches)
        padded = [b.padded(length) for b in batches]
        return TextBatch(torch.cat([b.tokens for b in padded]), torch.cat([b.mask for b in padded]), torch.cat([b.pooled for b in padded]))
