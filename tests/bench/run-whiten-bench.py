#!/usr/bin/python3
"""CPU whitening benchmark: ConceptScope against NumPy (Debian's, OpenBLAS,
all cores) doing the same steps in the same script, on a 256000 x 2048
float32 matrix (Gemma-2B's unembedding shape) with a known spectrum.

The matrix is U = Z diag(s) Q^T (Z Gaussian, Q a random rotation), so its
covariance's eigenvalues are s^2 up to sampling noise; both sides' top
eigenvalues are printed against that, and the first rows of g compared.
Usage: run-whiten-bench.py BENCH_WHITEN [ROWS COLS]"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

BENCH = sys.argv[1]
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 256000
COLS = int(sys.argv[3]) if len(sys.argv) > 3 else 2048

PEER = r'''
import json, resource, sys, time
import numpy as np
path, offset, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
U = np.fromfile(path, dtype=np.float32, offset=offset, count=rows * cols).reshape(rows, cols)
t = {}
t0 = time.perf_counter()
C = U - U.mean(axis=0)
cov = C.T @ C / rows
t['covariance'] = time.perf_counter() - t0
t1 = time.perf_counter()
lam, Q = np.linalg.eigh(cov)
t['eigh'] = time.perf_counter() - t1
t2 = time.perf_counter()
W = Q @ np.diag(1 / np.sqrt(lam)) @ Q.T
g = C @ W
t['g'] = time.perf_counter() - t2
t['total'] = time.perf_counter() - t0
np.asarray(g[:64], dtype=np.float32).tofile(path + '.peer-rows.bin')
print(json.dumps({'seconds': t, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  'eig_top': [float(x) for x in lam[::-1][:5]]}))
'''


def main():
    rng = np.random.default_rng(0)
    s = np.exp(-np.arange(COLS) / (COLS / 5)).astype(np.float64) + 0.01
    q, _ = np.linalg.qr(rng.standard_normal((COLS, COLS)))
    scaled = (np.diag(s) @ q.T).astype(np.float32)
    with tempfile.TemporaryDirectory(dir=os.environ.get('TMPDIR', '/tmp')) as tmp:
        path = os.path.join(tmp, 'u.safetensors')
        header = json.dumps({'u': {'dtype': 'F32', 'shape': [ROWS, COLS], 'data_offsets': [0, ROWS * COLS * 4]}})
        header += ' ' * ((8 - len(header) % 8) % 8)
        with open(path, 'wb') as f:
            f.write(len(header).to_bytes(8, 'little'))
            f.write(header.encode())
            for r0 in range(0, ROWS, 16384):
                n = min(16384, ROWS - r0)
                f.write((rng.standard_normal((n, COLS), dtype=np.float32) @ scaled).astype(np.float32).tobytes())
        offset = 8 + len(header)
        print(f'{ROWS} x {COLS} float32 ({ROWS * COLS * 4 / 2**30:.1f} GiB), top eigenvalues should be about '
              f'{", ".join(f"{v:.4g}" for v in (s ** 2)[:5])}', flush=True)
        results = {'rows': ROWS, 'cols': COLS, 'threads': os.cpu_count()}

        peer = json.loads(subprocess.run([sys.executable, '-c', PEER, path, str(offset), str(ROWS), str(COLS)],
                                         capture_output=True, text=True, check=True).stdout)
        peer_rows = np.fromfile(path + '.peer-rows.bin', dtype=np.float32).reshape(64, COLS)
        print(f"NumPy: {peer['seconds']['total']:.1f} s (covariance {peer['seconds']['covariance']:.1f}, "
              f"eigh {peer['seconds']['eigh']:.1f}, g {peer['seconds']['g']:.1f}), peak {peer['peak_rss_mb']:.0f} MB, "
              f"top eigenvalues {', '.join(f'{v:.4g}' for v in peer['eig_top'])}", flush=True)
        results['numpy'] = peer
        for mode in ['transform', 'full']:
            args = [BENCH, path, 'u', '1', 'cpu'] + (['transform'] if mode == 'transform' else [])
            ours = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
            rows = np.fromfile(path + '.g-rows.bin', dtype=np.float32).reshape(64, COLS)
            rel = float(np.abs(rows - peer_rows).max() / np.abs(peer_rows).max())
            what = ('Cov^-1/2 only (rows of g on demand)' if mode == 'transform'
                    else 'forming all of g (the same steps as NumPy)')
            print(f"ConceptScope, {what}: {ours['seconds']:.1f} s, peak {ours['peak_rss_mb']:.0f} MB "
                  f"({ours['peak_rss_mb'] / (ROWS * COLS * 4 / 2**20):.2f} x the matrix), ratio "
                  f"{peer['seconds']['total'] / ours['seconds']:.2f} x NumPy; g rows vs NumPy max rel diff {rel:.2e}; "
                  f"top eigenvalues {', '.join(f'{v:.4g}' for v in ours['eig_top'])}", flush=True)
            ours['g_rows_rel_diff'] = rel
            results['conceptscope_' + mode] = ours
        out = os.path.join(os.path.dirname(BENCH), 'whiten-bench.json')
        with open(out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
