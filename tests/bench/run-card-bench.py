#!/usr/bin/python3
"""Feature-card scan benchmark: every latent of one of the sample model's SAEs
(data/sae-set/resid_post.L, 256 → 1024) over a text corpus — each latent's
firing count, the histogram of its non-zero activations (40 bins of log10
from −3 to 3) and its 20 strongest tokens with the activations of the 8
tokens on each side — ConceptScope's `sae scan` against the same scan in
PyTorch on the same weights, in the same script.

The corpus is the one shipped with the SAEs (data/sae-set/corpus.txt.gz,
20,529 lines), decompressed to a temporary file. Both sides see the same
token ids: each line tokenised by ConceptScope's tokenizer (`tokenize
--lines`, not timed for the peer; ConceptScope's own time includes its
tokenising and reading the file), cut into chunks of at most 64 tokens as
ConceptScope cuts them. The peer runs GPT-2 in eager PyTorch ops (as
transformers computes it) up to the SAE's layer, float32 weights converted
once, chunks right-padded into batches of about 4,096 tokens (causal
attention: the padding never reaches a real token; the chunks sorted by
length first, so that there is little padding), the SAE's encoder, and
keeps the counts, histograms and top-20 contexts with torch ops on the
whole batch (topk over the batch merged with the running top). All cores:
torch.set_num_threads(os.cpu_count()) on the OpenMP OpenBLAS (peer_env).

Checks before timing counts: both sides' firing counts, histograms and
top-20 activations agree (float rounding: a count may differ where an
activation is within 1e-6 of 0).

Usage: run-card-bench.py CLI [--layer L] [--lines N] [--output FILE.json]"""
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_env import blas_in_use, use_openmp_openblas  # noqa: E402
from peer_models import read_safetensors  # noqa: E402

use_openmp_openblas()
import torch  # noqa: E402

CLI = sys.argv[1]


def arg(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
MODEL = os.path.join(ROOT, 'data', 'sample-model')
LAYER = int(arg('--layer', '2'))
SAE = os.path.join(ROOT, 'data', 'sae-set', f'resid_post.{LAYER}')
CORPUS = os.path.join(ROOT, 'data', 'sae-set', 'corpus.txt.gz')
LINES = int(arg('--lines', '0'))
OUTPUT = arg('--output')
CHUNK, TOP, WIN, BINS, BATCH_TOKENS = 64, 20, 8, 40, 4096


def resid_post(t, cfg, ids, layer):
    """GPT-2's residual stream after block `layer`, [B, T, D]."""
    D, H = cfg['n_embd'], cfg['n_head']
    B, T = ids.shape
    hd = D // H
    x = t['transformer.wte.weight'][ids] + t['transformer.wpe.weight'][:T]
    for i in range(layer + 1):
        p = f'transformer.h.{i}.'
        h = torch.nn.functional.layer_norm(x, (D,), t[p + 'ln_1.weight'], t[p + 'ln_1.bias'], 1e-5)
        qkv = torch.addmm(t[p + 'attn.c_attn.bias'], h.view(-1, D), t[p + 'attn.c_attn.weight']).view(B, T, 3, H, hd)
        q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))
        if hasattr(torch.nn.functional, 'scaled_dot_product_attention'):
            a = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:   # Debian's PyTorch 1.13
            mask = torch.full((T, T), float('-inf')).triu(1)
            a = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + mask, dim=-1) @ v
        a = a.transpose(1, 2).reshape(B * T, D)
        x = x + torch.addmm(t[p + 'attn.c_proj.bias'], a, t[p + 'attn.c_proj.weight']).view(B, T, D)
        h = torch.nn.functional.layer_norm(x, (D,), t[p + 'ln_2.weight'], t[p + 'ln_2.bias'], 1e-5)
        m = torch.nn.functional.gelu(torch.addmm(t[p + 'mlp.c_fc.bias'], h.view(-1, D), t[p + 'mlp.c_fc.weight']),
                                     approximate='tanh')
        x = x + torch.addmm(t[p + 'mlp.c_proj.bias'], m, t[p + 'mlp.c_proj.weight']).view(B, T, D)
    return x


