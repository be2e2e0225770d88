"""Where checkpoints live and how a name becomes a folder: local first, then a Hugging Face Hub repo.

Layout (the research code's): checkpoints/t2m/<base name>/ for the denoiser,
checkpoints/t2m/<base name>_LoRA_<concept>/ for adapters, checkpoints/evaluator/ for the evaluator.
Set MOTION_LORA_CHECKPOINTS to use another local root, and MOTION_LORA_HUB_REPO=<user>/<repo> to fetch
missing checkpoints from the Hub (cached by huggingface_hub; nothing is fetched when HF_HUB_OFFLINE=1).

Adapters trained in the app never go to the checkpoint root: they live in a separate user folder
(`user_adapter_root`), so the shipped adapters stay read-only to visitors.
"""

from __future__ import annotations

import json
import os
import re
import reprlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # motion_lora/model/ -> the repository
DATASET_NAME = "t2m"
DEFAULT_BASE = "motionbank_base"
STUDENT_SUFFIX = "_student"  # <base>_student: the few-step student distilled from <base> (motion_lora.distill)
AUTO_STUDENT = "auto"
EVALUATOR = "evaluator"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
WEIGHTS_FILE, CONFIG_FILE = "model.safetensors", "config.json"  # every model folder: weights beside their config


def read_weights(path: Path, device: str = "cpu") -> dict:
    """A safetensors file as a dict of tensors (never pickle); a truncated or corrupt file is a ValueError
    that names it."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device=str(device))
    except Exception as err:  # safetensors raises its own error type for bad headers and short files
        raise ValueError(f"{path} is corrupt or truncated ({err}); restore it or retrain") from err


def save_model_files(state: dict, config: dict, directory: str | Path, dtype=None) -> Path:
    """A model's state dict (safetensors; cast to `dtype` when given) and its config dict (config.json) into
    `directory`, which is made if missing."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: (v.detach().to(dtype) if dtype is not None else v.detach()).cpu().contiguous() for k, v in state.items()}
    save_file(tensors, str(directory / WEIGHTS_FILE))
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=1, sort_keys=True) + "\n")
    return directory


def read_model_files(directory: str | Path, missing: str, device: str = "cpu") -> tuple[dict, dict]:
    """(config dict, state dict) of a folder written by `save_model_files`; a missing file is a
    FileNotFoundError that names it and ends with `missing` (what the folder should have been)."""
    directory = Path(directory)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"no {name} in {directory}{missing}")
    return read_json(directory / CONFIG_FILE), read_weights(directory / WEIGHTS_FILE, device)


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}); restore it or retrain") from err


def checkpoint_root() -> Path:
    return Path(os.environ.get("MOTION_LORA_CHECKPOINTS", REPO_ROOT / "checkpoints"))


def user_adapter_root() -> Path:
    """Where the app keeps visitors' adapters: MOTION_LORA_USER_DIR, else Spaces' persistent /data when it is
    writable, else the user's cache folder (XDG_CACHE_HOME or ~/.cache). Never inside the checkpoint root."""
    if os.environ.get("MOTION_LORA_USER_DIR"):
        return Path(os.environ["MOTION_LORA_USER_DIR"])
    if Path("/data").is_dir() and os.access("/data", os.W_OK):
        return Path("/data/motion_lora")
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "motion_lora" / "user_adapters"


def check_name(name: str, what: str = "checkpoint") -> str:
    """Names become folder names: letters, digits, '_', '-', '.', no path separators, no '..'."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise ValueError(f"invalid {what} name {reprlib.repr(name)}: use letters, digits, '_', '-' and '.' only (at most 100 characters)")
    return name


def _from_hub(relative: str) -> Path | None:
    """Download checkpoints/<relative>/ from the Hub repo named by MOTION_LORA_HUB_REPO, or None."""
    repo = os.environ.get("MOTION_LORA_HUB_REPO")
    if not repo:
        return None
    from huggingface_hub import snapshot_download

    try:
        root = snapshot_download(repo_id=repo, allow_patterns=[f"checkpoints/{relative}/*"])
    except Exception as err:  # offline, missing repo, network: report below with the local miss
        raise FileNotFoundError(f"checkpoint {relative!r} is not in {checkpoint_root()} and could not be fetched from the Hub repo {repo}: {err}") from err
    path = Path(root) / "checkpoints" / relative
    return path if path.is_dir() else None


def resolve(relative: str, marker: str) -> Path:
    """The folder checkpoints/<relative> holding `marker`, local first, then the Hub; else a clear error."""
    local = checkpoint_root() / relative
    if (local / marker).is_file():
        return local
    fetched = _from_hub(relative)
    if fetched is not None and (fetched / marker).is_file():
        return fetched
    hint = "set MOTION_LORA_HUB_REPO to fetch it from the Hub" if not os.environ.get("MOTION_LORA_HUB_REPO") else "the Hub repo does not have it either"
    raise FileNotFoundError(f"checkpoint not found: {local} has no {marker} ({hint})")


def resolve_base(name_or_path: str = DEFAULT_BASE) -> Path:
    """A denoiser folder from a base name (checkpoints/t2m/<name>) or an explicit folder path."""
    path = Path(name_or_path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} is not a denoiser checkpoint (no config.json)")
        return path
    return resolve(f"{DATASET_NAME}/{check_name(name_or_path, 'base checkpoint')}", "config.json")


def resolve_student(base: str = DEFAULT_BASE, student: str | None = AUTO_STUDENT) -> Path | None:
    """The few-step student folder that serves beside `base`: AUTO_STUDENT = `<base>_student` (next to a base given
    as a folder, else by name) when there is one; None or 'none' = no student; otherwise a name or folder."""
    if student is None or student.strip().lower() in ("", "none"):
        return None
    if student != AUTO_STUDENT:
        return resolve_base(student)
    name = f"{Path(base).name}{STUDENT_SUFFIX}"
    beside = Path(base).parent / name
    if Path(base).is_dir():
        return beside if (beside / "config.json").is_file() else None
    try:
        return resolve_base(name)
    except FileNotFoundError:
        return None


def resolve_evaluator(name_or_path: str = EVALUATOR) -> Path:
    path = Path(name_or_path)
    if path.is_dir():
        return path
    return resolve(check_name(name_or_path, "evaluator"), "config.json")
