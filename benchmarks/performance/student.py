"""The few-step student beside its teacher: latency, quality on the natural prompts, and the adapters on it.

    python -m benchmarks.performance.student [--student motionbank_base_student] [--runs 10] [--skip quality adapters]

All in one run, on one machine:

1. **Latency** at the app's defaults (196 frames, kick adapter, guidance 2.5): one side-by-side (base and steered
   rows in one mixed batch per step, as the app runs it) with the teacher (UniPC 12 steps, both guidance branches)
   and with the student (its own few DDIM steps, the caption alone), interleaved medians over --runs; the fp32
   matmul peak measured now (benchmarks.performance.generate's probe), the raw times, the times scaled to a
   180 GFLOP/s peak and the ratio to the teacher. Also the strength grid (13 strengths, -1 to 2, one batch).
2. **Quality**: `eval_base` (its protocol and seeds, so the same noise for both) on the teacher and on the student:
   natural-prompt concept accuracy (evaluator), the kinematic judge, and foot skating and jitter against the mocap
   clips like for like (feet planted, the default output). Bars: accuracy within 2 points, judge within 3 points,
   skating and jitter <= 1.5x mocap.
3. **Adapters on the student**: test_unlearn's protocol (`unlearning.evaluate.evaluate_sets`: its prompt sets, seeds
   and metrics) for each shipped adapter (--adapters), loaded unchanged on the teacher and on the student, every
   natural prompt: natural forget presence (bar <= 5%), retain drop (<= 3 points) and the neighbour's drop (punch; kick for the punch adapter; <= 10). Both
   sample through `MotionGenerator.sample` at the app's defaults, which the student serves on its own schedule.

JSON goes to benchmarks/results/student.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmarks.performance.generate import interleaved_medians, matmul_peak
from motion_lora.evaluation import eval_base
from motion_lora.evaluation.protocol import Judge
from motion_lora.model.checkpoints import DATASET_NAME, EVALUATOR, checkpoint_root, resolve_base, resolve_evaluator
from motion_lora.model.generator import MotionGenerator, SampleOptions
from motion_lora.model.student import read_student
from motion_lora.unlearning.adapters import BASE, AdapterSet
from motion_lora.unlearning.evaluate import evaluate_sets
from motion_lora.unlearning.strength_grid import GRID_STRENGTHS, strength_grid

FRAMES = 196
PROMPT = "a person kicks with the right leg"
REFERENCE_PEAK = 180.0  # GFLOP/s: the fp32 matmul peak of the earlier figures
RESULTS = Path(__file__).resolve().parents[1] / "results" / "student.json"
BARS = {
    "side_by_side_scaled_s": 0.10,
    "accuracy_points": 2.0,
    "judge_points": 3.0,
    "physics_x_mocap": 1.5,
    "natural_forget": 0.05,
    "retain_drop_points": 3.0,
    "neighbour_drop_points": 10.0,
}


def progress(message: str) -> None:
    print(f"[student.py] {message}", file=sys.stderr, flush=True)


def side_by_side(generator: MotionGenerator, adapters: AdapterSet, name: str, opts: SampleOptions):
    """One side-by-side as the app computes it: base and steered rows in one mixed batch per step, same noise."""

    def run():
        with adapters.mixed({name: 1.0}, 1.0) as (model, steered):
            rows = [BASE, steered]

            def denoise(x, t, tokens, mask, pooled, lengths, _i):
                return model(x, t, tokens, mask, pooled, lengths, adapter_names=rows * (x.shape[0] // 2))

            return generator.sample([PROMPT, PROMPT], [0, 0], opts, denoise=denoise)

    return run


def latency(models: dict, name: str, runs: int) -> dict:
    """models: label -> (generator, adapters with `name` loaded)."""
    opts = SampleOptions(frames=FRAMES).validated()  # the app's defaults
    generator, adapters = models["student"]
    fns = {label: side_by_side(g, a, name, opts) for label, (g, a) in models.items()}
    fns["grid"] = lambda: strength_grid(generator, adapters, PROMPT, 0, {name: 1.0}, GRID_STRENGTHS, opts)
    peak = matmul_peak(torch.float32)
    t = interleaved_medians(fns, runs)
    scale = peak / REFERENCE_PEAK  # seconds on this machine -> seconds at the reference peak
    out = {
        "peak_gflops": peak,
        "grid_strengths": len(GRID_STRENGTHS),
        "student_over_teacher": t["student"] / t["teacher"],
    }
    for k in ("teacher", "student", "grid"):
        out[f"{k}_s"], out[f"{k}_scaled_s"] = t[k], t[k] * scale
    return out


def quality(data: Path, teacher: Path, student: Path, out: Path) -> dict:
    """eval_base on both (1 repeat), reduced to the figures with bars."""
    figures = {}
    for label, folder in (("teacher", teacher), ("student", student)):
        progress(f"eval_base on the {label}")
        eval_base.main(["--data", str(data), "--ckpt", str(folder), "--repeats", "1", "--out", str(out / label)])
        m = json.loads((out / label / "metrics.json").read_text())
        ph, judged = m["physics"], m["kinematic_judge"]["natural"]
        figures[label] = {
            "natural_accuracy": m["generated"]["concept_accuracy_natural"]["mean"],
            "judge_mean": judged["judged_average"],
            "judge_per_concept": {c: v["judge"] for c, v in judged["per_concept"].items()},
            "training_phrasings": m["generated"]["concept_accuracy_train_phrasing"]["mean"],
            "heldout_phrasings": m["generated"]["concept_accuracy_heldout_phrasing"]["mean"],
            "skating_x_mocap": ph["generated_mocap_prompts"]["foot_skating_ratio"]
            / ph["mocap_test"]["foot_skating_ratio"],
            "jitter_x_mocap": ph["generated_mocap_prompts"]["jitter_m_s2"] / ph["mocap_test"]["jitter_m_s2"],
            "penetration_cm": ph["generated_mocap_prompts"]["floor_penetration_cm"],
            "seconds": m["seconds"],
        }
    return figures


def generate_set(generator: MotionGenerator, adapters: AdapterSet):
    """evaluate_sets' generation function through MotionGenerator.sample: prompt i of a set uses seed + i."""

    def run(prompts, weights, scale, opts, seed=0, batch=16) -> np.ndarray:
        out = []
        for i in range(0, len(prompts), batch):
            chunk = prompts[i : i + batch]
            seeds = [seed + i + j for j in range(len(chunk))]
            with adapters.using(weights, scale) as model:
                denoise = lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L)  # noqa: E731
                out.append(generator.sample([p.text for p in chunk], seeds, opts, denoise=denoise))
        return torch.cat(out).cpu().numpy() * generator.std + generator.mean

    return run


