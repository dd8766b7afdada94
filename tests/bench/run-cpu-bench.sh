#!/bin/sh
# make bench: the CPU forward-pass benchmark against PyTorch (Debian's python3-torch).
set -eu
build=${1:-build}
if ! /usr/bin/python3 -c 'import torch, h5py' 2>/dev/null; then
  echo "the benchmark's peer needs python3-torch and python3-h5py (apt-get install python3-torch python3-h5py)" >&2
  exit 1
fi
exec /usr/bin/python3 "$(dirname "$0")/run-cpu-bench.py" "$build/tests/bench/bench-forward" \
  "$build/app/cli/conceptscope-cli" "$build/tests/bench/cpu-bench.json"
