"""Erase a concept from the base denoiser with a LoRA adapter (ESD objective).

    python -m motion_lora.train --name motionbank_base --dataset_name t2m --target_concept kick \\
        --lora_rank 16 --lora_alpha 16.0 --unlearn_lr 2e-4 --unlearn_epochs 60 --negative_guidance 1.0

Arguments and defaults follow the research code this project descends from; an "epoch" here is one pass
over the concept prompt set (the concept plus its paraphrases) in batches of --batch_size prompts.

--method picks the unlearning method (`motion_lora.unlearning.methods`): lora (ours, default), full, ga and task_vector
(these two learn from clips: --data data/motionbank), uce (closed form, seconds). Other methods' folders carry a
suffix (`..._LoRA_kick_ga`, `..._LoRA_kick_uce`, `..._LoRA_kick_task_vector`; full: `..._FullFT_kick`, holding
model/edited.safetensors, the changed tensors, instead of an adapter); adapter.json records the method.

Output, written atomically (a cancelled or killed run leaves no half-written adapter):
    checkpoints/t2m/{NAME}_LoRA_{CONCEPT}/model/latest.tar     adapter weights + full config (weights_only-safe)
    checkpoints/t2m/{NAME}_LoRA_{CONCEPT}/model/adapter_config.json, adapter_model.safetensors  (PEFT files)
    checkpoints/t2m/{NAME}_LoRA_{CONCEPT}/adapter.json          summary: concept, prompts, config, timing
    checkpoints/t2m/{NAME}_LoRA_{CONCEPT}/logs/train_lora.log
    checkpoints/t2m/{NAME}_LoRA_{CONCEPT}/eval/                 filled by python -m motion_lora.test_unlearn
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import json
import math
import os
import platform
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm

from ..model.checkpoints import DATASET_NAME, check_name, checkpoint_root, resolve_base
from ..model.denoiser import MotionDenoiser
from ..model.sampler import SCHEDULERS
from ..model.text_encoder import TextEncoder
from .adapters import PRESETS, AdapterSet, LoraSpec, base_state_hash
from .methods import LORA_RESULTS, TAGS, MethodOptions, make_trainer
from .our_denoiser import denoiser_target, folder_autoencoder
from .target import TextToMotion
from .unlearn import METHODS, TrainEvent, UnlearnConfig, Unlearner, concept_key, concept_prompts, lora_state
from .weight_edit import changed_tensors, save_edited

DEFAULT_EPOCHS = 60
DEFAULTS = UnlearnConfig()  # our own options (not the research code's) default to the library's config
FORMAT_VERSION = 1


def adapter_folder_name(base_name: str, concept: str, method: str = "lora") -> str:
    """<base>_LoRA_<concept> (ESD), <base>_LoRA_<concept>_<method> (the other LoRA-shaped methods: the app lists
    them), <base>_FullFT_<concept> (full fine-tuning: not an adapter, so not in the app's list)."""
    tag = "LoRA" if method in LORA_RESULTS else "FullFT"
    return check_name(f"{Path(base_name).name}_{tag}_{concept_key(concept).replace(' ', '_')}{TAGS.get(method, '')}", "adapter")


def iterations_for(epochs: int, n_prompts: int, batch_size: int) -> int:
    """One epoch = one pass over the concept prompts in batches."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"--unlearn_epochs must be a whole number >= 1, got {epochs!r}")
    return epochs * math.ceil(n_prompts / batch_size)


def check_writable(folder: Path) -> None:
    probe = folder / f".write-test-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"output folder {folder} is not writable: {err}") from err


def publish(staging: Path, final: Path) -> None:
    """Replace `final` by `staging` with renames only, so readers see either the old or the new adapter; when
    the second rename fails, the old adapter is put back before the error goes on."""
    old = final.with_name(f".{final.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except OSError:
        if old.exists() and not final.exists():
            os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)  # published already: a leftover .old is cleaned by remove_stale_staging


# OSErrors that only a write raises: wherever they come from during a training, it is the adapter's save that failed
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


class SaveError(OSError):
    """Writing an adapter folder failed (full disk, quota, read-only): nothing was published. An OSError, so callers
    that report storage errors report it; its message is the one to show."""


def save_failure(err: OSError, name: str, kept: bool) -> SaveError:
    """`err` as a message a person can act on: what failed, why, and what is on disk now."""
    why = err.strerror or str(err)
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        why += " (free some space, or delete adapters you no longer need)"
    state = "the previous version is kept" if kept else "nothing was saved"
    return SaveError(f"could not save the adapter {name}: {why}; {state}")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_staging(root: Path) -> list[str]:
    """Clean up after a training that was killed: delete staging folders (`.NAME.partial-PID-TID`) of dead
    processes, and put back an adapter whose replacement was interrupted between publish()'s two renames.
    Returns the names removed or restored."""
    if not root.is_dir():
        return []
    done = []
    for path in root.glob(".*.partial-*"):
        pid = path.name.rsplit(".partial-", 1)[1].split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            done.append(path.name)
    for old in root.glob(".*.old"):
        final = root / old.name[1 : -len(".old")]
        if final.exists():  # killed after the replacement: the old copy is garbage
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, final)
        done.append(old.name)
    return done


def method_meta(unlearner, config: UnlearnConfig, options: MethodOptions | None) -> dict:
    """What adapter.json records beyond ESD's fields: the LoRA actually stored (UCE picks its own rank and targets),
    the trainable parameter count, and the baselines' own options and figures."""
    out: dict = {"trainable_parameters": int(sum(p.numel() for p in unlearner.params))}
    if config.method in LORA_RESULTS:
        spec = unlearner.adapters.specs[unlearner.name]
        out.update(rank=spec.rank, alpha=spec.alpha, dropout=spec.dropout, targets=spec.preset, target_modules=unlearner.adapters.presets[spec.preset])
    else:  # a weight edit: no LoRA
        out.update(rank=None, alpha=None, targets=None, target_modules=None, edited_file="model/edited.safetensors")
    if config.method not in ("lora", "full"):
        opts = options or MethodOptions()
        keep = {"ga": ("data", "forget_weight"), "task_vector": ("data", "negation_scale"), "uce": ("uce_erase_scale", "uce_lambda")}[config.method]
        out["method_options"] = {k: getattr(opts, k) for k in keep}
        out["method_details"] = dict(getattr(unlearner, "summary", {}))
    if config.method == "uce":
        out["trainable_parameters"] = 0
        out["edited_parameters"] = int(sum(v.numel() for v in unlearner.edited.values()))
    if config.method == "task_vector":
        out["stored_negated"] = bool(unlearner.negated)  # scale +1 = the erasing direction
    return out


def write_adapter(staging: Path, unlearner: Unlearner, meta: dict, save_full: bool) -> None:
    """Everything the adapter folder holds, written into `staging`: LoRA-shaped results as PEFT files + latest.tar;
    weight edits (full, uce) also as model/edited.safetensors, the changed tensors only (full has no latest.tar:
    its changed tensors are the whole result)."""
    model_dir = staging / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    method = unlearner.cfg.method
    if method == "full":
        with unlearner.adapters.disabled() as base:
            base_state = {k: v for k, v in base.state_dict().items() if "lora_" not in k}
        base_state = {k.replace("base_model.model.", "").replace(".base_layer", ""): v for k, v in base_state.items()}
        save_edited(changed_tensors(base_state, unlearner.student.state_dict()), model_dir)
    else:
        if method == "uce":
            save_edited(unlearner.edited, model_dir)
        state = lora_state(unlearner.adapters, unlearner.name)
        unlearner.adapters.save(unlearner.name, model_dir)
        payload = {"format": FORMAT_VERSION, "weights": state, "config": meta}
        if save_full:
            payload["base_weights"] = {k: v.detach().cpu().clone() for k, v in unlearner.adapters.base.state_dict().items() if "lora_" not in k}
        torch.save(payload, model_dir / "latest.tar")
    (staging / "adapter.json").write_text(json.dumps(meta, indent=1) + "\n")
    (staging / "eval").mkdir(exist_ok=True)


def unlearn_to_folder(
    *,
    base_name: str,
    config: UnlearnConfig,
    out_root: Path | None = None,
    device: str = "cpu",
    save_full: bool = False,
    stop: threading.Event | None = None,
    on_event: Callable[[TrainEvent], None] | None = None,
    adapters: AdapterSet | None = None,
    text_encoder: TextEncoder | None = None,
    folder_name: str | None = None,
    options: MethodOptions | None = None,
    before_publish: Callable[[Path], None] | None = None,
    model: TextToMotion | None = None,
) -> Path | None:
    """Train and publish an adapter folder; returns its path, or None when stopped before the end.

    The base is the checkpoint `base_name`, or `model`, any TextToMotion (`base_name` then only names the folder).
    Pass `adapters`/`text_encoder` to train inside an already loaded model (the app does); the new adapter
    then stays loaded under the folder's name. `before_publish` is called with the staging folder once the adapter
    is written there: what it adds (the app's ownership record) is published together with the adapter.
    A failed write (full disk, ...) is a SaveError; an adapter of the same name is then left as it was.
    """
    config = config.validated()
    root = (out_root or checkpoint_root()) / DATASET_NAME
    check_writable(root)
    name = folder_name or adapter_folder_name(base_name, config.concept, config.method)
    base_dir = resolve_base(base_name) if model is None else None
    if adapters is None:
        adapters = AdapterSet.for_model(model) if model is not None else AdapterSet(MotionDenoiser.load(base_dir, device))
    if model is None:
        model = denoiser_target(adapters.base, text_encoder or TextEncoder(device=device), label=Path(base_name).name,
                                autoencoder=folder_autoencoder(base_dir, device))
    hash_before = base_state_hash(adapters.model)
    staging = root / f".{name}.partial-{os.getpid()}-{threading.get_ident()}"
    if staging.exists():
        shutil.rmtree(staging)
    log, saving = None, False
    try:
        (staging / "logs").mkdir(parents=True)
        log = (staging / "logs" / "train_lora.log").open("w")
        unlearner = make_trainer(model, adapters, config, name, options=options, base_dir=base_dir, stop=stop)
        log.write(f"base {base_name} ({base_dir}), concept {config.concept!r}, method {config.method}\n")
        log.write(f"config {json.dumps(dataclasses.asdict(config))}\nprompts {json.dumps(unlearner.prompts)}\nretain {json.dumps(unlearner.retain)}\n")
        started = time.perf_counter()
        for event in unlearner:
            log.write(json.dumps(dataclasses.asdict(event)) + "\n")
            if on_event:
                on_event(event)
        seconds = time.perf_counter() - started
        if not unlearner.finished:
            log.close()
            shutil.rmtree(staging)
            if config.method in LORA_RESULTS and name in adapters.specs:
                adapters.delete(name)
            return None
        hash_after = base_state_hash(adapters.model)
        if hash_after != hash_before:  # cannot happen with LoRA; guards against a future regression
            raise RuntimeError("the base weights changed during unlearning")
        meta = {
            "name": name,
            "concept": concept_key(config.concept),
            "base": Path(base_name).name,
            "base_hash": hash_before,
            "method": config.method,
            "rank": config.lora.rank,
            "alpha": config.lora.alpha,
            "dropout": config.lora.dropout,
            "targets": config.lora.preset,
            "target_modules": adapters.presets[config.lora.preset],
            "negative_guidance": config.negative_guidance,
            "anchor": config.anchor,
            "lr": config.lr,
            "iterations": config.iterations,
            "batch_size": config.batch_size,
            "preserve_weight": config.preserve_weight,
            "retain_prompts": list(unlearner.retain),
            "prompts": unlearner.prompts,
            "seed": config.seed,
            "rollout_steps": config.rollout_steps,
            "rollout_scheduler": config.scheduler,
            "rollout_guidance": config.rollout_guidance,
            "adversarial_tokens": config.adversarial_tokens,
            "adversarial_steps": config.adversarial_steps,
            "adversarial_lr": config.adversarial_lr,
            "frames": config.frames,
            "seconds": round(seconds, 1),
            "final_loss": event.loss,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        }
        meta.update(method_meta(unlearner, config, options))
        log.write(f"done in {seconds:.1f} s; base hash unchanged: {hash_before}\n")
        saving = True
        log.close()
        write_adapter(staging, unlearner, meta, save_full)
        if before_publish:
            before_publish(staging)
        publish(staging, root / name)
        return root / name
    except BaseException as err:
        if log is not None:
            with contextlib.suppress(OSError):  # a full disk fails the flush too; the staging folder must still go
                log.close()
        shutil.rmtree(staging, ignore_errors=True)
        if config.method in LORA_RESULTS and name in adapters.specs:
            adapters.delete(name)
        if isinstance(err, OSError) and (saving or err.errno in STORAGE_ERRNOS):
            raise save_failure(err, name, kept=(root / name).exists()) from err
        raise


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m motion_lora.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default="motionbank_base", help="the base checkpoint's name (checkpoints/t2m/NAME)")
    p.add_argument("--dataset_name", default=DATASET_NAME, choices=[DATASET_NAME])
    p.add_argument("--target_concept", default="kick")
    p.add_argument("--lora_rank", type=int, default=16)
    p.add_argument("--lora_alpha", type=float, default=16.0)
    p.add_argument("--unlearn_lr", type=float, default=DEFAULTS.lr, help="the research code used 1e-4; see UnlearnConfig.lr")
    p.add_argument("--unlearn_epochs", type=int, default=DEFAULT_EPOCHS, help="passes over the concept prompt set")
    p.add_argument("--negative_guidance", type=float, default=1.0, help="eta of the ESD target")
    p.add_argument("--anchor", default=DEFAULTS.anchor, help='map the concept to this prompt\'s motion, e.g. "a person stands still" (default: the unconditional motion)')
    p.add_argument("--targets", default=DEFAULTS.lora.preset, choices=list(PRESETS), help="which linear layers get LoRA")
    p.add_argument("--lora_dropout", type=float, default=DEFAULTS.lora.dropout)
    p.add_argument("--iterations", type=int, default=None, help="overrides --unlearn_epochs")
    p.add_argument("--batch_size", type=int, default=DEFAULTS.batch_size)
    p.add_argument("--prompts", nargs="*", default=[], help="extra prompts describing the concept")
    p.add_argument("--retain_prompts", nargs="*", default=[], help="prompts to preserve (default: the other concepts' captions nearest to the concept prompts)")
    p.add_argument("--preserve_weight", type=float, default=DEFAULTS.preserve_weight, help="lambda of the preservation loss (0 = plain ESD)")
    p.add_argument("--method", default=DEFAULTS.method, choices=list(METHODS), help="lora: LoRA-ESD (ours); full: ESD fine-tuning every weight; ga: gradient ascent on data (needs --data); uce: closed-form cross-attention edit; task_vector: LoRA fine-tuned on the concept's clips, stored negated (needs --data)")
    p.add_argument("--data", default="", help="dataset folder (HumanML3D layout, e.g. data/motionbank) for --method ga / task_vector")
    p.add_argument("--forget_weight", type=float, default=MethodOptions.forget_weight, help="lambda of --method ga: loss = retain v-loss - lambda * forget v-loss")
    p.add_argument("--uce_erase_scale", type=float, default=MethodOptions.uce_erase_scale, help="--method uce: weight of the edit term (--preserve_weight weighs each preserved token)")
    p.add_argument("--negation_scale", type=float, default=MethodOptions.negation_scale, help="--method task_vector: the stored adapter is -NEGATION_SCALE x the delta learned on the concept's clips")
    p.add_argument("--uce_lambda", type=float, default=MethodOptions.uce_lambda, help="--method uce: regulariser towards the original weights")
    p.add_argument("--seed", type=int, default=DEFAULTS.seed)
    p.add_argument("--scheduler", default=DEFAULTS.scheduler, choices=list(SCHEDULERS), help="sampler of the teacher rollouts that provide the noisy motions ESD trains on")
    p.add_argument("--rollout_steps", type=int, default=DEFAULTS.rollout_steps, help="steps of those teacher rollouts")
    p.add_argument("--adversarial_tokens", type=int, default=DEFAULTS.adversarial_tokens, help="adversarial unlearning (AdvUnlearn): soft tokens attacked per concept prompt during training (default 4; 0 = plain ESD)")
    p.add_argument("--adversarial_steps", type=int, default=DEFAULTS.adversarial_steps, help="inner attack steps per iteration")
    p.add_argument("--adversarial_lr", type=float, default=DEFAULTS.adversarial_lr, help="inner attack learning rate")
    p.add_argument("--device", default="cpu")
    p.add_argument("--save_full", action="store_true", help="also store the frozen base weights in latest.tar")
    p.add_argument("--out_root", type=Path, default=None, help="checkpoint root (default: checkpoints/)")
    return p


