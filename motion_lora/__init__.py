"""Concept unlearning for text-to-motion diffusion with LoRA (HumanML3D format, MotionBank data)."""

__version__ = "0.1.0"
