#define G_LOG_DOMAIN "cs-figure"

#include "cs-figure.h"
#include "cs-figure-private.h"

#include <math.h>

/* ------------------------------------------------------------------ graph */

void
cs_figure_sequential (double t, double *r, double *g, double *b)
{
  /* viridis at nine stops, linearly interpolated */
  static const double stops[9][3] = {
    { 0.267, 0.005, 0.329 }, { 0.278, 0.175, 0.483 }, { 0.231, 0.322, 0.546 },
    { 0.173, 0.449, 0.558 }, { 0.128, 0.567, 0.551 }, { 0.153, 0.683, 0.498 },
    { 0.369, 0.789, 0.383 }, { 0.678, 0.864, 0.190 }, { 0.993, 0.906, 0.144 },
  };
  double u = CLAMP (t, 0, 1) * 8;
  int k = MIN (7, (int) floor (u));
  double f = u - k;
  *r = stops[k][0] + (stops[k + 1][0] - stops[k][0]) * f;
  *g = stops[k][1] + (stops[k + 1][1] - stops[k][1]) * f;
  *b = stops[k][2] + (stops[k + 1][2] - stops[k][2]) * f;
}

typedef struct
{
  Frame  f;
  double rmin, rmax;     /* node radii for the smallest and largest node */
  int    smin, smax;
  double vmin, vmax;
  double bar_x, legend_x;
} GraphLayout;

static void
graph_layout (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
              const CsGraphFigure *fig, GraphLayout *L)
{
  double fs = s->font_size * 0.75, top = y + s->font_size * 0.6, right = x + width - fs;
  double side_w = 0;

  if (fig->title)
    top += s->font_size * 1.4;
  if (fig->caption)
    top += fs * 1.4;
  if (fig->n_groups > 0)
    {
      for (guint k = 0; k < fig->n_groups; k++)
        side_w = MAX (side_w, fig_text_width (cr, fs, fig->group_names[k]));
      side_w += fs * 2.2;
    }
  else if (fig->values)
    side_w = fs * 5.5 + (fig->value_label ? fs * 1.4 : 0);
  L->legend_x = right - side_w;
  L->bar_x = right - side_w + fs * (fig->value_label ? 1.6 : 0.4);
  L->f.x0 = x + fs;
  L->f.y0 = top;
  L->f.w = MAX (10, right - side_w - fs - L->f.x0);
  L->f.h = MAX (10, y + height - fs - top);
  L->smin = G_MAXINT;
  L->smax = 1;
  for (guint i = 0; i < fig->n_nodes; i++)
    {
      L->smin = MIN (L->smin, fig->size[i]);
      L->smax = MAX (L->smax, fig->size[i]);
    }
  if (L->smin == G_MAXINT)
    L->smin = 1;
  {
    /* the largest node about an eighteenth of the plot's short side, less when
     * there are many nodes, never under 2 points for the smallest */
    double short_side = MIN (L->f.w, L->f.h);
    L->rmax = MAX (3, MIN (short_side / 18, short_side / (2.5 * sqrt ((double) MAX (1, fig->n_nodes)))));
    L->rmin = MAX (1.5, L->rmax * 0.25);
  }
  /* the data range of the layout, with room for the radii */
  if (fig->fixed_view)
    {
      L->f.xmin = fig->view[0];
      L->f.xmax = fig->view[1];
      L->f.ymin = fig->view[2];
      L->f.ymax = fig->view[3];
    }
  else
    {
      double pad_x = L->rmax / L->f.w, pad_y = L->rmax / L->f.h;
      double aspect = L->f.w / L->f.h;
      /* equal scale on both axes: widen the narrower range */
      double xr = 1 + 2 * pad_x, yr = 1 + 2 * pad_y;
      if (xr / yr < aspect)
        xr = yr * aspect;
      else
        yr = xr / aspect;
      L->f.xmin = 0.5 - xr / 2;
      L->f.xmax = 0.5 + xr / 2;
      L->f.ymin = 0.5 - yr / 2;
      L->f.ymax = 0.5 + yr / 2;
    }
  L->vmin = INFINITY;
  L->vmax = -INFINITY;
  if (fig->values)
    for (guint i = 0; i < fig->n_nodes; i++)
      if (isfinite (fig->values[i]))
        {
          L->vmin = MIN (L->vmin, fig->values[i]);
          L->vmax = MAX (L->vmax, fig->values[i]);
        }
}

