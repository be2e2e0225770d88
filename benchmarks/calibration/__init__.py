"""Hand-set constants measured on real motion: the procedural generators' kinematics against mocap (procedural.py)
and the kinematic judge's recall and false positives (judge.py)."""
