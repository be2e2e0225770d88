"""`python -m motion_lora.viz`: plot a motion (the code is in motion_lora.serving.viz)."""

import sys

from motion_lora.serving import viz


def main(argv: list[str] | None = None) -> int:
    """The command (`motion-lora-viz` once installed): the CLI returns the written path, the command exit status 0."""
    viz.main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
