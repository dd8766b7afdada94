#define G_LOG_DOMAIN "cs-figure"

#include "cs-figure.h"
#include "cs-figure-private.h"

#include <math.h>

/* ------------------------------------------------- whole-WordNet heatmaps */

typedef struct
{
  double fs;             /* label size */
  double label_right;    /* row labels end here */
  double px[3], py;      /* panels' top-left corners */
  double side;           /* each panel is side × side */
  double cell;           /* side / count */
} WnLayout;

static void
wn_layout (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
           const CsWordNetHeatmapsFigure *fig, WnLayout *l)
{
  double fs = s->font_size * 0.75, label_w = 0, gap = fs * 1.6;
  double top = y + (fig->title ? s->font_size * 2 : fs * 0.5) + fs * 1.8;
  double bottom = fs * 3.6;
  guint first = MIN (fig->first, fig->n), count = MIN (fig->count, fig->n - first);

  /* labels as wide as the widest name shown, up to a sixth of the figure */
  for (guint i = first; i < first + count && i < first + 400; i++)
    {
      g_autofree char *esc = g_markup_escape_text (fig->names[i], -1);
      label_w = MAX (label_w, fig_text_width (cr, fs, esc));
    }
  label_w = MIN (label_w + fs * 0.8, width * 0.16);
  l->fs = fs;
  l->side = MAX (10, MIN ((width - label_w - fs - 2 * gap) / 3, height - (top - y) - bottom));
  {
    double used = label_w + 3 * l->side + 2 * gap, left = x + MAX (fs * 0.5, (width - used) / 2);
    l->label_right = left + label_w - fs * 0.4;
    for (int k = 0; k < 3; k++)
      l->px[k] = left + label_w + k * (l->side + gap);
  }
  /* the panels' block centred in the height left over */
  l->py = top + MAX (0, (height - (top - y) - bottom - l->side) / 2);
  l->cell = l->side / MAX (count, 1);
}

gboolean
cs_figure_wordnet_heatmaps_cell_at (double x, double y, double width, double height, const CsFigureStyle *s,
                                    const CsWordNetHeatmapsFigure *fig, double px, double py, guint *row,
                                    guint *col, int *panel)
{
  cairo_surface_t *tmp = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (tmp);
  guint first = MIN (fig->first, fig->n), count = MIN (fig->count, fig->n - first);
  WnLayout l;

  wn_layout (cr, x, y, width, height, s, fig, &l);
  cairo_destroy (cr);
  cairo_surface_destroy (tmp);
  if (count == 0 || py < l.py || py >= l.py + l.side)
    return FALSE;
  for (int k = 0; k < 3; k++)
    if (px >= l.px[k] && px < l.px[k] + l.side)
      {
        *row = first + MIN (count - 1, (guint) ((py - l.py) / l.cell));
        *col = first + MIN (count - 1, (guint) ((px - l.px[k]) / l.cell));
        if (panel)
          *panel = k;
        return TRUE;
      }
  return FALSE;
}

/* A panel's cells as an image, one pixel per cell. */
static cairo_surface_t *
wn_panel_image (const CsWordNetHeatmapsFigure *fig, int k, guint first, guint count, const CsFigureStyle *s)
{
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) count, (int) count);
  int stride = cairo_image_surface_get_stride (img);
  unsigned char *data;
  double none = s->theme == CS_THEME_DARK ? 0.3 : 0.85;

  cairo_surface_flush (img);
  data = cairo_image_surface_get_data (img);
  for (guint i = 0; i < count; i++)
    {
      guint32 *row = (guint32 *) (data + (gsize) i * stride);
      for (guint j = 0; j < count; j++)
        {
          gsize at = (gsize) (first + i) * fig->n + first + j;
          double r = none, g = none, b = none;
          if (k == 0)
            {
              gint32 d = fig->distance ? fig->distance[at] : -1;
              cs_figure_sequential (d >= 0 ? 1.0 / (d + 1) : 0, &r, &g, &b);
            }
          else
            {
              const double *m = k == 1 ? fig->cos : fig->diff_cos;
              if (m && isfinite (m[at]))
                fig_diverging (m[at], &r, &g, &b);
            }
          row[j] = ((guint32) lround (r * 255) << 16) | ((guint32) lround (g * 255) << 8) | (guint32) lround (b * 255);
        }
    }
  cairo_surface_mark_dirty (img);
  return img;
}

static int
compare_by_block (gconstpointer a, gconstpointer b, gpointer data)
{
  const double *size = data;
  guint i = *(const guint *) a, j = *(const guint *) b;
  if (size[i] != size[j])
    return size[i] > size[j] ? -1 : 1;
  return i < j ? -1 : i > j;
}

