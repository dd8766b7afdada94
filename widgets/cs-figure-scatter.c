#define G_LOG_DOMAIN "cs-figure"

#include "cs-figure.h"
#include "cs-figure-private.h"

#include <math.h>

static int
compare_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return x < y ? -1 : x > y;
}

/* The grey cloud as a raster: counts per pixel mapped to opacity, so 256k
 * points cost one image whatever the output format. On screen (an image
 * surface) one pixel per device pixel, in the data layer with the zero lines
 * and the category dots (see draw_data_layer); for SVG and PDF two pixels
 * per point, an image under vector dots. */
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
  Colours c = fig_colours (s);
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
  Colours c = fig_colours (s);
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
  Colours c = fig_colours (s);
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

/* The plot area and the range: the automatic range (all categories and
 * arrows, the cloud's central 98 %) unless the figure fixes one and
 * automatic is FALSE. */
static void
base_frame (double x, double y, double width, double height, const CsFigureStyle *s, const CsProjectionFigure *fig,
            gboolean automatic, CsFigureFrame *out)
{
  double fs = s->font_size;
  Frame f = { x + fs * 4.2, y + (fig->title ? fs * 2.0 : fs * 0.8), 0, 0, 0, 0, 0, 0 };
  double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };

  f.w = width - (f.x0 - x) - fs * 0.8;
  f.h = height - (f.y0 - y) - fs * 3.7;   /* tick labels, then the axis label with its subscripts */
  if (fig->fixed_range && !automatic)
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
    return fig_text_width (cr, fs, KEY_ONLY) - fs * 1.1;
  return fig_text_width (cr, fs, KEY_TRAIN) + fs * 1.7 + fig_text_width (cr, fs, KEY_HELD_OUT);
}

/* The legend's size; its place is set by projection_layout. */
static void
legend_measure (cairo_t *cr, const CsFigureStyle *s, const CsProjectionFigure *fig, Legend *lg)
{
  lg->fs = s->font_size * 0.7;
  lg->row = lg->fs * 1.35;
  lg->w = 0;
  for (guint gi = 0; gi < fig->n_groups; gi++)
    lg->w = MAX (lg->w, fig_text_width (cr, lg->fs, fig->groups[gi].name));
  if (has_train_marks (fig))
    lg->w = MAX (lg->w, key_width (cr, lg->fs, fig));
}

/* The legend's background box. */
static void
legend_box (const Legend *lg, const CsProjectionFigure *fig, double box[4])
{
  box[0] = lg->x - lg->fs * 0.4;
  box[1] = lg->y - lg->fs * 0.3;
  box[2] = lg->w + lg->fs * 2.4;
  box[3] = lg->row * (fig->n_groups + (has_train_marks (fig) ? 1 : 0)) + lg->fs * 0.3;
}

/* How much of the data a legend box would cover: the drawn category
 * points (with their markers' radius) and the arrows' ends, an arrow's tip
 * (where its label is) counting as much as ten points. */
static int
covered (const Frame *f, const CsFigureStyle *s, const CsProjectionFigure *fig, const double box[4])
{
  double pad = s->font_size * 0.3;
  int n = 0;
  for (guint gi = 0; gi < fig->n_groups; gi++)
    for (guint k = 0; k < fig->groups[gi].n && !fig->groups[gi].hidden; k++)
      {
        gint32 id = fig->groups[gi].ids[k];
        double px = fx (f, fig->x[id]), py = fy (f, fig->y[id]);
        n += px > box[0] - pad && px < box[0] + box[2] + pad && py > box[1] - pad && py < box[1] + box[3] + pad;
      }
  for (guint a = 0; a < fig->n_arrows; a++)
    {
      const CsFigureArrow *ar = &fig->arrows[a];
      double ends[2][2] = { { fx (f, ar->x0), fy (f, ar->y0) }, { fx (f, ar->x1), fy (f, ar->y1) } };
      for (int e = 0; e < 2; e++)
        if (ends[e][0] > box[0] - pad * 3 && ends[e][0] < box[0] + box[2] + pad * 3 && ends[e][1] > box[1] - pad * 3 &&
            ends[e][1] < box[1] + box[3] + pad * 3)
          n += e ? 10 : 1;
    }
  return n;
}

