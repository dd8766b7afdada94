#pragma once

#include "cs-figure.h"
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

G_END_DECLS
