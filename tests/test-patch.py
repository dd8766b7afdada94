#!/usr/bin/python3
"""Head hooks and activation patching against a reference written here in
NumPy (float64): each head's z (attn_z.L) on the reference models of
three attention layouts (GPT-2; Llama with grouped-query attention; Gemma
with one key-value head), computed from transformers' own resid_pre.L, and
every cell of the layer × position and layer × head heatmaps of
`conceptscope-cli patch` on the sample model, from an eager GPT-2 with the
same patches. Uses Debian's python3 (h5py, numpy), not the project's code."""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import CliTest, read_safetensors as read_stored  # noqa: E402

cli = sys.argv[1]
data = os.environ['CS_TEST_DATA']
sample = os.path.join(os.environ['CONCEPTSCOPE_DATADIR'], 'sample-model')
harness = CliTest(cli)
check, run = harness.check, harness.run


def read_safetensors(path):
    """The arrays in float64 (integers kept)."""
    arrays, _ = read_stored(path)
    return {k: v if v.dtype == np.int64 else v.astype(np.float64) for k, v in arrays.items()}




def rms(x, w, eps, one_plus):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * ((1 + w) if one_plus else w)


def rope(x, theta):
    # x [T, heads, hd], rotate-half as transformers does
    T, _, hd = x.shape
    inv = 1.0 / theta ** (np.arange(0, hd, 2) / hd)
    ang = np.arange(T)[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(ang), np.cos(ang)], -1)[:, None, :]
    sin = np.concatenate([np.sin(ang), np.sin(ang)], -1)[:, None, :]
    x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
    return x * cos + np.concatenate([-x2, x1], -1) * sin


