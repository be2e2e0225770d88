"""The MOTION_LORA_* switches: one table (motion_lora/serving/settings.py), one parser, a bad value is an error
naming the variable everywhere (the app's start included), and docs/app.md lists the same switches and defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from motion_lora.serving.settings import FLAG, NUMBER, SWITCHES, TEXT, WHOLE, read_all, setting

REPO = Path(__file__).resolve().parents[1]


def test_unset_or_blank_means_the_default():
    assert read_all({}) == {name: s.default for name, s in SWITCHES.items()}
    assert read_all({name: "  " for name in SWITCHES}) == read_all({})


@pytest.mark.parametrize("name", [n for n, s in SWITCHES.items() if s.kind in (WHOLE, NUMBER, FLAG)])
@pytest.mark.parametrize("raw", ["lots", "nan", "-inf", "1e999", "-3"])
def test_a_bad_value_names_the_variable(name, raw):
    with pytest.raises(ValueError, match=name):
        setting(name, {name: raw})


@pytest.mark.parametrize("name, raw, value", [
    ("MOTION_LORA_MAX_USER_ADAPTERS", " 7 ", 7),
    ("MOTION_LORA_MAX_USER_ADAPTERS", "7.0", 7),
    ("MOTION_LORA_MAX_USER_MB", "12.5", 12.5),
    ("MOTION_LORA_CACHE_MB", "0", 0.0),
    ("MOTION_LORA_RELEASE_S", "0", 0.0),
    ("MOTION_LORA_TRAINING_NICE", "0", 0),
    ("MOTION_LORA_THREADS", "2", 2),
    ("MOTION_LORA_REQUIRE_LOGIN", "Yes", True),
    ("MOTION_LORA_DISABLE_TRAINING", "off", False),
    ("MOTION_LORA_BASE", " my_base ", "my_base"),
])
def test_good_values(name, raw, value):
    got = setting(name, {name: raw})
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("name, raw", [
    ("MOTION_LORA_MAX_USER_ADAPTERS", "0"), ("MOTION_LORA_MAX_USER_ADAPTERS", "2.5"), ("MOTION_LORA_MAX_USER_MB", "0"),
    ("MOTION_LORA_MAX_BATCH_ROWS", "1"), ("MOTION_LORA_TRAINING_NICE", "20"), ("MOTION_LORA_THREADS", "0"),
    ("MOTION_LORA_MAX_SESSIONS", "0"), ("MOTION_LORA_MAX_ITERATIONS", "ten"), ("MOTION_LORA_MAX_QUEUED_TRAININGS", "-1"),
    ("MOTION_LORA_DISABLE_TRAINING", "maybe"),
])
def test_out_of_bounds_is_an_error_naming_the_variable(name, raw):
    with pytest.raises(ValueError, match=name):
        setting(name, {name: raw})


def test_the_docs_table_lists_every_switch_with_its_default():
    text = (REPO / "docs" / "app.md").read_text()
    rows = dict(re.findall(r"^\| `(MOTION_LORA_\w+)` \| ([^|]+) \|", text, flags=re.M))
    assert set(rows) == set(SWITCHES)
    for name, switch in SWITCHES.items():
        shown = rows[name].strip()
        if switch.kind in (WHOLE, NUMBER) and switch.default is not None:
            assert shown == f"{switch.default:g}", name
        elif switch.kind == FLAG:
            assert shown == ("on" if switch.default else "off"), name
        elif switch.kind == TEXT and switch.default is not None:
            assert shown == f"`{switch.default}`", name


def test_the_app_stops_at_start_on_a_bad_switch(monkeypatch, capsys):
    import app

    monkeypatch.setenv("MOTION_LORA_MAX_SESSIONS", "many")
    monkeypatch.setattr(app, "default_lab", lambda: pytest.fail("the models were loaded despite a bad switch"))
    assert app.main() == 2
    err = capsys.readouterr().err
    assert "MOTION_LORA_MAX_SESSIONS" in err and "'many'" in err


def test_the_lab_reads_the_same_switches(monkeypatch):
    """default_lab goes through the one parser: a bad value it reads is the same error."""
    from motion_lora.serving.service import default_lab

    monkeypatch.setenv("MOTION_LORA_CACHE_MB", "-1")
    with pytest.raises(ValueError, match="MOTION_LORA_CACHE_MB"):
        default_lab()
