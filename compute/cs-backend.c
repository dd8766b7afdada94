#define G_LOG_DOMAIN "cs-backend"

#include "cs-backend.h"
#include "cs-build-config.h"
#include "cs-gpu.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

void
cs_backend_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      /* OpenBLAS and our own OpenMP loops run one after the other, never
       * nested, so both may use every core. */
      int n = omp_get_max_threads ();
      openblas_set_num_threads (n);
      g_once_init_leave (&once, 1);
    }
}

/* The OpenBLAS kernels this processor can run best, when the library chose
 * weaker ones (NULL: its choice stands). OpenBLAS 0.3.21 takes AVX-512
 * processors it does not know (new Intel models, AMD Zen 4) for older
 * cores: Haswell's kernels on this project's AMD EPYC, Prescott's on an
 * Intel family 6 model 207. */
const char *
cs_backend_pick_blas_core (const char *core, gboolean avx512, gboolean avx2_fma)
{
  static const char *const avx512_cores[] = { "SkylakeX", "Cooperlake", "SapphireRapids", NULL };
  static const char *const avx2_cores[] = { "Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", NULL };

  if (avx512 && !(core && g_strv_contains (avx512_cores, core)))
    return "SkylakeX";
  if (avx2_fma && !avx512 && !(core && g_strv_contains (avx2_cores, core)))
    return "Haswell";
  return NULL;
}

static const char *
better_core (void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init ();
  return cs_backend_pick_blas_core (openblas_get_corename (),
                                    __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
                                    __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq"),
                                    __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"));
#else
  return NULL;
#endif
}

/* libgomp reads OMP_WAIT_POLICY and OpenBLAS reads OPENBLAS_CORETYPE once,
 * when they are loaded (before main), so the only way to choose them from
 * inside is to start again with them set. What the environment sets is
 * never changed. */
void
cs_backend_setup_process (char **argv)
{
  gboolean again = FALSE;
  const char *core;

#ifdef __GLIBC__
  /* The forward pass allocates its activations per batch, megabytes each.
   * glibc serves blocks that size by mmap and hands them back on free, so
   * every batch paid page faults on fresh memory (a corpus scan spent 40 %
   * of its time in them); kept in the heap they are reused. Up to 256 MB
   * of free heap is kept; the environment's own settings win. */
  if (!g_getenv ("GLIBC_TUNABLES") && !g_getenv ("MALLOC_MMAP_THRESHOLD_") && !g_getenv ("MALLOC_TRIM_THRESHOLD_"))
    {
      mallopt (M_MMAP_THRESHOLD, 64 << 20);
      mallopt (M_TRIM_THRESHOLD, 256 << 20);
    }
#endif
  if (g_getenv ("CS_NO_REEXEC"))
    return;
  if (!g_getenv ("OMP_WAIT_POLICY"))
    {
      g_setenv ("OMP_WAIT_POLICY", "passive", TRUE);
      again = TRUE;
    }
  if (!g_getenv ("OPENBLAS_CORETYPE") && (core = better_core ()))
    {
      g_setenv ("OPENBLAS_CORETYPE", core, TRUE);
      again = TRUE;
    }
  if (!again)
    return;
  g_setenv ("CS_NO_REEXEC", "1", TRUE);   /* never twice, whatever execv does */
  execv ("/proc/self/exe", argv);
  /* no /proc (or exec refused): go on with the libraries' defaults */
}

const char *
cs_backend_blas_core (void)
{
  return openblas_get_corename ();
}

int
cs_backend_get_threads (void)
{
  cs_backend_init ();
  return omp_get_max_threads ();
}

char *
cs_backend_describe (CsDevice device)
{
  int threads = cs_backend_get_threads ();
  const char *reason = NULL;

  if (device != CS_DEVICE_CPU && cs_gpu_get (&reason))
    return g_strdup_printf ("GPU (%s, CUDA)", cs_gpu_device_name ());
  if (device == CS_DEVICE_CPU)
    return g_strdup_printf ("CPU (OpenBLAS %s kernels, %d thread%s)", cs_backend_blas_core (), threads,
                            threads == 1 ? "" : "s");
  (void) reason;
  return g_strdup_printf ("CPU (OpenBLAS %s kernels, %d thread%s; no usable GPU)", cs_backend_blas_core (), threads,
                          threads == 1 ? "" : "s");
}

const char *
cs_backend_gpu_name (const char **why_not)
{
  const char *reason = NULL;
  if (cs_gpu_get (&reason))
    {
      if (why_not)
        *why_not = NULL;
      return cs_gpu_device_name ();
    }
  if (why_not)
    *why_not = reason;
  return NULL;
}

gpointer
cs_alloc_large (gsize bytes)
{
  const gsize huge = 2u << 20;
  void *p = NULL;

  if (bytes < (64u << 20))
    return g_try_malloc (MAX (bytes, 1));
  if (posix_memalign (&p, huge, bytes) != 0)
    return NULL;
#ifdef MADV_HUGEPAGE
  madvise (p, bytes, MADV_HUGEPAGE);
#endif
  {
    char *c = p;
    gsize pages = (bytes + 4095) / 4096;
#pragma omp parallel for schedule(static)
    for (gsize i = 0; i < pages; i++)
      c[i * 4096] = 0;
  }
  return p;
}

CsDevice
cs_device_from_string (const char *s, gboolean *ok)
{
  *ok = TRUE;
  if (!s || g_str_equal (s, "auto"))
    return CS_DEVICE_AUTO;
  if (g_str_equal (s, "cpu"))
    return CS_DEVICE_CPU;
  if (g_str_equal (s, "cuda") || g_str_equal (s, "gpu"))
    return CS_DEVICE_CUDA;
  *ok = FALSE;
  return CS_DEVICE_AUTO;
}
