"""A few-step student checkpoint: a denoiser folder with `student.json`, sampled on its own short schedule.

A student (trained by motion_lora.model.distill) stands for its teacher at one setting, the one it was distilled
from (UniPC 12 steps, classifier-free guidance 2.5: the app's defaults). Asked for that setting, it samples in
`steps` deterministic DDIM steps from the same seeded noise, with the caption alone: the guidance is baked into
its weights, so a step is one forward of the conditional rows (the teacher needs two, for the unconditional
branch). Any other scheduler, step count or guidance is the teacher's path (`MotionGenerator` loads the teacher
that `student.json` names).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from ..checks import check_number
from .checkpoints import read_json
from .sampler import check_scheduler, check_steps

STUDENT_FILE = "student.json"
MAX_STUDENT_STEPS = 8  # a student is few-step by definition; more steps is the teacher's job


@dataclass(frozen=True, kw_only=True)
class StudentSpec:
    teacher: str  # the teacher checkpoint: a name under checkpoints/t2m or a folder
    steps: int  # DDIM steps of the student's own schedule
    teacher_scheduler: str  # the teacher setting the student reproduces
    teacher_steps: int
    guidance: float  # the teacher's classifier-free guidance, baked into the student
    scheduler: str = "ddim"

    def validated(self) -> "StudentSpec":
        if not isinstance(self.teacher, str) or not self.teacher.strip():
            raise ValueError(f"a student must name its teacher checkpoint, got {self.teacher!r}")
        return dataclasses.replace(
            self,
            steps=check_number(self.steps, "student steps", low=1, high=MAX_STUDENT_STEPS, whole=True),
            teacher_scheduler=check_scheduler(self.teacher_scheduler),
            teacher_steps=check_steps(self.teacher_steps),
            guidance=float(check_number(self.guidance, "baked guidance", low=0.0)),
            scheduler=check_scheduler(self.scheduler),
        )

    def stands_for(self, scheduler: str, steps: int, guidance: float) -> bool:
        """Do these (validated) sampling settings ask for the teacher setting this student reproduces?"""
        return (scheduler, steps, guidance) == (self.teacher_scheduler, self.teacher_steps, self.guidance)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)


def read_student(folder: str | Path) -> StudentSpec | None:
    """The student spec of a checkpoint folder, or None for an ordinary denoiser (no student.json)."""
    path = Path(folder) / STUDENT_FILE
    if not path.is_file():
        return None
    data = read_json(path)
    fields = {f.name for f in dataclasses.fields(StudentSpec)}
    if not isinstance(data, dict) or not {"teacher", "steps", "teacher_scheduler", "teacher_steps", "guidance"} <= set(
        data
    ):
        raise ValueError(
            f"{path} is not a student spec (it needs teacher, steps, teacher_scheduler, teacher_steps, guidance)"
        )
    return StudentSpec(**{k: v for k, v in data.items() if k in fields}).validated()


def write_student(folder: str | Path, spec: StudentSpec) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / STUDENT_FILE).write_text(spec.validated().to_json() + "\n")
