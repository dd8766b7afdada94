#!/bin/sh
# Builds a self-contained bundle of the GPU test and benchmarks for a machine
# that has an NVIDIA GPU and CUDA but none of the project's other build
# dependencies (GLib, json-glib, GSL, OpenBLAS): the compute library linked
# with a static OpenBLAS, its shared dependencies copied beside it, and the
# CUDA module; and the built command-line tool with its shared libraries,
# for the steering and SAE-training benchmarks. Usage:
# tests/gpu/make-bundle.sh BUILD_DIR OUT_DIR
set -eu
build=$(cd "$1" && pwd)
out=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"

omp=/usr/lib/x86_64-linux-gnu/openblas-openmp
pkgs="glib-2.0 gio-2.0 gobject-2.0 gmodule-2.0 json-glib-1.0 gsl hdf5 zlib"
cflags="-O3 -std=c17 -fPIC -fopenmp -fno-math-errno -D_GNU_SOURCE -DG_LOG_USE_STRUCTURED \
  -I$src/compute -I$build $(pkg-config --cflags $pkgs openblas)"
libs="$(pkg-config --libs $pkgs | sed 's/-lgslcblas//') -Wl,-Bstatic -llapacke -L$omp -lopenblas -Wl,-Bdynamic \
  -lgfortran -lgomp -lm"

objs=""
for f in "$src"/compute/*.c; do
  o="$out/$(basename "$f" .c).o"
  gcc $cflags -c "$f" -o "$o"
  objs="$objs $o"
done
gcc -shared -s -o "$out/lib/libcs-compute.so" $objs $libs
rm -f "$out"/*.o

for t in tests/test-gpu tests/bench/bench-forward tests/bench/bench-whiten; do
  gcc $cflags "$src/$t.c" -o "$out/bin/$(basename $t)" -L"$out/lib" -lcs-compute \
    $(pkg-config --libs $pkgs | sed 's/-lgslcblas//') -lm -Wl,-rpath,'$ORIGIN/../lib'
done

cp "$build/compute/cuda/libcs-cuda.so" "$out/lib/"
cp "$build/app/cli/conceptscope-cli" "$out/bin/"
strip "$out"/bin/*

# Shared libraries the machine may lack; its own C/C++ runtime and CUDA stay.
for f in "$out"/bin/* "$out/lib/libcs-compute.so"; do
  LD_LIBRARY_PATH="$out/lib" ldd "$f" | awk '/=> \// {print $3}'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libresolv.so*|ld-linux*|libstdc++*|libgcc_s*|libcs-compute.so) ;;
    libcuda*|libcublas*|libcusolver*|libcusparse*|libnvJitLink*|libcudart*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
du -sh "$out"
