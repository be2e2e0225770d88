"""Base vs result on the forget and retain prompt sets: the one evaluation protocol of the CLIs, the benchmarks and
the app (`MotionLab.evaluate` hands it its own generation).

`evaluate_sets` needs only a way to generate a prompt set under an adapter mix, so it runs on any model; the
prompts, seeds (repeat r uses seed 1000 r, prompt i seed + i) and metrics are fixed here.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..data.clip import CONCEPT_INDEX
from ..evaluation import kinematic_judge
from ..evaluation.protocol import EvalPrompt, Judge, prompt_sets, set_metrics
from ..model.generator import SampleOptions

EVAL_GUIDANCE = 2.5
REPEAT_SEED = 1000  # repeat r generates from seed REPEAT_SEED * r

# (prompts, adapter weights, scale, options, seed) -> unnormalised features (N, T, D)
GenerateSet = Callable[[list[EvalPrompt], dict[str, float], float, SampleOptions, int], np.ndarray]


def evaluate_sets(generate_set: GenerateSet, judge: Judge, name: str, concept: str, options: SampleOptions, *, preserved: tuple[str, ...] = (),
                  per_kind: int = 16, per_concept: int = 4, natural_forget: int | None = None, natural_per_concept: int | None = 4, repeats: int = 3,
                  progress: Callable[[float, str], None] | None = None) -> dict:
    """Metrics with 95% intervals of the base ({} weights) and of result `name` at strength 1 on the forget and
    retain sets of `concept`. The retain set never holds the result's own preservation prompts (`preserved`);
    natural_* cap the natural prompts (None = all)."""
    if judge is None:
        raise ValueError("evaluation needs the evaluator checkpoint")
    if concept not in CONCEPT_INDEX:
        raise ValueError(f"the evaluator cannot score {concept!r}: it knows only the MotionBank concepts")
    sets = prompt_sets(concept, per_kind=per_kind, per_concept=per_concept, natural_forget=natural_forget, natural_per_concept=natural_per_concept, preserved=preserved)
    result = {"adapter": name, "concept": concept, "steps": options.steps, "scheduler": options.scheduler, "frames": options.frames}
    total, done = 2 * len(sets) * repeats, 0
    for set_name, prompts in sets.items():
        for model_name, weights in (("base", {}), ("unlearned", {name: 1.0})):
            runs = []
            for r in range(repeats):
                runs.append((generate_set(prompts, weights, 1.0, options, REPEAT_SEED * r), np.full(len(prompts), options.frames)))
                done += 1
                if progress:
                    progress(done / total, f"{set_name} set, {model_name}, repeat {r + 1}/{repeats}")
            result.setdefault(set_name, {})[model_name] = set_metrics(judge, prompts, runs)
            result[set_name][model_name]["kinematic"] = kinematic_judge.judge_eval_runs(judge, prompts, runs)
    return result
