"""What a chaos scenario checked, line by line, for the terminal summary of the run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Report:
    """Every check adds a line whether it passes or not, so a failing run still shows
    everything that was found; the test asserts `not problems` at its end."""

    scenario: str
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def note(self, line: str) -> None:
        self.lines.append(f"  {line}")

    def check(self, ok: bool, line: str) -> None:
        self.lines.append(f"  {'ok  ' if ok else 'FAIL'} {line}")
        if not ok:
            self.problems.append(line)

    def text(self) -> str:
        took = time.monotonic() - self.started
        return "\n".join([f"{self.scenario} ({took:.1f}s)", *self.lines])