static double
node_radius (const GraphLayout *L, int size)
{
  if (L->smax <= L->smin)
    return L->rmax * 0.6;
  return L->rmin + (L->rmax - L->rmin) * (log ((double) size) - log ((double) L->smin)) /
                                          (log ((double) L->smax) - log ((double) L->smin));
}

static GraphLayout
graph_layout_for (double x, double y, double width, double height, const CsFigureStyle *s, const CsGraphFigure *fig)
{
  cairo_surface_t *tmp = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (tmp);
  GraphLayout L;
  graph_layout (cr, x, y, width, height, s, fig, &L);
  cairo_destroy (cr);
  cairo_surface_destroy (tmp);
  return L;
}

void
cs_figure_graph_frame (double x, double y, double width, double height, const CsFigureStyle *s,
                       const CsGraphFigure *fig, CsFigureFrame *frame)
{
  GraphLayout L = graph_layout_for (x, y, width, height, s, fig);
  frame->x0 = L.f.x0;
  frame->y0 = L.f.y0;
  frame->w = L.f.w;
  frame->h = L.f.h;
  frame->xmin = L.f.xmin;
  frame->xmax = L.f.xmax;
  frame->ymin = L.f.ymin;
  frame->ymax = L.f.ymax;
}

int
cs_figure_graph_node_at (double x, double y, double width, double height, const CsFigureStyle *s,
                         const CsGraphFigure *fig, double px, double py)
{
  GraphLayout L = graph_layout_for (x, y, width, height, s, fig);
  int best = -1;
  double bd = INFINITY;
  for (guint i = 0; i < fig->n_nodes; i++)
    {
      double dx = fx (&L.f, fig->x[i]) - px, dy = fy (&L.f, fig->y[i]) - py, d = sqrt (dx * dx + dy * dy);
      double r = node_radius (&L, fig->size[i]) + 2;
      if (d <= r && d < bd)
        {
          bd = d;
          best = (int) i;
        }
    }
  return best;
}

