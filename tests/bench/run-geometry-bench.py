#!/usr/bin/python3
"""Concept geometry at the sizes of the paper's models, on this machine.

Writes a model folder with exactly Meta-Llama-3-8B's files and shapes
(config.json, four BF16 safetensors shards with transformers' tensor names and
their index, Llama 3's real tokenizer.json rebuilt from the npm package
llama3-tokenizer-js) and one with Gemma-2B's shapes (256,000 × 2,048 tied
unembedding, 18 layers; its vocabulary is Llama 3's padded with unused tokens
to 256,000, as only the unembedding's shape matters here). Only the
unembedding holds data: Gaussian rows with planted WordNet structure (every
token of the animal hierarchy gets a shared animal direction plus one per
child category); the layers' weights are holes in sparse files (zeros).

Then, in this one script:
  1. conceptscope-cli geometry MODEL --hierarchy animal, nothing cached:
     wall time, peak memory, whitening and estimation seconds;
  2. the same into a new workspace with the whitening in the user's cache;
  3. the estimator alone on every category's tokens (rows of g computed here
     from the workspace's whitening): ConceptScope's n × n path, its d × d
     reference, and the paper's own estimator in NumPy (scikit-learn's
     ledoit_wolf, numpy.linalg.pinv, as linear_rep_geometry does it), all
     threads, same rows; vectors compared;
  4. 300 categories of 20–400 tokens with the fast path (whole-WordNet scale);
  5. Ctrl-C during the whitening (covariance pass, eigendecomposition): the
     time until the process has exited.

Usage: run-geometry-bench.py CLI BENCH_ESTIMATE TOKENIZER.json [llama3-8b|gemma-2b ...]
TOKENIZER.json: tests/bench/make-llama3-tokenizer.js's output."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_env  # noqa: E402

peer_env.use_openmp_openblas()

import h5py  # noqa: E402
import numpy as np  # noqa: E402

CLI = ESTIMATE = TOKENIZER = None
SHAPES = ['llama3-8b', 'gemma-2b']
WORDNET = '/usr/share/wordnet'
ANIMAL = ['animal', 'mammal', 'bird', 'fish', 'reptile', 'amphibian', 'insect']

CONFIGS = {
    'llama3-8b': {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'hidden_size': 4096,
        'intermediate_size': 14336, 'num_hidden_layers': 32, 'num_attention_heads': 32,
        'num_key_value_heads': 8, 'vocab_size': 128256, 'max_position_embeddings': 8192,
        'rms_norm_eps': 1e-05, 'rope_theta': 500000.0, 'hidden_act': 'silu', 'tie_word_embeddings': False,
        'bos_token_id': 128000, 'eos_token_id': 128001, 'torch_dtype': 'bfloat16', 'attention_bias': False,
        'initializer_range': 0.02, 'pretraining_tp': 1, 'rope_scaling': None, 'use_cache': True,
        'transformers_version': '4.40.0.dev0',
    },
    'gemma-2b': {
        'architectures': ['GemmaForCausalLM'], 'model_type': 'gemma', 'hidden_size': 2048,
        'intermediate_size': 16384, 'num_hidden_layers': 18, 'num_attention_heads': 8,
        'num_key_value_heads': 1, 'head_dim': 256, 'vocab_size': 256000, 'max_position_embeddings': 8192,
        'rms_norm_eps': 1e-06, 'rope_theta': 10000.0, 'hidden_act': 'gelu_pytorch_tanh',
        'hidden_activation': 'gelu_pytorch_tanh', 'bos_token_id': 2, 'eos_token_id': 1, 'pad_token_id': 0,
        'torch_dtype': 'bfloat16', 'attention_bias': False, 'tie_word_embeddings': True,
        'transformers_version': '4.38.0.dev0',
    },
}
SHARDS = {'llama3-8b': 4, 'gemma-2b': 2}


def tensors_of(cfg):
    """transformers' names and shapes, in its order."""
    d, f, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    hd = cfg.get('head_dim', d // cfg['num_attention_heads'])
    q, kv = cfg['num_attention_heads'] * hd, cfg['num_key_value_heads'] * hd
    out = [('model.embed_tokens.weight', [V, d])]
    for layer in range(cfg['num_hidden_layers']):
        p = f'model.layers.{layer}.'
        out += [(p + 'self_attn.q_proj.weight', [q, d]), (p + 'self_attn.k_proj.weight', [kv, d]),
                (p + 'self_attn.v_proj.weight', [kv, d]), (p + 'self_attn.o_proj.weight', [d, q]),
                (p + 'mlp.gate_proj.weight', [f, d]), (p + 'mlp.up_proj.weight', [f, d]),
                (p + 'mlp.down_proj.weight', [d, f]), (p + 'input_layernorm.weight', [d]),
                (p + 'post_attention_layernorm.weight', [d])]
    out.append(('model.norm.weight', [d]))
    if not cfg['tie_word_embeddings']:
        out.append(('lm_head.weight', [V, d]))
    return out


def wordnet_closures(names):
    """Lemmas of each synset NAME.n.01's hyponym closure (single words)."""
    first = {}
    with open(os.path.join(WORDNET, 'index.noun'), encoding='latin-1') as f:
        for line in f:
            if line.startswith(' '):
                continue
            parts = line.split()
            n_syn = int(parts[2])
            first[parts[0]] = parts[-n_syn]
    data = {}
    with open(os.path.join(WORDNET, 'data.noun'), encoding='latin-1') as f:
        for line in f:
            if line.startswith(' '):
                continue
            parts = line.split(' | ')[0].split()
            off, w_cnt = parts[0], int(parts[3], 16)
            words = [parts[4 + 2 * i].lower() for i in range(w_cnt)]
            k = 4 + 2 * w_cnt
            p_cnt = int(parts[k])
            hypo = [parts[k + 1 + 4 * i + 1] for i in range(p_cnt) if parts[k + 1 + 4 * i] in ('~', '~i')]
            data[off] = (words, hypo)
    out = {}
    for name in names:
        seen, stack, lemmas = set(), [first[name]], set()
        while stack:
            o = stack.pop()
            if o in seen or o not in data:
                continue
            seen.add(o)
            lemmas.update(w for w in data[o][0] if w.isalpha())
            stack.extend(data[o][1])
        out[name] = lemmas
    return out


def to_bf16(x):
    """float32 → bfloat16 bits, rounded to nearest even."""
    b = x.astype(np.float32).view(np.uint32)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16(h):
    return (h.astype(np.uint32) << 16).view(np.float32)


def write_model(folder, shape, vocab):
    """The folder; returns the unembedding (bf16 bits) and the planted token ids."""
    cfg = CONFIGS[shape]
    V, d = cfg['vocab_size'], cfg['hidden_size']
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    # the unembedding: N(0, 0.02²) rows, planted WordNet structure
    rng = np.random.default_rng(1)
    dirs = {c: v / np.linalg.norm(v) for c, v in zip(ANIMAL, rng.standard_normal((len(ANIMAL), d)))}
    closures = wordnet_closures(ANIMAL)
    planted = {}
    for c in ANIMAL:
        ids = set()
        for w in closures[c]:
            for form in ('\u0120' + w, '\u0120' + w.capitalize()):
                if form in vocab and vocab[form] < V:
                    ids.add(vocab[form])
        planted[c] = np.array(sorted(ids), dtype=np.int64)
    U = np.empty((V, d), dtype=np.uint16)
    sigma = 0.02
    for r0 in range(0, V, 16384):
        r1 = min(V, r0 + 16384)
        U[r0:r1] = to_bf16(rng.standard_normal((r1 - r0, d), dtype=np.float32) * sigma)
    rows = {}
    for c in ANIMAL:
        for i in planted[c]:
            rows.setdefault(int(i), []).append(c)
    for i, cs in rows.items():
        x = from_bf16(U[i]).astype(np.float64) + 4 * sigma * dirs['animal']
        for c in cs:
            if c != 'animal':
                x += 4 * sigma * dirs[c]
        U[i] = to_bf16(x)

    unembedding = 'model.embed_tokens.weight' if cfg['tie_word_embeddings'] else 'lm_head.weight'
    tensors = tensors_of(cfg)
    sizes = [int(np.prod(s)) * 2 for _, s in tensors]
    total = sum(sizes)
    n_shards = SHARDS[shape]
    per = total / n_shards
    groups, acc = [[] for _ in range(n_shards)], 0
    for (name, s), size in zip(tensors, sizes):
        groups[min(n_shards - 1, int(acc // per))].append((name, s, size))
        acc += size
    weight_map = {}
    for k, group in enumerate(groups):
        fname = f'model-{k + 1:05d}-of-{n_shards:05d}.safetensors'
        header, off = {'__metadata__': {'format': 'pt'}}, 0
        for name, s, size in group:
            header[name] = {'dtype': 'BF16', 'shape': s, 'data_offsets': [off, off + size]}
            off += size
            weight_map[name] = fname
        h = json.dumps(header).encode()
        h += b' ' * ((8 - len(h) % 8) % 8)
        with open(os.path.join(folder, fname), 'wb') as f:
            f.write(len(h).to_bytes(8, 'little'))
            f.write(h)
            base = 8 + len(h)
            for name, s, size in group:
                if name == unembedding:
                    f.seek(base + header[name]['data_offsets'][0])
                    f.write(U.tobytes())
                elif name.endswith('norm.weight'):
                    f.seek(base + header[name]['data_offsets'][0])
                    f.write(to_bf16(np.ones(s, dtype=np.float32)).tobytes())
            f.truncate(base + off)
    with open(os.path.join(folder, 'model.safetensors.index.json'), 'w') as f:
        json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2)
    return U, planted


PEER = r'''
import json, sys, time
import numpy as np
from sklearn.covariance import ledoit_wolf
rows, out = sys.argv[1], sys.argv[2]
raw = open(rows, 'rb').read()
pos, secs, vecs = 0, [], []
while pos < len(raw):
    n, d = np.frombuffer(raw, dtype=np.int32, count=2, offset=pos)
    pos += 8
    X = np.frombuffer(raw, dtype=np.float64, count=n * d, offset=pos).reshape(n, d)
    pos += 8 * n * d
    t0 = time.perf_counter()
    # linear_rep_geometry's estimate_single_dir_from_embeddings, in NumPy
    mean = X.mean(axis=0)
    cov = ledoit_wolf(X)[0]
    direction = np.linalg.pinv(cov) @ mean
    direction = direction / np.linalg.norm(direction)
    lbar = (mean @ direction) * direction
    secs.append(time.perf_counter() - t0)
    vecs.append(lbar)
np.asarray(vecs).tofile(out)
print(json.dumps({'seconds': secs, 'total': sum(secs)}))
'''


def write_rows(path, U, mean, inv_sqrt, id_lists):
    with open(path, 'wb') as f:
        for ids in id_lists:
            X = (from_bf16(U[ids]).astype(np.float64) - mean) @ inv_sqrt
            f.write(np.array([len(ids), X.shape[1]], dtype=np.int32).tobytes())
            f.write(np.ascontiguousarray(X).tobytes())


def bench_shape(shape, tmp):
    cfg = CONFIGS[shape]
    V = cfg['vocab_size']
    with open(TOKENIZER, encoding='utf-8') as f:
        tj = json.load(f)
    vocab = tj['model']['vocab']
    for i in range(len(vocab) + len(tj['added_tokens']), V):
        vocab[f'<unused_{i}>'] = i
    folder = os.path.join(tmp, shape)
    t0 = time.perf_counter()
    U, planted = write_model(folder, shape, vocab)
    with open(os.path.join(folder, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tj, f)
    print(f'{shape}: wrote the folder in {time.perf_counter() - t0:.0f} s; planted tokens '
          + ', '.join(f'{c} {len(planted[c])}' for c in ANIMAL), file=sys.stderr)

    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, 'cache-' + shape))
    res = {'shape': shape, 'unembedding': [V, cfg['hidden_size']], 'dtype': 'BF16'}
    for k, label in enumerate(['first_open', 'cached']):
        ws = os.path.join(tmp, f'{shape}-{k}.h5')
        cmd = [CLI, 'geometry', folder, '--hierarchy', 'animal', '--output', ws, '--json']
        t0 = time.perf_counter()
        p = subprocess.run(['/usr/bin/time', '-f', '%M', *cmd], capture_output=True, env=env)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f'geometry failed: {p.stderr.decode()[-2000:]}')
        out = json.loads(p.stdout)
        res[label] = {'wall_s': round(wall, 2), 'peak_rss_mb': round(int(p.stderr.decode().split()[-1]) / 1024),
                      'whitening_from': out['whitening_from'], 'whitening_s': round(out['seconds']['whitening'], 2),
                      'estimation_s': round(out['seconds']['estimation'], 3),
                      'categories': {c['name']: c['tokens'] for c in out['categories']},
                      'held_out': {c['name']: round(c['test']['mean'], 3) for c in out['categories']
                                   if c.get('test')}}
        print(f'{shape} {label}: {res[label]}', file=sys.stderr)
    # Ctrl-C while whitening (nothing cached): how long until the process is gone
    res['cancel'] = []
    w = res['first_open']['whitening_s']
    for frac in (0.3, 0.85, 0.95):
        p = subprocess.Popen([CLI, 'geometry', folder, '--hierarchy', 'animal', '--no-cache', '--output',
                              os.path.join(tmp, 'cancelled.h5')], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env)
        time.sleep(frac * w)
        t0 = time.perf_counter()
        p.send_signal(signal.SIGINT)
        p.communicate()
        res['cancel'].append({'at_s': round(frac * w, 1), 'exit': p.returncode,
                              'seconds_to_exit': round(time.perf_counter() - t0, 2)})
    print(f'{shape} cancel: {res["cancel"]}', file=sys.stderr)
    ws = os.path.join(tmp, f'{shape}-0.h5')
    with h5py.File(ws, 'r') as f:
        mean = f['whitening/mean'][()]
        inv_sqrt = f['whitening/inv_sqrt_cov'][()]
        offsets = f['categories/token_offsets'][()]
        tokens = f['categories/tokens'][()]
        names = [n.decode() if isinstance(n, bytes) else n for n in f['categories/names'][()]]
    ids = [tokens[offsets[i]:offsets[i + 1]] for i in range(len(names))]
    rows = os.path.join(tmp, f'{shape}-rows.bin')
    write_rows(rows, U, mean, inv_sqrt, ids)

    est = {}
    for path in ['gram', 'reference']:
        p = subprocess.run([ESTIMATE, rows, rows + '.' + path] + (['reference'] if path == 'reference' else []),
                           capture_output=True, text=True, check=True)
        est[path] = json.loads(p.stdout)
    p = subprocess.run([sys.executable, '-c', PEER, rows, rows + '.peer'], capture_output=True, text=True, check=True)
    est['numpy'] = json.loads(p.stdout)
    d = cfg['hidden_size']
    vec = {k: np.fromfile(rows + '.' + k).reshape(-1, d) for k in ['gram', 'reference', 'peer']}
    rel = lambda a, b: float(np.max(np.linalg.norm(a - b, axis=1) / np.linalg.norm(b, axis=1)))
    res['estimator'] = {
        'categories': dict(zip(names, [len(i) for i in ids])),
        'gram_s': est['gram']['seconds'], 'reference_s': est['reference']['seconds'], 'numpy_s': est['numpy']['seconds'],
        'gram_total_s': est['gram']['total'], 'reference_total_s': est['reference']['total'],
        'numpy_total_s': est['numpy']['total'],
        'ratio_vs_numpy': est['numpy']['total'] / est['gram']['total'],
        'ratio_vs_reference': est['reference']['total'] / est['gram']['total'],
        'max_rel_diff_vs_reference': rel(vec['gram'], vec['reference']),
        'max_rel_diff_vs_numpy': rel(vec['gram'], vec['peer']),
        'gram_peak_rss_mb': est['gram']['peak_rss_mb'], 'reference_peak_rss_mb': est['reference']['peak_rss_mb'],
    }
    print(f'{shape} estimator: {res["estimator"]}', file=sys.stderr)

    # whole-WordNet scale: 300 categories of 20-400 tokens
    rng = np.random.default_rng(5)
    many = [np.sort(rng.choice(V, size=int(rng.integers(20, 401)), replace=False)) for _ in range(300)]
    write_rows(rows, U, mean, inv_sqrt, many)
    p = subprocess.run([ESTIMATE, rows, rows + '.gram'], capture_output=True, text=True, check=True)
    m = json.loads(p.stdout)
    res['many_categories'] = {'categories': 300, 'tokens': int(sum(len(i) for i in many)),
                              'gram_total_s': m['total'], 'peak_rss_mb': m['peak_rss_mb']}
    print(f'{shape} 300 categories: {res["many_categories"]}', file=sys.stderr)
    return res


def main():
    global CLI, ESTIMATE, TOKENIZER, SHAPES
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    CLI, ESTIMATE, TOKENIZER = sys.argv[1:4]
    SHAPES = sys.argv[4:] or SHAPES
    results = {'machine': f'{os.cpu_count()} cores', 'blas': peer_env.blas_in_use(), 'shapes': []}
    with tempfile.TemporaryDirectory(dir=os.environ.get('TMPDIR', '/var/tmp')) as tmp:
        for shape in SHAPES:
            results['shapes'].append(bench_shape(shape, tmp))
    print(json.dumps(results, indent=1))


if __name__ == '__main__':
    main()
