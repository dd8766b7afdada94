"""What the command-line test scripts share: their verdicts (an `ok` or
`FAIL` line each, the exit status from the count of failures), running the
CLI, and reading a safetensors file with NumPy."""
import json
import struct
import subprocess
import sys

import numpy as np


class CliTest:
    def __init__(self, cli):
        self.cli = cli
        self.failures = 0

    def check(self, cond, what):
        print(('ok   ' if cond else 'FAIL ') + what)
        if not cond:
            self.failures += 1

    def run(self, *args, expect=0):
        """The CLI with args (text), its exit status checked."""
        p = subprocess.run([self.cli, *args], capture_output=True, text=True)
        if p.returncode != expect:
            print(p.stdout, p.stderr)
        self.check(p.returncode == expect, f'exit {expect}: {" ".join(args)[:90]}')
        return p

    def exit(self):
        print(f'{self.failures} failure(s)')
        sys.exit(1 if self.failures else 0)


def read_safetensors(path):
    """(name → array in its stored dtype, the __metadata__ dict)."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    dt = {'F32': np.float32, 'I64': np.int64, 'F16': np.float16}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        a, b = v['data_offsets']
        out[k] = np.frombuffer(blob[a:b], dtype=dt[v['dtype']]).reshape(v['shape'])
    return out, header.get('__metadata__', {})
