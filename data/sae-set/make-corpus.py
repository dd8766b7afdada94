#!/usr/bin/python3
"""Writes the training prompts of the shipped SAE: the definitions of WordNet
3.0's noun synsets (data.noun), one per line, in file order, as
"A {first lemma} is {definition}." (the register of the sample model's
own corpus).

With --every N only every N-th of them (the first, the N+1-th, …): the
feature cards' default corpus shipped beside the SAEs is
`make-corpus.py --every 4 | gzip -9n > corpus.txt.gz`.

Usage: make-corpus.py [--every N] [WORDNET_DICT_DIR] > corpus.txt"""
import os
import sys

args = sys.argv[1:]
every = 1
if args[:1] == ['--every']:
    every = int(args[1])
    args = args[2:]
d = args[0] if args else os.environ.get('WNHOME', '/usr/share/wordnet')
path = os.path.join(d, 'data.noun')
if not os.path.exists(path):
    path = os.path.join(d, 'dict', 'data.noun')
n = 0
with open(path, encoding='latin-1') as f:
    for line in f:
        if line.startswith('  ') or '|' not in line:
            continue
        head, gloss = line.split('|', 1)
        lemma = head.split()[4].replace('_', ' ')
        definition = gloss.split(';')[0].strip()
        if definition:
            if n % every == 0:
                print(f'A {lemma} is {definition}.')
            n += 1
