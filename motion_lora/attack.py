"""`python -m motion_lora.attack`: the soft-prompt attack on an adapter (the code is in motion_lora.unlearning.attack)."""

from motion_lora.unlearning.attack import main

if __name__ == "__main__":
    raise SystemExit(main())
