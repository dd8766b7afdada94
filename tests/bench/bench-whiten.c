/* Times the causal-inner-product whitening of a ROWS × COLS float32 matrix
 * (deterministic pseudo-random data with correlated columns) on the chosen
 * device: host matrix in, host result out. Prints one JSON object.
 * bench-whiten FILE.safetensors TENSOR REPEATS cpu|cuda [transform] whitens a
 * tensor of a file instead; "transform" stops at Cov^(-1/2) (what the
 * geometry engine needs) instead of forming g, and the first rows of g are
 * written to FILE.g-rows.bin for the peer to compare. */
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "cs-geometry.h"
#include "cs-gpu.h"
#include "cs-safetensors.h"
#include "cs-whiten.h"
#include "bench-common.h"

static int
from_file (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSafetensors) st = cs_safetensors_open (argv[1], &error);
  const CsTensor *t;
  gboolean ok, transform = argc > 5 && g_str_equal (argv[5], "transform");
  CsDevice device = cs_device_from_string (argv[4], &ok);
  int reps = MAX (1, atoi (argv[3]));
  double best = 1e30;
  int floored = 0;
  double eig_top[5] = { 0 };

  if (!st || !(t = cs_safetensors_lookup (st, argv[2])))
    {
      fprintf (stderr, "%s\n", error ? error->message : "no such tensor");
      return 1;
    }
  for (int r = 0; r < reps; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      CsWhitening *w = transform ? cs_whiten_transform (t, device, NULL, &error) : cs_whiten (t, device, NULL, &error);
      gint64 t1 = g_get_monotonic_time ();
      if (!w)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      best = MIN (best, (t1 - t0) / 1e6);
      floored = w->n_floored;
      for (int k = 0; k < 5; k++)
        eig_top[k] = w->eigenvalues[w->cols - 1 - k];
      if (r == reps - 1)
        {
          /* the first 64 rows of g, from the whitening or from the engine's transform */
          g_autofree char *out = g_strconcat (argv[1], ".g-rows.bin", NULL);
          g_autofree float *rows = g_new (float, (gsize) 64 * w->cols);
          if (w->g)
            memcpy (rows, w->g, sizeof (float) * 64 * w->cols);
          else
            {
              g_autoptr(CsGeometrySpace) sp = cs_geometry_space_new_from (t, w->mean, w->inv_sqrt, w->n_floored);
              g_autofree double *d = g_new (double, (gsize) 64 * w->cols);
              gint32 ids[64];
              for (int i = 0; i < 64; i++)
                ids[i] = i;
              cs_geometry_g_rows (sp, ids, 64, d);
              for (gsize i = 0; i < (gsize) 64 * w->cols; i++)
                rows[i] = (float) d[i];
            }
          g_file_set_contents (out, (const char *) rows, sizeof (float) * 64 * w->cols, NULL);
        }
      cs_whitening_free (w);
    }
  printf ("{\"seconds\": %.3f, \"peak_rss_mb\": %.1f, \"floored\": %d, \"mode\": \"%s\", "
          "\"eig_top\": [%.9g, %.9g, %.9g, %.9g, %.9g]}\n",
          best, peak_rss_mb (), floored, transform ? "transform" : "full g",
          eig_top[0], eig_top[1], eig_top[2], eig_top[3], eig_top[4]);
  return 0;
}

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

  if (argc >= 5 && g_str_has_suffix (argv[1], ".safetensors"))
    return from_file (argc, argv);
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
