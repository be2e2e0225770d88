"""Command-line flags from a config dataclass: one `--name` per field, so the CLIs' flags are the configs' fields.

A bool field is an on-switch (`--bf16`); any other field takes a value of its default's type.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Collection


def add_config_args(parser: argparse.ArgumentParser, config: type, skip: Collection[str] = ()) -> None:
    """One flag per field of the dataclass `config`, named and defaulted as the field, except those in `skip`."""
    for f in dataclasses.fields(config):
        if f.name in skip:
            continue
        if isinstance(f.default, bool):
            parser.add_argument(f"--{f.name}", action="store_true")
        else:
            parser.add_argument(f"--{f.name}", type=type(f.default), default=f.default)


def config_from_args(config: type, args: argparse.Namespace, skip: Collection[str] = ()):
    """The dataclass `config` built from the parsed flags of its fields (those in `skip` keep their defaults)."""
    return config(**{f.name: getattr(args, f.name) for f in dataclasses.fields(config) if f.name not in skip})
