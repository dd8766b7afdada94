#define G_LOG_DOMAIN "cs-figure"

#include "cs-figure.h"
#include "cs-figure-private.h"

#include <pango/pangocairo.h>
#include <string.h>

/* ------------------------------------------------------------------ texts */

void
cs_figure_draw_texts (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                      const CsTextsFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size * 0.85, label_w = 0, top, row, tx, tw;
  g_autofree char *lead = NULL;

  if (fig->n == 0)
    return;
  if (fig->lead && *fig->lead)
    {
      g_autofree char *esc = g_markup_escape_text (fig->lead, -1);
      lead = g_strdup_printf ("<span foreground=\"#%02x%02x%02x\">%s</span>", (int) (c.cloud[0] * 255),
                              (int) (c.cloud[1] * 255), (int) (c.cloud[2] * 255), esc);
    }
  for (guint i = 0; i < fig->n; i++)
    {
      g_autofree char *esc = g_markup_escape_text (fig->labels[i], -1);
      label_w = MAX (label_w, fig_text_width (cr, fs, esc));
    }
  top = y + (fig->title ? s->font_size * 2.2 : fs * 0.5);
  row = (height - (top - y) - fs * 0.5) / fig->n;
  tx = x + fs + MIN (label_w, width * 0.3) + fs;
  tw = width - (tx - x) - fs;
  if (fig->title)
    fig_title_text (cr, s, s->font_size, fig->title, x + width / 2, x, x + width, y + s->font_size * 0.3, c.fg);
  for (guint i = 0; i < fig->n; i++)
    {
      double cy = top + i * row, rgb[3] = { c.fg[0], c.fg[1], c.fg[2] };
      g_autofree char *esc_label = g_markup_escape_text (fig->labels[i], -1);
      g_autofree char *esc = g_markup_escape_text (fig->texts[i] ? fig->texts[i] : "", -1);
      g_autofree char *markup = g_strconcat (lead ? lead : "", esc, NULL);
      PangoLayout *layout;

      if (i > 0)
        {
          cairo_set_source_rgb (cr, c.grid[0], c.grid[1], c.grid[2]);
          cairo_set_line_width (cr, MAX (0.5, s->font_size / 24));
          cairo_move_to (cr, x + fs, cy);
          cairo_line_to (cr, x + width - fs, cy);
          cairo_stroke (cr);
        }
      if (fig->tone && fig->tone[i] != 0)
        cs_figure_palette (fig->tone[i] > 0 ? 0 : 3, &rgb[0], &rgb[1], &rgb[2]);
      else if (fig->tone)
        memcpy (rgb, c.cloud, sizeof rgb);
      layout = fig_make_layout (cr, fs, FALSE, markup);
      pango_layout_set_width (layout, (int) (tw * PANGO_SCALE));
      pango_layout_set_height (layout, (int) ((row - fs * 0.7) * PANGO_SCALE));
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      {
        /* the text centred in its row, the label beside its first line */
        int lw, lh;
        pango_layout_get_size (layout, &lw, &lh);
        cy += MAX (fs * 0.35, (row - (double) lh / PANGO_SCALE) / 2);
      }
      fig_text (cr, s, fs, TRUE, esc_label, tx - fs, cy, 1, 0, 0, rgb);
      cairo_save (cr);
      cairo_move_to (cr, tx, cy);
      cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
      pango_cairo_show_layout (cr, layout);
      cairo_restore (cr);
      g_object_unref (layout);
    }
}
