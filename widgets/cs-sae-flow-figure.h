#pragma once

#include "cs-figure.h"
#include "cs-sae-flow.h"

G_BEGIN_DECLS

/* The feature flow as a layered graph: a column per layer, each latent a
 * disc sized by |Δ| (red when the vector raises it, blue when it lowers
 * it), an edge from a latent to a later one as wide as |weight| (red when
 * the source adds to the target, blue when it takes away), edges under
 * threshold × the largest hidden. */
void cs_sae_flow_figure_draw (cairo_t             *cr,
                              double               x,
                              double               y,
                              double               width,
                              double               height,
                              const CsFigureStyle *style,
                              const CsSaeFlow     *flow,
                              double               threshold,
                              const char          *title);

/* The node drawn under (px, py) (its disc or its label), or −1. */
int  cs_sae_flow_figure_node_at (double               x,
                                 double               y,
                                 double               width,
                                 double               height,
                                 const CsFigureStyle *style,
                                 const CsSaeFlow     *flow,
                                 double               px,
                                 double               py);

G_END_DECLS
