"""In-app trainings: `MotionLab.unlearn` on a thread of lowered CPU priority, its events streamed to the caller."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..unlearning.unlearn import TrainEvent, UnlearnConfig
from . import settings
from .library import AdapterInfo

if TYPE_CHECKING:
    from .service import MotionLab


def lower_priority(nice: int) -> bool:
    """Lower the CPU priority of the calling thread by `nice` (Linux: threads have their own nice value, and the
    threads it starts later, such as its torch worker threads, inherit it). The app's training thread does this
    so that visitors' generations are served first while a training runs; it still uses every idle cycle.
    Returns whether it applied."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + int(nice)))
        return True
    except OSError:
        return False


def iterate_training(lab: MotionLab, config: UnlearnConfig, stop: threading.Event, **unlearn_kwargs) -> Iterator[TrainEvent | AdapterInfo | None]:
    """Run `lab.unlearn` in a thread and yield its events as they come, then the result (or None). The thread's
    priority drops by MOTION_LORA_TRAINING_NICE, read here so that a bad value fails this call, not the thread."""
    nice = settings.setting("MOTION_LORA_TRAINING_NICE")
    q: queue.Queue = queue.Queue()
    done = object()

    def work():
        lower_priority(nice)
        try:
            q.put(lab.unlearn(config, stop, on_event=q.put, **unlearn_kwargs))
        except BaseException as err:  # surfaced to the consumer
            q.put(err)
        finally:
            lab.releaser.tick(force=True)  # the training's model copy, optimiser state and rollouts were just freed
            q.put(done)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while True:
        item = q.get()
        if item is done:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()
