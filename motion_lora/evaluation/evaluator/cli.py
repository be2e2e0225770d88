"""`python -m motion_lora.evaluator`: train the evaluator on a HumanML3D-layout folder, or re-measure a trained one."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .embedding import embed_dataset, evaluation_metrics
from .model import Evaluator, EvaluatorConfig
from .reference import write_reference
from .training import train_evaluator

METRICS_FILE = "metrics.json"
DESCRIPTION = ("Our proxy of the field's T2M evaluator (Guo et al. 2022): a motion encoder and a text head mapped into "
               "one embedding space by contrastive training, plus a concept classifier on the motion embedding.")
STATE_FILE = "train_state.pt"  # ignored by git


def _state_path(out: str | Path, resume: bool) -> Path:
    path = Path(out) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not resume:
        path.unlink(missing_ok=True)
    return path


def load_splits(root: str | Path, seed: int):
    """train (random caption and crop per item), val and test (every caption its own item, no crop)."""
    from ...data.dataset import MotionDataset

    train = MotionDataset(root, "train", seed=seed)
    val = MotionDataset(root, "val", seed=seed, captions="all", random_crop=False)
    test = MotionDataset(root, "test", seed=seed, captions="all", random_crop=False)
    return train, val, test


def _write_test_reference(out: Path, data: str, text_encoder) -> None:
    from ...data.dataset import MotionDataset

    write_reference(out, MotionDataset(data, "test", captions="first", random_crop=False), text_encoder)


def _remeasure(out: Path, data: str, train, test, text_encoder, *, write_ref: bool, seed: int) -> dict:
    """Test metrics (and the FID reference) of an already trained evaluator, on the current test split.

    Refuses when the training split no longer has the size the evaluator was trained on: then the test
    figures would describe a model of other data."""
    result = json.loads((out / METRICS_FILE).read_text()) if (out / METRICS_FILE).is_file() else {}
    if result.get("train_items", len(train)) != len(train):
        raise SystemExit(f"{out} was trained on {result['train_items']} training items, {data} has {len(train)}: "
                         "retrain it")
    model = Evaluator.load(out)
    if write_ref:
        _write_test_reference(out, data, text_encoder)
    result["test"] = evaluation_metrics(embed_dataset(model, test, text_encoder), seed=seed)
    (out / METRICS_FILE).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["test"], indent=2))
    return result


def main(argv: list[str] | None = None, *, splits=None, text_encoder=None, config: EvaluatorConfig | None = None):
    """CLI entry. Tests inject `splits` (train, val, test), a `text_encoder` and a small `config`."""
    p = argparse.ArgumentParser(prog="python -m motion_lora.evaluator", description=DESCRIPTION)
    p.add_argument("--data", required=True, help="HumanML3D-layout folder (e.g. data/motionbank)")
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--log-every", type=int, default=500)
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help=f"start over even if {STATE_FILE} exists in --out")
    p.add_argument("--measure-only", action="store_true",
                   help="do not train: re-measure the evaluator in --out on --data's test split and rewrite its FID "
                        "reference (after a rebuild that changed val/test but not train)")
    args = p.parse_args(argv)

    started = time.time()
    train, val, test = splits if splits is not None else load_splits(args.data, args.seed)
    if text_encoder is None:
        from ...model.text_encoder import TextEncoder

        text_encoder = TextEncoder(device=args.device)
    if args.measure_only:
        return _remeasure(Path(args.out), args.data, train, test, text_encoder, write_ref=splits is None,
                          seed=args.seed)
    model = train_evaluator(
        train, val, config=config, steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        device=args.device, text_encoder=text_encoder, log_every=args.log_every,
        state_path=_state_path(args.out, args.resume),
    )
    out = model.save(args.out)
    (out / STATE_FILE).unlink(missing_ok=True)  # finished: the state file only serves an interrupted run
    if splits is None:  # the normaliser and the real-motion reference for FID travel with the evaluator
        import shutil

        for name in ("Mean.npy", "Std.npy"):
            shutil.copyfile(Path(args.data) / name, out / name)
        _write_test_reference(out, args.data, text_encoder)
    result = {
        "test": evaluation_metrics(embed_dataset(model, test, text_encoder), seed=args.seed),
        "train_items": len(train),
        "steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "num_params": model.num_params(),
        "seconds": round(time.time() - started, 1),
    }
    (out / METRICS_FILE).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["test"], indent=2))
    return result
