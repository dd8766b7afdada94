#!/usr/bin/env python3
"""SAE training, GPU against CPU: the shipped SAE's recipe
(data/sae-set/README.md: the sample model's resid_post.1 over
300,000 tokens of WordNet definitions, 256 -> 1024 features, batch 256,
4 epochs) trained by `conceptscope-cli sae train` once with --device cuda and
once with --device cpu on the same machine, in the same script. Both collect
the activations the same way (on the GPU when there is one); the times
compared are the training's alone, as the CLI reports them. The fractions of
variance unexplained of the two runs are printed beside each other (the two
runs start from the same weights and take the same batches).

Usage: run-sae-bench.py CLI CORPUS.txt OUT.json"""
import json
import os
import re
import subprocess
import sys
import tempfile

CLI, CORPUS, OUT = sys.argv[1:4]
MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'sample-model')


def train(device, folder):
    p = subprocess.run([CLI, 'sae', 'train', MODEL, '--prompts', CORPUS, '--hook', 'resid_post.1',
                        '--d-sae', '1024', '--l1', '1', '--lr', '4e-3', '--epochs', '4', '--max-tokens', '300000',
                        '--seed', '1', '--device', device, '--output', folder],
                       capture_output=True, text=True)
    print(p.stderr, flush=True)
    if p.returncode != 0:
        raise SystemExit(f'sae train --device {device} failed')
    steps, seconds = re.search(r'trained (\d+) steps in ([0-9.]+) s', p.stderr).groups()
    last = [l for l in p.stderr.splitlines() if l.startswith('epoch ')][-1]
    fvu = float(re.search(r'FVU ([0-9.]+)', last).group(1))
    l0 = float(re.search(r'L0 ([0-9.]+)', last).group(1))
    on = re.search(r'training on (.*)', p.stderr).group(1)
    return {'device': device, 'on': on, 'steps': int(steps), 'seconds': float(seconds), 'fvu': fvu, 'l0': l0}


with tempfile.TemporaryDirectory() as tmp:
    gpu = train('cuda', os.path.join(tmp, 'gpu'))
    cpu = train('cpu', os.path.join(tmp, 'cpu'))
result = {'cores': os.cpu_count(), 'gpu': gpu, 'cpu': cpu, 'gpu_speed_up': cpu['seconds'] / gpu['seconds']}
print(json.dumps(result, indent=1))
json.dump(result, open(OUT, 'w'), indent=1)
