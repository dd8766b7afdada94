#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Long work reports how far it is, 0 … 1 (from a worker thread). */
typedef void (*CsProgressFunc) (double fraction, gpointer user_data);

typedef enum
{
  CS_DEVICE_AUTO,
  CS_DEVICE_CPU,
  CS_DEVICE_CUDA,
} CsDevice;

/* "auto", "cpu", "cuda" (or "gpu"); *ok FALSE for anything else. */
CsDevice  cs_device_from_string  (const char *s,
                                  gboolean   *ok);

/* A one-line description of the compute backend that work asked for on
 * `device` runs on, for status lines: the GPU's name, or the CPU (the reason
 * there is no GPU comes from cs_gpu_get). May load the CUDA module: call it
 * off the main thread first. */
char     *cs_backend_describe    (CsDevice device);
/* The usable GPU's name, NULL when there is none (why_not, if given, then
 * says why: no module built, no driver, no device). Loads the CUDA module the
 * first time (a fraction of a second: call it off the main thread first).
 * What the application and the command line need to know of the GPU; the
 * CUDA function table stays inside compute/. */
const char *cs_backend_gpu_name  (const char **why_not);
int       cs_backend_get_threads (void);
void      cs_backend_init        (void);
/* Called first in main. Idle OpenMP threads sleep instead of spinning (on a
 * desktop with two cores, spinning threads took the core the interface or
 * another program needed: a 4096-wide eigendecomposition beside one busy
 * process ran 9× slower), and OpenBLAS runs the best kernels the processor
 * has where it guessed weaker ones (AVX-512: SkylakeX's, 1.4× faster dgemm
 * than the Haswell kernels it picks on an AMD EPYC). Both are read by the
 * libraries before main, so the program starts itself again once with
 * OMP_WAIT_POLICY=passive and OPENBLAS_CORETYPE set, never overriding what
 * the environment sets. */
void        cs_backend_setup_process (char **argv);
/* The kernels to ask OpenBLAS for, given the ones it chose and what the
 * processor has (AVX-512 F/BW/VL/DQ; AVX2 with FMA), or NULL when its choice
 * is as good. */
const char *cs_backend_pick_blas_core (const char *core,
                                       gboolean    avx512,
                                       gboolean    avx2_fma);
/* The OpenBLAS kernels in use ("SkylakeX", "Haswell", …), for status lines. */
const char *cs_backend_blas_core     (void);
/* A buffer for a large result (logits, activations, a whitened matrix):
 * huge-page backed where the kernel allows and faulted in by all threads
 * at once, because a VM takes seconds to fault in gigabytes one 4 KiB page
 * at a time. Free with g_free. Returns NULL when memory is short. */
gpointer  cs_alloc_large         (gsize bytes);

G_END_DECLS
