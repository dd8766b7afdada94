#pragma once

#include "cs-figure.h"
#include "cs-fv.h"
#include "cs-patch.h"

G_BEGIN_DECLS

/* The patching heatmap (layers × positions or layers × heads, 0 the
 * corrupted run and 1 the clean one) from a result or its saved /patching
 * group: the Patching page and `conceptscope-cli figure patching` draw
 * with this. */
void     cs_patch_figure_draw    (cairo_t             *cr,
                                  double               x,
                                  double               y,
                                  double               width,
                                  double               height,
                                  const CsFigureStyle *style,
                                  const CsPatchResult *result,
                                  const char          *title);
/* The cell (layer, column) under (px, py). */
gboolean cs_patch_figure_cell_at (double               x,
                                  double               y,
                                  double               width,
                                  double               height,
                                  const CsFigureStyle *style,
                                  const CsPatchResult *result,
                                  double               px,
                                  double               py,
                                  int                 *layer,
                                  int                 *column);

/* A function vector's figures: the heads' average indirect effects
 * (layers × heads, the heads summed into the vector marked with their
 * rank), or zero-shot p(answer) with the vector added after each layer
 * against the unsteered zero-shot, the in-context and the shuffled runs. */
typedef enum
{
  CS_FV_FIGURE_HEADS,
  CS_FV_FIGURE_LAYERS,
} CsFvFigureKind;

void     cs_fv_figure_draw       (cairo_t             *cr,
                                  double               x,
                                  double               y,
                                  double               width,
                                  double               height,
                                  const CsFigureStyle *style,
                                  const CsFvResult    *result,
                                  CsFvFigureKind       kind,
                                  const char          *title);

/* The heads' table: the cell (layer, head) under (px, py). */
gboolean cs_fv_figure_cell_at    (double               x,
                                  double               y,
                                  double               width,
                                  double               height,
                                  const CsFigureStyle *style,
                                  const CsFvResult    *result,
                                  double               px,
                                  double               py,
                                  int                 *layer,
                                  int                 *head);

G_END_DECLS
