"""Run a restore job with a slow fake restoration (a subprocess the crash tests kill with SIGKILL).

usage: python -m tests.library.slow_job LIBRARY JOB_ID SECONDS_PER_PHOTO
"""

from __future__ import annotations

import sys
import time


def main(library_path: str, job_id: int, delay: float) -> None:
    from faceme_core.library.jobs import run_job
    from faceme_core.library.library import Library
    from tests.library.fakes import fake_restore

    def slow_restore(task, **kwargs):
        time.sleep(delay)
        return fake_restore(task, **kwargs)

    with Library.open(library_path) as library:
        run_job(library, job_id, slow_restore)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
