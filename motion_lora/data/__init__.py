"""Stage 2, MotionBank: building and loading text-annotated motion in the HumanML3D layout.

Sources (DeepMimic, Bandai Namco, BVH files, procedural/), captions/, augmentation and the builder
(`python -m motion_lora.data`); dataset.py reads a built folder. Start with clip.py, then builder.py."""
