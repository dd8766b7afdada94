#define G_LOG_DOMAIN "cs-figure"

#include "cs-figure.h"

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

typedef struct
{
  double bg[3], fg[3], grid[3], cloud[3];
} Colours;

static Colours
colours (const CsFigureStyle *s)
{
  if (s->theme == CS_THEME_DARK)
    return (Colours) { { 0.12, 0.12, 0.13 }, { 0.92, 0.92, 0.92 }, { 0.3, 0.3, 0.32 }, { 0.55, 0.55, 0.58 } };
  return (Colours) { { 1, 1, 1 }, { 0.13, 0.13, 0.15 }, { 0.88, 0.88, 0.9 }, { 0.55, 0.55, 0.58 } };
}

void
cs_figure_paint_background (cairo_t *cr, double w, double h, const CsFigureStyle *s)
{
  Colours c = colours (s);
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
static PangoLayout *
make_layout (cairo_t *cr, double size, gboolean bold, const char *markup)
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
static void
text (cairo_t *cr, const CsFigureStyle *s, double size, gboolean bold, const char *markup, double x, double y,
      double ax, double ay, double angle, const double *rgb)
{
  PangoLayout *layout = make_layout (cr, size, bold, markup);
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
static void
title_text (cairo_t *cr, const CsFigureStyle *s, double size, const char *markup, double cx, double x0, double x1,
            double y, const double *rgb)
{
  PangoLayout *layout;
  PangoRectangle logical;
  double tw, left, room;

  x0 += size * 0.4;   /* not against the edge */
  x1 -= size * 0.4;
  room = MAX (x1 - x0, size);
  layout = make_layout (cr, size, TRUE, markup);
  pango_layout_get_extents (layout, NULL, &logical);
  tw = (double) logical.width / PANGO_SCALE;
  if (tw > room)
    {
      double smaller = MAX (size * 0.6, size * room / tw);
      g_object_unref (layout);
      layout = make_layout (cr, smaller, TRUE, markup);
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

/* text () for a label that must keep within max_w points: a longer one is
 * cut with an ellipsis rather than drawn over the figure's edge. */
static void
text_fit (cairo_t *cr, double size, const char *markup, double x, double y, double ax, double ay, double angle,
          double max_w, const double *rgb)
{
  PangoLayout *layout = make_layout (cr, size, FALSE, markup);
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

static double
text_width (cairo_t *cr, double size, const char *markup)
{
  PangoLayout *layout = make_layout (cr, size, FALSE, markup);
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

typedef struct
{
  double x0, y0, w, h;          /* plot area */
  double xmin, xmax, ymin, ymax;
} Frame;

static double fx (const Frame *f, double v) { return f->x0 + (v - f->xmin) / (f->xmax - f->xmin) * f->w; }
static double fy (const Frame *f, double v) { return f->y0 + f->h - (v - f->ymin) / (f->ymax - f->ymin) * f->h; }

static void draw_axes_full (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const char *xl, const char *yl,
                            gboolean xticks, gboolean yticks);

static void
draw_axes (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const char *xl, const char *yl, gboolean xticks)
{
  draw_axes_full (cr, f, s, xl, yl, xticks, TRUE);
}

static void
draw_axes_full (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const char *xl, const char *yl, gboolean xticks,
                gboolean yticks)
{
  Colours c = colours (s);
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
        text (cr, s, fs, FALSE, t, fx (f, v), f->y0 + f->h + fs * 0.3, 0.5, 0, 0, c.fg);
      }
  for (double v = ceil (f->ymin / sy) * sy; yticks && v <= f->ymax + 1e-9; v += sy)
    {
      g_autofree char *t = g_strdup_printf ("%g", fabs (v) < sy * 1e-6 ? 0.0 : v);
      text (cr, s, fs, FALSE, t, f->x0 - fs * 0.4, fy (f, v), 1, 0.5, 0, c.fg);
    }
  if (xl)
    text (cr, s, s->font_size * 0.9, FALSE, xl, f->x0 + f->w / 2, f->y0 + f->h + fs * 1.6, 0.5, 0, 0, c.fg);
  if (yl)
    text (cr, s, s->font_size * 0.9, FALSE, yl, f->x0 - fs * 3.4, f->y0 + f->h / 2, 0.5, 1, -G_PI / 2, c.fg);
}

static void
arrow (cairo_t *cr, double x0, double y0, double x1, double y1, double lw)
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

static int
compare_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return x < y ? -1 : x > y;
}

/* The grey cloud as a raster: counts per pixel mapped to opacity, so 256k
 * points cost one image whatever the output format. On screen (an image
 * surface) one pixel per device pixel, drawn as an A8 mask of the cloud's
 * colour; for SVG and PDF two pixels per point, as an ARGB image. */
struct _CsFigureCloudCache
{
  cairo_surface_t *layer;           /* ARGB, W × H: cloud, zero lines, dots */
  int              W, H;
  int              mx, my;          /* the margin: pixels beyond the range drawn at each side */
  double           kx, ky;          /* data units → layer pixels */
  double           res;             /* layer pixels per point */
  double           xmin, ymax;      /* the range's corner when the layer was drawn (at pixel mx, my) */
  const float     *x, *y;
  gint64           n;
  guint64          checksum;        /* of the points and of what draw_marks draws */
  guint            rasterised, reused;
};

CsFigureCloudCache *
cs_figure_cloud_cache_new (void)
{
  return g_new0 (CsFigureCloudCache, 1);
}

void
cs_figure_cloud_cache_free (CsFigureCloudCache *cache)
{
  if (!cache)
    return;
  g_clear_pointer (&cache->layer, cairo_surface_destroy);
  g_free (cache);
}

void
cs_figure_cloud_cache_stats (const CsFigureCloudCache *cache, guint *rasterised, guint *reused)
{
  *rasterised = cache->rasterised;
  *reused = cache->reused;
}

static guint64
points_checksum (const float *x, const float *y, gint64 n)
{
  const guint32 *a = (const guint32 *) x, *b = (const guint32 *) y;
  guint64 h0 = 0, h1 = 0;
  for (gint64 i = 0; i < n; i++)
    {
      h0 = h0 * 0x100000001b3ULL + a[i];
      h1 = h1 * 0x100000001b3ULL + b[i];
    }
  return h0 ^ (h1 * 0x9e3779b97f4a7c15ULL);
}

/* Counts of points per pixel (each point marks a 2 × 2 block, a dot of about
 * a pixel's radius), saturating at 63, turned into opacities in place. */
static void
rasterise_cloud (guint8 *px, int stride, int W, int H, const float *x, const float *y, gint64 n, double xmin,
                 double ymax, double kx, double ky, int off_u, int off_v)
{
  static guint8 alpha[64];

  if (!alpha[1])
    for (int k = 0; k < 64; k++)
      alpha[k] = (guint8) ((1 - exp (-0.35 * k)) * 200);
  for (gint64 i = 0; i < n; i++)
    {
      /* the pixel as a raster of the range alone would bin it, then moved
       * by whole pixels: a raster with a margin bins exactly the same */
      double u = (x[i] - xmin) * kx - 0.5, v = (ymax - y[i]) * ky - 0.5;
      if (!(u > -1 - off_u && v > -1 - off_v && u < W - off_u && v < H - off_v))
        continue;
      int u0 = (int) floor (u) + off_u, v0 = (int) floor (v) + off_v;
      if (u0 >= 0 && v0 >= 0 && u0 + 1 < W && v0 + 1 < H)
        {
          guint8 *a = px + (gsize) v0 * stride + u0, *b = a + stride;
          a[0] += a[0] < 63;
          a[1] += a[1] < 63;
          b[0] += b[0] < 63;
          b[1] += b[1] < 63;
          continue;
        }
      for (int yy = MAX (0, v0); yy <= MIN (H - 1, v0 + 1); yy++)
        for (int xx = MAX (0, u0); xx <= MIN (W - 1, u0 + 1); xx++)
          px[(gsize) yy * stride + xx] += px[(gsize) yy * stride + xx] < 63;
    }
  for (int yy = 0; yy < H; yy++)
    {
      guint8 *row = px + (gsize) yy * stride;
      for (int xx = 0; xx < W; xx++)
        row[xx] = alpha[row[xx]];
    }
}

/* The cloud as a premultiplied ARGB image of W × H pixels. */
static cairo_surface_t *
cloud_image (int W, int H, const CsProjectionFigure *fig, double xmin, double ymax, double kx, double ky,
             int off_u, int off_v, const double cloud[3])
{
  g_autofree guint8 *a = g_malloc0 ((gsize) W * H);
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  unsigned char *px = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  guint32 lut[256];

  rasterise_cloud (a, W, W, H, fig->x, fig->y, fig->n_points, xmin, ymax, kx, ky, off_u, off_v);
  for (guint32 A = 0; A < 256; A++)
    lut[A] = (A << 24) | ((guint32) (cloud[0] * A) << 16) | ((guint32) (cloud[1] * A) << 8) | (guint32) (cloud[2] * A);
  cairo_surface_flush (img);
  for (int yy = 0; yy < H; yy++)
    {
      guint32 *p = (guint32 *) (px + (gsize) yy * stride);
      const guint8 *row = a + (gsize) yy * W;
      for (int xx = 0; xx < W; xx++)
        p[xx] = lut[row[xx]];
    }
  cairo_surface_mark_dirty (img);
  return img;
}

/* What moves with the data: the zero lines and the groups' dots (held-out
 * filled, training ringed), over the cloud. f maps data to user space;
 * [x0, x1] × [y0, y1] is the part of user space drawn into (the plot, or a
 * cached layer reaching beyond it). */
static void
draw_marks (cairo_t *cr, const Frame *f, double x0, double y0, double x1, double y1, const CsFigureStyle *s,
            const CsProjectionFigure *fig)
{
  Colours c = colours (s);
  double fs = s->font_size;

  /* zero lines */
  cairo_set_source_rgba (cr, c.fg[0], c.fg[1], c.fg[2], 0.35);
  cairo_set_line_width (cr, MAX (0.4, fs / 30));
  if (fx (f, 0) > x0 && fx (f, 0) < x1)
    {
      cairo_move_to (cr, fx (f, 0), y0);
      cairo_line_to (cr, fx (f, 0), y1);
    }
  if (fy (f, 0) > y0 && fy (f, 0) < y1)
    {
      cairo_move_to (cr, x0, fy (f, 0));
      cairo_line_to (cr, x1, fy (f, 0));
    }
  cairo_stroke (cr);
  for (guint gi = 0; gi < fig->n_groups; gi++)
    {
      double r, g, b;
      if (fig->groups[gi].hidden)
        continue;
      cs_figure_palette (fig->groups[gi].colour, &r, &g, &b);
      cairo_set_source_rgba (cr, r, g, b, 0.85);
      cairo_set_line_width (cr, MAX (0.8, fs * 0.09));
      for (guint k = 0; k < fig->groups[gi].n; k++)
        {
          gint32 id = fig->groups[gi].ids[k];
          gboolean train = fig->groups[gi].train && fig->groups[gi].train[k];
          double px = fx (f, fig->x[id]), py = fy (f, fig->y[id]), rad = fs * (train ? 0.13 : 0.17);
          if ((train && fig->held_out_only) || px < x0 - rad || px > x1 + rad || py < y0 - rad || py > y1 + rad)
            continue;   /* (outside when zoomed in) */
          cairo_new_sub_path (cr);
          cairo_arc (cr, px, py, rad, 0, 2 * G_PI);
          if (train)
            cairo_stroke (cr);
          else
            cairo_fill (cr);
        }
    }
}

/* A hash of what draw_marks draws, so that a cached layer is redrawn when
 * a group, a colour or the font size changes. */
static guint64
marks_checksum (const CsFigureStyle *s, const CsProjectionFigure *fig)
{
  Colours c = colours (s);
  guint64 h = 0xcbf29ce484222325ULL;
#define MIX(v) (h = (h ^ (guint64) (v)) * 0x100000001b3ULL)
  MIX (fig->n_groups);
  MIX (fig->held_out_only);
  MIX ((gint64) (s->font_size * 1e6));
  for (int k = 0; k < 3; k++)
    {
      MIX ((gint64) (c.fg[k] * 1e6));
      MIX ((gint64) (c.cloud[k] * 1e6));
    }
  for (guint gi = 0; gi < fig->n_groups; gi++)
    {
      const CsFigureGroup *g = &fig->groups[gi];
      MIX (g->n);
      MIX (g->colour);
      MIX (g->hidden);
      MIX (g->train != NULL);
      for (guint k = 0; k < g->n; k++)
        {
          MIX (g->ids[k]);
          if (g->train)
            MIX (g->train[k]);
        }
    }
#undef MIX
  return h;
}

/* The cloud, the zero lines and the groups' dots: everything that moves
 * with the data range. On SVG and PDF the cloud is an image and the rest
 * vectors. On an image surface the three are drawn into one raster laid on
 * whole device pixels; an interactive view's cache keeps it, drawn over a
 * margin around the range, and moves it while the range only shifts
 * (panning; hovering changes none of it), drawing it again when the scale
 * or the content changes. */
static void
draw_data_layer (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const CsProjectionFigure *fig)
{
  Colours c = colours (s);
  double sx = 1, sy = 1;
  cairo_user_to_device_distance (cr, &sx, &sy);
  gboolean raster_target = cairo_surface_get_type (cairo_get_target (cr)) == CAIRO_SURFACE_TYPE_IMAGE;
  double res = raster_target ? MAX (1.0, fabs (sx)) : MAX (2.0, fabs (sx));   /* pixels per point */
  int W = MAX (1, (int) ceil (f->w * res)), H = MAX (1, (int) ceil (f->h * res));
  double kx = W / (f->xmax - f->xmin), ky = H / (f->ymax - f->ymin);

  if (!raster_target)
    {
      if (fig->n_points > 0)
        {
          cairo_surface_t *img = cloud_image (W, H, fig, f->xmin, f->ymax, kx, ky, 0, 0, c.cloud);
          cairo_save (cr);
          cairo_translate (cr, f->x0, f->y0);
          cairo_scale (cr, 1 / res, 1 / res);
          cairo_set_source_surface (cr, img, 0, 0);
          cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_FAST);
          cairo_paint (cr);
          cairo_restore (cr);
          cairo_surface_destroy (img);
        }
      draw_marks (cr, f, f->x0, f->y0, f->x0 + f->w, f->y0 + f->h, s, fig);
      return;
    }

  CsFigureCloudCache local = { 0 }, *cache = fig->cloud_cache ? fig->cloud_cache : &local;
  guint64 sum = fig->cloud_cache ? points_checksum (fig->x, fig->y, fig->n_points) ^ (marks_checksum (s, fig) * 31)
                                 : 0;
  double dx = f->x0, dy = f->y0, at_x, at_y;
  gboolean reuse = FALSE;

  /* the plot's corner in device pixels, and the whole pixel it lies in */
  cairo_user_to_device (cr, &dx, &dy);
  double ix = floor (dx + 1e-9), iy = floor (dy + 1e-9);

  if (cache->layer && cache->x == fig->x && cache->y == fig->y && cache->n == fig->n_points &&
      cache->checksum == sum && fabs (cache->kx - kx) <= 1e-9 * kx && fabs (cache->ky - ky) <= 1e-9 * ky &&
      cache->res == res)
    {
      /* where the layer goes now: its data moved by the range's shift, in
       * whole pixels, so that it bins the points as a fresh one would */
      at_x = round (ix - cache->mx + (cache->xmin - f->xmin) * kx);
      at_y = round (iy - cache->my + (f->ymax - cache->ymax) * ky);
      reuse = at_x <= ix && at_y <= iy && at_x + cache->W >= ix + W + 1 && at_y + cache->H >= iy + H + 1;
    }
  if (reuse)
    cache->reused++;
  else
    {
      /* an interactive view's layer reaches a quarter of the view beyond each side */
      int mx = fig->cloud_cache ? W / 4 : 0, my = fig->cloud_cache ? H / 4 : 0;
      double lx0 = (dx - ix + mx) / res, ly0 = (dy - iy + my) / res;   /* the plot's corner in the layer, in points */
      /* the dots on the cloud's scale (W pixels for the range, W = ⌈w⌉): a
       * shift by whole pixels moves both exactly */
      Frame lf = { lx0, ly0, W / res, H / res, f->xmin, f->xmax, f->ymin, f->ymax };
      cairo_t *lc;

      g_clear_pointer (&cache->layer, cairo_surface_destroy);
      /* one pixel more: the plot's edge lies within the pixel after W */
      cache->W = W + 1 + 2 * mx;
      cache->H = H + 1 + 2 * my;
      cache->mx = mx;
      cache->my = my;
      cache->kx = kx;
      cache->ky = ky;
      cache->res = res;
      cache->xmin = f->xmin;
      cache->ymax = f->ymax;
      cache->x = fig->x;
      cache->y = fig->y;
      cache->n = fig->n_points;
      cache->checksum = sum;
      cache->layer = fig->n_points > 0 ? cloud_image (cache->W, cache->H, fig, f->xmin, f->ymax, kx, ky, mx, my, c.cloud)
                                       : cairo_image_surface_create (CAIRO_FORMAT_ARGB32, cache->W, cache->H);
      lc = cairo_create (cache->layer);
      cairo_scale (lc, res, res);
      draw_marks (lc, &lf, 0, 0, cache->W / res, cache->H / res, s, fig);
      cairo_destroy (lc);
      cache->rasterised++;
      at_x = ix - mx;
      at_y = iy - my;
    }
  cairo_save (cr);
  cairo_identity_matrix (cr);
  cairo_set_source_surface (cr, cache->layer, at_x, at_y);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_FAST);
  cairo_paint (cr);
  cairo_restore (cr);
  if (cache == &local)
    cairo_surface_destroy (local.layer);
}

void
cs_figure_projection_frame (double x, double y, double width, double height, const CsFigureStyle *s,
                            const CsProjectionFigure *fig, CsFigureFrame *out)
{
  double fs = s->font_size;
  Frame f = { x + fs * 4.2, y + (fig->title ? fs * 2.0 : fs * 0.8), 0, 0, 0, 0, 0, 0 };
  double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };

  f.w = width - (f.x0 - x) - fs * 0.8;
  f.h = height - (f.y0 - y) - fs * 3.7;   /* tick labels, then the axis label with its subscripts */
  if (fig->fixed_range)
    {
      *out = (CsFigureFrame) { f.x0, f.y0, f.w, f.h, fig->range[0], fig->range[1], fig->range[2], fig->range[3] };
      return;
    }
  /* Range: the categories and arrows in full, the cloud's central 98 %. */
  for (guint gi = 0; gi < fig->n_groups; gi++)
    for (guint k = 0; k < fig->groups[gi].n && !fig->groups[gi].hidden; k++)
      {
        gint32 id = fig->groups[gi].ids[k];
        lo[0] = MIN (lo[0], fig->x[id]); hi[0] = MAX (hi[0], fig->x[id]);
        lo[1] = MIN (lo[1], fig->y[id]); hi[1] = MAX (hi[1], fig->y[id]);
      }
  for (guint a = 0; a < fig->n_arrows; a++)
    {
      const CsFigureArrow *ar = &fig->arrows[a];
      lo[0] = MIN (lo[0], MIN (ar->x0, ar->x1)); hi[0] = MAX (hi[0], MAX (ar->x0, ar->x1));
      lo[1] = MIN (lo[1], MIN (ar->y0, ar->y1)); hi[1] = MAX (hi[1], MAX (ar->y0, ar->y1));
    }
  if (fig->n_points > 0)
    {
      gint64 step = MAX (1, fig->n_points / 20000), m = 0;
      g_autofree float *sxv = g_new (float, fig->n_points / step + 1);
      g_autofree float *syv = g_new (float, fig->n_points / step + 1);
      for (gint64 i = 0; i < fig->n_points; i += step, m++)
        {
          sxv[m] = fig->x[i];
          syv[m] = fig->y[i];
        }
      qsort (sxv, m, sizeof (float), compare_float);
      qsort (syv, m, sizeof (float), compare_float);
      lo[0] = MIN (lo[0], sxv[m / 100]); hi[0] = MAX (hi[0], sxv[m - 1 - m / 100]);
      lo[1] = MIN (lo[1], syv[m / 100]); hi[1] = MAX (hi[1], syv[m - 1 - m / 100]);
    }
  if (!isfinite (lo[0]) || !isfinite (lo[1]))
    lo[0] = lo[1] = -1, hi[0] = hi[1] = 1;
  for (int k = 0; k < 2; k++)
    {
      double pad = (hi[k] - lo[k]) * 0.06 + 1e-9;
      lo[k] -= pad;
      hi[k] += pad;
    }
  *out = (CsFigureFrame) { f.x0, f.y0, f.w, f.h, lo[0], hi[0], lo[1], hi[1] };
}

typedef struct
{
  double x, y, w, row, fs;
} Legend;

static gboolean
has_train_marks (const CsProjectionFigure *fig)
{
  for (guint gi = 0; gi < fig->n_groups; gi++)
    if (fig->groups[gi].train && !fig->groups[gi].hidden)
      return TRUE;
  return FALSE;
}

/* The legend's last row when training tokens are marked: the two markers,
 * or what is left out. */
#define KEY_TRAIN "training"
#define KEY_HELD_OUT "held-out"
#define KEY_ONLY "held-out tokens only"

static double
key_width (cairo_t *cr, double fs, const CsProjectionFigure *fig)
{
  if (fig->held_out_only)
    return text_width (cr, fs, KEY_ONLY) - fs * 1.1;
  return text_width (cr, fs, KEY_TRAIN) + fs * 1.7 + text_width (cr, fs, KEY_HELD_OUT);
}

static void
legend_layout (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const CsProjectionFigure *fig, Legend *lg)
{
  lg->fs = s->font_size * 0.7;
  lg->row = lg->fs * 1.35;
  lg->w = 0;
  for (guint gi = 0; gi < fig->n_groups; gi++)
    lg->w = MAX (lg->w, text_width (cr, lg->fs, fig->groups[gi].name));
  if (has_train_marks (fig))
    lg->w = MAX (lg->w, key_width (cr, lg->fs, fig));
  lg->x = f->x0 + f->w - lg->w - lg->fs * 2.4;
  lg->y = f->y0 + lg->fs * 0.5;
}

static gboolean
legend_for (double x, double y, double width, double height, const CsFigureStyle *s, const CsProjectionFigure *fig,
            Legend *lg)
{
  CsFigureFrame fr;
  cairo_surface_t *tmp = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (tmp);
  cs_figure_projection_frame (x, y, width, height, s, fig, &fr);
  Frame f = { fr.x0, fr.y0, fr.w, fr.h, fr.xmin, fr.xmax, fr.ymin, fr.ymax };
  legend_layout (cr, &f, s, fig, lg);
  cairo_destroy (cr);
  cairo_surface_destroy (tmp);
  return fig->n_groups > 0;
}

int
cs_figure_projection_legend_at (double x, double y, double width, double height, const CsFigureStyle *s,
                                const CsProjectionFigure *fig, double px, double py)
{
  Legend lg;
  if (!legend_for (x, y, width, height, s, fig, &lg))
    return -1;
  if (px < lg.x - lg.fs * 0.4 || px > lg.x + lg.w + lg.fs * 2.0 || py < lg.y)
    return -1;
  int i = (int) floor ((py - lg.y) / lg.row);
  return i >= 0 && (guint) i < fig->n_groups ? i : -1;
}

gboolean
cs_figure_projection_legend_entry (double x, double y, double width, double height, const CsFigureStyle *s,
                                   const CsProjectionFigure *fig, guint group, double *cx, double *cy)
{
  Legend lg;
  if (!legend_for (x, y, width, height, s, fig, &lg) || group >= fig->n_groups)
    return FALSE;
  *cx = lg.x + lg.fs * 0.4;
  *cy = lg.y + lg.row * group + lg.row * 0.45;
  return TRUE;
}

void
cs_figure_draw_projection (cairo_t *cr, double x, double y, double width, double height,
                           const CsFigureStyle *s, const CsProjectionFigure *fig)
{
  Colours c = colours (s);
  double fs = s->font_size;
  CsFigureFrame fr;
  Frame f;

  cs_figure_projection_frame (x, y, width, height, s, fig, &fr);
  f = (Frame) { fr.x0, fr.y0, fr.w, fr.h, fr.xmin, fr.xmax, fr.ymin, fr.ymax };
  if (f.w < 10 || f.h < 10)
    return;

  if (fig->title)
    title_text (cr, s, fs, fig->title, f.x0 + f.w / 2, x, x + width, y + fs * 0.3, c.fg);
  draw_axes (cr, &f, s, fig->x_label, fig->y_label, TRUE);

  cairo_save (cr);
  cairo_rectangle (cr, f.x0, f.y0, f.w, f.h);
  cairo_clip (cr);
  draw_data_layer (cr, &f, s, fig);
  for (guint a = 0; a < fig->n_arrows; a++)
    {
      const CsFigureArrow *ar = &fig->arrows[a];
      double r, g, b;
      cs_figure_palette (ar->colour, &r, &g, &b);
      cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
      arrow (cr, fx (&f, ar->x0), fy (&f, ar->y0), fx (&f, ar->x1), fy (&f, ar->y1), fs * 0.16);
      cairo_set_source_rgb (cr, r, g, b);
      arrow (cr, fx (&f, ar->x0), fy (&f, ar->y0), fx (&f, ar->x1), fy (&f, ar->y1), fs * 0.1);
      if (ar->label)
        {
          double rgb[3] = { r, g, b };
          text (cr, s, fs * 0.8, TRUE, ar->label, fx (&f, ar->x1) + fs * 0.3, fy (&f, ar->y1) - fs * 0.2, 0, 1, 0,
                rgb);
        }
    }
  if (fig->n_marked > 0)
    {
      cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
      cairo_set_line_width (cr, MAX (0.6, fs * 0.07));
      for (guint m = 0; m < fig->n_marked; m++)
        {
          gint32 id = fig->marked[m];
          if (id < 0 || id >= fig->n_points)
            continue;
          cairo_new_sub_path (cr);
          cairo_arc (cr, fx (&f, fig->x[id]), fy (&f, fig->y[id]), fs * 0.3, 0, 2 * G_PI);
        }
      cairo_stroke (cr);
    }
  if (fig->highlight > 0 && fig->highlight <= fig->n_points)
    {
      gint64 h = fig->highlight - 1;
      cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
      cairo_set_line_width (cr, fs * 0.1);
      cairo_arc (cr, fx (&f, fig->x[h]), fy (&f, fig->y[h]), fs * 0.45, 0, 2 * G_PI);
      cairo_stroke (cr);
    }
  for (guint l = 0; l < fig->n_labels; l++)
    {
      gint32 id = fig->label_ids[l];
      text (cr, s, fs * 0.65, FALSE, fig->label_texts[l], fx (&f, fig->x[id]) + fs * 0.25, fy (&f, fig->y[id]),
            0, 0.5, 0, c.fg);
    }
  cairo_restore (cr);

  /* legend */
  if (fig->n_groups > 0)
    {
      Legend lg;
      gboolean key = has_train_marks (fig);
      legend_layout (cr, &f, s, fig, &lg);
      cairo_set_source_rgba (cr, c.bg[0], c.bg[1], c.bg[2], s->theme == CS_THEME_TRANSPARENT ? 0 : 0.8);
      cairo_rectangle (cr, lg.x - lg.fs * 0.4, lg.y - lg.fs * 0.3, lg.w + lg.fs * 2.4,
                       lg.row * (fig->n_groups + (key ? 1 : 0)) + lg.fs * 0.3);
      cairo_fill (cr);
      if (key)
        {
          double cy = lg.y + lg.row * fig->n_groups + lg.row * 0.45, kx = lg.x;
          cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
          if (fig->held_out_only)
            text (cr, s, lg.fs, FALSE, KEY_ONLY, kx, cy, 0, 0.5, 0, c.fg);
          else
            {
              cairo_set_line_width (cr, lg.fs * 0.1);
              cairo_new_sub_path (cr);
              cairo_arc (cr, kx + lg.fs * 0.4, cy, lg.fs * 0.26, 0, 2 * G_PI);
              cairo_stroke (cr);
              text (cr, s, lg.fs, FALSE, KEY_TRAIN, kx + lg.fs * 1.1, cy, 0, 0.5, 0, c.fg);
              kx += lg.fs * 1.7 + text_width (cr, lg.fs, KEY_TRAIN);
              cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
              cairo_new_sub_path (cr);
              cairo_arc (cr, kx + lg.fs * 0.4, cy, lg.fs * 0.32, 0, 2 * G_PI);
              cairo_fill (cr);
              text (cr, s, lg.fs, FALSE, KEY_HELD_OUT, kx + lg.fs * 1.1, cy, 0, 0.5, 0, c.fg);
            }
        }
      for (guint gi = 0; gi < fig->n_groups; gi++)
        {
          double r, g, b, cy = lg.y + lg.row * gi + lg.row * 0.45;
          const double grey[3] = { c.cloud[0], c.cloud[1], c.cloud[2] };
          cs_figure_palette (fig->groups[gi].colour, &r, &g, &b);
          cairo_set_source_rgb (cr, r, g, b);
          cairo_arc (cr, lg.x + lg.fs * 0.4, cy, lg.fs * 0.32, 0, 2 * G_PI);
          if (fig->groups[gi].hidden)
            {
              cairo_set_source_rgb (cr, grey[0], grey[1], grey[2]);
              cairo_set_line_width (cr, lg.fs * 0.1);
              cairo_stroke (cr);
            }
          else
            cairo_fill (cr);
          text (cr, s, lg.fs, FALSE, fig->groups[gi].name, lg.x + lg.fs * 1.1, cy, 0, 0.5, 0,
                fig->groups[gi].hidden ? grey : c.fg);
        }
    }
}

/* Diverging blue–white–red for −1 … 1. */
static void
diverging (double v, double *r, double *g, double *b)
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
    label_w = MAX (label_w, text_width (cr, fs, fig->names[i]));
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
  Colours c = colours (s);
  double fs = s->font_size * 0.75;
  guint n = fig->n;
  double x0, y0, cell;

  if (n == 0)
    return;
  heatmap_layout (cr, x, y, width, height, s, fig, &x0, &y0, &cell);

  if (fig->title)
    title_text (cr, s, s->font_size, fig->title, x0 + cell * n / 2, x, x + width, y + s->font_size * 0.3, c.fg);
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      {
        double v = fig->matrix[i * n + j], r, g, b;
        if (isfinite (v))
          diverging (v, &r, &g, &b);
        else
          r = g = b = 0.6;
        cairo_set_source_rgb (cr, r, g, b);
        cairo_rectangle (cr, x0 + j * cell, y0 + i * cell, cell + 0.3, cell + 0.3);
        cairo_fill (cr);
        if (n <= 14 && isfinite (v) && cell > fs * 2.2)
          {
            g_autofree char *t = g_strdup_printf ("%.2f", v);
            const double dark[3] = { 0.1, 0.1, 0.1 }, light[3] = { 1, 1, 1 };
            text (cr, s, fs * 0.85, FALSE, t, x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell, 0.5, 0.5, 0,
                  fabs (v) > 0.6 ? light : dark);
          }
      }
  for (guint i = 0; i < n; i++)
    {
      text (cr, s, fs, FALSE, fig->names[i], x0 - fs * 0.4, y0 + (i + 0.5) * cell, 1, 0.5, 0, c.fg);
      text (cr, s, fs, FALSE, fig->names[i], x0 + (i + 0.5) * cell, y0 + n * cell + fs * 0.4, 1, 0.5, -G_PI / 2,
            c.fg);
    }
  /* colour bar */
  double bx = x0 + n * cell + fs * 1.5, bw = fs, bh = n * cell;
  for (int k = 0; k < 100; k++)
    {
      double r, g, b;
      diverging (1 - 2.0 * k / 99, &r, &g, &b);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_rectangle (cr, bx, y0 + bh * k / 100, bw, bh / 100 + 0.5);
      cairo_fill (cr);
    }
  const char *ticks[] = { "1", "0", "−1" };
  for (int k = 0; k < 3; k++)
    text (cr, s, fs, FALSE, ticks[k], bx + bw + fs * 0.3, y0 + bh * k / 2, 0, 0.5, 0, c.fg);
}

