#!/usr/bin/python3
"""Makes the function-vector tasks from WordNet 3.0's own files
(/usr/share/wordnet, Debian's wordnet-base, or $WNHOME): deterministic, so
running it again gives the same files.

  antonym.json   adjective → its antonym (WordNet's direct '!' pointers
                 between single-word lemmas), each unordered pair once
  hypernym.json  noun → its hypernym's first lemma (single words, the
                 noun's first sense; the relation the sample model was
                 trained on), under the sample model's animal, plant,
                 food and artifact trees so that it knows the words
  plural.json    noun → plural: WordNet's irregular plurals (noun.exc),
                 then regular ones (+s, +es after s/x/z/ch/sh, y → ies after a
                 consonant) for common single-word nouns
"""
import json
import os
import sys

wn = os.environ.get('WNHOME', '/usr/share/wordnet')
out_dir = os.path.dirname(os.path.abspath(__file__))


def read_data(pos):
    syn = {}
    with open(os.path.join(wn, 'data.' + pos), encoding='latin-1') as f:
        for line in f:
            if line.startswith('  '):
                continue
            p = line.split()
            off, w = int(p[0]), int(p[3], 16)
            words = [p[4 + 2 * i] for i in range(w)]
            i = 4 + 2 * w
            n = int(p[i])
            ptrs = [(p[i + 1 + 4 * k], int(p[i + 2 + 4 * k]), p[i + 3 + 4 * k], p[i + 4 + 4 * k]) for k in range(n)]
            syn[off] = (words, ptrs)
    return syn


def simple(w):
    w = w.split('(')[0]
    return w.isalpha() and w.islower() and 3 <= len(w) <= 12


def antonyms():
    adj = read_data('adj')
    pairs, seen = [], set()
    for off in sorted(adj):
        words, ptrs = adj[off]
        for sym, target, pos, st in ptrs:
            if sym != '!' or pos not in 'as':
                continue
            s, t = int(st[:2], 16), int(st[2:], 16)
            if s == 0 or t == 0 or target not in adj:
                continue
            a = words[s - 1].split('(')[0]
            b = adj[target][0][t - 1].split('(')[0]
            if simple(a) and simple(b) and frozenset((a, b)) not in seen:
                seen.add(frozenset((a, b)))
                pairs.append([a, b])
    return pairs


def hypernyms():
    noun = read_data('noun')
    senses = {}
    with open(os.path.join(wn, 'index.noun'), encoding='latin-1') as f:
        for line in f:
            if line.startswith('  '):
                continue
            p = line.split()
            senses[p[0]] = [int(x) for x in p[6 + int(p[3]):]]
    roots = {senses[w][k] for w, k in [('animal', 0), ('plant', 1), ('food', 0), ('artifact', 0)]}
    below = set()
    stack = list(roots)
    while stack:
        o = stack.pop()
        if o in below:
            continue
        below.add(o)
        stack += [t for sym, t, pos, _ in noun[o][1] if sym in ('~', '~i') and pos == 'n']
    pairs, seen = [], set()
    for off in sorted(below):
        words, ptrs = noun[off]
        x = words[0]
        if not simple(x) or senses.get(x, [None])[0] != off or x in seen:
            continue
        hyper = [t for sym, t, pos, _ in ptrs if sym == '@' and pos == 'n']
        if not hyper:
            continue
        y = noun[hyper[0]][0][0]
        if simple(y) and y != x:
            seen.add(x)
            pairs.append([x, y])
    return pairs


def plurals():
    pairs = []
    with open(os.path.join(wn, 'noun.exc'), encoding='latin-1') as f:
        for line in f:
            p = line.split()
            if len(p) == 2 and simple(p[0]) and simple(p[1]) and p[0] != p[1]:
                pairs.append([p[1], p[0]])
    irregular = {x for x, _ in pairs}
    regular = []
    for x, _ in hypernyms():
        if x in irregular or x.endswith('s'):
            continue
        if x.endswith(('x', 'z', 'ch', 'sh')):
            y = x + 'es'
        elif x.endswith('y') and x[-2] not in 'aeiou':
            y = x[:-1] + 'ies'
        else:
            y = x + 's'
        regular.append([x, y])
    return pairs + regular


# the hypernym task is written as the sample model's corpus writes the relation
tasks = {
    'antonym': (antonyms(), 'adjectives and their antonyms, from WordNet\'s direct antonym pointers', '{x}: {y}'),
    'hypernym': (hypernyms(), 'nouns and their hypernym (the first lemma of the first hypernym of the first sense)',
                 'A {x} is a kind of {y}'),
    'plural': (plurals(), 'nouns and their plurals: WordNet\'s irregular ones, then regular ones', '{x}: {y}'),
}
for name, (pairs, what, template) in tasks.items():
    doc = {'name': name, 'description': what, 'template': template, 'separator': '. ', 'pairs': pairs}
    with open(os.path.join(out_dir, name + '.json'), 'w', encoding='utf-8') as f:
        head = json.dumps({k: v for k, v in doc.items() if k != 'pairs'}, ensure_ascii=False, indent=1)[:-2]
        f.write(head + ',\n "pairs": [\n')
        f.write(',\n'.join('  ' + json.dumps(p, ensure_ascii=False) for p in pairs))
        f.write('\n ]\n}\n')
    print(f'{name}: {len(pairs)} pairs', file=sys.stderr)
