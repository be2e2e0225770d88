"""Our proxy of the field's T2M evaluator (Guo et al. 2022): a motion encoder and a text head mapped into
one embedding space by contrastive training, plus a concept classifier on the motion embedding.

    motion (B, T, 263) normalised ──mask──> Linear 263->H ──> 2 x Conv1d(stride 2) ──> +pos ──> Transformer
        ──> masked mean ──> Linear H->512 = z ──> normalise = motion embedding
                                                └─> LayerNorm, Linear 512->23 = concept logits
    MiniLM pooled (B, 384) ──> MLP 384->512->512 ──> normalise = text embedding

Embeddings are unit length, so the Euclidean distances that the field's metrics use (R-precision, FID,
diversity) rank pairs exactly as the cosine similarities used in training do.
Everything after the input mask only sees real frames: the encoding of a motion does not depend on how much
zero padding follows it (tested).

    python -m motion_lora.evaluator --data data/motionbank --out checkpoints/evaluator --steps 5000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from tqdm import tqdm

from ..data.clip import CONCEPTS
from ..model.checkpoints import read_json, read_weights
from ..model.pretrain import save_atomic
from . import metrics

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.json"
DOWNSAMPLE = 4  # two stride-2 convs; lengths are multiples of 4, so token counts are exact
MAX_LOGIT_SCALE = 100.0  # CLIP's cap on the learnable inverse temperature

# Real-motion embeddings for FID, stored beside the evaluator (written here, read by protocol.Judge).
REFERENCE_FILE = "reference.safetensors"


@dataclass(kw_only=True)
class EvaluatorConfig:
    feature_dim: int = 263
    max_frames: int = 196
    text_dim: int = 384  # all-MiniLM-L6-v2 pooled vector
    embed_dim: int = 512
    hidden: int = 256  # motion transformer width
    layers: int = 2
    heads: int = 4
    ff_mult: int = 2
    dropout: float = 0.1
    num_concepts: int = len(CONCEPTS)
    init_temperature: float = 0.07
    concept_weight: float = 0.5  # weight of the concept cross-entropy next to the contrastive loss
    weight_decay: float = 0.01
    warmup_frac: float = 0.05  # of the steps, linear warm-up before cosine decay

    @classmethod
    def from_dict(cls, d: dict) -> "EvaluatorConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown evaluator config keys: {', '.join(sorted(unknown))}")
        return cls(**d)


def frame_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(B,) lengths -> (B, T) bool, True on real frames."""
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


