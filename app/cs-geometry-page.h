#pragma once

#include <adwaita.h>

#include "cs-geometry.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

#define CS_TYPE_GEOMETRY_PAGE (cs_geometry_page_get_type ())
G_DECLARE_FINAL_TYPE (CsGeometryPage, cs_geometry_page, CS, GEOMETRY_PAGE, AdwBin)

/* Starts computing the model's geometry (WordNet animal hierarchy) off the
 * main thread; the projection ℓ̄_animal vs ℓ̄_mammal shows when it is done. */
void        cs_geometry_page_set_model      (CsGeometryPage *self,
                                             CsModel        *model);
gboolean    cs_geometry_page_get_busy       (CsGeometryPage *self);
/* What the Cancel button does: stops the computation in progress. */
void        cs_geometry_page_cancel         (CsGeometryPage *self);
/* Recomputes with the user's categories from a JSON file instead of WordNet. */
void        cs_geometry_page_compute_json   (CsGeometryPage *self,
                                             const char     *path,
                                             double          train_fraction,
                                             guint           seed,
                                             int             min_tokens);
/* Recomputes with other parameters in the background: a WordNet hierarchy
 * (animal, plant or a synset), the split, the reliability threshold, and
 * optionally a category from a list of words (comma-separated): a new one
 * under the hierarchy's root, or, when the name exists, that category with
 * its words replaced. */
void        cs_geometry_page_compute        (CsGeometryPage *self,
                                             const char     *hierarchy,
                                             double          train_fraction,
                                             guint           seed,
                                             int             min_tokens,
                                             const char     *extra_name,
                                             const char     *extra_words);
const char *cs_geometry_page_get_error      (CsGeometryPage *self);
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
/* Zooms the projection by factor about the point (fx, fy) in [0, 1]² of the view. */
void        cs_geometry_page_zoom           (CsGeometryPage *self,
                                             double          factor,
                                             double          fx,
                                             double          fy);
void        cs_geometry_page_reset_view     (CsGeometryPage *self);
/* The token nearest to widget coordinates (x, y) on the projection, or -1. */
gint64      cs_geometry_page_token_at       (CsGeometryPage *self,
                                             double          x,
                                             double          y);
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
/* Selects the tokens inside a rectangle of widget coordinates on the
 * projection and lists them; returns how many. */
guint       cs_geometry_page_select_rect    (CsGeometryPage *self,
                                             double          x0,
                                             double          y0,
                                             double          x1,
                                             double          y1);
/* Saves the geometry and the view (axes, hidden categories) to a workspace. */
gboolean    cs_geometry_page_save_workspace (CsGeometryPage *self,
                                             const char     *path,
                                             GError        **error);
/* Shows a saved workspace without recomputing; its model must be the one
 * loaded (CsWindow opens it first). */
gboolean    cs_geometry_page_open_workspace (CsGeometryPage *self,
                                             CsModel        *model,
                                             const char     *path,
                                             GError        **error);
/* A click on the projection: on a legend entry it hides or shows that
 * category. Returns whether it hit one. */
gboolean    cs_geometry_page_click          (CsGeometryPage *self,
                                             double          x,
                                             double          y);
/* Where a token is drawn, in the page's coordinates. */
gboolean    cs_geometry_page_token_position (CsGeometryPage *self,
                                             gint64          id,
                                             double         *x,
                                             double         *y);
/* Page coordinates (as token_position gives them) to the projection's
 * widget coordinates (as select_rect takes them). */
gboolean    cs_geometry_page_to_projection  (CsGeometryPage *self,
                                             double          x,
                                             double          y,
                                             double         *ax,
                                             double         *ay);
/* The token a click selected, or -1. */
gint64      cs_geometry_page_get_picked     (CsGeometryPage *self);
/* Where a category's legend entry is, in the projection's coordinates. */
gboolean    cs_geometry_page_legend_position (CsGeometryPage *self,
                                             const char     *name,
                                             double         *x,
                                             double         *y);
/* The selected tokens' text, one per line. */
char       *cs_geometry_page_dup_selection_text (CsGeometryPage *self);

/* Tokens marked with rings on the projection (a linked view's selection). */
void             cs_geometry_page_set_marked    (CsGeometryPage *self,
                                                 const gint32   *ids,
                                                 guint           n);
const GArray    *cs_geometry_page_get_marked    (CsGeometryPage *self);
/* The tokens selected with a rubber band (gint32), or NULL; the
 * "selection-changed" signal says when it changes, "geometry-changed" when
 * new vectors are shown. */
const GArray    *cs_geometry_page_get_selection (CsGeometryPage *self);
CsGeometrySpace *cs_geometry_page_get_space     (CsGeometryPage *self);
CsTokenizer     *cs_geometry_page_get_tokenizer (CsGeometryPage *self);
CsModel         *cs_geometry_page_get_model     (CsGeometryPage *self);
/* The workspace last saved or opened, or NULL. */
const char      *cs_geometry_page_get_workspace_path (CsGeometryPage *self);

/* Undo and redo (Ctrl+Z, Ctrl+Shift+Z) of what changes the view: a
 * recomputation or new categories (the previous geometry comes back without
 * computing), an opened workspace, the axes, a category shown or hidden.
 * FALSE when there is nothing to take back, or while computing. The label
 * names the change an undo would take back ("hiding fish"), or NULL. */
gboolean         cs_geometry_page_undo           (CsGeometryPage *self);
gboolean         cs_geometry_page_redo           (CsGeometryPage *self);
const char      *cs_geometry_page_get_undo_label (CsGeometryPage *self);
gboolean         cs_geometry_page_get_category_visible (CsGeometryPage *self,
                                                        const char     *name);

G_END_DECLS
