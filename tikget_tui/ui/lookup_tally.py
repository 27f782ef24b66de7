"""One summary for several look-ups started together (no textual: a pure tally).

"5 looked up: 2 with 9 stories, 1 private, 1 unknown, 1 with none" instead of
only the last result on the message line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# outcome kinds, in the order the summary names them
ORDER = ("stories", "found", "none", "private", "unknown", "unavailable", "refused", "failed")


@dataclass
class LookupTally:
    """The outcomes of ``total`` look-ups started from one input."""

    total: int
    outcomes: list[tuple[str, int]] = field(default_factory=list)
    """(kind, stories) per finished look-up."""
    first_error: str = ""
    notes: tuple[str, ...] = ()
    """What the input's parsing left out ('ignored 2 words…'): said again at the end, as
    the summary replaces the line that first said it."""

    def add(self, kind: str, stories: int = 0, error: str = "") -> None:
        self.outcomes.append((kind, stories))
        if error and not self.first_error:
            self.first_error = error

    @property
    def complete(self) -> bool:
        return len(self.outcomes) >= self.total

    def summary(self) -> str:
        """'5 looked up: 2 with 9 stories, 1 private, 1 unknown, 1 with none'."""
        parts: list[str] = []
        for kind in ORDER:
            hits = [n for k, n in self.outcomes if k == kind]
            if not hits:
                continue
            count = len(hits)
            if kind == "stories":
                total = sum(hits)
                parts.append(f"{count} with {total} {'story' if total == 1 else 'stories'}")
            elif kind == "found":
                parts.append(f"{count} {'post' if count == 1 else 'posts'} found")
            elif kind == "none":
                parts.append(f"{count} with none")
            elif kind == "failed":
                parts.append(f"{count} failed" + (f" ({self.first_error})"
                                                  if self.first_error else ""))
            else:
                parts.append(f"{count} {kind}")
        return (f"{len(self.outcomes)} looked up: " + ", ".join(parts)
                + "".join(f"; {note}" for note in self.notes))

    @property
    def any_problem(self) -> bool:
        return bool(self.notes) or any(kind == "failed" for kind, _ in self.outcomes)
