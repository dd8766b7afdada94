#define G_LOG_DOMAIN "cs-figure"

#include "cs-figure.h"
#include "cs-figure-private.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

static const guint32 okabe_ito[] = {
  0x0072B2, 0xE69F00, 0x009E73, 0xD55E00, 0xCC79A7, 0x56B4E9, 0xF0E442, 0x000000,
};

void
cs_figure_palette (guint i, double *r, double *g, double *b)
{
  guint32 c = okabe_ito[i % G_N_ELEMENTS (okabe_ito)];
  *r = ((c >> 16) & 0xff) / 255.0;
  *g = ((c >> 8) & 0xff) / 255.0;
  *b = (c & 0xff) / 255.0;
}

gboolean
cs_figure_style_preset (const char *preset, CsFigureStyle *s)
{
  if (!preset || g_str_equal (preset, "slide"))
    *s = (CsFigureStyle) { 960, 540, 16, s->theme };
  else if (g_str_equal (preset, "square"))
    *s = (CsFigureStyle) { 600, 600, 15, s->theme };
  else if (g_str_equal (preset, "column"))
    *s = (CsFigureStyle) { 252, 200, 7, s->theme };
  else
    return FALSE;
  return TRUE;
}

gboolean
cs_figure_theme_parse (const char *name, CsFigureTheme *theme)
{
  if (!name || g_str_equal (name, "light"))
    *theme = CS_THEME_LIGHT;
  else if (g_str_equal (name, "dark"))
    *theme = CS_THEME_DARK;
  else if (g_str_equal (name, "transparent"))
    *theme = CS_THEME_TRANSPARENT;
  else
    return FALSE;
  return TRUE;
}

gboolean
cs_figure_style_from (const char *preset, const char *theme, double font_size, CsFigureStyle *s, GError **error)
{
  memset (s, 0, sizeof *s);
  if (!cs_figure_theme_parse (theme, &s->theme) || !cs_figure_style_preset (preset, s))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "unknown preset '%s' or theme '%s' (presets: slide, square, column; themes: light, dark, transparent)",
                   preset ? preset : "", theme ? theme : "");
      return FALSE;
    }
  if (font_size > 0)
    s->font_size = font_size;
  return TRUE;
}

Colours
fig_colours (const CsFigureStyle *s)
{
  if (s->theme == CS_THEME_DARK)
    return (Colours) { { 0.12, 0.12, 0.13 }, { 0.92, 0.92, 0.92 }, { 0.3, 0.3, 0.32 }, { 0.55, 0.55, 0.58 } };
  return (Colours) { { 1, 1, 1 }, { 0.13, 0.13, 0.15 }, { 0.88, 0.88, 0.9 }, { 0.55, 0.55, 0.58 } };
}

void
cs_figure_paint_background (cairo_t *cr, double w, double h, const CsFigureStyle *s)
{
  Colours c = fig_colours (s);
  if (s->theme == CS_THEME_TRANSPARENT)
    return;
  cairo_save (cr);
  cairo_set_source_rgb (cr, c.bg[0], c.bg[1], c.bg[2]);
  cairo_rectangle (cr, 0, 0, w, h);
  cairo_fill (cr);
  cairo_restore (cr);
}

/* A layout whose sizes are in the figure's units (points): at 72 dpi a Pango
 * point is one cairo unit, and <sub>/<sup> scale from the set size (they do
 * not from an absolute size). */
PangoLayout *
fig_make_layout (cairo_t *cr, double size, gboolean bold, const char *markup)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *fd = pango_font_description_from_string ("Sans");

  pango_cairo_context_set_resolution (pango_layout_get_context (layout), 72);
  pango_layout_context_changed (layout);
  pango_font_description_set_size (fd, (int) (size * PANGO_SCALE));
  if (bold)
    pango_font_description_set_weight (fd, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description (layout, fd);
  {
    /* <sub> scales from Pango's default size, not ours: spell it out */
    g_autoptr(GString) m = g_string_new (markup);
    g_autofree char *open = g_strdup_printf ("<span size=\"%d\" rise=\"%d\">", (int) (size * 0.72 * PANGO_SCALE),
                                             (int) (-size * 0.22 * PANGO_SCALE));
    g_string_replace (m, "<sub>", open, 0);
    g_string_replace (m, "</sub>", "</span>", 0);
    pango_layout_set_markup (layout, m->str, -1);
  }
  pango_font_description_free (fd);
  return layout;
}

