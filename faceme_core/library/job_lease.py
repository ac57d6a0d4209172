"""One runner per restore job: a lease (jobs.runner, jobs.heartbeat_at) renewed by a heartbeat.

A second runner (another thread, process or computer sharing the library) is refused while the lease
is alive; a lease not renewed for LEASE_SECONDS belongs to a runner that died (crash, kill, sleep)
and may be taken over. On the same computer a runner whose process is gone frees the job at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, update

from faceme_core.errors import LibraryError
from faceme_core.library.db import schema
from faceme_core.library.library import Library

log = logging.getLogger(__name__)

# The heartbeat is renewed in the background, also while one photo takes minutes.
LEASE_SECONDS = 120.0
HEARTBEAT_SECONDS = 20.0
LOCAL_LEASE_SECONDS = 20 * 60.0  # a live runner on this computer keeps its job this long without heartbeats


class JobLease:
    """This runner's claim on one job: taken in ``acquire``, renewed by a background thread while
    ``kept_alive``, and given back when the runner stops (even on an exception)."""

    def __init__(self, library: Library, job_id: int):
        self.library = library
        self.job_id = job_id
        self.runner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self, conn: Connection, row) -> None:
        check_free(row)
        now = time.time()
        conn.execute(
            update(schema.jobs).where(schema.jobs.c.id == self.job_id).values(runner=self.runner, heartbeat_at=now)
        )

    def renew(self, conn: Connection) -> None:
        conn.execute(
            update(schema.jobs)
            .where(schema.jobs.c.id == self.job_id, schema.jobs.c.runner == self.runner)
            .values(heartbeat_at=time.time())
        )

    @contextmanager
    def kept_alive(self) -> Iterator[None]:
        stopped = threading.Event()

        def beat() -> None:
            while not stopped.wait(HEARTBEAT_SECONDS):
                try:
                    with self.library.transaction() as conn:
                        self.renew(conn)
                except Exception as error:  # e.g. another writer held the library past the busy timeout
                    log.warning("job %s: heartbeat not renewed (%s); retrying in %s s", self.job_id, error,
                                HEARTBEAT_SECONDS)

        thread = threading.Thread(target=beat, name=f"faceme-job-{self.job_id}-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stopped.set()
            thread.join()
            with self.library.transaction() as conn:
                conn.execute(
                    update(schema.jobs)
                    .where(schema.jobs.c.id == self.job_id, schema.jobs.c.runner == self.runner)
                    .values(runner=None, heartbeat_at=None)
                )


def check_free(row) -> None:
    """Refuse (LibraryError) when a live runner other than nobody holds the job ``row``: read-only, so
    callers can ask before loading the engine."""
    now = time.time()
    if row.runner is None or not runner_alive(row.runner, row.heartbeat_at, now):
        return
    host, pid = _runner_host_pid(row.runner)
    if row.state == "paused":
        raise LibraryError(f"job {row.id} is pausing: its runner (process {pid} on {host}) finishes the photo in "
                           "progress first; resume it once that has stopped")
    wait = max(0, int(LEASE_SECONDS - (now - row.heartbeat_at)))
    raise LibraryError(
        f"job {row.id} is already being run by another FaceMe (process {pid} on {host}); let it finish or "
        f"stop it there. If that FaceMe crashed, resume again in {wait} s"
    )


def _runner_host_pid(runner: str) -> tuple[str, int | None]:
    host, _, rest = runner.partition(":")
    pid = rest.partition(":")[0]
    return host, int(pid) if pid.isdecimal() else None


def runner_alive(runner: str | None, heartbeat_at: float | None, now: float) -> bool:
    """Whether the lease's holder may still be running.

    On this computer its process decides: gone frees the job at once (a crash), alive keeps it even
    when heartbeats were missed (a long lock on the library) up to LOCAL_LEASE_SECONDS, after which
    the pid is assumed reused. Elsewhere only the heartbeat tells: heard from within LEASE_SECONDS.
    """
    if runner is None or heartbeat_at is None:
        return False
    age = now - heartbeat_at
    host, pid = _runner_host_pid(runner)
    if host == socket.gethostname() and pid is not None and os.name != "nt":  # os.kill(pid, 0) kills on Windows
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by another user
            pass
        return age <= LOCAL_LEASE_SECONDS
    return age <= LEASE_SECONDS