def neighbour(concept: str) -> str:
    """The concept whose drop is watched: punch, the nearest to kick; kick for the punch adapter itself."""
    return "kick" if concept == "punch" else "punch"


def adapter_figures(result: dict, watch: str) -> dict:
    """Natural forget presence, the retain drop on the natural retain prompts (mean over concepts, as
    benchmarks.experiments.collateral reports it), the watched concept's drop, and the drop over all retain prompts."""
    forget = result["forget"]
    per = {
        k: {c: v["mean"] for c, v in result["retain"][k]["presence_by_kind_and_concept"]["natural_retain"].items()}
        for k in ("base", "unlearned")
    }
    retain = {k: float(np.mean(list(v.values()))) for k, v in per.items()}
    overall = {k: result["retain"][k]["metrics"]["presence"]["mean"] for k in ("base", "unlearned")}
    return {
        "natural_forget_base": forget["base"]["presence_by_kind"]["natural"]["mean"],
        "natural_forget": forget["unlearned"]["presence_by_kind"]["natural"]["mean"],
        "retain_base": retain["base"],
        "retain_drop_points": 100 * (retain["base"] - retain["unlearned"]),
        "neighbour": watch,
        "neighbour_drop_points": 100 * (per["base"].get(watch, np.nan) - per["unlearned"].get(watch, np.nan)),
        "retain_drop_all_prompts_points": 100 * (overall["base"] - overall["unlearned"]),
    }


