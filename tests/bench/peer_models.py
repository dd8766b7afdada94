"""What the PyTorch peers of the benchmarks share: safetensors read into
float32 torch tensors (F32, F16), and a GPT-2 folder with random weights
in transformers' names."""
import json
import os
import shutil
import struct

import numpy as np


def read_safetensors(path):
    """name → float32 torch tensor (F16 widened), as the peers compute."""
    import torch
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for k, v in header.items():
            if k == '__metadata__':
                continue
            f.seek(base + v['data_offsets'][0])
            raw = f.read(v['data_offsets'][1] - v['data_offsets'][0])
            dt = {'F32': np.float32, 'F16': np.float16}[v['dtype']]
            out[k] = torch.from_numpy(np.frombuffer(raw, dtype=dt).reshape(v['shape']).astype(np.float32))
    return out


def write_gpt2(folder, layers, width, heads, vocab, positions, tokenizer=None, seed=0):
    """A GPT2LMHeadModel folder (config.json, model.safetensors in F32) with
    random weights (std 0.02, norms near 1), and tokenizer.json copied from
    tokenizer when given. Returns the weights (name → NumPy array)."""
    rng = np.random.default_rng(seed)
    tensors = {}

    def w(name, *shape, scale=0.02):
        tensors[name] = (rng.standard_normal(shape, dtype=np.float32) * scale).astype(np.float32)

    def ones(name, n):
        tensors[name] = np.ones(n, dtype=np.float32) + rng.standard_normal(n, dtype=np.float32) * 0.05

    D = width
    w('transformer.wte.weight', vocab, D)
    w('transformer.wpe.weight', positions, D, scale=0.01)
    for i in range(layers):
        p = f'transformer.h.{i}.'
        ones(p + 'ln_1.weight', D); w(p + 'ln_1.bias', D)
        w(p + 'attn.c_attn.weight', D, 3 * D); w(p + 'attn.c_attn.bias', 3 * D)
        w(p + 'attn.c_proj.weight', D, D); w(p + 'attn.c_proj.bias', D)
        ones(p + 'ln_2.weight', D); w(p + 'ln_2.bias', D)
        w(p + 'mlp.c_fc.weight', D, 4 * D); w(p + 'mlp.c_fc.bias', 4 * D)
        w(p + 'mlp.c_proj.weight', 4 * D, D); w(p + 'mlp.c_proj.bias', D)
    ones('transformer.ln_f.weight', D); w('transformer.ln_f.bias', D)
    header, offset = {}, 0
    for k, a in tensors.items():
        header[k] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [offset, offset + a.nbytes]}
        offset += a.nbytes
    hb = json.dumps(header).encode()
    hb += b' ' * ((8 - len(hb) % 8) % 8)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'model.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for a in tensors.values():
            f.write(a.tobytes())
    config = {'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2', 'n_layer': layers, 'n_embd': D,
              'n_head': heads, 'vocab_size': vocab, 'n_positions': positions, 'layer_norm_epsilon': 1e-5,
              'activation_function': 'gelu_new', 'tie_word_embeddings': True}
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f)
    if tokenizer:
        shutil.copy(tokenizer, folder)
    return tensors
