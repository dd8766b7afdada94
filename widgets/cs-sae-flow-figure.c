#define G_LOG_DOMAIN "cs-figure"

#include "cs-sae-flow-figure.h"
#include "cs-figure-private.h"

#include <math.h>

void
cs_sae_flow_figure_draw (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                         const CsSaeFlow *flow, double threshold, const char *title)
{
  Colours c = fig_colours (s);
  double fs = s->font_size, small = fs * 0.62, top = y + fs * 3.2, bottom = y + height - fs * 2.0;
  double max_d = 0, max_w = 0, rmax = fs * 0.9, col_w;
  int first = flow->steer_layer, last = first, n_cols;
  g_autofree double *nx = g_new0 (double, MAX (1, flow->n_nodes)), *ny = g_new0 (double, MAX (1, flow->n_nodes));
  g_autofree double *nr = g_new0 (double, MAX (1, flow->n_nodes));

  if (flow->n_nodes == 0)
    return;
  for (int i = 0; i < flow->n_nodes; i++)
    {
      last = MAX (last, flow->node_layer[i]);
      max_d = MAX (max_d, fabs (flow->node_delta[i]));
    }
  for (int e = 0; e < flow->n_edges; e++)
    max_w = MAX (max_w, fabs (flow->edge_weight[e]));
  n_cols = last - first + 1;
  col_w = width / n_cols;
  fig_title_text (cr, s, fs, title ? title : "How the latents the vector moves drive each other", x + width / 2, x,
                  x + width, y + fs * 0.3, c.fg);
  /* each column: its layer, then its latents by Δ, top to bottom */
  for (int l = first; l <= last; l++)
    {
      int count = 0, row = 0;
      g_autofree char *head = g_strdup_printf ("layer %d", l);
      double cx = x + (l - first + 0.3) * col_w;
      fig_text (cr, s, small * 1.2, TRUE, head, cx, y + fs * 1.7, 0.5, 0, 0, c.fg);
      for (int i = 0; i < flow->n_nodes; i++)
        count += flow->node_layer[i] == l;
      for (int i = 0; i < flow->n_nodes; i++)
        if (flow->node_layer[i] == l)
          {
            nx[i] = cx;
            ny[i] = top + (bottom - top) * (row + 0.5) / MAX (count, 1);
            nr[i] = MAX (fs * 0.15, rmax * sqrt (fabs (flow->node_delta[i]) / MAX (max_d, 1e-30)));
            row++;
          }
    }
  /* edges under the discs */
  for (int e = 0; e < flow->n_edges; e++)
    {
      double w = flow->edge_weight[e], r, g, b;
      int a = flow->edge_from[e], z = flow->edge_to[e];
      if (max_w <= 0 || fabs (w) < threshold * max_w)
        continue;
      fig_diverging (w > 0 ? 0.85 : -0.85, &r, &g, &b);
      cairo_set_source_rgba (cr, r, g, b, 0.65);
      cairo_set_line_width (cr, MAX (0.6, fs * 0.45 * fabs (w) / max_w));
      cairo_move_to (cr, nx[a], ny[a]);
      cairo_curve_to (cr, (nx[a] + nx[z]) / 2, ny[a], (nx[a] + nx[z]) / 2, ny[z], nx[z], ny[z]);
      cairo_stroke (cr);
    }
  for (int i = 0; i < flow->n_nodes; i++)
    {
      double r, g, b;
      g_autofree char *esc = g_markup_escape_text (flow->node_labels[i] ? flow->node_labels[i] : "", -1);
      fig_diverging (flow->node_delta[i] > 0 ? 1 : -1, &r, &g, &b);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_arc (cr, nx[i], ny[i], nr[i], 0, 2 * G_PI);
      cairo_fill (cr);
      fig_text_fit (cr, small, esc, nx[i] + rmax * 1.1, ny[i], 0, 0.5, 0, col_w * 0.7 - rmax, c.fg);
    }
  {
    g_autofree char *caption = g_strdup_printf ("Disc: Δ mean activation (red up, blue down). Edge: what the earlier "
                                                "latent gives the later one, by ablation (red adds, blue takes "
                                                "away); under %.0f %% of the largest not drawn.", 100 * threshold);
    fig_text_fit (cr, small, caption, x + fs * 0.5, y + height - fs * 0.9, 0, 0.5, 0, width - fs, c.fg);
  }
}
