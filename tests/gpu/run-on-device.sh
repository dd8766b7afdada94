#!/bin/bash
# On the machine with the GPU (no GLib or OpenBLAS there): unpack the bundle
# made by make-bundle.sh, run the GPU tests and the GPU benchmark, and leave
# logs and results in $OUT. Every phase runs even if an earlier one failed.
set -u
OUT=${OUT:-/tmp/cs-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/device.log") 2>&1
cd "$(dirname "$0")/../.."
root=$PWD
nvidia-smi -L; nvcc --version | tail -2; ldd --version | head -1; nproc

tar -xJf gpubundle.tar.xz
B=$root/gpubundle
cudalib=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -e "$d/libcublas.so.13" ] && cudalib="$cudalib:$d"
done
pylib=$(python3 -c 'import nvidia.cublas, nvidia.cusolver, os; print(":".join(os.path.join(os.path.dirname(m.__file__ or list(m.__path__)[0]), "lib") for m in (nvidia.cublas, nvidia.cusolver)))' 2>/dev/null)
export LD_LIBRARY_PATH="$B/lib$cudalib:${pylib}:${LD_LIBRARY_PATH:-}"
export CONCEPTSCOPE_CUDA_MODULE=$B/lib/libcs-cuda.so CS_TEST_DATA=$root/tests/data CONCEPTSCOPE_DATADIR=$root/data
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

# If the carried module does not load here, build it with this machine's nvcc.
if ! "$B/bin/bench-forward" tests/data/reference/gpt2 1 4 1 --device cuda >/dev/null 2>"$OUT/probe.err"; then
  cat "$OUT/probe.err"
  echo "rebuilding the CUDA module with this machine's nvcc"
  nvcc -O3 -std=c++17 -shared -Xcompiler -fPIC,-fvisibility=hidden -gencode=arch=compute_90,code=sm_90 \
    compute/cuda/cs-cuda.cu -o "$B/lib/libcs-cuda.so" -lcublas -lcusolver
  "$B/bin/bench-forward" tests/data/reference/gpt2 1 4 1 --device cuda || true
fi

echo "== GPU tests"
timeout 240 "$B/bin/test-gpu" --verbose > "$OUT/test-gpu.log" 2>&1
echo "test-gpu exit $?"
grep -E "^(ok|not ok)|diff|Bail|ERROR" "$OUT/test-gpu.log" | head -80

echo "== GPU benchmark"
PYTHONUNBUFFERED=1 OMP_NUM_THREADS=$(nproc) timeout 400 python3 tests/bench/run-gpu-bench.py \
  "$B/bin/bench-forward" "$B/bin/bench-whiten" "$OUT/gpu-bench.json"
echo "bench exit $?"
