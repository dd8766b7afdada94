#define G_LOG_DOMAIN "cs-figure"

/* The 3-D simplex figure: the vocabulary's cloud rasterised, the simplex's
 * faces and edges, the categories' points shaded by depth, the vertices'
 * arrows and labels, a legend beside the plot and an axis triad. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs-figure-private.h"

typedef struct
{
  double x0, y0, w, h;      /* plot area */
  double cx, cy;            /* screen centre */
  double scale;
  double centre[3];         /* data point at the screen centre */
  double ca, sa, ce, se;    /* the view's turn and tilt */
  double legend_x, legend_w, legend_fs;
} View;

static void
rotate (const View *v, const double p[3], double *u, double *w, double *depth)
{
  double x = p[0] - v->centre[0], y = p[1] - v->centre[1], z = p[2] - v->centre[2];
  double x1 = x * v->ca - y * v->sa, y1 = x * v->sa + y * v->ca;
  *u = x1;
  *w = z * v->ce + y1 * v->se;
  *depth = y1 * v->ce - z * v->se;
}

static double
legend_width (cairo_t *cr, double fs, const CsSimplexFigure *fig)
{
  double w = 0;
  for (guint g = 0; g < fig->n_groups; g++)
    w = MAX (w, fig_text_width (cr, fs, fig->groups[g].name));
  return w;
}

/* The layout: the legend beside the plot, the data scaled so that its
 * farthest point from the centre (the origin, the vertices, the category
 * points) stays inside the plot at any turn. */
static void
view_of (double x, double y, double width, double height, const CsFigureStyle *s, const CsSimplexFigure *fig,
         View *v)
{
  double fs = s->font_size, r2 = 0, a = fig->azimuth * G_PI / 180, e = fig->elevation * G_PI / 180;
  cairo_surface_t *tmp = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (tmp);
  guint nc = 1;

  memset (v, 0, sizeof *v);
  v->legend_fs = fs * 0.7;
  v->legend_w = fig->n_groups ? legend_width (cr, v->legend_fs, fig) + v->legend_fs * 2.4 : 0;
  cairo_destroy (cr);
  cairo_surface_destroy (tmp);
  v->x0 = x + fs * 0.8;
  v->y0 = y + (fig->title ? fs * 2.0 : fs * 0.8);
  v->w = width - fs * 1.6 - (v->legend_w > 0 ? v->legend_w + fs * 0.6 : 0);
  v->h = height - (v->y0 - y) - fs * 0.8;
  v->legend_x = v->x0 + v->w + fs * 0.6;
  v->cx = v->x0 + v->w / 2;
  v->cy = v->y0 + v->h / 2;
  v->ca = cos (a);
  v->sa = sin (a);
  v->ce = cos (e);
  v->se = sin (e);
  for (guint k = 0; k < fig->n_vertices; k++, nc++)
    for (int c = 0; c < 3; c++)
      v->centre[c] += fig->vertex[k][c];
  for (int c = 0; c < 3; c++)
    v->centre[c] /= nc;
  for (guint k = 0; k < fig->n_vertices + 1; k++)
    {
      const double zero[3] = { 0, 0, 0 };
      const double *p = k < fig->n_vertices ? fig->vertex[k] : zero;
      double d2 = 0;
      for (int c = 0; c < 3; c++)
        d2 += (p[c] - v->centre[c]) * (p[c] - v->centre[c]);
      r2 = MAX (r2, d2);
    }
  for (guint g = 0; g < fig->n_groups; g++)
    for (guint k = 0; k < fig->groups[g].n && !fig->groups[g].hidden; k++)
      {
        gint32 id = fig->groups[g].ids[k];
        double dx = fig->x[id] - v->centre[0], dy = fig->y[id] - v->centre[1], dz = fig->z[id] - v->centre[2];
        r2 = MAX (r2, dx * dx + dy * dy + dz * dz);
      }
  v->scale = 0.5 * MIN (v->w, v->h) / (sqrt (r2) + 1e-12) * (fig->zoom > 0 ? fig->zoom : 1);
}