/* The frame and the legend together. The legend goes into the corner of
 * the plot that covers the fewest category points and arrow ends (top
 * right, top left, bottom right, bottom left on a tie); when every corner
 * covers some, beside the plot on the right, which narrows to make room.
 * The choice is made on the automatic range, so zooming and panning never
 * move the legend or the plot's edges. */
static void
projection_layout (double x, double y, double width, double height, const CsFigureStyle *s,
                   const CsProjectionFigure *fig, CsFigureFrame *out, Legend *lg)
{
  CsFigureFrame fr;
  Frame f;
  double box[4];
  int best_n = G_MAXINT;

  base_frame (x, y, width, height, s, fig, TRUE, &fr);
  memset (lg, 0, sizeof *lg);
  if (fig->n_groups > 0)
    {
      cairo_surface_t *tmp = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
      cairo_t *cr = cairo_create (tmp);
      legend_measure (cr, s, fig, lg);
      cairo_destroy (cr);
      cairo_surface_destroy (tmp);
      f = (Frame) { fr.x0, fr.y0, fr.w, fr.h, fr.xmin, fr.xmax, fr.ymin, fr.ymax };
      for (int corner = 0; corner < 4; corner++)
        {
          Legend t = *lg;
          legend_box (&t, fig, box);
          t.x = corner % 2 == 0 ? f.x0 + f.w - t.w - t.fs * 2.4 : f.x0 + t.fs * 0.9;
          t.y = corner < 2 ? f.y0 + t.fs * 0.5 : f.y0 + f.h - box[3] - t.fs * 0.2 + t.fs * 0.3;
          legend_box (&t, fig, box);
          int n = covered (&f, s, fig, box);
          if (n < best_n)
            {
              best_n = n;
              lg->x = t.x;
              lg->y = t.y;
            }
        }
      legend_box (lg, fig, box);
      if (best_n > 0 && fr.w - box[2] - s->font_size * 0.6 > fr.w * 0.55)
        {
          /* outside, on the right of a narrower plot */
          fr.w -= box[2] + s->font_size * 0.6;
          lg->x = fr.x0 + fr.w + s->font_size * 0.6 + lg->fs * 0.4;
          lg->y = fr.y0 + lg->fs * 0.3;
        }
      else if (best_n > 0 && fr.h - box[3] - s->font_size * 0.6 > fr.h * 0.55)
        {
          /* a tall panel: under the plot and its axis label, which rise */
          fr.h -= box[3] + s->font_size * 0.6;
          lg->x = fr.x0 + lg->fs * 0.4;
          lg->y = fr.y0 + fr.h + s->font_size * 3.7 + lg->fs * 0.3;
        }
    }
  if (fig->fixed_range)
    {
      fr.xmin = fig->range[0];
      fr.xmax = fig->range[1];
      fr.ymin = fig->range[2];
      fr.ymax = fig->range[3];
    }
  *out = fr;
}

void
cs_figure_projection_frame (double x, double y, double width, double height, const CsFigureStyle *s,
                            const CsProjectionFigure *fig, CsFigureFrame *out)
{
  Legend lg;
  projection_layout (x, y, width, height, s, fig, out, &lg);
}

gboolean
cs_figure_projection_legend_box (double x, double y, double width, double height, const CsFigureStyle *s,
                                 const CsProjectionFigure *fig, double box[4])
{
  CsFigureFrame fr;
  Legend lg;
  projection_layout (x, y, width, height, s, fig, &fr, &lg);
  if (fig->n_groups == 0)
    return FALSE;
  legend_box (&lg, fig, box);
  return TRUE;
}

