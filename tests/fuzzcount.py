"""Counts of generated cases per fuzz target, written to test-artifacts/fuzz-count.txt when the session ends."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

cases: Counter[str] = Counter()
server_errors: Counter[str] = Counter()


def budget(targets: int, share: float = 1.0) -> int:
    """Examples for each of `targets` fuzz targets: FUZZ_EXAMPLES (the whole suite's total) split between them."""
    total = int(os.environ.get("FUZZ_EXAMPLES", "9000"))
    return max(1, int(total * share) // max(targets, 1))


def write(root: Path) -> Path | None:
    if not cases:
        return None
    folder = root / "test-artifacts"
    folder.mkdir(exist_ok=True)
    path = folder / "fuzz-count.txt"
    lines = [f"total cases: {sum(cases.values())}", f"responses of 500 or more: {sum(server_errors.values())}", ""]
    lines += [f"{name}: {count} cases, {server_errors[name]} x 5xx" for name, count in sorted(cases.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
