#pragma once

#include <adwaita.h>

#include "cs-geometry-figure.h"
#include "cs-geometry-page.h"
#include "cs-geometry-settings.h"
#include "cs-heatmap-view.h"
#include "cs-simplex-view.h"
#include "cs-history.h"
#include "cs-job.h"
#include "cs-projection-view.h"
#include "cs-wordnet-view.h"

G_BEGIN_DECLS

/* What cs-geometry-page.c (the page, its panel and its computation) and
 * cs-geometry-page-actions.c (undo, workspaces, export, search and
 * selection) share. */

/* A computed geometry with its training masks, shared by the page and the
 * states of its undo history. */
typedef struct GeoBox
{
  CsGeometry *g;
  guint8    **train;   /* per category: which of its tokens trained the vector */
} GeoBox;

/* What an undo brings back. */
typedef struct
{
  GeoBox   *box;
  gboolean *visible;
  CsAxis    ax, ay;
  gboolean  orthogonalise;
  char     *description, *json_path, *workspace_path;
} GeoState;

struct _CsGeometryPage
{
  AdwBin              parent_instance;

  CsSession          *session;
  CsGeometrySettings *settings;
  CsJob              *job;
  CsHistory          *history;

  /* the template's */
  GtkWidget          *categories_box;
  GtkGrid            *axes_grid, *parameters_grid;
  GtkDropDown        *x_drop, *xm_drop, *y_drop, *ym_drop, *z_drop, *zm_drop;
  GtkCheckButton     *orth_check, *held_out_check, *wordnet_all_check;
  GtkDropDown        *pos_drop;
  GtkEntry           *block_entry;
  GtkLabel           *wordnet_label;
  CsWordNetView      *wordnet_view;
  GtkEntry           *hierarchy_entry, *extra_name, *extra_words;
  GtkSpinButton      *fraction_spin, *seed_spin, *min_spin;
  GtkSearchEntry     *search;
  GtkLabel           *selection_label;
  GtkTextView        *selection_view;
  GtkBox             *undo_box;
  GtkStack           *stack;
  CsProjectionView   *projection_view;
  CsHeatmapView      *cosine_view;
  CsFigureView       *validation_view, *orth_view, *fig2_view;
  CsSimplexView      *simplex_view;
  GtkWidget          *status_box, *cancel_button;
  GtkSpinner         *spinner;
  GtkLabel           *status_label;
  GtkProgressBar     *progress_bar;
  GtkWidget          *undo_button, *redo_button;

  GeoBox             *geo_box;        /* what is drawn; its geometry is the session's */
  CsGeometryWordNet  *wordnet;        /* the whole-WordNet figures of geo_box's geometry, or NULL */
  gboolean           *visible;        /* per category */
  CsAxis              ax, ay;
  gboolean            orthogonalise;
  CsProjection       *proj;
  CsProjection       *fig2[3];        /* the paper's Figure 2, when the categories exist */
  CsAxis              fig2_ax[3], fig2_ay[3];
  /* projected in the background with the geometry (the vocabulary pass is
   * seconds at 128k × 4096): taken when the page asks for these planes */
  CsProjection       *pre_fig2[3];
  CsProjection       *pre_proj;
  CsAxis              pre_ax, pre_ay;
  int                 shown_phase;    /* what the status line says: 0 none, 1 whitening, 2 estimating */
  gint64              phase_t0;       /* when the main loop first saw that phase */
  int                 phase_p0;
  char               *description;    /* where the categories came from */
  char               *error;
  gboolean            updating;       /* the page itself sets the widgets */
  gboolean            opening;        /* the page itself sets the session's model */
  gboolean            new_model;      /* the next computed geometry starts a new history */
};

/* cs-geometry-page.c */
CsGeometry *geometry_of              (CsGeometryPage *self);
void        geometry_page_set_box    (CsGeometryPage *self,
                                      GeoBox         *box);
GeoBox     *geo_box_new              (CsGeometry     *geometry);
void        geo_box_release          (GeoBox         *box);
void        geometry_page_fill_panel (CsGeometryPage *self);
void        geometry_page_select_axes_widgets (CsGeometryPage *self);
gboolean    geometry_page_reproject  (CsGeometryPage *self,
                                      GError        **error);
void        geometry_page_show_message (CsGeometryPage *self,
                                      const char     *message);
void        geometry_page_stop       (CsGeometryPage *self);
char       *geometry_page_describe_token (gint64      id,
                                      gpointer        data);
void        cs_geometry_page_refresh_figures (CsGeometryPage *self);
/* The 3-D view of x, y and the z drop-downs' axis; projected when the 3-D
 * tab is shown (a pass over the vocabulary), not before. */
void        cs_geometry_page_refresh_simplex (CsGeometryPage *self);
/* New axes or a new geometry: the planes projected before no longer apply. */
void        cs_geometry_page_forget_projected (CsGeometryPage *self);
/* Figure 2's three planes, projected in the background. */
void        cs_geometry_page_compute_figure2 (CsGeometryPage *self);

/* cs-geometry-page-actions.c */
GeoState   *geometry_page_capture    (CsGeometryPage *self);
void        geo_state_free           (gpointer        state);
void        geometry_page_remember   (CsGeometryPage *self,
                                      const char     *label);
void        geometry_page_forget_history (CsGeometryPage *self);
void        geometry_page_update_undo (CsGeometryPage *self);
void        geometry_page_add_shortcuts (CsGeometryPage *self);
void        geometry_page_selection_changed (CsGeometryPage *self);
void        geometry_page_token_activated   (CsGeometryPage *self,
                                             gint64          id);
void        cs_geometry_page_copy_figure    (CsGeometryPage *self);
void        cs_geometry_page_export_dialog  (CsGeometryPage *self);

G_END_DECLS
