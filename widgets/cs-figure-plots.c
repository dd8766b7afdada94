#define G_LOG_DOMAIN "cs-figure"

#include "cs-figure.h"
#include "cs-figure-private.h"

#include <math.h>

void
cs_figure_draw_validation (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                           const CsValidationFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size;
  Frame f = { x + fs * 4.2, y + (fig->title ? fs * 2 : fs), 0, 0, -0.5, fig->n - 0.5, INFINITY, -INFINITY };
  static const char *series[] = { "training tokens", "held-out tokens", "random tokens", "held-out, shuffled g" };
  const guint colours4[] = { 0, 1, 7, 4 };

  if (fig->n == 0)
    return;
  f.w = width - (f.x0 - x) - fs;
  f.h = height - (f.y0 - y) - fs * 3.5;
  for (guint i = 0; i < fig->n * 4; i++)
    if (isfinite (fig->mean[i]))
      {
        double sd = isfinite (fig->std[i]) ? fig->std[i] : 0;
        f.ymin = MIN (f.ymin, fig->mean[i] - sd);
        f.ymax = MAX (f.ymax, fig->mean[i] + sd);
      }
  if (!isfinite (f.ymin))
    f.ymin = -1, f.ymax = 1;
  f.ymin = MIN (f.ymin, 0) - 0.1;
  f.ymax = MAX (f.ymax, 1) + 0.1;
  if (fig->title)
    fig_title_text (cr, s, fs, fig->title, f.x0 + f.w / 2, x, x + width, y + fs * 0.3, c.fg);
  fig_draw_axes (cr, &f, s, NULL, "projection g(y)·ℓ̄ / ‖ℓ̄‖²", FALSE);
  for (guint i = 0; i < fig->n; i++)
    {
      fig_text (cr, s, fs * 0.75, FALSE, fig->names[i], fx (&f, i), f.y0 + f.h + fs * 0.3, 0.5, 0, 0, c.fg);
      for (int k = 0; k < 4; k++)
        {
          double m = fig->mean[i * 4 + k], sd = fig->std[i * 4 + k], px = fx (&f, i + (k - 1.5) * 0.18), r, g, b;
          if (!isfinite (m))
            continue;
          cs_figure_palette (colours4[k], &r, &g, &b);
          if (s->theme == CS_THEME_DARK && colours4[k] == 7)
            r = g = b = 0.75;
          cairo_set_source_rgb (cr, r, g, b);
          cairo_set_line_width (cr, fs * 0.08);
          if (isfinite (sd))
            {
              cairo_move_to (cr, px, fy (&f, m - sd));
              cairo_line_to (cr, px, fy (&f, m + sd));
              cairo_stroke (cr);
            }
          cairo_arc (cr, px, fy (&f, m), fs * 0.22, 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
  for (int k = 0; k < 4; k++)
    {
      double r, g, b, lx = f.x0 + fs * 0.5 + k * f.w / 4;
      cs_figure_palette (colours4[k], &r, &g, &b);
      if (s->theme == CS_THEME_DARK && colours4[k] == 7)
        r = g = b = 0.75;
      cairo_set_source_rgb (cr, r, g, b);
      cairo_arc (cr, lx, f.y0 + f.h + fs * 1.9, fs * 0.22, 0, 2 * G_PI);
      cairo_fill (cr);
      fig_text (cr, s, fs * 0.7, FALSE, series[k], lx + fs * 0.4, f.y0 + f.h + fs * 1.9, 0, 0.5, 0, c.fg);
    }
}

void
cs_figure_draw_orthogonality (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                              const CsOrthogonalityFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size;
  Frame f = { x + fs * 4.2, y + (fig->title ? fs * 2 : fs), 0, 0, -0.5, fig->n - 0.5, -1.05, 1.05 };

  if (fig->n == 0)
    return;
  f.w = width - (f.x0 - x) - fs;
  f.h = height - (f.y0 - y) - fs * 3.5;
  if (fig->title)
    fig_title_text (cr, s, fs, fig->title, f.x0 + f.w / 2, x, x + width, y + fs * 0.3, c.fg);
  fig_draw_axes (cr, &f, s, NULL, "cosine", FALSE);
  for (guint i = 0; i < fig->n; i++)
    {
      double vals[2] = { fig->cos_plain[i], fig->cos_diff[i] };
      fig_text (cr, s, fs * 0.75, FALSE, fig->names[i], fx (&f, i), f.y0 + f.h + fs * 0.3, 0.5, 0, 0, c.fg);
      for (int k = 0; k < 2; k++)
        {
          double r, g, b, bw = f.w / fig->n * 0.3, bx = fx (&f, i) + (k - 1) * bw;
          if (!isfinite (vals[k]))
            continue;
          cs_figure_palette (k ? 3 : 0, &r, &g, &b);
          cairo_set_source_rgb (cr, r, g, b);
          cairo_rectangle (cr, bx, fy (&f, MAX (vals[k], 0)), bw * 0.95, fabs (fy (&f, vals[k]) - fy (&f, 0)));
          cairo_fill (cr);
        }
    }
  cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
  cairo_set_line_width (cr, fs * 0.05);
  cairo_move_to (cr, f.x0, fy (&f, 0));
  cairo_line_to (cr, f.x0 + f.w, fy (&f, 0));
  cairo_stroke (cr);
  const char *labels[] = { "cos(ℓ̄<sub>child</sub>, ℓ̄<sub>parent</sub>)",
                           "cos(ℓ̄<sub>child</sub> − ℓ̄<sub>parent</sub>, ℓ̄<sub>parent</sub>)" };
  for (int k = 0; k < 2; k++)
    {
      double r, g, b, lx = f.x0 + fs * 0.5 + k * f.w / 2;
      cs_figure_palette (k ? 3 : 0, &r, &g, &b);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_rectangle (cr, lx - fs * 0.25, f.y0 + f.h + fs * 1.65, fs * 0.5, fs * 0.5);
      cairo_fill (cr);
      fig_text (cr, s, fs * 0.7, FALSE, labels[k], lx + fs * 0.45, f.y0 + f.h + fs * 1.9, 0, 0.5, 0, c.fg);
    }
}

/* ------------------------------------------------------------ lines, matrix, bars */

void
cs_figure_draw_lines (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                      const CsLinesFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size, legend_w = 0;
  Frame f;

  if (fig->n_x == 0 || fig->n_series == 0)
    return;
  for (guint k = 0; k < fig->n_series; k++)
    legend_w = MAX (legend_w, fig_text_width (cr, fs * 0.75, fig->series_names[k]));
  legend_w += fs * 2.5;
  f.x0 = x + fs * 4.4;
  f.y0 = y + (fig->title ? fs * 2 : fs);
  f.w = width - (f.x0 - x) - legend_w - fs;
  f.h = height - (f.y0 - y) - fs * 3.7;   /* tick labels, then the axis label with its subscripts */
  f.xmin = INFINITY;
  f.xmax = -INFINITY;
  f.ymin = INFINITY;
  f.ymax = -INFINITY;
  for (guint i = 0; i < fig->n_x; i++)
    {
      f.xmin = MIN (f.xmin, fig->x[i]);
      f.xmax = MAX (f.xmax, fig->x[i]);
    }
  for (guint i = 0; i < fig->n_series * fig->n_x; i++)
    if (isfinite (fig->y[i]))
      {
        double sd = fig->sd && isfinite (fig->sd[i]) ? fig->sd[i] : 0;
        f.ymin = MIN (f.ymin, fig->y[i] - sd);
        f.ymax = MAX (f.ymax, fig->y[i] + sd);
      }
  if (!(f.xmax > f.xmin))
    f.xmin -= 1, f.xmax += 1;
  if (!isfinite (f.ymin))
    f.ymin = 0, f.ymax = 1;
  if (!(f.ymax > f.ymin))
    f.ymin -= 0.5, f.ymax += 0.5;
  {
    double pad = (f.ymax - f.ymin) * 0.06, padx = (f.xmax - f.xmin) * 0.03;
    f.ymin -= pad;
    f.ymax += pad;
    f.xmin -= padx;
    f.xmax += padx;
  }
  if (fig->title)
    fig_title_text (cr, s, fs, fig->title, f.x0 + f.w / 2, x, x + width, y + fs * 0.3, c.fg);
  fig_draw_axes (cr, &f, s, fig->x_label, fig->y_label, TRUE);
  cairo_save (cr);
  cairo_rectangle (cr, f.x0, f.y0, f.w, f.h);
  cairo_clip (cr);
  for (guint k = 0; k < fig->n_series; k++)
    {
      double r, g, b;
      const double *yy = fig->y + (gsize) k * fig->n_x;
      cs_figure_palette (k, &r, &g, &b);
      if (fig->sd)
        {
          const double *sd = fig->sd + (gsize) k * fig->n_x;
          cairo_set_source_rgba (cr, r, g, b, 0.15);
          for (guint i = 0; i < fig->n_x; i++)
            (i ? cairo_line_to : cairo_move_to) (cr, fx (&f, fig->x[i]), fy (&f, yy[i] + sd[i]));
          for (guint i = fig->n_x; i-- > 0;)
            cairo_line_to (cr, fx (&f, fig->x[i]), fy (&f, yy[i] - sd[i]));
          cairo_close_path (cr);
          cairo_fill (cr);
        }
      cairo_set_source_rgb (cr, r, g, b);
      cairo_set_line_width (cr, fs * 0.13);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      for (guint i = 0; i < fig->n_x; i++)
        (i ? cairo_line_to : cairo_move_to) (cr, fx (&f, fig->x[i]), fy (&f, yy[i]));
      cairo_stroke (cr);
      for (guint i = 0; i < fig->n_x; i++)
        {
          cairo_arc (cr, fx (&f, fig->x[i]), fy (&f, yy[i]), fs * 0.2, 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
  cairo_restore (cr);
  for (guint k = 0; k < fig->n_series; k++)
    {
      double r, g, b, ly = f.y0 + fs * 0.6 + k * fs * 1.2, lx = f.x0 + f.w + fs;
      cs_figure_palette (k, &r, &g, &b);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_set_line_width (cr, fs * 0.13);
      cairo_move_to (cr, lx, ly);
      cairo_line_to (cr, lx + fs * 1.1, ly);
      cairo_stroke (cr);
      fig_text (cr, s, fs * 0.75, FALSE, fig->series_names[k], lx + fs * 1.4, ly, 0, 0.5, 0, c.fg);
    }
}

void
cs_figure_draw_bars (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                     const CsBarsFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size * 0.75, label_w = 0, lo = 0, hi = 0, row;
  Frame f;

  if (fig->n == 0)
    return;
  for (guint i = 0; i < fig->n; i++)
    {
      g_autofree char *esc = g_markup_escape_text (fig->labels[i], -1);
      label_w = MAX (label_w, fig_text_width (cr, fs, esc));
      if (isfinite (fig->values[i]))
        {
          lo = MIN (lo, fig->values[i]);
          hi = MAX (hi, fig->values[i]);
        }
    }
  if (!(hi > lo))
    hi = lo + 1;
  f.x0 = x + MIN (label_w, width * 0.4) + fs * 1.2;
  f.y0 = y + (fig->title ? s->font_size * 2 : fs);
  f.w = width - (f.x0 - x) - fs * 1.5;
  f.h = height - (f.y0 - y) - fs * 3.7;   /* tick labels, then the axis label with its subscripts */
  f.xmin = lo - (hi - lo) * 0.05;
  f.xmax = hi + (hi - lo) * 0.05;
  f.ymin = 0;
  f.ymax = 1;
  row = f.h / fig->n;
  if (fig->title)
    fig_title_text (cr, s, s->font_size, fig->title, f.x0 + f.w / 2, x, x + width, y + s->font_size * 0.3, c.fg);
  fig_draw_axes_full (cr, &f, s, fig->value_label, NULL, TRUE, FALSE);
  for (guint i = 0; i < fig->n; i++)
    {
      double v = fig->values[i], r, g, b, cy = f.y0 + (i + 0.5) * row;
      g_autofree char *esc = g_markup_escape_text (fig->labels[i], -1);
      if (isfinite (v))
        {
          cs_figure_palette (v >= 0 ? 0 : 3, &r, &g, &b);
          cairo_set_source_rgb (cr, r, g, b);
          cairo_rectangle (cr, fx (&f, MIN (0, v)), cy - row * 0.35, fabs (fx (&f, v) - fx (&f, 0)), row * 0.7);
          cairo_fill (cr);
        }
      fig_text_fit (cr, fs, esc, f.x0 - fs * 0.4, cy, 1, 0.5, 0, f.x0 - fs * 0.8 - x, c.fg);
    }
  cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
  cairo_set_line_width (cr, MAX (0.5, s->font_size / 20));
  cairo_move_to (cr, fx (&f, 0), f.y0);
  cairo_line_to (cr, fx (&f, 0), f.y0 + f.h);
  cairo_stroke (cr);
}

int
cs_figure_bars_index_at (double x, double y, double width, double height, const CsFigureStyle *s,
                         const CsBarsFigure *fig, double px, double py)
{
  /* the frame's rows as cs_figure_draw_bars lays them out (they do not
   * depend on the labels' widths) */
  double fs = s->font_size * 0.75, y0 = y + (fig->title ? s->font_size * 2 : fs);
  double h = height - (y0 - y) - fs * 3.7;
  int i;
  if (fig->n == 0 || px < x || px > x + width || py < y0 || py >= y0 + h || h <= 0)
    return -1;
  i = (int) floor ((py - y0) / (h / fig->n));
  return i >= 0 && i < (int) fig->n ? i : -1;
}
