"""`python -m motion_lora.viz`: plot a motion (the code is in motion_lora.serving.viz)."""

from motion_lora.serving.viz import main

if __name__ == "__main__":
    main()
