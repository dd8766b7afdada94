#!/usr/bin/python3
"""Steering sweep benchmark: 4 layers x 5 multipliers x ~100 prompts on the
sample model (the shipped animal-vs-plant pairs: the vector from half of
them, the held-out half's plant prompts measured by the probability of an
animal token), ConceptScope's `steer` against the same sweep in PyTorch on the
same weights, in the same script.

The peer is GPT-2 in PyTorch eager ops (as transformers computes it), float32
weights converted once, all prompts in one right-padded batch per setting
(causal attention never lets the last real token see the padding, so no mask
is needed), the vector added to the block's output at every position as
ConceptScope does, the last real position's logits gathered, softmax, target
mass. torch.set_num_threads(all cores). It uses ConceptScope's own vectors
(read back from the output file) and token ids (from `forward`), and both
behaviour matrices must agree to 1e-4.

A machine without h5py (the GPU machine) takes the vectors, target tokens
and token ids from a file that --save-inputs wrote where h5py is (the
vectors ConceptScope computes there differ by float rounding only).

Usage: run-steer-bench.py CLI [--device cpu|cuda] [--save-inputs FILE.npz | --inputs FILE.npz]"""
import json
import os
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


DEVICE = arg('--device', 'cpu')
INPUTS, SAVE_INPUTS = arg('--inputs'), arg('--save-inputs')
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
MODEL = os.path.join(ROOT, 'data', 'sample-model')
DATA = os.path.join(ROOT, 'data', 'steering', 'animal-vs-plant.json')
LAYERS = [0, 1, 2, 3]
MULTS = [-4.0, -2.0, 0.0, 2.0, 4.0]
HELD_OUT = 0.5


class SteeredGPT2:
    def __init__(self, t, cfg, device):
        self.t = {k: v.to(device) for k, v in t.items()}
        self.L, self.D, self.H = cfg['n_layer'], cfg['n_embd'], cfg['n_head']
        self.device = device

    def __call__(self, ids, last, layer, mult, vec):
        t, D, H = self.t, self.D, self.H
        B, T = ids.shape
        hd = D // H
        x = t['transformer.wte.weight'][ids] + t['transformer.wpe.weight'][:T]
        for i in range(self.L):
            p = f'transformer.h.{i}.'
            h = torch.nn.functional.layer_norm(x, (D,), t[p + 'ln_1.weight'], t[p + 'ln_1.bias'], 1e-5)
            qkv = torch.addmm(t[p + 'attn.c_attn.bias'], h.view(-1, D), t[p + 'attn.c_attn.weight']).view(B, T, 3, H, hd)
            q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))
            if hasattr(torch.nn.functional, 'scaled_dot_product_attention'):
                a = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                mask = torch.full((T, T), float('-inf'), device=self.device).triu(1)
                a = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + mask, dim=-1) @ v
            a = a.transpose(1, 2).reshape(B * T, D)
            x = x + torch.addmm(t[p + 'attn.c_proj.bias'], a, t[p + 'attn.c_proj.weight']).view(B, T, D)
            h = torch.nn.functional.layer_norm(x, (D,), t[p + 'ln_2.weight'], t[p + 'ln_2.bias'], 1e-5)
            m = torch.nn.functional.gelu(torch.addmm(t[p + 'mlp.c_fc.bias'], h.view(-1, D), t[p + 'mlp.c_fc.weight']),
                                         approximate='tanh')
            x = x + torch.addmm(t[p + 'mlp.c_proj.bias'], m, t[p + 'mlp.c_proj.weight']).view(B, T, D)
            if i == layer and mult != 0:
                x = x + mult * vec
        xl = x[torch.arange(B, device=self.device), last]
        xl = torch.nn.functional.layer_norm(xl, (D,), t['transformer.ln_f.weight'], t['transformer.ln_f.bias'], 1e-5)
        return xl @ t['transformer.wte.weight'].T


