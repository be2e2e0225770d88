"""`python -m motion_lora.generate`: prompt -> motion file (the code is in motion_lora.serving.generate)."""

import sys

from motion_lora.serving.generate import main

if __name__ == "__main__":
    sys.exit(main())
