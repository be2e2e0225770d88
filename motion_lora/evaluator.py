"""`python -m motion_lora.evaluator`: train the proxy evaluator (the code is in motion_lora.evaluation.evaluator)."""

from motion_lora.evaluation.evaluator import main

if __name__ == "__main__":
    main()
