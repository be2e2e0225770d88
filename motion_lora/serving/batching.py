"""Merging concurrent generation requests into one forward: rows with their own adapters, scales, seeds, lengths.

A *row* is one motion to denoise: a prompt, a seed, a length and a steering (adapter name -> factor, where the
factor is the adapter's weight times the strength), plus the sampling step from which the steering is on. Rows
that share the sampling settings that every row of a batch must share (steps, guidance, scheduler, precision:
the `SampleOptions` without `frames`) can be denoised in one batch, whoever asked for them:

- **per-row LoRA.** Every adapter any row uses is active at once (PEFT sums the deltas of active adapters), at
  its trained scaling (alpha / rank); a forward hook multiplies the output of each adapter's `lora_A` by a
  per-row factor. The delta of a LoRA layer is linear in that output, so a row gets exactly
  sum_n factor_n · B_n A_n x — an adapter combination at a strength, different on every row — and a row whose
  factors are all 0 gets B·0 = 0, i.e. exactly the base network's output for that batch.
- **per-row seeds and lengths.** Noise is drawn per seed (the same prefix at any length); a batch is as long as
  its longest row, shorter rows are masked past their length (the denoiser's key mask) and cut afterwards.

`Batcher` is the request-merging queue (leader/follower, no thread of its own): a caller that finds nobody
running becomes the leader, waits for the model lock, then takes every compatible request that queued up
meanwhile (up to `max_rows`) and runs them as one batch; the others wait for their result. A lone request runs
at once (no batching window), so batching only ever adds requests that would have waited anyway.

A request may also bring *optional* rows (a strength grid for the live slider), in the order it wants them. They
only fill room that demand leaves: demand is the most rows requests asked for themselves in this batch (with those
still queued behind it) or in any of the DEMAND_WINDOW batches before, and the batch takes up to `fill_rows` minus
that many optional rows, each job's next one in turn. A lone visitor gets all of them; as more requests
share the server each gets fewer, and once demand reaches `fill_rows` rows none. The window matters under a closed
loop of visitors: their requests come back a few at a time, and a small batch filled with grids would make all the
others, arriving meanwhile, wait for it (measured: 16 visitors' p95 12.0 -> 20.3 s when only the batch itself
counted). So optional work delays what anyone asked for by at most the cost of `fill_rows` rows, and only while the
server is quiet.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import torch
from peft.tuners.lora import LoraLayer

from ..unlearning.adapters import AdapterSet

DEMAND_WINDOW = 4  # batches whose requests' own rows count as current demand (see the module docstring)


@dataclass(frozen=True)
class Row:
    prompt: str
    seed: int
    frames: int
    steer: tuple[tuple[str, float], ...] = ()  # (adapter folder name, weight x strength), sorted, non-zero
    start_step: int = 0  # the steering is off for the sampling steps before this one

    def is_base(self, steps: int) -> bool:
        """Does this row run the base network at every step?"""
        return not self.steer or self.start_step >= steps


def steering(weights: dict[str, float], scale: float) -> tuple[tuple[str, float], ...]:
    """{adapter: weight} at strength `scale` -> the row factors (zero factors dropped, sorted by name)."""
    return tuple(sorted((n, float(w) * float(scale)) for n, w in weights.items() if float(w) * float(scale) != 0.0))


class RowScaledLora:
    """Per-row LoRA factors on an AdapterSet's PEFT model (see the module docstring)."""

    def __init__(self, adapters: AdapterSet):
        self.adapters = adapters
        self.factors: dict[str, torch.Tensor] | None = None  # adapter -> (model rows,) during a row-scaled forward

    def _hook_all(self, names: Sequence[str]) -> None:
        for module in self.adapters.peft.modules():
            if not isinstance(module, LoraLayer):
                continue
            for name in names:
                a = module.lora_A[name] if name in module.lora_A else None  # noqa: SIM401 - a ModuleDict has no get()
                if a is not None and not getattr(a, "_motion_lora_row_hook", False):
                    a.register_forward_hook(self._scaler(name))
                    a._motion_lora_row_hook = True  # marked on the module: ids can be reused after an unload

    def _scaler(self, name: str):
        def hook(module, args, out):
            factors = self.factors
            if factors is None:
                return None  # any other use of the model (AdapterSet.using / mixed): untouched
            f = factors.get(name)
            if f is None:
                return out * 0
            return out * f.to(out.device, out.dtype).view(-1, *[1] * (out.dim() - 1))

        return hook

    def activate(self, names: Sequence[str]) -> torch.nn.Module:
        """Make exactly `names` the active adapters, each at its trained scaling (alpha / rank); return the model."""
        peft = self.adapters.peft
        peft.base_model.set_adapter(list(names), inference_mode=True)
        for module in peft.modules():
            if isinstance(module, LoraLayer):
                for name in names:
                    module.set_scale(name, 1.0)
        for p in peft.parameters():
            p.requires_grad_(False)
        self._hook_all(names)
        return peft

    def denoise_fn(self, rows: Sequence[Row]) -> Callable:
        """A generator DenoiseFn for these rows (cond rows, then as many uncond rows under guidance)."""
        names = sorted({n for r in rows for n, _ in r.steer})
        if not names or self.adapters.peft is None:
            return None
        table = torch.zeros(len(names), len(rows))
        for j, r in enumerate(rows):
            for n, f in r.steer:
                table[names.index(n), j] = f
        starts = torch.tensor([r.start_step for r in rows])
        model = self.activate(names)

        def denoise(x, t, tokens, mask, pooled, lengths, i):
            live = table * (starts <= i).to(table.dtype)
            repeat = x.shape[0] // len(rows)  # 2 with classifier-free guidance (cond rows, uncond rows), else 1
            self.factors = {n: live[k].repeat(repeat) for k, n in enumerate(names)}
            try:
                return model(x, t, tokens, mask, pooled, lengths)
            finally:
                self.factors = None

        return denoise


