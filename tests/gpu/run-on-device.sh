#!/bin/bash
# On the machine with the GPU (no GLib or OpenBLAS there): unpack the bundle
# that `make gpu-bundle` made (carry gpubundle.tar.xz), run the GPU tests and
# the GPU benchmarks (forward pass and whitening, the steering sweep, SAE
# training), and leave logs and results in $OUT. Every phase runs even if an
# earlier one failed. PHASES picks some of: test forward steer sae (all by
# default), to fit the device time left.
set -u
phases=" ${PHASES:-test forward steer sae} "   # also: threads (not by default)
want () { case "$phases" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
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
export WNHOME=$B/wordnet
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

# If the carried module does not load here, build it with this machine's nvcc.
if ! "$B/bin/bench-forward" tests/data/reference/gpt2 1 4 1 --device cuda >/dev/null 2>"$OUT/probe.err"; then
  cat "$OUT/probe.err"
  echo "rebuilding the CUDA module with this machine's nvcc"
  nvcc -O3 -std=c++17 -shared -Xcompiler -fPIC,-fvisibility=hidden -gencode=arch=compute_90,code=sm_90 \
    compute/cuda/cs-cuda.cu compute/cuda/cs-cuda-sae.cu -o "$B/lib/libcs-cuda.so" -lcublas -lcusolver
  "$B/bin/bench-forward" tests/data/reference/gpt2 1 4 1 --device cuda || true
fi

if want test; then
  echo "== GPU tests"
  timeout 240 "$B/bin/test-gpu" --verbose > "$OUT/test-gpu.log" 2>&1
  echo "test-gpu exit $?"
  grep -E "^(ok|not ok)|diff|Bail|ERROR|trained|loss|gradient|Adam" "$OUT/test-gpu.log" | head -80
fi

if want forward; then
  echo "== GPU benchmark: forward pass and whitening"
  PYTHONUNBUFFERED=1 OMP_NUM_THREADS=$(nproc) timeout 400 python3 tests/bench/run-gpu-bench.py \
    "$B/bin/bench-forward" "$B/bin/bench-whiten" "$OUT/gpu-bench.json"
  echo "bench exit $?"
fi

if want steer; then
  echo "== steering sweep, GPU and CPU, against PyTorch on the same device"
  for dev in cuda cpu; do
    PYTHONUNBUFFERED=1 timeout 150 python3 tests/bench/run-steer-bench.py "$B/bin/conceptscope-cli" --device $dev \
      --inputs "$B/steer-inputs.npz" > "$OUT/steer-$dev.json" 2> "$OUT/steer-$dev.err"
    echo "steer $dev exit $?"
    head -20 "$OUT/steer-$dev.json"
    tail -5 "$OUT/steer-$dev.err"
  done
fi

if want sae; then
  # The corpus is made here from the bundled WordNet (it is larger than the
  # script and the dictionary together, and the device's upload is limited).
  python3 data/sae-set/make-corpus.py "$B/wordnet" > "$B/corpus.txt"
  echo "== SAE training, GPU against CPU"
  PYTHONUNBUFFERED=1 timeout 240 python3 tests/bench/run-sae-bench.py "$B/bin/conceptscope-cli" "$B/corpus.txt" \
    "$OUT/sae-bench.json"
  echo "sae bench exit $?"
fi

if want threads; then
  echo "== the CPU sweep's time against OpenMP threads and wait policy (sweep seconds, three runs each)"
  for wait in passive active; do
    for n in 1 2 4 8 16; do
      t=""
      for r in 1 2 3; do
        s=$(OMP_WAIT_POLICY=$wait OMP_NUM_THREADS=$n timeout 60 "$B/bin/conceptscope-cli" steer data/sample-model \
              --dataset data/steering/animal-vs-plant.json --targets animal --layers 0-3 --multipliers=-4,-2,0,2,4 \
              --held-out 0.5 --device cpu --output "$OUT/threads.h5" --json 2>/dev/null |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["sweep_seconds"])')
        t="$t $s"
      done
      echo "wait=$wait threads=$n sweep_s:$t"
    done
  done | tee "$OUT/threads.txt"
  rm -f "$OUT/threads.h5"
fi
