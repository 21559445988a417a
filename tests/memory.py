"""This process's peak resident memory, for tests that bound it (Linux).

``getrusage().ru_maxrss`` is not used: Linux carries it over fork and exec, so a child of a
large test process starts with the parent's size as its peak, and a peak already reached
earlier in a long test run hides any growth after it. ``VmHWM`` in ``/proc/self/status`` is
this process's own, and writing 5 to ``/proc/self/clear_refs`` starts a new reading.
"""

from __future__ import annotations

import contextlib
from pathlib import Path


def reset_peak() -> None:
    """Starts a new peak reading (where the kernel allows it; otherwise the peak since exec)."""
    with contextlib.suppress(OSError), Path("/proc/self/clear_refs").open("w") as handle:
        handle.write("5")


def peak_kib() -> int:
    """The peak resident size since exec or the last :func:`reset_peak`, in KiB."""
    with Path("/proc/self/status").open(encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def peak_mib() -> float:
    return peak_kib() / 1024
