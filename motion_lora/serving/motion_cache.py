"""The motion cache: generated motions kept by key, least recently used dropped first, bounded by bytes.

Keys are built by the sampler (serving/sampling.py): prompt, seed, length, sampling settings and base checkpoint,
and for a steered motion its adapter factors, start step and the adapter library's epoch, so a new strength for
the same motion re-runs only the steered row and a retrained adapter (same name, new weights) is never served
from the cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import torch

from ..checks import check_number


@dataclass
class Motion:
    """One generated motion: normalised features (T, 263), joints (T, 22, 3), the evaluator's top concepts."""

    features: torch.Tensor
    joints: np.ndarray
    concepts: list[tuple[str, float]]
    epoch: int = 0  # the adapter library's epoch when it was generated (steered motions are stale after any adapter change)


def motion_bytes(motion: Motion) -> int:
    return motion.features.numel() * motion.features.element_size() + motion.joints.nbytes


class MotionCache:
    """Thread-safe LRU of motions whose total size stays within `limit` bytes (0 = keep nothing)."""

    def __init__(self, mb: float):
        self.limit = int(check_number(mb, "the motion cache size (MB)", low=0) * 2**20)
        self._items: OrderedDict[Hashable, Motion] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Motion | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: Hashable, motion: Motion) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += motion_bytes(motion) - (motion_bytes(old) if old is not None else 0)
            self._items[key] = motion
            while self._items and self._bytes > self.limit:  # least recently used first
                self._bytes -= motion_bytes(self._items.popitem(last=False)[1])

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def usage(self) -> tuple[int, int]:
        """(motions, bytes) held."""
        with self._lock:
            return len(self._items), self._bytes