def read_inputs(tmp, out, prompts):
    """ConceptScope's vectors, the animal tokens and the prompts' ids, read
    from the files the CLI writes."""
    import h5py
    with h5py.File(out, 'r') as f:
        vectors = torch.from_numpy(f['steering/vectors'][()])
    ws = os.path.join(tmp, 'ws.h5')
    subprocess.run([CLI, 'geometry', MODEL, '--hierarchy', 'animal', '--output', ws], check=True,
                   capture_output=True)
    with h5py.File(ws, 'r') as f:
        off = f['categories/token_offsets'][()]
        targets = torch.from_numpy(f['categories/tokens'][()][off[0]:off[1]].astype(np.int64))
    ids_file = os.path.join(tmp, 'ids.h5')
    args = [CLI, 'forward', MODEL, '--logits', 'none', '--output', ids_file]
    for p in prompts:
        args += ['--prompt', p]
    subprocess.run(args, check=True, capture_output=True)
    with h5py.File(ids_file, 'r') as f:
        ids = f['input_ids'][()].astype(np.int64)
        lengths = f['lengths'][()].astype(np.int64)
    return vectors, targets, ids, lengths


def main():
    torch.set_num_threads(os.cpu_count())
    cfg = json.load(open(os.path.join(MODEL, 'config.json')))
    pairs = json.load(open(DATA))
    held = [((i * 0.6180339887498949) % 1.0) < HELD_OUT for i in range(len(pairs))]
    prompts = [p['negative'] for p, h in zip(pairs, held) if h]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'steer.h5')
        t0 = time.perf_counter()
        p = subprocess.run([CLI, 'steer', MODEL, '--dataset', DATA, '--targets', 'animal',
                            '--layers', '0-3', '--multipliers=' + ','.join(str(m) for m in MULTS),
                            '--held-out', str(HELD_OUT), '--device', DEVICE, '--output', out, '--json'],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f'conceptscope-cli steer failed: {p.stderr.strip()}')
        st = json.loads(p.stdout)
        wall = time.perf_counter() - t0
        if INPUTS:
            z = np.load(INPUTS)
            vectors, targets, ids, lengths = (torch.from_numpy(z['vectors']), torch.from_numpy(z['targets']),
                                              z['ids'], z['lengths'])
        else:
            vectors, targets, ids, lengths = read_inputs(tmp, out, prompts)
    if SAVE_INPUTS:
        np.savez(SAVE_INPUTS, vectors=vectors.numpy(), targets=targets.numpy(), ids=ids, lengths=lengths)
    dev = torch.device(DEVICE)
    model = SteeredGPT2(read_safetensors(os.path.join(MODEL, 'model.safetensors')), cfg, dev)
    ids_t = torch.from_numpy(np.where(ids < 0, 0, ids)).to(dev)
    last = torch.from_numpy(lengths - 1).to(dev)
    targets = targets.to(dev)
    vectors = vectors.to(dev)
    peer = np.zeros((len(LAYERS), len(MULTS)))
    with torch.inference_mode():
        model(ids_t, last, -1, 0.0, vectors[0])   # warm-up
        if DEVICE == 'cuda':
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for a, layer in enumerate(LAYERS):
            for m, mult in enumerate(MULTS):
                z = model(ids_t, last, layer, mult, vectors[layer])
                peer[a, m] = torch.softmax(z.double(), dim=-1)[:, targets].sum(1).mean().item()
        if DEVICE == 'cuda':
            torch.cuda.synchronize()
        peer_s = time.perf_counter() - t0
    ours = np.array(st['behaviour'])
    tokens = int(lengths.sum()) * len(LAYERS) * len(MULTS)
    result = {
        'device': DEVICE, 'cores': os.cpu_count(), 'torch': torch.__version__, 'peer_blas': blas_in_use(),
        'prompts': len(prompts),
        'pairs_for_vector': st['pairs'], 'tokens_in_sweep': tokens,
        'conceptscope_sweep_s': st['sweep_seconds'], 'conceptscope_tokens_per_s': tokens / st['sweep_seconds'],
        'conceptscope_process_s': wall,
        'pytorch_sweep_s': peer_s, 'pytorch_tokens_per_s': tokens / peer_s,
        'ratio': peer_s / st['sweep_seconds'],
        'max_behaviour_difference': float(np.abs(ours - peer).max()),
        'behaviour_conceptscope': ours.tolist(), 'behaviour_pytorch': peer.tolist(),
    }
    print(json.dumps(result, indent=1))
    sys.exit(0 if result['max_behaviour_difference'] < 1e-4 else 1)


if __name__ == '__main__':
    main()