static gboolean
legend_for (double x, double y, double width, double height, const CsFigureStyle *s, const CsProjectionFigure *fig,
            Legend *lg)
{
  CsFigureFrame fr;
  projection_layout (x, y, width, height, s, fig, &fr, lg);
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

static gboolean
boxes_overlap (const double a[4], const double b[4])
{
  return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
}

/* Every arrow's label box (x, y, w, h; w 0 for an arrow without a label):
 * beside its tip, right and above; on the other side where it would leave
 * the plot or cover a label placed before it (two arrows may end at one
 * tip), below where above does too; kept inside the plot. */
static void
arrow_label_boxes (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const CsProjectionFigure *fig,
                   double *boxes)
{
  double fs = s->font_size;
  for (guint a = 0; a < fig->n_arrows; a++)
    {
      const CsFigureArrow *ar = &fig->arrows[a];
      double tx = fx (f, ar->x1), ty = fy (f, ar->y1), w, h, best[4] = { 0 };
      int pw, ph, best_hits = G_MAXINT;
      PangoLayout *layout;
      memset (boxes + 4 * a, 0, sizeof (double) * 4);
      if (!ar->label)
        continue;
      layout = fig_make_layout (cr, fs * 0.8, TRUE, ar->label);
      pango_layout_get_size (layout, &pw, &ph);
      g_object_unref (layout);
      w = (double) pw / PANGO_SCALE;
      h = (double) ph / PANGO_SCALE;
      /* right above, left above, right below, left below, then a line
       * further out each way: the first that fits and covers no label
       * before it */
      for (int c = 0; c < 12 && best_hits > 0; c++)
        {
          int side = c % 2, vert = (c / 2) % 2, out = c / 4;
          double lx = side == 0 ? tx + fs * 0.3 : tx - fs * 0.3 - w;
          double ly = vert == 0 ? ty - fs * 0.2 - h * (1 + out) : ty + fs * 0.2 + h * out, box[4];
          int hits = 0;
          if (lx < f->x0 || lx + w > f->x0 + f->w || ly < f->y0 || ly + h > f->y0 + f->h)
            hits += 100;   /* leaves the plot */
          box[0] = CLAMP (lx, f->x0, MAX (f->x0, f->x0 + f->w - w));
          box[1] = CLAMP (ly, f->y0, MAX (f->y0, f->y0 + f->h - h));
          box[2] = w;
          box[3] = h;
          for (guint b = 0; b < a; b++)
            hits += boxes[4 * b + 2] > 0 && boxes_overlap (box, boxes + 4 * b);
          if (hits < best_hits)
            {
              best_hits = hits;
              memcpy (best, box, sizeof best);
            }
        }
      memcpy (boxes + 4 * a, best, sizeof best);
    }
}

gboolean
cs_figure_projection_arrow_label_box (double x, double y, double width, double height, const CsFigureStyle *s,
                                      const CsProjectionFigure *fig, guint arrow, double box[4])
{
  CsFigureFrame fr;
  Legend lg;
  cairo_surface_t *tmp;
  cairo_t *cr;
  g_autofree double *boxes = NULL;
  if (arrow >= fig->n_arrows || !fig->arrows[arrow].label)
    return FALSE;
  projection_layout (x, y, width, height, s, fig, &fr, &lg);
  Frame f = { fr.x0, fr.y0, fr.w, fr.h, fr.xmin, fr.xmax, fr.ymin, fr.ymax };
  boxes = g_new (double, 4 * fig->n_arrows);
  tmp = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cr = cairo_create (tmp);
  arrow_label_boxes (cr, &f, s, fig, boxes);
  cairo_destroy (cr);
  cairo_surface_destroy (tmp);
  memcpy (box, boxes + 4 * arrow, sizeof (double) * 4);
  return TRUE;
}

void
cs_figure_draw_projection (cairo_t *cr, double x, double y, double width, double height,
                           const CsFigureStyle *s, const CsProjectionFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size;
  CsFigureFrame fr;
  Frame f;
  Legend lg;

  projection_layout (x, y, width, height, s, fig, &fr, &lg);
  f = (Frame) { fr.x0, fr.y0, fr.w, fr.h, fr.xmin, fr.xmax, fr.ymin, fr.ymax };
  if (f.w < 10 || f.h < 10)
    return;

  if (fig->title)
    fig_title_text (cr, s, fs, fig->title, f.x0 + f.w / 2, x, x + width, y + fs * 0.3, c.fg);
  fig_draw_axes (cr, &f, s, fig->x_label, fig->y_label, TRUE);

  cairo_save (cr);
  cairo_rectangle (cr, f.x0, f.y0, f.w, f.h);
  cairo_clip (cr);
  draw_data_layer (cr, &f, s, fig);
  g_autofree double *label_boxes = g_new (double, 4 * MAX (1, fig->n_arrows));
  arrow_label_boxes (cr, &f, s, fig, label_boxes);
  for (guint a = 0; a < fig->n_arrows; a++)
    {
      const CsFigureArrow *ar = &fig->arrows[a];
      double r, g, b;
      cs_figure_palette (ar->colour, &r, &g, &b);
      cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
      fig_arrow (cr, fx (&f, ar->x0), fy (&f, ar->y0), fx (&f, ar->x1), fy (&f, ar->y1), fs * 0.16);
      cairo_set_source_rgb (cr, r, g, b);
      fig_arrow (cr, fx (&f, ar->x0), fy (&f, ar->y0), fx (&f, ar->x1), fy (&f, ar->y1), fs * 0.1);
      if (ar->label)
        {
          double rgb[3] = { r, g, b };
          fig_text (cr, s, fs * 0.8, TRUE, ar->label, label_boxes[4 * a], label_boxes[4 * a + 1], 0, 0, 0, rgb);
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
      fig_text (cr, s, fs * 0.65, FALSE, fig->label_texts[l], fx (&f, fig->x[id]) + fs * 0.25, fy (&f, fig->y[id]),
            0, 0.5, 0, c.fg);
    }
  cairo_restore (cr);

  /* legend */
  if (fig->n_groups > 0)
    {
      gboolean key = has_train_marks (fig);
      double box[4];
      legend_box (&lg, fig, box);
      cairo_set_source_rgba (cr, c.bg[0], c.bg[1], c.bg[2], s->theme == CS_THEME_TRANSPARENT ? 0 : 0.8);
      cairo_rectangle (cr, box[0], box[1], box[2], box[3]);
      cairo_fill (cr);
      if (key)
        {
          double cy = lg.y + lg.row * fig->n_groups + lg.row * 0.45, kx = lg.x;
          cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
          if (fig->held_out_only)
            fig_text (cr, s, lg.fs, FALSE, KEY_ONLY, kx, cy, 0, 0.5, 0, c.fg);
          else
            {
              cairo_set_line_width (cr, lg.fs * 0.1);
              cairo_new_sub_path (cr);
              cairo_arc (cr, kx + lg.fs * 0.4, cy, lg.fs * 0.26, 0, 2 * G_PI);
              cairo_stroke (cr);
              fig_text (cr, s, lg.fs, FALSE, KEY_TRAIN, kx + lg.fs * 1.1, cy, 0, 0.5, 0, c.fg);
              kx += lg.fs * 1.7 + fig_text_width (cr, lg.fs, KEY_TRAIN);
              cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
              cairo_new_sub_path (cr);
              cairo_arc (cr, kx + lg.fs * 0.4, cy, lg.fs * 0.32, 0, 2 * G_PI);
              cairo_fill (cr);
              fig_text (cr, s, lg.fs, FALSE, KEY_HELD_OUT, kx + lg.fs * 1.1, cy, 0, 0.5, 0, c.fg);
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
          fig_text (cr, s, lg.fs, FALSE, fig->groups[gi].name, lg.x + lg.fs * 1.1, cy, 0, 0.5, 0,
                fig->groups[gi].hidden ? grey : c.fg);
        }
    }
}
