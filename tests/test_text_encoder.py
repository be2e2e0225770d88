import os

os.environ["HF_HUB_OFFLINE"] = "1"  # read once when transformers is imported: set before any import
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest
import torch

from motion_lora.model.text_encoder import TextBatch, TextEncoder, mean_pool, model_dir


@pytest.fixture(scope="module")
def encoder():
    return TextEncoder(max_length=32, cache_size=8)


def _cos(a, b):
    return float((a * b).sum())  # pooled vectors are unit length


def test_model_dir_has_weights():
    d = model_dir()
    assert (d / "model.safetensors").is_file() and (d / "tokenizer.json").is_file()


def test_offline_flags_set():
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_semantics(encoder):
    b = encoder.encode(["a person kicks with the right leg", "someone performs a kick", "a person waves"])
    kick_kick = _cos(b.pooled[0], b.pooled[1])
    kick_wave = _cos(b.pooled[0], b.pooled[2])
    assert kick_kick > kick_wave + 0.2
    assert 0.6 < kick_kick < 0.9 and kick_wave < 0.45  # reference values ~0.75 and ~0.28


def test_shapes_mask_and_pooling(encoder):
    texts = ["walk", "a person walks forward slowly and then turns around to the left"]
    b = encoder.encode(texts)
    assert isinstance(b, TextBatch)
    L = b.tokens.shape[1]
    assert b.tokens.shape == (2, L, 384) and b.tokens.dtype == torch.float32
    assert b.mask.shape == (2, L) and b.mask.dtype == torch.bool
    assert b.pooled.shape == (2, 384)
    assert b.mask[1].all()  # the longest prompt fills the batch
    assert b.mask[0].sum() == 3  # [CLS] walk [SEP]
    assert (b.tokens[0, 3:] == 0).all()
    torch.testing.assert_close(b.pooled.norm(dim=-1), torch.ones(2))
    torch.testing.assert_close(mean_pool(b.tokens, b.mask), b.pooled)


def test_truncation(encoder):
    b = encoder.encode(["jump " * 100])
    assert b.tokens.shape[1] == 32


def test_cache_hit_identical(encoder):
    encoder.clear_cache()
    first = encoder.encode(["a person claps", "a person bows"])
    misses = encoder.misses
    again = encoder.encode(["a person bows", "a person claps", "a person claps"])
    assert encoder.misses == misses  # nothing re-encoded
    assert torch.equal(again.pooled[0], first.pooled[1])
    assert torch.equal(again.pooled[1], first.pooled[0]) and torch.equal(again.pooled[2], first.pooled[0])
    n = int(first.mask[0].sum())
    assert torch.equal(again.tokens[1, :n], first.tokens[0, :n])


def test_cache_is_bounded(encoder):
    encoder.clear_cache()
    encoder.encode([f"a person jumps {i} times" for i in range(12)])
    assert len(encoder._cache) == 8


def test_cache_is_bounded_by_bytes(encoder):
    """A server sees ever new prompts: with a byte cap the cache holds what fits it, however many the count cap allows."""
    encoder.clear_cache()
    encoder.cache_limit = 40_000  # about three short prompts' token states (~12 KB each)
    try:
        prompts = [f"a person jumps {i} times" for i in range(6)]
        for p in prompts:
            encoder.encode([p])
        held = list(encoder._cache.values())
        assert encoder.cache_bytes == sum(t.numel() * t.element_size() for item in held for t in item) <= 40_000
        assert 1 <= len(held) < len(prompts) <= encoder.cache_size
        misses = encoder.misses
        encoder.encode([prompts[-1]])  # the newest one is kept (least recently used go first)
        assert encoder.misses == misses
    finally:
        encoder.cache_limit = None
        encoder.clear_cache()
    assert encoder.cache_bytes == 0


def test_cache_size_must_be_a_size():
    with pytest.raises(ValueError, match="text cache size"):
        TextEncoder(cache_mb=-1)


def test_batched_matches_single(encoder):
    encoder.clear_cache()
    together = encoder.encode(["a person runs", "a person crawls on the floor slowly"]).pooled
    encoder.clear_cache()
    alone = encoder.encode(["a person runs"]).pooled
    torch.testing.assert_close(together[0], alone[0], atol=1e-5, rtol=1e-5)


def test_bad_input(encoder):
    with pytest.raises(ValueError):
        encoder.encode([])
    with pytest.raises(TypeError):
        encoder.encode(["ok", 3])
    with pytest.raises(TypeError):
        encoder.encode("a single string")


def test_matches_sentence_transformers(encoder):
    st = pytest.importorskip("sentence_transformers")
    ref = st.SentenceTransformer(str(model_dir()), device="cpu")
    texts = ["a person kicks with the right leg", "someone waves both hands"]
    want = torch.as_tensor(ref.encode(texts, convert_to_numpy=True))
    torch.testing.assert_close(encoder.encode(texts).pooled, want, atol=1e-5, rtol=1e-4)