class MotionEncoder(nn.Module):
    def __init__(self, cfg: EvaluatorConfig):
        super().__init__()
        h = cfg.hidden
        self.inp = nn.Linear(cfg.feature_dim, h)
        # kernel 4, stride 2, padding 1 halves the length exactly; two of them give one token per 4 frames
        self.down = nn.ModuleList([nn.Conv1d(h, h, 4, stride=2, padding=1) for _ in range(2)])
        self.pos = nn.Parameter(torch.zeros(1, math.ceil(cfg.max_frames / DOWNSAMPLE), h))
        nn.init.normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(
            h, cfg.heads, h * cfg.ff_mult, cfg.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        # nested tensors take another code path in eval mode; one path keeps train/eval numerics alike
        self.transformer = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(h)
        self.out = nn.Linear(h, cfg.embed_dim)

    def forward(self, motion: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, F), (B,) -> unnormalised z (B, embed_dim)."""
        B, T, _ = motion.shape
        if T > self.pos.shape[1] * DOWNSAMPLE:
            limit = self.pos.shape[1] * DOWNSAMPLE
            raise ValueError(f"motion has {T} frames, the evaluator was built for at most {limit}")
        lengths = lengths.to(motion.device).long().clamp(min=1, max=T)
        pad = (-T) % DOWNSAMPLE
        x = F.pad(motion, (0, 0, 0, pad))
        mask = frame_mask(lengths, T + pad)
        x = self.inp(x) * mask[..., None]  # zero padding frames, whatever the caller put there
        x = x.transpose(1, 2)  # (B, H, T) for Conv1d
        for conv in self.down:
            lengths = (lengths + 1) // 2  # ceil: a token that sees any real frame is real
            x = F.leaky_relu(conv(x), 0.2)
            x = x * frame_mask(lengths, x.shape[-1])[:, None, :]  # keep biases out of the padding
        x = x.transpose(1, 2)  # (B, T/4, H)
        mask = frame_mask(lengths, x.shape[1])
        x = self.transformer(x + self.pos[:, : x.shape[1]], src_key_padding_mask=~mask)
        m = mask[..., None].to(x.dtype)
        pooled = (self.norm(x) * m).sum(1) / m.sum(1)
        return self.out(pooled)


class Evaluator(nn.Module):
    def __init__(self, config: EvaluatorConfig | None = None):
        super().__init__()
        self.config = cfg = config or EvaluatorConfig()
        self.motion_encoder = MotionEncoder(cfg)
        self.text_head = nn.Sequential(
            nn.Linear(cfg.text_dim, cfg.embed_dim),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.embed_dim, cfg.embed_dim),
        )
        self.concept_head = nn.Sequential(nn.LayerNorm(cfg.embed_dim), nn.Linear(cfg.embed_dim, cfg.num_concepts))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / cfg.init_temperature)))

    # --- the three outputs -------------------------------------------------------------------------------
    def motion_features(self, motion: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One pass for both outputs: (unit embedding (B, D), concept logits (B, C))."""
        z = self.motion_encoder(motion, lengths)
        return F.normalize(z, dim=-1), self.concept_head(z)

    def encode_motion(self, motion: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, 263) normalised features, (B,) lengths -> (B, embed_dim) unit-length embeddings."""
        return F.normalize(self.motion_encoder(motion, lengths), dim=-1)

    def encode_text(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, 384) MiniLM pooled sentence vectors -> (B, embed_dim) unit-length embeddings."""
        return F.normalize(self.text_head(pooled), dim=-1)

    def concept_logits(self, motion: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, 263), (B,) -> (B, num_concepts) logits over CONCEPTS."""
        return self.concept_head(self.motion_encoder(motion, lengths))

    # --- persistence --------------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_FILE).write_text(json.dumps(dataclasses.asdict(self.config), indent=2) + "\n")
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_FILE))
        return directory

    @classmethod
    def load(cls, directory: str | Path, device: str | torch.device = "cpu") -> "Evaluator":
        directory = Path(directory)
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            if not (directory / name).is_file():
                raise FileNotFoundError(f"no {name} in {directory}; train with `python -m motion_lora.evaluator`")
        model = cls(EvaluatorConfig.from_dict(read_json(directory / CONFIG_FILE)))
        model.load_state_dict(read_weights(directory / WEIGHTS_FILE), strict=True)
        return model.to(device).eval().requires_grad_(False)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


# --- losses --------------------------------------------------------------------------------------------------
def contrastive_loss(
    text_emb: torch.Tensor, motion_emb: torch.Tensor, captions: list[str], logit_scale: torch.Tensor
) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matched unit embeddings (B, D).

    A caption can occur twice in a batch (several clips share a phrasing); treating the other copy as a
    negative would push apart pairs that are equally correct. So every pair with the same caption is a
    positive and the target is spread uniformly over them (multi-positive cross-entropy).
    """
    ids = {c: i for i, c in enumerate(dict.fromkeys(captions))}
    key = torch.tensor([ids[c] for c in captions], device=text_emb.device)
    positives = (key[:, None] == key[None, :]).float()
    target = positives / positives.sum(1, keepdim=True)  # symmetric, so it serves both directions
    logits = logit_scale.exp().clamp(max=MAX_LOGIT_SCALE) * text_emb @ motion_emb.T  # (B texts, B motions)
    t2m = torch.sum(-target * F.log_softmax(logits, dim=1), dim=1).mean()
    m2t = torch.sum(-target * F.log_softmax(logits.T, dim=1), dim=1).mean()
    return (t2m + m2t) / 2


# --- data helpers --------------------------------------------------------------------------------------------
def collate(items: list[dict]) -> dict:
    """Only the fields the evaluator needs, so any dataset returning at least these keys works."""
    return {
        "motion": torch.stack([torch.as_tensor(it["motion"], dtype=torch.float32) for it in items]),
        "length": torch.tensor([int(it["length"]) for it in items], dtype=torch.long),
        "caption": [it["caption"] for it in items],
        "concept": torch.tensor([int(it.get("concept", -1)) for it in items], dtype=torch.long),
    }


def random_batches(n: int, batch_size: int, generator: torch.Generator):
    """Endless batches of indices: a fresh permutation per epoch, the last short batch of an epoch dropped
    (unless the whole set is smaller than one batch)."""
    batch_size = min(batch_size, n)
    while True:
        perm = torch.randperm(n, generator=generator).tolist()
        for i in range(0, n - batch_size + 1, batch_size):
            yield perm[i : i + batch_size]


def lr_at(step: int, steps: int, lr: float, warmup_frac: float) -> float:
    """Linear warm-up then cosine decay to 10% of lr."""
    warmup = max(1, int(steps * warmup_frac))
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def seed_everything(seed: int) -> None:
    # Datasets may draw captions/crops from python, numpy or torch global state; seed all three.
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


# --- embedding and evaluation --------------------------------------------------------------------------------
@torch.no_grad()
def embed_dataset(evaluator: Evaluator, dataset, text_encoder, *, batch_size: int = 64, limit: int | None = None):
    """Run the evaluator over dataset items in order. Returns a dict of numpy arrays: text_emb (N, D),
    motion_emb (N, D), logits (N, C), concept (N,), plus the list of captions."""
    was_training = evaluator.training
    evaluator.eval()
    device = _device_of(evaluator)
    n = len(dataset) if limit is None else min(limit, len(dataset))
    out = {"text_emb": [], "motion_emb": [], "logits": [], "concept": [], "caption": []}
    for start in range(0, n, batch_size):
        batch = collate([dataset[i] for i in range(start, min(n, start + batch_size))])
        pooled = text_encoder.encode(batch["caption"]).pooled.to(device)
        emb, logits = evaluator.motion_features(batch["motion"].to(device), batch["length"].to(device))
        out["text_emb"].append(evaluator.encode_text(pooled).cpu())
        out["motion_emb"].append(emb.cpu())
        out["logits"].append(logits.cpu())
        out["concept"].append(batch["concept"])
        out["caption"].extend(batch["caption"])
    evaluator.train(was_training)
    result = {k: torch.cat(v).numpy() for k, v in out.items() if k != "caption"}
    result["caption"] = out["caption"]
    return result


def evaluation_metrics(emb: dict, *, seed: int = 0, shuffles: int = 10, batch: int = 32) -> dict:
    """Concept top-1 accuracy (items with a known concept) and text->motion R@1/2/3 in batches of `batch`
    matched pairs, averaged over `shuffles` random orders of the items (the field shuffles once; averaging
    removes most of the dependence on which items share a batch)."""
    result = {"num_items": int(len(emb["concept"]))}
    known = emb["concept"] >= 0
    if known.any():
        result["concept_top1"] = float((emb["logits"][known].argmax(1) == emb["concept"][known]).mean())
    n = len(emb["text_emb"])
    if n >= batch:
        rng = np.random.default_rng(seed)
        orders = [rng.permutation(n) for _ in range(shuffles)]
        t, m = emb["text_emb"], emb["motion_emb"]
        r = np.mean([metrics.r_precision(t[o], m[o], batch=batch) for o in orders], axis=0)
        result.update({f"r_precision_top{k + 1}": float(v) for k, v in enumerate(r)})
        result["mm_dist"] = metrics.mm_dist(emb["text_emb"], emb["motion_emb"])
    return result


# --- training ------------------------------------------------------------------------------------------------
def train_evaluator(
    dataset_train,
    dataset_val=None,
    *,
    config: EvaluatorConfig | None = None,
    steps: int = 5000,
    batch_size: int = 64,
    lr: float = 3e-4,
    seed: int = 0,
    device: str | torch.device = "cpu",
    text_encoder=None,
    log_every: int = 500,
    val_limit: int = 1024,
    log=print,
    state_path: Path | None = None,
    ckpt_every: int = 500,
) -> Evaluator:
    """Train on any Dataset whose items are dicts with motion (T, 263), length, caption and concept.
    Deterministic for a seed on CPU. Returns the model in eval mode with gradients off.

    With `state_path`, the model, optimiser and step are saved there every `ckpt_every` steps and a run
    finds and resumes them (the batch order is replayed, so a resumed run sees the same batches)."""
    if len(dataset_train) == 0:
        raise ValueError("the training set is empty")
    if text_encoder is None:
        from ..model.text_encoder import TextEncoder

        text_encoder = TextEncoder(device=device)
    config = config or EvaluatorConfig()
    seed_everything(seed)
    device = torch.device(device)
    model = Evaluator(config).to(device).train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and n != "motion_encoder.pos"]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or n == "motion_encoder.pos"]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr
    )
    batches = random_batches(len(dataset_train), batch_size, torch.Generator().manual_seed(seed))
    first = 0
    if state_path is not None and Path(state_path).is_file():
        state = torch.load(state_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        first = int(state["step"])
        for _ in range(first):
            next(batches)
        log(f"resumed from {state_path} at step {first}")
    running: dict[str, float] = {}
    bar = tqdm(range(first, steps), desc="evaluator", dynamic_ncols=True, mininterval=1.0, initial=first, total=steps)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, config.warmup_frac)
        batch = collate([dataset_train[i] for i in next(batches)])
        with torch.no_grad():
            pooled = text_encoder.encode(batch["caption"]).pooled.to(device)
        emb, logits = model.motion_features(batch["motion"].to(device), batch["length"].to(device))
        text_emb = model.encode_text(pooled)
        loss_c = contrastive_loss(text_emb, emb, batch["caption"], model.logit_scale)
        concept = batch["concept"].to(device)
        has_concept = bool((concept >= 0).any())
        loss_k = F.cross_entropy(logits, concept, ignore_index=-1) if has_concept else logits.sum() * 0.0
        loss = loss_c + config.concept_weight * loss_k
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

        for k, v in (("loss", loss.item()), ("nce", loss_c.item()), ("ce", loss_k.item())):
            running[k] = v if k not in running else 0.98 * running[k] + 0.02 * v  # smoothed for the bar
        postfix = {k: f"{v:.3f}" for k, v in running.items()}
        bar.set_postfix(postfix | {"T": f"{1 / model.logit_scale.exp().item():.3f}"}, refresh=False)
        due = log_every and ((step + 1) % log_every == 0 or step + 1 == steps)
        if due and dataset_val is not None and len(dataset_val):
            val_emb = embed_dataset(model, dataset_val, text_encoder, limit=val_limit)
            m = evaluation_metrics(val_emb, seed=seed, shuffles=3)
            shown = " ".join(f"{k} {v:.4f}" for k, v in m.items() if k != "num_items")
            log(f"step {step + 1}: train loss {running['loss']:.4f} | val {shown}")
        if state_path is not None and ckpt_every and (step + 1) % ckpt_every == 0 and step + 1 < steps:
            save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step + 1}, Path(state_path))
    return model.eval().requires_grad_(False)


