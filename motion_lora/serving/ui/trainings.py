"""Trainings from the app: one at a time, in arrival order, at most one per visitor."""

from __future__ import annotations

import threading
from dataclasses import dataclass


class AlreadyQueued(Exception):
    """The visitor already has a training waiting or running."""


@dataclass(eq=False)
class Ticket:
    owner: str
    stop: threading.Event


class TrainingQueue:
    """First come, first served; a visitor may hold one ticket (waiting or running) at a time. The first ticket
    in line is the one training; Stop sets its owner's ticket's event, whether it is running or still waiting."""

    def __init__(self):
        self._cond = threading.Condition()
        self._line: list[Ticket] = []

    def join(self, owner: str) -> Ticket:
        with self._cond:
            if any(t.owner == owner for t in self._line):
                raise AlreadyQueued(owner)
            ticket = Ticket(owner, threading.Event())
            self._line.append(ticket)
            return ticket

    def wait_turn(self, ticket: Ticket, timeout: float) -> int:
        """Wait up to `timeout` s for the ticket to reach the front; returns how many trainings are ahead of it."""
        with self._cond:
            self._cond.wait_for(lambda: self._line[0] is ticket or ticket.stop.is_set(), timeout)
            return self._line.index(ticket)

    def leave(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._line:
                self._line.remove(ticket)
            ticket.stop.set()
            self._cond.notify_all()

    def request_stop(self, owner: str) -> bool:
        with self._cond:
            mine = [t for t in self._line if t.owner == owner]
            for t in mine:
                t.stop.set()
            self._cond.notify_all()
            return bool(mine)

    @property
    def busy(self) -> bool:
        return bool(self._line)

    def __len__(self) -> int:
        return len(self._line)


TRAINING = TrainingQueue()
