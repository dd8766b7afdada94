#!/usr/bin/python3
"""Activation patching and function-vector benchmark: ConceptScope's `patch`
and `fv` against the same experiments written in PyTorch (eager GPT-2 ops, as
transformers computes it, float32, all cores on the OpenMP OpenBLAS), in one
script, on the same weights and token ids, after checking that both give the
same numbers.

Cases:
  - the sample model (4 layers × 256): the resid_pre layer × position heatmap
    of "A beaver is a kind of" (clean) against "A fern is a kind of"
    (corrupted), logit difference of " rodent" and " plant";
  - a GPT-2-small-shaped model (12 layers × 768, 12 heads, random weights,
    the sample model's tokenizer and vocabulary): the same heatmap for two
    32-token prompts that differ in one word (12 × 32 = 384 patched runs);
  - the function vector of the sample model's hypernym task (10
    demonstrations, 25 prompts, 50 zero-shot queries): each head's mean z,
    its average indirect effect on the shuffled prompts (32 heads × 25
    prompts), the vector of the top 10 heads, and p(answer) with it added
    after each layer.

The peer runs each experiment two ways: as TransformerLens's patching
utilities and notebooks do (one forward pass per heatmap cell; per prompt),
and batched as well as plain PyTorch allows (a layer's positions as one
batch; a head's prompts right-padded), timed after a warm-up. ConceptScope's
time is the engine's own: `bench-patch` runs the same experiment three times
in one process, the first cold (weights read and converted for the first
time, as a one-off `patch` or `fv` command runs) and the others warm (as the
application runs it again, and as the peer is timed); the ratios are the
warm ones, the cold time beside them. The numbers compared come from the
CLI's --json.

Usage: run-patch-bench.py CLI BENCH_PATCH [--output FILE.json]"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_env import blas_in_use, use_openmp_openblas  # noqa: E402
from peer_models import read_safetensors, write_gpt2  # noqa: E402

use_openmp_openblas()
import torch  # noqa: E402

CLI = sys.argv[1]
BENCH = sys.argv[2]
OUTPUT = sys.argv[sys.argv.index('--output') + 1] if '--output' in sys.argv else None
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, '..', '..', 'data', 'sample-model')


def write_gpt2_small(folder, vocab):
    """12 × 768 with random weights, the sample model's tokenizer."""
    write_gpt2(folder, 12, 768, 12, vocab, 64, tokenizer=os.path.join(SAMPLE, 'tokenizer.json'))


class GPT2:
    """GPT-2 in eager PyTorch with hooks. run(ids rows, hooks) → logits at
    each row's last real token. Rows are right-padded (causal attention: the
    padding never reaches a real token). hooks: {name: f(x, layer, last)}
    for resid_pre, attn_z (heads concatenated) and resid_post."""

    def __init__(self, folder):
        self.t = read_safetensors(os.path.join(folder, 'model.safetensors'))
        cfg = json.load(open(os.path.join(folder, 'config.json')))
        self.L, self.D, self.H = cfg['n_layer'], cfg['n_embd'], cfg['n_head']

    def run(self, rows, hooks=None):
        hooks = hooks or {}
        t, D, H = self.t, self.D, self.H
        hd = D // H
        B, T = len(rows), max(len(r) for r in rows)
        ids = torch.zeros(B, T, dtype=torch.int64)
        for b, r in enumerate(rows):
            ids[b, :len(r)] = torch.tensor(r)
        last = torch.tensor([len(r) - 1 for r in rows])
        x = t['transformer.wte.weight'][ids] + t['transformer.wpe.weight'][:T]
        mask = torch.full((T, T), float('-inf')).triu(1)
        for i in range(self.L):
            p = f'transformer.h.{i}.'
            if 'resid_pre' in hooks:
                x = hooks['resid_pre'](x, i, last)
            h = torch.nn.functional.layer_norm(x, (D,), t[p + 'ln_1.weight'], t[p + 'ln_1.bias'], 1e-5)
            qkv = torch.addmm(t[p + 'attn.c_attn.bias'], h.view(-1, D), t[p + 'attn.c_attn.weight']).view(B, T, 3, H, hd)
            q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))
            z = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + mask, dim=-1) @ v
            z = z.transpose(1, 2).reshape(B, T, D)
            if 'attn_z' in hooks:
                z = hooks['attn_z'](z, i, last)
            x = x + torch.addmm(t[p + 'attn.c_proj.bias'], z.reshape(B * T, D), t[p + 'attn.c_proj.weight']).view(B, T, D)
            h = torch.nn.functional.layer_norm(x, (D,), t[p + 'ln_2.weight'], t[p + 'ln_2.bias'], 1e-5)
            m = torch.nn.functional.gelu(torch.addmm(t[p + 'mlp.c_fc.bias'], h.view(-1, D), t[p + 'mlp.c_fc.weight']),
                                         approximate='tanh')
            x = x + torch.addmm(t[p + 'mlp.c_proj.bias'], m, t[p + 'mlp.c_proj.weight']).view(B, T, D)
            if 'resid_post' in hooks:
                x = hooks['resid_post'](x, i, last)
        xl = x[torch.arange(B), last]
        xl = torch.nn.functional.layer_norm(xl, (D,), t['transformer.ln_f.weight'], t['transformer.ln_f.bias'], 1e-5)
        return xl @ t['transformer.wte.weight'].T