# --- CLI -----------------------------------------------------------------------------------------------------
STATE_FILE = "train_state.pt"  # ignored by git


def _state_path(out: str | Path, resume: bool) -> Path:
    path = Path(out) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not resume:
        path.unlink(missing_ok=True)
    return path

def load_splits(root: str | Path, seed: int):
    """train (random caption and crop per item), val and test (every caption its own item, no crop)."""
    from ..data.dataset import MotionDataset

    train = MotionDataset(root, "train", seed=seed)
    val = MotionDataset(root, "val", seed=seed, captions="all", random_crop=False)
    test = MotionDataset(root, "test", seed=seed, captions="all", random_crop=False)
    return train, val, test


# Per-clip embeddings are data derived from their clips, not weights: the Bandai Namco licence (CC BY-NC 4.0) lets
# us ship weights trained on it but nothing else derived from it, so its clips stay out of the shipped reference.
UNSHIPPABLE_SOURCES = ("bandai",)


def write_reference(evaluator_dir: str | Path, dataset, text_encoder) -> Path:
    """Embed every clip of a split once (first caption, no crop) and store embeddings + concepts for FID.

    Clips whose label names an unshippable source (the Bandai Namco takes) are left out."""
    from ..data.dataset import read_label

    evaluator_dir = Path(evaluator_dir)
    model = Evaluator.load(evaluator_dir)
    emb = embed_dataset(model, dataset, text_encoder)
    sources = [(read_label(dataset.root, dataset.entries[e].id) or {}).get("source", "") for e, _ in dataset.items]
    keep = np.array([not s.startswith(UNSHIPPABLE_SOURCES) for s in sources], dtype=bool)
    path = evaluator_dir / REFERENCE_FILE
    save_file({"motion_emb": torch.from_numpy(emb["motion_emb"][keep]).float(), "concept": torch.from_numpy(emb["concept"][keep]).long()}, str(path))
    return path


