#pragma once

#include "cs-figure-view.h"

G_BEGIN_DECLS

/* The vocabulary projected on a plane (a CsProjectionFigure), touched:
 * scroll zooms about the pointer, a drag pans, hovering rings the nearest
 * token and describes it in a tooltip, a click on a legend entry emits
 * "legend-activated" (the group's colour, which the Geometry page sets to
 * the category's index) and on a token "token-activated" (its id, or -1
 * off every token), a right-drag selects the tokens inside a rubber band
 * ("selection-changed"). Coordinates are the view's own. */

#define CS_TYPE_PROJECTION_VIEW (cs_projection_view_get_type ())
G_DECLARE_FINAL_TYPE (CsProjectionView, cs_projection_view, CS, PROJECTION_VIEW, CsFigureView)

/* A token's tooltip text (to free), or NULL. */
typedef char *(*CsProjectionDescribeFunc) (gint64   token,
                                           gpointer data);

GtkWidget    *cs_projection_view_new             (void);
/* What to show: fig is copied, the arrays it points to are not; owner
 * (released with release when the figure is replaced or the view goes)
 * keeps them alive. The zoom, the picked token and the selection stay
 * (cs_projection_view_reset_view for a new plane). NULL: nothing. */
void          cs_projection_view_set_figure      (CsProjectionView         *self,
                                                  const CsProjectionFigure *fig,
                                                  gpointer                  owner,
                                                  GDestroyNotify            release);
void          cs_projection_view_set_describe_func (CsProjectionView       *self,
                                                  CsProjectionDescribeFunc  describe,
                                                  gpointer                  data);
/* Zooms by factor about the point (fx, fy) in [0, 1]² of the plot. */
void          cs_projection_view_zoom            (CsProjectionView *self,
                                                  double            factor,
                                                  double            fx,
                                                  double            fy);
/* The automatic range again, no hovered or picked token. */
void          cs_projection_view_reset_view      (CsProjectionView *self);
/* The plot's frame as drawn now; FALSE before the first figure or size. */
gboolean      cs_projection_view_get_frame       (CsProjectionView *self,
                                                  CsFigureFrame    *frame);
/* The token nearest to (x, y) within 8 pixels, or -1. */
gint64        cs_projection_view_token_at        (CsProjectionView *self,
                                                  double            x,
                                                  double            y);
gboolean      cs_projection_view_token_position  (CsProjectionView *self,
                                                  gint64            token,
                                                  double           *x,
                                                  double           *y);
/* Rings a token and centres the view on it, keeping the zoom. */
void          cs_projection_view_center_on       (CsProjectionView *self,
                                                  gint64            token);
/* Selects the tokens inside a rectangle (as a right-drag does), emits
 * "selection-changed" and returns how many. */
guint         cs_projection_view_select_rect     (CsProjectionView *self,
                                                  double            x0,
                                                  double            y0,
                                                  double            x1,
                                                  double            y1);
/* gint32 ids; never NULL. */
const GArray *cs_projection_view_get_selection   (CsProjectionView *self);
/* The legend entry (group index) at (x, y), or -1. */
int           cs_projection_view_legend_at       (CsProjectionView *self,
                                                  double            x,
                                                  double            y);
/* Where the legend entry of the group with this colour is. */
gboolean      cs_projection_view_legend_position (CsProjectionView *self,
                                                  guint             colour,
                                                  double           *x,
                                                  double           *y);
/* What a click does: TRUE when it hit a legend entry. */
gboolean      cs_projection_view_click           (CsProjectionView *self,
                                                  double            x,
                                                  double            y);
/* The token a click picked, or -1. */
gint64        cs_projection_view_get_picked      (CsProjectionView *self);
/* How many times the cloud was rasterised and reused (for tests). */
void          cs_projection_view_cloud_stats     (CsProjectionView *self,
                                                  guint            *rasterised,
                                                  guint            *reused);

G_END_DECLS