def chunks_of(lines_ids):
    """(ids, line, start) per chunk, as ConceptScope cuts lines."""
    out = []
    for li, ids in lines_ids:
        for p in range(0, len(ids), CHUNK):
            out.append((ids[p:p + CHUNK], li, p))
    return out


def batches(chunks):
    batch, n = [], 0
    for c in chunks:
        batch.append(c)
        n += len(c[0])
        if n >= BATCH_TOKENS or len(batch) == 512:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch


def peer_scan(t, cfg, sae, chunks):
    m = sae['W_enc'].shape[1]
    fires = torch.zeros(m, dtype=torch.int64)
    hist = torch.zeros(m * BINS, dtype=torch.float64)
    top_v = torch.zeros(TOP, m)
    top_where = torch.zeros(TOP, m, dtype=torch.int64)
    top_ctx = torch.full((TOP, m, 2 * WIN + 1), -1, dtype=torch.int64)
    top_acts = torch.zeros(TOP, m, 2 * WIN + 1)
    offs = torch.arange(-WIN, WIN + 1)
    for batch in batches(chunks):
        B, T = len(batch), max(len(c[0]) for c in batch)
        ids = torch.zeros(B, T, dtype=torch.int64)
        lens = torch.tensor([len(c[0]) for c in batch])
        for b, c in enumerate(batch):
            ids[b, :len(c[0])] = torch.tensor(c[0])
        valid = torch.arange(T)[None, :] < lens[:, None]                     # [B, T]
        x = resid_post(t, cfg, ids, LAYER)
        f = torch.relu((x - sae['b_dec']) @ sae['W_enc'] + sae['b_enc'])      # [B, T, m]
        f = f * valid[:, :, None]
        pos = f > 0
        fires += pos.sum((0, 1))
        v = f[pos]
        k = pos.nonzero()[:, 2]
        bins = ((torch.log10(v.double()) + 3.0) / 6.0 * BINS).floor().clamp(0, BINS - 1).long()
        hist += torch.bincount(k * BINS + bins, minlength=m * BINS).double()
        # this batch's 20 strongest tokens of each latent, then merged with the running top
        flat = f.reshape(B * T, m).T.contiguous()
        bv, bi = flat.topk(TOP, dim=1)
        bv, bi = bv.T, bi.T                                                  # [TOP, m]
        bb, bt = bi // T, bi % T
        where = torch.tensor([(c[1] << 20) | c[2] for c in batch])[bb] + bt
        tt = bt[:, :, None] + offs                                           # [TOP, m, 2W+1]
        inside = (tt >= 0) & (tt < lens[bb][:, :, None])
        ttc = tt.clamp(0, T - 1)
        ctx_ids = torch.where(inside, ids[bb[:, :, None].expand_as(ttc), ttc], torch.tensor(-1))
        lat = torch.arange(m)[None, :, None].expand_as(ttc)
        ctx_acts = torch.where(inside, f[bb[:, :, None].expand_as(ttc), ttc, lat], torch.tensor(0.0))
        allv = torch.cat([top_v, bv])
        sv, si = allv.topk(TOP, dim=0)
        top_where = torch.cat([top_where, where]).gather(0, si)
        top_ctx = torch.cat([top_ctx, ctx_ids]).gather(0, si[:, :, None].expand(-1, -1, 2 * WIN + 1))
        top_acts = torch.cat([top_acts, ctx_acts]).gather(0, si[:, :, None].expand(-1, -1, 2 * WIN + 1))
        top_v = sv
    return fires, hist.view(m, BINS), top_v.T, top_where.T, top_ctx.transpose(0, 1), top_acts.transpose(0, 1)


def untied_same(o_top, o_where, where):
    """Where the two top lists name the same token, among entries whose
    activation no other entry of the latent's list (nor the one after the
    list) ties within 1e-5: equal activations may come in either order."""
    same = n = 0
    for k in range(o_top.shape[0]):
        v = o_top[k]
        for i in range(len(v) - 1):
            if v[i] <= 0:
                break
            tied = np.abs(v - v[i]) <= 1e-5 * v[i]
            if tied.sum() > 1 or i == len(v) - 1:
                continue
            n += 1
            same += o_where[k, i] == where[k, i]
    return float(same / max(n, 1))