def adapters_on_both(models: dict, folders: list[Path], repeats: int) -> dict:
    out = {}
    opts = SampleOptions(frames=120).validated()  # test_unlearn's length, the app's sampling defaults
    for folder in folders:
        meta = json.loads((folder / "adapter.json").read_text())
        for label, (generator, adapters) in models.items():
            progress(f"{folder.name} on the {label}")
            judge = Judge(resolve_evaluator(EVALUATOR), generator.text_encoder)
            result = evaluate_sets(
                generate_set(generator, adapters),
                judge,
                folder.name,
                meta["concept"],
                opts,
                preserved=tuple(meta.get("retain_prompts") or ()),
                natural_per_concept=None,
                repeats=repeats,
            )
            out.setdefault(folder.name, {})[label] = adapter_figures(result, neighbour(meta["concept"]))
    return out


def verdict(value: float, bar: float) -> str:
    return "met" if value <= bar else "**not met**"


def print_latency(lat: dict, runs: int) -> None:
    print(
        f"\nmatmul peak fp32 {lat['peak_gflops']:.0f} GFLOP/s (times scaled to {REFERENCE_PEAK:.0f} GFLOP/s: "
        f"x {lat['peak_gflops'] / REFERENCE_PEAK:.2f})"
    )
    print(f"side-by-side at the app's defaults ({FRAMES} frames), median of {runs} interleaved runs:")
    print("| | raw (s) | scaled (s) | / teacher |\n|---|---|---|---|")
    for k, label in (
        ("teacher", "teacher"),
        ("student", "student"),
        ("grid", f"strength grid on the student ({lat['grid_strengths']} strengths, one batch)"),
    ):
        print(
            f"| {label} | {lat[f'{k}_s']:.3f} | {lat[f'{k}_scaled_s']:.3f} | {lat[f'{k}_s'] / lat['teacher_s']:.2f} |"
        )
    bar = BARS["side_by_side_scaled_s"]
    print(f"bar: side-by-side <= {bar} s scaled: {verdict(lat['student_scaled_s'], bar)}")


def print_quality(q: dict) -> None:
    t, s = q["teacher"], q["student"]
    acc, judge = 100 * (t["natural_accuracy"] - s["natural_accuracy"]), 100 * (t["judge_mean"] - s["judge_mean"])
    print("\nnatural prompts, eval_base protocol (same seeds), 1 repeat:")
    print("| | teacher | student | bar |\n|---|---|---|---|")
    print(
        f"| concept accuracy (evaluator) | {t['natural_accuracy']:.3f} | {s['natural_accuracy']:.3f} | "
        f"within {BARS['accuracy_points']:g} points: {verdict(acc, BARS['accuracy_points'])} ({acc:+.1f} lost) |"
    )
    print(
        f"| kinematic judge, mean | {t['judge_mean']:.3f} | {s['judge_mean']:.3f} | "
        f"within {BARS['judge_points']:g} points: {verdict(judge, BARS['judge_points'])} ({judge:+.1f} lost) |"
    )
    print(
        f"| training / held-out phrasings | {t['training_phrasings']:.3f} / {t['heldout_phrasings']:.3f} | "
        f"{s['training_phrasings']:.3f} / {s['heldout_phrasings']:.3f} | |"
    )
    for key, label in (("skating_x_mocap", "foot skating"), ("jitter_x_mocap", "jitter")):
        print(
            f"| {label} x mocap (like for like) | {t[key]:.2f} | {s[key]:.2f} | "
            f"<= {BARS['physics_x_mocap']}: {verdict(s[key], BARS['physics_x_mocap'])} |"
        )
    print(f"| floor penetration (cm) | {t['penetration_cm']:.2f} | {s['penetration_cm']:.2f} | |")
    judged = sorted(set(t["judge_per_concept"]) | set(s["judge_per_concept"]))
    print(
        "judge per concept (teacher -> student): "
        + ", ".join(
            f"{c} {t['judge_per_concept'].get(c, np.nan):.2f} -> {s['judge_per_concept'].get(c, np.nan):.2f}"
            for c in judged
        )
    )


