#pragma once

#include "cs-figure-view.h"

G_BEGIN_DECLS

/* A heatmap (CsHeatmapFigure) whose cells name themselves: hovering a cell
 * shows a tooltip from a format (the row's name, the column's name and
 * the value, as printf's %1$s %2$s %3$f) and emits "cell-hovered". */

#define CS_TYPE_HEATMAP_VIEW (cs_heatmap_view_get_type ())
G_DECLARE_FINAL_TYPE (CsHeatmapView, cs_heatmap_view, CS, HEATMAP_VIEW, CsFigureView)

GtkWidget *cs_heatmap_view_new                (void);
/* fig is copied, what it points to is not: owner keeps it alive and is
 * released with release when replaced. NULL: nothing to show. */
void       cs_heatmap_view_set_figure         (CsHeatmapView         *self,
                                               const CsHeatmapFigure *fig,
                                               gpointer               owner,
                                               GDestroyNotify         release);
/* For instance "cos(ℓ̄ %1$s, ℓ̄ %2$s) = %3$.3f". */
void       cs_heatmap_view_set_tooltip_format (CsHeatmapView         *self,
                                               const char            *format);
/* The cell under (x, y). */
gboolean   cs_heatmap_view_cell_at            (CsHeatmapView         *self,
                                               double                 x,
                                               double                 y,
                                               guint                 *row,
                                               guint                 *col);
/* What hovering (x, y) does: the tooltip it sets (NULL off the cells). */
const char *cs_heatmap_view_hover             (CsHeatmapView         *self,
                                               double                 x,
                                               double                 y);

G_END_DECLS
