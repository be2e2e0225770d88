import os

os.environ["HF_HUB_OFFLINE"] = "1"  # read once when transformers is imported: set before any import
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import json
import math
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from motion_lora.data.clip import CONCEPTS
from motion_lora.evaluation.evaluator import (
    Evaluator,
    EvaluatorConfig,
    contrastive_loss,
    embed_dataset,
    evaluation_metrics,
    main,
    train_evaluator,
)

TINY = EvaluatorConfig(hidden=32, layers=1, heads=2, ff_mult=2, embed_dim=32, dropout=0.0)
NAMES = ("walk", "kick", "wave", "jump")  # synthetic concepts, labelled 0..3
PHRASES = ("a person does a {}", "someone performs a {}", "the figure will {} now")


class FakeMotions(Dataset):
    """Items like MotionDataset's: concept c is a sine of its own frequency on its own block of features."""

    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng(seed)
        self.items = []
        for i in range(n):
            c = i % len(NAMES)
            length = int(rng.integers(10, 50)) * 4
            t = np.arange(length)[:, None]
            motion = np.zeros((196, 263), np.float32)
            motion[:length] = 0.3 * rng.normal(size=(length, 263))
            motion[:length, c * 20 : (c + 1) * 20] += np.sin(t * (0.2 + 0.3 * c) + rng.uniform(0, 6)).astype(np.float32)
            caption = PHRASES[int(rng.integers(len(PHRASES)))].format(NAMES[c])
            self.items.append(dict(motion=torch.from_numpy(motion), length=length, caption=caption, concept=c, fine=NAMES[c], id=f"m{i}"))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class FakeTextEncoder:
    """Bag of hashed random word vectors, L2-normalised: deterministic and instant (no MiniLM load)."""

    dim = 384

    def encode(self, texts):
        vecs = []
        for text in texts:
            words = [torch.randn(384, generator=torch.Generator().manual_seed(zlib.crc32(w.encode()))) for w in text.split()]
            vecs.append(torch.stack(words).mean(0))
        return SimpleNamespace(pooled=F.normalize(torch.stack(vecs), dim=-1))


@pytest.fixture(scope="module")
def data():
    return FakeMotions(96, seed=0), FakeMotions(64, seed=1)


