/* Times the category-vector estimator on rows written by a benchmark
 * script: bench-estimate ROWS.bin OUT.bin [reference]. ROWS.bin holds, for
 * each category, int32 n, int32 d, then n × d float64 rows of g; OUT.bin gets
 * each category's ℓ̄ (d float64). With "reference" the d × d
 * eigendecomposition is timed instead of the n × n path. Prints one JSON
 * object: seconds per category and in all, and the peak resident memory. */
#include <stdio.h>
#include <string.h>

#include "cs-geometry.h"
#include "bench-common.h"

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0, pos = 0;
  gboolean reference = argc > 3 && g_str_equal (argv[3], "reference");
  g_autoptr(GString) secs = g_string_new (NULL);
  double total = 0;
  FILE *out;

  if (argc < 3)
    {
      fprintf (stderr, "usage: bench-estimate ROWS.bin OUT.bin [reference]\n");
      return 2;
    }
  if (!g_file_get_contents (argv[1], &data, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  out = fopen (argv[2], "wb");
  if (!out)
    return 1;
  while (pos + 8 <= len)
    {
      gint32 n, d;
      memcpy (&n, data + pos, 4);
      memcpy (&d, data + pos + 4, 4);
      pos += 8;
      if (n < 0 || d <= 0 || pos + (gsize) n * d * sizeof (double) > len)
        {
          fprintf (stderr, "%s: damaged at byte %" G_GSIZE_FORMAT "\n", argv[1], pos);
          return 1;
        }
      g_autofree double *X = g_memdup2 (data + pos, (gsize) n * d * sizeof (double));
      g_autofree double *lbar = g_new0 (double, d);
      pos += (gsize) n * d * sizeof (double);
      gint64 t0 = g_get_monotonic_time ();
      gboolean ok = reference ? cs_geometry_estimate_vector_reference (X, n, d, -1, lbar, &error)
                              : cs_geometry_estimate_vector (X, n, d, lbar, &error);
      double s = (g_get_monotonic_time () - t0) / 1e6;
      if (!ok)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      total += s;
      g_string_append_printf (secs, "%s%.6f", secs->len ? ", " : "", s);
      fwrite (lbar, sizeof (double), (size_t) d, out);
    }
  fclose (out);
  printf ("{\"path\": \"%s\", \"seconds\": [%s], \"total\": %.6f, \"peak_rss_mb\": %.1f}\n",
          reference ? "reference" : "gram", secs->str, total, peak_rss_mb ());
  return 0;
}
