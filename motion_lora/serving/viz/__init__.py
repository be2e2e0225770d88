"""Look at motions: an animated 3D HTML player and a static PNG filmstrip, both built with plotly.

    python -m motion_lora.viz 000021 --out walk.html                  # clip id from data/motionbank
    python -m motion_lora.viz sample.npy --out sample.png --view side  # joints (T,22,3) or features (T,263)

Coordinates are HumanML3D's: metres, y up, the body faces +z at frame 0, its left is +x, 20 fps.
loading.py reads a motion, player.py builds the 3D player, filmstrip.py the PNG strip, saving.py writes either
(PNG through kaleido and a local Chromium, never a downloaded one), cli.py is the command.
"""

from ...motion.skeleton import FPS
from .cli import build_parser, main
from .filmstrip import VIEWS, filmstrip_figure
from .loading import DEFAULT_DATA, as_joints, load_motion
from .player import motion_figure
from .saving import SUPPORTED_OUTPUTS, find_browser, save

__all__ = [
    "DEFAULT_DATA",
    "FPS",
    "SUPPORTED_OUTPUTS",
    "VIEWS",
    "as_joints",
    "build_parser",
    "filmstrip_figure",
    "find_browser",
    "load_motion",
    "main",
    "motion_figure",
    "save",
]
