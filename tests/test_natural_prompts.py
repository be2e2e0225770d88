"""The hand-written natural prompt set: its file, its separation from every generated caption, and the
"natural" kind of the evaluation prompt sets."""

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from motion_lora.data.captions import concept_paraphrases, parse_text_line
from motion_lora.data.clip import CONCEPTS
from motion_lora.evaluation.prompts import NATURAL_FILE, STYLES, natural_prompts, normalise_text, read_natural
from motion_lora.evaluation.protocol import EvalPrompt, forget_set, present, prompt_sets, retain_set

SHIPPED_ADAPTERS = Path(__file__).resolve().parents[1] / "checkpoints" / "t2m"
MIN_PER_CONCEPT = {c: 12 for c in CONCEPTS} | {"kick": 40, "punch": 20}
MIN_SEQUENCES = 25
MIN_IMPLICIT_SHARE = 0.25  # "about a third" of each concept's single-concept prompts
PARAPHRASE_SAMPLE = 2000
# The words that name a concept (stems, matched at a word start): an implicit prompt uses none of its own.
CONCEPT_WORDS = {
    "walk": ("walk",), "run": ("run",), "jump": ("jump",), "kick": ("kick",), "punch": ("punch",),
    "wave": ("wave", "waving"), "clap": ("clap",), "raise_arms": ("raise", "raising"), "squat": ("squat",),
    "bow": ("bow",), "jumping_jacks": ("jumping jack", "jack"), "side_step": ("side step", "sidestep"),
    "turn_around": ("turn", "around"), "march": ("march",), "throw": ("throw", "threw"), "stretch": ("stretch",),
    "backflip": ("backflip", "back flip", "flip"), "cartwheel": ("cartwheel",), "crawl": ("crawl",),
    "dance": ("danc",), "get_up": ("get", "got"), "roll": ("roll",), "spin": ("spin",), "slash": ("slash",),
    "gesture": ("gestur",), "stand": ("stand",),
}


def singles(concept: str) -> list:
    return [p for p in natural_prompts(concept) if p.concepts == (concept,)]


# ---------------------------------------------------------------------------------------------- the file


def test_file_has_the_required_counts():
    prompts = natural_prompts()
    assert len(prompts) >= 360
    counts = {c: len(singles(c)) for c in CONCEPTS}
    short = {c: n for c, n in counts.items() if n < MIN_PER_CONCEPT[c]}
    assert not short, f"too few single-concept natural prompts: {short}"
    sequences = [p for p in prompts if len(p.concepts) == 2]
    assert len(sequences) >= MIN_SEQUENCES
    assert all(p.style == "sequence" for p in sequences)
    assert set(Counter(p.style for p in prompts)) == set(STYLES)


def test_implicit_prompts_never_name_their_concept():
    for concept in CONCEPTS:
        own = singles(concept)
        implicit = [p for p in own if p.style == "implicit"]
        assert len(implicit) >= MIN_IMPLICIT_SHARE * len(own), f"{concept}: {len(implicit)} implicit of {len(own)}"
        for p in implicit:
            text = " ".join(re.sub(r"[^\w\s]", " ", p.text.lower()).split())
            named = [w for w in CONCEPT_WORDS[concept] if re.search(rf"\b{w}", text)]
            assert not named, f"implicit {concept} prompt {p.text!r} names it ({named})"


def test_prompts_are_short_clean_text():
    raw = NATURAL_FILE.read_bytes().decode("utf-8")  # UTF-8 or this raises
    assert raw.splitlines()[0] == "text\tconcepts\tstyle"
    for p in natural_prompts():
        assert p.text == p.text.strip() and "#" not in p.text and "\t" not in p.text
        assert 1 <= len(p.text.split()) <= 25


def test_concept_filter():
    kick = natural_prompts("kick")
    assert kick and all("kick" in p.concepts for p in kick)
    assert any(len(p.concepts) == 2 for p in kick)
    with pytest.raises(ValueError, match="unknown concept 'kicks'"):
        natural_prompts("kicks")


def test_normalise_text():
    assert normalise_text("  A man   KICKS, then the  woman waves!") == "man kicks then woman waves"
    assert normalise_text("an apple") == "apple"