void
cs_figure_draw_graph (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                      const CsGraphFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size * 0.75, ty = y + s->font_size * 0.5;
  GraphLayout L;
  g_autofree guint *order = NULL;

  graph_layout (cr, x, y, width, height, s, fig, &L);
  if (fig->title)
    {
      fig_text (cr, s, s->font_size, TRUE, fig->title, L.f.x0, ty, 0, 0, 0, c.fg);
      ty += s->font_size * 1.4;
    }
  if (fig->caption)
    fig_text (cr, s, fs, FALSE, fig->caption, L.f.x0, ty, 0, 0, 0, c.cloud);
  if (fig->n_nodes == 0)
    {
      fig_text (cr, s, s->font_size, FALSE, "No nodes: every point is noise or the cover is empty",
            L.f.x0 + L.f.w / 2, L.f.y0 + L.f.h / 2, 0.5, 0.5, 0, c.cloud);
      return;
    }
  cairo_save (cr);
  cairo_rectangle (cr, L.f.x0 - L.rmax, L.f.y0 - L.rmax, L.f.w + 2 * L.rmax, L.f.h + 2 * L.rmax);
  cairo_clip (cr);
  /* edges under the nodes */
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (guint e = 0; e < fig->n_edges; e++)
    {
      int a = fig->edges[e * 2], b = fig->edges[e * 2 + 1];
      gboolean faded = fig->highlight && !(fig->highlight[a] && fig->highlight[b]);
      double w = fig->edge_weight ? fig->edge_weight[e] : 0.3;
      cairo_set_source_rgba (cr, c.cloud[0], c.cloud[1], c.cloud[2], faded ? 0.25 : 0.8);
      cairo_set_line_width (cr, MAX (0.4, L.rmax * 0.08) * (1 + 4 * CLAMP (w, 0, 1)));
      cairo_move_to (cr, fx (&L.f, fig->x[a]), fy (&L.f, fig->y[a]));
      cairo_line_to (cr, fx (&L.f, fig->x[b]), fy (&L.f, fig->y[b]));
      cairo_stroke (cr);
    }
  /* nodes, large first so small ones stay visible on top */
  order = g_new (guint, fig->n_nodes);
  for (guint i = 0; i < fig->n_nodes; i++)
    order[i] = i;
  for (guint i = 1; i < fig->n_nodes; i++)
    {
      guint v = order[i], j = i;
      while (j > 0 && fig->size[order[j - 1]] < fig->size[v])
        {
          order[j] = order[j - 1];
          j--;
        }
      order[j] = v;
    }
  for (guint k = 0; k < fig->n_nodes; k++)
    {
      guint i = order[k];
      double cx = fx (&L.f, fig->x[i]), cy = fy (&L.f, fig->y[i]), r = node_radius (&L, fig->size[i]);
      double alpha = fig->highlight && !fig->highlight[i] ? 0.3 : 1.0;
      if (fig->n_groups > 0 && fig->fractions)
        {
          double a0 = -G_PI / 2;
          for (guint gi = 0; gi < fig->n_groups; gi++)
            {
              double f = fig->fractions[i * fig->n_groups + gi], cr_, cg, cb;
              if (!(f > 0))
                continue;
              cs_figure_palette (gi, &cr_, &cg, &cb);
              cairo_set_source_rgba (cr, cr_, cg, cb, alpha);
              cairo_move_to (cr, cx, cy);
              cairo_arc (cr, cx, cy, r, a0, a0 + 2 * G_PI * f);
              cairo_close_path (cr);
              cairo_fill (cr);
              a0 += 2 * G_PI * f;
            }
        }
      else
        {
          double cr_, cg, cb;
          if (fig->values && isfinite (fig->values[i]) && L.vmax > L.vmin)
            cs_figure_sequential ((fig->values[i] - L.vmin) / (L.vmax - L.vmin), &cr_, &cg, &cb);
          else if (fig->values && isfinite (fig->values[i]))
            cs_figure_sequential (0.5, &cr_, &cg, &cb);
          else
            cs_figure_palette (0, &cr_, &cg, &cb);
          cairo_set_source_rgba (cr, cr_, cg, cb, alpha);
          cairo_arc (cr, cx, cy, r, 0, 2 * G_PI);
          cairo_fill (cr);
        }
      cairo_set_source_rgba (cr, c.bg[0], c.bg[1], c.bg[2], s->theme == CS_THEME_TRANSPARENT ? 0 : 0.9 * alpha);
      cairo_set_line_width (cr, MAX (0.3, r * 0.08));
      cairo_arc (cr, cx, cy, r, 0, 2 * G_PI);
      cairo_stroke (cr);
      if ((fig->highlight && fig->highlight[i]) || (int) i == fig->hover)
        {
          cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
          cairo_set_line_width (cr, MAX (1.0, fs * 0.15));
          cairo_arc (cr, cx, cy, r + MAX (1.5, fs * 0.25), 0, 2 * G_PI);
          cairo_stroke (cr);
        }
    }
  cairo_restore (cr);

  /* legend or colour bar */
  if (fig->n_groups > 0)
    {
      double ly = L.f.y0;
      for (guint gi = 0; gi < fig->n_groups; gi++)
        {
          double r, g, b;
          cs_figure_palette (gi, &r, &g, &b);
          cairo_set_source_rgb (cr, r, g, b);
          cairo_arc (cr, L.legend_x + fs * 0.5, ly + fs * 0.6, fs * 0.45, 0, 2 * G_PI);
          cairo_fill (cr);
          fig_text (cr, s, fs, FALSE, fig->group_names[gi], L.legend_x + fs * 1.3, ly + fs * 0.6, 0, 0.5, 0, c.fg);
          ly += fs * 1.5;
        }
    }
  else if (fig->values && L.vmax >= L.vmin)
    {
      double bx = L.bar_x, bw = fs, bh = MIN (L.f.h, fs * 16), by = L.f.y0 + (L.f.h - bh) / 2;
      for (int k = 0; k < 100; k++)
        {
          double r, g, b;
          cs_figure_sequential (1 - k / 99.0, &r, &g, &b);
          cairo_set_source_rgb (cr, r, g, b);
          cairo_rectangle (cr, bx, by + bh * k / 100, bw, bh / 100 + 0.5);
          cairo_fill (cr);
        }
      for (int k = 0; k < 3; k++)
        {
          double v = L.vmax - (L.vmax - L.vmin) * k / 2;
          g_autofree char *t = fig_bar_tick (v, L.vmin, L.vmax);
          fig_text (cr, s, fs, FALSE, t, bx + bw + fs * 0.3, by + bh * k / 2, 0, 0.5, 0, c.fg);
        }
      if (fig->value_label)
        fig_text (cr, s, fs, FALSE, fig->value_label, bx - fs * 0.4, by + bh / 2, 0.5, 1, -G_PI / 2, c.fg);
    }
}
