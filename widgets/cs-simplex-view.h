#pragma once

#include "cs-figure-view.h"

G_BEGIN_DECLS

/* The 3-D simplex figure (a CsSimplexFigure), touched: a drag turns it
 * (horizontal: azimuth, 0.4° a pixel; vertical: elevation, kept within
 * ±89°), scroll zooms, hovering describes the category point under the
 * pointer in a tooltip, a click on one emits "token-activated" (its token
 * id, or -1 off every point). Export draws the figure at the rotation
 * shown. */

#define CS_TYPE_SIMPLEX_VIEW (cs_simplex_view_get_type ())
G_DECLARE_FINAL_TYPE (CsSimplexView, cs_simplex_view, CS, SIMPLEX_VIEW, CsFigureView)

/* A point's tooltip (markup, to free), or NULL. */
typedef char *(*CsSimplexDescribeFunc) (gint64   token,
                                        gpointer data);

GtkWidget *cs_simplex_view_new             (void);
/* fig is copied, its arrays are not: owner (released with release) keeps
 * them. keep_view: the rotation and zoom shown stay; otherwise the
 * figure's own. NULL: nothing. */
void       cs_simplex_view_set_figure      (CsSimplexView         *self,
                                            const CsSimplexFigure *fig,
                                            gpointer               owner,
                                            GDestroyNotify         release,
                                            gboolean               keep_view);
void       cs_simplex_view_set_describe_func (CsSimplexView       *self,
                                            CsSimplexDescribeFunc  describe,
                                            gpointer               data);
void       cs_simplex_view_get_rotation    (CsSimplexView         *self,
                                            double                *azimuth,
                                            double                *elevation,
                                            double                *zoom);
void       cs_simplex_view_set_rotation    (CsSimplexView         *self,
                                            double                 azimuth,
                                            double                 elevation,
                                            double                 zoom);
/* What a drag by (dx, dy) pixels does. */
void       cs_simplex_view_drag            (CsSimplexView         *self,
                                            double                 dx,
                                            double                 dy);
/* The token whose category point is drawn at (x, y) (within 8 pixels, the
 * nearest to the viewer among several), or -1. */
gint64     cs_simplex_view_token_at        (CsSimplexView         *self,
                                            double                 x,
                                            double                 y);
/* Where a data point lands in the view now. */
gboolean   cs_simplex_view_position        (CsSimplexView         *self,
                                            const double           p[3],
                                            double                *x,
                                            double                *y);

G_END_DECLS
