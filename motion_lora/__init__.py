"""Concept unlearning for text-to-motion diffusion with LoRA (HumanML3D format, MotionBank data).

One package per stage, in data order: motion/, data/, model/, evaluation/, unlearning/, serving/ (README: "Code
layout"). The modules at this level only run a stage's main for `python -m motion_lora.<command>`."""

__version__ = "0.1.0"