def config_from_args(args) -> UnlearnConfig:
    spec = LoraSpec(rank=args.lora_rank, alpha=args.lora_alpha, dropout=args.lora_dropout, preset=args.targets).validated()
    cfg = UnlearnConfig(
        concept=args.target_concept,
        extra_prompts=tuple(args.prompts),
        negative_guidance=args.negative_guidance,
        anchor=args.anchor,
        lr=args.unlearn_lr,
        batch_size=args.batch_size,
        method=args.method,
        lora=spec,
        retain_prompts=tuple(args.retain_prompts),
        preserve_weight=args.preserve_weight,
        seed=args.seed,
        scheduler=args.scheduler,
        rollout_steps=args.rollout_steps,
        adversarial_tokens=args.adversarial_tokens,
        adversarial_steps=args.adversarial_steps,
        adversarial_lr=args.adversarial_lr,
    )
    n_prompts = len(concept_prompts(cfg.concept, cfg.extra_prompts, cfg.paraphrases))
    iterations = args.iterations if args.iterations is not None else iterations_for(args.unlearn_epochs, n_prompts, cfg.batch_size)
    return dataclasses.replace(cfg, iterations=iterations).validated()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        options = MethodOptions(data=args.data, forget_weight=args.forget_weight, uce_erase_scale=args.uce_erase_scale, uce_lambda=args.uce_lambda, negation_scale=args.negation_scale).validated(config.method)
        bar = tqdm(total=config.iterations, desc=f"unlearn {concept_key(config.concept)}", mininterval=1)

        def show(event: TrainEvent) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{event.loss:.4f}")

        if config.method == "uce":  # one closed-form step
            bar.total = 1
        out = unlearn_to_folder(base_name=args.name, config=config, out_root=args.out_root, device=args.device, save_full=args.save_full, on_event=show, options=options)
        bar.close()
    except (ValueError, FileNotFoundError, SaveError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
