#!/usr/bin/python3
"""Mapper benchmark: conceptscope-cli mapper against a reference pipeline with
the same parameters written with NumPy, SciPy and scikit-learn's DBSCAN, in
the same script, on 100k points in 20 dimensions:

  circle: a noisy circle in the first two coordinates, a 2-D lens (the first
          two coordinates) with 60 x 60 intervals at 0.5 overlap;
  blobs:  eight Gaussian blobs, a 1-D lens (the first coordinate) with 40
          intervals at 0.3 overlap.

The reference follows ConceptScope's documented definitions (docs/mapper.md):
the same interval formula, DBSCAN with border points given to their nearest
core point (scikit-learn's DBSCAN hands them to the first cluster that
reaches them; the reference then re-assigns them), and the nerve from a
sparse point-membership matrix product (not a loop over node pairs). Both
graphs must have the same nodes and edges. Times are the graph only (cover,
clustering, nerve): reading the points and the layout are reported apart.
scikit-learn runs with its default algorithm choice, timed with n_jobs=None
(BLAS on every core) and n_jobs=-1; the faster one counts.

Usage: run-mapper-bench.py CLI [POINTS]"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_env import blas_in_use, use_openmp_openblas  # noqa: E402

use_openmp_openblas()   # scikit-learn's own OpenMP loops share the cores with BLAS too
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.cluster import DBSCAN  # noqa: E402
from sklearn.metrics import pairwise_distances  # noqa: E402

CLI = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
D = 20


def cover(v, n, ov):
    a, b = v.min(), v.max()
    L = (b - a) / (n - (n - 1) * ov)
    lo = a + np.arange(n) * (L * (1 - ov))
    hi = lo + L
    hi[-1] = b
    return lo, hi


def reference(X, lens, n_int, ov, eps, ms, n_jobs):
    t0 = time.perf_counter()
    covers = [cover(lens[:, l], n_int, ov) for l in range(lens.shape[1])]
    first = [np.where((lens[:, 0] >= covers[0][0][i]) & (lens[:, 0] <= covers[0][1][i]))[0] for i in range(n_int)]
    elements = []
    for i in range(n_int):
        if lens.shape[1] == 1:
            elements.append(first[i])
            continue
        sub = first[i]
        v = lens[sub, 1]
        for j in range(n_int):
            elements.append(sub[(v >= covers[1][0][j]) & (v <= covers[1][1][j])])
    nodes = []
    for idx in elements:
        if len(idx) == 0:
            continue
        P = X[idx]
        db = DBSCAN(eps=eps, min_samples=ms, n_jobs=n_jobs).fit(P)
        lab = db.labels_.copy()
        core = np.zeros(len(idx), bool)
        core[db.core_sample_indices_] = True
        border = np.where(~core & (lab >= 0))[0]
        if len(border):
            cidx = np.where(core)[0]
            dist = pairwise_distances(P[border], P[cidx])
            dist[dist > eps] = np.inf
            lab[border] = lab[cidx[np.argmin(dist, axis=1)]]
        for c in range(lab.max() + 1):
            m = idx[lab == c]
            if len(m):
                nodes.append(m)
    rows = np.concatenate([np.full(len(m), k) for k, m in enumerate(nodes)])
    cols = np.concatenate(nodes)
    M = sp.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)), shape=(len(nodes), len(X)))
    C = sp.triu(M @ M.T, k=1).tocoo()
    edges = [(int(a), int(b), int(s)) for a, b, s in zip(C.row, C.col, C.data) if s >= 1]
    return nodes, edges, time.perf_counter() - t0


def compare(graph, nodes, edges):
    ours = [tuple(nd['members']) for nd in graph['nodes']]
    theirs = [tuple(int(x) for x in np.sort(m)) for m in nodes]
    same_nodes = set(ours) == set(theirs) and len(ours) == len(theirs)
    ok = {(ours[e['source']], ours[e['target']], e['shared']) for e in graph['edges']}
    te = set()
    for a, b, s in edges:
        x, y = theirs[a], theirs[b]
        te.add((min(x, y), max(x, y), s) if True else None)
    oe = {(min(a, b), max(a, b), s) for a, b, s in ok}
    return same_nodes, oe == te, len(set(ours) ^ set(theirs)), len(oe ^ te)


def case(name, X, lens_cols, n_int, ov, eps, ms, tmp):
    path = os.path.join(tmp, name + '.h5')
    with h5py.File(path, 'w') as f:
        f['points'] = X
    out = os.path.join(tmp, name + '.json')
    args = [CLI, 'mapper', '--input', path + ':/points', '--lens', f'column:{lens_cols[0]}']
    if len(lens_cols) > 1:
        args += ['--lens2', f'column:{lens_cols[1]}']
    args += ['--intervals', str(n_int), '--overlap', str(ov), '--eps', str(eps), '--min-samples', str(ms),
             '--output', out, '--json']
    t0 = time.perf_counter()
    s = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    wall = time.perf_counter() - t0
    graph = json.load(open(out))
    # the peer's faster setting: one process (BLAS still uses every core) or
    # scikit-learn's n_jobs=-1
    runs = {nj: reference(X, X[:, lens_cols], n_int, ov, eps, ms, nj) for nj in (None, -1)}
    best = min(runs, key=lambda k: runs[k][2])
    nodes, edges, t_ref = runs[best]
    same_nodes, same_edges, dn, de = compare(graph, nodes, edges)
    r = {
        'case': name, 'points': len(X), 'dims': X.shape[1],
        'nodes': s['nodes'], 'edges': s['edges'], 'components': s['components'], 'cycle_rank': s['cycle_rank'],
        'conceptscope_graph_s': s['graph_seconds'], 'conceptscope_layout_s': s['layout_seconds'],
        'conceptscope_process_s': wall, 'reference_graph_s': t_ref,
        'speedup_graph': t_ref / s['graph_seconds'], 'speedup_process': t_ref / wall,
        'same_nodes': same_nodes, 'same_edges': same_edges, 'node_diff': dn, 'edge_diff': de,
        'reference_nodes': len(nodes), 'reference_edges': len(edges),
        'reference_n_jobs': best, 'reference_s_by_n_jobs': {str(k): v[2] for k, v in runs.items()},
    }
    print(json.dumps(r), flush=True)
    return r


def main():
    rng = np.random.default_rng(0)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        t = rng.uniform(0, 2 * np.pi, N)
        X = rng.normal(0, 0.01, (N, D))
        X[:, 0] += np.cos(t)
        X[:, 1] += np.sin(t)
        results.append(case('circle', X, [0, 1], 60, 0.5, 0.1, 5, tmp))
        centres = rng.uniform(-10, 10, (8, D))
        X = centres[rng.integers(0, 8, N)] + rng.normal(0, 1, (N, D))
        results.append(case('blobs', X, [0], 40, 0.3, 4.0, 10, tmp))
    ok = all(r['same_nodes'] and r['same_edges'] for r in results)
    print(json.dumps({'all_graphs_equal': ok, 'cores': os.cpu_count(), 'peer_blas': blas_in_use()}))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
