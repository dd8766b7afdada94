#!/usr/bin/python3
"""conceptscope-cli end to end: its HDF5 output read back with h5py and
compared with transformers' reference outputs; its JSON parsed; its errors
checked. Uses Debian's python3 (h5py, numpy), not the project's code."""
import json
import shutil
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import CliTest, read_safetensors  # noqa: E402

cli = sys.argv[1]
data = os.environ['CS_TEST_DATA']
sample = os.path.join(os.environ['CONCEPTSCOPE_DATADIR'], 'sample-model')
harness = CliTest(cli)
check, run = harness.check, harness.run


def wordnet_read(wndir, pos='noun'):
    """One part of speech of WordNet from its own files: lemmas and hyponym
    (and instance hyponym, troponym) links per synset offset, and each
    lemma's senses from the index."""
    letter = pos[0]
    lemmas, hypo = {}, {}
    with open(os.path.join(wndir, 'data.' + pos), encoding='latin-1') as f:
        for line in f:
            if line.startswith('  '):
                continue
            p = line.split()
            off, w = int(p[0]), int(p[3], 16)
            lemmas[off] = [p[4 + 2 * i] for i in range(w)]
            i = 4 + 2 * w
            n = int(p[i])
            kids = []
            for k in range(n):
                sym, o, ps = p[i + 1 + 4 * k], int(p[i + 2 + 4 * k]), p[i + 3 + 4 * k]
                if sym in ('~', '~i') and ps == letter:
                    kids.append(o)
            hypo[off] = kids
    senses = {}
    with open(os.path.join(wndir, 'index.' + pos), encoding='latin-1') as f:
        for line in f:
            if line.startswith('  '):
                continue
            p = line.split()
            nptr = int(p[3])
            senses[p[0]] = [int(x) for x in p[6 + nptr:]]
    names = {}
    for off in lemmas:
        first = lemmas[off][0].lower()
        names[off] = f'{first}.{letter}.{senses[first].index(off) + 1:02d}'
    return lemmas, hypo, names


def wordnet_closure_counts(wndir, tokenizer_json, pos='noun'):
    """Every synset's token count, computed here from WordNet's own files
    and the vocabulary: a synset's tokens are its hyponym closure's lemmas
    (its own excluded) as single tokens, lowercase or Capitalised, with the
    byte-level space; special tokens excluded. Keyed by the synset's name
    (first lemma, lowercased, and its sense number in the index)."""
    tj = json.load(open(tokenizer_json, encoding='utf-8'))
    vocab = tj['model']['vocab']
    special = {t['content'] for t in tj.get('added_tokens', []) if t.get('special')}
    lemmas, hypo, names = wordnet_read(wndir, pos)

    def own(off):
        out = set()
        for lem in lemmas[off]:
            low = lem.replace('_', ' ').lower()
            for form in {low, low[:1].upper() + low[1:]}:
                t = '\u0120' + form.replace(' ', '\u0120')
                if t in vocab and t not in special:
                    out.add(vocab[t])
        return out

    memo = {}

    def below(off):
        if off not in memo:
            acc = set()
            for k in hypo[off]:
                acc |= own(k) | below(k)
            memo[off] = acc
        return memo[off]

    sys.setrecursionlimit(10000)
    return {names[off]: len(below(off)) for off in lemmas}


def wordnet_distances(wndir, synsets):
    """NLTK's shortest_path_distance, written here: the fewest hypernym
    links from a up to a common ancestor plus from there down to b; -1 when
    there is none. Nouns only."""
    lemmas, hypo, names = wordnet_read(wndir, 'noun')
    by_name = {v: k for k, v in names.items()}
    hyper = {}
    for off, kids in hypo.items():
        for k in kids:
            hyper.setdefault(k, []).append(off)

    def ups(off):
        dist, frontier = {off: 0}, [off]
        while frontier:
            nxt = []
            for o in frontier:
                for h in hyper.get(o, []):
                    if h not in dist:
                        dist[h] = dist[o] + 1
                        nxt.append(h)
            frontier = nxt
        return dist

    anc = [ups(by_name[s]) for s in synsets]
    n = len(synsets)
    out = np.full((n, n), -1, dtype=np.int64)
    for i in range(n):
        for j in range(n):
            common = anc[i].keys() & anc[j].keys()
            if common:
                out[i, j] = min(anc[i][c] + anc[j][c] for c in common)
    return out