def cli_json(*args):
    p = subprocess.run([CLI, *args, '--json', '--device', 'cpu'], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f'conceptscope-cli {args[0]} failed: {p.stderr.strip()}')
    return json.loads(p.stdout)


def engine_times(*args):
    """bench-patch's times: the first (cold) run and the best of the others."""
    p = subprocess.run([BENCH, *args, '3'], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f'bench-patch failed: {p.stderr.strip()}')
    t = json.loads(p.stdout)['seconds']
    return t[0], min(t[1:])


def ids_of(model, text):
    out = json.loads(subprocess.run([CLI, 'tokenize', model, text, '--json'], capture_output=True, text=True,
                                    check=True).stdout)
    return out['ids']


def patch_case(name, model_dir, clean, corrupted, answer, wrong):
    t0 = time.perf_counter()
    ours = cli_json('patch', model_dir, '--clean', clean, '--corrupted', corrupted, '--answer', answer,
                    '--wrong', wrong, '--target', 'resid_pre')
    ours_wall = time.perf_counter() - t0
    cold, warm = engine_times('patch', model_dir, clean, corrupted, answer, wrong)
    c_ids, x_ids = ids_of(model_dir, clean), ids_of(model_dir, corrupted)
    assert len(c_ids) == len(x_ids), 'the benchmark uses prompts of one length'
    a, w = ours['answer_id'], ours['wrong_id']
    g = GPT2(model_dir)
    T, L = len(c_ids), g.L
    with torch.inference_mode():
        cache = {}

        def keep(x, l, last):
            cache[l] = x[0].clone()
            return x
        g.run([c_ids], {'resid_pre': keep})
        g.run([x_ids])   # warm-up
        # one forward per cell, as TransformerLens's get_act_patch_resid_pre
        loop = np.zeros((L, T))
        t0 = time.perf_counter()
        for l in range(L):
            for p in range(T):
                def put(x, li, last, l=l, p=p):
                    if li == l:
                        x[0, p] = cache[l][p]
                    return x
                z = g.run([x_ids], {'resid_pre': put})[0]
                loop[l, p] = (z[a] - z[w]).item()
        loop_s = time.perf_counter() - t0
        # a layer's positions as one batch
        batched = np.zeros((L, T))
        t0 = time.perf_counter()
        for l in range(L):
            def put_all(x, li, last, l=l):
                if li == l:
                    x[torch.arange(T), torch.arange(T)] = cache[l]
                return x
            z = g.run([x_ids] * T, {'resid_pre': put_all})
            batched[l] = (z[:, a] - z[:, w]).numpy()
        batched_s = time.perf_counter() - t0
    raw = np.array(ours['raw'])
    diff = float(max(np.abs(raw - loop).max(), np.abs(raw - batched).max()))
    scale = float(np.abs(loop).max())
    return {
        'case': name, 'layers': L, 'positions': T, 'patched_runs': ours['patched_runs'],
        'conceptscope_s': warm, 'conceptscope_first_run_s': cold, 'conceptscope_cli_s': ours['seconds'],
        'conceptscope_process_s': ours_wall,
        'pytorch_per_cell_s': loop_s, 'pytorch_batched_s': batched_s,
        'ratio_per_cell': loop_s / warm, 'ratio_batched': batched_s / warm,
        'max_logit_difference_difference': diff, 'relative': diff / max(scale, 1e-9),
    }


