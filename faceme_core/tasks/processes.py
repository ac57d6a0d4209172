"""Worker processes for CPU-bound task stages (decode, detect, embed), safe with torch and ONNX Runtime.

- "spawn" start method: fork would copy a parent whose torch / ONNX Runtime / OpenBLAS thread pools
  may be mid-operation (deadlocks), and it is not available everywhere anyway.
- Workers ignore SIGINT: Ctrl+C reaches the whole process group, and the parent, which owns the
  cancel token, decides what stops (cancelling pending work); a worker killed mid-photo would only
  break the pool.
- Workers end when their parent does, however it ends: after a kill -9 nobody would ever send them
  work or close their queue (spawned children hold both ends of its pipe), so they would sleep on.
- One compute thread per worker (OpenMP, OpenBLAS/MKL, OpenCV, torch, ONNX Runtime via the task's own
  setup), so N workers use N cores instead of N x cores threads fighting for them.

The worker's own state (a face analyzer, say) is built once per process by ``setup``, given as a
"module:function" name so that nothing heavy is imported before the thread limits are in place.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMEXPR_NUM_THREADS")


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def worker_pool(workers: int, setup: str, *setup_args) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes, each running ``setup(*setup_args)`` once at start."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(setup, setup_args),
    )


def stop_now(pool: ProcessPoolExecutor, timeout: float = 5.0) -> None:
    """Drop queued work and end the workers mid-task, for a cancel that must not wait for the photos
    in flight. Python 3.14 has ``terminate_workers`` for this; before it, the same steps on the
    executor's process table."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout)


def _start_worker(setup: str, setup_args: tuple) -> None:
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    limit_threads_to_one()
    module_name, _, function_name = setup.partition(":")
    getattr(importlib.import_module(module_name), function_name)(*setup_args)


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])  # ready once the parent process is gone
        os._exit(1)  # no cleanup to run: results would have nobody to go to

    threading.Thread(target=watch, name="faceme-parent-watch", daemon=True).start()


def limit_threads_to_one() -> None:
    """One compute thread in this process, for libraries loaded now and later."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"  # read by OpenMP / BLAS runtimes when they load
    try:  # those already loaded (numpy's OpenBLAS, say, imported by the parent's main module)
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
