"""Adapter behaviour at run time: the strength curve of one adapter and the composition of two.

    python -m benchmarks.experiments.adapters [--adapter kick] [--combine kick,punch] [--keep walk,jump]

Strength curve: concept presence on the adapter's forget prompts (training phrasings, held-out phrasings,
composites) at several scales; scale 0 is the base model and negative scales should amplify the concept.
Composition: both adapters at weight 1 together; presence of each erased concept on its own prompts, and of
the kept concepts on theirs (they should stay).
"""

from __future__ import annotations

import argparse
import sys

from motion_lora.evaluation.protocol import forget_set, retain_set
from motion_lora.model.sampler import DEFAULT_STEPS
from motion_lora.serving.service import MotionLab

SCALES = (-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--adapter", default="kick")
    p.add_argument("--combine", default="kick,punch")
    p.add_argument("--keep", default="walk,jump")
    p.add_argument("--per_kind", type=int, default=16)
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    args = p.parse_args()
    lab = MotionLab()

    name = lab.adapter_name(args.adapter)
    concept = lab.infos[name].concept
    prompts = forget_set(concept, args.per_kind)
    print(f"Strength curve of {name}: presence of '{concept}' on {len(prompts)} forget prompts ({args.steps} DDIM steps)")
    print("| scale | " + " | ".join(f"{s:g}" for s in SCALES) + " |")
    print("|---|" + "---|" * len(SCALES))
    rates = [lab.presence(prompts, {name: 1.0}, s, steps=args.steps).mean() for s in SCALES]
    print("| presence | " + " | ".join(f"{r:.3f}" for r in rates) + " |")

    names = [lab.adapter_name(n) for n in args.combine.split(",")]
    mix = {n: 1.0 for n in names}
    erased = [lab.infos[n].concept for n in names]
    kept = args.keep.split(",")
    groups = {c: forget_set(c, args.per_kind)[: args.per_kind] for c in erased}  # training phrasings
    groups.update({c: [q for q in retain_set("", per_concept=args.per_kind) if q.concept == c] for c in kept})
    print(f"\nComposition {' + '.join(names)} (weights 1): presence of each concept on its own prompts")
    print("| concept | role | base | combined |")
    print("|---|---|---|---|")
    for c, group in groups.items():
        base = lab.presence(group, {}, steps=args.steps).mean()
        both = lab.presence(group, mix, steps=args.steps).mean()
        print(f"| {c} | {'erased' if c in erased else 'kept'} | {base:.3f} | {both:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