void
cs_figure_draw_wordnet_heatmaps (cairo_t *cr, double x, double y, double width, double height,
                                 const CsFigureStyle *s, const CsWordNetHeatmapsFigure *fig)
{
  Colours c = fig_colours (s);
  guint first = MIN (fig->first, fig->n), count = MIN (fig->count, fig->n - first);
  const char *titles[3] = {
    "WordNet 1/(d + 1)",
    "cos(ℓ̄<sub>w</sub>, ℓ̄<sub>z</sub>)",
    "cos(ℓ̄<sub>w</sub> − ℓ̄<sub>parent(w)</sub>, ℓ̄<sub>z</sub> − ℓ̄<sub>parent(z)</sub>)",
  };
  WnLayout l;

  if (count == 0)
    return;
  wn_layout (cr, x, y, width, height, s, fig, &l);
  if (fig->title)
    fig_title_text (cr, s, s->font_size, fig->title, x + width / 2, x, x + width,
                    l.py - l.fs * 1.8 - s->font_size * 1.7, c.fg);

  for (int k = 0; k < 3; k++)
    {
      cairo_surface_t *img = wn_panel_image (fig, k, first, count, s);
      cairo_pattern_t *pat;
      double scale = l.side / count;

      {
        /* a long title set smaller (to 60 %) before it is cut */
        double tw = fig_text_width (cr, l.fs, titles[k]), ts = tw > l.side ? MAX (l.fs * 0.6, l.fs * l.side / tw) : l.fs;
        fig_text_fit (cr, ts, titles[k], l.px[k] + l.side / 2, l.py - l.fs * 0.4, 0.5, 1, 0, l.side, c.fg);
      }
      cairo_save (cr);
      cairo_rectangle (cr, l.px[k], l.py, l.side, l.side);
      cairo_clip (cr);
      cairo_translate (cr, l.px[k], l.py);
      cairo_scale (cr, scale, scale);
      cairo_set_source_surface (cr, img, 0, 0);
      pat = cairo_get_source (cr);
      /* blocks stay sharp when zoomed in; averaged when a pixel holds several cells */
      cairo_pattern_set_filter (pat, scale >= 1 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
      cairo_paint (cr);
      cairo_restore (cr);
      cairo_surface_destroy (img);

      /* the selected synset's block, on the diagonal */
      if (fig->selected >= 0 && (guint) fig->selected < fig->n && fig->block_end)
        {
          double a = MAX ((double) fig->selected, first), b = MIN ((double) fig->block_end[fig->selected], first + count);
          if (b > a)
            {
              cairo_save (cr);
              cairo_set_line_width (cr, MAX (1.0, l.fs * 0.12));
              cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
              cairo_rectangle (cr, l.px[k] + (a - first) * l.cell, l.py + (a - first) * l.cell, (b - a) * l.cell,
                               (b - a) * l.cell);
              cairo_stroke (cr);
              cairo_restore (cr);
            }
        }

      /* the colour bar below */
      {
        double bw = l.side * 0.7, bh = l.fs * 0.6, bx = l.px[k] + (l.side - bw) / 2, by = l.py + l.side + l.fs * 0.8;
        double lo = k == 0 ? 0 : -1, hi = 1;
        for (int t = 0; t < 100; t++)
          {
            double r, g, b, v = lo + (hi - lo) * (t + 0.5) / 100;
            if (k == 0)
              cs_figure_sequential (v, &r, &g, &b);
            else
              fig_diverging (v, &r, &g, &b);
            cairo_set_source_rgb (cr, r, g, b);
            cairo_rectangle (cr, bx + bw * t / 100, by, bw / 100 + 0.5, bh);
            cairo_fill (cr);
          }
        for (int t = 0; t < 3; t++)
          {
            double v = lo + (hi - lo) * t / 2;
            g_autofree char *txt = fig_bar_tick (v, lo, hi);
            fig_text (cr, s, l.fs * 0.85, FALSE, txt, bx + bw * t / 2, by + bh + l.fs * 0.2, 0.5, 0, 0, c.fg);
          }
      }
    }

  /* row labels: the biggest blocks first, as many as fit without touching */
  {
    g_autofree guint *order = g_new (guint, count);
    g_autofree double *size = g_new0 (double, fig->n);
    g_autoptr(GArray) placed = g_array_new (FALSE, FALSE, sizeof (double));
    double spacing = l.fs * 1.15;
    guint most = (guint) MAX (1, l.side / spacing);

    for (guint i = 0; i < count; i++)
      {
        guint r = first + i;
        order[i] = r;
        size[r] = fig->block_end ? MIN ((double) fig->block_end[r], first + count) - r : 1;
      }
    g_qsort_with_data (order, count, sizeof (guint), compare_by_block, size);
    for (guint q = 0; q < count && placed->len < most; q++)
      {
        guint r = order[q];
        double cy = l.py + (r - first + 0.5) * l.cell;
        gboolean free_here = TRUE;
        for (guint p = 0; p < placed->len && free_here; p++)
          free_here = fabs (g_array_index (placed, double, p) - cy) >= spacing;
        if (!free_here)
          continue;
        g_array_append_val (placed, cy);
        {
          g_autofree char *esc = g_markup_escape_text (fig->names[r], -1);
          g_autofree char *markup = (gint) r == fig->selected ? g_strdup_printf ("<b>%s</b>", esc) : g_strdup (esc);
          double lw = l.label_right - x - l.fs * 0.3;
          fig_text_fit (cr, l.fs, markup, l.label_right, cy, 1, 0.5, 0, lw, c.fg);
          cairo_set_source_rgb (cr, c.grid[0], c.grid[1], c.grid[2]);
          cairo_set_line_width (cr, MAX (0.5, l.fs * 0.05));
          cairo_move_to (cr, l.label_right + l.fs * 0.1, cy);
          cairo_line_to (cr, l.px[0], cy);
          cairo_stroke (cr);
        }
      }
  }
}

/* --------------------------------------------------------- distributions */

void
cs_figure_draw_histograms (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                           const CsHistogramsFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size, ymax = 0;
  guint bins = MAX (fig->bins, 2), legend_rows = fig->n_series;
  g_autofree double *dens = g_new0 (double, (gsize) MAX (fig->n_series, 1) * bins);
  g_autofree double *means = g_new0 (double, MAX (fig->n_series, 1));
  Frame f = { x + fs * 4.2, 0, 0, 0, fig->lo, fig->hi, 0, 1 };
  double bw = (fig->hi - fig->lo) / bins;

  if (fig->n_series == 0 || !(fig->hi > fig->lo))
    return;
  /* densities: each series integrates to 1 over the range */
  for (guint k = 0; k < fig->n_series; k++)
    {
      guint used = 0;
      for (guint i = 0; i < fig->counts[k]; i++)
        {
          double v = fig->values[k][i];
          if (!isfinite (v))
            continue;
          int b = (int) floor ((v - fig->lo) / bw);
          dens[k * bins + CLAMP (b, 0, (int) bins - 1)] += 1;
          means[k] += v;
          used++;
        }
      for (guint b = 0; b < bins; b++)
        {
          dens[k * bins + b] = used ? dens[k * bins + b] / (used * bw) : 0;
          ymax = MAX (ymax, dens[k * bins + b]);
        }
      means[k] = used ? means[k] / used : NAN;
    }
  f.ymax = ymax > 0 ? ymax * 1.08 : 1;
  f.y0 = y + (fig->title ? fs * 2 : fs) + legend_rows * fs * 1.2 + fs * 0.4;
  f.w = width - (f.x0 - x) - fs;
  f.h = height - (f.y0 - y) - fs * 3;
  if (f.w < fs || f.h < fs)
    return;
  if (fig->title)
    fig_title_text (cr, s, fs, fig->title, f.x0 + f.w / 2, x, x + width, y + fs * 0.3, c.fg);
  fig_draw_axes (cr, &f, s, fig->x_label, "density", TRUE);
  for (guint k = 0; k < fig->n_series; k++)
    {
      double r, g, b;
      cs_figure_palette (k == 0 ? 0 : k == 1 ? 7 : k + 1, &r, &g, &b);
      if (s->theme == CS_THEME_DARK && k == 1)
        r = g = b = 0.75;
      cairo_move_to (cr, fx (&f, fig->lo), fy (&f, 0));
      for (guint i = 0; i < bins; i++)
        {
          cairo_line_to (cr, fx (&f, fig->lo + i * bw), fy (&f, dens[k * bins + i]));
          cairo_line_to (cr, fx (&f, fig->lo + (i + 1) * bw), fy (&f, dens[k * bins + i]));
        }
      cairo_line_to (cr, fx (&f, fig->hi), fy (&f, 0));
      cairo_close_path (cr);
      cairo_set_source_rgba (cr, r, g, b, 0.28);
      cairo_fill_preserve (cr);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_set_line_width (cr, fs * 0.08);
      cairo_stroke (cr);
      if (isfinite (means[k]))
        {
          static const double dash[] = { 4, 3 };
          cairo_save (cr);
          cairo_set_dash (cr, dash, 2, 0);
          cairo_move_to (cr, fx (&f, means[k]), f.y0);
          cairo_line_to (cr, fx (&f, means[k]), f.y0 + f.h);
          cairo_stroke (cr);
          cairo_restore (cr);
        }
      /* the legend above the plot: nothing of the data under it */
      {
        double ly = y + (fig->title ? fs * 2 : fs) + k * fs * 1.2 + fs * 0.5;
        g_autofree char *esc = g_strdup (fig->names[k]);
        g_autofree char *label = g_strdup_printf ("%s  (n = %u, mean %.3f)", esc, fig->counts[k], means[k]);
        cairo_set_source_rgba (cr, r, g, b, 0.5);
        cairo_rectangle (cr, f.x0, ly - fs * 0.3, fs * 0.9, fs * 0.6);
        cairo_fill (cr);
        fig_text_fit (cr, fs * 0.75, label, f.x0 + fs * 1.3, ly, 0, 0.5, 0, f.w - fs * 1.5, c.fg);
      }
    }
}