def _write_test_reference(out: Path, data: str, text_encoder) -> None:
    from ..data.dataset import MotionDataset

    write_reference(out, MotionDataset(data, "test", captions="first", random_crop=False), text_encoder)


def _remeasure(out: Path, data: str, train, test, text_encoder, *, write_ref: bool, seed: int) -> dict:
    """Test metrics (and the FID reference) of an already trained evaluator, on the current test split.

    Refuses when the training split no longer has the size the evaluator was trained on: then the test
    figures would describe a model of other data."""
    result = json.loads((out / METRICS_FILE).read_text()) if (out / METRICS_FILE).is_file() else {}
    if result.get("train_items", len(train)) != len(train):
        raise SystemExit(f"{out} was trained on {result['train_items']} training items, {data} has {len(train)}: retrain it")
    model = Evaluator.load(out)
    if write_ref:
        _write_test_reference(out, data, text_encoder)
    result["test"] = evaluation_metrics(embed_dataset(model, test, text_encoder), seed=seed)
    (out / METRICS_FILE).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["test"], indent=2))
    return result


def main(argv: list[str] | None = None, *, splits=None, text_encoder=None, config: EvaluatorConfig | None = None):
    """CLI entry. Tests inject `splits` (train, val, test), a `text_encoder` and a small `config`."""
    p = argparse.ArgumentParser(prog="python -m motion_lora.evaluator", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="HumanML3D-layout folder (e.g. data/motionbank)")
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--log-every", type=int, default=500)
    p.add_argument("--no-resume", dest="resume", action="store_false", help=f"start over even if {STATE_FILE} exists in --out")
    p.add_argument("--measure-only", action="store_true",
                   help="do not train: re-measure the evaluator in --out on --data's test split and rewrite its FID "
                        "reference (after a rebuild that changed val/test but not train)")
    args = p.parse_args(argv)

    started = time.time()
    train, val, test = splits if splits is not None else load_splits(args.data, args.seed)
    if text_encoder is None:
        from ..model.text_encoder import TextEncoder

        text_encoder = TextEncoder(device=args.device)
    if args.measure_only:
        return _remeasure(Path(args.out), args.data, train, test, text_encoder, write_ref=splits is None, seed=args.seed)
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


if __name__ == "__main__":
    main()
