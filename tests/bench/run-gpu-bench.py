#!/usr/bin/env python3
"""GPU benchmark: ConceptScope's CUDA backend against Hugging Face
transformers (PyTorch) on the same GPU, in one run, on a GPT-2-small-shaped
model (12 layers, 768 wide, 50257 tokens) with the same random weights,
float32 and BF16, and the causal-inner-product whitening of a
256000 x 2048 float32 matrix.

PyTorch gets its best settings: its default attention (sdpa), inference
mode, and (timed separately) eager attention. Float32 runs keep TF32 off on
both sides. Usage: run-gpu-bench.py BENCH_FORWARD BENCH_WHITEN OUT.json"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import transformers

BENCH, WHITEN, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
V = 50257
results = {'gpu': torch.cuda.get_device_name(0), 'torch': torch.__version__,
           'transformers': transformers.__version__, 'rows': []}


def log(*a):
    print(*a, flush=True)


def ours(folder, batch, length, reps, *extra):
    p = subprocess.run([BENCH, folder, str(batch), str(length), str(reps), '--device', 'cuda', *extra],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    return json.loads(p.stdout)


def torch_time(model, batch, length, reps, keep, to_host=False):
    g = torch.Generator(device='cuda').manual_seed(1234)
    ids = torch.randint(0, V, (batch, length), device='cuda', generator=g)
    try:
        with torch.inference_mode():
            model(ids[:, :8], logits_to_keep=keep)
    except TypeError:
        sys.exit('this transformers has no logits_to_keep; the comparison needs it')
    with torch.inference_mode():
        for _ in range(2):
            model(ids, logits_to_keep=keep)
        torch.cuda.synchronize()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            out = model(ids, logits_to_keep=keep)
            if to_host:
                out.logits.cpu()
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def row(name, ours_value, peer_value, unit, higher_is_better=True, note=''):
    ratio = ours_value / peer_value if higher_is_better else peer_value / ours_value
    results['rows'].append({'case': name, 'conceptscope': ours_value, 'pytorch': peer_value, 'unit': unit,
                            'ratio': ratio, 'note': note})
    log(f'{name:58s} ConceptScope {ours_value:12.4g} {unit:6s} PyTorch {peer_value:12.4g}  ratio {ratio:5.2f} {note}')


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(0)
        config = transformers.GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=V, n_positions=1024)
        base = transformers.GPT2LMHeadModel(config)
        folders = {}
        for dt, name in [(torch.float32, 'f32'), (torch.bfloat16, 'bf16')]:
            folders[name] = os.path.join(tmp, name)
            base.to(dt).save_pretrained(folders[name])
        del base

        for name, dt in [('f32', torch.float32), ('bf16', torch.bfloat16)]:
            folder = folders[name]
            fast = ['--fast'] if name == 'bf16' else []
            mode = 'BF16 weights, BF16 tensor cores' if name == 'bf16' else 'float32'
            models = {}
            for impl in ['sdpa', 'eager']:
                models[impl] = transformers.GPT2LMHeadModel.from_pretrained(
                    folder, dtype=dt, attn_implementation=impl).cuda().eval()

            # the same function: one prompt's logits agree
            ids = torch.randint(0, V, (1, 64), generator=torch.Generator().manual_seed(7)).to(torch.int32)
            ids_file, dump = os.path.join(tmp, 'ids.bin'), os.path.join(tmp, 'logits.bin')
            ids.numpy().tofile(ids_file)
            ours(folder, 1, 64, 1, '--ids', ids_file, '--dump', dump, *fast)
            got = np.fromfile(dump, dtype=np.float32).reshape(64, V)
            with torch.inference_mode():
                want = models['sdpa'](ids.long().cuda()).logits[0].float().cpu().numpy()
            diff = float(np.abs(got - want).max())
            results[f'max_logit_diff_{name}'] = diff
            log(f'{mode}: max |ConceptScope - transformers| logits = {diff:.3g} (logit scale {np.abs(want).max():.3g})')

            for keep, what in [(1, 'last-position logits'), (0, 'all logits')]:
                extra = ['--logits', 'last' if keep == 1 else 'all']
                cs = ours(folder, 8, 1024, 5, *extra, *fast)
                pt = torch_time(models['sdpa'], 8, 1024, 5, keep)
                pe = torch_time(models['eager'], 8, 1024, 5, keep)
                note = ('ConceptScope copies the logits to host memory; PyTorch leaves them on the GPU'
                        if keep == 0 else '')
                row(f'throughput 8x1024, {mode}, {what} (peer sdpa)', cs['tokens_per_s'], 8192 / pt, 'tok/s',
                    note=note)
                row(f'throughput 8x1024, {mode}, {what} (peer eager)', cs['tokens_per_s'], 8192 / pe, 'tok/s')
                if keep == 0:
                    ph = torch_time(models['sdpa'], 8, 1024, 3, 0, to_host=True)
                    row(f'throughput 8x1024, {mode}, all logits to host memory (peer sdpa + .cpu())',
                        cs['tokens_per_s'], 8192 / ph, 'tok/s')
            if name == 'f32':
                cs = ours(folder, 1, 64, 20, '--logits', 'all')
                pt = torch_time(models['sdpa'], 1, 64, 20, 0)
                ph = torch_time(models['sdpa'], 1, 64, 20, 0, to_host=True)
                row('latency 1x64 prompt, float32, logits to host (peer sdpa + .cpu())', cs['seconds'] * 1e3,
                    ph * 1e3, 'ms', False)
                pe = torch_time(models['eager'], 1, 64, 20, 0)
                row('latency 1x64 prompt, float32 (peer sdpa)', cs['seconds'] * 1e3, pt * 1e3, 'ms', False)
                row('latency 1x64 prompt, float32 (peer eager)', cs['seconds'] * 1e3, pe * 1e3, 'ms', False)
            del models
            torch.cuda.empty_cache()

    # whitening, 256000 x 2048 float32
    rows_, cols = 256000, 2048
    p = subprocess.run([WHITEN, str(rows_), str(cols), '3', 'cuda'], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    cs = json.loads(p.stdout)
    prof = subprocess.run([WHITEN, str(rows_), str(cols), '1', 'cuda'], capture_output=True, text=True,
                          env=dict(os.environ, CS_CUDA_PROFILE='1'))
    log('ConceptScope whitening phases (second run):')
    log('\n'.join(prof.stderr.strip().splitlines()[-9:]))
    results['whiten_phases'] = prof.stderr
    u_host = torch.randn(rows_, cols)
    u_host = torch.cumsum(u_host * 0.3, dim=1)   # correlated columns, like bench-whiten's data

    def torch_whiten(u):
        c = u - u.mean(0)
        cov = c.T @ c / c.shape[0]
        lam, q = torch.linalg.eigh(cov)
        inv = q @ torch.diag(1 / torch.sqrt(lam)) @ q.T
        return c @ inv

    u_dev = u_host.cuda()
    for _ in range(2):
        torch_whiten(u_dev)
    torch.cuda.synchronize()
    t_dev, t_host = [], []
    for _ in range(3):
        t0 = time.perf_counter(); torch_whiten(u_dev); torch.cuda.synchronize(); t_dev.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); torch_whiten(u_host.cuda()).cpu(); t_host.append(time.perf_counter() - t0)
    row('whitening 256000x2048, host to host (peer float32, host to host)', cs['seconds'], min(t_host), 's', False,
        'ConceptScope float64 covariance/eigh/product; PyTorch float32 as the paper code')
    row('whitening 256000x2048, host to host (peer float32, data already on the GPU)', cs['seconds'], min(t_dev), 's',
        False)
    with open(OUT, 'w') as f:
        json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
