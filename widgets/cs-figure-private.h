#pragma once

/* What the figure files share: the theme's colours, text, axes and the
 * plot frame. cs-figure.c holds the style, these helpers and the export;
 * cs-figure-scatter.c the projection (with its cached data layer),
 * cs-figure-heatmap.c the cosine heatmap and matrices, cs-figure-plots.c
 * validation, orthogonality, lines and bars, cs-figure-texts.c text tables,
 * cs-figure-graph.c the Mapper graph. */

#include "cs-figure.h"

#include <pango/pangocairo.h>

G_BEGIN_DECLS

typedef struct
{
  double bg[3], fg[3], grid[3], cloud[3];
} Colours;

/* A plot's rectangle and the data range it shows. */
typedef struct
{
  double x0, y0, w, h;          /* plot area */
  double xmin, xmax, ymin, ymax;
} Frame;

static inline double fx (const Frame *f, double v) { return f->x0 + (v - f->xmin) / (f->xmax - f->xmin) * f->w; }
static inline double fy (const Frame *f, double v) { return f->y0 + f->h - (v - f->ymin) / (f->ymax - f->ymin) * f->h; }

void         fig_arrow          (cairo_t *cr, double x0, double y0, double x1, double y1, double lw);
Colours      fig_colours        (const CsFigureStyle *s);
void         fig_draw_axes      (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const char *xl, const char *yl,
                                 gboolean xticks);
void         fig_draw_axes_full (cairo_t *cr, const Frame *f, const CsFigureStyle *s, const char *xl, const char *yl,
                                 gboolean xticks, gboolean yticks);
PangoLayout *fig_make_layout    (cairo_t *cr, double size, gboolean bold, const char *markup);
/* Text with Pango markup; ax/ay place the anchor (0 left/top … 1 right/bottom). */
void         fig_text           (cairo_t *cr, const CsFigureStyle *s, double size, gboolean bold, const char *markup,
                                 double x, double y, double ax, double ay, double angle, const double *rgb);
void         fig_text_fit       (cairo_t *cr, double size, const char *markup, double x, double y, double ax, double ay,
                                 double angle, double max_w, const double *rgb);
double       fig_text_width     (cairo_t *cr, double size, const char *markup);
void         fig_title_text     (cairo_t *cr, const CsFigureStyle *s, double size, const char *markup, double cx,
                                 double x0, double x1, double y, const double *rgb);
char        *fig_bar_tick       (double v, double lo, double hi);
/* Diverging blue–white–red for −1 … 1. */
void         fig_diverging      (double v, double *r, double *g, double *b);

G_END_DECLS
