#pragma once

#include <adwaita.h>

#include "cs-geometry.h"
#include "cs-projection-view.h"
#include "cs-wordnet-view.h"
#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_GEOMETRY_PAGE (cs_geometry_page_get_type ())
G_DECLARE_FINAL_TYPE (CsGeometryPage, cs_geometry_page, CS, GEOMETRY_PAGE, AdwBin)

/* The page shows the session's geometry and makes it: a new model in the
 * session starts the computation (WordNet animal hierarchy, the engine's
 * defaults), and what is computed or opened goes into the session
 * (tokenizer, space, geometry), as does the rubber band's selection; the
 * session's marked tokens are ringed on the projection. */
void        cs_geometry_page_set_session    (CsGeometryPage *self,
                                             CsSession      *session);
gboolean    cs_geometry_page_get_busy       (CsGeometryPage *self);
/* What the Cancel button does: stops the computation in progress. */
void        cs_geometry_page_cancel         (CsGeometryPage *self);
/* Recomputes with the user's categories from a JSON file instead of WordNet. */
void        cs_geometry_page_compute_json   (CsGeometryPage *self,
                                             const char     *path,
                                             double          train_fraction,
                                             guint           seed,
                                             int             min_tokens);
/* Recomputes with other parameters in the background (they are shown in
 * the panel): a WordNet hierarchy (animal, plant or a synset), the split,
 * the reliability threshold, and optionally a category from a list of
 * words (comma-separated): a new one under the hierarchy's root, or, when
 * the name exists, that category with its words replaced. */
void        cs_geometry_page_compute        (CsGeometryPage *self,
                                             const char     *hierarchy,
                                             double          train_fraction,
                                             guint           seed,
                                             int             min_tokens,
                                             const char     *extra_name,
                                             const char     *extra_words);
/* Recomputes with every WordNet synset of pos ("noun", "verb" or "both")
 * that has min_tokens tokens or more (the paper's Figure 4). */
void        cs_geometry_page_compute_wordnet_all (CsGeometryPage *self,
                                             const char     *pos,
                                             int             min_tokens);
/* Selects a category (a synset of the whole-WordNet table, as a click
 * there does): it and its children shown, it on the x axis, its first
 * child on y; undoable. */
void        cs_geometry_page_select_synset  (CsGeometryPage *self,
                                             guint           index);
/* The whole-WordNet heatmaps' view (zoom, hover, selection). */
CsWordNetView *cs_geometry_page_get_wordnet_view (CsGeometryPage *self);
const char *cs_geometry_page_get_error      (CsGeometryPage *self);
/* What is drawn (the session's geometry once computed). */
CsGeometry *cs_geometry_page_get_geometry   (CsGeometryPage *self);
/* Axes by category name; minus may be NULL. */
gboolean    cs_geometry_page_set_axes       (CsGeometryPage *self,
                                             const char     *x,
                                             const char     *x_minus,
                                             const char     *y,
                                             const char     *y_minus,
                                             gboolean        orthogonalise,
                                             GError        **error);
void        cs_geometry_page_set_category_visible (CsGeometryPage *self,
                                             const char     *name,
                                             gboolean        visible);
gboolean    cs_geometry_page_get_category_visible (CsGeometryPage *self,
                                             const char     *name);
/* The projection's view (zoom, hit-testing, rubber band, legend clicks). */
CsProjectionView *cs_geometry_page_get_projection_view (CsGeometryPage *self);
/* Exports the visible figure (projection, cosines, validation, orthogonality). */
gboolean    cs_geometry_page_export         (CsGeometryPage *self,
                                             const char     *path,
                                             const char     *preset,
                                             const char     *theme,
                                             double          scale,
                                             double          font_size,
                                             GError        **error);
void        cs_geometry_page_show_view      (CsGeometryPage *self,
                                             const char     *name);
/* Finds a word's token (by the vocabulary's conventions), rings it and
 * centres the view on it; -1 when the word is not one token. */
gint64      cs_geometry_page_find_token     (CsGeometryPage *self,
                                             const char     *text);
/* The selected tokens' text, one per line. */
char       *cs_geometry_page_dup_selection_text (CsGeometryPage *self);
/* Saves the geometry and the view (axes, hidden categories) to a workspace. */
gboolean    cs_geometry_page_save_workspace (CsGeometryPage *self,
                                             const char     *path,
                                             GError        **error);
/* Shows a saved workspace without recomputing; model (the workspace's,
 * which CsWindow opens first) becomes the session's. */
gboolean    cs_geometry_page_open_workspace (CsGeometryPage *self,
                                             CsModel        *model,
                                             const char     *path,
                                             GError        **error);

/* Undo and redo (Ctrl+Z, Ctrl+Shift+Z) of what changes the view: a
 * recomputation or new categories (the previous geometry comes back without
 * computing), an opened workspace, the axes, a category shown or hidden.
 * FALSE when there is nothing to take back, or while computing. The label
 * names the change an undo would take back ("hiding fish"), or NULL. */
gboolean    cs_geometry_page_undo           (CsGeometryPage *self);
gboolean    cs_geometry_page_redo           (CsGeometryPage *self);
const char *cs_geometry_page_get_undo_label (CsGeometryPage *self);

G_END_DECLS
