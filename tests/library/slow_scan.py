"""Run a scan with a slowed-down dlib analyzer (a subprocess the crash tests kill with SIGKILL).

usage: python -m tests.library.slow_scan LIBRARY FOLDER SECONDS_PER_PHOTO
"""

from __future__ import annotations

import sys
import time


def main(library_path: str, folder: str, delay: float) -> None:
    from faceme_core.faces.analyzer import create_analyzer
    from faceme_core.library.library import Library
    from faceme_core.library.scan import scan_folders

    analyzer = create_analyzer("dlib")
    real_analyze = analyzer.analyze

    def slow_analyze(photo):
        time.sleep(delay)
        return real_analyze(photo)

    analyzer.analyze = slow_analyze
    with Library.open(library_path) as library:
        scan_folders(library, [folder], analyzer, workers=1)  # the slowed analyzer runs in this process


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
