#!/usr/bin/python3
"""Writes the training prompts of the shipped SAE: the definitions of WordNet
3.0's noun synsets (data.noun), one per line, in file order, as
"A {first lemma} is {definition}." (the register of the sample model's
own corpus).

Usage: make-corpus.py [WORDNET_DICT_DIR] > corpus.txt"""
import os
import sys

d = sys.argv[1] if len(sys.argv) > 1 else os.environ.get('WNHOME', '/usr/share/wordnet')
path = os.path.join(d, 'data.noun')
if not os.path.exists(path):
    path = os.path.join(d, 'dict', 'data.noun')
with open(path, encoding='latin-1') as f:
    for line in f:
        if line.startswith('  ') or '|' not in line:
            continue
        head, gloss = line.split('|', 1)
        lemma = head.split()[4].replace('_', ' ')
        definition = gloss.split(';')[0].strip()
        if definition:
            print(f'A {lemma} is {definition}.')