@dataclass(eq=False)
class Job:
    key: Hashable  # what every job in a batch must share
    rows: list[Row]
    optional: list[Row] = field(default_factory=list)  # rows added only where the batch has room, first ones first
    taken: int = 0  # how many of `optional` the batch that ran this job holds (set when the batch is made)
    result: list[torch.Tensor] | None = None
    error: BaseException | None = None
    done: bool = False
    queued: float = field(default_factory=time.perf_counter)

    @property
    def batch_rows(self) -> list[Row]:
        """The rows this job runs: its own, then the optional rows its batch had room for."""
        return self.rows + self.optional[: self.taken]

    def finish(self, result: list[torch.Tensor] | None = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True


def fill_optional(batch: list[Job], room: int) -> None:
    """Give the jobs of `batch` up to `room` optional rows, one job's next row at a time in arrival order: every job
    gets a share of the room (a coarse grid each) before any gets more."""
    for job in batch:
        job.taken = 0
    grew = True
    while room > 0 and grew:
        grew = False
        for job in batch:
            if room > 0 and job.taken < len(job.optional):
                job.taken += 1
                room -= 1
                grew = True


class Batcher:
    """The request-merging queue. `execute(jobs)` runs under `lock`, runs each job's `batch_rows` and sets every
    job's outcome (`job.finish`, one result per batch row)."""

    def __init__(self, execute: Callable[[list[Job]], None], lock: threading.RLock, max_rows: int = 32,
                 gather_fraction: float = 0.25, gather_max_s: float = 0.3, fill_rows: int = 0):
        if max_rows < 1:
            raise ValueError(f"a batch must hold at least one row, got {max_rows}")
        if fill_rows < 0:
            raise ValueError(f"fill_rows (rows up to which optional rows fill a batch) must be 0 or more, got {fill_rows}")
        self.execute, self.lock, self.max_rows = execute, lock, int(max_rows)
        self.fill_rows = min(int(fill_rows), self.max_rows)
        self.gather_fraction, self.gather_max_s = float(gather_fraction), float(gather_max_s)
        self._cond = threading.Condition()
        self._pending: list[Job] = []
        self._leading = False
        self._last = (0, 0.0)  # (jobs, seconds) of the previous batch
        self._demand: deque[int] = deque(maxlen=DEMAND_WINDOW)  # requests' own rows in the latest batches
        self.history: deque[tuple[int, int]] = deque(maxlen=256)  # (jobs, rows) of the latest batches

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def run(self, key: Hashable, rows: list[Row], optional: Sequence[Row] = ()) -> list[torch.Tensor]:
        """Denoise `rows` (in a batch with whatever else is queued under the same key), and as many of the
        `optional` rows, first ones first, as the batch has room for: one result per row, then one per optional row
        that ran (fewer results than optional rows when the batch was full)."""
        job = Job(key, list(rows), list(optional))
        owned = getattr(self.lock, "_is_owned", None)
        if owned is not None and owned():  # the caller already holds the model: waiting for a leader would deadlock
            self._fill([job], waiting=0)
            self._run([job])
            if job.error is not None:
                raise job.error
            return job.result
        with self._cond:
            self._pending.append(job)
            self._cond.notify_all()  # a gathering leader counts arrivals
            while not job.done and self._leading:
                self._cond.wait()
            lead = not job.done
            if lead:
                self._leading = True
        if lead:
            try:
                while not job.done:
                    with self.lock:  # wait for the model first: requests pile up meanwhile and join this batch
                        with self._cond:
                            self._gather()
                            batch = self._take()
                        started = time.perf_counter()
                        self._run(batch)
                        self._last = (len(batch), time.perf_counter() - started)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error
        return job.result

    def _gather(self) -> None:
        """Under load, wait a little for the callers the previous batch just answered: they come straight back
        (a closed loop of visitors), and without the wait the first one back would run alone while the rest wait
        a whole batch for it. Waits only while fewer jobs are queued than the previous batch held, at most
        gather_fraction of that batch's time (and gather_max_s): a lone visitor never waits."""
        jobs, seconds = self._last
        deadline = time.perf_counter() + min(self.gather_max_s, self.gather_fraction * seconds)
        while len(self._pending) < jobs and sum(len(j.rows) for j in self._pending) < self.max_rows:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            self._cond.wait(left)

    def _take(self) -> list[Job]:
        """The oldest job and every later one with its key, in arrival order, up to max_rows (the first always)."""
        first = self._pending[0]
        batch, rows = [], 0
        for job in self._pending:
            if job.key == first.key and (not batch or rows + len(job.rows) <= self.max_rows):
                batch.append(job)
                rows += len(job.rows)
        self._pending = [j for j in self._pending if j not in batch]
        self._fill(batch, waiting=sum(len(j.rows) for j in self._pending))
        return batch

    def _fill(self, batch: list[Job], waiting: int) -> None:
        """Optional rows into the room demand leaves (module docstring): `waiting` rows are queued behind `batch`."""
        own = sum(len(j.rows) for j in batch)
        demand = max([own + waiting, *self._demand])
        self._demand.append(own + waiting)
        fill_optional(batch, self.fill_rows - demand)

    def _run(self, batch: list[Job]) -> None:
        try:
            self.execute(batch)
        except BaseException as err:  # noqa: BLE001 - every caller in the batch gets it, the queue keeps going
            for job in batch:
                if not job.done:
                    job.finish(error=err)
        finally:
            for job in batch:
                if not job.done:
                    job.finish(error=RuntimeError("the batch ended without a result for this request"))
            self.history.append((len(batch), sum(len(j.batch_rows) for j in batch)))
            with self._cond:
                self._cond.notify_all()