def test_shapes_and_unit_norm():
    torch.manual_seed(0)
    model = Evaluator(TINY).eval()
    motion, lengths = torch.randn(3, 196, 263), torch.tensor([40, 100, 196])
    m = model.encode_motion(motion, lengths)
    t = model.encode_text(F.normalize(torch.randn(3, 384), dim=-1))
    assert m.shape == (3, 32) and t.shape == (3, 32)
    torch.testing.assert_close(m.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(t.norm(dim=-1), torch.ones(3))
    assert model.concept_logits(motion, lengths).shape == (3, len(CONCEPTS))


def test_default_size():
    model = Evaluator()
    assert 2_000_000 < model.num_params() < 3_000_000
    assert model.encode_motion(torch.zeros(1, 196, 263), torch.tensor([196])).shape == (1, 512)


def test_padding_does_not_matter():
    torch.manual_seed(0)
    model = Evaluator(TINY).eval()
    length = 84
    motion = torch.randn(1, 196, 263)
    garbage = motion.clone()
    garbage[:, length:] = 100.0  # whatever lies past the length must be ignored
    cropped = motion[:, :length]  # and so must the amount of padding
    lengths = torch.tensor([length])
    ref = model.encode_motion(motion, lengths)
    torch.testing.assert_close(model.encode_motion(garbage, lengths), ref)
    torch.testing.assert_close(model.encode_motion(cropped, lengths), ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(model.concept_logits(garbage, lengths), model.concept_logits(motion, lengths))


def test_batch_items_independent():
    torch.manual_seed(0)
    model = Evaluator(TINY).eval()
    motion, lengths = torch.randn(2, 196, 263), torch.tensor([40, 196])
    both = model.encode_motion(motion, lengths)
    torch.testing.assert_close(both[0:1], model.encode_motion(motion[:1], lengths[:1]), atol=1e-5, rtol=1e-5)


def test_save_load_roundtrip(tmp_path):
    torch.manual_seed(0)
    model = Evaluator(TINY).eval()
    model.save(tmp_path / "ckpt")
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["config.json", "model.safetensors"]
    assert json.loads((tmp_path / "ckpt" / "config.json").read_text())["hidden"] == 32
    loaded = Evaluator.load(tmp_path / "ckpt")
    assert loaded.config == TINY
    motion, lengths = torch.randn(2, 196, 263), torch.tensor([40, 120])
    torch.testing.assert_close(loaded.encode_motion(motion, lengths), model.encode_motion(motion, lengths))
    with pytest.raises(FileNotFoundError):
        Evaluator.load(tmp_path / "missing")


def test_config_is_keyword_only_and_strict():
    with pytest.raises(TypeError):
        EvaluatorConfig(263)
    with pytest.raises(ValueError):
        EvaluatorConfig.from_dict({"hiddn": 3})


def test_contrastive_distinct_captions_is_clip_loss():
    torch.manual_seed(0)
    t, m = F.normalize(torch.randn(5, 8), dim=-1), F.normalize(torch.randn(5, 8), dim=-1)
    scale = torch.tensor(math.log(10.0))
    logits = 10.0 * t @ m.T
    want = (F.cross_entropy(logits, torch.arange(5)) + F.cross_entropy(logits.T, torch.arange(5))) / 2
    torch.testing.assert_close(contrastive_loss(t, m, list("abcde"), scale), want)


def test_contrastive_same_caption_pairs_are_positives():
    # captions a, a, b: the two "a" motions are both right for either "a" text, so each gets half the target.
    torch.manual_seed(0)
    t, m = F.normalize(torch.randn(3, 8), dim=-1), F.normalize(torch.randn(3, 8), dim=-1)
    logits = 5.0 * t @ m.T
    target = torch.tensor([[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1.0]])
    want = (-(target * logits.log_softmax(1)).sum(1).mean() - (target * logits.T.log_softmax(1)).sum(1).mean()) / 2
    got = contrastive_loss(t, m, ["a", "a", "b"], torch.tensor(math.log(5.0)))
    torch.testing.assert_close(got, want)
    # perfect embeddings with a duplicated caption: each "a" row splits evenly between 2 motions -> 2/3 log 2
    e = torch.eye(3)[[0, 0, 1]]
    assert contrastive_loss(e, e, ["a", "a", "b"], torch.tensor(math.log(100.0))).item() == pytest.approx(2 / 3 * math.log(2), abs=1e-4)


def test_training_learns_and_metrics(data):
    train, val = data
    model = train_evaluator(train, val, config=TINY, steps=60, batch_size=16, lr=3e-3, seed=0, text_encoder=FakeTextEncoder(), log_every=0)
    assert not model.training
    m = evaluation_metrics(embed_dataset(model, val, FakeTextEncoder()), seed=0)
    assert m["concept_top1"] > 0.8  # chance 0.25
    assert m["r_precision_top3"] > 3 / 32 * 2  # well above chance (captions only name 4 concepts)
    assert m["r_precision_top1"] <= m["r_precision_top2"] <= m["r_precision_top3"]


def test_training_is_deterministic(data):
    train, _ = data
    runs = [train_evaluator(train, None, config=TINY, steps=8, batch_size=16, lr=1e-3, seed=3, text_encoder=FakeTextEncoder(), log_every=0) for _ in range(2)]
    for (k, a), (_, b) in zip(runs[0].state_dict().items(), runs[1].state_dict().items()):
        assert torch.equal(a, b), k
    other = train_evaluator(train, None, config=TINY, steps=8, batch_size=16, lr=1e-3, seed=4, text_encoder=FakeTextEncoder(), log_every=0)
    assert not torch.equal(other.text_head[0].weight, runs[0].text_head[0].weight)


def test_training_resumes_from_its_state_file(data, tmp_path):
    """An interrupted run picks up at its last saved step and ends where an uninterrupted run ends."""
    train, _ = data
    kwargs = dict(config=TINY, steps=8, batch_size=16, lr=1e-3, seed=3, text_encoder=FakeTextEncoder(), log_every=0)
    whole = train_evaluator(train, None, **kwargs)
    state = tmp_path / "train_state.pt"
    train_evaluator(train, None, state_path=state, ckpt_every=4, **kwargs)  # leaves the step-4 state behind
    assert torch.load(state, weights_only=True)["step"] == 4
    logs = []
    resumed = train_evaluator(train, None, state_path=state, ckpt_every=4, log=logs.append, **kwargs)
    assert logs == [f"resumed from {state} at step 4"]
    for (k, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), k


def test_unknown_concepts_are_ignored():
    ds = FakeMotions(16, seed=2)
    for it in ds.items:
        it["concept"] = -1
    model = train_evaluator(ds, None, config=TINY, steps=2, batch_size=8, seed=0, text_encoder=FakeTextEncoder(), log_every=0)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_cli_writes_checkpoint_and_metrics(tmp_path, data):
    train, val = data
    out = tmp_path / "evaluator"
    logged = main(
        ["--data", "unused", "--out", str(out), "--steps", "5", "--batch-size", "16", "--log-every", "5"],
        splits=(train, val, val), text_encoder=FakeTextEncoder(), config=TINY,
    )
    written = json.loads((out / "metrics.json").read_text())
    assert written == logged
    assert {"concept_top1", "r_precision_top1", "r_precision_top2", "r_precision_top3"} <= set(written["test"])
    assert Evaluator.load(out).config == TINY


def test_cli_measure_only_remeasures_without_training(tmp_path, data):
    train, val = data
    out = tmp_path / "evaluator"
    argv = ["--data", "unused", "--out", str(out), "--steps", "5", "--batch-size", "16", "--log-every", "0"]
    trained = main(argv, splits=(train, val, val), text_encoder=FakeTextEncoder(), config=TINY)
    weights = (out / "model.safetensors").read_bytes()
    smaller_test = torch.utils.data.Subset(val, range(len(val) // 2))
    measured = main(argv + ["--measure-only"], splits=(train, val, smaller_test), text_encoder=FakeTextEncoder(), config=TINY)
    assert (out / "model.safetensors").read_bytes() == weights
    assert measured["test"]["num_items"] == len(smaller_test) < trained["test"]["num_items"]
    assert measured["steps"] == trained["steps"] and json.loads((out / "metrics.json").read_text()) == measured
    with pytest.raises(SystemExit, match="retrain"):  # other training data: the old weights do not describe it
        main(argv + ["--measure-only"], splits=(smaller_test, val, val), text_encoder=FakeTextEncoder(), config=TINY)


def _write_layout(root, n=48):
    """A tiny folder in the HumanML3D layout that MotionDataset reads."""
    for d in ("new_joint_vecs", "texts", "labels"):
        (root / d).mkdir(parents=True)
    rng = np.random.default_rng(0)
    splits = {"train": [], "val": [], "test": []}
    for i in range(n):
        c = i % len(NAMES)
        clip = f"{i:04d}"
        np.save(root / "new_joint_vecs" / f"{clip}.npy", rng.normal(size=(int(rng.integers(45, 120)), 263)).astype(np.float32))
        (root / "texts" / f"{clip}.txt").write_text(f"a person does a {NAMES[c]}#a/DET#0.0#0.0\n")
        (root / "labels" / f"{clip}.json").write_text(json.dumps({"concept": NAMES[c], "fine": NAMES[c]}))
        splits["train" if i < n // 2 else "val" if i < 3 * n // 4 else "test"].append(clip)
    for split, clips in splits.items():
        (root / f"{split}.txt").write_text("\n".join(clips) + "\n")
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))


def test_cli_on_motion_dataset(tmp_path):
    pytest.importorskip("motion_lora.data.dataset")
    _write_layout(tmp_path / "bank")
    out = tmp_path / "evaluator"
    argv = ["--data", str(tmp_path / "bank"), "--out", str(out), "--steps", "3", "--batch-size", "8", "--log-every", "0"]
    result = main(argv, text_encoder=FakeTextEncoder(), config=TINY)
    assert result["train_items"] == 24 and result["test"]["num_items"] == 12
    assert 0.0 <= result["test"]["concept_top1"] <= 1.0
