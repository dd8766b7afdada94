/* Times the causal-inner-product whitening of a ROWS × COLS float32 matrix
 * (deterministic pseudo-random data with correlated columns) on the chosen
 * device: host matrix in, host result out. Prints one JSON object. */
#include <stdio.h>
#include <stdlib.h>

#include "cs-gpu.h"
#include "cs-whiten.h"

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  gint64 rows;
  int cols, reps;
  CsDevice device;
  gboolean ok;
  double best = 1e30;
  int floored = 0;

  if (argc != 5)
    {
      fprintf (stderr, "usage: bench-whiten ROWS COLS REPEATS cpu|cuda\n");
      return 2;
    }
  rows = g_ascii_strtoll (argv[1], NULL, 10);
  cols = atoi (argv[2]);
  reps = MAX (1, atoi (argv[3]));
  device = cs_device_from_string (argv[4], &ok);
  if (!ok || rows < 2 || cols < 1)
    return 2;

  float *x = g_malloc ((gsize) rows * cols * sizeof (float));
#pragma omp parallel for schedule(static)
  for (gint64 i = 0; i < rows; i++)
    {
      guint64 s = 0x9E3779B97F4A7C15ull * (guint64) (i + 1);
      float base = 0;
      for (int j = 0; j < cols; j++)
        {
          s ^= s << 13;
          s ^= s >> 7;
          s ^= s << 17;
          float u = (float) ((s >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
          base = 0.7f * base + u;          /* neighbouring columns correlate */
          x[(gsize) i * cols + j] = base * (1.0f + (float) (j % 7));
        }
    }
  CsTensor t = { 0 };
  t.name = (char *) "bench";
  t.dtype = CS_DTYPE_F32;
  t.ndim = 2;
  t.shape[0] = rows;
  t.shape[1] = cols;
  t.data = x;
  t.nbytes = (gsize) rows * cols * 4;

  for (int r = -1; r < reps; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      CsWhitening *w = cs_whiten (&t, device, NULL, &error);
      gint64 t1 = g_get_monotonic_time ();
      if (!w)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      floored = w->n_floored;
      cs_whitening_free (w);
      if (r >= 0)
        best = MIN (best, (t1 - t0) / 1e6);
    }
  printf ("{\"seconds\": %.6f, \"rows\": %" G_GINT64_FORMAT ", \"cols\": %d, \"floored\": %d, \"device\": \"%s\"}\n",
          best, rows, cols, floored, argv[4]);
  g_free (x);
  return 0;
}
