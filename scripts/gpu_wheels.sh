#!/usr/bin/env bash
# Fetch here, into .whl/ (ignored by git), the wheels that scripts/gpu_check.sh installs on a GPU
# machine that cannot reach a package registry: PyAV, for the prediction benchmark's video
# (one abi3 wheel for x86-64 Linux and CPython >= 3.11, about 35 MB). The GPU machine's python3
# has the rest. Carry .whl with the run; gpu_check.sh installs it into a temporary folder.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
AV=${AV_VERSION:-18.1.0}
EXCLUDE=$(git rev-parse --git-path info/exclude)
grep -qx '/.whl/' "$EXCLUDE" 2>/dev/null || echo '/.whl/' >>"$EXCLUDE"
mkdir -p .whl
"$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "av==$AV"
ls -la .whl
