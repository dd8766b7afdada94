#pragma once

#include "cs-figure-view.h"
#include "cs-geometry-figure.h"

G_BEGIN_DECLS

/* The whole-WordNet heatmaps (CsGeometryWordNet's Figure 4) to explore:
 * the scroll wheel zooms about the pointer, double-clicking a synset zooms
 * into its block, right-clicking shows the whole table again; hovering a
 * cell names the pair with its distance and cosines; clicking a cell
 * selects its row's synset ("synset-activated" with its index). Export
 * gives the block shown. */

#define CS_TYPE_WORDNET_VIEW (cs_wordnet_view_get_type ())
G_DECLARE_FINAL_TYPE (CsWordNetView, cs_wordnet_view, CS, WORDNET_VIEW, CsFigureView)

GtkWidget  *cs_wordnet_view_new          (void);
/* Shows it (taking a reference; NULL: nothing), the whole table. */
void        cs_wordnet_view_set_wordnet  (CsWordNetView     *self,
                                          CsGeometryWordNet *wordnet);
/* The rows and columns [first, first + count) (clamped to the table). */
void        cs_wordnet_view_zoom_to      (CsWordNetView     *self,
                                          guint              first,
                                          guint              count);
void        cs_wordnet_view_get_range    (CsWordNetView     *self,
                                          guint             *first,
                                          guint             *count);
/* Outlines a synset's block (−1: none). */
void        cs_wordnet_view_set_selected (CsWordNetView     *self,
                                          gint               index);
/* Zooms by factor (< 1 in) keeping the row and column under (x, y) where
 * they are; what the scroll wheel does. */
void        cs_wordnet_view_zoom_at      (CsWordNetView     *self,
                                          double             x,
                                          double             y,
                                          double             factor);
/* The cell under (x, y): synset indices; FALSE off the panels. */
gboolean    cs_wordnet_view_cell_at      (CsWordNetView     *self,
                                          double             x,
                                          double             y,
                                          guint             *row,
                                          guint             *col);
/* The tooltip: printf's %1$s, %2$s the row's and column's names, %3$s
 * their distance, %4$f cos ℓ̄, %5$f the differences' cosine. */
void        cs_wordnet_view_set_tooltip_format (CsWordNetView *self,
                                                const char    *format);
/* What hovering (x, y) does: the tooltip it sets (NULL off the cells). */
const char *cs_wordnet_view_hover        (CsWordNetView     *self,
                                          double             x,
                                          double             y);

G_END_DECLS
