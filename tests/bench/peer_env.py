"""The PyTorch peer's best BLAS on Debian.

Debian's python3-torch runs its own operators on OpenMP threads and its
matrix products through libopenblas.so.0, which by default is OpenBLAS's
pthread build: two thread pools then fight over the same cores, and on the
2-core CI machine PyTorch ran the steering sweep 2.5 times slower than with
OpenBLAS's OpenMP build (3.5 s against 1.4 s). ConceptScope links the OpenMP
build; the peer gets it too. The dynamic loader reads LD_LIBRARY_PATH at
start-up only, so the script starts itself again with the OpenMP build's
folder first on the path. Call before importing torch."""
import os
import sys

OPENMP_DIRS = ['/usr/lib/x86_64-linux-gnu/openblas-openmp', '/usr/lib/aarch64-linux-gnu/openblas-openmp']


def use_openmp_openblas():
    if os.environ.get('CS_PEER_BLAS_SET'):
        return
    found = [d for d in OPENMP_DIRS if os.path.exists(os.path.join(d, 'libopenblas.so.0'))]
    if not found:
        return   # not Debian's layout: PyTorch keeps whatever it was built with (pip wheels bring their own)
    env = dict(os.environ, CS_PEER_BLAS_SET='1',
               LD_LIBRARY_PATH=':'.join(found + [p for p in os.environ.get('LD_LIBRARY_PATH', '').split(':') if p]))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def blas_in_use():
    """The OpenBLAS file this process loaded, for the results."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'openblas' in line and '/' in line}
        return sorted(libs)
    except OSError:
        return []