void
cs_figure_draw_validation (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                           const CsValidationFigure *fig)
{
  Colours c = colours (s);
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
    title_text (cr, s, fs, fig->title, f.x0 + f.w / 2, x, x + width, y + fs * 0.3, c.fg);
  draw_axes (cr, &f, s, NULL, "projection g(y)·ℓ̄ / ‖ℓ̄‖²", FALSE);
  for (guint i = 0; i < fig->n; i++)
    {
      text (cr, s, fs * 0.75, FALSE, fig->names[i], fx (&f, i), f.y0 + f.h + fs * 0.3, 0.5, 0, 0, c.fg);
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
      text (cr, s, fs * 0.7, FALSE, series[k], lx + fs * 0.4, f.y0 + f.h + fs * 1.9, 0, 0.5, 0, c.fg);
    }
}

void
cs_figure_draw_orthogonality (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                              const CsOrthogonalityFigure *fig)
{
  Colours c = colours (s);
  double fs = s->font_size;
  Frame f = { x + fs * 4.2, y + (fig->title ? fs * 2 : fs), 0, 0, -0.5, fig->n - 0.5, -1.05, 1.05 };

  if (fig->n == 0)
    return;
  f.w = width - (f.x0 - x) - fs;
  f.h = height - (f.y0 - y) - fs * 3.5;
  if (fig->title)
    title_text (cr, s, fs, fig->title, f.x0 + f.w / 2, x, x + width, y + fs * 0.3, c.fg);
  draw_axes (cr, &f, s, NULL, "cosine", FALSE);
  for (guint i = 0; i < fig->n; i++)
    {
      double vals[2] = { fig->cos_plain[i], fig->cos_diff[i] };
      text (cr, s, fs * 0.75, FALSE, fig->names[i], fx (&f, i), f.y0 + f.h + fs * 0.3, 0.5, 0, 0, c.fg);
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
      text (cr, s, fs * 0.7, FALSE, labels[k], lx + fs * 0.45, f.y0 + f.h + fs * 1.9, 0, 0.5, 0, c.fg);
    }
}

