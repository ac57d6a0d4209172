"""Worker pools for task stages: spawned, one compute thread each, gone when their parent is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faceme_core.tasks.processes import THREAD_VARIABLES, worker_pool

REPO = Path(__file__).resolve().parents[2]

# A parent that starts two workers, prints their pids, then waits to be killed.
PARENT = """
import os, sys, time
from faceme_core.tasks.processes import worker_pool
if __name__ == "__main__":
    pool = worker_pool(2, "os:getpid")
    pids = {future.result() for future in [pool.submit(os.getpid) for _ in range(8)]}
    print(" ".join(map(str, pids)), flush=True)
    time.sleep(600)
"""



def _environ_value(name: str) -> str | None:
    return os.environ.get(name)


def test_workers_run_with_one_thread_and_ignore_ctrl_c():
    with worker_pool(1, "os:getpid") as pool:
        assert pool.submit(_environ_value, THREAD_VARIABLES[0]).result(timeout=60) == "1"
        assert pool.submit(signal.getsignal, signal.SIGINT).result(timeout=60) == signal.SIG_IGN
        assert pool.submit(os.getpid).result(timeout=60) != os.getpid()


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_workers_exit_when_their_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert workers and all(_alive(pid) for pid in workers)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "workers outlived their killed parent"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return os.path.exists(f"/proc/{pid}") or sys.platform != "linux"
