#!/usr/bin/python3
"""Makes the steering datasets for the sample model from WordNet 3.0, through
the model's own category matching (conceptscope-cli geometry), so that every
word is one token of the sample model.

Usage: make-datasets.py CLI OUT_DIR
  CLI      the conceptscope-cli binary
  OUT_DIR  where the JSON files go (data/steering)

Each word list is the lowercase tokens (with the vocabulary's space marker,
so ' dog' and not 'Dog') of a WordNet category, sorted alphabetically."""
import json
import os
import subprocess
import sys
import tempfile

import h5py

CLI, OUT = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, '..', 'sample-model')


def words(hierarchy, tmp):
    ws = os.path.join(tmp, hierarchy + '.h5')
    subprocess.run([CLI, 'geometry', MODEL, '--hierarchy', hierarchy, '--output', ws], check=True,
                   capture_output=True)
    vocab = json.load(open(os.path.join(MODEL, 'tokenizer.json')))['model']['vocab']
    inv = {i: t for t, i in vocab.items()}
    with h5py.File(ws, 'r') as f:
        names = [n.decode() if isinstance(n, bytes) else n for n in f['categories/names'][()]]
        off = f['categories/token_offsets'][()]
        tok = f['categories/tokens'][()]
    out = {}
    for c, name in enumerate(names):
        ws_ = sorted({inv[int(t)][1:] for t in tok[off[c]:off[c + 1]]
                      if inv[int(t)].startswith('\u0120') and inv[int(t)][1:].islower()})
        out[name] = ws_
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        animal = words('animal', tmp)
        plant = words('plant', tmp)
    a, p = animal['animal'], plant['plant']
    n = min(len(a), len(p))
    pairs = [{'positive': f'A {x} is a kind of', 'negative': f'A {y} is a kind of'} for x, y in zip(a[:n], p[:n])]
    json.dump(pairs, open(os.path.join(OUT, 'animal-vs-plant.json'), 'w'), indent=1)
    m, b = animal['mammal'], animal['bird']
    n2 = min(len(m), len(b))
    pairs = [{'positive': f'A {x} is a kind of', 'negative': f'A {y} is a kind of'} for x, y in zip(m[:n2], b[:n2])]
    json.dump(pairs, open(os.path.join(OUT, 'mammal-vs-bird.json'), 'w'), indent=1)
    items = []
    for i, (w, is_animal) in enumerate(sorted([(x, True) for x in a[:n]] + [(y, False) for y in p[:n]])):
        first, second = ('an animal', 'a plant') if i % 2 == 0 else ('a plant', 'an animal')
        animal_letter = 'A' if first == 'an animal' else 'B'
        items.append({
            'question': f'Is a {w} an animal or a plant? (A) {first} (B) {second}. Answer:',
            'answer_matching_behavior': f'({animal_letter})',
            'answer_not_matching_behavior': f'({"B" if animal_letter == "A" else "A"})',
        })
    json.dump(items, open(os.path.join(OUT, 'animal-or-plant-ab.json'), 'w'), indent=1)
    print(f'animal-vs-plant: {n} pairs; mammal-vs-bird: {n2} pairs; animal-or-plant-ab: {len(items)} items')


if __name__ == '__main__':
    main()
