"""The batching sampler: rows in, motions out, through the motion cache and the request-merging queue.

Generation runs on rows (serving/batching.py): each motion of a request is a Row with its own prompt, seed, length
and adapter factors; requests that share the sampling settings are merged into one batch by the Batcher. Computed
rows go into the motion cache (serving/motion_cache.py), so a new strength for the same motion re-runs only the
steered row, and a repeated request is answered with the very same motions. A request's optional rows (the live
slider's strength grid) ride along where a merged batch has room (Batcher.fill_rows).
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import torch

from ..checks import check_number
from ..evaluation.protocol import Judge
from ..model.generator import MotionGenerator, SampleOptions
from ..unlearning.adapters import AdapterSet
from . import memory
from .batching import Batcher, Job, Row, RowScaledLora
from .library import AdapterLibrary
from .motion_cache import Motion, MotionCache


class RowSampler:
    """Denoises rows for the lab: merged batches under the model `lock`, cached motions, the evaluator's concepts."""

    def __init__(self, generator: MotionGenerator, library: AdapterLibrary, judge: Judge | None, lock: threading.RLock, *,
                 max_rows: int, cache_mb: float, releaser: memory.Releaser, fill_rows: int = 0):
        self.generator, self.library, self.judge, self.releaser = generator, library, judge, releaser
        self.adapters: AdapterSet = library.adapters
        self.rows = RowScaledLora(self.adapters)  # per-row adapter factors for merged batches
        max_rows = check_number(max_rows, "a merged batch (at least 2 motions: one side-by-side)", low=2, whole=True)
        fill_rows = check_number(fill_rows, "rows up to which a strength grid fills a batch", low=0, whole=True)
        self.batcher = Batcher(self.execute, lock, max_rows=max_rows, fill_rows=fill_rows)
        self.cache = MotionCache(cache_mb)

    @staticmethod
    def batch_key(opts: SampleOptions) -> SampleOptions:
        """What every row of a merged batch must share: the sampling settings except the length."""
        return replace(opts, frames=0)

    def row_key(self, row: Row, opts: SampleOptions, epoch: int | None = None) -> tuple:
        """Cache key of a row: prompt, seed, length, sampling settings (steps, guidance, scheduler) and
        base checkpoint; a steered row adds its adapter factors, start step and the adapter epoch (a retrained
        adapter keeps its name but not its weights)."""
        key = (str(self.generator.checkpoint), row.prompt, row.seed, replace(opts, frames=row.frames))
        if row.steer:
            key += (row.steer, row.start_step, self.library.epoch if epoch is None else epoch)
        return key

    def settled(self, opts: SampleOptions) -> SampleOptions:
        """The settings validated, `fast` True only where the student serves them: requests that the same sampler
        serves share batches and cached motions whatever they asked."""
        opts = opts.validated()
        return replace(opts, fast=self.generator.serves_with_student(opts))

    def cached(self, row: Row, opts: SampleOptions) -> bool:
        """Is this row's motion in the cache now?"""
        return self.cache.get(self.row_key(row, self.settled(opts))) is not None

    def sample(self, rows: list[Row], opts: SampleOptions) -> torch.Tensor:
        """Normalised features (len(rows), max frames, 263) of rows that share `opts` (its frames are ignored);
        one forward per sampling step. The caller holds the model lock."""
        missing = sorted({n for r in rows for n, _ in r.steer if n not in self.adapters.specs})
        if missing:
            raise ValueError(f"adapter {missing[0]!r} is not loaded (deleted meanwhile?)")
        opts = replace(opts, frames=max(r.frames for r in rows))
        prompts, seeds, lengths = [r.prompt for r in rows], [r.seed for r in rows], [r.frames for r in rows]
        denoise = self.rows.denoise_fn(rows)
        if denoise is not None:
            return self.generator.sample(prompts, seeds, opts, denoise=denoise, lengths=lengths)
        with self.adapters.disabled() as model:  # base rows only
            return self.generator.sample(prompts, seeds, opts, lengths=lengths,
                                         denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L))

    def execute(self, jobs: list[Job]) -> None:
        """The batcher's work (under the model lock): every job's rows in one batch, then their joints and the
        evaluator's concepts for the whole batch at once. A job naming an adapter that is gone fails alone."""
        live = []
        for job in jobs:
            gone = sorted({n for r in job.batch_rows for n, _ in r.steer if n not in self.adapters.specs})
            if gone:
                job.finish(error=ValueError(f"adapter {gone[0].removeprefix(self.library.prefix)!r} was removed before this request ran"))
            elif not job.batch_rows:  # only optional rows, and no room for them
                job.finish([])
            else:
                live.append(job)
        if not live:
            return
        rows = [r for job in live for r in job.batch_rows]
        feats = self.sample(rows, live[0].key)
        joints = self.generator.to_joints(feats)  # padded frames come after a row's own: its joints do not see them
        lengths = [r.frames for r in rows]
        concepts = self.concepts(feats, lengths)
        k = 0
        for job in live:
            count = len(job.batch_rows)
            job.finish([Motion(feats[k + i, :n].clone(), joints[k + i, :n].copy(), concepts[k + i], self.library.epoch)
                        for i, n in enumerate(lengths[k : k + count])])
            k += count
        del feats, joints  # the batch's tensors are freed before the release below can return their pages
        self.releaser.tick()

    def generate(self, rows: list[Row], opts: SampleOptions, optional: list[Row] = ()) -> list[Motion | None]:
        """Each row's motion, from one merged batch (with whatever else is queued), then each optional row's: from
        the cache, or computed where the batch has room, else None. Rows come from the cache when they can, and go
        into it when they are computed; equal rows are computed once (an optional row equal to a row is a row)."""
        opts = self.settled(opts)
        every = list(rows) + list(optional)
        canon = [Row(r.prompt, r.seed, r.frames) if r.is_base(opts.steps) else r for r in every]
        out: list[Motion | None] = [None] * len(every)
        todo: dict[Row, list[int]] = {}
        for i, r in enumerate(canon):
            hit = self.cache.get(self.row_key(r, opts))
            if hit is not None:
                out[i] = hit
            else:
                todo.setdefault(r, []).append(i)
        if todo:
            needed = [r for r, where in todo.items() if where[0] < len(rows)]
            extra = [r for r, where in todo.items() if where[0] >= len(rows)]  # in the caller's order
            for r, motion in zip(needed + extra, self.batcher.run(self.batch_key(opts), needed, extra)):
                for i in todo[r]:
                    out[i] = motion
                self.cache.put(self.row_key(r, opts, motion.epoch), motion)
        return out

    def unnormalise(self, normalised: torch.Tensor) -> np.ndarray:
        """Normalised features (N, T, 263) -> the dataset's units (what the evaluator reads)."""
        return normalised.cpu().numpy() * self.generator.std + self.generator.mean

    def concepts(self, normalised: torch.Tensor, lengths: list[int] | None = None, k: int = 3) -> list[list[tuple[str, float]]]:
        """The evaluator's top concepts of a padded batch (N, T, 263) with each row's own length (default: all of it)."""
        if self.judge is None:
            return [[] for _ in range(len(normalised))]
        feats = self.unnormalise(normalised)
        _, probs = self.judge.score(feats, np.asarray(lengths) if lengths is not None else np.full(len(feats), feats.shape[1]))
        return self.judge.top_concepts(probs, k)