def attend(q, k, v, scale):
    # q [T, H, hd], k/v [T, KV, hd]: z [T, H, hd], causal; grouped heads read KV head h // (H / KV)
    T, H, hd = q.shape
    group = H // k.shape[1]
    z = np.zeros_like(q)
    for h in range(H):
        s = q[:, h] @ k[:, h // group].T * scale
        s = s + np.triu(np.full((T, T), -np.inf), 1)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        z[:, h] = p @ v[:, h // group]
    return z


def z_from_resid_pre(model, cfg, w, l, x):
    """Layer l's heads' z from its input x [T, d]."""
    if model.startswith('gpt2'):
        p = f'transformer.h.{l}.'
        d, H = cfg['n_embd'], cfg['n_head']
        h = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + cfg['layer_norm_epsilon'])
        h = h * w[p + 'ln_1.weight'] + w[p + 'ln_1.bias']
        qkv = h @ w[p + 'attn.c_attn.weight'] + w[p + 'attn.c_attn.bias']
        q, k, v = (qkv[:, i * d:(i + 1) * d].reshape(-1, H, d // H) for i in range(3))
        return attend(q, k, v, 1 / np.sqrt(d // H))
    p = f'model.layers.{l}.'
    H, KV, hd = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim']
    theta = cfg['rope_parameters']['rope_theta']
    h = rms(x, w[p + 'input_layernorm.weight'], cfg['rms_norm_eps'], model == 'gemma')
    q = rope((h @ w[p + 'self_attn.q_proj.weight'].T).reshape(-1, H, hd), theta)
    k = rope((h @ w[p + 'self_attn.k_proj.weight'].T).reshape(-1, KV, hd), theta)
    v = (h @ w[p + 'self_attn.v_proj.weight'].T).reshape(-1, KV, hd)
    return attend(q, k, v, 1 / np.sqrt(hd))


class EagerGPT2:
    """The sample model in float64 with hooks: captures and patches at
    resid_pre, attn_z (a head's slice), attn_out, mlp_out, resid_post."""

    def __init__(self, folder):
        self.w = read_safetensors(os.path.join(folder, 'model.safetensors'))
        self.cfg = json.load(open(os.path.join(folder, 'config.json')))

    def __call__(self, ids, patches=(), caps=None):
        w, cfg = self.w, self.cfg
        d, H, L = cfg['n_embd'], cfg['n_head'], cfg['n_layer']
        hd = d // H
        eps = cfg['layer_norm_epsilon']

        def ln(x, p):
            return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * w[p + 'weight'] + w[p + 'bias']

        def hook(name, x):
            for patch in patches:
                hname, pos, head, val = patch[:4]
                add = len(patch) > 4 and patch[4]
                if hname == name:
                    if head is None:
                        x[pos] = x[pos] + val if add else val
                    else:
                        x[pos, head * hd:(head + 1) * hd] = val
            if caps is not None:
                caps[name] = x.copy()
            return x

        T = len(ids)
        x = w['transformer.wte.weight'][ids] + w['transformer.wpe.weight'][:T]
        for l in range(L):
            p = f'transformer.h.{l}.'
            x = hook(f'resid_pre.{l}', x)
            h = ln(x, p + 'ln_1.')
            qkv = h @ w[p + 'attn.c_attn.weight'] + w[p + 'attn.c_attn.bias']
            q, k, v = (qkv[:, i * d:(i + 1) * d].reshape(T, H, hd) for i in range(3))
            z = hook(f'attn_z.{l}', attend(q, k, v, 1 / np.sqrt(hd)).reshape(T, d))
            a = hook(f'attn_out.{l}', z @ w[p + 'attn.c_proj.weight'] + w[p + 'attn.c_proj.bias'])
            x = x + a
            h = ln(x, p + 'ln_2.')
            m = h @ w[p + 'mlp.c_fc.weight'] + w[p + 'mlp.c_fc.bias']
            m = 0.5 * m * (1 + np.tanh(np.sqrt(2 / np.pi) * (m + 0.044715 * m ** 3)))
            m = hook(f'mlp_out.{l}', m @ w[p + 'mlp.c_proj.weight'] + w[p + 'mlp.c_proj.bias'])
            x = hook(f'resid_post.{l}', x + m)
        x = ln(x[-1:], 'transformer.ln_f.')
        return (x @ w['transformer.wte.weight'].T)[0]


def tokens_of(text):
    out = json.loads(run('tokenize', sample, text, '--json').stdout)
    return out['ids'] if isinstance(out, dict) else out


with tempfile.TemporaryDirectory() as tmp:
    # each head's z against the reference computed here from transformers' resid_pre
    for model in ['gpt2', 'llama', 'gemma']:
        folder = os.path.join(data, 'reference', model)
        w = read_safetensors(os.path.join(folder, 'model.safetensors'))
        ref = read_safetensors(os.path.join(folder, 'reference.safetensors'))
        cfg = json.load(open(os.path.join(folder, 'config.json')))
        ids = ref['input_ids']
        nl = cfg.get('n_layer', cfg.get('num_hidden_layers'))
        out = os.path.join(tmp, model + '-z.h5')
        run('forward', folder, '--ids', ';'.join(','.join(str(int(t)) for t in row) for row in ids), '--capture',
            ','.join(f'attn_z.{l}' for l in range(nl)), '--logits', 'none', '--output', out, '--device', 'cpu')
        worst = 0
        with h5py.File(out, 'r') as f:
            for l in range(nl):
                got = f[f'attn_z.{l}'][()]
                for b in range(ids.shape[0]):
                    want = z_from_resid_pre(model, cfg, w, l, ref[f'resid_pre.{l}'][b])
                    worst = max(worst, float(np.abs(got[b] - want).max() / max(1.0, np.abs(want).max())))
            shape = f['attn_z.0'].shape
        heads = cfg.get('n_head', cfg.get('num_attention_heads'))
        check(worst < 1e-5 and shape[2] == heads,
              f'{model}: attn_z of every layer and head equals the NumPy reference from transformers\' resid_pre '
              f'({worst:.2g}, shape {shape})')

    # patching the sample model: every cell against the eager GPT-2 with the same patch
    g = EagerGPT2(sample)
    clean, corrupted = 'A sparrow is a kind of', 'A salmon is a kind of'
    tj = json.load(open(os.path.join(sample, 'tokenizer.json'), encoding='utf-8'))
    vocab = tj['model']['vocab']
    answer, wrong = vocab['\u0120bird'], vocab['\u0120fish']
    for target, extra in [('resid_pre', []), ('attn_out', []), ('mlp_out', []), ('resid_post', ['--noising']),
                          ('heads', []), ('heads', ['--last'])]:
        res = json.loads(run('patch', sample, '--clean', clean, '--corrupted', corrupted, '--answer', 'bird',
                             '--wrong', 'fish', '--target', target, '--json', '--device', 'cpu', *extra).stdout)
        noising = '--noising' in extra
        ci = [int(t) for t in tokens_of(clean)]
        xi = [int(t) for t in tokens_of(corrupted)]
        cc, xc = {}, {}
        lc, lx = g(ci, caps=cc), g(xi, caps=xc)
        mc, mx = lc[answer] - lc[wrong], lx[answer] - lx[wrong]
        base_ids, donor = (ci, xc) if noising else (xi, cc)
        L, T, H = 4, len(ci), 8
        raw = np.zeros((L, H if target == 'heads' else T))
        for l in range(L):
            for c in range(raw.shape[1]):
                if target == 'heads':
                    name = f'attn_z.{l}'
                    poss = [T - 1] if '--last' in extra else range(T)
                    patches = [(name, pos, c, donor[name][pos, c * 32:(c + 1) * 32]) for pos in poss]
                else:
                    name = f'{target}.{l}'
                    patches = [(name, c, None, donor[name][c])]
                lg = g(base_ids, patches)
                raw[l, c] = lg[answer] - lg[wrong]
        got_raw = np.array(res['raw'])
        got = np.array(res['values'])
        want = (raw - mx) / (mc - mx)
        dr = float(np.abs(got_raw - raw).max())
        dv = float(np.abs(got - want).max())
        check(res['answer_id'] == answer and res['wrong_id'] == wrong and abs(res['clean_metric'] - mc) < 1e-4 and
              abs(res['corrupted_metric'] - mx) < 1e-4 and dr < 1e-4 and dv < 1e-5,
              f'patch --target {target} {" ".join(extra)}: {got.size} cells equal the eager NumPy GPT-2 with the same '
              f'patch (logit difference {dr:.1e}, normalised {dv:.1e})')
    # everything at a layer: exactly the clean (or corrupted) run
    res = json.loads(run('patch', sample, '--clean', clean, '--corrupted', corrupted, '--answer', 'bird', '--wrong',
                         'fish', '--target', 'resid_pre', '--json').stdout)
    v = np.array(res['values'])
    check(abs(v[0, 1] - 1) < 1e-6 and np.allclose(v[:, 0], 0, atol=1e-6),
          'resid_pre at layer 0: the one differing position restores the clean run exactly, the shared first token nothing')
    out = os.path.join(tmp, 'p.h5')
    run('patch', sample, '--clean', clean, '--corrupted', corrupted, '--answer', 'bird', '--wrong', 'fish',
        '--target', 'heads', '--output', out)
    with h5py.File(out, 'r') as f:
        params = json.loads(f['patching/parameters'][0])
        check(f['patching/values'].shape == (4, 8) and params['target'] == 'heads' and
              list(x.decode() for x in f['patching/columns'][()])[:2] == ['H0', 'H1'],
              'patch --output: the table, its columns and parameters in /patching')
    run('figure', 'patching', '--workspace', out, '--output', os.path.join(tmp, 'patching.svg'))
    # prompts of different lengths, aligned on their last tokens: the corrupted run's position t takes the
    # clean run's t - shift; positions without a counterpart are NaN
    longer = 'The big salmon is a kind of'
    res = json.loads(run('patch', sample, '--clean', clean, '--corrupted', longer, '--answer', 'bird', '--wrong', 'fish',
                         '--target', 'resid_pre', '--json').stdout)
    ci, xi = [int(t) for t in tokens_of(clean)], [int(t) for t in tokens_of(longer)]
    shift = len(xi) - len(ci)
    cc = {}
    lc, lx = g(ci, caps=cc), g(xi)
    mc, mx = lc[answer] - lc[wrong], lx[answer] - lx[wrong]
    got = np.array(res['values'], dtype=float)
    worst, nan_ok = 0.0, True
    for l in range(4):
        for c in range(len(xi)):
            if c - shift < 0:
                nan_ok = nan_ok and np.isnan(got[l, c])
                continue
            lg = g(xi, [(f'resid_pre.{l}', c, None, cc[f'resid_pre.{l}'][c - shift])])
            worst = max(worst, abs(got[l, c] - ((lg[answer] - lg[wrong]) - mx) / (mc - mx)))
    check(shift == 1 and nan_ok and worst < 1e-5,
          f'prompts of {len(ci)} and {len(xi)} tokens aligned on their last tokens: every cell equals the eager NumPy '
          f'GPT-2 ({worst:.1e}), the unmatched first position NaN')
    p = run('patch', sample, '--clean', clean, '--corrupted', corrupted, '--answer', 'zzqxv', '--wrong', 'fish',
            expect=1)
    check('not one token' in p.stderr, 'an answer that is not one token: refused')
    p = run('patch', sample, '--clean', clean, '--corrupted', clean, '--answer', 'bird', '--wrong', 'fish', expect=1)
    check('no difference' in p.stderr, 'identical prompts: nothing to restore, said')
    p = run('patch', sample, '--clean', clean, '--corrupted', corrupted, '--answer', 'bird', expect=2)
    check('--wrong' in p.stderr, 'the logit difference without a wrong answer: refused')
    p = run('figure', 'patching', '--workspace', os.path.join(tmp, 'p-none.h5'), '--output',
            os.path.join(tmp, 'x.png'), expect=1)

    # function vectors: every head's average indirect effect, the vector, and its effect per layer, recomputed here
    res = json.loads(run('fv', sample, '--task', 'hypernym', '--shots', '3', '--prompts', '6', '--eval', '8',
                         '--heads', '4', '--json', '--device', 'cpu').stdout)
    w = g.w
    L, H, hd, V = 4, 8, 32, 12288

    def probs(logits):
        e = np.exp(logits - logits.max())
        return e / e.sum()

    clean, shuf, ans = res['clean_ids'], res['shuffled_ids'], res['answers']
    mean_z = np.zeros((L, 256))
    icl = 0
    for ids, a in zip(clean, ans):
        caps = {}
        icl += probs(g(ids, caps=caps))[a] / len(clean)
        for l in range(L):
            mean_z[l] += caps[f'attn_z.{l}'][-1] / len(clean)
    base = [probs(g(ids))[a] for ids, a in zip(shuf, ans)]
    aie = np.zeros((L, H))
    for l in range(L):
        for h in range(H):
            for ids, a, b in zip(shuf, ans, base):
                lg = g(ids, [(f'attn_z.{l}', len(ids) - 1, h, mean_z[l, h * hd:(h + 1) * hd])])
                aie[l, h] += (probs(lg)[a] - b) / len(shuf)
    got = np.array(res['aie'])
    top = sorted(range(L * H), key=lambda i: -aie.flat[i])[:4]
    vec = np.zeros(256)
    for i in top:
        l, h = divmod(i, H)
        vec += mean_z[l, h * hd:(h + 1) * hd] @ w[f'transformer.h.{l}.attn.c_proj.weight'][h * hd:(h + 1) * hd]
    layer_p = np.zeros(L)
    for l in range(L):
        for ids, a in zip(res['eval_ids'], res['eval_answers']):
            layer_p[l] += probs(g(ids, [(f'resid_post.{l}', len(ids) - 1, None, vec, True)]))[a] / len(res['eval_ids'])
    zs = np.mean([probs(g(ids))[a] for ids, a in zip(res['eval_ids'], res['eval_answers'])])
    check(np.abs(got - aie).max() < 1e-6 and [list(divmod(i, H)) for i in top] == res['heads'] and
          abs(res['icl_prob'] - icl) < 1e-6,
          f'fv: the {aie.size} heads\' average indirect effects equal the eager NumPy GPT-2 '
          f'({np.abs(got - aie).max():.1e}; largest {aie.max():+.4f}), the same top heads {res["heads"]}')
    check(np.abs(np.array(res['vector']) - vec).max() < 1e-4 * max(1, np.abs(vec).max()),
          f'fv: the vector equals the top heads\' mean outputs summed (|v| = {np.linalg.norm(vec):.2f})')
    check(np.abs(np.array(res['layer_prob']) - layer_p).max() < 1e-6 and abs(res['zero_shot_prob'] - zs) < 1e-6,
          f'fv: zero-shot p(answer) with the vector after each layer equals the NumPy run '
          f'(unsteered {zs:.4f}, per layer {np.round(layer_p, 4).tolist()})')
    out = os.path.join(tmp, 'fv.h5')
    run('fv', sample, '--task', 'hypernym', '--shots', '3', '--prompts', '6', '--eval', '8', '--heads', '4',
        '--output', out)
    with h5py.File(out, 'r') as f:
        check(np.abs(f['function_vector/aie'][()] - got).max() < 1e-12 and
              f['function_vector/heads'][()].tolist() == res['heads'] and
              np.abs(f['function_vector/vector'][()] - np.array(res['vector'])).max() < 1e-6,
              'fv --output: /function_vector holds the same table, heads and vector')
    for kind in ['fv-heads', 'fv-layers']:
        for ext in ['png', 'svg', 'pdf']:
            fig = os.path.join(tmp, f'{kind}.{ext}')
            run('figure', kind, '--workspace', out, '--output', fig)
            check(os.path.exists(fig) and os.path.getsize(fig) > 1000, f'figure {kind} .{ext}')
    p = run('figure', 'fv-heads', '--workspace', os.path.join(tmp, 'p.h5'), '--output', os.path.join(tmp, 'x.png'),
            expect=1)
    check('holds no function vector' in p.stderr, 'figure fv-heads of a workspace without one: said')
    # against a workspace: cos with each category's Cov^(1/2) l_bar, computed here from the workspace
    gws = os.path.join(tmp, 'geometry.h5')
    run('geometry', sample, '--output', gws)
    res_w = json.loads(run('fv', sample, '--task', 'hypernym', '--shots', '3', '--prompts', '6', '--eval', '8',
                           '--heads', '4', '--workspace', gws, '--json').stdout)
    with h5py.File(gws, 'r') as f:
        inv_sqrt = f['whitening/inv_sqrt_cov'][()]
        lbar = f['vectors/lbar'][()]
        names = [x.decode() for x in f['categories/names'][()]]
        reliable = f['categories/reliable'][()]
    fv_vec = np.array(res_w['vector'])
    worst, n_cos = 0.0, 0
    for i, name in enumerate(names):
        if not reliable[i]:
            continue
        v = np.linalg.solve(inv_sqrt, lbar[i])
        want = fv_vec @ v / np.linalg.norm(fv_vec) / np.linalg.norm(v)
        worst = max(worst, abs(res_w['cosines'][f'concept {name}'] - want))
        n_cos += 1
    check(n_cos >= 5 and worst < 1e-5, f'fv --workspace: cos with {n_cos} concept directions Cov^(1/2) l_bar equal '
                                        f'NumPy ({worst:.1e}; fish {res_w["cosines"].get("concept fish", 0):+.3f})')
    p = run('fv', sample, '--task', os.path.join(tmp, 'missing.json'), expect=1)
    with open(os.path.join(tmp, 'bad-task.json'), 'w') as f:
        json.dump({'pairs': [['a', 'b'], ['c']]}, f)
    p = run('fv', sample, '--task', os.path.join(tmp, 'bad-task.json'), expect=1)
    check('pair 2 is not two strings' in p.stderr, 'fv: a malformed task named with the pair')
    with open(os.path.join(tmp, 'small-task.json'), 'w') as f:
        json.dump({'pairs': [['a', 'b'], ['c', 'd']]}, f)
    p = run('fv', sample, '--task', os.path.join(tmp, 'small-task.json'), expect=1)
    check('need at least' in p.stderr, 'fv: a task too small for the prompts asked: refused with the count')

    # feature cards: the top contexts of a latent against a brute-force scan of the same corpus
    corpus = os.path.join(tmp, 'corpus.txt')
    lines = ['A beaver is a kind of rodent.', 'A sparrow is a kind of bird.', '', 'An oak is a kind of tree.',
             'A salmon is a kind of fish, and a trout is a kind of fish too.'] + \
            [f'A {w} is a kind of animal.' for w in ['dog', 'cat', 'horse', 'cow', 'sheep', 'goat', 'pig']] + \
            [' '.join(['A wolf is a kind of canine and a fox is a kind of canine.'] * 6)]   # longer than a chunk
    with open(corpus, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    sae_dir = os.path.join(os.environ['CONCEPTSCOPE_DATADIR'], 'sae-set', 'resid_post.1')
    sw = read_safetensors(os.path.join(sae_dir, 'sae_weights.safetensors'))
    acts = []   # (activation [d_sae] rows, line, position)
    for ln, text in enumerate(lines):
        if not text:
            continue
        ids = [int(t) for t in tokens_of(text)]
        for start in range(0, len(ids), 64):
            chunk = ids[start:start + 64]
            caps = {}
            g(chunk, caps=caps)
            x = caps['resid_post.1']
            feats = np.maximum((x - sw['b_dec']) @ sw['W_enc'] + sw['b_enc'], 0)
            for t in range(len(chunk)):
                acts.append((feats[t], ln, start + t))
    total = np.array([a[0] for a in acts])
    latent = int(np.argmax((total > 0).sum(0) * (total.max(0) > 0.5)))
    order = sorted(range(len(acts)), key=lambda i: -total[i, latent])[:20]
    order = [i for i in order if total[i, latent] > 0]
    card = json.loads(run('sae', 'card', sample, '--sae', sae_dir, '--latent', str(latent), '--corpus', corpus,
                          '--no-cache', '--json').stdout)
    got = [(c['activation'], c['line'], c['position']) for c in card['contexts']]
    want = [(total[i, latent], acts[i][1], acts[i][2]) for i in order]
    same = len(got) == len(want) and all(abs(a - b) < 1e-4 * max(1, abs(b)) and (l1, p1) == (l2, p2)
                                         for (a, l1, p1), (b, l2, p2) in zip(got, want))
    check(same and card['tokens_scanned'] == len(acts) and card['fires'] == int((total[:, latent] > 0).sum()),
          f'sae card: latent {latent}\'s {len(got)} top contexts, their lines and positions, equal a NumPy scan of '
          f'the same corpus ({len(acts)} tokens, fires on {card["fires"]})')
    # (float32 there, float64 here: a value on a bin's edge may fall either side, so one count may move)
    hist = np.histogram(np.log10(total[:, latent][total[:, latent] > 0]), bins=40, range=(-3, 3))[0]
    check(np.array_equal(np.array(card['histogram']), hist.astype(float)) or
          np.abs(np.array(card['histogram']) - hist).sum() <= 1, 'sae card: the histogram of its non-zero activations')
    c1 = json.loads(run('sae', 'card', sample, '--sae', sae_dir, '--latent', str(latent), '--corpus', corpus,
                        '--json').stdout)
    c2 = json.loads(run('sae', 'card', sample, '--sae', sae_dir, '--latent', str(latent), '--corpus', corpus,
                        '--json').stdout)
    check(c2['from_cache'] and {k: v for k, v in c2.items() if k != 'from_cache'} ==
          {k: v for k, v in card.items() if k != 'from_cache'},
          'sae card: the second look comes from the cache, identical')
    for ext in ['png', 'svg', 'pdf']:
        out = os.path.join(tmp, f'card.{ext}')
        run('sae', 'card', sample, '--sae', sae_dir, '--latent', str(latent), '--corpus', corpus, '--output', out)
        check(os.path.exists(out) and os.path.getsize(out) > 1000, f'sae card --output .{ext}')
    run('sae', 'scan', sample, '--sae', sae_dir, '--corpus', corpus, '--output', os.path.join(tmp, 'cards.h5'))
    with h5py.File(os.path.join(tmp, 'cards.h5'), 'r') as f:
        check(f['top_act'].shape == (1024, 20) and int(f.attrs['n_tokens']) == len(acts) and
              abs(f['top_act'][latent, 0] - want[0][0]) < 1e-4, 'sae scan: every latent\'s cards in one file')
    # the decoder row along the concept directions Cov^(1/2) l_bar of a workspace, computed here
    cw = json.loads(run('sae', 'card', sample, '--sae', sae_dir, '--latent', str(latent), '--corpus', corpus,
                        '--workspace', gws, '--json').stdout)
    wrow = sw['W_dec'][latent]
    worst, n_c = 0.0, 0
    for i, name in enumerate(names):
        if not reliable[i]:
            continue
        u = np.linalg.solve(inv_sqrt, lbar[i])
        want = wrow @ u / np.linalg.norm(wrow) / np.linalg.norm(u)
        worst = max(worst, abs(cw['concept_cosines'][name] - want))
        n_c += 1
    check(n_c >= 5 and worst < 1e-6, f'sae card --workspace: the decoder row\'s cosine with {n_c} concept directions '
                                      f'equals NumPy ({worst:.1e})')
    run('sae', 'scan', sample, '--saes', os.path.join(os.environ['CONCEPTSCOPE_DATADIR'], 'sae-set'), '--corpus', corpus,
        '--output', os.path.join(tmp, 'cards-set.h5'))
    with h5py.File(os.path.join(tmp, 'cards-set.h5'), 'r') as f, h5py.File(os.path.join(tmp, 'cards.h5'), 'r') as one:
        check(sorted(f.keys()) == ['L0', 'L1', 'L2', 'L3'] and
              np.array_equal(f['L1/top_act'][()], one['top_act'][()]) and
              np.array_equal(f['L1/top_ids'][()], one['top_ids'][()]) and int(f['L2/layer'][0]) == 2,
              'sae scan --saes: a group per layer, layer 1\'s the same as its SAE scanned alone')
    p = run('sae', 'card', sample, '--sae', sae_dir, '--latent', '5000', '--corpus', corpus, expect=2)
    check('latents 0 to 1023' in p.stderr, 'sae card of a latent the SAE has not: refused')

    # the feature flow: nodes and ablation edges against the eager NumPy GPT-2 with the same steering and ablations
    set_dir = os.path.join(os.environ['CONCEPTSCOPE_DATADIR'], 'sae-set')
    fl = json.loads(run('sae', 'flow', sample, '--saes', set_dir, '--dataset', 'animal-vs-plant', '--layer', '1',
                        '--multiplier', '4', '--top-k', '3', '--span', '2', '--prompts', '4', '--json').stdout)
    saes = {l: read_safetensors(os.path.join(set_dir, f'resid_post.{l}', 'sae_weights.safetensors')) for l in range(4)}
    vec = np.array(fl['vector'])

    def enc(l, x):
        return np.maximum((x - saes[l]['b_dec']) @ saes[l]['W_enc'] + saes[l]['b_enc'], 0)

    def steer_patches(ids):
        return [('resid_post.1', t, None, 4 * vec, True) for t in range(len(ids))]

    base, steer = [], []
    for ids in fl['prompts']:
        cb, cs = {}, {}
        g(ids, caps=cb)
        g(ids, steer_patches(ids), caps=cs)
        base.append(cb)
        steer.append(cs)
    want_nodes = []
    for l in range(1, 4):
        f0 = np.array([enc(l, c[f'resid_post.{l}'][-1]) for c in base])
        f1 = np.array([enc(l, c[f'resid_post.{l}'][-1]) for c in steer])
        delta = (f1 - f0).mean(0)
        for k in sorted(range(len(delta)), key=lambda k: (-abs(delta[k]), k))[:3]:
            want_nodes.append((l, k, delta[k]))
    got_nodes = [(n['layer'], n['latent'], n['delta']) for n in fl['nodes']]
    nodes_ok = [(a, b) for a, b, _ in got_nodes] == [(a, b) for a, b, _ in want_nodes] and \
        max(abs(x - y) for (_, _, x), (_, _, y) in zip(got_nodes, want_nodes)) < 1e-4
    worst = 0.0
    for src, dst, w in fl['edges']:
        l, k = want_nodes[src][0], want_nodes[src][1]
        l2, k2 = want_nodes[dst][0], want_nodes[dst][1]
        acc = 0.0
        for ids, cs in zip(fl['prompts'], steer):
            f_all = enc(l, cs[f'resid_post.{l}'])[:, k]
            ab = steer_patches(ids) + [(f'resid_post.{l}', t, None, -f_all[t] * saes[l]['W_dec'][k], True)
                                       for t in range(len(ids))]
            ca = {}
            g(ids, ab, caps=ca)
            acc += (enc(l2, cs[f'resid_post.{l2}'][-1])[k2] - enc(l2, ca[f'resid_post.{l2}'][-1])[k2]) / len(steer)
        worst = max(worst, abs(acc - w))
    n_pairs = sum(1 for a in want_nodes for b in want_nodes if a[0] < b[0] <= a[0] + 2)
    check(nodes_ok and len(fl['edges']) == n_pairs and worst < 1e-5,
          f'sae flow: {len(got_nodes)} latents and all {len(fl["edges"])} ablation edges equal the eager NumPy GPT-2 '
          f'with the same steering and ablations ({worst:.1e})')
    run('sae', 'flow', sample, '--saes', set_dir, '--dataset', 'animal-vs-plant', '--layer', '0', '--output',
        os.path.join(tmp, 'flow.svg'))
    check(os.path.getsize(os.path.join(tmp, 'flow.svg')) > 1000, 'sae flow --output: the figure')

harness.exit()
