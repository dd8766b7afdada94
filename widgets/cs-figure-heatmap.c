#define G_LOG_DOMAIN "cs-figure"

#include "cs-figure.h"
#include "cs-figure-private.h"

#include <math.h>
#include <string.h>

/* Diverging blue–white–red for −1 … 1. */
void
fig_diverging (double v, double *r, double *g, double *b)
{
  double t = CLAMP ((v + 1) / 2, 0, 1);
  const double lo[3] = { 0.13, 0.40, 0.67 }, mid[3] = { 0.97, 0.97, 0.97 }, hi[3] = { 0.70, 0.09, 0.17 };
  const double *a = t < 0.5 ? lo : mid, *z = t < 0.5 ? mid : hi;
  double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
  *r = a[0] + (z[0] - a[0]) * u;
  *g = a[1] + (z[1] - a[1]) * u;
  *b = a[2] + (z[2] - a[2]) * u;
}

static void
heatmap_layout (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                const CsHeatmapFigure *fig, double *x0, double *y0, double *cell)
{
  double fs = s->font_size * 0.75, label_w = 0;
  for (guint i = 0; i < fig->n; i++)
    label_w = MAX (label_w, fig_text_width (cr, fs, fig->names[i]));
  double top = y + (fig->title ? s->font_size * 2 : fs);
  double avail_w = width - label_w - fs * 6, avail_h = height - (top - y) - label_w - fs;
  *cell = MAX (1, MIN (avail_w, avail_h) / MAX (fig->n, 1));
  *x0 = x + label_w + fs;
  *y0 = top;
}

gboolean
cs_figure_heatmap_cell_at (double x, double y, double width, double height, const CsFigureStyle *s,
                           const CsHeatmapFigure *fig, double px, double py, guint *row, guint *col)
{
  cairo_surface_t *tmp = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (tmp);
  double x0, y0, cell;
  heatmap_layout (cr, x, y, width, height, s, fig, &x0, &y0, &cell);
  cairo_destroy (cr);
  cairo_surface_destroy (tmp);
  if (fig->n == 0 || px < x0 || py < y0 || px >= x0 + cell * fig->n || py >= y0 + cell * fig->n)
    return FALSE;
  *row = (guint) ((py - y0) / cell);
  *col = (guint) ((px - x0) / cell);
  return TRUE;
}

void
cs_figure_draw_heatmap (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                        const CsHeatmapFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size * 0.75;
  guint n = fig->n;
  double x0, y0, cell;

  if (n == 0)
    return;
  heatmap_layout (cr, x, y, width, height, s, fig, &x0, &y0, &cell);

  if (fig->title)
    fig_title_text (cr, s, s->font_size, fig->title, x0 + cell * n / 2, x, x + width, y + s->font_size * 0.3, c.fg);
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      {
        double v = fig->matrix[i * n + j], r, g, b;
        if (isfinite (v))
          fig_diverging (v, &r, &g, &b);
        else
          r = g = b = 0.6;
        cairo_set_source_rgb (cr, r, g, b);
        cairo_rectangle (cr, x0 + j * cell, y0 + i * cell, cell + 0.3, cell + 0.3);
        cairo_fill (cr);
        if (n <= 14 && isfinite (v) && cell > fs * 2.2)
          {
            g_autofree char *t = g_strdup_printf ("%.2f", v);
            const double dark[3] = { 0.1, 0.1, 0.1 }, light[3] = { 1, 1, 1 };
            fig_text (cr, s, fs * 0.85, FALSE, t, x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell, 0.5, 0.5, 0,
                  fabs (v) > 0.6 ? light : dark);
          }
      }
  for (guint i = 0; i < n; i++)
    {
      fig_text (cr, s, fs, FALSE, fig->names[i], x0 - fs * 0.4, y0 + (i + 0.5) * cell, 1, 0.5, 0, c.fg);
      fig_text (cr, s, fs, FALSE, fig->names[i], x0 + (i + 0.5) * cell, y0 + n * cell + fs * 0.4, 1, 0.5, -G_PI / 2,
            c.fg);
    }
  /* colour bar */
  double bx = x0 + n * cell + fs * 1.5, bw = fs, bh = n * cell;
  for (int k = 0; k < 100; k++)
    {
      double r, g, b;
      fig_diverging (1 - 2.0 * k / 99, &r, &g, &b);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_rectangle (cr, bx, y0 + bh * k / 100, bw, bh / 100 + 0.5);
      cairo_fill (cr);
    }
  const char *ticks[] = { "1", "0", "−1" };
  for (int k = 0; k < 3; k++)
    fig_text (cr, s, fs, FALSE, ticks[k], bx + bw + fs * 0.3, y0 + bh * k / 2, 0, 0.5, 0, c.fg);
}

