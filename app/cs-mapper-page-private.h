#pragma once

/* What the Mapper page's two files share (cs-mapper-page.c: the panel, the
 * points, building and the view; cs-mapper-page-actions.c: undo of the
 * layout and the parameters, export, JSON, the workspace). */

#include "cs-graph-view.h"
#include "cs-history.h"
#include "cs-job.h"
#include "cs-mapper-page.h"
#include "cs-mapper-settings.h"
#include "cs-points.h"

typedef struct Layout Layout;

struct _CsMapperPage
{
  AdwBin            parent_instance;

  CsSession        *session;
  CsMapperSettings *settings;        /* the side panel's values */

  /* the template's widgets */
  GtkWidget        *categories_box, *tokens_button, *file_box, *show_button, *undo_box;
  GtkLabel         *file_label, *node_label, *status_label;
  GtkDropDown      *dataset_drop, *lens1_drop, *lens2_drop, *cover_drop, *cluster_drop, *colour_drop;
  GtkSpinButton    *intervals_spin, *overlap_spin, *eps_spin, *min_samples_spin, *min_inter_spin;
  GtkGrid          *lens_grid, *cluster_grid;
  GtkTextView      *members_view;
  GtkSpinner       *spinner;
  CsGraphView      *graph_view;
  GtkWidget        *undo_button, *redo_button;

  /* the panel's choices that depend on the geometry or the file */
  GPtrArray        *category_checks;  /* GtkCheckButton, one per category */
  GPtrArray        *lens_specs;       /* spec of each Lens 1 entry */
  GPtrArray        *lens2_specs;      /* of each Lens 2 entry: "" (none) first */
  GPtrArray        *colour_specs;     /* spec of each Colour entry */
  GtkStringList    *lens1_model, *lens2_model, *colour_model;
  int               filling;          /* > 0: the page sets the panel, nothing is built */

  /* points from a file (activations, a CSV) instead of category tokens */
  CsPoints         *file_points;
  char             *file_path;
  char             *file_dataset;

  /* the graph and what its points are */
  CsMapperGraph    *graph;
  gint32           *token_ids;        /* [n_points], NULL for a file's points without tokens */
  GStrv             point_labels;     /* [n_points] for a file's points, else NULL */
  int              *point_group;      /* [n_points] index into group_names */
  GStrv             group_names;
  double           *lens_values;      /* [n_points, n_lenses] */
  int               n_proj;           /* concept projections for colouring */
  double           *proj_values;      /* [n_points, n_proj]: g·ℓ̄/‖ℓ̄‖² */
  GStrv             proj_names;       /* [n_proj] category names */
  GStrv             lens_names;
  gboolean         *highlight;        /* [n_nodes], from the projection's selection */
  int               selected;
  char             *error;

  guint             rebuild_source;
  CsJob            *job;              /* the graph being built */

  /* undo: nodes moved by hand, a new layout, a change of parameters */
  CsHistory        *history;
  Layout           *drag_before;
  CsMapperSettings *built;            /* what built the graph shown */
  Layout           *pending;          /* positions to restore after an undo's build */
  gboolean          restoring;
};

/* cs-mapper-page.c */
void     cs_mapper_page_set_status      (CsMapperPage     *self,
                                         const char       *text,
                                         gboolean          busy);
/* The view shows the graph again (new colours, highlight or positions);
 * keep_view keeps its zoom. */
void     cs_mapper_page_refresh_figure  (CsMapperPage     *self,
                                         gboolean          keep_view);
void     cs_mapper_page_start_build     (CsMapperPage     *self);
/* A moment after the last change of a parameter (nothing while the page
 * itself fills the panel). */
void     cs_mapper_page_schedule_build  (CsMapperPage     *self);
void     cs_mapper_page_install_graph   (CsMapperPage     *self,
                                         CsMapperGraph    *graph,
                                         gint32           *ids,
                                         int              *group,
                                         GStrv             group_names,
                                         double           *lens,
                                         GStrv             lens_names,
                                         int               n_proj,
                                         double           *proj,
                                         GStrv             proj_names);
char    *cs_mapper_page_token_text      (CsMapperPage     *self,
                                         gint32            id);

/* cs-mapper-page-panel.c */
void     cs_mapper_page_bind_panel      (CsMapperPage     *self);
void     cs_mapper_page_fill_panel      (CsMapperPage     *self);
void     cs_mapper_page_show_file_mode  (CsMapperPage     *self);
void     cs_mapper_page_dataset_changed (CsMapperPage     *self);
void     cs_mapper_page_points_file_clicked (CsMapperPage *self);

/* cs-mapper-page-actions.c */
void     cs_mapper_page_history_init    (CsMapperPage     *self);
/* Another source of points, or other categories: nothing before applies. */
void     cs_mapper_page_forget_history  (CsMapperPage     *self);
/* A change by hand while an undo builds: the undo's positions no longer
 * apply. */
void     cs_mapper_page_drop_pending    (CsMapperPage     *self);
/* A build finished: a change of parameters by hand goes into the history
 * (before the new graph replaces the old), and after an undo's build the
 * nodes go back where they were. */
void     cs_mapper_page_built_before    (CsMapperPage     *self,
                                         CsMapperSettings *built_with);
void     cs_mapper_page_built_after     (CsMapperPage     *self,
                                         CsMapperSettings *built_with);
/* The template's handlers */
void     cs_mapper_page_node_move_begin (CsMapperPage     *self,
                                         int               node);
void     cs_mapper_page_node_move_end   (CsMapperPage     *self,
                                         int               node,
                                         gboolean          moved);
void     cs_mapper_page_export_dialog   (CsMapperPage     *self);
void     cs_mapper_page_json_dialog     (CsMapperPage     *self);
