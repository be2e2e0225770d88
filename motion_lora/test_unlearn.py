"""`python -m motion_lora.test_unlearn`: evaluate adapters against the base (the code is in motion_lora.unlearning.test_unlearn)."""

import sys

from motion_lora.unlearning.test_unlearn import main

if __name__ == "__main__":
    sys.exit(main())
