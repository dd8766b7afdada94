#pragma once

#include <adwaita.h>

#include "cs-session.h"
#include "cs-mapper.h"

G_BEGIN_DECLS

#define CS_TYPE_MAPPER_PAGE (cs_mapper_page_get_type ())
G_DECLARE_FINAL_TYPE (CsMapperPage, cs_mapper_page, CS, MAPPER_PAGE, AdwBin)

/* The Mapper view: the graph of a category's tokens (rows of the whitened
 * g) with lenses from the Geometry view's concept vectors, built in the
 * background a moment after the last change of a parameter. A click on a
 * node lists its tokens and rings them on the Geometry view's projection; a
 * selection there highlights the nodes that hold any of its tokens. */
void                 cs_mapper_page_set_session (CsMapperPage *self,
                                                 CsSession    *session);
/* Sets the parameters as the side panel would (NULL keeps a value) and
 * builds at once. categories: comma-separated names. */
void                 cs_mapper_page_configure         (CsMapperPage   *self,
                                                       const char     *categories,
                                                       const char     *lens1,
                                                       const char     *lens2,
                                                       int             intervals,
                                                       double          overlap);
gboolean             cs_mapper_page_get_busy          (CsMapperPage   *self);
const char          *cs_mapper_page_get_error         (CsMapperPage   *self);
const CsMapperGraph *cs_mapper_page_get_graph         (CsMapperPage   *self);
/* Token ids of the graph's points ([n_points]). */
const gint32        *cs_mapper_page_get_token_ids     (CsMapperPage   *self);
/* The node under widget coordinates of the graph view, or −1; where a node
 * is drawn. */
int                  cs_mapper_page_node_at           (CsMapperPage   *self,
                                                       double          x,
                                                       double          y);
gboolean             cs_mapper_page_node_position     (CsMapperPage   *self,
                                                       int             node,
                                                       double         *x,
                                                       double         *y);
/* What a click does: lists the node's tokens and marks them on the
 * projection (−1 clears). */
void                 cs_mapper_page_select_node       (CsMapperPage   *self,
                                                       int             node);
int                  cs_mapper_page_get_selected_node (CsMapperPage   *self);
char                *cs_mapper_page_dup_members_text  (CsMapperPage   *self);
/* Node colours: "categories" (pies), "lens1", "lens2" or "vector:NAME" (the
 * mean of g·ℓ̄/‖ℓ̄‖² over a node's tokens); FALSE when there is no such
 * choice. The value a node is coloured by (NAN for pies). */
gboolean             cs_mapper_page_set_colour        (CsMapperPage   *self,
                                                       const char     *what);
double               cs_mapper_page_node_colour_value (CsMapperPage   *self,
                                                       int             node);
/* Nodes highlighted by the projection's selection ([n_nodes]), or NULL. */
const gboolean      *cs_mapper_page_get_highlight     (CsMapperPage   *self);
gboolean             cs_mapper_page_export            (CsMapperPage   *self,
                                                       const char     *path,
                                                       const char     *preset,
                                                       const char     *theme,
                                                       double          scale,
                                                       double          font_size,
                                                       GError        **error);
/* The graph as JSON (as conceptscope-cli mapper writes it, labels the tokens). */
gboolean             cs_mapper_page_save_json         (CsMapperPage   *self,
                                                       const char     *path,
                                                       GError        **error);
/* The graph into the workspace's /mapper group; and back. */
gboolean             cs_mapper_page_save_to           (CsMapperPage   *self,
                                                       const char     *path,
                                                       GError        **error);
gboolean             cs_mapper_page_load_from         (CsMapperPage   *self,
                                                       const char     *path,
                                                       GError        **error);

/* A new layout of the graph (what the re-layout button does, seeded). */
void                 cs_mapper_page_relayout          (CsMapperPage   *self,
                                                       guint           seed);
/* Undo and redo (Ctrl+Z, Ctrl+Shift+Z) of a change of parameters (built
 * again, nodes where they were), a node moved by hand, a new layout. Other
 * points (a file, the categories back, a new geometry, a workspace) start a
 * new history. FALSE: nothing to do, or while building. The label names
 * the change an undo would take back, or NULL. */
gboolean             cs_mapper_page_undo              (CsMapperPage   *self);
gboolean             cs_mapper_page_redo              (CsMapperPage   *self);
const char          *cs_mapper_page_get_undo_label    (CsMapperPage   *self);

/* Points from a file instead of the categories' tokens: an HDF5 dataset
 * (dataset NULL: the file's first dataset of points, a `forward` file's
 * captures before its logits; padded positions left out) or a CSV file.
 * The lenses are then the file's own (principal components, norms,
 * density, coordinates); tokens a `forward` file names link to the
 * projection. FALSE with a message for a file that holds no points. */
gboolean             cs_mapper_page_load_points       (CsMapperPage   *self,
                                                       const char     *path,
                                                       const char     *dataset,
                                                       GError        **error);
/* Back to the tokens of the Geometry view's categories. */
void                 cs_mapper_page_use_categories    (CsMapperPage   *self);

G_END_DECLS
