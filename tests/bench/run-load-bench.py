#!/usr/bin/python3
"""ConceptScope's threads beside other work: each case alone and beside one
busy process (a Python loop, as another program on a 2-core desktop), with
libgomp's default waiting (idle threads spin a while before sleeping; the
program started with CS_NO_REEXEC=1 and no OMP_WAIT_POLICY, as before
cs_backend_setup_process) and with the program's own setting (passive).

Cases: `conceptscope-cli geometry` on the sample model with the whitening
computed (--no-cache), and the d × d estimator reference (a 2,048-wide
LAPACK eigendecomposition) through bench-estimate. Prints JSON: the median
and range of five runs of each.
Usage: run-load-bench.py CLI BENCH_ESTIMATE"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

CLI, ESTIMATE = sys.argv[1:3]
RUNS = 5


def timed(cmd, env):
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def main():
    base = {k: v for k, v in os.environ.items() if k not in ('OMP_WAIT_POLICY', 'CS_NO_REEXEC')}
    settings = {'libgomp default': dict(base, CS_NO_REEXEC='1'), 'passive (the program\'s)': dict(base)}
    out = {'machine': f'{os.cpu_count()} cores', 'runs': RUNS, 'cases': {}}
    with tempfile.TemporaryDirectory() as tmp:
        rows = os.path.join(tmp, 'rows.bin')
        rng = np.random.default_rng(3)
        X = rng.standard_normal((300, 2048)) + 0.5
        with open(rows, 'wb') as f:
            f.write(np.array([300, 2048], dtype=np.int32).tobytes())
            f.write(X.tobytes())
        cases = {
            'geometry, sample model, whitening computed': lambda env: timed(
                [CLI, 'geometry', '-', '--no-cache', '--output', os.path.join(tmp, 'ws.h5')], env),
            'eigendecomposition 2048 (estimator reference)': lambda env: timed(
                [ESTIMATE, rows, rows + '.out', 'reference'], env),
        }
        for name, run in cases.items():
            for setting, env in settings.items():
                for load in (False, True):
                    busy = subprocess.Popen([sys.executable, '-c', 'while True: pass']) if load else None
                    try:
                        time.sleep(0.3 if load else 0)
                        secs = [run(env) for _ in range(RUNS)]
                    finally:
                        if busy:
                            busy.kill()
                            busy.wait()
                    key = f'{name} | {setting} | {"beside a busy process" if load else "alone"}'
                    out['cases'][key] = {'median_s': round(statistics.median(secs), 3),
                                         'min_s': round(min(secs), 3), 'max_s': round(max(secs), 3)}
                    print(key, out['cases'][key], file=sys.stderr)
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