static void
sequential_or_diverging (const CsMatrixFigure *fig, double v, double lo, double hi, double *r, double *g, double *b)
{
  if (fig->diverging)
    fig_diverging (hi > 0 ? v / hi : 0, r, g, b);
  else
    cs_figure_sequential (hi > lo ? (v - lo) / (hi - lo) : 0.5, r, g, b);
}

typedef struct
{
  double x0, y0, cw, ch, label_w, col_label_h, bar_x;
} MatrixLayout;

static void
matrix_layout (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
               const CsMatrixFigure *fig, MatrixLayout *m)
{
  double fs = s->font_size * 0.75;
  m->label_w = 0;
  m->col_label_h = 0;
  for (guint i = 0; i < fig->n_rows; i++)
    m->label_w = MAX (m->label_w, fig_text_width (cr, fs, fig->row_labels[i]));
  for (guint j = 0; j < fig->n_cols; j++)
    {
      g_autofree char *esc = g_markup_escape_text (fig->col_labels[j], -1);
      m->col_label_h = MAX (m->col_label_h, fig_text_width (cr, fs, esc));
    }
  m->col_label_h = MIN (m->col_label_h, height * 0.35);
  m->label_w += fig->row_title ? fs * 1.8 : 0;
  m->x0 = x + m->label_w + fs;
  m->y0 = y + (fig->title ? s->font_size * 2 : fs);
  m->cw = MAX (1, (width - (m->x0 - x) - fs * 8.5) / MAX (1, fig->n_cols));
  m->ch = MAX (1, (height - (m->y0 - y) - m->col_label_h - fs * (fig->col_title ? 3 : 1.5)) / MAX (1, fig->n_rows));
  m->ch = MIN (m->ch, m->cw * 3);
  m->bar_x = m->x0 + m->cw * fig->n_cols + fs * 1.2;
}

gboolean
cs_figure_matrix_cell_at (double x, double y, double width, double height, const CsFigureStyle *s,
                          const CsMatrixFigure *fig, double px, double py, guint *row, guint *col)
{
  cairo_surface_t *tmp = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (tmp);
  MatrixLayout m;
  matrix_layout (cr, x, y, width, height, s, fig, &m);
  cairo_destroy (cr);
  cairo_surface_destroy (tmp);
  if (px < m.x0 || py < m.y0 || px >= m.x0 + m.cw * fig->n_cols || py >= m.y0 + m.ch * fig->n_rows)
    return FALSE;
  *row = (guint) ((py - m.y0) / m.ch);
  *col = (guint) ((px - m.x0) / m.cw);
  return TRUE;
}

gboolean
cs_figure_matrix_cell_rect (double x, double y, double width, double height, const CsFigureStyle *s,
                            const CsMatrixFigure *fig, guint row, guint col, double *rect)
{
  cairo_surface_t *tmp;
  cairo_t *cr;
  MatrixLayout m;
  if (row >= fig->n_rows || col >= fig->n_cols)
    return FALSE;
  tmp = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cr = cairo_create (tmp);
  matrix_layout (cr, x, y, width, height, s, fig, &m);
  cairo_destroy (cr);
  cairo_surface_destroy (tmp);
  rect[0] = m.x0 + col * m.cw;
  rect[1] = m.y0 + row * m.ch;
  rect[2] = m.cw;
  rect[3] = m.ch;
  return TRUE;
}

/* A colour bar's tick: three significant digits, and the middle of a
 * symmetric range 0 rather than its rounding noise (1.9e-09). */
char *
fig_bar_tick (double v, double lo, double hi)
{
  return g_strdup_printf ("%.3g", fabs (v) <= 1e-9 * fabs (hi - lo) ? 0.0 : v);
}

