"""A full disk and broken files: a training whose save fails (ENOSPC injected at the writers, partway through a
file) is a clear error that publishes nothing and keeps the previous version of the adapter; an adapter folder with
a truncated weight file or an unusable adapter.json is skipped with its reason (logged, and named in the pickers'
help line), and the lab and the app start and serve without it.

Everything runs on the tiny checkpoints of conftest.py (`private_root`: a copy without other tests' adapters).
"""

from __future__ import annotations

import errno
import importlib
import json
import logging
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import compare_works, running_app

from motion_lora.unlearning.adapters import LoraSpec
from motion_lora.unlearning.unlearn import UnlearnConfig

FAST = UnlearnConfig(concept="kick", iterations=4, batch_size=1, frames=40, rollout_steps=2, paraphrases=2, adversarial_tokens=0,
                     lora=LoraSpec(rank=2, alpha=2.0))
GOOD = "tiny_base_LoRA_kick"

# what is being written when the disk fills up: (module, function, the file it writes, from its arguments)
WRITERS = {
    "weights": ("peft.peft_model", "safe_save_file", lambda args: Path(args[1])),
    "latest.tar": ("torch", "save", lambda args: Path(args[1])),
    "ownership record": ("motion_lora.serving.service", "write_owner_record", lambda args: Path(args[0]) / "owner.json"),
}


