#!/usr/bin/python3
"""conceptscope-cli against hostile files: every case must end in a clear
message and a non-zero exit, never a crash (a signal) or a hang. The
expected messages are this program's own; what makes each case hostile is
written out beside it."""
import fcntl
import json
import os
import resource
import signal
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import CliTest  # noqa: E402

cli = sys.argv[1]
data = os.environ['CONCEPTSCOPE_DATADIR']
sample = os.path.join(data, 'sample-model')
sae_dir = os.path.join(data, 'sae-set', 'resid_post.1')
harness = CliTest(cli)
check = harness.check


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

    # 4. numbers that are not: an epsilon that is negative or infinite, a
    #    layer count that is not whole, non-finite or zero parameters
    for field, value, needle in [('layer_norm_epsilon', '-1e-05', 'layer_norm_epsilon'),
                                 ('layer_norm_epsilon', '1e400', "'layer_norm_epsilon' is not a finite number"),
                                 ('n_layer', '4.5', "'n_layer' is 4.5; it must be a whole number")]:
        m = model_copy(f'num-{field}-{value}')
        text = open(os.path.join(m, 'config.json')).read()
        cfg = json.loads(text)
        cfg[field] = 0
        text = json.dumps(cfg).replace(f'"{field}": 0', f'"{field}": {value}')
        open(os.path.join(m, 'config.json'), 'w').write(text)
        refused(['run', m, '--prompt', 'A beaver is'], needle, f'config.json {field} = {value}')
    # a number too large for an integer inside a nested object (converting it
    # was undefined behaviour): a llama3 rope's original_max_position_embeddings
    m = model_copy('rope-huge')
    cfg = json.load(open(os.path.join(m, 'config.json')))
    cfg['rope_scaling'] = {'rope_type': 'llama3', 'factor': 8.0, 'original_max_position_embeddings': 0}
    text = json.dumps(cfg).replace('"original_max_position_embeddings": 0', '"original_max_position_embeddings": 4e32')
    open(os.path.join(m, 'config.json'), 'w').write(text)
    refused(['run', m, '--prompt', 'A beaver is'], "'original_max_position_embeddings' is 4e+32",
            'config.json rope original_max_position_embeddings = 4e32')
    for value in ('nan', 'inf'):
        p = subprocess.run([cli, 'forward', sample, '--ids', '1,2', '--steer-multiplier', value, '--output',
                            os.path.join(tmp, 'f.h5')], capture_output=True, text=True)
        check(p.returncode == 2 and 'finite' in p.stderr and not os.path.exists(os.path.join(tmp, 'f.h5')),
              f'forward --steer-multiplier {value}: exit {p.returncode}')
    ws = os.path.join(tmp, 'ws.h5')
    subprocess.run([cli, 'geometry', sample, '--output', ws], capture_output=True, check=True)
    for value in ('0', '-1', 'nan'):
        p = subprocess.run([cli, 'mapper', '--workspace', ws, '--categories', 'animal', '--lens', 'l2',
                            '--eps=' + value, '--output', os.path.join(tmp, 'g.json')], capture_output=True, text=True)
        check(p.returncode == 2 and '--eps' in p.stderr, f'mapper --eps {value}: exit {p.returncode} (not the automatic eps)')
    nan_sae = os.path.join(tmp, 'nan-sae')
    shutil.copytree(sae_dir, nan_sae)
    wpath = os.path.join(nan_sae, 'sae_weights.safetensors')
    with open(wpath, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        blob = bytearray(f.read())
    a, b = header['W_dec']['data_offsets']
    blob[a + 400:a + 404] = struct.pack('<f', float('nan'))
    with open(wpath, 'r+b') as f:
        f.seek(8 + n)
        f.write(blob)
    refused(['sae', 'encode', sample, '--sae', nan_sae, '--prompt', 'a dog'], "'W_dec' holds NaN", 'an SAE with a NaN weight')

    # 6. vocabularies that lie: two tokens with one id, an id far beyond the
    #    vocabulary, ids and a BOS the model has no rows for
    def tokenizer_variant(name, change):
        m = model_copy(name)
        tj = json.load(open(os.path.join(m, 'tokenizer.json'), encoding='utf-8'))
        change(tj)
        json.dump(tj, open(os.path.join(m, 'tokenizer.json'), 'w', encoding='utf-8'))
        return m

    def dup(tj):
        tj['model']['vocab']['zzqx'] = tj['model']['vocab']['\u0120dog']
    refused(['tokenize', tokenizer_variant('tok-dup', dup), 'a dog'], 'to both', 'two vocabulary entries with one id')

    def huge(tj):
        tj['model']['vocab']['zzqx'] = 99999999
    refused(['tokenize', tokenizer_variant('tok-huge', huge), 'a dog'], 'no valid id', 'a token id of 99,999,999')

    def beyond(tj):
        tj['model']['vocab']['zzqx'] = 20000
    refused(['run', tokenizer_variant('tok-beyond', beyond), '--prompt', 'a dog'], "model's vocabulary has 12288",
            'a token id beyond the model\'s 12,288 rows')

    def bos(tj):
        tj['added_tokens'].append({'id': 12400, 'content': '<bos>', 'single_word': False, 'lstrip': False,
                                   'rstrip': False, 'normalized': False, 'special': True})
        tj['post_processor'] = {'type': 'TemplateProcessing',
                                'single': [{'SpecialToken': {'id': '<bos>', 'type_id': 0}},
                                           {'Sequence': {'id': 'A', 'type_id': 0}}],
                                'pair': [], 'special_tokens': {'<bos>': {'id': '<bos>', 'ids': [12400],
                                                                         'tokens': ['<bos>']}}}
    refused(['run', tokenizer_variant('tok-bos', bos), '--prompt', 'a dog'], '12400', 'a BOS beyond the model\'s rows')

    # 2. a save that fails (the file size limit as a full disk): the message,
    #    the original kept, no temporary file, and no crash at exit (HDF5's
    #    exit handler crashed on the half-closed file)
    before = open(ws, 'rb').read()
    limit = len(before) + 4096

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    p = subprocess.run([cli, 'mapper', '--workspace', ws, '--categories', 'animal', '--lens', 'l2', '--output',
                        os.path.join(tmp, 'g.json')], capture_output=True, text=True, preexec_fn=small_disk)
    check(p.returncode == 1 and ('failed' in p.stderr or 'large' in p.stderr) and open(ws, 'rb').read() == before
          and not [f for f in os.listdir(tmp) if f.startswith('.ws.h5')],
          f'a save past the disk\'s room: exit {p.returncode} (no crash), original kept, nothing left: '
          f'{p.stderr.strip()[-70:]!r}')

    # 3. sizes a small file asks for: a dataset of 10⁸ × 10⁴ declared in a
    #    file of a few KB (its chunks never written), 5,000 categories
    import h5py
    big = os.path.join(tmp, 'declared.h5')
    with h5py.File(big, 'w') as f:
        f.create_dataset('x', shape=(10 ** 8, 10 ** 4), dtype='f8', chunks=(1000, 100))
    check(os.path.getsize(big) < 100000, f'the file declaring 8 TB is {os.path.getsize(big)} bytes')
    refused(['mapper', '--input', big + ':/x', '--lens', 'l2', '--output', os.path.join(tmp, 'g.json')], 'declares',
            'a 10^8 x 10^4 dataset declared in a small file')
    many = os.path.join(tmp, 'many.json')
    json.dump({f'c{i}': {'words': ['dog', 'cat']} for i in range(5000)}, open(many, 'w'))
    refused(['geometry', sample, '--categories', many, '--output', os.path.join(tmp, 'm.h5')], 'at most 4096',
            '5,000 categories')
    # 5. memory asked for by a parameter: PCA of one point in 10⁶ columns
    wide = os.path.join(tmp, 'wide.csv')
    with open(wide, 'w') as f:
        f.write(','.join(f'c{i}' for i in range(10 ** 6)) + '\n')
        f.write(','.join('1' for _ in range(10 ** 6)) + '\n')
        f.write(','.join('2' for _ in range(10 ** 6)) + '\n')
    p = subprocess.run([cli, 'mapper', '--input', wide, '--lens', 'pca1', '--intervals', '2', '--eps', '1', '--min-samples', '1', '--output',
                        os.path.join(tmp, 'w.json'), '--json'], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0 and json.loads(p.stdout)['points'] == 2,
          f'pca1 of two points in 10^6 columns: exit {p.returncode} (the d x d covariance asked for 8 TB)')

    # a workspace whose vocabulary-size attribute is not a whole number of tokens
    bad_ws = os.path.join(tmp, 'bad-vocab.h5')
    shutil.copy(ws, bad_ws)
    with __import__('h5py').File(bad_ws, 'r+') as h:
        h.attrs['vocab'] = 1e300
    refused(['figure', 'projection', '--workspace', bad_ws, '--output', os.path.join(tmp, 'x.png')],
            'vocabulary size (1e+300) is not a whole number', 'a workspace with vocab = 1e300')

    # an HDF5 file whose structure crashes the HDF5 library itself (a local
    # heap overlapping its header, found by fuzzing): refused, never a signal
    damaged = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fuzz', 'crashes', 'hdf5',
                           'local-heap-overlap')
    h5 = os.path.join(tmp, 'damaged.h5')
    shutil.copy(damaged, h5)
    refused(['mapper', '--input', h5 + ':/acts', '--lens', 'pca1', '--output', os.path.join(tmp, 'g.json')],
            'the file is damaged', 'an HDF5 file that crashes H5Lvisit')
    refused(['figure', 'projection', '--workspace', h5, '--x', 'animal', '--y', 'mammal', '--output',
             os.path.join(tmp, 'x.png')], 'the file is damaged', 'the same file as a workspace')

    # 7. two writers: one holding the workspace's lock makes the other wait,
    #    then go on; held past ten seconds, the other says who holds it
    lock = os.path.join(tmp, '.ws.h5.lock')
    with open(lock, 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(f'{os.getpid()}\n')
        f.flush()
        t0 = time.monotonic()
        p = subprocess.Popen([cli, 'mapper', '--workspace', ws, '--categories', 'animal', '--lens', 'l2', '--output',
                              os.path.join(tmp, 'g.json')], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        waiting = p.poll() is None
        fcntl.flock(f, fcntl.LOCK_UN)
    out, err = p.communicate(timeout=60)
    with __import__('h5py').File(ws, 'r') as h:
        saved = 'mapper' in h
    check(waiting and p.returncode == 0 and saved and time.monotonic() - t0 >= 1.5,
          f'a writer waits for the lock and then saves (exit {p.returncode})')
    with open(lock, 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(f'{os.getpid()}\n')
        f.flush()
        p = subprocess.run([cli, 'mapper', '--workspace', ws, '--categories', 'animal', '--lens', 'pca1', '--output',
                            os.path.join(tmp, 'g2.json')], capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and f'pid {os.getpid()}' in p.stderr,
          f'held past ten seconds: exit {p.returncode}, {p.stderr.strip()[-90:]!r}')
    os.unlink(lock)

harness.exit()
