"""Read BVH motion capture into our 22 joints: (T, 22, 3) metres, y up, 20 fps, on the floor.

    from motion_lora.data.bvh_import import bvh_to_joints, read_bvh
    joints = bvh_to_joints("walk.bvh")                 # (T, 22, 3) float64
    motion = read_bvh("walk.bvh", fps_in=120, scale=0.01)   # + what was detected (units, skeleton, up axis)

Why bvhio: we tried `bvhio` (1.5.4) and `pybvh` (0.9.0) on the Bandai Namco files and on our own export.
pybvh reads our export (to 5e-7 m) but refuses every Bandai file: "pybvh does not model position channels on
non-root joints", and Bandai gives all 22 joints 6 channels. bvhio reads both, with each joint's own channel
order applied as intrinsic rotations (against an independent BVH-spec forward kinematics: 4e-7 m on a Bandai
walk, 5e-7 m on our export). We take its parsed local poses and run the kinematics in numpy (3x faster).

Pipeline: check the file's structure (bvhio loops forever on a file cut short, so truncation is caught first)
-> bvhio parses joints, channels and per-frame local poses (translation channels replace the OFFSET, as in
Bandai's files, where they equal it) -> resample the local poses to 20 fps (slerp rotations, lerp
translations) -> forward kinematics -> our 22 joints through a body map (body_maps.py) -> file units to metres
(detected from the leg length, or `scale`) -> a proper rotation that makes the detected up axis +y -> a
handedness check -> the lowest joint of the clip on y = 0. Facing +Z at frame 0 is left to
`features.extract_features`, which turns every clip that way anyway.

parse.py reads a file, body_maps.py maps its joints to ours, units_axes.py finds units, up axis and handedness,
reader.py runs the pipeline, layout.py writes a HumanML3D-layout folder.
"""

from .body_maps import BODY_MAPS, Between, choose_body_map, map_to_ours
from .errors import BvhImportError
from .layout import bvh_files, caption_from_stem, import_bvh_files
from .reader import BvhMotion, bvh_to_joints, read_bvh
from .units_axes import UP_ROTATIONS, check_handedness, detect_scale, detect_up, front_score, leg_length

__all__ = [
    "BODY_MAPS",
    "UP_ROTATIONS",
    "Between",
    "BvhImportError",
    "BvhMotion",
    "bvh_files",
    "bvh_to_joints",
    "caption_from_stem",
    "check_handedness",
    "choose_body_map",
    "detect_scale",
    "detect_up",
    "front_score",
    "import_bvh_files",
    "leg_length",
    "map_to_ours",
    "read_bvh",
]
