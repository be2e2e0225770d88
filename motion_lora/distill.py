"""`python -m motion_lora.distill`: distil a few-step student from the base (code: motion_lora.model.distill)."""

import sys

from motion_lora.model.distill import main

if __name__ == "__main__":
    sys.exit(main())
