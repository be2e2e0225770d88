"""bf16 only where it pays: a ~50 ms probe of whether bfloat16 matmuls beat float32 on this device.

CPUs with native bf16 (AVX-512 BF16 or AMX) run bf16 matmuls several times faster than fp32; CPUs without it
(AVX2 only) emulate them, measured 24x slower than fp32 on a 512 x 512 matmul. Asking for bf16 there would make a
training 20x slower without saying why, so `use_bf16` measures before it agrees.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

MIN_SPEEDUP = 1.2  # below this, bf16's rounding is not worth it
PROBE_SIZE = 256  # an emulating CPU still takes only ~30 ms for one bf16 matmul of this size
PROBE_BUDGET_S = 0.025  # per dtype


def matmul_seconds(dtype: torch.dtype, device: torch.device | str = "cpu", n: int = PROBE_SIZE, budget_s: float = PROBE_BUDGET_S) -> float:
    """Seconds per n x n matmul in `dtype`, timed over as many repeats as fit in `budget_s` (at least one)."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b  # first call: kernel selection, allocation
    reps, start = 0, time.perf_counter()
    while True:
        a @ b
        reps += 1
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        if elapsed >= budget_s:
            return elapsed / reps


def bf16_speedup(device: torch.device | str = "cpu") -> float:
    """How many times faster a bf16 matmul runs than an fp32 one on this device (measured, ~50 ms)."""
    return matmul_seconds(torch.float32, device) / matmul_seconds(torch.bfloat16, device)


def use_bf16(requested: bool, device: torch.device | str = "cpu", log: Callable[[str], None] = print) -> bool:
    """Whether to autocast to bf16: only if requested and measured faster here; says so in one line if not."""
    if not requested:
        return False
    if torch.device(device).type == "cuda" and not torch.cuda.is_bf16_supported():
        log("bf16 requested, but this GPU has no bf16: using fp32")
        return False
    speedup = bf16_speedup(device)
    if speedup < MIN_SPEEDUP:
        log(f"bf16 requested, but bf16 matmuls run at {speedup:.2f}x the fp32 speed on this {torch.device(device).type} "
            f"(no native bf16): using fp32")
        return False
    return True
