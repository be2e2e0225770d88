"""MotionBank: building and loading text-annotated motion in the HumanML3D layout."""
