#!/usr/bin/python3
"""CPU forward-pass benchmark: ConceptScope against PyTorch on the same
GPT-2-small-shaped model (12 layers, 768 wide, 50257 tokens, random weights),
same machine, same threads, in one script.

PyTorch runs GPT-2 in eager mode with all cores (torch.set_num_threads);
both compute full logits for every position. The outputs are compared so
the two are known to compute the same function."""
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
from peer_models import write_gpt2  # noqa: E402

use_openmp_openblas()
import torch  # noqa: E402

BENCH = sys.argv[1]            # path to bench-forward
CLI = sys.argv[2]              # path to conceptscope-cli
OUT = sys.argv[3] if len(sys.argv) > 3 else None
L, D, H, V, P = 12, 768, 12, 50257, 1024
CASES = [(4, 256, 5), (1, 64, 20)]


def write_model(folder):
    return {k: torch.from_numpy(v) for k, v in write_gpt2(folder, L, D, H, V, P).items()}


class TorchGPT2:
    """GPT-2 in PyTorch eager ops, as transformers' GPT2LMHeadModel computes it."""

    def __init__(self, t):
        self.t = t

    def __call__(self, ids):
        t = self.t
        B, T = ids.shape
        x = t['transformer.wte.weight'][ids] + t['transformer.wpe.weight'][:T]
        mask = torch.full((T, T), float('-inf')).triu(1)
        hd = D // H
        for i in range(L):
            p = f'transformer.h.{i}.'
            h = torch.nn.functional.layer_norm(x, (D,), t[p + 'ln_1.weight'], t[p + 'ln_1.bias'], 1e-5)
            qkv = torch.addmm(t[p + 'attn.c_attn.bias'], h.view(-1, D), t[p + 'attn.c_attn.weight']).view(B, T, 3, H, hd)
            q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))
            if hasattr(torch.nn.functional, 'scaled_dot_product_attention'):
                a = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                s = q @ k.transpose(-1, -2) / hd ** 0.5 + mask
                a = torch.softmax(s, dim=-1) @ v
            a = a.transpose(1, 2).reshape(B * T, D)
            x = x + torch.addmm(t[p + 'attn.c_proj.bias'], a, t[p + 'attn.c_proj.weight']).view(B, T, D)
            h = torch.nn.functional.layer_norm(x, (D,), t[p + 'ln_2.weight'], t[p + 'ln_2.bias'], 1e-5)
            m = torch.addmm(t[p + 'mlp.c_fc.bias'], h.view(-1, D), t[p + 'mlp.c_fc.weight'])
            m = torch.nn.functional.gelu(m, approximate='tanh')
            x = x + torch.addmm(t[p + 'mlp.c_proj.bias'], m, t[p + 'mlp.c_proj.weight']).view(B, T, D)
        x = torch.nn.functional.layer_norm(x, (D,), t['transformer.ln_f.weight'], t['transformer.ln_f.bias'], 1e-5)
        return x @ t['transformer.wte.weight'].T


def torch_time(model, batch, length, reps):
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(0, V, (batch, length), generator=g)
    with torch.inference_mode():
        model(ids)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            model(ids)
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    threads = os.cpu_count()
    torch.set_num_threads(threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    cpu = subprocess.run(['sh', '-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    results = {'machine': f'{cpu}, {threads} threads', 'torch': torch.__version__, 'peer_blas': blas_in_use(),
               'cases': []}
    with tempfile.TemporaryDirectory() as folder:
        weights = write_model(folder)
        file_mb = os.path.getsize(os.path.join(folder, 'model.safetensors')) / 2**20
        model = TorchGPT2(weights)

        # Same function: both give the same logits for one prompt.
        import h5py
        ids = torch.randint(0, V, (1, 32), generator=torch.Generator().manual_seed(7))
        out = os.path.join(folder, 'check.h5')
        subprocess.run([CLI, 'forward', folder, '--device', 'cpu', '--ids', ','.join(map(str, ids[0].tolist())), '--output', out],
                       check=True, capture_output=True, env=env)
        with h5py.File(out, 'r') as f, torch.inference_mode():
            diff = float(np.abs(f['logits'][()] - model(ids).numpy()).max())
        print(f'logits agree: max |ConceptScope - PyTorch| = {diff:.2e}', flush=True)
        results['max_logit_diff'] = diff
        if diff > 1e-3:
            sys.exit('the two implementations disagree; the timing would compare different functions')
        for batch, length, reps in CASES:
            cs = json.loads(subprocess.run([BENCH, folder, str(batch), str(length), str(reps), '--device', 'cpu'],
                                           capture_output=True, text=True, env=env, check=True).stdout)
            pt = torch_time(model, batch, length, reps)
            tokens = batch * length
            case = {'shape': f'{batch} x {length}', 'conceptscope_tok_s': cs['tokens_per_s'],
                    'pytorch_tok_s': tokens / pt, 'ratio': cs['tokens_per_s'] / (tokens / pt),
                    'conceptscope_peak_rss_mb': cs['peak_rss_mb'], 'model_file_mb': file_mb}
            results['cases'].append(case)
            print(f"{case['shape']:>9}: ConceptScope {case['conceptscope_tok_s']:9.1f} tok/s   "
                  f"PyTorch {case['pytorch_tok_s']:9.1f} tok/s   ratio {case['ratio']:.2f}   "
                  f"peak RSS {cs['peak_rss_mb']:.0f} MB (file {file_mb:.0f} MB, "
                  f"+{cs['peak_rss_mb'] - file_mb:.0f} MB)", flush=True)
    print(f"machine: {results['machine']}; torch {results['torch']}")
    if OUT:
        with open(OUT, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
