"""`python -m motion_lora.eval_base`: evaluate the base model (the code is in motion_lora.evaluation.eval_base)."""

import sys

from motion_lora.evaluation.eval_base import main

if __name__ == "__main__":
    sys.exit(main())
