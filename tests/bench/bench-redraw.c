/* Redraw time of the projection as the Geometry page draws it while the
 * user pans: 256,000 points on a 1920 × 1080 surface, the range shifted a
 * little every frame, median over 60 frames; with the page's cloud cache
 * (panning moves the raster) and without (every frame rasterised again, as
 * when zooming). */
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>

#include "cs-figure.h"

static int
cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (void)
{
  const gint64 n = 256000;
  const int frames = 60;
  float *x = g_new (float, n), *y = g_new (float, n);
  GRand *r = g_rand_new_with_seed (1);
  double times[60];
  for (gint64 i = 0; i < n; i++)
    {
      x[i] = (float) (g_rand_double_range (r, -3, 3) * g_rand_double (r));
      y[i] = (float) (g_rand_double_range (r, -3, 3) * g_rand_double (r));
    }
  gint32 *ids = g_new (gint32, 2000);
  for (int i = 0; i < 2000; i++)
    ids[i] = g_rand_int_range (r, 0, (gint32) n);
  CsFigureGroup groups[4] = { { "a", ids, 500, 0 }, { "b", ids + 500, 500, 1 }, { "c", ids + 1000, 500, 2 },
                              { "d", ids + 1500, 500, 3 } };
  CsFigureArrow arrows[2] = { { 0, 0, 2, 0, 0, "ℓ̄<sub>a</sub>" }, { 0, 0, 1, 2, 1, "ℓ̄<sub>b</sub>" } };
  CsProjectionFigure fig = { n, x, y, groups, 4, arrows, 2, "ℓ̄<sub>a</sub>", "ℓ̄<sub>b</sub>", NULL };
  CsFigureStyle st = { 1920, 1080, 15, CS_THEME_LIGHT };
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1920, 1080);

  fig.fixed_range = TRUE;
  printf ("[");
  for (int cached = 1; cached >= 0; cached--)
  {
  g_autoptr(CsFigureCloudCache) cache = cached ? cs_figure_cloud_cache_new () : NULL;
  fig.cloud_cache = cache;
  for (int f = 0; f < frames; f++)
    {
      double shift = 0.01 * f;
      fig.range[0] = -3 + shift; fig.range[1] = 3 + shift; fig.range[2] = -2 - shift; fig.range[3] = 2 - shift;
      gint64 t0 = g_get_monotonic_time ();
      cairo_t *cr = cairo_create (s);
      cs_figure_paint_background (cr, 1920, 1080, &st);
      cs_figure_draw_projection (cr, 0, 0, 1920, 1080, &st, &fig);
      cairo_destroy (cr);
      cairo_surface_flush (s);
      times[f] = (g_get_monotonic_time () - t0) / 1e3;
    }
  qsort (times, frames, sizeof (double), cmp);
  guint rasterised = frames, reused = 0;
  if (cache)
    cs_figure_cloud_cache_stats (cache, &rasterised, &reused);
  printf ("{\"points\": %" G_GINT64_FORMAT ", \"width\": 1920, \"height\": 1080, \"cloud_cache\": %s, "
          "\"rasterised\": %u, \"reused\": %u, \"median_ms\": %.2f, \"max_ms\": %.2f}%s\n",
          n, cached ? "true" : "false", rasterised, reused, times[frames / 2], times[frames - 1], cached ? "," : "]");
  }
  cairo_surface_destroy (s);
  return 0;
}
