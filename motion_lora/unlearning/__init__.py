"""Stage 5, concept unlearning: LoRA adapters on the frozen base and the methods that train or edit them.

ESD (unlearn.py), UCE, gradient ascent and task vectors (dispatched by methods.py), the train / test_unlearn CLIs,
and the soft-prompt attack that tries to bring an erased concept back. Start with unlearn.py, then train.py."""