static void
to_screen (const View *v, const double p[3], double *sx, double *sy, double *depth)
{
  double u, w;
  rotate (v, p, &u, &w, depth);
  *sx = v->cx + v->scale * u;
  *sy = v->cy - v->scale * w;
}

void
cs_figure_simplex_point (double x, double y, double width, double height, const CsFigureStyle *s,
                         const CsSimplexFigure *fig, const double p[3], double *sx, double *sy, double *depth)
{
  View v;
  double d;
  view_of (x, y, width, height, s, fig, &v);
  to_screen (&v, p, sx, sy, depth ? depth : &d);
}

gboolean
cs_figure_simplex_point_at (double x, double y, double width, double height, const CsFigureStyle *s,
                            const CsSimplexFigure *fig, double px, double py, guint *group, guint *index)
{
  View v;
  double best = 8 * 8, best_depth = INFINITY;
  gboolean found = FALSE;
  view_of (x, y, width, height, s, fig, &v);
  for (guint g = 0; g < fig->n_groups; g++)
    for (guint k = 0; k < fig->groups[g].n && !fig->groups[g].hidden; k++)
      {
        gint32 id = fig->groups[g].ids[k];
        double p[3] = { fig->x[id], fig->y[id], fig->z[id] }, sx, sy, depth;
        to_screen (&v, p, &sx, &sy, &depth);
        double d2 = (sx - px) * (sx - px) + (sy - py) * (sy - py);
        if (d2 <= 8 * 8 && (d2 < best - 1e-9 || (fabs (d2 - best) < 1e-9 && depth < best_depth)))
          {
            best = d2;
            best_depth = depth;
            *group = g;
            *index = k;
            found = TRUE;
          }
      }
  return found;
}

typedef struct
{
  double sx, sy, depth;
  guint  group;
} Drawn;

static int
far_first (const void *a, const void *b)
{
  double da = ((const Drawn *) a)->depth, db = ((const Drawn *) b)->depth;
  return da < db ? 1 : da > db ? -1 : 0;
}

/* A colour faded towards the background with distance: t in [0, 1], 0 the
 * nearest. */
static void
shade (const double rgb[3], const double bg[3], double t, double out[3])
{
  double k = 0.55 * CLAMP (t, 0, 1);
  for (int c = 0; c < 3; c++)
    out[c] = rgb[c] * (1 - k) + bg[c] * k;
}

static void
draw_cloud (cairo_t *cr, const View *v, const CsFigureStyle *s, const CsSimplexFigure *fig, const Colours *c)
{
  int w = (int) ceil (v->w), h = (int) ceil (v->h);
  cairo_surface_t *img;
  guint8 *alpha;
  int stride;

  if (fig->n_points <= 0 || w <= 0 || h <= 0)
    return;
  /* a raster of the cloud's density, one pass over the vocabulary */
  img = cairo_image_surface_create (CAIRO_FORMAT_A8, w, h);
  cairo_surface_flush (img);
  alpha = cairo_image_surface_get_data (img);
  stride = cairo_image_surface_get_stride (img);
  for (gint64 i = 0; i < fig->n_points; i++)
    {
      double p[3] = { fig->x[i], fig->y[i], fig->z[i] }, sx, sy, depth;
      to_screen (v, p, &sx, &sy, &depth);
      int px = (int) (sx - v->x0), py = (int) (sy - v->y0);
      if (px < 0 || py < 0 || px >= w || py >= h)
        continue;
      guint8 *a = alpha + (gsize) py * stride + px;
      *a = (guint8) MIN (255, *a + 60);
    }
  cairo_surface_mark_dirty (img);
  cairo_save (cr);
  cairo_set_source_rgba (cr, c->cloud[0], c->cloud[1], c->cloud[2], 0.8);
  cairo_mask_surface (cr, img, v->x0, v->y0);
  cairo_restore (cr);
  cairo_surface_destroy (img);
}

