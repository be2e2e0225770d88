"""`python -m motion_lora.evaluator`: train the proxy evaluator (the code is in motion_lora.evaluation.evaluator)."""

import sys

from motion_lora.evaluation import evaluator


def main(argv: list[str] | None = None) -> int:
    """The command (`motion-lora-evaluator` once installed): the CLI returns its metrics, the command exit status 0."""
    evaluator.main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
