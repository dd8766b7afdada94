#!/usr/bin/python3
"""Writes the fuzz targets' seed corpus (tests/fuzz/corpus/TARGET/) and the
inputs that once crashed the program (tests/fuzz/crashes/TARGET/): small
files of every kind the readers take, made here so the corpus is
reproducible. Inputs found by `make fuzz` are copied into crashes/ by hand
(crashes/hdf5/oom-declared-12gb: a dataset declaring 12 GB of values the
file does not store). Needs NumPy and h5py (Debian's)."""
import json
import os
import struct

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', 'data')


def put(kind, target, name, content):
    d = os.path.join(HERE, kind, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(content if isinstance(content, bytes) else content.encode())


def safetensors(tensors, metadata=None):
    header, blob = {}, b''
    for name, arr, dt in tensors:
        raw = arr.tobytes()
        header[name] = {'dtype': dt, 'shape': list(arr.shape), 'data_offsets': [len(blob), len(blob) + len(raw)]}
        blob += raw
    if metadata:
        header['__metadata__'] = metadata
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + blob


def tiny_tokenizer(pre):
    chars = [chr(c) for c in range(33, 127)] + ['\u0120', '\u010a', '\u00e9']
    vocab = {c: i for i, c in enumerate(chars)}
    merges = ['\u0120 a', 'a n', 'b e', '\u0120 b', 'i s', 'e r']
    for m in merges:
        vocab[m.replace(' ', '')] = len(vocab)
    return json.dumps({'version': '1.0', 'added_tokens': [{'id': len(vocab), 'content': '<|endoftext|>',
                                                            'special': True}],
                       'normalizer': None, 'pre_tokenizer': pre, 'post_processor': None,
                       'decoder': {'type': 'ByteLevel'},
                       'model': {'type': 'BPE', 'vocab': vocab, 'merges': merges}})


def main():
    rng = np.random.default_rng(0)
    # json
    put('corpus', 'json', 'object', '{"name": "a", "n": 3, "x": 1.5, "list": [1, 2, {"b": null}], "child": {}}')
    put('corpus', 'json', 'escapes', '["\\u001f", "\\ud83e\\udd2b", "\\"", true, false, -0.0, 1e308]')
    put('corpus', 'json', 'categories', json.dumps({'mammal': {'parent': 'animal', 'words': ['dog', 'cat']},
                                                    'animal': {'tokens': ['\u0120dog']}}))
    put('corpus', 'json', 'pairs', json.dumps([{'positive': 'A dog', 'negative': 'A fern'},
                                               {'question': 'Which?', 'matching': 'A', 'not_matching': 'B'}]))
    put('crashes', 'json', 'nested-100000', '[' * 100000 + ']' * 100000)
    put('crashes', 'json', 'nested-objects', '{"a":' * 50000 + '1' + '}' * 50000)
    # config
    put('corpus', 'config', 'sample', open(os.path.join(DATA, 'sample-model', 'config.json')).read())
    put('corpus', 'config', 'llama', json.dumps({
        'architectures': ['LlamaForCausalLM'], 'hidden_size': 64, 'intermediate_size': 128, 'num_hidden_layers': 2,
        'num_attention_heads': 4, 'num_key_value_heads': 2, 'vocab_size': 100, 'max_position_embeddings': 64,
        'rms_norm_eps': 1e-6, 'rope_theta': 10000.0, 'rope_scaling': {'rope_type': 'llama3', 'factor': 8.0,
                                                                       'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
                                                                       'original_max_position_embeddings': 32}}))
    put('corpus', 'config', 'gemma2', json.dumps({
        'architectures': ['Gemma2ForCausalLM'], 'hidden_size': 64, 'intermediate_size': 128, 'num_hidden_layers': 2,
        'num_attention_heads': 4, 'num_key_value_heads': 1, 'head_dim': 16, 'vocab_size': 100,
        'max_position_embeddings': 64, 'sliding_window': 16, 'final_logit_softcapping': 30.0,
        'attn_logit_softcapping': 50.0, 'query_pre_attn_scalar': 16}))
    put('crashes', 'config', 'nested', '{"architectures": ["GPT2LMHeadModel"], "x": ' + '[' * 100000 + ']' * 100000 + '}')
    # tokenizer
    put('corpus', 'tokenizer', 'byte-level', tiny_tokenizer({'type': 'ByteLevel', 'add_prefix_space': False,
                                                             'use_regex': True}))
    put('corpus', 'tokenizer', 'sequence', tiny_tokenizer({'type': 'Sequence', 'pretokenizers': [
        {'type': 'Split', 'pattern': {'Regex': "\\s+|\\w+"}, 'behavior': 'Isolated', 'invert': False},
        {'type': 'ByteLevel', 'add_prefix_space': False, 'use_regex': False}]}))
    put('corpus', 'tokenizer', 'metaspace', tiny_tokenizer({'type': 'Metaspace', 'replacement': '\u2581',
                                                            'prepend_scheme': 'first', 'split': True}))
    put('crashes', 'tokenizer', 'nested-sequence',
        tiny_tokenizer(None).replace('"pre_tokenizer": null',
                                     '"pre_tokenizer": ' + '[' * 100000 + ']' * 100000))
    # safetensors
    put('corpus', 'safetensors', 'small', safetensors([
        ('a', rng.standard_normal((3, 4)).astype(np.float32), 'F32'),
        ('b', rng.standard_normal((5,)).astype(np.float16), 'F16'),
        ('c', (rng.integers(0, 65535, 6, dtype=np.uint16)), 'BF16')], {'format': 'pt'}))
    put('corpus', 'safetensors', 'empty', safetensors([]))
    put('crashes', 'safetensors', 'nested-header', struct.pack('<Q', 200008) + (b'{"__metadata__": ' + b'[' * 99990 +
                                                                                 b']' * 99990 + b'}').ljust(200008))
    # hdf5
    path = os.path.join(HERE, 'corpus', 'hdf5', 'points')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, 'w') as f:
        f['acts'] = rng.standard_normal((6, 3))
        f['resid_post.1'] = rng.standard_normal((2, 3, 4)).astype(np.float32)
        f['input_ids'] = np.array([[1, 2, -1], [3, 4, 5]], dtype=np.int32)
    path = os.path.join(HERE, 'corpus', 'hdf5', 'workspace')
    with h5py.File(path, 'w') as f:
        d = 4
        f.attrs['format'] = 'conceptscope-workspace'
        f['whitening/mean'] = np.zeros(d)
        f['whitening/inv_sqrt_cov'] = np.eye(d)
        dt = h5py.string_dtype()
        f.create_dataset('categories/names', data=['animal', 'mammal'], dtype=dt)
        f.create_dataset('categories/sources', data=['user', 'user'], dtype=dt)
        f['categories/parent'] = np.array([-1, 0], dtype=np.int32)
        f['categories/reliable'] = np.array([1, 1], dtype=np.int32)
        f['categories/token_offsets'] = np.array([0, 2, 4], dtype=np.int32)
        f['categories/tokens'] = np.array([1, 2, 2, 3], dtype=np.int32)
        f['vectors/estimated'] = np.array([1, 1], dtype=np.int32)
        f['vectors/n_train_test'] = np.array([[2, 0], [2, 0]], dtype=np.int32)
        f['vectors/lbar'] = rng.standard_normal((2, d))
        f['vectors/stats'] = np.zeros((2, 12))
        f['vectors/norm_cos_parent_cos_grandparent'] = np.zeros((2, 3))
        f['cosines/matrix'] = np.eye(2)
        f['cosines/shuffled'] = np.eye(2)
    # csv
    put('corpus', 'csv', 'labelled', 'label,x,y\na,1,2\nb,3,4\na,5,6\nb,7,8\n')
    put('corpus', 'csv', 'plain', '0.5,1e3,-2\n1,2,3\n')
    put('corpus', 'csv', 'ragged', 'x,y\n1\n2,3,4\n')


if __name__ == '__main__':
    main()
