#define G_LOG_DOMAIN "cs-figure"

#include "cs-sae-flow-figure.h"
#include "cs-figure-private.h"

#include <math.h>

typedef struct
{
  double *nx, *ny, *nr;
  double  col_w, rmax, max_d;
  int     first, last;
} Layout;

static void
layout_free (Layout *l)
{
  g_free (l->nx);
  g_free (l->ny);
  g_free (l->nr);
}

/* Where each node is drawn: a column per layer, its latents top to bottom. */
static void
flow_layout (double x, double y, double width, double height, const CsFigureStyle *s, const CsSaeFlow *flow,
             Layout *o)
{
  double fs = s->font_size, top = y + fs * 3.2, bottom = y + height - fs * 2.0;
  o->nx = g_new0 (double, MAX (1, flow->n_nodes));
  o->ny = g_new0 (double, MAX (1, flow->n_nodes));
  o->nr = g_new0 (double, MAX (1, flow->n_nodes));
  o->rmax = fs * 0.9;
  o->max_d = 0;
  o->first = o->last = flow->steer_layer;
  for (int i = 0; i < flow->n_nodes; i++)
    {
      o->last = MAX (o->last, flow->node_layer[i]);
      o->max_d = MAX (o->max_d, fabs (flow->node_delta[i]));
    }
  o->col_w = width / (o->last - o->first + 1);
  for (int l = o->first; l <= o->last; l++)
    {
      int count = 0, row = 0;
      double cx = x + (l - o->first + 0.3) * o->col_w;
      for (int i = 0; i < flow->n_nodes; i++)
        count += flow->node_layer[i] == l;
      for (int i = 0; i < flow->n_nodes; i++)
        if (flow->node_layer[i] == l)
          {
            o->nx[i] = cx;
            o->ny[i] = top + (bottom - top) * (row + 0.5) / MAX (count, 1);
            o->nr[i] = MAX (fs * 0.15, o->rmax * sqrt (fabs (flow->node_delta[i]) / MAX (o->max_d, 1e-30)));
            row++;
          }
    }
}

int
cs_sae_flow_figure_node_at (double x, double y, double width, double height, const CsFigureStyle *s,
                            const CsSaeFlow *flow, double px, double py)
{
  Layout o;
  int best = -1;
  double best_d = 0;
  if (!flow || flow->n_nodes == 0)
    return -1;
  flow_layout (x, y, width, height, s, flow, &o);
  for (int i = 0; i < flow->n_nodes; i++)
    {
      /* the disc, or its label to the right of it */
      double dx = px - o.nx[i], dy = py - o.ny[i], d = hypot (dx, dy);
      gboolean on = d <= MAX (o.nr[i], s->font_size * 0.5) ||
                    (dx > 0 && dx < o.col_w * 0.7 && fabs (dy) < s->font_size * 0.45);
      if (on && (best < 0 || d < best_d))
        {
          best = i;
          best_d = d;
        }
    }
  layout_free (&o);
  return best;
}

void
cs_sae_flow_figure_draw (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                         const CsSaeFlow *flow, double threshold, const char *title)
{
  Colours c = fig_colours (s);
  double fs = s->font_size, small = fs * 0.62;
  double max_w = 0, rmax, col_w;
  double *nx, *ny, *nr;
  Layout o;

  if (flow->n_nodes == 0)
    return;
  flow_layout (x, y, width, height, s, flow, &o);
  nx = o.nx;
  ny = o.ny;
  nr = o.nr;
  rmax = o.rmax;
  col_w = o.col_w;
  for (int e = 0; e < flow->n_edges; e++)
    max_w = MAX (max_w, fabs (flow->edge_weight[e]));
  fig_title_text (cr, s, fs, title ? title : "How the latents the vector moves drive each other", x + width / 2, x,
                  x + width, y + fs * 0.3, c.fg);
  for (int l = o.first; l <= o.last; l++)
    {
      g_autofree char *head = g_strdup_printf ("layer %d", l);
      fig_text (cr, s, small * 1.2, TRUE, head, x + (l - o.first + 0.3) * col_w, y + fs * 1.7, 0.5, 0, 0, c.fg);
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
  layout_free (&o);
}