with tempfile.TemporaryDirectory() as tmp:
    # info
    info = json.loads(run('info', sample, '--json').stdout)
    check(info['architecture'] == 'GPT2LMHeadModel' and info['layers'] == 4 and info['hidden_size'] == 256
          and info['heads'] == 8 and info['vocab_size'] == 12288 and info['dtype'] == 'F16'
          and info['parameters'] == 6338048, 'info --json describes the sample model')

    # the process's threads: passive waiting unless the environment chooses;
    # OpenBLAS's kernels as the environment sets them, or the best the CPU runs
    env = {k: v for k, v in os.environ.items() if k not in ('OMP_WAIT_POLICY', 'OPENBLAS_CORETYPE', 'CS_NO_REEXEC')}
    c = json.loads(subprocess.run([cli, 'info', sample, '--json'], capture_output=True, text=True,
                                  env=env).stdout)['compute']
    flags = set(open('/proc/cpuinfo').read().split())
    best = ({'SkylakeX', 'Cooperlake', 'SapphireRapids'} if {'avx512f', 'avx512bw', 'avx512vl', 'avx512dq'} <= flags
            else {'Haswell', 'Zen'} if {'avx2', 'fma'} <= flags else None)
    check(c['omp_wait_policy'] == 'passive' and (best is None or c['blas_kernels'] in best)
          and c['blas_kernels'] in c['description'],
          f'unset environment: passive waiting, OpenBLAS {c["blas_kernels"]} kernels on this CPU')
    c = json.loads(subprocess.run([cli, 'info', sample, '--json'], capture_output=True, text=True,
                                  env=dict(env, OMP_WAIT_POLICY='active', OPENBLAS_CORETYPE='Prescott')).stdout)['compute']
    check(c['omp_wait_policy'] == 'active' and c['blas_kernels'] == 'Prescott',
          'what the environment sets is kept (OMP_WAIT_POLICY=active, OPENBLAS_CORETYPE=Prescott)')

    # tokenize: the GPT-2 reference tokenizer, against tokenizers' own ids
    tokfile = os.path.join(data, 'reference', 'tokenizers', 'gpt2-tokenizer.json')
    t = json.loads(run('tokenize', '--tokenizer', tokfile, 'Hello world', '--json').stdout)
    check(t['ids'] == [15496, 995] and t['tokens'] == ['Hello', '\u0120world'], 'tokenize --json')

    # run: the sample model knows what a beaver is
    r = json.loads(run('run', sample, '--prompt', 'A beaver is a kind of', '--top-k', '5', '--json').stdout)
    check(r['top'][0]['token'] == ' rodent', f'run puts " rodent" first (got {r["top"][0]["token"]!r})')
    probs = [e['probability'] for e in r['top']]
    check(all(a >= b for a, b in zip(probs, probs[1:])) and 0 < sum(probs) <= 1, 'run: probabilities sorted')

    # forward on each reference model with captures and steering
    for name in ['gpt2', 'llama', 'gemma2']:
        folder = os.path.join(data, 'reference', name)
        ref, meta = read_safetensors(os.path.join(folder, 'reference.safetensors'))
        ids = ';'.join(','.join(str(int(x)) for x in row) for row in ref['input_ids'])
        out = os.path.join(tmp, f'{name}.h5')
        run('forward', folder, '--ids', ids, '--output', out, '--capture', 'resid_pre.0,resid_post.2')
        with h5py.File(out, 'r') as f:
            check(f['logits'].dtype == np.float32 and f['logits'].shape == ref['logits'].shape,
                  f'{name}: /logits float32 {f["logits"].shape}')
            check(np.abs(f['logits'][()] - ref['logits']).max() < 1e-4, f'{name}: logits match transformers')
            for hook in ['resid_pre.0', 'resid_post.2']:
                check(np.abs(f[hook][()] - ref[hook]).max() < 1e-4, f'{name}: {hook} matches')
            check((f['input_ids'][()] == ref['input_ids']).all(), f'{name}: /input_ids')
        vec = os.path.join(tmp, 'vec.h5')
        with h5py.File(vec, 'w') as f:
            f['/steer/v'] = ref['steer_vector']
        out2 = os.path.join(tmp, f'{name}-steered.h5')
        run('forward', folder, '--ids', ids, '--output', out2, '--steer-vector', vec + ':/steer/v',
            '--steer-layer', meta['steer_layer'], '--steer-multiplier', meta['steer_multiplier'])
        with h5py.File(out2, 'r') as f:
            check(np.abs(f['logits'][()] - ref['steered_logits']).max() < 1e-4, f'{name}: steered logits match')

    # a batch of prompts of different lengths, padded in the file
    out = os.path.join(tmp, 'batch.h5')
    run('forward', sample, '--prompt', 'A beaver is a kind of', '--prompt', 'A sparrow is', '--output', out,
        '--logits', 'last')
    want = [json.loads(run('tokenize', sample, p, '--json').stdout)['ids']
            for p in ('A beaver is a kind of', 'A sparrow is')]
    with h5py.File(out, 'r') as f:
        lengths = list(f['lengths'][()])
        check(f['logits'].shape == (2, 12288) and lengths == [len(w) for w in want],
              f'forward --prompt batch, last logits (lengths {lengths})')
        check(list(f['input_ids'][1, :len(want[1])]) == want[1] and (f['input_ids'][1, len(want[1]):] == -1).all(),
              'second prompt padded with -1')
        # its last-position logits equal a run of that prompt alone
        alone = os.path.join(tmp, 'alone.h5')
        run('forward', sample, '--prompt', 'A sparrow is', '--output', alone)
        with h5py.File(alone, 'r') as g:
            check(np.abs(g['logits'][0, -1] - f['logits'][1]).max() < 1e-5, 'batched = alone')

    # sae-encode: the sample SAE on the sample model's resid_post.1, against
    # NumPy's encoding of the activations forward saved (forward itself is
    # checked against transformers above)
    sae_dir = os.path.join(data, 'sample-sae')
    text = 'A beaver is a kind of rodent.'
    acts = os.path.join(tmp, 'sae-acts.h5')
    run('forward', sample, '--prompt', text, '--output', acts, '--capture', 'resid_post.1', '--logits', 'none')
    e = json.loads(run('sae-encode', sample, '--sae', sae_dir, '--prompt', text, '--top-k', '3', '--json').stdout)
    w, _ = read_safetensors(os.path.join(sae_dir, 'sae_weights.safetensors'))
    with h5py.File(acts, 'r') as f:
        xa = f['resid_post.1'][0].astype(np.float64)
        ids_h5 = list(f['input_ids'][0])
    fa = np.maximum((xa - w['b_dec']) @ w['W_enc'] + w['b_enc'], 0)
    xh = fa @ w['W_dec'] + w['b_dec']
    fvu = ((xa - xh) ** 2).sum() / ((xa - xa.mean(0)) ** 2).sum()
    check(e['hook'] == 'resid_post.1' and [t['id'] for t in e['tokens']] == ids_h5, 'sae-encode reads the SAE\'s hook')
    check([t['l0'] for t in e['tokens']] == [int((r > 0).sum()) for r in fa], 'sae-encode: L0 per token')
    top_ok = all([c['feature'] for c in t['top']] == list(np.argsort(-r, kind='stable')[:3])
                 and all(abs(c['activation'] - r[c['feature']]) < 1e-4 for c in t['top'])
                 for t, r in zip(e['tokens'], fa))
    check(top_ok, 'sae-encode: top features and activations match NumPy')
    check(abs(e['fvu'] - fvu) < 1e-4 and 0 < fvu < 1, f'sae-encode: FVU {e["fvu"]:.3f} (NumPy {fvu:.3f})')
    # JumpReLU: a Gemma Scope params.npz (stored and deflated, as np.savez
    # and np.savez_compressed write them) and an SAELens jumprelu folder, made
    # from the sample SAE with a threshold; NumPy's JumpReLU is the oracle
    thr = np.quantile(fa[fa > 0], 0.5) * np.linspace(0.5, 1.5, w['b_enc'].shape[0]).astype(np.float32)
    pre = xa @ w['W_enc'] + w['b_enc']
    fj = np.where(pre > thr, pre, 0)
    for kind in ['plain', 'compressed']:
        folder = os.path.join(tmp, 'gemmascope', 'layer_1', 'width_2k', kind)
        os.makedirs(folder)
        save = np.savez if kind == 'plain' else np.savez_compressed
        save(os.path.join(folder, 'params.npz'), W_enc=w['W_enc'], W_dec=w['W_dec'], b_enc=w['b_enc'],
             b_dec=w['b_dec'], threshold=thr.astype(np.float32))
        e = json.loads(run('sae-encode', sample, '--sae', folder, '--prompt', text, '--top-k', '3', '--json').stdout)
        ok = [t['l0'] for t in e['tokens']] == [int((r > 0).sum()) for r in fj] and all(
            [c['feature'] for c in t['top']] == list(np.argsort(-r, kind='stable')[:3]) for t, r in zip(e['tokens'], fj))
        check(ok and e['hook'] == 'resid_post.1', f'Gemma Scope params.npz ({kind}): JumpReLU features = NumPy')
    jr = os.path.join(tmp, 'jumprelu-sae')
    os.makedirs(jr)
    cfg = json.load(open(os.path.join(sae_dir, 'cfg.json')))
    cfg['architecture'] = 'jumprelu'
    cfg['apply_b_dec_to_input'] = False
    json.dump(cfg, open(os.path.join(jr, 'cfg.json'), 'w'))
    tensors = dict(W_enc=w['W_enc'], W_dec=w['W_dec'], b_enc=w['b_enc'], b_dec=w['b_dec'], threshold=thr)
    header, blob = {}, b''
    for k, a in tensors.items():
        raw = np.ascontiguousarray(a, dtype=np.float32).tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [len(blob), len(blob) + len(raw)]}
        blob += raw
    hb = json.dumps(header).encode()
    with open(os.path.join(jr, 'sae_weights.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(hb)) + hb + blob)
    e = json.loads(run('sae-encode', sample, '--sae', jr, '--prompt', text, '--top-k', '3', '--json').stdout)
    check([t['l0'] for t in e['tokens']] == [int((r > 0).sum()) for r in fj], 'SAELens jumprelu: L0 = NumPy')
    # SAELens's run-time normalisations, the sample SAE's weights under each;
    # NumPy applies them as SAELens's definitions do (torch.std is N - 1)
    def normalised(x, kind):
        if kind == 'constant_norm_rescale':
            c = np.sqrt(x.shape[1]) / np.linalg.norm(x, axis=1, keepdims=True)
            return x * c, lambda y: y / c
        mu = x.mean(1, keepdims=True)
        sd = (x - mu).std(1, ddof=1, keepdims=True)
        return (x - mu) / (sd + 1e-5), lambda y: y * sd + mu
    for kind in ['constant_norm_rescale', 'layer_norm', 'expected_average_only_in']:
        folder = os.path.join(tmp, 'norm-' + kind)
        os.makedirs(folder)
        cfg_n = dict(cfg, architecture='standard', apply_b_dec_to_input=True, normalize_activations=kind)
        json.dump(cfg_n, open(os.path.join(folder, 'cfg.json'), 'w'))
        with open(os.path.join(folder, 'sae_weights.safetensors'), 'wb') as f:
            f.write(open(os.path.join(sae_dir, 'sae_weights.safetensors'), 'rb').read())
        p = run('sae-encode', sample, '--sae', folder, '--prompt', text, '--top-k', '3', '--json')
        e = json.loads(p.stdout)
        if kind == 'expected_average_only_in':
            fn, undo = xa, (lambda y: y)
        else:
            fn, undo = normalised(xa, kind)
        fnn = np.maximum((fn - w['b_dec']) @ w['W_enc'] + w['b_enc'], 0)
        xr = undo(fnn @ w['W_dec'] + w['b_dec'])
        fvu_n = ((xa - xr) ** 2).sum() / ((xa - xa.mean(0)) ** 2).sum()
        ok = all([c['feature'] for c in t['top']] == list(np.argsort(-r, kind='stable')[:3])
                 and all(abs(c['activation'] - r[c['feature']]) < 1e-3 * max(1, r.max()) for c in t['top'])
                 for t, r in zip(e['tokens'], fnn))
        ok = ok and [t['l0'] for t in e['tokens']] == [int((r > 0).sum()) for r in fnn]
        noted = ('no scaling factor' in p.stderr) == (kind == 'expected_average_only_in')
        check(ok and abs(e['fvu'] - fvu_n) < 1e-3 and noted,
              f'normalize_activations {kind}: features and FVU {e["fvu"]:.3f} = NumPy {fvu_n:.3f}')
    folder = os.path.join(tmp, 'norm-unknown')
    os.makedirs(folder)
    json.dump(dict(cfg, normalize_activations='sqrt'), open(os.path.join(folder, 'cfg.json'), 'w'))
    p = run('sae-encode', sample, '--sae', folder, '--prompt', text, expect=1)
    check("normalize_activations 'sqrt' is not one of SAELens's" in p.stderr, 'an unknown normalisation is refused')
    with open(os.path.join(tmp, 'broken.npz'), 'wb') as f:
        f.write(b'PK\x03\x04 not really a zip')
    p = run('sae-encode', sample, '--sae', os.path.join(tmp, 'broken.npz'), '--prompt', 'hi', expect=1)
    check('not a readable .npz' in p.stderr, 'a broken .npz: ' + p.stderr.strip()[:70])
    # sae train: from prompts (activations collected at the hook, streamed
    # through a scratch HDF5 file) and from an HDF5 dataset; the folders load
    # and encode, and the activation run's reconstruction beats the mean
    lines = os.path.join(tmp, 'lines.txt')
    some = json.load(open(os.path.join(os.environ['CONCEPTSCOPE_DATADIR'], 'steering', 'animal-vs-plant.json')))
    with open(lines, 'w') as f:
        for p_ in some[:40]:
            f.write(p_['positive'] + ' a kind of animal.\n' + p_['negative'] + ' a kind of plant.\n')
    tr = os.path.join(tmp, 'trained-sae')
    p = run('sae', 'train', sample, '--prompts', lines, '--hook', 'resid_post.2', '--d-sae', '64', '--epochs', '2',
            '--batch', '64', '--output', tr)
    cfg_t = json.load(open(os.path.join(tr, 'cfg.json')))
    check(cfg_t['hook_name'] == 'blocks.2.hook_resid_post' and cfg_t['d_sae'] == 64 and 'collected' in p.stderr,
          'sae train --prompts writes an SAELens folder for resid_post.2')
    e = json.loads(run('sae', 'encode', sample, '--sae', tr, '--prompt', 'A dog is a kind of', '--json').stdout)
    check(e['hook'] == 'resid_post.2' and 0 <= e['fvu'] < 1.5, f'the trained SAE encodes (FVU {e["fvu"]:.2f})')
    synth = os.path.join(tmp, 'synth.h5')
    rng2 = np.random.default_rng(2)
    dirs = rng2.normal(size=(12, 8))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    coef = rng2.uniform(0.5, 2, (6000, 12)) * (rng2.random((6000, 12)) < 0.15)
    with h5py.File(synth, 'w') as f:
        f['x'] = (coef @ dirs).astype(np.float32)
    tr2 = os.path.join(tmp, 'trained-synth')
    run('sae', 'train', '--activations', synth + ':/x', '--d-sae', '24', '--l1', '0.3', '--lr', '3e-3',
        '--epochs', '15', '--batch', '128', '--output', tr2)
    wt, _ = read_safetensors(os.path.join(tr2, 'sae_weights.safetensors'))
    X = (coef @ dirs).astype(np.float64)
    F = np.maximum((X - wt['b_dec']) @ wt['W_enc'] + wt['b_enc'], 0)
    fvu2 = (((F @ wt['W_dec'] + wt['b_dec']) - X) ** 2).sum() / ((X - X.mean(0)) ** 2).sum()
    check(fvu2 < 0.15, f'sae train --activations: NumPy reconstruction of the data, FVU {fvu2:.3f}')
    p = run('sae', 'train', '--activations', synth + ':/nope', '--output', tr2, expect=1)
    check("no dataset '/nope'" in p.stderr, 'sae train: a missing dataset')
    p = run('sae', 'train', '--activations', synth + ':/x', '--device', 'tpu', '--output', tr2, expect=2)
    check('--device is auto, cpu or cuda' in p.stderr, 'sae train: an unknown device')
    p = subprocess.run([cli, 'sae', 'train', '--activations', synth + ':/x', '--device', 'cuda', '--epochs', '1',
                        '--output', os.path.join(tmp, 'trained-cuda')], capture_output=True, text=True)
    check((p.returncode == 0 and 'training on CPU' not in p.stderr) or
          (p.returncode == 1 and 'no usable GPU: ' in p.stderr),
          'sae train --device cuda: trains on the GPU, or says why there is none: ' + p.stderr.strip()[-80:])
    p = run('sae-encode', os.path.join(data, 'reference', 'llama'), '--sae', sae_dir, '--prompt', 'hi', expect=1)
    check('reads 256-dimensional activations, but llama has hidden size 64' in p.stderr, 'SAE d_in mismatch')
    p = run('sae-encode', sample, '--sae', tmp, '--prompt', 'hi', expect=1)
    check(p.stderr.strip() != '', 'SAE folder without cfg.json: ' + p.stderr.strip()[:60])

    # geometry on the sample model's WordNet animal hierarchy, then its figures
    ws = os.path.join(tmp, 'ws.h5')
    g = json.loads(run('geometry', sample, '--hierarchy', 'animal', '--output', ws, '--json').stdout)
    cats = {c['name']: c for c in g['categories']}
    check([c['name'] for c in g['categories']] == ['animal', 'mammal', 'bird', 'fish', 'reptile', 'amphibian', 'insect']
          and cats['mammal']['tokens'] == 102 and not cats['amphibian']['reliable'] and cats['animal']['reliable'],
          'geometry --json: categories, counts, reliability')
    check(abs(cats['animal']['train']['mean'] - 1) < 1e-9 and cats['animal']['test']['mean'] > 0.6
          and abs(cats['animal']['random']['mean']) < 0.1, 'geometry: held-out above random')
    check(all(abs(cats[c]['cos_child_minus_parent_parent']) < 0.15 for c in ['mammal', 'bird', 'fish', 'insect']),
          'geometry: child - parent orthogonal to parent')
    # the whitening cache shared with the application: a second workspace of
    # the same model reads it instead of whitening again, with the same vectors
    cache_env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, 'cache'))
    runs = []
    for k, extra in enumerate([[], [], ['--no-cache']]):
        p = subprocess.run([cli, 'geometry', sample, '--hierarchy', 'animal', '--output',
                            os.path.join(tmp, f'cache{k}.h5'), '--json', *extra], capture_output=True, text=True,
                           env=cache_env)
        check(p.returncode == 0, f'geometry into a fresh workspace {extra}')
        runs.append(json.loads(p.stdout))
    check([r['whitening_from'] for r in runs] == ['computed', 'cache', 'computed'],
          f'whitening computed, then read from the user cache, then --no-cache: {[r["whitening_from"] for r in runs]}')
    with h5py.File(os.path.join(tmp, 'cache0.h5'), 'r') as f0, h5py.File(os.path.join(tmp, 'cache1.h5'), 'r') as f1:
        check(np.array_equal(f0['whitening/inv_sqrt_cov'][()], f1['whitening/inv_sqrt_cov'][()])
              and np.array_equal(f0['vectors/lbar'][()], f1['vectors/lbar'][()]),
              'the cached whitening gives the same Cov^-1/2 and vectors, bit for bit')
    check(all(r['seconds']['whitening'] >= 0 and r['seconds']['estimation'] > 0 for r in runs),
          'geometry --json reports its seconds')
    with h5py.File(ws, 'r') as f:
        lbar = f['vectors/lbar'][()]
        names = [n.decode() if isinstance(n, bytes) else n for n in f['categories/names'][()]]
        check(lbar.shape == (7, 256) and names[1] == 'mammal', 'workspace readable by h5py')
        check(abs(np.linalg.norm(lbar[1]) - cats['mammal']['norm']) < 1e-9, 'workspace vectors = JSON norms')
        cos = f['cosines/matrix'][()]
        check(abs(cos[0, 1] - g['cosine'][0][1]) < 1e-12, 'workspace cosines = JSON cosines')
    p = run('geometry', sample, '--output', ws, '--train-fraction', '1.0')
    check('reusing the whitening' in p.stderr, 'second run reuses the cached whitening')
    for ext in ['pdf', 'svg', 'png']:
        out = os.path.join(tmp, 'fig2.' + ext)
        run('figure', 'park-fig2', '--workspace', ws, '--output', out)
        size = os.path.getsize(out) if os.path.exists(out) else 0
        check(1000 < size < 5_000_000, f'park-fig2 .{ext}: {size} bytes')
    with open(os.path.join(tmp, 'fig2.png'), 'rb') as f:
        check(f.read(8) == b'\x89PNG\r\n\x1a\n', 'PNG signature')
    with open(os.path.join(tmp, 'fig2.pdf'), 'rb') as f:
        check(f.read(5) == b'%PDF-', 'PDF signature')
    run('figure', 'projection', '--workspace', ws, '--x', 'animal', '--y', 'bird', '--y-minus', 'mammal',
        '--label', 'beaver,sparrow', '--preset', 'column', '--output', os.path.join(tmp, 'p.pdf'))
    for ext in ['pdf', 'png']:
        out = os.path.join(tmp, 'simplex.' + ext)
        run('figure', 'simplex-3d', '--workspace', ws, '--axes', 'mammal,bird,fish', '--azimuth', '60',
            '--elevation', '20', '--output', out)
        size = os.path.getsize(out) if os.path.exists(out) else 0
        check(1000 < size < 5_000_000, f'simplex-3d .{ext}: {size} bytes')
    run('figure', 'simplex-3d', '--workspace', ws, '--axes', 'animal,bird-mammal,fish-mammal', '--output',
        os.path.join(tmp, 'simplex-diff.svg'))
    p = run('figure', 'simplex-3d', '--workspace', ws, '--axes', 'mammal,bird', '--output',
            os.path.join(tmp, 's.png'), expect=2)
    check('three' in p.stderr, 'simplex-3d with two axes: refused')
    p = run('figure', 'simplex-3d', '--workspace', ws, '--axes', 'mammal,bird,mammal', '--output',
            os.path.join(tmp, 's.png'), expect=1)
    check('linearly dependent' in p.stderr, 'simplex-3d with a repeated axis: refused')
    p = run('figure', 'simplex-3d', '--workspace', ws, '--axes', 'mammal,bird,unicorn', '--output',
            os.path.join(tmp, 's.png'), expect=1)
    check("no category 'unicorn'" in p.stderr, 'simplex-3d with an unknown category: named')
    p = run('figure', 'projection', '--workspace', ws, '--x', 'animal', '--y', 'mammal', '--label', 'zzqx',
            '--output', os.path.join(tmp, 'p2.pdf'), expect=1)
    check("'zzqx' is not one token" in p.stderr, 'a label that is not a token')
    for kind in ['heatmap', 'validation', 'orthogonality']:
        run('figure', kind, '--workspace', ws, '--output', os.path.join(tmp, kind + '.svg'), '--theme', 'dark')
    p = run('figure', 'projection', '--workspace', ws, '--x', 'animal', '--y', 'unicorn', '--output',
            os.path.join(tmp, 'x.png'), expect=1)
    check("no category 'unicorn'" in p.stderr and 'mammal' in p.stderr, 'unknown category named, with the choices')
    # every WordNet noun synset with enough tokens: the list and the counts against the files, counted here
    wa = json.loads(run('geometry', sample, '--wordnet-all', '--min-tokens', '25', '--output',
                        os.path.join(tmp, 'wall.h5'), '--json').stdout)
    wndir = os.environ.get('WNHOME', '/usr/share/wordnet')
    want = wordnet_closure_counts(wndir, os.path.join(sample, 'tokenizer.json'))
    got = {c['synset']: c['tokens'] for c in wa['categories']}
    kept = {k for k, v in want.items() if v >= 25}
    bad = [k for k in got if got[k] != want.get(k)]
    check(set(got) == kept and not bad and wa['min_tokens'] == 25,
          f'geometry --wordnet-all: {len(got)} synsets with 25+ tokens, the same as counted from the files '
          f'({len(kept)}; {len(set(got) ^ kept)} differ, {len(bad)} counts differ)')
    order = [c['synset'] for c in wa['categories']]
    parents = {c['synset']: c['parent'] for c in wa['categories']}
    check(order[0] == 'entity.n.01' and all(parents[n] is None or order.index(parents[n]) < order.index(n)
                                            for n in order if parents[n] is None or parents[n] in parents),
          'geometry --wordnet-all: entity first, every parent before its children')
    # the distances: NLTK's shortest path through a common hypernym, computed here from the files
    with h5py.File(os.path.join(tmp, 'wall.h5'), 'r') as f:
        dist = f['wordnet/distance'][()]
        lbar = f['vectors/lbar'][()]
        cosm = f['cosines/matrix'][()]
        cps = f['vectors/cos_parent_shuffled'][()]
        parent = f['categories/parent'][()]
        srcs = [x.decode() for x in f['categories/sources'][()]]
    want_d = wordnet_distances(wndir, srcs)
    check(np.array_equal(dist, want_d) and dist.shape == (len(srcs), len(srcs)),
          f'geometry --wordnet-all: {dist.size} WordNet distances equal the shortest hypernym paths counted here '
          f'(max {dist.max()}, {int((dist != want_d).sum())} differ)')
    un = lbar / np.linalg.norm(lbar, axis=1, keepdims=True)
    check(np.allclose(cosm, un @ un.T, atol=1e-9), 'geometry --wordnet-all: the cosine table equals the vectors\' cosines')
    check(np.isnan(cps[0]) and np.isfinite(cps[1:]).sum() == (parent >= 0).sum() and np.all(np.abs(cps[1:]) <= 1),
          f'geometry --wordnet-all: the shuffled baseline of cos(child - parent, parent) for every child '
          f'(mean {np.nanmean(cps):.3f})')
    for kind, extra in [('wordnet-heatmaps', []), ('wordnet-heatmaps', ['--block', 'animal']),
                        ('orthogonality-all', [])]:
        for ext in ['png', 'svg', 'pdf']:
            out = os.path.join(tmp, f'{kind}{len(extra)}.{ext}')
            run('figure', kind, '--workspace', os.path.join(tmp, 'wall.h5'), '--output', out, *extra)
            size = os.path.getsize(out) if os.path.exists(out) else 0
            check(1000 < size < 20_000_000, f'figure {kind} {" ".join(extra)} .{ext}: {size} bytes')
    p = run('figure', 'wordnet-heatmaps', '--workspace', os.path.join(tmp, 'wall.h5'), '--block', 'unicorn',
            '--output', os.path.join(tmp, 'x.png'), expect=1)
    check("no category 'unicorn'" in p.stderr, 'wordnet-heatmaps --block of an unknown synset: named')
    # verbs, and nouns with verbs: the same count from data.verb
    wv = json.loads(run('geometry', sample, '--wordnet-all', '--pos', 'both', '--min-tokens', '25', '--output',
                        os.path.join(tmp, 'wboth.h5'), '--json').stdout)
    want_v = wordnet_closure_counts(wndir, os.path.join(sample, 'tokenizer.json'), 'verb')
    got_v = {c['synset']: c['tokens'] for c in wv['categories']}
    kept_v = kept | {k for k, v in want_v.items() if v >= 25}
    bad = [k for k in got_v if got_v[k] != {**want, **want_v}.get(k)]
    n_verbs = sum('.v.' in k for k in got_v)
    check(set(got_v) == kept_v and not bad and n_verbs > 0,
          f'geometry --wordnet-all --pos both: {len(got_v)} synsets ({n_verbs} verbs), the same as counted from '
          f'data.noun and data.verb ({len(set(got_v) ^ kept_v)} differ, {len(bad)} counts differ)')
    with h5py.File(os.path.join(tmp, 'wboth.h5'), 'r') as f:
        srcs_b = [x.decode() for x in f['categories/sources'][()]]
        dist_b = f['wordnet/distance'][()]
    i_n, i_v = srcs_b.index('entity.n.01'), next(i for i, x in enumerate(srcs_b) if '.v.' in x)
    check(dist_b[i_n, i_v] == -1 and dist_b[i_v, i_v] == 0 and all('.v.' in x for x in srcs_b[i_v:]),
          'geometry --wordnet-all --pos both: the verbs after the nouns, no path between a noun and a verb')
    p = run('geometry', sample, '--pos', 'verb', '--output', os.path.join(tmp, 'w.h5'), expect=2)
    check('--wordnet-all' in p.stderr, '--pos without --wordnet-all: refused')
    p = run('geometry', sample, '--wordnet-all', '--output', os.path.join(tmp, 'wall2.h5'))
    check('10 or more tokens' in p.stderr, 'geometry --wordnet-all: says the threshold it chose for this vocabulary')
    p = run('geometry', sample, '--wordnet-all', '--min-tokens', '1', '--output', os.path.join(tmp, 'wall3.h5'),
            expect=1)
    check('at most 4096' in p.stderr, 'geometry --wordnet-all: too many synsets refused with the reason')
    p = run('geometry', sample, '--wordnet-all', '--hierarchy', 'animal', '--output', os.path.join(tmp, 'w.h5'),
            expect=2)
    p = run('geometry', sample, '--wordnet', tmp, '--output', os.path.join(tmp, 'w2.h5'), expect=1)
    check('wordnet-base' in p.stderr, 'missing WordNet says how to get it')
    p = run('figure', 'heatmap', '--workspace', os.path.join(tmp, 'batch.h5'), '--output', os.path.join(tmp, 'h.png'),
            expect=1)
    check('not a ConceptScope workspace' in p.stderr, 'an HDF5 file that is not a workspace')

    # mapper on a CSV circle, against an independent NumPy Mapper with the
    # documented cover and DBSCAN (border points join their nearest core)
    rng = np.random.default_rng(4)
    t = rng.uniform(0, 2 * np.pi, 600)
    pts = np.stack([np.cos(t), np.sin(t)], 1) + rng.normal(0, 0.02, (600, 2))
    csv = os.path.join(tmp, 'circle.csv')
    with open(csv, 'w') as f:
        f.write('label,x,y\n')
        for i, (a, b) in enumerate(pts):
            f.write(f'p{i},{a!r},{b!r}\n')
    gj = os.path.join(tmp, 'circle.json')
    n_int, ov, eps, ms = 8, 0.3, 0.15, 4
    s = json.loads(run('mapper', '--input', csv, '--lens', 'column:0', '--intervals', str(n_int), '--overlap',
                       str(ov), '--eps', str(eps), '--min-samples', str(ms), '--output', gj,
                       '--figure', os.path.join(tmp, 'circle.svg'), '--json').stdout)
    check(s['components'] == 1 and s['cycle_rank'] == 1, f'mapper: a circle is one loop ({s})')
    graph = json.load(open(gj))
    lo_v, hi_v = pts[:, 0].min(), pts[:, 0].max()
    L = (hi_v - lo_v) / (n_int - (n_int - 1) * ov)
    want = set()
    for i in range(n_int):
        a = lo_v + i * L * (1 - ov)
        b = hi_v if i == n_int - 1 else a + L
        idx = np.where((pts[:, 0] >= a) & (pts[:, 0] <= b))[0]
        if len(idx) == 0:
            continue
        P = pts[idx]
        D = np.sqrt(((P[:, None] - P[None]) ** 2).sum(-1))
        core = (D <= eps).sum(1) >= ms
        lab = -np.ones(len(idx), int)
        k = 0
        for c in np.where(core)[0]:
            if lab[c] >= 0:
                continue
            stack, lab[c] = [c], k
            while stack:
                u = stack.pop()
                for v in np.where((D[u] <= eps) & core & (lab < 0))[0]:
                    lab[v] = k
                    stack.append(v)
            k += 1
        for j in np.where(~core)[0]:
            near = np.where(core & (D[j] <= eps))[0]
            if len(near):
                lab[j] = lab[near[np.argmin(D[j, near])]]
        for c in range(k):
            want.add(tuple(sorted(idx[lab == c])))
    got = set(tuple(nd['members']) for nd in graph['nodes'])
    check(got == want, f'mapper: nodes = NumPy Mapper ({len(got)} vs {len(want)})')
    member_sets = [set(nd['members']) for nd in graph['nodes']]
    want_edges = {(a, b, len(member_sets[a] & member_sets[b])) for a in range(len(member_sets))
                  for b in range(a + 1, len(member_sets)) if member_sets[a] & member_sets[b]}
    check({(e['source'], e['target'], e['shared']) for e in graph['edges']} == want_edges
          and graph['labels'][5] == 'p5', 'mapper: edges = pairwise intersections; labels from the CSV')
    check(os.path.getsize(os.path.join(tmp, 'circle.svg')) > 1000, 'mapper --figure')

    # mapper over HDF5 activations: two far blobs are two components
    blobs = os.path.join(tmp, 'blobs.h5')
    with h5py.File(blobs, 'w') as f:
        x = rng.normal(0, 1, (2, 300, 8))
        x[1, :, 1] += 40
        f['acts'] = x
    s = json.loads(run('mapper', '--input', blobs + ':/acts', '--lens', 'pca2', '--intervals', '5', '--output',
                       os.path.join(tmp, 'blobs.json'), '--json').stdout)
    check(s['points'] == 600 and s['dimensions'] == 8 and s['components'] == 2 and s['eps'] > 0,
          f'mapper on HDF5 [2, 300, 8] with automatic eps: two components ({s})')
    # a CSV whose label column names two classes: they are the points' groups
    lab = os.path.join(tmp, 'labelled.csv')
    with open(lab, 'w') as f:
        f.write('kind,x,y\n')
        for i in range(200):
            f.write(f'{"left" if i % 2 else "right"},{(-20 if i % 2 else 20) + rng.normal():.5f},{rng.normal():.5f}\n')
    gj = os.path.join(tmp, 'labelled.json')
    run('mapper', '--input', lab, '--lens', 'column:0', '--intervals', '4', '--output', gj)
    with open(gj) as f:
        g = json.load(f)
    check(g.get('group_names') == ['right', 'left'] and g['groups'] == [0 if i % 2 == 0 else 1 for i in range(200)],
          'mapper: a CSV label column naming classes gives the points\' groups')
    # forward's captures of prompts of different lengths: the padding is no point
    acts = os.path.join(tmp, 'ragged-acts.h5')
    run('forward', sample, '--prompt', 'A dog is a kind of', '--prompt', 'A cat', '--capture', 'resid_post.2',
        '--output', acts)
    with h5py.File(acts, 'r') as f:
        ids_np = f['input_ids'][()]
        real = f['resid_post.2'][()][ids_np >= 0]
    gj = os.path.join(tmp, 'ragged.json')
    s = json.loads(run('mapper', '--input', acts + ':/resid_post.2', '--lens', 'l2', '--intervals', '2', '--output', gj,
                       '--json').stdout)
    with open(gj) as f:
        g = json.load(f)
    check(s['points'] == int((ids_np >= 0).sum()) == len(real) and ids_np.size > len(real)
          and g.get('token_ids') == [int(t) for t in ids_np[ids_np >= 0]],
          f'mapper on forward captures leaves out the padding ({s["points"]} of {ids_np.size} positions)')

    # the Mapper page's case headless: the animal tokens, lenses l_mammal and
    # l_bird; the lens means equal NumPy's projections of g
    gj = os.path.join(tmp, 'animal.json')
    run('mapper', '--workspace', ws, '--categories', 'animal,mammal,bird', '--lens', 'vector:mammal',
        '--lens2', 'vector:bird', '--intervals', '5', '--overlap', '0.4', '--output', gj,
        '--figure', os.path.join(tmp, 'animal.png'))
    graph = json.load(open(gj))
    wts, _ = read_safetensors(os.path.join(sample, 'model.safetensors'))
    U = wts['lm_head.weight'] if 'lm_head.weight' in wts else wts['transformer.wte.weight']
    with h5py.File(ws, 'r') as f:
        G = (U[graph['token_ids']].astype(np.float64) - f['whitening/mean'][()]) @ f['whitening/inv_sqrt_cov'][()]
        lb = f['vectors/lbar'][()]
        has_mapper = 'mapper' in f and f['mapper/node_offsets'].shape[0] == len(graph['nodes']) + 1
    proj = G @ lb[1] / (lb[1] @ lb[1])
    worst = max(abs(proj[nd['members']].mean() - nd['lens_mean'][0]) for nd in graph['nodes'])
    check(len(graph['token_ids']) == cats['animal']['tokens'] and worst < 1e-9,
          f'mapper on animal tokens: lens means = NumPy g·l/|l|^2 (worst {worst:.1e})')
    check(has_mapper and graph['group_names'] == ['animal', 'mammal', 'bird'], 'mapper graph stored in the workspace')
    p = run('mapper', '--workspace', ws, '--categories', 'animal', '--lens', 'vector:unicorn', '--output', gj, expect=1)
    check("no estimated vector 'unicorn'" in p.stderr, 'mapper: unknown vector lens')
    p = run('mapper', '--input', csv, '--lens', 'column:7', '--output', gj, expect=1)
    check('only 2 columns' in p.stderr, 'mapper: column out of range')
    with open(os.path.join(tmp, 'ragged.csv'), 'w') as f:
        f.write('1,2\n3\n')
    p = run('mapper', '--input', os.path.join(tmp, 'ragged.csv'), '--lens', 'l2', '--output', gj, expect=1)
    check('line 2 has 1 fields' in p.stderr, 'mapper: ragged CSV')

    # steer: the shipped animal-vs-plant pairs; the vector checked against
    # NumPy's mean difference of the activations `forward` saves, and one
    # a set of SAEs, one per layer: latents of every later layer, each only at its own layer
    set_dir = os.path.join(os.environ['CONCEPTSCOPE_DATADIR'], 'sae-set')
    p = run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--layers', '1',
            '--multipliers=0,4', '--saes', set_dir, '--output', os.path.join(tmp, 'steer-set.h5'), '--json')
    ss = json.loads(p.stdout)
    feats = [f for f in ss['effects']['features'] if f['kind'] == 'sae']
    rows = ss['effects']['rows'] if 'rows' in ss['effects'] else list(range(1, 4))
    ok = len(feats) > 0 and {f['layer'] for f in feats} == {1, 2, 3}
    for f in feats:
        ok = ok and f['label'].startswith(f"L{f['layer']}/{f['index']}")
        ok = ok and all((v is not None) == (layer == f['layer']) for layer, v in zip(rows, f['change']))
    check(ok and 'SAE at layer 3: resid_post.3' in p.stderr,
          f'steer --saes: {len(feats)} latents from the SAEs of layers 1-3, each named L{{l}}/{{index}} and '
          f'measured at its own layer only')
    with h5py.File(os.path.join(tmp, 'steer-set.h5'), 'r') as f:
        col_layer = f['steering/effects/col_layer'][()].tolist()
        kinds = f['steering/effects/col_kind'][()].tolist()
    check([l for l, k in zip(col_layer, kinds) if k == 1] == [f['layer'] for f in feats],
          'steer --saes: each latent\'s layer saved in /steering/effects/col_layer')
    # the decomposition: the vector by layer 1's SAE, then the change it causes by layers 2 and 3's
    dec = ss['sae_decomposition']
    with h5py.File(os.path.join(tmp, 'steer-set.h5'), 'r') as f:
        saved_layers = f['steering/sae/layers'][()].tolist()
        vec1 = f['steering/vectors'][()][1].astype(np.float64)
        saved_enc = f['steering/sae/encoder_values'][()]
    w1, _ = read_safetensors(os.path.join(set_dir, 'resid_post.1', 'sae_weights.safetensors'))
    resp = vec1 @ w1['W_enc'].astype(np.float64)
    order = np.argsort(-resp)
    want = [int(i) for i in order[:5]] + [int(i) for i in np.argsort(resp)[:5]]
    got = [e['feature'] for e in dec[0]['encoder']]
    check([r['layer'] for r in dec] == [1, 2, 3] == saved_layers and dec[0]['of'] == 'vector' and
          got == want and max(abs(e['value'] - resp[e['feature']]) for e in dec[0]['encoder']) < 1e-4 and
          len(saved_enc) == 30,
          'steer --saes: the decomposition has the vector at layer 1 (its top encoder responses equal NumPy\'s '
          'W_enc^T v) and the change it causes at layers 2 and 3, saved with /steering/sae/layers')
    with h5py.File(os.path.join(tmp, 'steer-set.h5'), 'r') as f:
        saved_choices = [c.decode() for c in f['steering/sae_set/choices'][()]]
    p = run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--layers', '1',
            '--multipliers=0,4', '--saes', set_dir, '--sae-variant', '1=resid_post.9', '--output',
            os.path.join(tmp, 'x.h5'), expect=1)
    check(saved_choices == ['0=resid_post.0', '1=resid_post.1', '2=resid_post.2', '3=resid_post.3'] and
          'no SAE resid_post.9 at layer 1; there: resid_post.1' in p.stderr,
          'steer --saes: the variant of each layer saved in /steering/sae_set/choices; --sae-variant naming none '
          'of the folder\'s refused with the ones there')
    # the run's feature flow is `sae flow` at the effects layer and multiplier (tests/test-patch.py checks that one
    # against NumPy)
    fl = json.loads(run('sae', 'flow', sample, '--saes', set_dir, '--dataset', 'animal-vs-plant', '--layer', '1',
                        '--multiplier', '4', '--json').stdout)
    with h5py.File(os.path.join(tmp, 'steer-set.h5'), 'r') as f:
        sl = f['steering/flow/node_layer'][()].tolist()
        sk = f['steering/flow/node_latent'][()].tolist()
        se = f['steering/flow/edges'][()].tolist()
        sw = f['steering/flow/edge_weight'][()]
    check(sl == [n['layer'] for n in fl['nodes']] and sk == [n['latent'] for n in fl['nodes']] and
          se == [[a, b] for a, b, _ in fl['edges']] and np.allclose(sw, [w for _, _, w in fl['edges']], atol=1e-9),
          f'steer --saes: the feature flow saved in /steering/flow ({len(sl)} latents, {len(se)} edges) is '
          f'sae flow\'s at the effects layer')
    run('figure', 'steering-flow', '--workspace', os.path.join(tmp, 'steer-set.h5'), '--output',
        os.path.join(tmp, 'steering-flow.svg'))
    empty = os.path.join(tmp, 'no-saes')
    os.makedirs(empty, exist_ok=True)
    p = run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--saes', empty, '--output',
            os.path.join(tmp, 'x.h5'), expect=1)
    check('holds no SAE that fits' in p.stderr, 'steer --saes of a folder without SAEs: said')

    # behaviour value against NumPy's softmax of a steered `forward` run
    sdir = os.path.join(os.environ['CONCEPTSCOPE_DATADIR'], 'steering')
    pairs = json.load(open(os.path.join(sdir, 'animal-vs-plant.json')))
    held = [((i * 0.6180339887498949) % 1.0) < 0.5 for i in range(len(pairs))]
    out = os.path.join(tmp, 'steer.h5')
    st = json.loads(run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--layers', '1-2',
                        '--multipliers=-4,0,4', '--workspace', ws, '--sae', sae_dir, '--output', out,
                        '--json').stdout)
    check(st['pairs'] == held.count(False) and st['prompts'] == held.count(True) and st['layers'] == [1, 2],
          f'steer: {st["pairs"]} pairs for the vector, {st["prompts"]} held out')
    b = st['behaviour']
    check(all(r[0] < r[1] < r[2] for r in b), f'steer: animal-token mass rises with the multiplier {b}')
    train = [p for p, h in zip(pairs, held) if not h][:6]
    acts = os.path.join(tmp, 'steer-acts.h5')
    args = []
    for p in train:
        args += ['--prompt', p['positive'], '--prompt', p['negative']]
    run('forward', sample, *args, '--capture', 'resid_post.2', '--logits', 'none', '--output', acts)
    with h5py.File(acts, 'r') as f:
        a = f['resid_post.2'][()]
        ln = f['lengths'][()]
    last = np.stack([a[i, ln[i] - 1] for i in range(len(ln))])
    part = (last[0::2] - last[1::2]).mean(0)
    # the file's vector is over all training pairs: recompute it from them all
    args = []
    for p in [p for p, h in zip(pairs, held) if not h]:
        args += ['--prompt', p['positive'], '--prompt', p['negative']]
    run('forward', sample, *args, '--capture', 'resid_post.2', '--logits', 'none', '--output', acts)
    with h5py.File(acts, 'r') as f:
        a = f['resid_post.2'][()]
        ln = f['lengths'][()]
    last = np.stack([a[i, ln[i] - 1] for i in range(len(ln))])
    want = (last[0::2] - last[1::2]).mean(0)
    with h5py.File(out, 'r') as f:
        got = f['steering/vectors'][2]
        names = [n.decode() if isinstance(n, bytes) else n for n in f['steering/effects/col_labels'][()]]
        has_ws = 'whitening' in f
    vfile = os.path.join(tmp, 'v2.h5')
    with h5py.File(vfile, 'w') as f:
        f['v2'] = got
    check(np.abs(got - want).max() < 1e-4 and np.abs(part - want).max() > 0,
          f'steer: vector = NumPy mean difference (max diff {np.abs(got - want).max():.1e})')
    check(has_ws is False and any(n.startswith('SAE ') for n in names) and any(n.startswith('ℓ̄ ') for n in names),
          'steer: effects hold SAE features and concept read-outs')
    # behaviour at layer 2, multiplier 4: NumPy softmax over a steered forward run
    heldp = [p['negative'] for p, h in zip(pairs, held) if h]
    args = []
    for p in heldp:
        args += ['--prompt', p]
    sl = os.path.join(tmp, 'steered.h5')
    run('forward', sample, *args, '--logits', 'last', '--steer-vector', vfile + ':/v2', '--steer-layer', '2',
        '--steer-multiplier', '4', '--output', sl)
    with h5py.File(ws, 'r') as f:
        names_c = [n.decode() if isinstance(n, bytes) else n for n in f['categories/names'][()]]
        off = f['categories/token_offsets'][()]
        toks = f['categories/tokens'][()]
    animal_ids = toks[off[0]:off[1]]
    with h5py.File(sl, 'r') as f:
        z = f['logits'][()].astype(np.float64)
    pz = np.exp(z - z.max(1, keepdims=True))
    pz /= pz.sum(1, keepdims=True)
    mass = pz[:, animal_ids].sum(1).mean()
    check(names_c[0] == 'animal' and abs(mass - b[1][2]) < 1e-4,
          f'steer: behaviour {b[1][2]:.4f} = NumPy animal mass {mass:.4f} of a steered forward run')
    # continuations under steering: greedy ids = argmax of steered forward
    # runs (checked against transformers above), one token at a time
    out_g = os.path.join(tmp, 'steer-gen.h5')
    prompt = 'A alder is a kind of'
    g = json.loads(run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--layers', '2',
                       '--multipliers=0,4', '--effects-layer', '2', '--generate', prompt, '--tokens', '4',
                       '--output', out_g, '--json').stdout)['generations']
    pf = os.path.join(tmp, 'gen-prompt.h5')
    run('forward', sample, '--prompt', prompt, '--logits', 'none', '--output', pf)
    with h5py.File(pf, 'r') as f:
        ids0 = [int(x) for x in f['input_ids'][0]]
    greedy_ok = g['layer'] == 2 and [c['multiplier'] for c in g['continuations']] == [0, 4]
    for c in g['continuations']:
        seq = list(ids0)
        for _ in range(4):
            step = os.path.join(tmp, 'gen-step.h5')
            extra = [] if c['multiplier'] == 0 else ['--steer-vector', vfile + ':/v2', '--steer-layer', '2',
                                                     '--steer-multiplier', str(c['multiplier'])]
            run('forward', sample, '--ids', ','.join(map(str, seq)), '--logits', 'last', *extra, '--output', step)
            with h5py.File(step, 'r') as f:
                seq.append(int(np.argmax(f['logits'][0])))
        greedy_ok = greedy_ok and c['ids'] == seq[len(ids0):] and len(c['text']) > 0
    check(greedy_ok and g['continuations'][0]['ids'] != g['continuations'][1]['ids'],
          'steer --generate: greedy continuations = argmax of steered forward runs: ' +
          ' | '.join(f'{c["multiplier"]:+g}: {c["text"]!r}' for c in g['continuations']))
    with h5py.File(out_g, 'r') as f:
        check(f['steering/generations/ids'].shape == (2, 4) and
              list(f['steering/generations/ids'][1]) == g['continuations'][1]['ids'], 'generations stored')
    samp = [json.loads(run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--layers', '2',
                           '--multipliers=4', '--generate', prompt, '--tokens', '6', '--temperature', '1',
                           '--seed', '3', '--output', out_g, '--json').stdout)['generations']['continuations'][0]['ids']
            for _ in range(2)]
    check(samp[0] == samp[1] and len(samp[0]) == 6, 'steer --generate --temperature: the same seed, the same sample')
    fo = os.path.join(tmp, 'steering-samples.png')
    run('figure', 'steering-samples', '--workspace', out_g, '--output', fo)
    check(os.path.getsize(fo) > 5000, 'figure steering-samples')
    p = run('figure', 'steering-samples', '--workspace', out, '--output', fo, expect=1)
    check('no prompt was continued' in p.stderr, 'figure steering-samples without continuations: ' + p.stderr.strip())
    for kind in ['steering-behaviour', 'steering-heatmap', 'steering-effects', 'steering-concepts', 'svd',
                 'sae-decomposition']:
        fo = os.path.join(tmp, kind + '.png')
        run('figure', kind, '--workspace', out, '--output', fo)
        check(os.path.exists(fo) and os.path.getsize(fo) > 5000, f'figure {kind}')
    # steering with a concept: the vector added is Cov^(1/2) (l_animal - l_plant), computed here from the
    # workspace in NumPy, at every layer; it raises the animal mass on the plant prompts, monotonically
    ws_org = os.path.join(tmp, 'ws-organism.h5')
    run('geometry', sample, '--hierarchy', 'organism', '--output', ws_org)
    out_c = os.path.join(tmp, 'steer-concept.h5')
    sc = json.loads(run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--layers', '0-3',
                        '--multipliers=-4,-2,0,2,4', '--workspace', ws_org, '--concept', 'animal-plant',
                        '--output', out_c, '--json').stdout)
    with h5py.File(ws_org, 'r') as f:
        cnames = [n.decode() if isinstance(n, bytes) else n for n in f['categories/names'][()]]
        lbar = f['vectors/lbar'][()]
        inv_sqrt = f['whitening/inv_sqrt_cov'][()]
        parents = f['categories/parents'][()] if 'categories/parents' in f else None
        coff = f['categories/token_offsets'][()]
        ctoks = f['categories/tokens'][()]
    want_c = np.linalg.solve(inv_sqrt, lbar[cnames.index('animal')] - lbar[cnames.index('plant')])
    with h5py.File(out_c, 'r') as f:
        got_c = f['steering/vectors'][()]
        hier_names = [n.decode() if isinstance(n, bytes) else n for n in f['steering/hierarchy/names'][()]]
        hier = f['steering/hierarchy/log_mass_change'][()]
    err_c = max(np.abs(got_c[l] - want_c).max() for l in range(got_c.shape[0])) / np.abs(want_c).max()
    check(err_c < 1e-5, f'steer --concept: every layer adds Cov^(1/2) (l_animal - l_plant) (NumPy; rel. diff {err_c:.1e})')
    bc = sc['behaviour']
    check(sc['concept'] == 'ℓ̄_animal − ℓ̄_plant' and all(all(r[i] < r[i + 1] for i in range(4)) for r in bc),
          f'steer --concept: the animal mass on plant prompts rises with the multiplier at every layer {bc}')
    h = {c['name']: (c['role'], c['log_mass_change']) for c in sc['hierarchy']['categories']}
    check(h['animal'][0] == 'child' and h['organism'][0] == 'parent' and h['plant'][0] == 'sibling' and
          h['animal'][1][4] > 0.3 and h['animal'][1][0] < -0.3 and abs(h['organism'][1][4]) < h['animal'][1][4] / 2 and
          h['plant'][1][4] < 0, f'steer --concept: the child moves, the parent much less, the subtracted sibling down {h}')
    # one hierarchy value from a steered forward run, its softmax in NumPy: the plant category's mass at the
    # check's layer, multiplier 4 against 0, log of the mean over the held-out plant prompts
    vc = os.path.join(tmp, 'vconcept.h5')
    with h5py.File(vc, 'w') as f:
        f['v'] = got_c[sc['hierarchy']['layer']]
    plant_ids = ctoks[coff[cnames.index('plant')]:coff[cnames.index('plant') + 1]]
    masses = []
    args_h = [a for p in heldp for a in ('--prompt', p)]
    for m in ('0', '4'):
        sl = os.path.join(tmp, 'steered-c' + m + '.h5')
        run('forward', sample, *args_h, '--logits', 'last', '--steer-vector', vc + ':/v', '--steer-layer',
            str(sc['hierarchy']['layer']), '--steer-multiplier', m, '--output', sl)
        with h5py.File(sl, 'r') as f:
            z = f['logits'][()].astype(np.float64)
        pz = np.exp(z - z.max(1, keepdims=True))
        pz /= pz.sum(1, keepdims=True)
        masses.append(pz[:, plant_ids].sum(1).mean())
    want_h = np.log(masses[1]) - np.log(masses[0])
    got_h = hier[hier_names.index('plant')][4]
    check(abs(got_h - want_h) < 1e-4, f'steer --concept: hierarchy plant at m=4 {got_h:.5f} = NumPy {want_h:.5f}')
    fo = os.path.join(tmp, 'steering-hierarchy.png')
    run('figure', 'steering-hierarchy', '--workspace', out_c, '--output', fo)
    check(os.path.exists(fo) and os.path.getsize(fo) > 5000, 'figure steering-hierarchy')
    p = run('figure', 'steering-hierarchy', '--workspace', out, '--output', fo, expect=1)
    check('no hierarchy check' in p.stderr, 'figure steering-hierarchy of a run without a concept: refused')
    p = run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--concept', 'animal-plant',
            '--output', out_c, expect=2)
    check('--workspace' in p.stderr, 'steer --concept without a workspace: refused')
    p = run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--workspace', ws_org,
            '--concept', 'animal-unicorn', '--output', out_c, expect=1)
    check("no category 'animal-unicorn'" in p.stderr, 'steer --concept with an unknown category: named')
    # steering into an existing workspace keeps its geometry
    wcopy = os.path.join(tmp, 'ws-steer.h5')
    shutil.copy(ws, wcopy)
    run('steer', sample, '--dataset', 'mammal-vs-bird', '--targets', 'mammal', '--layers', '2', '--multipliers=0,4',
        '--output', wcopy)
    with h5py.File(wcopy, 'r') as f:
        check('steering/sweep/behaviour' in f and 'vectors/lbar' in f, 'steer into a workspace keeps the geometry')
    run('figure', 'heatmap', '--workspace', wcopy, '--output', os.path.join(tmp, 'h2.png'))
    with open(os.path.join(tmp, 'nopairs.json'), 'w') as f:
        f.write('[]')
    p = run('steer', sample, '--dataset', os.path.join(tmp, 'nopairs.json'), '--targets', 'animal', '--output', out,
            expect=1)
    check('holds no pairs' in p.stderr, 'steer: a dataset with no pairs')
    p = run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--layers', '7', '--output', out,
            expect=1)
    check('layers are 0 to 3' in p.stderr, 'steer: layer out of range')
    p = run('steer', os.path.join(data, 'reference', 'llama'), '--dataset', 'animal-vs-plant', '--targets', 'animal',
            '--sae', sae_dir, '--output', out, expect=1)
    check('256-dimensional' in p.stderr, 'steer: SAE d_in differs from the model')
    p = run('steer', sample, '--dataset', 'animal-vs-plant', '--output', out, expect=2)
    check('--targets' in p.stderr, 'steer: plain pairs need targets')
    p = run('figure', 'sae-decomposition', '--workspace', wcopy, '--output', os.path.join(tmp, 'x.png'), expect=1)
    check('no SAE was given' in p.stderr, 'figure: a steering figure without its data says why')

    # bad input: clear messages, non-zero exit, no file left behind
    bad = os.path.join(tmp, 'bad.h5')
    p = run('forward', sample, '--ids', '1,2,99999', '--output', bad, expect=1)
    check('outside the vocabulary' in p.stderr and not os.path.exists(bad), 'id outside the vocabulary')
    p = run('forward', sample, '--ids', ','.join(['1'] * 200), '--output', bad, expect=1)
    check('longer than the model\'s context of 128' in p.stderr, 'prompt longer than the context')
    p = run('forward', sample, '--ids', '1,2', '--output', bad, '--capture', 'resid_post.9', expect=1)
    check('layer must be 0 to 3' in p.stderr, 'capture layer out of range')
    p = run('forward', sample, '--ids', '1,x', '--output', bad, expect=1)
    check("'x'" in p.stderr, 'non-numeric id')
    p = run('forward', sample, '--ids', '1,2', '--output', bad, '--steer-vector', vec + ':/nope', '--steer-layer', '1',
            expect=1)
    check("no dataset '/nope'" in p.stderr, 'missing steering dataset')
    p = run('info', tmp, expect=1)
    check('has no config.json' in p.stderr, 'folder without config.json')
    p = run('frobnicate', expect=2)
    check('unknown command' in p.stderr, 'unknown command')
    # damaged files: a workspace whose string heap objects claim more bytes
    # than the heap holds (HDF5 itself would copy past its buffers), and empty
    # JSON files where an object or a list belongs
    dmg = bytearray(open(out, 'rb').read())
    at, n_heaps = dmg.find(b'GCOL'), 0
    while at >= 0:
        struct.pack_into('<Q', dmg, at + 24, 0x7fff0000)   # the collection's first object's size
        n_heaps += 1
        at = dmg.find(b'GCOL', at + 4)
    with open(os.path.join(tmp, 'damaged.h5'), 'wb') as f:
        f.write(dmg)
    p = run('figure', 'steering-samples', '--workspace', os.path.join(tmp, 'damaged.h5'), '--output',
            os.path.join(tmp, 'x.png'), expect=1)
    check(n_heaps > 0 and 'is damaged' in p.stderr, 'a workspace with a damaged string heap is refused')
    empty_sae = os.path.join(tmp, 'empty-sae')
    os.mkdir(empty_sae)
    open(os.path.join(empty_sae, 'cfg.json'), 'w').close()
    shutil.copy(os.path.join(sae_dir, 'sae_weights.safetensors'), empty_sae)
    p = run('sae-encode', sample, '--sae', empty_sae, '--prompt', 'hi', expect=1)
    check('not a JSON object' in p.stderr and 'CRITICAL' not in p.stderr, 'an empty SAE cfg.json')
    open(os.path.join(tmp, 'empty.json'), 'w').close()
    p = run('steer', sample, '--dataset', os.path.join(tmp, 'empty.json'), '--targets', 'animal', '--output', bad,
            expect=1)
    check('JSON list' in p.stderr and 'CRITICAL' not in p.stderr, 'an empty dataset file')
    p = run('tokenize', '--tokenizer', os.path.join(tmp, 'empty.json'), 'hi', expect=1)
    check('tokenizer' in p.stderr and 'CRITICAL' not in p.stderr, 'an empty tokenizer.json')
    # an existing output survives a failed run
    with open(bad, 'w') as f:
        f.write('keep me')
    run('forward', sample, '--ids', '1,99999', '--output', bad, expect=1)
    check(open(bad).read() == 'keep me', 'a failed run leaves the existing file alone')

    # Ctrl-C: a long sweep stops within a second, says so, exits 130 and leaves
    # the existing output as it was (no temporary file beside it)
    import signal
    import time as _time
    keep = os.path.join(tmp, 'interrupted.h5')
    with open(keep, 'w') as f:
        f.write('keep me too')
    mults = ','.join(str(m) for m in range(-60, 61))
    p = subprocess.Popen([cli, 'steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal',
                          '--multipliers=' + mults, '--output', keep], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    _time.sleep(1.5)
    still_running = p.poll() is None
    t0 = _time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    waited = _time.monotonic() - t0
    check(still_running and p.returncode == 130 and 'cancelled' in err and waited < 1.0,
          f'Ctrl-C stops a sweep in {waited:.2f} s with exit {p.returncode}: {err.strip()[-80:]!r}')
    check(open(keep).read() == 'keep me too' and not [n for n in os.listdir(tmp) if n.startswith('interrupted.h5')
                                                        and n != 'interrupted.h5'],
          'an interrupted run leaves the existing output and no temporary file')

harness.exit()