@pytest.mark.parametrize(
    "line, message",
    [
        ("someone hops\tjump,hop\tplain", r":3: unknown concept 'hop'"),
        ("  \tkick\tplain", r":3: empty prompt text"),
        ("A person: kicking!\tkick\tplain", r":3: .* duplicates line 2 once normalised"),
        ("kicks # twice\tkick\tplain", r":3: '#' in prompt text"),
        ("kicks twice\tkick", r":3: expected 3 tab-separated fields"),
        ("kicks twice\tkick\tfancy", r":3: unknown style 'fancy'"),
        ("kicks and punches\tkick,punch\tplain", r":3: style 'sequence' is for two-concept prompts"),
        ("kicks three times\tkick,kick\tsequence", r":3: a prompt names 1 to 2 different concepts"),
    ],
)
def test_bad_lines_are_named(tmp_path, line, message):
    path = tmp_path / "natural.tsv"
    path.write_text(f"text\tconcepts\tstyle\nperson kicking\tkick\tplain\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        read_natural(path)
    assert str(path) in str(err.value)


def test_bad_header_and_encoding(tmp_path):
    path = tmp_path / "natural.tsv"
    path.write_text("prompt\tconcept\nkicks\tkick\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":1: the first line must be the header"):
        read_natural(path)
    path.write_bytes("text\tconcepts\tstyle\ncaf\xe9 dance\tdance\tplain\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        read_natural(path)


# ------------------------------------------------------------------ kept apart from generated captions


@pytest.fixture(scope="module")
def bank_captions(quick_bank):
    """(training captions, held-out captions) of the quick MotionBank build, normalised."""
    root, _ = quick_bank
    train, heldout = set(), set()
    for text_file in sorted((root / "texts").glob("*.txt")):
        label = json.loads((root / "labels" / f"{text_file.stem}.json").read_text())
        held = set(label.get("heldout_captions", []))
        for i, line in enumerate(text_file.read_text().splitlines()):
            (heldout if i in held else train).add(normalise_text(parse_text_line(line)[0]))
    assert train and heldout
    return train, heldout


def sampled_paraphrases(total: int = PARAPHRASE_SAMPLE) -> set[str]:
    """`total` training-grammar paraphrases spread over all concepts (several seeds: each call is distinct
    within itself only)."""
    out, seed = set(), 0
    per_call = -(-total // len(CONCEPTS))
    while len(out) < total and seed < 20:
        for c in CONCEPTS:
            out.update(normalise_text(t) for t in concept_paraphrases(c, np.random.default_rng(seed), n=per_call))
        seed += 1
    return out


def test_no_natural_prompt_copies_a_generated_caption(bank_captions):
    train, heldout = bank_captions
    generated = train | heldout | sampled_paraphrases()
    copies = [p.text for p in natural_prompts() if normalise_text(p.text) in generated]
    assert not copies, f"natural prompts equal to generated captions once normalised: {copies}"


def test_no_heldout_caption_is_a_training_caption(bank_captions):
    train, heldout = bank_captions
    paraphrases = sampled_paraphrases()
    assert not (heldout & train), sorted(heldout & train)[:5]
    assert not (heldout & paraphrases), sorted(heldout & paraphrases)[:5]


def test_no_natural_prompt_is_an_erasure_prompt():
    from motion_lora.unlearning.unlearn import concept_prompts

    erased = {normalise_text(t) for c in CONCEPTS for t in concept_prompts(c)}
    copies = [p.text for p in natural_prompts() if normalise_text(p.text) in erased]
    assert not copies


@pytest.fixture(scope="module")
def text_encoder():
    from motion_lora.model.text_encoder import TextEncoder

    return TextEncoder(max_length=32)


@pytest.mark.parametrize("concept", ["kick", "punch"])
def test_retain_prompts_are_never_preserved_prompts(text_encoder, concept):
    from motion_lora.unlearning.unlearn import UnlearnConfig, concept_prompts, nearest_retain_prompts

    cfg = UnlearnConfig(concept=concept)
    preserved = list(cfg.retain_prompts) or nearest_retain_prompts(concept, concept_prompts(concept, cfg.extra_prompts, cfg.paraphrases), text_encoder)
    assert preserved
    sets = prompt_sets(concept, per_concept=8, natural_per_concept=None, preserved=preserved)
    used = {normalise_text(p.text) for p in sets["retain"]}
    assert not used & {normalise_text(t) for t in preserved}
    # every natural prompt of the other concepts stays apart from the preservation set, excluded or not
    natural = {normalise_text(p.text) for p in retain_set(concept, per_concept=0, natural_per_concept=None)}
    assert not natural & {normalise_text(t) for t in preserved}


def test_shipped_adapters_never_evaluate_retention_on_their_preserved_prompts():
    for meta_file in sorted(SHIPPED_ADAPTERS.glob("*_LoRA_*/adapter.json")):
        meta = json.loads(meta_file.read_text())
        preserved = {normalise_text(t) for t in meta.get("retain_prompts") or ()}
        retain = prompt_sets(meta["concept"], preserved=meta.get("retain_prompts") or ())["retain"]
        assert not {normalise_text(p.text) for p in retain} & preserved, meta_file


def test_exclusion_redraws_and_keeps_the_count():
    plain = retain_set("kick", per_concept=4, natural_per_concept=4)
    dropped = [plain[0].text, next(p.text for p in plain if p.kind == "natural_retain")]
    kept = retain_set("kick", per_concept=4, natural_per_concept=4, exclude=[t.upper() + "!" for t in dropped])
    assert len(kept) == len(plain)
    assert not {normalise_text(t) for t in dropped} & {normalise_text(p.text) for p in kept}


# ---------------------------------------------------------------------------- the natural kind in sets


def test_forget_set_holds_every_natural_prompt_of_the_target():
    prompts = forget_set("kick", per_kind=2)
    natural = [p for p in prompts if p.kind == "natural"]
    assert [p.text for p in natural] == [p.text for p in natural_prompts("kick")]
    assert all(p.concept == "kick" and "kick" in (p.concepts or ("kick",)) for p in natural)
    assert {p.top_k for p in natural if len(p.concepts) == 2} == {2}
    assert {p.top_k for p in natural if len(p.concepts) == 1} == {1}
    assert len([p for p in forget_set("kick", per_kind=2, natural=5) if p.kind == "natural"]) == 5
    assert not [p for p in forget_set("kick", per_kind=2, natural=0) if p.kind == "natural"]


def test_retain_set_holds_single_concept_natural_prompts_of_the_others():
    every = [p for p in retain_set("punch", per_concept=1, natural_per_concept=None) if p.kind == "natural_retain"]
    expected = [p.text for c in CONCEPTS if c != "punch" for p in singles(c)]
    assert sorted(p.text for p in every) == sorted(expected)
    assert all(p.concept != "punch" and p.top_k == 1 for p in every)
    capped = Counter(p.concept for p in retain_set("punch", per_concept=1, natural_per_concept=4) if p.kind == "natural_retain")
    assert capped == {c: 4 for c in CONCEPTS if c != "punch"}


def test_presence_rule_for_natural_sequences():
    probs = np.zeros((2, len(CONCEPTS)))
    probs[:, CONCEPTS.index("walk")], probs[:, CONCEPTS.index("kick")] = 0.6, 0.3  # kick ranks second
    sequence = EvalPrompt("walks forward then kicks with the right foot", "kick", "natural", ("walk", "kick"))
    single = EvalPrompt("kick kick kick!", "kick", "natural", ("kick",))
    assert present(probs, [sequence, single]).tolist() == [True, False]


# ------------------------------------------------------------------------------------- the two CLIs


def test_eval_base_natural_items_lengths_and_left_out_concepts():
    from motion_lora.evaluation.eval_base import NATURAL_DEFAULT_FRAMES, natural_hits, natural_items

    walk, kick = CONCEPTS.index("walk"), CONCEPTS.index("kick")
    test_items = [{"concept": walk, "length": n, "kind": "train"} for n in (80, 120, 160)] + [{"concept": kick, "length": 60, "kind": "heldout"}, {"concept": kick, "length": 196, "kind": "composite"}]
    items, left_out = natural_items(test_items, known_concepts=23)
    assert left_out == ["slash", "gesture", "stand"]
    assert not [it for it in items if max(it["concepts"]) >= 23]
    by_text = {it["caption"]: it for it in items}
    assert by_text["kick kick kick!"]["length"] == 60
    assert by_text["walks forward then kicks with the right foot"]["length"] == 180
    assert by_text["a sprinter bursts off the starting line"]["length"] == NATURAL_DEFAULT_FRAMES
    assert {it["length"] for it in natural_items(test_items, 26, frames=100)[0]} == {100}
    probs = np.zeros((2, 26))
    probs[:, walk], probs[:, kick] = 0.6, 0.3
    two = [by_text["walks forward then kicks with the right foot"], by_text["kick kick kick!"]]
    assert natural_hits(two, probs) == [[(walk, True), (kick, True)], [(kick, False)]]


def test_test_unlearn_flags_and_report():
    import argparse

    from motion_lora.unlearning.test_unlearn import count_or_all, report

    assert count_or_all("all") is None and count_or_all("7") == 7
    for bad in ("-1", "many"):
        with pytest.raises(argparse.ArgumentTypeError):
            count_or_all(bad)
    stat = {"mean": 0.5, "ci95": 0.1}
    part = {"n_prompts": 3, "repeats": 2, "metrics": {"presence": stat}, "presence_by_concept": {"walk": stat}, "presence_by_kind": {"natural": stat}}
    retain = dict(part, presence_by_kind_and_concept={"natural_retain": {"walk": stat}})
    text = report({"adapter": "a", "concept": "kick", "forget": {"base": part, "unlearned": part}, "retain": {"base": retain, "unlearned": retain}})
    assert "| natural | 0.500 ± 0.100 |" in text
    assert "| natural prompts: presence by concept | base | unlearned |" in text


def test_eval_base_report_has_the_natural_section():
    from motion_lora.evaluation.eval_base import report_natural

    stat = {"mean": 0.75, "se": 0.05, "n": 2, "method": "se"}
    r = {"prompts": {"natural": 406, "natural_sequences": 30, "natural_left_out_concepts": ["slash"], "natural_frames": 120},
         "generated": {"concept_accuracy_natural": stat, "concept_presence_natural_sequences": stat},
         "generated_per_concept_accuracy_natural": {"kick": stat}, "generated_natural_presence_by_style": {"implicit": stat}}
    text = "\n".join(report_natural(r))
    assert "406 hand-written prompts, 30 of them two-concept sequences" in text
    assert "concept accuracy 0.750 ± 0.050 SE (n=2) on single-concept prompts" in text
    assert "left out (the evaluator was not trained on them): slash" in text
    assert "| kick | 0.750 ± 0.050 SE (n=2) |" in text and "| implicit | 0.750 ± 0.050 SE (n=2) |" in text
    assert report_natural({"prompts": {"total": 3}}) == []