void
cs_figure_draw_matrix (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                       const CsMatrixFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size * 0.75, lo = INFINITY, hi = -INFINITY;
  MatrixLayout m;

  if (fig->n_rows == 0 || fig->n_cols == 0)
    return;
  matrix_layout (cr, x, y, width, height, s, fig, &m);
  for (guint i = 0; i < fig->n_rows * fig->n_cols; i++)
    if (isfinite (fig->values[i]))
      {
        lo = MIN (lo, fig->values[i]);
        hi = MAX (hi, fig->values[i]);
      }
  if (!isfinite (lo))
    lo = hi = 0;
  if (fig->diverging)
    {
      hi = fig->range > 0 ? fig->range : MAX (fabs (lo), fabs (hi));
      lo = -hi;
    }
  if (fig->title)
    fig_title_text (cr, s, s->font_size, fig->title, m.x0 + m.cw * fig->n_cols / 2, x, x + width, y + s->font_size * 0.3, c.fg);
  g_autofree double *group_max = NULL;
  if (fig->diverging && fig->col_group)
    {
      int ng = 0;
      for (guint j = 0; j < fig->n_cols; j++)
        ng = MAX (ng, fig->col_group[j] + 1);
      group_max = g_new0 (double, MAX (1, ng));
      for (guint i = 0; i < fig->n_rows; i++)
        for (guint j = 0; j < fig->n_cols; j++)
          if (isfinite (fig->values[i * fig->n_cols + j]))
            group_max[fig->col_group[j]] = MAX (group_max[fig->col_group[j]], fabs (fig->values[i * fig->n_cols + j]));
      lo = -1;
      hi = 1;
    }
  for (guint i = 0; i < fig->n_rows; i++)
    for (guint j = 0; j < fig->n_cols; j++)
      {
        double v = fig->values[i * fig->n_cols + j], r, g, b;
        double cv = group_max ? (group_max[fig->col_group[j]] > 0 ? v / group_max[fig->col_group[j]] : 0) : v;
        if (isfinite (v))
          sequential_or_diverging (fig, cv, lo, hi, &r, &g, &b);
        else
          r = g = b = s->theme == CS_THEME_DARK ? 0.3 : 0.85;
        cairo_set_source_rgb (cr, r, g, b);
        cairo_rectangle (cr, m.x0 + j * m.cw, m.y0 + i * m.ch, m.cw + 0.3, m.ch + 0.3);
        cairo_fill (cr);
        if (fig->annotate && isfinite (v) && m.cw > fs * 3.2 && m.ch > fs * 1.3)
          {
            g_autofree char *t = g_strdup_printf (fig->annotate_format ? fig->annotate_format : "%.3g", v);
            double lum;
            /* a value that rounds to zero is 0, not −0 */
            if (t[0] == '-' && strspn (t + 1, "0.") == strlen (t + 1))
              memmove (t, t + 1, strlen (t));
            lum = 0.3 * r + 0.59 * g + 0.11 * b;
            const double dark[3] = { 0.1, 0.1, 0.1 }, light[3] = { 1, 1, 1 };
            fig_text (cr, s, fs * 0.8, FALSE, t, m.x0 + (j + 0.5) * m.cw, m.y0 + (i + 0.5) * m.ch, 0.5, 0.5, 0,
                  lum < 0.5 ? light : dark);
          }
      }
  for (guint i = 0; i < fig->n_rows; i++)
    fig_text (cr, s, fs, FALSE, fig->row_labels[i], m.x0 - fs * 0.4, m.y0 + (i + 0.5) * m.ch, 1, 0.5, 0, c.fg);
  for (guint j = 0; j < fig->n_cols; j++)
    {
      g_autofree char *esc = g_markup_escape_text (fig->col_labels[j], -1);
      fig_text (cr, s, fs, FALSE, esc, m.x0 + (j + 0.5) * m.cw, m.y0 + fig->n_rows * m.ch + fs * 0.4, 1, 0.5,
            -G_PI / 2, c.fg);
    }
  if (fig->row_title)
    fig_text (cr, s, s->font_size * 0.85, FALSE, fig->row_title, x + fs * 0.2, m.y0 + fig->n_rows * m.ch / 2, 0.5, 0,
          -G_PI / 2, c.fg);
  if (fig->col_title)
    fig_text (cr, s, s->font_size * 0.85, FALSE, fig->col_title, m.x0 + m.cw * fig->n_cols / 2,
          m.y0 + fig->n_rows * m.ch + m.col_label_h + fs * 0.9, 0.5, 0, 0, c.fg);
  {
    double bw = fs, bh = MIN (m.ch * fig->n_rows, fs * 16), by = m.y0;
    for (int k = 0; k < 100; k++)
      {
        double r, g, b, v = hi - (hi - lo) * k / 99.0;
        sequential_or_diverging (fig, v, lo, hi, &r, &g, &b);
        cairo_set_source_rgb (cr, r, g, b);
        cairo_rectangle (cr, m.bar_x, by + bh * k / 100, bw, bh / 100 + 0.5);
        cairo_fill (cr);
      }
    for (int k = 0; k < 3; k++)
      {
        double v = hi - (hi - lo) * k / 2;
        g_autofree char *t = fig_bar_tick (v, lo, hi);
        fig_text (cr, s, fs, FALSE, t, m.bar_x + bw + fs * 0.3, by + bh * k / 2, 0, 0.5, 0, c.fg);
      }
    if (fig->value_label)
      fig_text (cr, s, fs * 0.9, FALSE, fig->value_label, m.bar_x + bw + fs * 3.6, by + bh / 2, 0.5, 0, -G_PI / 2, c.fg);
  }
}
