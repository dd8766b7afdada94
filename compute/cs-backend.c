#define G_LOG_DOMAIN "cs-backend"

#include "cs-backend.h"
#include "cs-build-config.h"

#include <cblas.h>
#include <omp.h>

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

int
cs_backend_get_threads (void)
{
  cs_backend_init ();
  return omp_get_max_threads ();
}

char *
cs_backend_describe (void)
{
  int threads = cs_backend_get_threads ();
  return g_strdup_printf ("CPU (OpenBLAS, %d thread%s)", threads, threads == 1 ? "" : "s");
}