/* ------------------------------------------------------------ lines, matrix, bars */

void
cs_figure_draw_lines (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                      const CsLinesFigure *fig)
{
  Colours c = colours (s);
  double fs = s->font_size, legend_w = 0;
  Frame f;

  if (fig->n_x == 0 || fig->n_series == 0)
    return;
  for (guint k = 0; k < fig->n_series; k++)
    legend_w = MAX (legend_w, text_width (cr, fs * 0.75, fig->series_names[k]));
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
    title_text (cr, s, fs, fig->title, f.x0 + f.w / 2, x, x + width, y + fs * 0.3, c.fg);
  draw_axes (cr, &f, s, fig->x_label, fig->y_label, TRUE);
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
      text (cr, s, fs * 0.75, FALSE, fig->series_names[k], lx + fs * 1.4, ly, 0, 0.5, 0, c.fg);
    }
}

static void
sequential_or_diverging (const CsMatrixFigure *fig, double v, double lo, double hi, double *r, double *g, double *b)
{
  if (fig->diverging)
    diverging (hi > 0 ? v / hi : 0, r, g, b);
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
    m->label_w = MAX (m->label_w, text_width (cr, fs, fig->row_labels[i]));
  for (guint j = 0; j < fig->n_cols; j++)
    {
      g_autofree char *esc = g_markup_escape_text (fig->col_labels[j], -1);
      m->col_label_h = MAX (m->col_label_h, text_width (cr, fs, esc));
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


/* A colour bar's tick: three significant digits, and the middle of a
 * symmetric range 0 rather than its rounding noise (1.9e-09). */
static char *
bar_tick (double v, double lo, double hi)
{
  return g_strdup_printf ("%.3g", fabs (v) <= 1e-9 * fabs (hi - lo) ? 0.0 : v);
}

void
cs_figure_draw_matrix (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                       const CsMatrixFigure *fig)
{
  Colours c = colours (s);
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
      hi = MAX (fabs (lo), fabs (hi));
      lo = -hi;
    }
  if (fig->title)
    title_text (cr, s, s->font_size, fig->title, m.x0 + m.cw * fig->n_cols / 2, x, x + width, y + s->font_size * 0.3, c.fg);
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
            g_autofree char *t = g_strdup_printf ("%.3g", v);
            double lum = 0.3 * r + 0.59 * g + 0.11 * b;
            const double dark[3] = { 0.1, 0.1, 0.1 }, light[3] = { 1, 1, 1 };
            text (cr, s, fs * 0.8, FALSE, t, m.x0 + (j + 0.5) * m.cw, m.y0 + (i + 0.5) * m.ch, 0.5, 0.5, 0,
                  lum < 0.5 ? light : dark);
          }
      }
  for (guint i = 0; i < fig->n_rows; i++)
    text (cr, s, fs, FALSE, fig->row_labels[i], m.x0 - fs * 0.4, m.y0 + (i + 0.5) * m.ch, 1, 0.5, 0, c.fg);
  for (guint j = 0; j < fig->n_cols; j++)
    {
      g_autofree char *esc = g_markup_escape_text (fig->col_labels[j], -1);
      text (cr, s, fs, FALSE, esc, m.x0 + (j + 0.5) * m.cw, m.y0 + fig->n_rows * m.ch + fs * 0.4, 1, 0.5,
            -G_PI / 2, c.fg);
    }
  if (fig->row_title)
    text (cr, s, s->font_size * 0.85, FALSE, fig->row_title, x + fs * 0.2, m.y0 + fig->n_rows * m.ch / 2, 0.5, 0,
          -G_PI / 2, c.fg);
  if (fig->col_title)
    text (cr, s, s->font_size * 0.85, FALSE, fig->col_title, m.x0 + m.cw * fig->n_cols / 2,
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
        g_autofree char *t = bar_tick (v, lo, hi);
        text (cr, s, fs, FALSE, t, m.bar_x + bw + fs * 0.3, by + bh * k / 2, 0, 0.5, 0, c.fg);
      }
    if (fig->value_label)
      text (cr, s, fs * 0.9, FALSE, fig->value_label, m.bar_x + bw + fs * 3.6, by + bh / 2, 0.5, 0, -G_PI / 2, c.fg);
  }
}