def print_adapters(a: dict, repeats: int) -> None:
    print(f"\nteacher-trained adapters, unchanged, every natural prompt, {repeats} seed(s), 120 frames:")
    print(
        "| adapter | on | natural forget (base -> adapter) | retain drop (points) | neighbour drop (points) | "
        "retain drop, all retain prompts |\n|---|---|---|---|---|---|"
    )
    for name, both in a.items():
        for label, f in both.items():
            print(
                f"| {name} | {label} | {f['natural_forget_base']:.3f} -> {f['natural_forget']:.3f} | "
                f"{f['retain_drop_points']:.1f} | {f['neighbour']} {f['neighbour_drop_points']:.1f} | "
                f"{f['retain_drop_all_prompts_points']:.1f} |"
            )
        f = both["student"]
        print(
            f"bars on the student ({name}): "
            f"natural forget <= 5%: {verdict(f['natural_forget'], BARS['natural_forget'])}; "
            f"retain drop <= 3: {verdict(f['retain_drop_points'], BARS['retain_drop_points'])}; "
            f"{f['neighbour']} drop <= 10: {verdict(f['neighbour_drop_points'], BARS['neighbour_drop_points'])}"
        )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--student", default="motionbank_base_student", help="the student checkpoint (name or folder)")
    p.add_argument("--data", type=Path, default=Path("data/motionbank"))
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--repeats", type=int, default=1, help="seeds of the adapter evaluation")
    p.add_argument(
        "--adapters", default="kick", help="comma-separated concepts of shipped adapters to evaluate on both"
    )
    p.add_argument("--skip", nargs="*", default=[], choices=["latency", "quality", "adapters"])
    p.add_argument("--json", type=Path, default=RESULTS)
    args = p.parse_args()
    student = resolve_base(args.student)
    spec = read_student(student)
    if spec is None:
        raise SystemExit(f"{student} is not a student checkpoint (no student.json)")
    teacher = resolve_base(spec.teacher)
    concepts = [c.strip() for c in args.adapters.split(",") if c.strip()]
    folders = [checkpoint_root() / DATASET_NAME / f"{teacher.name}_LoRA_{c}" for c in concepts]
    models = {}
    for label, folder in (("teacher", teacher), ("student", student)):
        generator = MotionGenerator(folder)
        adapters = AdapterSet(generator.model)
        for adapter in folders:
            adapters.load(adapter.name, adapter / "model")  # the teacher-trained files, unchanged
        models[label] = (generator, adapters)
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f}"
    )
    result = {"machine": machine, "student": str(student), "teacher": str(teacher), "student_steps": spec.steps}
    print(f"machine: {machine}")
    print(
        f"teacher {teacher.name}: {spec.teacher_scheduler} {spec.teacher_steps} steps, guidance {spec.guidance:g}; "
        f"student {student.name}: {spec.steps} {spec.scheduler} steps, guidance baked in"
    )
    if "latency" not in args.skip:
        progress("latency")
        result["latency"] = latency(models, folders[0].name, args.runs)
        print_latency(result["latency"], args.runs)
    if "quality" not in args.skip:
        result["quality"] = quality(args.data, teacher, student, Path(tempfile.mkdtemp(prefix="student_eval_")))
        print_quality(result["quality"])
    if "adapters" not in args.skip:
        result["adapters"] = adapters_on_both(models, folders, args.repeats)
        print_adapters(result["adapters"], args.repeats)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