static void
draw_triad (cairo_t *cr, const View *v, const CsFigureStyle *s, const CsSimplexFigure *fig, const Colours *c)
{
  double fs = s->font_size, len = fs * 2.2, ox = v->x0 + fs * 4.5, oy = v->y0 + v->h - fs * 1.6;
  for (int k = 0; k < 3; k++)
    {
      double e[3] = { 0, 0, 0 }, u, w, depth;
      View unit = *v;
      memset (unit.centre, 0, sizeof unit.centre);
      e[k] = 1;
      rotate (&unit, e, &u, &w, &depth);
      cairo_set_source_rgb (cr, c->fg[0], c->fg[1], c->fg[2]);
      fig_arrow (cr, ox, oy, ox + len * u, oy - len * w, fs * 0.06);
      if (fig->axis_label[k])
        fig_text (cr, s, fs * 0.6, FALSE, fig->axis_label[k], ox + len * u * 1.15, oy - len * w * 1.15, u < 0 ? 1 : 0,
                  0.5, 0, c->fg);
    }
}

void
cs_figure_draw_simplex (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                        const CsSimplexFigure *fig)
{
  Colours c = fig_colours (s);
  double fs = s->font_size, tips[4][3], origin[3] = { 0, 0, 0 }, o[3];
  View v;
  g_autoptr(GArray) drawn = g_array_new (FALSE, FALSE, sizeof (Drawn));
  double dmin = INFINITY, dmax = -INFINITY;

  view_of (x, y, width, height, s, fig, &v);
  if (v.w < 10 || v.h < 10)
    return;
  if (fig->title)
    fig_title_text (cr, s, fs, fig->title, v.x0 + v.w / 2, x, x + width, y + fs * 0.3, c.fg);
  cairo_save (cr);
  cairo_rectangle (cr, v.x0, v.y0, v.w, v.h);
  cairo_clip (cr);
  draw_cloud (cr, &v, s, fig, &c);

  /* the category points, far first, faded with distance */
  for (guint g = 0; g < fig->n_groups; g++)
    for (guint k = 0; k < fig->groups[g].n && !fig->groups[g].hidden; k++)
      {
        gint32 id = fig->groups[g].ids[k];
        double p[3] = { fig->x[id], fig->y[id], fig->z[id] };
        Drawn d = { 0, 0, 0, g };
        to_screen (&v, p, &d.sx, &d.sy, &d.depth);
        dmin = MIN (dmin, d.depth);
        dmax = MAX (dmax, d.depth);
        g_array_append_val (drawn, d);
      }
  for (guint k = 0; k < fig->n_vertices; k++)
    {
      to_screen (&v, fig->vertex[k], &tips[k][0], &tips[k][1], &tips[k][2]);
      dmin = MIN (dmin, tips[k][2]);
      dmax = MAX (dmax, tips[k][2]);
    }
  to_screen (&v, origin, &o[0], &o[1], &o[2]);
  if (drawn->len > 1)
    qsort (drawn->data, drawn->len, sizeof (Drawn), far_first);
  for (guint i = 0; i < drawn->len; i++)
    {
      const Drawn *d = &g_array_index (drawn, Drawn, i);
      double rgb[3], sh[3], t = dmax > dmin ? (d->depth - dmin) / (dmax - dmin) : 0;
      cs_figure_palette (fig->groups[d->group].colour, &rgb[0], &rgb[1], &rgb[2]);
      shade (rgb, c.bg, t, sh);
      cairo_set_source_rgba (cr, sh[0], sh[1], sh[2], 0.9);
      cairo_new_sub_path (cr);
      cairo_arc (cr, d->sx, d->sy, fs * (0.13 + 0.08 * (1 - t)), 0, 2 * G_PI);
      cairo_fill (cr);
    }

  /* the simplex: faces far first, translucent, then the edges */
  if (fig->n_vertices >= 3)
    {
      int faces[4][3] = { { 0, 1, 2 }, { 0, 1, 3 }, { 0, 2, 3 }, { 1, 2, 3 } }, order[4] = { 0, 1, 2, 3 };
      int nf = fig->n_vertices == 4 ? 4 : 1;
      double fd[4];
      for (int f = 0; f < nf; f++)
        fd[f] = (tips[faces[f][0]][2] + tips[faces[f][1]][2] + tips[faces[f][2]][2]) / 3;
      for (int i = 0; i < nf; i++)
        for (int j = i + 1; j < nf; j++)
          if (fd[order[j]] > fd[order[i]])
            {
              int t = order[i];
              order[i] = order[j];
              order[j] = t;
            }
      for (int i = 0; i < nf; i++)
        {
          const int *f = faces[order[i]];
          cairo_move_to (cr, tips[f[0]][0], tips[f[0]][1]);
          cairo_line_to (cr, tips[f[1]][0], tips[f[1]][1]);
          cairo_line_to (cr, tips[f[2]][0], tips[f[2]][1]);
          cairo_close_path (cr);
          cairo_set_source_rgba (cr, c.fg[0], c.fg[1], c.fg[2], 0.10);
          cairo_fill_preserve (cr);
          cairo_set_source_rgba (cr, c.fg[0], c.fg[1], c.fg[2], 0.55);
          cairo_set_line_width (cr, fs * 0.07);
          cairo_stroke (cr);
        }
    }
  /* the vertices' arrows from the origin, and their labels */
  for (guint k = 0; k < fig->n_vertices; k++)
    {
      double rgb[3];
      cs_figure_palette (fig->vertex_colour[k], &rgb[0], &rgb[1], &rgb[2]);
      cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
      fig_arrow (cr, o[0], o[1], tips[k][0], tips[k][1], fs * 0.16);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      fig_arrow (cr, o[0], o[1], tips[k][0], tips[k][1], fs * 0.1);
      cairo_new_sub_path (cr);
      cairo_arc (cr, tips[k][0], tips[k][1], fs * 0.28, 0, 2 * G_PI);
      cairo_fill (cr);
      if (fig->vertex_label[k])
        {
          gboolean right = tips[k][0] >= o[0];
          fig_text (cr, s, fs * 0.8, TRUE, fig->vertex_label[k], tips[k][0] + (right ? 1 : -1) * fs * 0.45,
                    tips[k][1], right ? 0 : 1, 0.5, 0, rgb);
        }
    }
  cairo_set_source_rgb (cr, c.fg[0], c.fg[1], c.fg[2]);
  cairo_arc (cr, o[0], o[1], fs * 0.12, 0, 2 * G_PI);
  cairo_fill (cr);
  draw_triad (cr, &v, s, fig, &c);
  cairo_restore (cr);
  cairo_set_source_rgb (cr, c.grid[0], c.grid[1], c.grid[2]);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, v.x0, v.y0, v.w, v.h);
  cairo_stroke (cr);

  /* the legend beside the plot */
  for (guint g = 0; g < fig->n_groups; g++)
    {
      double rgb[3], ly = v.y0 + v.legend_fs * (0.5 + 1.35 * g) + v.legend_fs * 0.6;
      cs_figure_palette (fig->groups[g].colour, &rgb[0], &rgb[1], &rgb[2]);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_new_sub_path (cr);
      cairo_arc (cr, v.legend_x + v.legend_fs * 0.4, ly, v.legend_fs * 0.32, 0, 2 * G_PI);
      if (fig->groups[g].hidden)
        {
          cairo_set_line_width (cr, v.legend_fs * 0.1);
          cairo_stroke (cr);
        }
      else
        cairo_fill (cr);
      fig_text (cr, s, v.legend_fs, FALSE, fig->groups[g].name, v.legend_x + v.legend_fs * 1.1, ly, 0, 0.5, 0, c.fg);
    }
}
