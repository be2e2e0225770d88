"""Stage 1, the motion itself: the 22-joint reference skeleton, quaternions, and the HumanML3D 263-dim features.

Everything downstream speaks these joints and features; nothing here knows about text, data sets or models.
Start with skeleton.py (joints, bones, forward kinematics), then features.py (joints <-> 263-dim vectors)."""
