"""What every tab of the app shares: the lab, the download folder, the deployment settings, who is asking."""

from __future__ import annotations

from dataclasses import dataclass

from .. import settings
from ..service import MotionLab
from .downloads import OutputDir, clip_video
from .errors import user_errors
from .pickers import visitor

MIN_VIDEO_CONCURRENCY = 2  # MP4 renders (and downloads after a slider release) at once, over all visitors


@dataclass(frozen=True, kw_only=True)
class AppContext:
    lab: MotionLab
    outputs: OutputDir
    max_iterations: int
    training_off: bool
    require_login: bool
    max_queued_trainings: int

    @classmethod
    def from_settings(cls, lab: MotionLab) -> AppContext:
        """The context of an app over `lab`, configured by the MOTION_LORA_* switches (a bad one is a ValueError)."""
        s = settings.read_all()
        return cls(lab=lab, outputs=OutputDir(s["MOTION_LORA_OUTPUT_DIR"]), max_iterations=s["MOTION_LORA_MAX_ITERATIONS"],
                   training_off=s["MOTION_LORA_DISABLE_TRAINING"], require_login=s["MOTION_LORA_REQUIRE_LOGIN"],
                   max_queued_trainings=s["MOTION_LORA_MAX_QUEUED_TRAININGS"])

    @property
    def merged(self) -> dict:
        """Event options of a generation. Generations wait inside MotionLab, whose queue merges the concurrent ones
        into one batch: the event limit is how many may wait there at once (the side-by-sides of one merged batch),
        not one at a time."""
        return {"concurrency_limit": max(1, self.lab.batcher.max_rows // 2), "concurrency_id": "generate"}

    @property
    def video_events(self) -> dict:
        return {"concurrency_limit": MIN_VIDEO_CONCURRENCY, "concurrency_id": "video"}

    def owner(self, request, profile) -> str:
        """The visitor's owner id; NotAllowed (shown as a message) when a login is required and missing."""
        return visitor(request, profile, require_login=self.require_login)

    def default_pick(self) -> list[str]:
        """The adapters a new page starts with: kick when there is one, else the first."""
        shorts = [i.short for i in self.lab.list_adapters()]
        return ["kick"] if "kick" in shorts else shorts[:1]

    def first_pick(self) -> str | None:
        return (self.default_pick() or [None])[0]

    def video_handler(self):
        """The handler of a 'Download as video' button: the session's last side-by-side or sweep as a labelled MP4."""

        @user_errors
        def video(clip):
            return str(clip_video(clip, self.outputs.new("video")))

        return video


def viewer(request, profile) -> str | None:
    """The visitor's id for labelling the pickers ('this session'); None when there is no session."""
    try:
        return visitor(request, profile)
    except ValueError:
        return None
