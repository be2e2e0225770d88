"""Handing freed memory back to the system, so a long-running server's resident memory stays flat.

A server frees as much as it allocates (every merged batch's activations, every finished training's model copy),
but glibc's malloc keeps freed memory in its heaps for reuse: one heap per thread that allocated, up to 8 per
core. Batches of ever different shapes (the rows and frames of a merged batch change with every request mix)
reuse it badly, so the resident size crept up under load while the memory actually in use stayed flat
(benchmarks/performance/memory_trace.py). Two remedies, both no-ops where glibc is not the allocator (macOS, musl):

- `limit_arenas`: fewer heaps (what MALLOC_ARENA_MAX does; an explicit MALLOC_ARENA_MAX in the environment wins).
- `release` / `Releaser`: malloc_trim(0), which returns the free pages of every heap to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable

from ..checks import check_number

M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
DEFAULT_ARENAS = 2
# MotionLab: malloc_trim after a batch at most once per this many seconds, i.e. after about every batch on a CPU. A
# trim costs milliseconds; trimming only every 30 s let the heap spread between trims: the 20-minute soak grew
# +92 MB after its warm-up at 30 s and -32 MB at 1 s (docs/performance.md, Memory under load).
DEFAULT_RELEASE_S = 1.0

_libc: ctypes.CDLL | None = None
_libc_lock = threading.Lock()


def libc() -> ctypes.CDLL | None:
    """glibc, or None where malloc is not glibc's (no malloc_trim)."""
    global _libc
    with _libc_lock:
        if _libc is None:
            try:
                lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _libc = lib if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt") else False
            except OSError:
                _libc = False
        return _libc or None


def limit_arenas(n: int = DEFAULT_ARENAS) -> bool:
    """At most `n` malloc heaps for the threads that start from now on (call it before a server starts its
    threads). Returns whether it applied: not off glibc, nor when MALLOC_ARENA_MAX is set (the operator's choice)."""
    lib = libc()
    if lib is None or os.environ.get("MALLOC_ARENA_MAX", "").strip():
        return False
    return bool(lib.mallopt(M_ARENA_MAX, int(n)))


def release() -> bool:
    """Return malloc's free memory to the system now (milliseconds for a few hundred MB). Returns whether any was."""
    lib = libc()
    return bool(lib.malloc_trim(0)) if lib is not None else False


class Releaser:
    """`release()` at most once per `interval` seconds: call `tick()` after work that freed memory; 0 = never."""

    def __init__(self, interval: float = DEFAULT_RELEASE_S, clock: Callable[[], float] = time.monotonic, trim: Callable[[], bool] = release):
        self.interval = float(check_number(interval, "the memory release interval (s)", low=0))
        self.clock, self.trim = clock, trim
        self._last = clock()
        self._lock = threading.Lock()
        self.count = 0  # releases so far

    def tick(self, force: bool = False) -> bool:
        """Release if `interval` has passed since the last release (or `force`, e.g. after a training); returns
        whether it released."""
        if not self.interval:
            return False
        with self._lock:
            now = self.clock()
            if not force and now - self._last < self.interval:
                return False
            self._last = now
            self.count += 1
        self.trim()
        return True
