"""Running one benchmark job in a child process and measuring it (shared by the benchmark scripts)."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any


def run_measured(command: list[str], job: str) -> dict[str, Any]:
    """Run ``command`` (which prints a JSON object as its last line) and add its peak memory and CPU time.

    A child process per job, so that ``ru_maxrss`` is that job's own peak and not the largest of several.
    """
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{job} failed")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["peak_gib"] = usage.ru_maxrss / (1 << 20)  # KiB on Linux
    # CPU seconds of the child: on a machine shared with other jobs, wall time overstates the cost
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result