/* Text with Pango markup; ax/ay place the anchor (0 left/top … 1 right/bottom). */
void
fig_text (cairo_t *cr, const CsFigureStyle *s, double size, gboolean bold, const char *markup, double x, double y,
      double ax, double ay, double angle, const double *rgb)
{
  PangoLayout *layout = fig_make_layout (cr, size, bold, markup);
  int w, h;

  pango_layout_get_size (layout, &w, &h);
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_rotate (cr, angle);
  cairo_move_to (cr, -ax * w / PANGO_SCALE, -ay * h / PANGO_SCALE);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  pango_cairo_show_layout (cr, layout);
  cairo_restore (cr);
  g_object_unref (layout);
  (void) s;
}

/* A figure's title, centred on cx but kept inside [x0, x1]: a title wider
 * than the plot it heads moves over the labels beside it rather than off
 * the edge of the figure; wider than the figure, it is set smaller (to 60 %)
 * and then cut with an ellipsis. */
void
fig_title_text (cairo_t *cr, const CsFigureStyle *s, double size, const char *markup, double cx, double x0, double x1,
            double y, const double *rgb)
{
  PangoLayout *layout;
  PangoRectangle logical;
  double tw, left, room;

  x0 += size * 0.4;   /* not against the edge */
  x1 -= size * 0.4;
  room = MAX (x1 - x0, size);
  layout = fig_make_layout (cr, size, TRUE, markup);
  pango_layout_get_extents (layout, NULL, &logical);
  tw = (double) logical.width / PANGO_SCALE;
  if (tw > room)
    {
      double smaller = MAX (size * 0.6, size * room / tw);
      g_object_unref (layout);
      layout = fig_make_layout (cr, smaller, TRUE, markup);
      pango_layout_set_width (layout, (int) (room * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      pango_layout_get_extents (layout, NULL, &logical);
      tw = MIN ((double) (logical.x + logical.width) / PANGO_SCALE, room);
    }
  left = cx - tw / 2;
  if (left + tw > x1)
    left = x1 - tw;
  if (left < x0)
    left = x0;
  cairo_save (cr);
  cairo_move_to (cr, left, y);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  pango_cairo_show_layout (cr, layout);
  cairo_restore (cr);
  g_object_unref (layout);
  (void) s;
}

/* fig_text () for a label that must keep within max_w points: a longer one is
 * cut with an ellipsis rather than drawn over the figure's edge. */
void
fig_text_fit (cairo_t *cr, double size, const char *markup, double x, double y, double ax, double ay, double angle,
          double max_w, const double *rgb)
{
  PangoLayout *layout = fig_make_layout (cr, size, FALSE, markup);
  int w, h;

  pango_layout_set_width (layout, (int) (MAX (max_w, size) * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_get_size (layout, &w, &h);
  {
    /* a short line reports the whole width: anchor on the ink that is there */
    PangoRectangle logical;
    pango_layout_get_extents (layout, NULL, &logical);
    w = logical.x + logical.width;
  }
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_rotate (cr, angle);
  cairo_move_to (cr, -ax * w / PANGO_SCALE, -ay * h / PANGO_SCALE);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  pango_cairo_show_layout (cr, layout);
  cairo_restore (cr);
  g_object_unref (layout);
}

double
fig_text_width (cairo_t *cr, double size, const char *markup)
{
  PangoLayout *layout = fig_make_layout (cr, size, FALSE, markup);
  int w, h;
  pango_layout_get_size (layout, &w, &h);
  g_object_unref (layout);
  return (double) w / PANGO_SCALE;
}

static double
nice_step (double range, int target)
{
  double raw = range / MAX (target, 1), mag = pow (10, floor (log10 (raw))), f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

void
fig_draw_axes (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const char *xl, const char *yl, gboolean xticks)
{
  fig_draw_axes_full (cr, f, s, xl, yl, xticks, TRUE);
}

void
fig_draw_axes_full (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const char *xl, const char *yl, gboolean xticks,
                gboolean yticks)
{
  Colours c = fig_colours (s);
  double fs = s->font_size * 0.75;
  double sx = nice_step (f->xmax - f->xmin, 5), sy = nice_step (f->ymax - f->ymin, 5);

  cairo_save (cr);
  cairo_set_line_width (cr, MAX (0.5, s->font_size / 20));
  cairo_set_source_rgb (cr, c.grid[0], c.grid[1], c.grid[2]);
  if (xticks)
    for (double v = ceil (f->xmin / sx) * sx; v <= f->xmax + 1e-9; v += sx)
      {
        cairo_move_to (cr, fx (f, v), f->y0);
        cairo_line_to (cr, fx (f, v), f->y0 + f->h);
      }
  for (double v = ceil (f->ymin / sy) * sy; yticks && v <= f->ymax + 1e-9; v += sy)
    {
      cairo_move_to (cr, f->x0, fy (f, v));
      cairo_line_to (cr, f->x0 + f->w, fy (f, v));
    }
  cairo_stroke (cr);
  cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
  cairo_rectangle (cr, f->x0, f->y0, f->w, f->h);
  cairo_stroke (cr);
  cairo_restore (cr);
  if (xticks)
    for (double v = ceil (f->xmin / sx) * sx; v <= f->xmax + 1e-9; v += sx)
      {
        g_autofree char *t = g_strdup_printf ("%g", fabs (v) < sx * 1e-6 ? 0.0 : v);
        fig_text (cr, s, fs, FALSE, t, fx (f, v), f->y0 + f->h + fs * 0.3, 0.5, 0, 0, c.fg);
      }
  for (double v = ceil (f->ymin / sy) * sy; yticks && v <= f->ymax + 1e-9; v += sy)
    {
      g_autofree char *t = g_strdup_printf ("%g", fabs (v) < sy * 1e-6 ? 0.0 : v);
      fig_text (cr, s, fs, FALSE, t, f->x0 - fs * 0.4, fy (f, v), 1, 0.5, 0, c.fg);
    }
  if (xl)
    fig_text (cr, s, s->font_size * 0.9, FALSE, xl, f->x0 + f->w / 2, f->y0 + f->h + fs * 1.6, 0.5, 0, 0, c.fg);
  if (yl)
    fig_text (cr, s, s->font_size * 0.9, FALSE, yl, f->x0 - fs * 3.4, f->y0 + f->h / 2, 0.5, 1, -G_PI / 2, c.fg);
}

void
fig_arrow (cairo_t *cr, double x0, double y0, double x1, double y1, double lw)
{
  double a = atan2 (y1 - y0, x1 - x0), hl = lw * 5;
  cairo_set_line_width (cr, lw);
  cairo_move_to (cr, x0, y0);
  cairo_line_to (cr, x1 - cos (a) * hl * 0.7, y1 - sin (a) * hl * 0.7);
  cairo_stroke (cr);
  cairo_move_to (cr, x1, y1);
  cairo_line_to (cr, x1 - hl * cos (a - 0.4), y1 - hl * sin (a - 0.4));
  cairo_line_to (cr, x1 - hl * cos (a + 0.4), y1 - hl * sin (a + 0.4));
  cairo_close_path (cr);
  cairo_fill (cr);
}

gboolean
cs_figure_export (const char *path, const CsFigureStyle *style, double scale, CsFigureDrawFunc draw,
                  gpointer data, GError **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.%08x.tmp", dir, base, g_random_int ());
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t st;
  gboolean png = g_str_has_suffix (lower, ".png");

  if (!png && !g_str_has_suffix (lower, ".svg") && !g_str_has_suffix (lower, ".pdf"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s: the figure's file name must end in .png, .svg or .pdf", path);
      return FALSE;
    }
  if (png)
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) ceil (style->width * scale),
                                          (int) ceil (style->height * scale));
  else if (g_str_has_suffix (lower, ".svg"))
    surface = cairo_svg_surface_create (tmp, style->width, style->height);
  else
    surface = cairo_pdf_surface_create (tmp, style->width, style->height);
  cr = cairo_create (surface);
  if (png)
    cairo_scale (cr, scale, scale);
  cs_figure_paint_background (cr, style->width, style->height, style);
  draw (cr, style->width, style->height, style, data);
  cairo_destroy (cr);
  if (png)
    st = cairo_surface_write_to_png (surface, tmp);
  else
    {
      cairo_surface_finish (surface);
      st = cairo_surface_status (surface);
    }
  cairo_surface_destroy (surface);
  if (st != CAIRO_STATUS_SUCCESS || g_rename (tmp, path) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: could not write the figure (%s)", path,
                   st != CAIRO_STATUS_SUCCESS ? cairo_status_to_string (st) : g_strerror (errno));
      g_unlink (tmp);
      return FALSE;
    }
  return TRUE;
}
