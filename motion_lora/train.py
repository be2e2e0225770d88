"""`python -m motion_lora.train`: train an unlearning adapter (the code is in motion_lora.unlearning.train)."""

import sys

from motion_lora.unlearning.train import main

if __name__ == "__main__":
    sys.exit(main())
