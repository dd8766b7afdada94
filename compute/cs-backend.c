#define G_LOG_DOMAIN "cs-backend"

#include "cs-backend.h"
#include "cs-build-config.h"
#include "cs-gpu.h"

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

/* libgomp reads OMP_WAIT_POLICY once, when it is loaded (before main), so
 * the only way to choose it from inside is to start again with it set. */
void
cs_backend_wait_passively (char **argv)
{
  if (g_getenv ("OMP_WAIT_POLICY") || g_getenv ("CS_NO_REEXEC"))
    return;
  g_setenv ("OMP_WAIT_POLICY", "passive", TRUE);
  g_setenv ("CS_NO_REEXEC", "1", TRUE);   /* never twice, whatever execv does */
  execv ("/proc/self/exe", argv);
  /* no /proc (or exec refused): go on with the library's default */
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
    return g_strdup_printf ("CPU (OpenBLAS, %d thread%s)", threads, threads == 1 ? "" : "s");
  (void) reason;
  return g_strdup_printf ("CPU (OpenBLAS, %d thread%s; no usable GPU)", threads, threads == 1 ? "" : "s");
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
