"""Hypothesis helpers shared by the fuzz tests: random mutations of real-shaped JSON."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

# Values TikTok should never send where we read them: wrong types, huge numbers,
# NaN, markup, escapes, paths, foreign URLs.
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["", "0", "-1", "1e400", "NaN", "http://evil.example/x.mp4",
                     "javascript:alert(1)", "../../etc/passwd", "[bold]x[/]", "\x1b[2J"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                         max_size=2),
)

ACTIONS = ("replace", "delete", "wrap", "stringify", "nest", "empty")


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a JSON document (the root is ``()``)."""
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += paths(v, (*prefix, i))
    return out


def mutate(doc: Any, data: st.DataObject, label: str = "doc", *,
           least: int = 0, most: int = 5) -> Any:
    """A deep copy of ``doc`` with ``least``..``most`` random changes at random paths:
    a value replaced by junk, deleted, wrapped in a list, turned into a string, nested
    in an object, or emptied."""
    doc = copy.deepcopy(doc)
    candidates = [p for p in paths(doc) if p]
    if not candidates:
        return doc
    count = data.draw(st.integers(min_value=least, max_value=most), label=f"{label} mutations")
    for _ in range(count):
        path = data.draw(st.sampled_from(candidates), label=f"{label} path")
        parent = doc
        try:
            for step in path[:-1]:
                parent = parent[step]
            key = path[-1]
            action = data.draw(st.sampled_from(ACTIONS), label="action")
            if action == "replace":
                parent[key] = data.draw(JUNK, label="junk")
            elif action == "delete":
                del parent[key]
            elif action == "wrap":
                parent[key] = [parent[key]]
            elif action == "stringify":
                parent[key] = str(parent[key])
            elif action == "nest":
                parent[key] = {"x": parent[key]}
            else:
                parent[key] = type(parent[key])() if isinstance(parent[key], list | dict) else ""
        except (KeyError, IndexError, TypeError):
            continue
    return doc