def main():
    import h5py
    torch.set_num_threads(os.cpu_count())
    cfg = json.load(open(os.path.join(MODEL, 'config.json')))
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, 'corpus.txt')
        with gzip.open(CORPUS, 'rt', encoding='utf-8') as f:
            lines = f.read().splitlines()
        if LINES:
            lines = lines[:LINES]
        with open(corpus, 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines) + '\n')
        corpus_bytes = os.path.getsize(corpus)
        out = os.path.join(tmp, 'scan.h5')
        t0 = time.perf_counter()
        # /usr/bin/time reports the command's own peak (a child's ru_maxrss
        # would count the pages of this Python process it was forked from)
        rss_file = os.path.join(tmp, 'rss')
        p = subprocess.run(['/usr/bin/time', '-f', '%M', '-o', rss_file, CLI, 'sae', 'scan', MODEL, '--sae', SAE,
                            '--corpus', corpus, '--output', out, '--no-cache'], capture_output=True, text=True)
        ours_s = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f'conceptscope-cli sae scan failed: {p.stderr.strip()}')
        ours_rss = int(open(rss_file).read().split()[-1]) / 1024
        with h5py.File(out, 'r') as f:
            o_fires, o_hist, o_top = f['fires'][()], f['histogram'][()], f['top_act'][()]
            o_where = f['top_where'][()].astype(np.int64)
            n_tokens = int(f.attrs['n_tokens'])
        tk = subprocess.run([CLI, 'tokenize', MODEL, '--text-file', corpus, '--lines', '--json'],
                            capture_output=True, text=True, check=True)
        lines_ids = [(i, json.loads(s)['ids']) for i, s in enumerate(tk.stdout.splitlines()) if s.strip()]
    chunks = chunks_of(lines_ids)
    # the peer's batches hold chunks of about one length (sorted), so that
    # right-padding costs it little; ConceptScope packs without padding
    chunks.sort(key=lambda c: len(c[0]))
    t = read_safetensors(os.path.join(MODEL, 'model.safetensors'))
    sae = read_safetensors(os.path.join(SAE, 'sae_weights.safetensors'))
    with torch.inference_mode():
        peer_scan(t, cfg, sae, chunks[:64])   # warm-up
        t0 = time.perf_counter()
        fires, hist, top, where, ctx, acts = peer_scan(t, cfg, sae, chunks)
        peer_s = time.perf_counter() - t0
    peer_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tokens = sum(len(c[0]) for c in chunks)
    fires, hist, top, where = fires.numpy(), hist.numpy(), top.numpy(), where.numpy()
    result = {
        'machine': f'{os.cpu_count()} cores', 'torch': torch.__version__, 'peer_blas': blas_in_use(),
        'layer': LAYER, 'd_sae': int(sae['W_enc'].shape[1]), 'lines': len(lines_ids), 'tokens': tokens,
        'tokens_conceptscope': n_tokens,
        'conceptscope_process_s': ours_s, 'conceptscope_tokens_per_s': tokens / ours_s,
        'conceptscope_peak_rss_mb': ours_rss,
        'corpus_bytes': corpus_bytes,
        'pytorch_scan_s': peer_s, 'pytorch_tokens_per_s': tokens / peer_s, 'pytorch_peak_rss_mb': peer_rss,
        'ratio': peer_s / ours_s,
        'fires_differing_latents': int((fires != o_fires).sum()),
        'fires_max_difference': int(np.abs(fires - o_fires).max()),
        'histogram_max_difference': float(np.abs(hist - o_hist).max()),
        'top_act_max_relative_difference': float((np.abs(top - o_top) / np.maximum(np.abs(o_top), 1e-6)).max()),
        'top_where_same_fraction': float((where == o_where).mean()),
        'top_where_same_fraction_untied': untied_same(o_top, o_where, where),
    }
    print(json.dumps(result, indent=1))
    if OUTPUT:
        with open(OUTPUT, 'w') as f:
            json.dump(result, f, indent=1)
    ok = (n_tokens == tokens and result['fires_max_difference'] <= 2 and result['histogram_max_difference'] <= 2
          and result['top_act_max_relative_difference'] < 1e-3 and result['top_where_same_fraction_untied'] > 0.999)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
