// Writes Llama 3's tokenizer.json (the file transformers ships with
// Meta-Llama-3-8B) from the vocabulary and merges that the npm package
// llama3-tokenizer-js carries, for benchmarks that need a real 128,256-token
// vocabulary. Usage: node make-llama3-tokenizer.js PACKAGE_DIR OUT.json
const fs = require('fs');
const path = require('path');

const [pkg, out] = process.argv.slice(2);
const { llama3Tokenizer: t } = require(path.join(pkg, 'bundle', 'commonjs-llama3-tokenizer-with-baked-data.cjs'));

const vocab = {};
t.vocabById.forEach((tok, id) => { vocab[tok] = id; });
// merges: the Map's keys "a b" in insertion order, which is their priority
const merges = Array.from(t.merges.keys());
const specials = t.vocabById.map((tok, id) => [tok, id]).filter(([tok, id]) => id >= 128000);
const bos = vocab['<|begin_of_text|>'];

const pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const json = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: specials.map(([tok, id]) => ({
    id, content: tok, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  })),
  normalizer: null,
  pre_tokenizer: {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
           { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [bos], tokens: ['<|begin_of_text|>'] } },
  },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges,
  },
};
fs.writeFileSync(out, JSON.stringify(json));
console.log(`${out}: ${t.vocabById.length} tokens, ${merges.length} merges`);
