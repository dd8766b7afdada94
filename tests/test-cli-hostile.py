#!/usr/bin/python3
"""conceptscope-cli against hostile files: every case must end in a clear
message and a non-zero exit, never a crash (a signal) or a hang. The
expected messages are this program's own; what makes each case hostile is
written out beside it."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

cli = sys.argv[1]
data = os.environ['CONCEPTSCOPE_DATADIR']
sample = os.path.join(data, 'sample-model')
sae_dir = os.path.join(data, 'sae-resid-post-1')
failures = 0


def check(cond, what):
    global failures
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        failures += 1


def refused(args, needle, what, timeout=60):
    """Exit 1 (not a signal, not 0) with `needle` in the message."""
    try:
        p = subprocess.run([cli, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        check(False, f'{what}: no answer within {timeout} s')
        return
    msg = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''
    ok = p.returncode == 1 and needle in p.stderr
    if not ok:
        print(p.returncode, p.stderr[-600:])
    check(ok, f'{what}: exit {p.returncode}, "{msg[:110]}"')


def nested(depth, inner='0'):
    return '[' * depth + inner + ']' * depth


def deep_object(depth):
    return '{"a":' * depth + '1' + '}' * depth


with tempfile.TemporaryDirectory() as tmp:
    # 1. JSON nested far deeper than any real file: json-glib parses
    #    recursively and overflowed the stack at 100,000 levels
    deep = 'nested more than 512 levels'

    def model_copy(name):
        d = os.path.join(tmp, name)
        shutil.copytree(sample, d)
        return d

    m = model_copy('deep-config')
    cfg = json.load(open(os.path.join(m, 'config.json')))
    text = json.dumps(cfg)[:-1] + ', "deep": ' + nested(100000) + '}'
    open(os.path.join(m, 'config.json'), 'w').write(text)
    refused(['info', m], deep, 'config.json nested 100,000 levels')

    m = model_copy('deep-tokenizer')
    tok = json.load(open(os.path.join(m, 'tokenizer.json')))
    pre = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}
    text = json.dumps(tok).replace('"pre_tokenizer":', '"pre_tokenizer_unused": null, "pre_tokenizer":', 1)
    seq = '{"type": "Sequence", "pretokenizers": [' * 100000 + json.dumps(pre) + ']}' * 100000
    text = text.replace('"pre_tokenizer_unused": null, "pre_tokenizer":', '"pre_tokenizer": ' + seq + ', "x":', 1)
    open(os.path.join(m, 'tokenizer.json'), 'w').write(text)
    refused(['tokenize', m, 'hello'], deep, 'tokenizer.json with Sequence pre-tokenizers nested 100,000 deep')

    m = model_copy('deep-header')
    st = os.path.join(m, 'model.safetensors')
    with open(st, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    h = json.dumps(header)[:-1] + ', "__metadata__": {"x": ' + deep_object(200000) + '}}'
    h = h.encode() + b' ' * ((8 - len(h) % 8) % 8)
    with open(st, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        f.write(blob)
    refused(['info', m], deep, 'a safetensors header nested 200,000 levels')

    cats = os.path.join(tmp, 'cats.json')
    open(cats, 'w').write('{"animal": {"words": ' + nested(150000, '"dog"') + '}}')
    refused(['geometry', sample, '--categories', cats, '--output', os.path.join(tmp, 'ws.h5')], deep,
            'a categories file nested 150,000 levels')

    pairs = os.path.join(tmp, 'pairs.json')
    open(pairs, 'w').write(nested(100000, '{"positive": "a", "negative": "b"}'))
    refused(['steer', sample, '--dataset', pairs, '--targets', 'animal', '--output', os.path.join(tmp, 's.h5')],
            deep, 'a steering dataset nested 100,000 levels')

    sae = os.path.join(tmp, 'deep-sae')
    shutil.copytree(sae_dir, sae)
    c = json.load(open(os.path.join(sae, 'cfg.json')))
    open(os.path.join(sae, 'cfg.json'), 'w').write(json.dumps(c)[:-1] + ', "deep": ' + deep_object(100000) + '}')
    refused(['sae', 'encode', sample, '--sae', sae, '--prompt', 'a dog'], deep, 'an SAE cfg.json nested 100,000 levels')

    # a real file's nesting still reads (the sample tokenizer's is the deepest)
    p = subprocess.run([cli, 'tokenize', sample, 'hello', '--json'], capture_output=True, text=True)
    check(p.returncode == 0, 'the sample model still tokenizes')

sys.exit(1 if failures else 0)