def fv_case():
    t0 = time.perf_counter()
    ours = cli_json('fv', SAMPLE, '--task', 'hypernym')
    ours_wall = time.perf_counter() - t0
    cold, warm = engine_times('fv', SAMPLE, 'hypernym')
    g = GPT2(SAMPLE)
    L, H, D = g.L, g.H, g.D
    hd = D // H
    clean, shuf, ans = ours['clean_ids'], ours['shuffled_ids'], ours['answers']
    ev, ev_ans = ours['eval_ids'], ours['eval_answers']
    k_heads = len(ours['heads'])
    n = len(shuf)
    idx = torch.arange(n)
    ans_t, ev_ans_t = torch.tensor(ans), torch.tensor(ev_ans)

    def p_of(logits, a):
        return torch.softmax(logits.double(), dim=-1)[torch.arange(len(a)), a]

    def scan(per_head_batch):
        mean_z = torch.zeros(L, D)

        def take(z, l, last):
            mean_z[l] = z[torch.arange(z.shape[0]), last].mean(0)
            return z
        icl = p_of(g.run(clean, {'attn_z': take}), ans_t).mean().item()
        base = p_of(g.run(shuf), ans_t)
        aie = np.zeros((L, H))
        for l in range(L):
            for h in range(H):
                def put(z, li, last, l=l, h=h):
                    if li == l:
                        z[torch.arange(z.shape[0]), last, h * hd:(h + 1) * hd] = mean_z[l, h * hd:(h + 1) * hd]
                    return z
                if per_head_batch:
                    aie[l, h] = (p_of(g.run(shuf, {'attn_z': put}), ans_t) - base).mean().item()
                else:
                    aie[l, h] = np.mean([(p_of(g.run([shuf[i]], {'attn_z': put}), ans_t[i:i + 1]) - base[i]).item()
                                         for i in range(n)])
        top = sorted(range(L * H), key=lambda i: -aie.flat[i])[:k_heads]
        vec = torch.zeros(D)
        for i in top:
            l, h = divmod(i, H)
            vec += mean_z[l, h * hd:(h + 1) * hd] @ g.t[f'transformer.h.{l}.attn.c_proj.weight'][h * hd:(h + 1) * hd]
        layer_p = np.zeros(L)
        for l in range(L):
            def add(x, li, last, l=l):
                if li == l:
                    x[torch.arange(x.shape[0]), last] += vec
                return x
            layer_p[l] = p_of(g.run(ev, {'resid_post': add}), ev_ans_t).mean().item()
        zs = p_of(g.run(ev), ev_ans_t).mean().item()
        return icl, aie, top, layer_p, zs

    with torch.inference_mode():
        g.run(shuf)   # warm-up
        t0 = time.perf_counter()
        icl, aie, top, layer_p, zs = scan(True)
        batched_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        scan(False)
        loop_s = time.perf_counter() - t0
    got = np.array(ours['aie'])
    return {
        'case': 'function vector, sample model, hypernym (10 shots, 25 prompts, 50 queries)',
        'heads': L * H, 'prompts': n,
        'conceptscope_s': warm, 'conceptscope_first_run_s': cold, 'conceptscope_cli_s': ours['seconds'],
        'conceptscope_process_s': ours_wall,
        'pytorch_per_prompt_s': loop_s, 'pytorch_batched_s': batched_s,
        'ratio_per_prompt': loop_s / warm, 'ratio_batched': batched_s / warm,
        'max_aie_difference': float(np.abs(got - aie).max()), 'largest_aie': float(aie.max()),
        'same_top_heads': [list(divmod(i, H)) for i in top] == ours['heads'],
        'max_layer_prob_difference': float(np.abs(np.array(ours['layer_prob']) - layer_p).max()),
        'icl_prob_difference': abs(ours['icl_prob'] - icl), 'zero_shot_difference': abs(ours['zero_shot_prob'] - zs),
    }


def main():
    torch.set_num_threads(os.cpu_count())
    results = {'machine': f'{os.cpu_count()} cores', 'torch': torch.__version__, 'peer_blas': blas_in_use(),
               'cases': []}
    results['cases'].append(patch_case('sample model (4 × 256), resid_pre', SAMPLE, 'A beaver is a kind of',
                                       'A fern is a kind of', ' rodent', ' plant'))
    vocab = json.load(open(os.path.join(SAMPLE, 'config.json')))['vocab_size']
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, 'gpt2-small-shape')
        write_gpt2_small(big, vocab)
        words = ('A beaver is a kind of rodent that builds dams and lodges in rivers and streams; it has '
                 'a broad flat tail and large teeth and it lives in the north of the world').split()
        text = ''
        for wd in words:
            nxt = (text + ' ' + wd).strip()
            if len(ids_of(big, nxt)) > 32:
                break
            text = nxt
        while len(ids_of(big, text)) < 32:
            text += ' and'
        corrupted = text.replace('beaver', 'fern', 1)
        results['cases'].append(patch_case('GPT-2-small shape (12 × 768), resid_pre, 32 positions', big, text,
                                           corrupted, ' rodent', ' plant'))
    results['cases'].append(fv_case())
    print(json.dumps(results, indent=1))
    if OUTPUT:
        with open(OUTPUT, 'w') as f:
            json.dump(results, f, indent=1)
    ok = all(c.get('relative', 0) < 1e-3 for c in results['cases'][:2]) and \
        results['cases'][2]['max_aie_difference'] < 1e-5 and results['cases'][2]['same_top_heads']
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
