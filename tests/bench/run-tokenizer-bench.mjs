// Tokenizers against Hugging Face's: load and encode times of ConceptScope's
// (bench-tokenizer) and of @huggingface/tokenizers (the JavaScript
// implementation, the goal's peer) on the five real tokenizer.json files and
// the corpus in tests/data/tokenizers-real, same corpus, same file, process
// start excluded; the Rust `tokenizers` crate (npm `tokenizers`, what
// transformers runs) is timed beside them for reference, line by line as a
// user's loop calls it, and with encodeBatch (all threads).
// Each side: a fresh tokenizer per repeat (cold caches), best of REPEATS.
// Also: a 100 KB and a 1 MB single line through the SentencePiece-style
// Llama 2 tokenizer (one word: linear time means a 10x ratio).
//
// Usage: node run-tokenizer-bench.mjs NODE_MODULES BENCH_TOKENIZER [OUT.json]
import fs from 'fs';
import os from 'os';
import path from 'path';
import zlib from 'zlib';
import { execFileSync } from 'child_process';
import { createRequire } from 'module';
import { fileURLToPath } from 'url';

const [nm, bench, outPath] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.join(here, '..', 'data', 'tokenizers-real');
const require = createRequire(path.join(path.resolve(nm), 'x.js'));
const { Tokenizer: RustTokenizer } = require('tokenizers');
const { Tokenizer: JsTokenizer } = await import(path.join(path.resolve(nm), '@huggingface/tokenizers/dist/tokenizers.mjs'));
const REPEATS = 3;

const corpusPath = path.join(dataDir, 'corpus.txt');
const lines = fs.readFileSync(corpusPath, 'utf8').split('\n');
lines.pop();
const names = ['gpt2', 'llama3', 'llama2', 'mistral', 'mistral-metaspace'];
const expected = (name) => zlib.gunzipSync(fs.readFileSync(path.join(dataDir, `${name}-ids.txt.gz`)))
  .toString('utf8').trimEnd().split('\n');
const now = () => Number(process.hrtime.bigint()) / 1e9;

const rows = [];
for (const name of names) {
  const gz = path.join(dataDir, `${name}-tokenizer.json.gz`);
  const file = path.join(os.tmpdir(), `cs-bench-${name}-tokenizer.json`);
  fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync(gz)));
  const want = expected(name);

  const ours = JSON.parse(execFileSync(bench, [file, corpusPath, String(REPEATS)]).toString());

  let jsLoad = Infinity, jsEncode = Infinity, jsExact = 0;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = now();
    const tok = new JsTokenizer(JSON.parse(fs.readFileSync(file, 'utf8')), {});
    const t1 = now();
    const got = lines.map((l) => tok.encode(l).ids);
    const t2 = now();
    jsLoad = Math.min(jsLoad, t1 - t0);
    jsEncode = Math.min(jsEncode, t2 - t1);
    jsExact = got.filter((ids, i) => ids.join(' ') === want[i]).length;
  }

  let rsLoad = Infinity, rsEncode = Infinity, rsBatch = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = now();
    const tok = RustTokenizer.fromString(fs.readFileSync(file, 'utf8'));
    const t1 = now();
    for (const l of lines) await tok.encode(l, null, { addSpecialTokens: true });
    const t2 = now();
    const tok2 = RustTokenizer.fromString(fs.readFileSync(file, 'utf8'));
    const t3 = now();
    await tok2.encodeBatch(lines, { addSpecialTokens: true });
    const t4 = now();
    rsLoad = Math.min(rsLoad, t1 - t0);
    rsEncode = Math.min(rsEncode, t2 - t1);
    rsBatch = Math.min(rsBatch, t4 - t3);
  }
  const row = { tokenizer: name, lines: lines.length, ids: ours.ids,
                conceptscope_load_s: ours.load_s, conceptscope_encode_s: ours.encode_s,
                hf_js_load_s: jsLoad, hf_js_encode_s: jsEncode, hf_js_exact_lines: jsExact,
                rust_load_s: rsLoad, rust_encode_s: rsEncode, rust_encode_batch_s: rsBatch,
                encode_speedup_vs_js: jsEncode / ours.encode_s, load_speedup_vs_js: jsLoad / ours.load_s };
  rows.push(row);
  console.log(JSON.stringify(row));
  fs.unlinkSync(file);
}

// linear time in a single long word
const llama2 = path.join(os.tmpdir(), 'cs-bench-llama2-tokenizer.json');
fs.writeFileSync(llama2, zlib.gunzipSync(fs.readFileSync(path.join(dataDir, 'llama2-tokenizer.json.gz'))));
const long = {};
for (const bytes of [100000, 1000000]) {
  long[bytes] = JSON.parse(execFileSync(bench, [llama2, '--long', String(bytes), corpusPath]).toString());
  console.log(JSON.stringify(long[bytes]));
}
fs.unlinkSync(llama2);
const result = { machine: `${os.cpus()[0].model}, ${os.cpus().length} cores`, node: process.version,
                 rows, long_line: { llama2_100k: long[100000], llama2_1m: long[1000000],
                                    ratio_1m_over_100k: long[1000000].encode_s / long[100000].encode_s } };
if (outPath)
  fs.writeFileSync(outPath, JSON.stringify(result, null, 1) + '\n');
