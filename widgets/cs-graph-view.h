#pragma once

#include "cs-figure-view.h"

G_BEGIN_DECLS

/* A graph (a CsGraphFigure: the Mapper view), touched: scroll zooms about
 * the pointer, a drag on the background pans, a drag on a node moves it
 * (the view reports the move; the owner of the positions applies it),
 * hovering rings a node and describes it in a tooltip, a click emits
 * "node-activated" (the node, or -1 off every node). The selected node is
 * ringed while no other is hovered. Coordinates are the view's own. */

#define CS_TYPE_GRAPH_VIEW (cs_graph_view_get_type ())
G_DECLARE_FINAL_TYPE (CsGraphView, cs_graph_view, CS, GRAPH_VIEW, CsFigureView)

/* A node's tooltip (markup, to free), or NULL. */
typedef char *(*CsGraphDescribeFunc) (int      node,
                                      gpointer data);

GtkWidget *cs_graph_view_new           (void);
/* What to show: fig is copied, the arrays it points to are not; owner
 * (released with release when the figure is replaced or the view goes)
 * keeps them alive. keep_view: the zoom, hover and selection stay (the same
 * graph drawn again); otherwise the whole graph is shown, nothing hovered
 * or selected. NULL: nothing. */
void       cs_graph_view_set_figure    (CsGraphView         *self,
                                        const CsGraphFigure *fig,
                                        gpointer             owner,
                                        GDestroyNotify       release,
                                        gboolean             keep_view);
void       cs_graph_view_set_describe_func (CsGraphView     *self,
                                        CsGraphDescribeFunc  describe,
                                        gpointer             data);
/* The node ringed when none is hovered (−1: none). */
void       cs_graph_view_set_selected  (CsGraphView         *self,
                                        int                  node);
/* The whole graph again (zoom and pan undone). */
void       cs_graph_view_reset_view    (CsGraphView         *self);
/* Zooms by factor (> 1: closer) about the point (px, py) of the view. */
void       cs_graph_view_zoom          (CsGraphView         *self,
                                        double               factor,
                                        double               px,
                                        double               py);
/* The plot's frame as drawn now; FALSE before the first figure or size. */
gboolean   cs_graph_view_get_frame     (CsGraphView         *self,
                                        CsFigureFrame       *frame);
/* The node drawn under (x, y), or −1; where a node is drawn. */
int        cs_graph_view_node_at       (CsGraphView         *self,
                                        double               x,
                                        double               y);
gboolean   cs_graph_view_node_position (CsGraphView         *self,
                                        int                  node,
                                        double              *x,
                                        double              *y);
/* What a drag from (x0, y0) by (dx, dy) does, as the pointer would: moves
 * the node under its start (signals "node-move-begin", "node-moved" with
 * the node's new layout position, "node-move-end") or pans. */
void       cs_graph_view_drag          (CsGraphView         *self,
                                        double               x0,
                                        double               y0,
                                        double               dx,
                                        double               dy);

G_END_DECLS