def leftovers(root: Path) -> list[str]:
    """Staging or half-replaced folders in an adapter root (names starting with a dot)."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".")) if root.is_dir() else []


def tree_digest(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fill_disk_at(mp: pytest.MonkeyPatch, writer: str) -> None:
    """Make `writer` get half of its file onto the disk, then fail as a full disk does."""
    module_name, attr, written = WRITERS[writer]
    module = importlib.import_module(module_name)
    real = getattr(module, attr)

    def half_then_full(*args, **kwargs):
        real(*args, **kwargs)
        path = written(args)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    mp.setattr(module, attr, half_then_full)


# ---------------------------------------------------------------------------------------------- full disk


def test_save_failure_messages():
    from motion_lora.unlearning.train import SaveError, save_failure

    full = save_failure(OSError(errno.ENOSPC, "No space left on device"), "kick", kept=True)
    assert isinstance(full, SaveError) and isinstance(full, OSError)
    assert str(full) == "could not save the adapter kick: No space left on device (free some space, or delete adapters you no longer need); the previous version is kept"
    assert str(save_failure(OSError(errno.EROFS, "Read-only file system"), "kick", kept=False)) == "could not save the adapter kick: Read-only file system; nothing was saved"
    assert str(save_failure(OSError("odd failure"), "kick", kept=False)).endswith("odd failure; nothing was saved")


@pytest.mark.parametrize("writer", list(WRITERS))
def test_full_disk_while_retraining_keeps_the_previous_version(lab, writer):
    """Retraining an adapter when the disk fills up partway through one of its files: a clear error, no partial
    folder, and the previous version byte-identical, loaded, serving, and loadable by a fresh lab (owner included)."""
    from motion_lora.serving.service import LOCAL_OWNER, MotionLab
    from motion_lora.unlearning.train import SaveError

    folder = lab.unlearn(FAST, threading.Event()).path
    before = tree_digest(folder)
    with pytest.MonkeyPatch.context() as mp:
        fill_disk_at(mp, writer)
        with pytest.raises(SaveError) as err:
            lab.unlearn(replace(FAST, iterations=5), threading.Event(), replace_adapter="kick")
    assert str(err.value).startswith(f"could not save the adapter {GOOD}: No space left on device")
    assert str(err.value).endswith("the previous version is kept")
    assert leftovers(lab.user_root) == [] and sorted(p.name for p in lab.user_root.iterdir()) == [GOOD]
    assert tree_digest(folder) == before
    assert [i.meta["iterations"] for i in lab.list_adapters()] == [4]  # the loaded copy is the previous one too
    compare_works(lab)
    fresh = MotionLab(base="tiny_base", user_dir=lab.user_root.parent)
    assert fresh.broken_adapters() == [] and [i.meta["iterations"] for i in fresh.list_adapters()] == [4]
    assert fresh.owned("kick", LOCAL_OWNER, "retrain").name == GOOD
    compare_works(fresh)


def test_full_disk_on_a_new_adapter_is_a_message_in_the_app_and_saves_nothing(lab, monkeypatch):
    """The app's path (iterate_training in a thread, ui.user_errors): a visible error naming the cause, no traceback,
    no folder; the lab trains fine once there is space again."""
    import gradio as gr

    from motion_lora.serving import ui
    from motion_lora.serving.service import iterate_training

    monkeypatch.setenv("MOTION_LORA_TRAINING_NICE", "0")  # full priority: a busy test machine must not starve it
    handler = ui.user_errors(lambda: list(iterate_training(lab, FAST, threading.Event())))
    with pytest.MonkeyPatch.context() as mp:
        fill_disk_at(mp, "weights")
        with pytest.raises(gr.Error) as err:
            handler()
    assert err.value.title == "Could not write files" and err.value.print_exception is False
    assert str(err.value.message) == (f"could not save the adapter {GOOD}: No space left on device (free some space, or delete adapters you "
                                      "no longer need); nothing was saved")
    assert not lab.user_root.exists() or list(lab.user_root.iterdir()) == []
    assert lab.list_adapters() == [] and lab.broken_adapters() == [] and lab.adapters.names == []
    assert lab.unlearn(FAST, threading.Event()).concept == "kick"
    compare_works(lab)


def test_publish_puts_the_old_adapter_back_when_the_swap_fails(tmp_path, monkeypatch):
    """The last step of a save is two renames; if the second fails, the old adapter is back under its name."""
    import os

    from motion_lora.unlearning.train import publish

    final, staging = tmp_path / "a", tmp_path / ".a.partial-1-1"
    for folder, text in ((final, "old"), (staging, "new")):
        folder.mkdir()
        (folder / "adapter.json").write_text(text)
    real = os.replace

    def refuse_the_new_one(src, dst):
        if Path(src) == staging:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", refuse_the_new_one)
    with pytest.raises(OSError, match="No space left"):
        publish(staging, final)
    assert (final / "adapter.json").read_text() == "old" and not (tmp_path / ".a.old").exists()


# ---------------------------------------------------------------------------------------------- broken files


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def edited_meta(**fields):
    """adapter.json with `fields` changed (None removes one): valid JSON with wrong or missing fields."""
    def edit(data: bytes) -> bytes:
        meta = json.loads(data)
        for key, value in fields.items():
            meta.pop(key) if value is None else meta.__setitem__(key, value)
        return json.dumps(meta).encode()

    return edit


# adapter folder (tiny_base_LoRA_<case>) -> (damaged file, how, what its reason says)
BROKEN = {
    "truncated": ("model/adapter_model.safetensors", truncated, "model/adapter_model.safetensors is corrupt or truncated"),
    "badjson": ("adapter.json", truncated, "adapter.json is not valid JSON"),
    "notobject": ("adapter.json", lambda data: b'["kick"]', "adapter.json is not a JSON object"),
    "noconcept": ("adapter.json", edited_meta(concept=None), "adapter.json names no concept"),
    "numberconcept": ("adapter.json", edited_meta(concept=5), "adapter.json names no concept"),
    "badretain": ("adapter.json", edited_meta(retain_prompts="a person walks"), "adapter.json has retain_prompts that are not a list"),
    "badweight": ("adapter.json", edited_meta(preserve_weight="high"), "adapter.json has a preserve_weight that is not a number"),
}


@pytest.fixture(scope="module")
def good_adapter(tiny_root, tmp_path_factory) -> Path:
    """One real tiny adapter folder (trained once for this module), to copy and damage."""
    from motion_lora.unlearning.train import unlearn_to_folder

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTION_LORA_CHECKPOINTS", str(tiny_root))
        mp.delenv("MOTION_LORA_HUB_REPO", raising=False)
        return unlearn_to_folder(base_name="tiny_base", config=FAST, out_root=tmp_path_factory.mktemp("good"))


def user_folders(good_adapter: Path, user: Path, cases) -> Path:
    """A visitors' folder holding the good adapter and a damaged copy of it per case; returns its t2m folder."""
    root = user / "t2m"
    shutil.copytree(good_adapter, root / GOOD)
    for case in cases:
        file, how, _ = BROKEN[case]
        shutil.copytree(good_adapter, root / f"tiny_base_LoRA_{case}")
        path = root / f"tiny_base_LoRA_{case}" / file
        path.write_bytes(how(path.read_bytes()))
    return root


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_adapter_is_skipped_with_its_reason(private_root, good_adapter, tmp_path, caplog, case):
    from motion_lora.serving import ui
    from motion_lora.serving.service import MotionLab
    from motion_lora.serving.ui.pickers import adapter_label, broken_note, picker_info

    root = user_folders(good_adapter, tmp_path / "user", [case])
    with caplog.at_level(logging.WARNING, logger="motion_lora.serving.library"):
        lab = MotionLab(base="tiny_base", user_dir=tmp_path / "user")
        lab.refresh_adapters()  # a refresh does not retry or log it again
    [(folder, reason)] = lab.broken_adapters()
    assert folder == root / f"tiny_base_LoRA_{case}" and BROKEN[case][2] in reason, reason
    assert str(tmp_path) not in reason  # visitors see file names, not the server's folders
    assert [r.getMessage() for r in caplog.records if r.name == "motion_lora.serving.library"] == [f"skipped the broken adapter {folder}: {reason}"]
    assert [i.short for i in lab.list_adapters()] == ["kick"]
    compare_works(lab)
    with pytest.raises(ValueError, match="broken and was not loaded"):
        lab.compare("a person kicks", [case], frames=20, steps=2)
    assert ui.adapter_choices(lab, "session:x") == [(adapter_label(lab.infos[GOOD], "session:x"), "kick")]
    assert ui.own_choices(lab, "session:x") == []
    assert broken_note(lab).startswith(f"not loaded (broken files): {case} (")
    assert picker_info(lab, "several adapters are combined") == f"several adapters are combined · {broken_note(lab)}"
    assert lab.user_usage()[0] == 2  # the cap still counts it: it takes space