void
cs_figure_draw_bars (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                     const CsBarsFigure *fig)
{
  Colours c = colours (s);
  double fs = s->font_size * 0.75, label_w = 0, lo = 0, hi = 0, row;
  Frame f;

  if (fig->n == 0)
    return;
  for (guint i = 0; i < fig->n; i++)
    {
      g_autofree char *esc = g_markup_escape_text (fig->labels[i], -1);
      label_w = MAX (label_w, text_width (cr, fs, esc));
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
    title_text (cr, s, s->font_size, fig->title, f.x0 + f.w / 2, x, x + width, y + s->font_size * 0.3, c.fg);
  draw_axes_full (cr, &f, s, fig->value_label, NULL, TRUE, FALSE);
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
      text_fit (cr, fs, esc, f.x0 - fs * 0.4, cy, 1, 0.5, 0, f.x0 - fs * 0.8 - x, c.fg);
    }
  cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
  cairo_set_line_width (cr, MAX (0.5, s->font_size / 20));
  cairo_move_to (cr, fx (&f, 0), f.y0);
  cairo_line_to (cr, fx (&f, 0), f.y0 + f.h);
  cairo_stroke (cr);
}

/* ------------------------------------------------------------------ texts */

void
cs_figure_draw_texts (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                      const CsTextsFigure *fig)
{
  Colours c = colours (s);
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
      label_w = MAX (label_w, text_width (cr, fs, esc));
    }
  top = y + (fig->title ? s->font_size * 2.2 : fs * 0.5);
  row = (height - (top - y) - fs * 0.5) / fig->n;
  tx = x + fs + MIN (label_w, width * 0.3) + fs;
  tw = width - (tx - x) - fs;
  if (fig->title)
    title_text (cr, s, s->font_size, fig->title, x + width / 2, x, x + width, y + s->font_size * 0.3, c.fg);
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
      layout = make_layout (cr, fs, FALSE, markup);
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
      text (cr, s, fs, TRUE, esc_label, tx - fs, cy, 1, 0, 0, rgb);
      cairo_save (cr);
      cairo_move_to (cr, tx, cy);
      cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
      pango_cairo_show_layout (cr, layout);
      cairo_restore (cr);
      g_object_unref (layout);
    }
}

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
        side_w = MAX (side_w, text_width (cr, fs, fig->group_names[k]));
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
  Colours c = colours (s);
  double fs = s->font_size * 0.75, ty = y + s->font_size * 0.5;
  GraphLayout L;
  g_autofree guint *order = NULL;

  graph_layout (cr, x, y, width, height, s, fig, &L);
  if (fig->title)
    {
      text (cr, s, s->font_size, TRUE, fig->title, L.f.x0, ty, 0, 0, 0, c.fg);
      ty += s->font_size * 1.4;
    }
  if (fig->caption)
    text (cr, s, fs, FALSE, fig->caption, L.f.x0, ty, 0, 0, 0, c.cloud);
  if (fig->n_nodes == 0)
    {
      text (cr, s, s->font_size, FALSE, "No nodes: every point is noise or the cover is empty",
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
          text (cr, s, fs, FALSE, fig->group_names[gi], L.legend_x + fs * 1.3, ly + fs * 0.6, 0, 0.5, 0, c.fg);
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
          g_autofree char *t = bar_tick (v, L.vmin, L.vmax);
          text (cr, s, fs, FALSE, t, bx + bw + fs * 0.3, by + bh * k / 2, 0, 0.5, 0, c.fg);
        }
      if (fig->value_label)
        text (cr, s, fs, FALSE, fig->value_label, bx - fs * 0.4, by + bh / 2, 0.5, 1, -G_PI / 2, c.fg);
    }
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
