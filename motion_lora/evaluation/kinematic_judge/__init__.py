"""A second, transparent judge: rule-based kinematic checks for concepts with a clear physical signature.

The learned evaluator (`evaluation/evaluator/`) can be satisfied by motion that only looks like a concept in its
embedding space (a "walk" whose feet never plant). These rules measure the physics directly from joints
(T, 22, 3) at 20 fps, metres, y up:

* walk        — feet take turns being planted while the root advances, never both feet off the floor;
* run         — repeated flight phases (both feet off the floor) while the root moves fast;
* jump        — both feet leave the floor together (they lift off within a short window) and the pelvis rises;
* kick        — on one low support foot, the other ankle rises well above its rest height, fast, with the
                knee opened and the shin raised at the peak (a march lifts the knee but keeps the shin down);
* punch       — a fast wrist extension from a bent arm to near full reach, in front of the chest;
* wave        — a hand above its shoulder that swings side to side repeatedly;
* raise_arms  — a wrist above the head, held still (a waving hand keeps moving);
* squat       — the pelvis drops a large fraction of the leg length with both knees bent, feet planted;
* bow         — the torso pitches far forward while both feet stay planted and the hips stay high;
* turn_around — the facing direction (yaw) changes by more than ~135°.

Every measurement is heading-invariant (horizontal speeds and distances, or vectors expressed in the
person's own facing frame), left/right symmetric (each side is checked and the best side wins), and
scale-aware: lengths are divided by the clip's own leg length and compared with fractions of the reference
skeleton's leg (`skeleton.BONE_LENGTHS`). The floor is the clip's own low foot level, so a clip floating a
few centimetres still works. `scores` returns every measured quantity beside the verdict, so a reader can
see *why* a rule fired. Thresholds were tuned on real motion capture (DeepMimic, Bandai Namco) training
clips and procedural clips; `benchmarks/calibration/judge.py` reports recall and false-positive rates.
"""

from .comparison import (
    DISAGREE_GAP,
    compare_run,
    disagreement_notes,
    judge_eval_runs,
    judge_features,
    report_lines,
    summarise_runs,
)
from .rules import RULES, judge, judge_many, scores
from .thresholds import JUDGED_CONCEPTS

__all__ = [
    "DISAGREE_GAP",
    "JUDGED_CONCEPTS",
    "RULES",
    "compare_run",
    "disagreement_notes",
    "judge",
    "judge_eval_runs",
    "judge_features",
    "judge_many",
    "report_lines",
    "scores",
    "summarise_runs",
]