def test_a_damaged_ownership_record_still_lists_the_adapter(private_root, good_adapter, tmp_path):
    """owner.json that is JSON but not an object: a user adapter nobody can claim, not a crash of the cap's count."""
    from motion_lora.serving.service import MotionLab

    root = user_folders(good_adapter, tmp_path / "user", [])
    (root / GOOD / "owner.json").write_text("[]")
    lab = MotionLab(base="tiny_base", user_dir=tmp_path / "user")
    assert lab.broken_adapters() == [] and [(i.short, i.owner, i.made_by("local")) for i in lab.list_adapters()] == [("kick", None, "another visitor")]
    assert lab.user_usage()[0] == 1
    compare_works(lab)


def test_a_removed_or_repaired_broken_folder_is_forgotten_or_loaded(private_root, good_adapter, tmp_path):
    from motion_lora.serving.service import MotionLab
    from motion_lora.serving.ui.pickers import broken_note

    root = user_folders(good_adapter, tmp_path / "user", ["truncated", "badjson"])
    lab = MotionLab(base="tiny_base", user_dir=tmp_path / "user")
    assert [f.name for f, _ in lab.broken_adapters()] == ["tiny_base_LoRA_badjson", "tiny_base_LoRA_truncated"]
    shutil.rmtree(root / "tiny_base_LoRA_badjson")
    shutil.rmtree(root / "tiny_base_LoRA_truncated")
    lab.refresh_adapters()
    assert lab.broken_adapters() == [] and broken_note(lab) == ""
    shutil.copytree(good_adapter, root / "tiny_base_LoRA_truncated")  # restored from a backup under the same name
    lab.refresh_adapters()
    assert sorted(i.short for i in lab.list_adapters()) == ["kick", "truncated"] and lab.broken_adapters() == []
    compare_works(lab, "truncated")


def test_the_app_starts_and_serves_with_broken_adapters_present(private_root, good_adapter, tmp_path):
    """The real app over a visitors' folder holding every broken case: it starts, lists and generates with the good
    adapter, names the broken ones in the pickers' help line, and answers a request for one with a message."""
    from gradio_client import Client

    user_folders(good_adapter, tmp_path / "user", list(BROKEN))
    with running_app(private_root, tmp_path, tmp_path / "user") as (url, lab, demo):
        assert sorted(f.name.removeprefix(lab.prefix) for f, _ in lab.broken_adapters()) == sorted(BROKEN)
        infos = [str(c["props"].get("info")) for c in demo.config["components"] if c.get("type") == "dropdown"]
        noted = [i for i in infos if "not loaded (broken files):" in i]  # the Compare, Sweep and Evaluate pickers
        assert len(noted) == 3 and all(f"{case} (" in i for i in noted for case in BROKEN), infos
        client = Client(url, verbose=False, download_files=False)
        assert [a["short"] for a in client.predict(api_name="/list_adapters")] == ["kick"]
        out = client.predict("a person kicks", ["kick"], 1.0, 0, 2.0, 2, 2.5, 0, "", api_name="/generate")
        assert out[4]["joints_shape"] == [2, 40, 22, 3]
        with pytest.raises(Exception, match="broken and was not loaded"):
            client.predict("a person kicks", ["truncated"], 1.0, 0, 2.0, 2, 2.5, 0, "", api_name="/generate")
