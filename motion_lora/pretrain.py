"""`python -m motion_lora.pretrain`: pretrain the base denoiser (the code is in motion_lora.model.pretrain)."""

import sys

from motion_lora.model.pretrain import main

if __name__ == "__main__":
    sys.exit(main())
