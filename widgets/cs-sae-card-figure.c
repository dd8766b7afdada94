#define G_LOG_DOMAIN "cs-figure"

#include "cs-sae-card-figure.h"
#include "cs-figure-private.h"

#include <math.h>

void
cs_sae_card_figure_draw (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                         const CsSaeCardFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size, small = fs * 0.7, left_w = width * 0.56, top = y + fs * 2.2;
  double row_h = MAX (small * 1.45, 1), max_peak = 0;
  double ar, ag, ab;
  int shown;

  cs_figure_palette (1, &ar, &ag, &ab);   /* orange: the activation's shading */
  if (fig->title)
    fig_title_text (cr, s, fs, fig->title, x + width / 2, x, x + width, y + fs * 0.3, c.fg);
  for (int i = 0; i < fig->n_contexts; i++)
    max_peak = MAX (max_peak, fig->peak[i]);
  fig_text (cr, s, small, TRUE, "Where it fires most", x + fs * 0.5, top, 0, 0, 0, c.fg);
  shown = (int) MIN (fig->n_contexts, (height - (top - y) - fs * 1.6) / row_h);
  for (int i = 0; i < shown; i++)
    {
      double ty = top + fs * 1.3 + i * row_h, tx = x + fs * 0.5;
      g_autofree char *peak = g_strdup_printf ("%.2f", fig->peak[i]);
      fig_text (cr, s, small * 0.9, FALSE, peak, tx + fs * 2.2, ty + row_h / 2, 1, 0.5, 0, c.fg);
      tx += fs * 2.6;
      for (int w = 0; w < fig->width; w++)
        {
          const char *t = fig->tokens[(gsize) i * fig->width + w];
          g_autofree char *esc = NULL, *markup = NULL;
          double tw, a = max_peak > 0 ? MAX (0, fig->acts[(gsize) i * fig->width + w]) / max_peak : 0;
          if (!t)
            continue;
          esc = g_markup_escape_text (t, -1);
          markup = w == fig->width / 2 ? g_strdup_printf ("<b>%s</b>", esc) : g_strdup (esc);
          tw = fig_text_width (cr, small, markup);
          if (tx + tw > x + left_w - fs * 0.3)
            break;
          if (a > 0)
            {
              cairo_set_source_rgba (cr, ar, ag, ab, 0.15 + 0.75 * a);
              cairo_rectangle (cr, tx, ty + row_h * 0.08, tw, row_h * 0.84);
              cairo_fill (cr);
            }
          fig_text (cr, s, small, FALSE, markup, tx, ty + row_h / 2, 0, 0.5, 0, c.fg);
          tx += tw;
        }
    }

  /* the histogram, on the right */
  {
    Frame f = { x + left_w + fs * 3.2, top + fs * 1.3, 0, 0, fig->hist_lo, fig->hist_hi, 0, 1 };
    double hmax = 0, bw = (fig->hist_hi - fig->hist_lo) / MAX (fig->bins, 1);
    g_autofree char *freq = g_strdup_printf ("fires on %.3g %% of %" G_GINT64_FORMAT " tokens", 100 * fig->frequency,
                                             fig->n_tokens);
    f.w = width - (f.x0 - x) - fs * 0.8;
    f.h = (height - (f.y0 - y)) * 0.42;
    for (int b = 0; b < fig->bins; b++)
      hmax = MAX (hmax, fig->hist[b]);
    f.ymax = hmax > 0 ? hmax * 1.05 : 1;
    fig_text (cr, s, small, TRUE, "Its non-zero activations", f.x0, top, 0, 0, 0, c.fg);
    if (f.w > fs && f.h > fs)
      {
        fig_draw_axes (cr, &f, s, "log<sub>10</sub> activation", "tokens", TRUE);
        cairo_set_source_rgb (cr, ar, ag, ab);
        for (int b = 0; b < fig->bins; b++)
          if (fig->hist[b] > 0)
            {
              double x0 = fx (&f, fig->hist_lo + b * bw), x1 = fx (&f, fig->hist_lo + (b + 1) * bw);
              cairo_rectangle (cr, x0, fy (&f, fig->hist[b]), MAX (1, x1 - x0 - 0.5), fy (&f, 0) - fy (&f, fig->hist[b]));
            }
        cairo_fill (cr);
      }
    {
      double ly = f.y0 + f.h + fs * 2.6;
      fig_text (cr, s, small, FALSE, freq, f.x0, ly, 0, 0, 0, c.fg);
      ly += small * 1.8;
      for (int k = 0; k < 2; k++)
        {
          const char * const *list = k ? fig->lowered : fig->raised;
          g_autoptr(GString) line = g_string_new (NULL);
          for (int i = 0; list && list[i]; i++)
            {
              g_autofree char *esc = g_markup_escape_text (list[i], -1);
              g_string_append_printf (line, "%s“%s”", i ? " " : "", esc);
            }
          fig_text (cr, s, small, TRUE, k ? "It lowers" : "It raises", f.x0, ly, 0, 0, 0, c.fg);
          fig_text_fit (cr, small, line->str, f.x0, ly + small * 1.4, 0, 0, 0, x + width - f.x0 - fs * 0.5, c.fg);
          ly += small * 3.2;
        }
      if (fig->n_concepts > 0)
        {
          /* the concepts it points along most, by |cos| */
          g_autoptr(GString) line = g_string_new (NULL);
          g_autofree int *order = g_new (int, fig->n_concepts);
          for (int i = 0; i < fig->n_concepts; i++)
            order[i] = i;
          for (int i = 0; i < fig->n_concepts; i++)
            for (int j = i + 1; j < fig->n_concepts; j++)
              if (fabs (fig->concept_cos[order[j]]) > fabs (fig->concept_cos[order[i]]))
                {
                  int t = order[i];
                  order[i] = order[j];
                  order[j] = t;
                }
          for (int i = 0; i < MIN (fig->n_concepts, 5); i++)
            {
              g_autofree char *esc = g_markup_escape_text (fig->concepts[order[i]], -1);
              g_string_append_printf (line, "%sℓ̄<sub>%s</sub> %+.2f", i ? ", " : "", esc, fig->concept_cos[order[i]]);
            }
          fig_text (cr, s, small, TRUE, "Along the concept directions (cos)", f.x0, ly, 0, 0, 0, c.fg);
          fig_text_fit (cr, small, line->str, f.x0, ly + small * 1.4, 0, 0, 0, x + width - f.x0 - fs * 0.5, c.fg);
        }
    }
  }
}

void
cs_sae_card_figure_init (CsSaeCardFigure *fig, const CsSaeCard *card, const char *title)
{
  *fig = (CsSaeCardFigure) {
    title, card->n_contexts, card->width, (const char * const *) card->tokens, card->acts, card->peak, card->hist,
    CS_SAE_SCAN_BINS, -3, 3, (double) card->fires / MAX (1, card->n_tokens), card->n_tokens,
    (const char * const *) card->raised_text, (const char * const *) card->lowered_text, card->n_concepts,
    (const char * const *) card->concepts, card->concept_cos,
  };
}
