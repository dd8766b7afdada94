#!/usr/bin/python3
"""conceptscope-cli as a scripting tool: text from files and standard input
(no argument-length limit), one tokenizer load for many lines, ids back to
text, and JSON that Python's json module parses whatever characters the text
holds. The oracles: Python's own json parser, the tokenizer's ids for each
line asked one call at a time, and the text itself (ids decode back to it)."""
import json
import os
import random
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


def run(*args, expect=0, stdin=None):
    t0 = time.time()
    p = subprocess.run([cli, *args], capture_output=True, input=stdin)
    if os.environ.get('CS_TEST_TIMES'):
        print(f'{time.time() - t0:6.2f} s  {" ".join(a for a in args if len(a) < 200)[:70]}')
    if p.returncode != expect:
        print(p.stdout[:2000], p.stderr[:2000])
    check(p.returncode == expect, f'exit {expect}: {" ".join(a for a in args if len(a) < 200)[:90]}')
    return p


def parses(raw, what):
    """Strict JSON (Python refuses raw control characters in strings)."""
    try:
        return json.loads(raw.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as e:
        check(False, f'{what}: JSON parses ({e})')
        return None


# A corpus of varied lines: words, numbers, code, whitespace runs, scripts.
rng = random.Random(7)
words = ['beaver', 'fern', 'is', 'a', 'kind', 'of', 'mammal', 'bird', 'oak', 'the', 'A', 'salmon',
         'élan', 'Ωμέγα', 'мир', '漢字', 'مرحبا', '🦫', '42', '3.14', 'x = f(y);', '\t', '  ', '--']
lines = []
for i in range(400):
    n = rng.randint(0, 14)
    lines.append(' '.join(rng.choice(words) for _ in range(n)))

with tempfile.TemporaryDirectory() as tmp:
    # one call, many lines: the same ids as one call per line
    corpus = os.path.join(tmp, 'lines.txt')
    with open(corpus, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    out = run('tokenize', sample, '--text-file', corpus, '--lines').stdout.decode('utf-8').splitlines()
    check(len(out) == len(lines), f'--lines: one JSON object per line ({len(out)} of {len(lines)})')
    objs = [json.loads(l) for l in out]
    picked = list(range(0, len(lines), 13))
    same = all(objs[i]['ids'] == json.loads(run('tokenize', sample, '--json', '--', lines[i]).stdout)['ids']
               for i in picked)
    check(same, f'--lines ids equal one call per line ({len(picked)} lines compared)')
    whole = json.loads(run('tokenize', sample, '--no-special', '--text-file', corpus, '--json').stdout)['ids']
    back = run('tokenize', sample, '--decode', '-', stdin=','.join(map(str, whole)).encode()).stdout
    with open(corpus, 'rb') as f:
        check(back == f.read() + b'\n', f'the corpus\'s {len(whole)} ids decode to the file (ids from standard input)')

    # CRLF files: the carriage return is not part of the line
    crlf = os.path.join(tmp, 'crlf.txt')
    with open(crlf, 'wb') as f:
        f.write('\r\n'.join(lines[:20]).encode('utf-8') + b'\r\n')
    out = run('tokenize', sample, '--text-file', crlf, '--lines').stdout.decode('utf-8').splitlines()
    check([json.loads(l)['ids'] for l in out] == [o['ids'] for o in objs[:20]], '--lines: CRLF lines as LF lines')

    # standard input is the same as the file
    with open(corpus, 'rb') as f:
        raw = f.read()
    out = run('tokenize', sample, '--text-file', '-', '--lines', stdin=raw).stdout.decode('utf-8').splitlines()
    check([json.loads(l)['ids'] for l in out] == [o['ids'] for o in objs], '--text-file -: standard input')

    # a 1 MB text through one call (the argument limit is 128 KB a string)
    big = os.path.join(tmp, 'big.txt')
    parts, size = [], 0
    while size < 1 << 20:
        parts.append(rng.choice(lines) + rng.choice(['\n', ' ', '. ', '\n\n']))
        size += len(parts[-1].encode('utf-8'))
    text = ''.join(parts)
    with open(big, 'w', encoding='utf-8') as f:
        f.write(text)
    t = parses(run('tokenize', sample, '--no-special', '--text-file', big, '--json').stdout, '1 MB text')
    back = run('tokenize', sample, '--decode', '-', '--json', stdin=' '.join(map(str, t['ids'])).encode()).stdout
    check(t is not None and json.loads(back)['decoded'] == text,
          f'1 MB file ({len(text.encode())} bytes, {len(t["ids"]) if t else 0} tokens): its ids decode to the file')
    # the first 100 KB as an argument and as a file give the same ids
    head = text[:100000]
    hf = os.path.join(tmp, 'head.txt')
    with open(hf, 'w', encoding='utf-8') as f:
        f.write(head)
    a = json.loads(run('tokenize', sample, '--no-special', '--json', '--', head).stdout)['ids']
    b = json.loads(run('tokenize', sample, '--no-special', '--text-file', hf, '--json').stdout)['ids']
    check(a == b, f'100 KB: argument and file give the same {len(a)} ids')

    # --decode: the ids back to the text
    ids = json.loads(run('tokenize', sample, '--no-special', '--json', '--', lines[5]).stdout)['ids']
    d = run('tokenize', sample, '--decode', ','.join(map(str, ids))).stdout.decode('utf-8')
    check(d == lines[5] + '\n', f'--decode gives the text back: {lines[5]!r}')
    dj = parses(run('tokenize', sample, '--decode', ','.join(map(str, ids)), '--json').stdout, 'decode')
    check(dj is not None and dj['decoded'] == lines[5] and dj['ids'] == ids, '--decode --json: ids to their text')
    p = run('tokenize', sample, '--decode', '5,99999999', expect=1)
    check(b'99999999' in p.stderr and b'12287' in p.stderr, '--decode: an id past the vocabulary named')

    # every control character through every command that prints text as JSON
    ctrl = [chr(c) for c in range(1, 32)]
    good = 0
    for c in ctrl:
        s = f'A{c}beaver is{c} a kind of'
        t1 = parses(run('tokenize', sample, s, '--json').stdout, f'tokenize U+{ord(c):04X}')
        r1 = parses(run('run', sample, '--device', 'cpu', '--prompt', s, '--top-k', '3', '--json').stdout, f'run U+{ord(c):04X}')
        good += t1 is not None and ''.join(t1['text']) == s and r1 is not None
    check(good == len(ctrl), f'tokenize --json and run --json with U+0001 … U+001F: {good} of {len(ctrl)} parse')
    allc = 'A beaver' + ''.join(ctrl) + ' is a kind of'
    cf = os.path.join(tmp, 'ctrl.txt')
    with open(cf, 'w', encoding='utf-8') as f:
        f.write(allc)
    tj = parses(run('tokenize', sample, '--text-file', cf, '--json').stdout, 'tokenize all controls')
    check(tj is not None and ''.join(tj['text']) == allc, 'tokenize --json: all 31 controls in the token texts')
    for l in run('tokenize', sample, '--text-file', cf, '--lines').stdout.decode('utf-8').splitlines():
        parses(l.encode(), 'tokenize --lines with controls')
    # U+0000 is the one character a token text cannot carry: the byte-level
    # token for byte 0 decodes to U+FFFD, in valid JSON
    with open(os.path.join(sample, 'tokenizer.json'), encoding='utf-8') as f:
        byte0 = json.load(f)['model']['vocab']['\u0100']   # ByteLevel's character for byte 0
    dn = parses(run('tokenize', sample, '--decode', str(byte0), '--json').stdout, 'NUL')
    check(dn is not None and dn['decoded'] == '\ufffd' and dn['tokens'] == ['\u0100'],
          f'--decode of byte 0 (id {byte0}): U+FFFD in valid JSON')
    e = parses(run('sae', 'encode', sample, '--sae', sae_dir, '--text-file', cf, '--json').stdout, 'sae encode')
    check(e is not None and len(e['tokens']) == len(tj['ids']), 'sae encode --text-file --json with all controls')
    r = parses(run('run', sample, '--text-file', cf, '--json').stdout, 'run --text-file')
    r2 = parses(run('run', sample, '--prompt', allc, '--json').stdout, 'run --prompt')
    check(r is not None and r == r2, 'run: --text-file equals --prompt')
    st = parses(run('steer', sample, '--dataset', 'animal-vs-plant', '--targets', 'animal', '--layers', '1',
                    '--multipliers=0,4', '--text-file', cf, '--tokens', '4', '--output',
                    os.path.join(tmp, 'st.h5'), '--json').stdout, 'steer')
    check(st is not None and st['generations']['prompt'] == allc, 'steer --text-file --json: the prompt as given')

    # category names with control characters: geometry and mapper JSON
    cats = {'mam\x1fmal\x01': {'words': ['dog', 'cat', 'horse', 'cow', 'sheep', 'pig', 'goat', 'lion', 'tiger',
                                         'bear', 'wolf', 'fox', 'deer', 'rabbit', 'mouse', 'rat', 'bat', 'whale']},
            'bi\trd\x1b': {'words': ['robin', 'sparrow', 'eagle', 'hawk', 'owl', 'crow', 'duck', 'goose', 'swan',
                                     'parrot', 'pigeon', 'gull', 'heron', 'crane', 'stork', 'finch', 'wren', 'lark']}}
    catf = os.path.join(tmp, 'cats.json')
    with open(catf, 'w', encoding='utf-8') as f:
        json.dump(cats, f)
    ws = os.path.join(tmp, 'ws.h5')
    g = parses(run('geometry', sample, '--categories', catf, '--output', ws, '--json').stdout, 'geometry')
    check(g is not None and sorted(c['name'] for c in g['categories']) == sorted(cats),
          'geometry --json: category names with control characters')
    m = parses(run('mapper', '--workspace', ws, '--categories', ','.join(cats), '--lens', 'l2', '--intervals', '3',
                   '--output', os.path.join(tmp, 'g.json'), '--no-save', '--json').stdout, 'mapper')
    gj = None
    with open(os.path.join(tmp, 'g.json'), 'rb') as f:
        gj = parses(f.read(), 'mapper graph file')
    check(m is not None and gj is not None, 'mapper --json and its graph file parse')

    # files that are not text: a message naming the line, nothing printed
    nul = os.path.join(tmp, 'nul.txt')
    with open(nul, 'wb') as f:
        f.write(b'first line\nsec\x00ond\n')
    p = run('tokenize', sample, '--text-file', nul, '--json', expect=1)
    check(b'line 2' in p.stderr and b'NUL' in p.stderr and p.stdout == b'', 'a NUL character: refused, line named')
    bad = os.path.join(tmp, 'latin1.txt')
    with open(bad, 'wb') as f:
        f.write(b'ok\nok\ncaf\xe9\n')
    p = run('run', sample, '--text-file', bad, expect=1)
    check(b'line 3' in p.stderr and b'UTF-8' in p.stderr, 'not UTF-8: refused, line named')
    p = run('tokenize', sample, '--text-file', os.path.join(tmp, 'missing.txt'), expect=1)
    check(b'missing.txt' in p.stderr, 'a missing file named')
    run('tokenize', sample, 'text', '--text-file', corpus, expect=2)

harness.exit()
