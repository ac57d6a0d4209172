#!/usr/bin/env bash
# One-command set-up: a virtual environment in .venv with FaceMe Desktop and its pinned dependencies.
# Usage: bash setup.sh            (PYTHON=python3.11 bash setup.sh to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
# Constraints pin every package, torch included. torch 2.13.0 from PyPI is the CUDA build on Linux (several
# GB, with its nvidia-* packages); where a CPU wheel of it is provided locally, pip takes that one.
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev,heic]"
echo "Set up. Run the tests with: .venv/bin/python -m pytest"
