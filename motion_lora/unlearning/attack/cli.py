"""`python -m motion_lora.attack`: attack an adapter (and the base beside it) or the base, and store the reports."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ...data.clip import CONCEPT_INDEX, CONCEPTS
from ...model.checkpoints import DEFAULT_BASE, read_json
from .config import GRAD_PATHS, MODES, OBJECTIVES, PHRASINGS_FILE, AttackConfig
from .reports import REPORT_FILE, format_table, save_reports
from .run import run_attack
from .target import AttackTarget


def build_parser() -> argparse.ArgumentParser:
    d = AttackConfig()
    p = argparse.ArgumentParser(
        prog="python -m motion_lora.attack",
        description="Adversarial prompt attacks on an erasure adapter (soft prompt and discrete phrasing search); reports the "
                    "attack success rate (evaluator top-1 = the concept, kinematic judge beside it) for the adapter and the base.",
        epilog=f"Default budget: {d.budget()}. On the 2-core CPU the defaults take a few minutes per model.")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--adapter", help="adapter to attack: folder name, short name or concept alias (e.g. kick), or the path "
                                      "of a result folder trained elsewhere (e.g. runs/adv/t2m/motionbank_base_LoRA_kick)")
    g.add_argument("--base", action="store_true", help="attack the base model alone (needs --concept)")
    p.add_argument("--concept", help="concept to bring back (default: the adapter's)")
    p.add_argument("--no-base", dest="with_base", action="store_false", help="with --adapter: do not attack the base beside it")
    p.add_argument("--scale", type=float, default=1.0, help="adapter strength (1 = as trained; e.g. 2 to ask whether a stronger adapter holds)")
    p.add_argument("--base-name", default=None, help="base checkpoint (default: the app's, motionbank_base)")
    p.add_argument("--mode", choices=MODES, default=d.mode)
    p.add_argument("--prompts", type=int, default=d.prompts, help=f"kick prompts attacked by the soft prompt (default {d.prompts})")
    p.add_argument("--tokens", type=int, default=d.tokens, help=f"soft vectors appended per prompt (default {d.tokens})")
    p.add_argument("--steps", type=int, default=d.steps, help=f"Adam steps of the soft prompt (default {d.steps})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"Adam learning rate (default {d.lr})")
    p.add_argument("--grad-path", choices=GRAD_PATHS, default=d.grad_path,
                   help="x0: one-step x0 estimate at a random step of a short no-grad rollout; ddim: gradient through a short DDIM chain")
    p.add_argument("--objective", choices=OBJECTIVES, default=d.objective,
                   help="evaluator: maximise the evaluator's p(concept) (UnlearnDiffAtk-style, with a classifier); match: make the "
                        "erased model's x0 match the base model's on the clean prompt (P4D) — no evaluator gradient, so success is not "
                        "an adversarial example of the evaluator")
    p.add_argument("--x0-steps", type=int, default=d.x0_steps, help=f"rollout schedule of the x0 path (default {d.x0_steps})")
    p.add_argument("--ddim-steps", type=int, default=d.ddim_steps, help=f"differentiated chain length of the ddim path (default {d.ddim_steps})")
    p.add_argument("--opt-seeds", type=int, default=d.opt_seeds, help=f"noise draws per prompt per step (default {d.opt_seeds})")
    p.add_argument("--search-seeds", type=int, default=d.search_seeds, help=f"seeds per candidate in the discrete search (default {d.search_seeds})")
    p.add_argument("--top-k", type=int, default=d.top_k, help=f"best phrasings judged on fresh seeds (default {d.top_k})")
    p.add_argument("--phrasings", default=None, help=f"concept<TAB>phrasing file (default {PHRASINGS_FILE.name})")
    p.add_argument("--no-natural", dest="natural", action="store_false", help="search only the phrasings file, not natural.tsv")
    p.add_argument("--eval-seeds", type=int, default=d.eval_seeds, help=f"fresh seeds per attacked prompt (default {d.eval_seeds})")
    p.add_argument("--sample-steps", type=int, default=d.sample_steps, help=f"DDIM steps of the judging sampler (default {d.sample_steps})")
    p.add_argument("--guidance", type=float, default=d.guidance)
    p.add_argument("--frames", type=int, default=d.frames)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", default=None, help="report JSON (default: <adapter or base folder>/eval/attack.json)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p



def load_targets(args) -> list[AttackTarget]:
    """The adapter of --adapter (a result folder loaded from its own files, on the base it was trained from) and,
    unless --no-base, the base beside it; or the base alone with --base."""
    from ..results import find_result, load_results, result_kind

    if args.base:
        return [load_results(args.base_name or DEFAULT_BASE).attack_target(None)]
    folder = find_result(args.adapter, args.base_name or DEFAULT_BASE)
    if result_kind(folder) == "edit":
        raise ValueError(f"{folder} is a weight edit (full fine-tuning or UCE), not an adapter; benchmarks/experiments/methods.py attacks those")
    meta = read_json(folder / "adapter.json")
    results = load_results(args.base_name or meta.get("base") or DEFAULT_BASE)
    name = results.add_adapter(folder, meta)
    targets = [results.attack_target(name, args.scale)]
    return targets + [results.attack_target(None)] if args.with_base else targets


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = ("mode", "prompts", "tokens", "steps", "lr", "grad_path", "objective", "x0_steps", "ddim_steps", "opt_seeds", "search_seeds", "top_k",
             "phrasings", "natural", "eval_seeds", "sample_steps", "guidance", "frames", "batch", "seed")
    try:
        cfg = AttackConfig(**{n: getattr(args, n) for n in names}).validated()
        if args.base and not args.concept:
            raise ValueError("--base needs --concept (which concept to bring back, e.g. --concept kick)")
        if args.concept and args.concept not in CONCEPT_INDEX:
            raise ValueError(f"unknown concept {args.concept!r}; the evaluator knows {', '.join(CONCEPTS)}")
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    log = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    try:
        targets = load_targets(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    concept = args.concept or targets[0].concept
    if concept not in CONCEPT_INDEX:
        print(f"error: the evaluator cannot score the adapter's concept {concept!r}", file=sys.stderr)
        return 2
    reports = []
    for target in targets:
        log(f"attacking {target.label} ({concept}) — {cfg.budget()}")
        reports.append(run_attack(target, config=cfg, concept=concept, progress=log))
    out = Path(args.out) if args.out else targets[0].folder / "eval" / REPORT_FILE
    save_reports(reports, out)
    print(format_table(reports))
    print(f"\nwrote {out}")
    return 0
