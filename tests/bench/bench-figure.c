/* Export time and size of a 256,000-point projection (a Gemma-sized
 * vocabulary) in SVG, PDF and PNG: the grey cloud is one raster whatever the
 * number of points, so the vector files stay small. */
#include <glib/gstdio.h>
#include <stdio.h>

#include "cs-figure.h"
static CsProjectionFigure fig;
static void draw (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer d) { cs_figure_draw_projection (cr, 0, 0, w, h, s, &fig); }
int main (void) {
  gint64 n = 256000; float *x = g_new (float, n), *y = g_new (float, n); GRand *r = g_rand_new_with_seed (1);
  for (gint64 i = 0; i < n; i++) { x[i] = g_rand_double_range (r, -3, 3) * g_rand_double (r); y[i] = g_rand_double_range (r, -3, 3) * g_rand_double (r); }
  gint32 *ids = g_new (gint32, 2000); for (int i = 0; i < 2000; i++) ids[i] = g_rand_int_range (r, 0, n);
  CsFigureGroup groups[4] = { { "a", ids, 500, 0 }, { "b", ids + 500, 500, 1 }, { "c", ids + 1000, 500, 2 }, { "d", ids + 1500, 500, 3 } };
  fig = (CsProjectionFigure) { n, x, y, groups, 4, NULL, 0, "x", "y", "256k", NULL, NULL, 0 };
  CsFigureStyle st = { 0 }; cs_figure_style_preset ("slide", &st);
  const char *outs[] = { "bench-figure.svg", "bench-figure.pdf", "bench-figure.png" };
  for (int k = 0; k < 3; k++) { gint64 t0 = g_get_monotonic_time (); GError *e = NULL;
    if (!cs_figure_export (outs[k], &st, 2, draw, NULL, &e)) { printf ("%s\n", e->message); return 1; }
    { GStatBuf sb; g_stat (outs[k], &sb); printf ("%s: %.3f s, %.2f MB\n", outs[k], (g_get_monotonic_time () - t0) / 1e6, sb.st_size / 1e6); } }
  return 0; }
