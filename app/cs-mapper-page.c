#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-job.h"
#include "cs-ui.h"
#include "cs-figure-view.h"
#include "cs-history.h"
#include "cs-build-config.h"
#include "cs-categories.h"
#include "cs-export-dialog.h"
#include "cs-figure.h"
#include "cs-mapper-figure.h"
#include "cs-points.h"
#include "cs-hdf5.h"
#include "cs-mapper-page.h"
#include "cs-points.h"
#include "cs-tokenizer.h"

#define REBUILD_DELAY_MS 400

struct _CsMapperPage
{
  AdwBin           parent_instance;

  CsSession       *session;

  GtkWidget       *categories_box;
  GPtrArray       *category_checks;    /* GtkCheckButton, one per category */
  GtkDropDown     *lens1_drop, *lens2_drop, *cover_drop, *cluster_drop, *colour_drop;
  GtkSpinButton   *intervals_spin, *overlap_spin, *eps_spin, *min_samples_spin, *min_inter_spin;
  GtkStringList   *lens1_model, *lens2_model, *colour_model;
  GPtrArray       *lens_specs;         /* char*: spec of each lens1 entry */
  GtkDrawingArea  *area;
  GtkLabel        *status_label;
  GtkSpinner      *spinner;
  GtkLabel        *node_label;
  GtkTextView     *members_view;
  GtkWidget       *show_button;
  gboolean         filling;

  /* points from a file (activations, a CSV) instead of category tokens */
  CsPoints        *file_points;
  char            *file_path;
  char            *file_dataset;
  GtkWidget       *file_box, *tokens_button;
  GtkLabel        *file_label;
  GtkDropDown     *dataset_drop;

  /* the graph and what its points are */
  CsMapperGraph   *graph;
  gint32          *token_ids;          /* [n_points], NULL for a file's points without tokens */
  GStrv            point_labels;       /* [n_points] for a file's points, else NULL */
  int             *point_group;        /* [n_points] index into group_names */
  GStrv            group_names;
  double          *lens_values;        /* [n_points, n_lenses] */
  int              n_proj;             /* concept projections for colouring */
  double          *proj_values;        /* [n_points, n_proj]: g·ℓ̄/‖ℓ̄‖² */
  GStrv            proj_names;         /* [n_proj] category names */
  GStrv            lens_names;
  gboolean        *highlight;          /* [n_nodes], from the projection's selection */
  int              selected, hover;
  char            *error;

  /* view */
  gboolean         fixed_view;
  double           view[4];
  double           drag_view[4];
  int              drag_node;
  double           pointer_x, pointer_y;
  double           drag_x0, drag_y0;

  guint            rebuild_source;
  CsJob           *job;            /* the graph being built */

  /* undo of the layout: nodes moved by hand, a new layout */
  CsHistory       *history;
  GtkWidget       *undo_button, *redo_button;
  struct Layout   *drag_before;
  struct Settings *built;              /* what built the graph shown */
  struct Layout   *pending;            /* positions to restore after an undo's build */
  gboolean         restoring;
};

G_DEFINE_FINAL_TYPE (CsMapperPage, cs_mapper_page, ADW_TYPE_BIN)

/* ---- figure data, shared by the screen and export ---- */

typedef struct
{
  CsMapperFigure  mf;
  GPtrArray      *names;
  char           *value_label;
  char           *title;
} GraphData;

static void
graph_data_init (GraphData *d, CsMapperPage *self, gboolean interactive)
{
  guint colour = gtk_drop_down_get_selected (self->colour_drop);
  g_autofree double *values = NULL;
  int nl = self->graph->params.n_lenses;

  memset (d, 0, sizeof *d);
  d->names = g_ptr_array_new_with_free_func (g_free);
  if (colour == 0 && self->group_names)
    for (guint k = 0; self->group_names[k]; k++)
      g_ptr_array_add (d->names, g_markup_escape_text (self->group_names[k], -1));
  else if (colour >= 3 && (int) colour - 3 < self->n_proj && self->proj_values)
    {
      int c = (int) colour - 3;
      g_autofree char *spec = g_strdup_printf ("vector:%s", self->proj_names[c]);
      g_autofree char *lm = cs_mapper_lens_markup (spec);
      values = g_new (double, MAX (1, self->graph->n_points));
      for (gint64 i = 0; i < self->graph->n_points; i++)
        values[i] = self->proj_values[i * self->n_proj + c];
      d->value_label = g_strdup_printf (_("mean %s"), lm);
    }
  else
    {
      int l = colour == 2 && nl > 1 ? 1 : 0;
      values = g_new (double, MAX (1, self->graph->n_points));
      for (gint64 i = 0; i < self->graph->n_points; i++)
        values[i] = self->lens_values[i * nl + l];
      g_autofree char *lm = cs_mapper_lens_markup (self->lens_names[l]);
      d->value_label = g_strdup_printf (_("mean %s"), lm);
    }
  cs_mapper_figure_init (&d->mf, self->graph, values, d->value_label, d->names->len ? self->point_group : NULL,
                         d->names->len, (const char * const *) d->names->pdata);
  d->title = cs_mapper_title_markup ((const char * const *) self->lens_names, nl);
  d->mf.fig.title = d->title;
  if (interactive)
    {
      d->mf.fig.highlight = self->highlight;
      d->mf.fig.hover = self->hover >= 0 ? self->hover : self->selected;
      d->mf.fig.fixed_view = self->fixed_view;
      memcpy (d->mf.fig.view, self->view, sizeof self->view);
    }
}

static void
graph_data_clear (GraphData *d)
{
  cs_mapper_figure_clear (&d->mf);
  g_ptr_array_unref (d->names);
  g_free (d->value_label);
  g_free (d->title);
}

static void
draw_graph (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  GraphData *d = data;
  cs_figure_draw_graph (cr, 0, 0, w, h, s, &d->mf.fig);
}

static void
area_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CsMapperPage *self = user_data;
  CsFigureStyle s = cs_figure_screen_style ();
  GraphData d;

  s.width = width;
  s.height = height;
  cs_figure_paint_background (cr, width, height, &s);
  if (!self->graph)
    return;
  graph_data_init (&d, self, TRUE);
  draw_graph (cr, width, height, &s, &d);
  graph_data_clear (&d);
}

static void
redraw (CsMapperPage *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static gboolean
with_frame (CsMapperPage *self, CsFigureFrame *f)
{
  CsFigureStyle s = cs_figure_screen_style ();
  int w = gtk_widget_get_width (GTK_WIDGET (self->area)), h = gtk_widget_get_height (GTK_WIDGET (self->area));
  GraphData d;
  if (!self->graph || !self->graph->x || w <= 0 || h <= 0)
    return FALSE;
  graph_data_init (&d, self, TRUE);
  cs_figure_graph_frame (0, 0, w, h, &s, &d.mf.fig, f);
  graph_data_clear (&d);
  return TRUE;
}

int
cs_mapper_page_node_at (CsMapperPage *self, double x, double y)
{
  CsFigureStyle s = cs_figure_screen_style ();
  int w = gtk_widget_get_width (GTK_WIDGET (self->area)), h = gtk_widget_get_height (GTK_WIDGET (self->area));
  GraphData d;
  int node;
  if (!self->graph || !self->graph->x || w <= 0 || h <= 0)
    return -1;
  graph_data_init (&d, self, TRUE);
  node = cs_figure_graph_node_at (0, 0, w, h, &s, &d.mf.fig, x, y);
  graph_data_clear (&d);
  return node;
}

gboolean
cs_mapper_page_node_position (CsMapperPage *self, int node, double *x, double *y)
{
  CsFigureFrame f;
  if (!self->graph || node < 0 || node >= self->graph->n_nodes || !with_frame (self, &f))
    return FALSE;
  *x = f.x0 + (self->graph->x[node] - f.xmin) / (f.xmax - f.xmin) * f.w;
  *y = f.y0 + f.h - (self->graph->y[node] - f.ymin) / (f.ymax - f.ymin) * f.h;
  return TRUE;
}

/* ---- node details ---- */

static char *
token_text (CsMapperPage *self, gint32 id)
{
  CsTokenizer *tok = self->session ? cs_session_get_tokenizer (self->session) : NULL;
  return tok ? cs_tokenizer_id_to_text (tok, id) : g_strdup_printf ("%d", id);
}

char *
cs_mapper_page_dup_members_text (CsMapperPage *self)
{
  GString *s = g_string_new (NULL);
  const CsMapperNode *node;
  if (!self->graph || self->selected < 0 || (!self->token_ids && !self->point_labels))
    return g_string_free (s, FALSE);
  node = &self->graph->nodes[self->selected];
  for (int t = 0; t < node->n_members; t++)
    {
      int p = node->members[t];
      gboolean class_label = !self->token_ids && self->point_group && self->group_names && self->point_group[p] >= 0 &&
                             g_str_equal (self->point_labels[p], self->group_names[self->point_group[p]]);
      /* a point whose label is only its class is named by its row */
      g_autofree char *text = self->token_ids ? token_text (self, self->token_ids[p])
                              : class_label   ? g_strdup_printf (_("row %d"), p + 1)
                                              : g_strdup (self->point_labels[p]);
      if (self->token_ids && self->point_labels)
        g_string_append_printf (s, "%s\t%s\n", text, self->point_labels[p]);   /* a token where it occurred */
      else if (self->point_group && self->group_names && self->point_group[p] >= 0)
        g_string_append_printf (s, "%s\t%s\n", text, self->group_names[self->point_group[p]]);
      else
        g_string_append_printf (s, "%s\n", text);
    }
  return g_string_free (s, FALSE);
}

/* "mammal 60 %, animal 30 %" for a node */
static char *
composition (CsMapperPage *self, int v)
{
  const CsMapperNode *node = &self->graph->nodes[v];
  guint ng = self->group_names ? g_strv_length (self->group_names) : 0;
  g_autofree int *count = g_new0 (int, MAX (1, ng));
  GString *s = g_string_new (NULL);
  if (!ng || !self->point_group)
    return g_string_free (s, FALSE);
  for (int t = 0; t < node->n_members; t++)
    if (self->point_group[node->members[t]] >= 0)
      count[self->point_group[node->members[t]]]++;
  for (guint k = 0; k < ng; k++)
    if (count[k])
      g_string_append_printf (s, "%s%s %.0f %%", s->len ? ", " : "", self->group_names[k],
                              100.0 * count[k] / node->n_members);
  return g_string_free (s, FALSE);
}

void
cs_mapper_page_select_node (CsMapperPage *self, int node)
{
  g_autofree char *text = NULL;
  if (!self->graph || node >= self->graph->n_nodes)
    node = -1;
  self->selected = node;
  if (node < 0)
    {
      gtk_label_set_text (self->node_label, _("Click a node to list its tokens"));
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->members_view), "", -1);
      gtk_widget_set_sensitive (self->show_button, FALSE);
      if (self->session)
        cs_session_set_marked (self->session, NULL, 0);
      redraw (self);
      return;
    }
  {
    const CsMapperNode *n = &self->graph->nodes[node];
    g_autofree char *comp = composition (self, node);
    g_autofree char *label = NULL;
    g_autofree gint32 *ids = g_new (gint32, MAX (1, n->n_members));
    label = self->token_ids
              ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Node %d: %d token", "Node %d: %d tokens", n->n_members),
                                 node, n->n_members)
              : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Node %d: %d point", "Node %d: %d points", n->n_members),
                                 node, n->n_members);
    if (comp && *comp)
      {
        char *l2 = g_strdup_printf ("%s\n%s", label, comp);
        g_free (label);
        label = l2;
      }
    gtk_label_set_text (self->node_label, label);
    for (int t = 0; t < n->n_members; t++)
      ids[t] = self->token_ids ? self->token_ids[n->members[t]] : -1;
    if (self->session && self->token_ids)
      cs_session_set_marked (self->session, ids, n->n_members);
  }
  text = cs_mapper_page_dup_members_text (self);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->members_view), text, -1);
  gtk_widget_set_sensitive (self->show_button, self->token_ids != NULL);
  redraw (self);
}

int
cs_mapper_page_get_selected_node (CsMapperPage *self)
{
  return self->selected;
}

/* ---- undo: the graph's settings and node positions before a change of
 * parameters, a node moved by hand or a new layout. The same settings give
 * the same graph, so taking back a change of parameters builds again and
 * puts the nodes where they were. ---- */

typedef struct Settings
{
  guint     n_cats;
  gboolean *cats;
  guint     lens1, lens2, cover, cluster;
  double    intervals, overlap, eps, min_samples, min_inter;
} Settings;

static void
settings_free (Settings *st)
{
  if (!st)
    return;
  g_free (st->cats);
  g_free (st);
}

static Settings *
settings_copy (const Settings *st)
{
  Settings *c;
  if (!st)
    return NULL;
  c = g_memdup2 (st, sizeof *st);
  c->cats = g_memdup2 (st->cats, sizeof (gboolean) * MAX (st->n_cats, 1));
  return c;
}

static Settings *
settings_read (CsMapperPage *self)
{
  Settings *st = g_new0 (Settings, 1);
  st->n_cats = self->category_checks->len;
  st->cats = g_new0 (gboolean, MAX (st->n_cats, 1));
  for (guint i = 0; i < st->n_cats; i++)
    st->cats[i] = gtk_check_button_get_active (self->category_checks->pdata[i]);
  st->lens1 = gtk_drop_down_get_selected (self->lens1_drop);
  st->lens2 = gtk_drop_down_get_selected (self->lens2_drop);
  st->cover = gtk_drop_down_get_selected (self->cover_drop);
  st->cluster = gtk_drop_down_get_selected (self->cluster_drop);
  st->intervals = gtk_spin_button_get_value (self->intervals_spin);
  st->overlap = gtk_spin_button_get_value (self->overlap_spin);
  st->eps = gtk_spin_button_get_value (self->eps_spin);
  st->min_samples = gtk_spin_button_get_value (self->min_samples_spin);
  st->min_inter = gtk_spin_button_get_value (self->min_inter_spin);
  return st;
}

static gboolean
settings_equal (const Settings *a, const Settings *b)
{
  return a && b && a->n_cats == b->n_cats && memcmp (a->cats, b->cats, sizeof (gboolean) * a->n_cats) == 0 &&
         a->lens1 == b->lens1 && a->lens2 == b->lens2 && a->cover == b->cover && a->cluster == b->cluster &&
         a->intervals == b->intervals && a->overlap == b->overlap && a->eps == b->eps &&
         a->min_samples == b->min_samples && a->min_inter == b->min_inter;
}

static void
settings_apply (CsMapperPage *self, const Settings *st)
{
  self->filling = TRUE;
  for (guint i = 0; i < st->n_cats && i < self->category_checks->len; i++)
    gtk_check_button_set_active (self->category_checks->pdata[i], st->cats[i]);
  gtk_drop_down_set_selected (self->lens1_drop, st->lens1);
  gtk_drop_down_set_selected (self->lens2_drop, st->lens2);
  gtk_drop_down_set_selected (self->cover_drop, st->cover);
  gtk_drop_down_set_selected (self->cluster_drop, st->cluster);
  gtk_spin_button_set_value (self->intervals_spin, st->intervals);
  gtk_spin_button_set_value (self->overlap_spin, st->overlap);
  gtk_spin_button_set_value (self->eps_spin, st->eps);
  gtk_spin_button_set_value (self->min_samples_spin, st->min_samples);
  gtk_spin_button_set_value (self->min_inter_spin, st->min_inter);
  self->filling = FALSE;
}

typedef struct Layout
{
  int       n;
  double   *x, *y;
  Settings *settings;   /* what built the graph, NULL: a graph from a workspace */
} Layout;

static void
layout_free (gpointer p)
{
  Layout *l = p;
  g_free (l->x);
  g_free (l->y);
  settings_free (l->settings);
  g_free (l);
}

static Layout *
layout_capture (CsMapperPage *self)
{
  const CsMapperGraph *g = self->graph;
  Layout *l = g_new0 (Layout, 1);
  l->n = g->n_nodes;
  l->x = g_memdup2 (g->x, sizeof (double) * g->n_nodes);
  l->y = g_memdup2 (g->y, sizeof (double) * g->n_nodes);
  l->settings = settings_copy (self->built);
  return l;
}

static void
layout_apply (CsMapperPage *self, const Layout *l)
{
  if (self->graph && l->n == self->graph->n_nodes)
    {
      memcpy (self->graph->x, l->x, sizeof (double) * l->n);
      memcpy (self->graph->y, l->y, sizeof (double) * l->n);
    }
  self->fixed_view = FALSE;
  redraw (self);
}

static void
update_undo_buttons (CsMapperPage *self)
{
  cs_ui_update_undo (self->undo_button, self->redo_button, self->history);
}

/* Another source of points, or other categories: nothing before applies. */
static void
forget_history (CsMapperPage *self)
{
  cs_history_clear (self->history);
  g_clear_pointer (&self->built, settings_free);
  g_clear_pointer (&self->pending, layout_free);
  self->restoring = FALSE;
  update_undo_buttons (self);
}

static void start_build (CsMapperPage *self);

static gboolean
layout_step (CsMapperPage *self, gboolean undo)
{
  Layout *l;
  if (!self->graph || cs_job_running (self->job) ||
      !(undo ? cs_history_undo_label (self->history) : cs_history_redo_label (self->history)))
    return FALSE;
  l = undo ? cs_history_undo (self->history, layout_capture (self))
           : cs_history_redo (self->history, layout_capture (self));
  update_undo_buttons (self);
  if (!l->settings || settings_equal (l->settings, self->built))
    {
      layout_apply (self, l);
      layout_free (l);
      return TRUE;
    }
  /* other parameters: build with them, then put the nodes back */
  settings_apply (self, l->settings);
  g_clear_pointer (&self->pending, layout_free);
  self->pending = l;
  self->restoring = TRUE;
  start_build (self);
  if (!cs_job_running (self->job))
    {
      g_clear_pointer (&self->pending, layout_free);
      self->restoring = FALSE;
    }
  return TRUE;
}

gboolean
cs_mapper_page_undo (CsMapperPage *self)
{
  g_return_val_if_fail (CS_IS_MAPPER_PAGE (self), FALSE);
  return layout_step (self, TRUE);
}

gboolean
cs_mapper_page_redo (CsMapperPage *self)
{
  g_return_val_if_fail (CS_IS_MAPPER_PAGE (self), FALSE);
  return layout_step (self, FALSE);
}

const char *
cs_mapper_page_get_undo_label (CsMapperPage *self)
{
  return cs_history_undo_label (self->history);
}

/* ---- building in the background ---- */

typedef struct
{
  CsModel         *model;        /* keeps the unembedding alive */
  CsGeometrySpace *space;        /* a private copy */
  gint32          *ids;
  int              n;
  struct Settings *settings;     /* the side panel's values it was started with */
  double          *X;            /* a file's points [n, d] instead of rows of g */
  int              d;
  GStrv            labels;
  int             *group;
  GStrv            group_names;
  char            *lens_spec[2];
  double          *lens_vec[2];  /* ℓ̄ for vector lenses */
  CsMapperParams   params;
  int              n_proj;
  double          *proj_vecs;    /* [n_proj, d] ℓ̄ of the estimated categories */
  GStrv            proj_names;
  /* results */
  CsMapperGraph   *graph;
  double          *lens;
  GStrv            lens_names;
  double          *proj;         /* [n, n_proj] */
} BuildJob;

static void
build_job_free (gpointer p)
{
  BuildJob *j = p;
  g_clear_object (&j->model);
  cs_geometry_space_free (j->space);
  g_free (j->ids);
  g_free (j->X);
  g_strfreev (j->labels);
  settings_free (j->settings);
  g_free (j->group);
  g_strfreev (j->group_names);
  for (int l = 0; l < 2; l++)
    {
      g_free (j->lens_spec[l]);
      g_free (j->lens_vec[l]);
    }
  cs_mapper_graph_free (j->graph);
  g_free (j->lens);
  g_strfreev (j->lens_names);
  g_free (j->proj_vecs);
  g_strfreev (j->proj_names);
  g_free (j->proj);
  g_free (j);
}

static void
build_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BuildJob *j = task_data;
  int d = j->X ? j->d : j->space->d;
  g_autofree double *X = j->X ? g_steal_pointer (&j->X) : g_new (double, (gsize) j->n * d);
  g_autofree double *col = g_new (double, MAX (1, j->n));
  GError *error = NULL;
  int nl = j->params.n_lenses;

  if (j->space)
    cs_geometry_g_rows (j->space, j->ids, j->n, X);
  j->lens = g_new (double, (gsize) j->n * nl);
  j->lens_names = g_new0 (char *, nl + 1);
  for (int l = 0; l < nl; l++)
    {
      CsLensSpec spec;
      if (!cs_lens_parse (j->lens_spec[l], &spec, &error) ||
          !cs_lens_compute (&spec, X, j->n, d, j->lens_vec[l], col, cancellable, &error))
        {
          cs_lens_clear (&spec);
          g_task_return_error (task, error);
          return;
        }
      j->lens_names[l] = cs_lens_describe (&spec);
      cs_lens_clear (&spec);
      for (int i = 0; i < j->n; i++)
        j->lens[(gsize) i * nl + l] = col[i];
    }
  j->graph = cs_mapper_build (X, j->n, d, j->lens, &j->params, NULL, NULL, cancellable, &error);
  if (!j->graph)
    {
      g_task_return_error (task, error);
      return;
    }
  cs_mapper_layout (j->graph, 0);
  if (j->n_proj > 0)
    {
      int dd = d;
      j->proj = g_new (double, (gsize) j->n * j->n_proj);
      for (int c = 0; c < j->n_proj; c++)
        {
          const double *v = j->proj_vecs + (gsize) c * dd;
          double nn = 0;
          for (int k = 0; k < dd; k++)
            nn += v[k] * v[k];
          for (int i = 0; i < j->n; i++)
            {
              double s2 = 0;
              for (int k = 0; k < dd; k++)
                s2 += X[(gsize) i * dd + k] * v[k];
              j->proj[(gsize) i * j->n_proj + c] = nn > 0 ? s2 / nn : 0;
            }
        }
    }
  g_task_return_boolean (task, TRUE);
}

static void
set_status (CsMapperPage *self, const char *text, gboolean busy)
{
  gtk_label_set_text (self->status_label, text ? text : "");
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
}

static void on_selection_changed (CsMapperPage *self);

static void
install_graph (CsMapperPage *self, CsMapperGraph *graph, gint32 *ids, int *group, GStrv group_names,
               double *lens, GStrv lens_names, int n_proj, double *proj, GStrv proj_names)
{
  g_free (self->proj_values);
  g_strfreev (self->proj_names);
  self->n_proj = proj ? n_proj : 0;
  self->proj_values = proj;
  self->proj_names = proj_names;
  g_clear_pointer (&self->graph, cs_mapper_graph_free);
  g_free (self->token_ids);
  g_clear_pointer (&self->point_labels, g_strfreev);
  g_free (self->point_group);
  g_strfreev (self->group_names);
  g_free (self->lens_values);
  g_strfreev (self->lens_names);
  g_clear_pointer (&self->highlight, g_free);
  self->graph = graph;
  self->token_ids = ids;
  self->point_group = group;
  self->group_names = group_names;
  self->lens_values = lens;
  self->lens_names = lens_names;
  self->fixed_view = FALSE;
  self->hover = -1;
  {
    g_autofree char *comps = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d component", "%d components",
                                                           graph->n_components), graph->n_components);
    g_autofree char *text = g_strdup_printf (
      ids ? _("%d nodes, %d edges, %s, cycle rank %d; %d of %d tokens in nodes")
          : _("%d nodes, %d edges, %s, cycle rank %d; %d of %d points in nodes"),
      graph->n_nodes, graph->n_edges, comps, graph->cycle_rank, (int) graph->n_covered, (int) graph->n_points);
    if (graph->params.cluster == CS_CLUSTER_DBSCAN)
      {
        char *t2 = g_strdup_printf (_("%s (eps %.3g)"), text, graph->eps);
        g_free (text);
        text = t2;
      }
    set_status (self, text, FALSE);
  }
  cs_mapper_page_select_node (self, -1);
  /* the projection's current selection highlights nodes at once */
  on_selection_changed (self);
}

static void
build_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CsMapperPage *self = CS_MAPPER_PAGE (source);
  g_autoptr(GError) error = NULL;
  BuildJob *j = g_task_get_task_data (G_TASK (result));

  if (!cs_job_finish (self->job, result))
    return;   /* superseded */
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      set_status (self, error->message, FALSE);
      return;
    }
  g_clear_pointer (&self->error, g_free);
  {
    /* a change of parameters by hand goes into the history */
    Layout *before = self->graph && self->built && !self->restoring ? layout_capture (self) : NULL;
    if (before && !settings_equal (before->settings, j->settings))
      {
        cs_history_push (self->history, _("changing the parameters"), before);
        update_undo_buttons (self);
      }
    else if (before)
      layout_free (before);
  }
  install_graph (self, g_steal_pointer (&j->graph), g_steal_pointer (&j->ids), g_steal_pointer (&j->group),
                 g_steal_pointer (&j->group_names), g_steal_pointer (&j->lens), g_steal_pointer (&j->lens_names),
                 j->n_proj, g_steal_pointer (&j->proj), g_steal_pointer (&j->proj_names));
  self->point_labels = g_steal_pointer (&j->labels);
  settings_free (self->built);
  self->built = g_steal_pointer (&j->settings);
  if (self->restoring)
    {
      if (self->pending)
        layout_apply (self, self->pending);
      g_clear_pointer (&self->pending, layout_free);
      self->restoring = FALSE;
    }
}

static const char *
lens_spec_at (CsMapperPage *self, guint i)
{
  return i < self->lens_specs->len ? self->lens_specs->pdata[i] : NULL;
}

static void
read_params (CsMapperPage *self, BuildJob *j)
{
  guint l2 = gtk_drop_down_get_selected (self->lens2_drop);
  j->settings = settings_read (self);
  cs_mapper_params_init (&j->params);
  j->params.n_lenses = l2 > 0 ? 2 : 1;
  j->lens_spec[0] = g_strdup (lens_spec_at (self, gtk_drop_down_get_selected (self->lens1_drop)));
  if (l2 > 0)
    j->lens_spec[1] = g_strdup (lens_spec_at (self, l2 - 1));
  j->params.intervals = gtk_spin_button_get_value_as_int (self->intervals_spin);
  j->params.overlap = gtk_spin_button_get_value (self->overlap_spin);
  j->params.cover = gtk_drop_down_get_selected (self->cover_drop) == 1 ? CS_COVER_BALANCED : CS_COVER_UNIFORM;
  j->params.cluster = gtk_drop_down_get_selected (self->cluster_drop) == 1 ? CS_CLUSTER_SINGLE_LINKAGE : CS_CLUSTER_DBSCAN;
  j->params.eps = gtk_spin_button_get_value (self->eps_spin);
  j->params.min_samples = gtk_spin_button_get_value_as_int (self->min_samples_spin);
  j->params.min_intersection = gtk_spin_button_get_value_as_int (self->min_inter_spin);
}

static void
run_build (CsMapperPage *self, BuildJob *j, const char *message)
{
  set_status (self, message, TRUE);
  cs_job_start (self->job, self, j, build_job_free, build_thread, build_done);
}

/* The graph of the file's points: its own coordinates, no concept vectors. */
static void
start_build_file (CsMapperPage *self)
{
  const CsPoints *p = self->file_points;
  BuildJob *j = g_new0 (BuildJob, 1);
  g_autofree char *msg = NULL;

  j->n = (int) p->n;
  j->d = p->d;
  j->X = g_memdup2 (p->X, sizeof (double) * p->n * p->d);
  j->ids = p->token_ids ? g_memdup2 (p->token_ids, sizeof (gint32) * p->n) : NULL;
  j->labels = g_strdupv (p->labels);
  j->group = p->group ? g_memdup2 (p->group, sizeof (int) * p->n) : NULL;
  j->group_names = g_strdupv (p->group_names);
  read_params (self, j);
  msg = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Building the graph of %d point…",
                                      "Building the graph of %d points…", j->n), j->n);
  run_build (self, j, msg);
}

static void
start_build (CsMapperPage *self)
{
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  CsGeometrySpace *space = self->session ? cs_session_get_space (self->session) : NULL;
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  g_autoptr(GArray) cats = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GError) error = NULL;
  g_autoptr(CsPoints) pts = NULL;
  BuildJob *j;

  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  if (self->file_points)
    {
      start_build_file (self);
      return;
    }
  if (!geo || !space || !model)
    {
      set_status (self, _("The Geometry view's concept vectors come first: open a model and let them compute"), FALSE);
      return;
    }
  for (guint i = 0; i < self->category_checks->len; i++)
    if (gtk_check_button_get_active (self->category_checks->pdata[i]))
      {
        int c = (int) i;
        g_array_append_val (cats, c);
      }
  if (cats->len == 0)
    {
      set_status (self, _("Choose the categories whose tokens are the points"), FALSE);
      return;
    }
  j = g_new0 (BuildJob, 1);
  /* which tokens, and the most specific chosen category of each (the rows
   * of g themselves are computed in the thread) */
  pts = cs_points_of_categories (geo, NULL, (const int *) cats->data, (int) cats->len, &error);
  if (!pts)
    {
      set_status (self, error->message, FALSE);
      build_job_free (j);
      return;
    }
  j->model = g_object_ref (model);
  j->space = cs_geometry_space_ref (space);
  j->n = (int) pts->n;
  j->ids = g_steal_pointer (&pts->token_ids);
  j->group = g_steal_pointer (&pts->group);
  j->group_names = g_steal_pointer (&pts->group_names);
  read_params (self, j);
  for (int l = 0; l < j->params.n_lenses; l++)
    if (j->lens_spec[l] && g_str_has_prefix (j->lens_spec[l], "vector:"))
      {
        int c = cs_category_set_find (geo->categories, j->lens_spec[l] + 7);
        if (c >= 0 && geo->vectors[c].estimated)
          j->lens_vec[l] = g_memdup2 (geo->vectors[c].lbar, sizeof (double) * geo->d);
      }
  {
    g_autoptr(GPtrArray) names = g_ptr_array_new ();
    j->proj_vecs = g_new (double, (gsize) MAX (1, geo->categories->items->len) * geo->d);
    for (guint c = 0; c < geo->categories->items->len; c++)
      if (geo->vectors[c].estimated)
        {
          memcpy (j->proj_vecs + (gsize) j->n_proj * geo->d, geo->vectors[c].lbar, sizeof (double) * geo->d);
          g_ptr_array_add (names, g_strdup (cs_category_set_get (geo->categories, c)->name));
          j->n_proj++;
        }
    g_ptr_array_add (names, NULL);
    j->proj_names = (GStrv) g_ptr_array_steal (names, NULL);
  }
  {
    g_autofree char *msg = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Building the graph of %d token…",
                                                         "Building the graph of %d tokens…", j->n), j->n);
    run_build (self, j, msg);
  }
}

static gboolean
rebuild_timeout (gpointer data)
{
  CsMapperPage *self = data;
  self->rebuild_source = 0;
  start_build (self);
  return G_SOURCE_REMOVE;
}

/* Parameters changed: build a moment after the last change. */
static void
schedule_rebuild (CsMapperPage *self)
{
  if (self->filling)
    return;
  /* a change by hand while an undo builds: the undo's positions no longer apply */
  g_clear_pointer (&self->pending, layout_free);
  self->restoring = FALSE;
  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  self->rebuild_source = g_timeout_add (REBUILD_DELAY_MS, rebuild_timeout, self);
}

/* ---- the Geometry view's categories and selection ---- */

static void
fill_from_geometry (CsMapperPage *self)
{
  CsGeometry *geo = cs_session_get_geometry (self->session);
  GtkWidget *child;
  int default_l1 = 0, default_l2 = 0;
  const char *extra[] = { "pca1", "pca2", "l2", "density", "eccentricity", "knn:5" };
  const char *extra_names[] = { N_("Principal component 1"), N_("Principal component 2"), N_("L2 norm"),
                                N_("Density"), N_("Eccentricity"), N_("Distance to the 5th neighbour") };

  self->filling = TRUE;
  while ((child = gtk_widget_get_first_child (self->categories_box)))
    gtk_box_remove (GTK_BOX (self->categories_box), child);
  g_ptr_array_set_size (self->category_checks, 0);
  g_ptr_array_set_size (self->lens_specs, 0);
  gtk_string_list_splice (self->lens1_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->lens1_model)), NULL);
  gtk_string_list_splice (self->lens2_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->lens2_model)), NULL);
  gtk_string_list_append (self->lens2_model, _("None"));
  gtk_string_list_splice (self->colour_model, 3, g_list_model_get_n_items (G_LIST_MODEL (self->colour_model)) - 3, NULL);
  if (geo)
    {
      for (guint i = 0; i < geo->categories->items->len; i++)
        {
          CsCategory *c = cs_category_set_get (geo->categories, i);
          g_autofree char *label = g_strdup_printf ("%s (%u)", c->name, c->tokens->len);
          GtkWidget *check = gtk_check_button_new_with_label (label);
          /* the root of the hierarchy by default: its tokens hold the children's */
          gtk_check_button_set_active (GTK_CHECK_BUTTON (check), i == 0);
          g_signal_connect_swapped (check, "toggled", G_CALLBACK (schedule_rebuild), self);
          gtk_box_append (GTK_BOX (self->categories_box), check);
          g_ptr_array_add (self->category_checks, check);
        }
      for (guint i = 0; i < geo->categories->items->len && !self->file_points; i++)
        if (geo->vectors[i].estimated)
          {
            CsCategory *c = cs_category_set_get (geo->categories, i);
            g_autofree char *label = g_strdup_printf (_("Projection on ℓ̄ %s"), c->name);
            if (g_str_equal (c->name, "mammal"))
              default_l1 = (int) self->lens_specs->len;
            if (g_str_equal (c->name, "bird"))
              default_l2 = (int) self->lens_specs->len + 1;
            g_ptr_array_add (self->lens_specs, g_strdup_printf ("vector:%s", c->name));
            gtk_string_list_append (self->lens1_model, label);
            gtk_string_list_append (self->lens2_model, label);
            gtk_string_list_append (self->colour_model, label);
          }
    }
  for (guint k = 0; k < G_N_ELEMENTS (extra); k++)
    {
      g_ptr_array_add (self->lens_specs, g_strdup (extra[k]));
      gtk_string_list_append (self->lens1_model, _(extra_names[k]));
      gtk_string_list_append (self->lens2_model, _(extra_names[k]));
    }
  if (self->file_points)
    {
      /* a file's own coordinates, for low-dimensional points */
      for (int k = 0; k < MIN (self->file_points->d, 8); k++)
        {
          g_autofree char *name = g_strdup_printf (_("Coordinate %d"), k + 1);
          g_ptr_array_add (self->lens_specs, g_strdup_printf ("column:%d", k));
          gtk_string_list_append (self->lens1_model, name);
          gtk_string_list_append (self->lens2_model, name);
        }
      default_l1 = 0;   /* the first two principal components */
      default_l2 = 2;
    }
  gtk_drop_down_set_selected (self->lens1_drop, default_l1);
  gtk_drop_down_set_selected (self->lens2_drop, default_l2);
  for (guint i = 0; i < self->category_checks->len; i++)
    gtk_widget_set_sensitive (self->category_checks->pdata[i], self->file_points == NULL);
  self->filling = FALSE;
}

static void
on_geometry_changed (CsMapperPage *self)
{
  forget_history (self);
  fill_from_geometry (self);
  if (!self->file_points)
    start_build (self);
}

/* ---- points from a file ---- */

static void
show_file_mode (CsMapperPage *self)
{
  gboolean file = self->file_points != NULL;
  gtk_widget_set_visible (self->file_box, file);
  gtk_widget_set_visible (self->tokens_button, file);
  if (file)
    {
      g_autofree char *base = g_path_get_basename (self->file_path);
      gulong n = (gulong) self->file_points->n;
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s: %lu point of %d dimensions",
                                                            "%s: %lu points of %d dimensions", n),
                                               base, n, self->file_points->d);
      gtk_label_set_text (self->file_label, text);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->file_label), self->file_path);
    }
}

/* A file's datasets worth offering: numbers of rank ≥ 2, forward's token
 * ids and lengths left out. */
static GStrv
point_datasets (const char *path, GError **error)
{
  g_auto(GStrv) all = cs_h5_list_datasets (path, 2, error);
  GPtrArray *keep;
  if (!all)
    return NULL;
  keep = g_ptr_array_new ();
  for (guint i = 0; all[i]; i++)
    if (!g_str_equal (all[i], "/input_ids") && !g_str_equal (all[i], "/lengths"))
      g_ptr_array_add (keep, g_strdup (all[i]));
  g_ptr_array_add (keep, NULL);
  return (GStrv) g_ptr_array_free (keep, FALSE);
}

gboolean
cs_mapper_page_load_points (CsMapperPage *self, const char *path, const char *dataset, GError **error)
{
  g_autoptr(CsPoints) p = NULL;
  g_auto(GStrv) sets = NULL;
  gboolean csv = g_str_has_suffix (path, ".csv") || g_str_has_suffix (path, ".CSV");
  const char *chosen = dataset;
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;

  g_return_val_if_fail (CS_IS_MAPPER_PAGE (self), FALSE);
  if (csv)
    p = cs_points_from_csv (path, error);
  else
    {
      if (!(sets = point_datasets (path, error)))
        return FALSE;
      if (!sets[0])
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("%s holds no dataset of points (numbers with two or more axes)"), path);
          return FALSE;
        }
      if (!chosen)
        {
          /* forward's captures before its logits */
          chosen = sets[0];
          for (guint i = 0; sets[i]; i++)
            if (!g_str_equal (sets[i], "/logits"))
              {
                chosen = sets[i];
                break;
              }
        }
      p = cs_points_from_h5 (path, chosen, error);
    }
  if (!p)
    return FALSE;
  if (p->n < 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s holds fewer than two points"), path);
      return FALSE;
    }
  if (p->token_ids && model)
    {
      /* tokens of another vocabulary are no tokens of this model */
      gint64 vocab = cs_model_get_config (model)->vocab;
      for (gint64 i = 0; i < p->n; i++)
        if (p->token_ids[i] >= vocab)
          {
            g_clear_pointer (&p->token_ids, g_free);
            break;
          }
    }
  g_clear_pointer (&self->file_points, cs_points_free);
  self->file_points = g_steal_pointer (&p);
  g_free (self->file_path);
  self->file_path = g_strdup (path);
  g_free (self->file_dataset);
  self->file_dataset = g_strdup (csv ? NULL : chosen);
  {
    g_autoptr(GtkStringList) list = gtk_string_list_new ((const char * const *) sets);
    guint at = 0;
    for (guint i = 0; sets && sets[i]; i++)
      if (g_str_equal (sets[i], chosen))
        at = i;
    self->filling = TRUE;
    gtk_drop_down_set_model (self->dataset_drop, G_LIST_MODEL (list));
    gtk_drop_down_set_selected (self->dataset_drop, at);
    gtk_widget_set_visible (GTK_WIDGET (self->dataset_drop), !csv);
    self->filling = FALSE;
  }
  forget_history (self);
  fill_from_geometry (self);
  show_file_mode (self);
  start_build (self);
  return TRUE;
}

void
cs_mapper_page_use_categories (CsMapperPage *self)
{
  g_return_if_fail (CS_IS_MAPPER_PAGE (self));
  g_clear_pointer (&self->file_points, cs_points_free);
  g_clear_pointer (&self->file_path, g_free);
  g_clear_pointer (&self->file_dataset, g_free);
  forget_history (self);
  show_file_mode (self);
  fill_from_geometry (self);
  start_build (self);
}

static void
dataset_changed (CsMapperPage *self)
{
  GtkStringObject *o = gtk_drop_down_get_selected_item (self->dataset_drop);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_strdup (self->file_path);
  /* a copy: loading replaces the list the item belongs to */
  g_autofree char *dataset = o ? g_strdup (gtk_string_object_get_string (o)) : NULL;
  if (self->filling || !dataset || !path || g_strcmp0 (dataset, self->file_dataset) == 0)
    return;
  if (!cs_mapper_page_load_points (self, path, dataset, &error))
    set_status (self, error->message, FALSE);
}

static void
points_file_chosen (GtkWidget *owner, const char *path)
{
  CsMapperPage *self = CS_MAPPER_PAGE (owner);
  g_autoptr(GError) error = NULL;
  if (!cs_mapper_page_load_points (self, path, NULL, &error))
    set_status (self, error->message, FALSE);
}

static void
points_file_clicked (CsMapperPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Points from a File"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL,
                     _("Activations (HDF5) or points (CSV)"), "*.h5 *.hdf5 *.csv", points_file_chosen);
}

static void
on_selection_changed (CsMapperPage *self)
{
  const GArray *sel = cs_session_get_selection (self->session);
  g_autoptr(GHashTable) tokens = NULL;
  if (!self->graph || !self->token_ids)
    return;
  g_clear_pointer (&self->highlight, g_free);
  if (!sel || sel->len == 0)
    {
      redraw (self);
      return;
    }
  /* the selection is in token ids; the graph's points are token_ids[i] */
  tokens = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint i = 0; i < sel->len; i++)
    g_hash_table_add (tokens, GINT_TO_POINTER (g_array_index (sel, gint32, i) + 1));
  {
    g_autoptr(GArray) pts = g_array_new (FALSE, FALSE, sizeof (gint32));
    for (gint64 p = 0; p < self->graph->n_points; p++)
      if (g_hash_table_contains (tokens, GINT_TO_POINTER (self->token_ids[p] + 1)))
        {
          gint32 q = (gint32) p;
          g_array_append_val (pts, q);
        }
    self->highlight = g_new0 (gboolean, MAX (1, self->graph->n_nodes));
    cs_mapper_nodes_with (self->graph, (const gint32 *) pts->data, (int) pts->len, self->highlight);
  }
  redraw (self);
}

void
cs_mapper_page_set_session (CsMapperPage *self, CsSession *session)
{
  g_return_if_fail (CS_IS_MAPPER_PAGE (self));
  g_return_if_fail (self->session == NULL);
  self->session = g_object_ref (session);
  g_signal_connect_object (session, "notify::geometry", G_CALLBACK (on_geometry_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::selection", G_CALLBACK (on_selection_changed), self, G_CONNECT_SWAPPED);
  if (cs_session_get_geometry (session))
    on_geometry_changed (self);
}

/* ---- interaction ---- */

static void
on_motion (GtkEventControllerMotion *m, double x, double y, CsMapperPage *self)
{
  int node = cs_mapper_page_node_at (self, x, y);
  self->pointer_x = x;
  self->pointer_y = y;
  if (node != self->hover)
    {
      self->hover = node;
      redraw (self);
    }
  if (node >= 0)
    {
      const CsMapperNode *n = &self->graph->nodes[node];
      g_autofree char *comp = composition (self, node);
      GString *s = g_string_new (NULL);
      g_autofree char *head = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Node %d: %d token", "Node %d: %d tokens",
                                                            n->n_members), node, n->n_members);
      g_string_append_printf (s, "<b>%s</b>", head);
      for (int l = 0; l < self->graph->params.n_lenses; l++)
        {
          g_autofree char *t = g_markup_printf_escaped ("\n%s: %.3g", self->lens_names[l], n->lens_mean[l]);
          g_string_append (s, t);
        }
      if (comp && *comp)
        {
          g_autofree char *t = g_markup_escape_text (comp, -1);
          g_string_append_printf (s, "\n%s", t);
        }
      if (self->token_ids)
        {
          g_string_append_c (s, '\n');
          for (int t = 0; t < MIN (12, n->n_members); t++)
            {
              g_autofree char *tt = token_text (self, self->token_ids[n->members[t]]);
              g_autofree char *esc = g_markup_escape_text (tt, -1);
              g_string_append_printf (s, "%s%s", t ? ", " : "", esc);
            }
          if (n->n_members > 12)
            g_string_append (s, ", …");
        }
      gtk_widget_set_tooltip_markup (GTK_WIDGET (self->area), s->str);
      g_string_free (s, TRUE);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->area), NULL);
}

static void
on_leave (GtkEventControllerMotion *m, CsMapperPage *self)
{
  if (self->hover >= 0)
    {
      self->hover = -1;
      redraw (self);
    }
}

static void
on_click (GtkGestureClick *g, int n_press, double x, double y, CsMapperPage *self)
{
  cs_mapper_page_select_node (self, cs_mapper_page_node_at (self, x, y));
}

static void
ensure_view (CsMapperPage *self)
{
  CsFigureFrame f;
  if (self->fixed_view || !with_frame (self, &f))
    return;
  self->view[0] = f.xmin;
  self->view[1] = f.xmax;
  self->view[2] = f.ymin;
  self->view[3] = f.ymax;
  self->fixed_view = TRUE;
}

static void
on_drag_begin (GtkGestureDrag *g, double x, double y, CsMapperPage *self)
{
  ensure_view (self);
  self->drag_node = cs_mapper_page_node_at (self, x, y);
  memcpy (self->drag_view, self->view, sizeof self->view);
  g_clear_pointer (&self->drag_before, layout_free);
  g_clear_pointer (&self->pending, layout_free);
  g_clear_pointer (&self->built, settings_free);
  if (self->drag_node >= 0)
    {
      self->drag_x0 = self->graph->x[self->drag_node];
      self->drag_y0 = self->graph->y[self->drag_node];
      self->drag_before = layout_capture (self);
    }
}

static void
on_drag_end (GtkGestureDrag *g, double ox, double oy, CsMapperPage *self)
{
  Layout *before = g_steal_pointer (&self->drag_before);
  if (!before)
    return;
  if (self->graph && self->drag_node >= 0 && before->n == self->graph->n_nodes && (ox != 0 || oy != 0))
    {
      cs_history_push (self->history, _("moving a node"), before);
      update_undo_buttons (self);
    }
  else
    layout_free (before);
}

static void
on_drag_update (GtkGestureDrag *g, double ox, double oy, CsMapperPage *self)
{
  CsFigureFrame f;
  double sx, sy;
  if (!self->graph || !with_frame (self, &f))
    return;
  sx = (self->drag_view[1] - self->drag_view[0]) / f.w;
  sy = (self->drag_view[3] - self->drag_view[2]) / f.h;
  if (self->drag_node >= 0)
    {
      /* move the node; the layout keeps it there */
      self->graph->x[self->drag_node] = self->drag_x0 + ox * sx;
      self->graph->y[self->drag_node] = self->drag_y0 - oy * sy;
    }
  else
    {
      self->view[0] = self->drag_view[0] - ox * sx;
      self->view[1] = self->drag_view[1] - ox * sx;
      self->view[2] = self->drag_view[2] + oy * sy;
      self->view[3] = self->drag_view[3] + oy * sy;
    }
  redraw (self);
}

static gboolean
on_scroll (GtkEventControllerScroll *c, double dx, double dy, CsMapperPage *self)
{
  CsFigureFrame f;
  double px, py, fx, fy, factor = dy > 0 ? 1.15 : 1 / 1.15;

  if (!self->graph)
    return FALSE;
  ensure_view (self);
  if (!with_frame (self, &f))
    return FALSE;
  px = self->pointer_x;
  py = self->pointer_y;
  fx = self->view[0] + (px - f.x0) / f.w * (self->view[1] - self->view[0]);
  fy = self->view[3] - (py - f.y0) / f.h * (self->view[3] - self->view[2]);
  self->view[0] = fx + (self->view[0] - fx) * factor;
  self->view[1] = fx + (self->view[1] - fx) * factor;
  self->view[2] = fy + (self->view[2] - fy) * factor;
  self->view[3] = fy + (self->view[3] - fy) * factor;
  redraw (self);
  return TRUE;
}

static void
reset_view_clicked (CsMapperPage *self)
{
  self->fixed_view = FALSE;
  redraw (self);
}

void
cs_mapper_page_relayout (CsMapperPage *self, guint seed)
{
  g_return_if_fail (CS_IS_MAPPER_PAGE (self));
  if (!self->graph)
    return;
  cs_history_push (self->history, _("the new layout"), layout_capture (self));
  update_undo_buttons (self);
  cs_mapper_layout (self->graph, seed);
  self->fixed_view = FALSE;
  redraw (self);
}

static void
relayout_clicked (CsMapperPage *self)
{
  cs_mapper_page_relayout (self, g_random_int ());
}

static void
show_in_projection_clicked (CsMapperPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-page", "s", "geometry");
}

static void
copy_members_clicked (CsMapperPage *self)
{
  g_autofree char *text = cs_mapper_page_dup_members_text (self);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
}

/* ---- export and workspace ---- */

gboolean
cs_mapper_page_export (CsMapperPage *self, const char *path, const char *preset, const char *theme, double scale,
                       double font_size, GError **error)
{
  CsFigureStyle s = { 0 };
  GraphData d;
  gboolean ok;
  if (!self->graph)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to export yet"));
      return FALSE;
    }
  if (!cs_figure_style_from (preset, theme, font_size, &s, error))
    return FALSE;
  graph_data_init (&d, self, FALSE);
  d.mf.fig.highlight = self->highlight;
  ok = cs_figure_export (path, &s, scale, draw_graph, &d, error);
  graph_data_clear (&d);
  return ok;
}

static gboolean
export_figure (gpointer owner, const char *path, const char *preset, const char *theme, double scale,
               double font_size, GError **error)
{
  return cs_mapper_page_export (CS_MAPPER_PAGE (owner), path, preset, theme, scale, font_size, error);
}

static void
export_failed (gpointer owner, const char *message)
{
  set_status (CS_MAPPER_PAGE (owner), message, FALSE);
}

static void
export_clicked (CsMapperPage *self)
{
  if (self->graph)
    cs_export_dialog_present (GTK_WIDGET (self), G_OBJECT (self), "mapper", export_figure, export_failed);
}

gboolean
cs_mapper_page_save_json (CsMapperPage *self, const char *path, GError **error)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  if (!self->graph)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to save yet"));
      return FALSE;
    }
  for (gint64 i = 0; i < self->graph->n_points; i++)
    g_ptr_array_add (labels, self->token_ids      ? token_text (self, self->token_ids[i])
                             : self->point_labels ? g_strdup (self->point_labels[i])
                                                  : g_strdup_printf ("%" G_GINT64_FORMAT, i));
  g_ptr_array_add (labels, NULL);
  return cs_mapper_graph_save_json (self->graph, (const char * const *) self->lens_names,
                                    (const char * const *) labels->pdata, path, error);
}

static void
json_chosen (GtkWidget *owner, const char *path)
{
  CsMapperPage *self = CS_MAPPER_PAGE (owner);
  g_autoptr(GError) error = NULL;
  if (!cs_mapper_page_save_json (self, path, &error))
    set_status (self, error->message, FALSE);
}

static void
json_clicked (CsMapperPage *self)
{
  if (self->graph)
    cs_ui_choose_file (GTK_WIDGET (self), _("Save the Graph as JSON"), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"),
                       "mapper-graph.json", NULL, NULL, json_chosen);
}

gboolean
cs_mapper_page_save_to (CsMapperPage *self, const char *path, GError **error)
{
  g_autoptr(GString) cats = g_string_new (NULL);
  if (!self->graph || self->point_labels)
    return TRUE;   /* nothing to add; a file's points belong to the file (Save JSON keeps the graph) */
  for (guint k = 0; self->group_names && self->group_names[k]; k++)
    g_string_append_printf (cats, "%s%s", k ? "," : "", self->group_names[k]);
  return cs_mapper_graph_save_h5 (self->graph, (const char * const *) self->lens_names, self->token_ids, cats->str,
                                  path, error);
}

/* The side panel set to what built a graph read from a workspace: its
 * categories, lenses (matched by their descriptions) and parameters. FALSE
 * when a lens has no entry in the panel (the panel then shows the rest). */
static gboolean
panel_from_graph (CsMapperPage *self, const CsMapperGraph *g, const char * const *lens_names,
                  const char * const *categories)
{
  CsGeometry *geo = cs_session_get_geometry (self->session);
  gboolean found[2] = { FALSE, g->params.n_lenses < 2 };

  self->filling = TRUE;
  for (guint i = 0; geo && i < self->category_checks->len; i++)
    gtk_check_button_set_active (self->category_checks->pdata[i],
                                 categories && g_strv_contains (categories,
                                                                cs_category_set_get (geo->categories, i)->name));
  for (guint k = 0; lens_names && k < self->lens_specs->len; k++)
    {
      CsLensSpec spec;
      g_autofree char *desc = NULL;
      if (!cs_lens_parse (self->lens_specs->pdata[k], &spec, NULL))
        continue;
      desc = cs_lens_describe (&spec);
      cs_lens_clear (&spec);
      for (int l = 0; l < g->params.n_lenses && lens_names[l]; l++)
        if (!found[l] && g_str_equal (desc, lens_names[l]))
          {
            gtk_drop_down_set_selected (l == 0 ? self->lens1_drop : self->lens2_drop, l == 0 ? k : k + 1);
            found[l] = TRUE;
          }
    }
  if (g->params.n_lenses < 2)
    gtk_drop_down_set_selected (self->lens2_drop, 0);
  gtk_spin_button_set_value (self->intervals_spin, g->params.intervals);
  gtk_spin_button_set_value (self->overlap_spin, g->params.overlap);
  gtk_drop_down_set_selected (self->cover_drop, g->params.cover == CS_COVER_BALANCED ? 1 : 0);
  gtk_drop_down_set_selected (self->cluster_drop, g->params.cluster == CS_CLUSTER_SINGLE_LINKAGE ? 1 : 0);
  gtk_spin_button_set_value (self->eps_spin, g->params.eps);
  gtk_spin_button_set_value (self->min_samples_spin, g->params.min_samples);
  gtk_spin_button_set_value (self->min_inter_spin, g->params.min_intersection);
  self->filling = FALSE;
  return found[0] && found[1];
}

gboolean
cs_mapper_page_load_from (CsMapperPage *self, const char *path, GError **error)
{
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  g_auto(GStrv) lens_names = NULL;
  g_autofree gint32 *ids = NULL;
  g_autofree char *points = NULL;
  CsMapperGraph *graph = cs_mapper_graph_load_h5 (path, &lens_names, &ids, &points, error);
  g_auto(GStrv) names = NULL;
  g_autofree int *group = NULL;
  g_autofree double *lens = NULL;

  if (!graph)
    return FALSE;
  if (!ids || !geo)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                   _("The workspace's Mapper graph is not over tokens of its categories"));
      cs_mapper_graph_free (graph);
      return FALSE;
    }
  /* groups: the most specific stored category holding each token */
  names = points && *points ? g_strsplit (points, ",", -1) : g_new0 (char *, 1);
  group = g_new (int, MAX (1, graph->n_points));
  for (gint64 p = 0; p < graph->n_points; p++)
    {
      int best = -1, best_idx = -1;
      for (guint k = 0; names[k]; k++)
        {
          int c = cs_category_set_find (geo->categories, names[k]);
          CsCategory *cat = c >= 0 ? cs_category_set_get (geo->categories, c) : NULL;
          if (!cat)
            continue;
          for (guint t = 0; t < cat->tokens->len; t++)
            if (g_array_index (cat->tokens, gint32, t) == ids[p] && c > best_idx)
              {
                best_idx = c;
                best = (int) k;
                break;
              }
        }
      group[p] = best;
    }
  /* per-point lens values are not stored: colour by the node means */
  lens = g_new0 (double, MAX (1, graph->n_points * graph->params.n_lenses));
  for (int v = 0; v < graph->n_nodes; v++)
    for (int t = 0; t < graph->nodes[v].n_members; t++)
      for (int l = 0; l < graph->params.n_lenses; l++)
        lens[(gint64) graph->nodes[v].members[t] * graph->params.n_lenses + l] = graph->nodes[v].lens_mean[l];
  if (!graph->x)
    cs_mapper_layout (graph, 0);
  if (!lens_names || g_strv_length (lens_names) < (guint) graph->params.n_lenses)
    {
      g_strfreev (lens_names);
      lens_names = g_strdupv ((char *[]) { "lens 1", "lens 2", NULL });
    }
  cs_job_cancel (self->job);
  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  forget_history (self);
  if (self->file_points)
    {
      /* the workspace's graph is over its categories' tokens */
      g_clear_pointer (&self->file_points, cs_points_free);
      g_clear_pointer (&self->file_path, g_free);
      g_clear_pointer (&self->file_dataset, g_free);
      show_file_mode (self);
      fill_from_geometry (self);
    }
  {
    gboolean known = panel_from_graph (self, graph, (const char * const *) lens_names, (const char * const *) names);
    install_graph (self, graph, g_steal_pointer (&ids), g_steal_pointer (&group), g_steal_pointer (&names),
                   g_steal_pointer (&lens), g_steal_pointer (&lens_names), 0, NULL, NULL);
    /* with the panel showing what built it, a change from here can be undone */
    if (known)
      self->built = settings_read (self);
  }
  return TRUE;
}

/* ---- colour ---- */

gboolean
cs_mapper_page_set_colour (CsMapperPage *self, const char *what)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->colour_model));
  if (g_str_equal (what, "categories"))
    gtk_drop_down_set_selected (self->colour_drop, 0);
  else if (g_str_equal (what, "lens1"))
    gtk_drop_down_set_selected (self->colour_drop, 1);
  else if (g_str_equal (what, "lens2"))
    gtk_drop_down_set_selected (self->colour_drop, 2);
  else if (g_str_has_prefix (what, "vector:"))
    {
      for (int c = 0; c < self->n_proj; c++)
        if (g_str_equal (self->proj_names[c], what + 7) && (guint) (c + 3) < n)
          {
            gtk_drop_down_set_selected (self->colour_drop, c + 3);
            return TRUE;
          }
      return FALSE;
    }
  else
    return FALSE;
  return TRUE;
}

double
cs_mapper_page_node_colour_value (CsMapperPage *self, int node)
{
  GraphData d;
  double v;
  if (!self->graph || node < 0 || node >= self->graph->n_nodes)
    return NAN;
  graph_data_init (&d, self, FALSE);
  v = d.mf.values ? d.mf.values[node] : NAN;
  graph_data_clear (&d);
  return v;
}

/* ---- getters ---- */

gboolean
cs_mapper_page_get_busy (CsMapperPage *self)
{
  return cs_job_running (self->job) || self->rebuild_source != 0;
}

const char *
cs_mapper_page_get_error (CsMapperPage *self)
{
  return self->error;
}

const CsMapperGraph *
cs_mapper_page_get_graph (CsMapperPage *self)
{
  return self->graph;
}

const gint32 *
cs_mapper_page_get_token_ids (CsMapperPage *self)
{
  return self->token_ids;
}

const gboolean *
cs_mapper_page_get_highlight (CsMapperPage *self)
{
  return self->highlight;
}

void
cs_mapper_page_configure (CsMapperPage *self, const char *categories, const char *lens1, const char *lens2,
                          int intervals, double overlap)
{
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  self->filling = TRUE;
  if (categories && geo)
    {
      g_auto(GStrv) names = g_strsplit (categories, ",", -1);
      for (guint i = 0; i < self->category_checks->len; i++)
        gtk_check_button_set_active (self->category_checks->pdata[i],
                                     g_strv_contains ((const char * const *) names,
                                                      cs_category_set_get (geo->categories, i)->name));
    }
  for (guint i = 0; i < self->lens_specs->len; i++)
    {
      if (lens1 && g_str_equal (self->lens_specs->pdata[i], lens1))
        gtk_drop_down_set_selected (self->lens1_drop, i);
      if (lens2 && g_str_equal (self->lens_specs->pdata[i], lens2))
        gtk_drop_down_set_selected (self->lens2_drop, i + 1);
    }
  if (lens2 && !*lens2)
    gtk_drop_down_set_selected (self->lens2_drop, 0);
  if (intervals > 0)
    gtk_spin_button_set_value (self->intervals_spin, intervals);
  if (overlap >= 0)
    gtk_spin_button_set_value (self->overlap_spin, overlap);
  self->filling = FALSE;
  start_build (self);
}

/* ---- construction ---- */

static GtkSpinButton *
spin (GtkWidget *grid, int row, const char *label, double lo, double hi, double step, double value, int digits,
      CsMapperPage *self)
{
  GtkWidget *s = gtk_spin_button_new_with_range (lo, hi, step);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (s), digits);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (s), value);
  g_signal_connect_swapped (s, "value-changed", G_CALLBACK (schedule_rebuild), self);
  return GTK_SPIN_BUTTON (cs_ui_labelled (grid, row, label, s));
}

static GtkDropDown *
drop (GtkWidget *grid, int row, const char *label, GListModel *model, const char * const *strings, CsMapperPage *self)
{
  GtkWidget *d = model ? gtk_drop_down_new (model, NULL) : gtk_drop_down_new_from_strings (strings);
  g_signal_connect_swapped (d, "notify::selected", G_CALLBACK (schedule_rebuild), self);
  return GTK_DROP_DOWN (cs_ui_labelled (grid, row, label, d));
}

static void
colour_changed (CsMapperPage *self)
{
  redraw (self);
}

static void
cs_mapper_page_init (CsMapperPage *self)
{
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *main = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *grid, *button, *sw;
  const char *covers[] = { N_("Uniform"), N_("Balanced (quantiles)"), NULL };
  const char *clusters[] = { "DBSCAN", N_("Single linkage (histogram gap)"), NULL };
  const char *colours[] = { N_("Categories (pies)"), N_("Lens 1 mean"), N_("Lens 2 mean"), NULL };
  const char *covers_t[3], *clusters_t[3], *colours_t[4];
  GtkEventController *motion, *scroll;
  GtkGesture *click, *drag;
  CsMapperParams dflt;   /* the engine's defaults, as the command line's */

  cs_mapper_params_init (&dflt);
  self->job = cs_job_new (NULL);
  for (int k = 0; k < 2; k++)
    {
      covers_t[k] = _(covers[k]);
      clusters_t[k] = k == 0 ? clusters[0] : _(clusters[k]);
    }
  covers_t[2] = clusters_t[2] = NULL;
  for (int k = 0; k < 3; k++)
    colours_t[k] = _(colours[k]);
  colours_t[3] = NULL;
  self->selected = -1;
  self->hover = -1;
  self->category_checks = g_ptr_array_new ();
  self->lens_specs = g_ptr_array_new_with_free_func (g_free);
  self->lens1_model = gtk_string_list_new (NULL);
  self->lens2_model = gtk_string_list_new (NULL);

  gtk_widget_set_margin_start (side, 12);
  gtk_widget_set_margin_end (side, 12);
  gtk_widget_set_margin_bottom (side, 12);
  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Points: tokens of")));
  self->categories_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_box_append (GTK_BOX (side), self->categories_box);
  {
    GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    button = gtk_button_new_with_mnemonic (_("Points from a _File…"));
    gtk_widget_set_tooltip_text (button, _("Activations that conceptscope-cli forward saved (HDF5), or a CSV of points, "
                                           "instead of the categories' tokens"));
    g_signal_connect_swapped (button, "clicked", G_CALLBACK (points_file_clicked), self);
    gtk_box_append (GTK_BOX (row), button);
    self->tokens_button = gtk_button_new_with_mnemonic (_("Category _Tokens"));
    gtk_widget_set_tooltip_text (self->tokens_button, _("Back to the tokens of the categories above"));
    g_signal_connect_swapped (self->tokens_button, "clicked", G_CALLBACK (cs_mapper_page_use_categories), self);
    gtk_box_append (GTK_BOX (row), self->tokens_button);
    gtk_box_append (GTK_BOX (side), row);
    self->file_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
    self->file_label = GTK_LABEL (gtk_label_new (NULL));
    gtk_label_set_wrap (self->file_label, TRUE);
    gtk_label_set_xalign (self->file_label, 0);
    gtk_widget_add_css_class (GTK_WIDGET (self->file_label), "dim-label");
    gtk_box_append (GTK_BOX (self->file_box), GTK_WIDGET (self->file_label));
    self->dataset_drop = GTK_DROP_DOWN (gtk_drop_down_new (NULL, NULL));
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->dataset_drop), _("The file's dataset of points"));
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->dataset_drop), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("The file's dataset of points"), -1);
    g_signal_connect_swapped (self->dataset_drop, "notify::selected", G_CALLBACK (dataset_changed), self);
    gtk_box_append (GTK_BOX (self->file_box), GTK_WIDGET (self->dataset_drop));
    gtk_box_append (GTK_BOX (side), self->file_box);
    show_file_mode (self);
  }

  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Lenses and cover")));
  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
  self->lens1_drop = drop (grid, 0, _("Lens 1"), G_LIST_MODEL (g_object_ref (self->lens1_model)), NULL, self);
  self->lens2_drop = drop (grid, 1, _("Lens 2"), G_LIST_MODEL (g_object_ref (self->lens2_model)), NULL, self);
  self->intervals_spin = spin (grid, 2, _("Intervals"), 1, 200, 1, dflt.intervals, 0, self);
  self->overlap_spin = spin (grid, 3, _("Overlap"), 0, 0.95, 0.05, dflt.overlap, 2, self);
  self->cover_drop = drop (grid, 4, _("Cover"), NULL, covers_t, self);
  gtk_box_append (GTK_BOX (side), grid);

  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Clustering")));
  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
  self->cluster_drop = drop (grid, 0, _("Method"), NULL, clusters_t, self);
  self->eps_spin = spin (grid, 1, _("eps"), 0, 1000, 0.1, dflt.eps, 3, self);
  cs_ui_spin_auto (self->eps_spin, 0);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->eps_spin),
                               _("DBSCAN's radius; auto (0): from the knee of the points' k-distances"));
  self->min_samples_spin = spin (grid, 2, _("Min samples"), 1, 1000, 1, dflt.min_samples, 0, self);
  self->min_inter_spin = spin (grid, 3, _("Min shared points"), 1, 1000, 1, dflt.min_intersection, 0, self);
  {
    GtkWidget *d;
    self->colour_model = gtk_string_list_new (colours_t);
    d = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->colour_model)), NULL);
    g_signal_connect_swapped (d, "notify::selected", G_CALLBACK (colour_changed), self);
    self->colour_drop = GTK_DROP_DOWN (cs_ui_labelled (grid, 4, _("Colour"), d));
  }
  gtk_box_append (GTK_BOX (side), grid);

  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Node")));
  {
    GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");
    self->node_label = GTK_LABEL (gtk_label_new (_("Click a node to list its tokens")));
    gtk_label_set_wrap (self->node_label, TRUE);
    gtk_label_set_xalign (self->node_label, 0);
    gtk_widget_set_hexpand (GTK_WIDGET (self->node_label), TRUE);
    gtk_widget_set_tooltip_text (copy, _("Copy the node's tokens"));
    gtk_accessible_update_property (GTK_ACCESSIBLE (copy), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Copy the node's tokens"), -1);
    g_signal_connect_swapped (copy, "clicked", G_CALLBACK (copy_members_clicked), self);
    gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->node_label));
    gtk_box_append (GTK_BOX (row), copy);
    gtk_box_append (GTK_BOX (side), row);
  }
  sw = gtk_scrolled_window_new ();
  gtk_widget_set_size_request (sw, -1, 160);
  self->members_view = GTK_TEXT_VIEW (gtk_text_view_new ());
  gtk_text_view_set_editable (self->members_view, FALSE);
  gtk_text_view_set_monospace (self->members_view, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->members_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The node's tokens"), -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), GTK_WIDGET (self->members_view));
  gtk_box_append (GTK_BOX (side), sw);
  self->show_button = gtk_button_new_with_mnemonic (_("_Show in Projection"));
  gtk_widget_set_tooltip_text (self->show_button, _("The node's tokens are ringed on the Geometry view's projection"));
  gtk_widget_set_sensitive (self->show_button, FALSE);
  g_signal_connect_swapped (self->show_button, "clicked", G_CALLBACK (show_in_projection_clicked), self);
  gtk_box_append (GTK_BOX (side), self->show_button);

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), side);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_size_request (scroller, 300, -1);

  gtk_widget_set_margin_start (bar, 6);
  gtk_widget_set_margin_end (bar, 6);
  gtk_widget_set_margin_top (bar, 6);
  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  self->status_label = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (self->status_label, 0);
  gtk_label_set_ellipsize (self->status_label, PANGO_ELLIPSIZE_END);
  cs_ui_full_text_tooltip (self->status_label);
  gtk_widget_set_hexpand (GTK_WIDGET (self->status_label), TRUE);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->spinner));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->status_label));
  button = gtk_button_new_from_icon_name ("view-refresh-symbolic");
  gtk_widget_set_tooltip_text (button, _("Lay the graph out again"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Lay the graph out again"), -1);
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (relayout_clicked), self);
  gtk_box_append (GTK_BOX (bar), button);
  self->history = cs_history_new (layout_free, 50);
  cs_ui_add_undo (GTK_BOX (bar), GTK_WIDGET (self), G_CALLBACK (cs_mapper_page_undo), G_CALLBACK (cs_mapper_page_redo),
                  &self->undo_button, &self->redo_button);
  update_undo_buttons (self);
  button = gtk_button_new_from_icon_name ("zoom-original-symbolic");
  gtk_widget_set_tooltip_text (button, _("Show the whole graph"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Show the whole graph"), -1);
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (reset_view_clicked), self);
  gtk_box_append (GTK_BOX (bar), button);
  button = gtk_button_new_with_mnemonic (_("Save _JSON…"));
  gtk_widget_set_tooltip_text (button, _("The graph: nodes with their tokens, edges, statistics and parameters"));
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (json_clicked), self);
  gtk_box_append (GTK_BOX (bar), button);
  button = gtk_button_new_with_mnemonic (_("_Export…"));
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (export_clicked), self);
  gtk_box_append (GTK_BOX (bar), button);

  self->area = GTK_DRAWING_AREA (gtk_drawing_area_new ());
  gtk_widget_set_hexpand (GTK_WIDGET (self->area), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self->area), TRUE);
  gtk_drawing_area_set_draw_func (self->area, area_draw, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->area), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Mapper graph"), -1);
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), motion);
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), GTK_EVENT_CONTROLLER (click));
  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), GTK_EVENT_CONTROLLER (drag));
  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), scroll);

  gtk_box_append (GTK_BOX (main), bar);
  gtk_box_append (GTK_BOX (main), GTK_WIDGET (self->area));
  gtk_paned_set_start_child (GTK_PANED (paned), scroller);
  gtk_paned_set_end_child (GTK_PANED (paned), main);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), FALSE);
  adw_bin_set_child (ADW_BIN (self), paned);
  set_status (self, _("The graph is built from the Geometry view's concept vectors once they are computed"), FALSE);
}

static void
cs_mapper_page_finalize (GObject *object)
{
  g_clear_pointer (&CS_MAPPER_PAGE (object)->job, cs_job_free);
  G_OBJECT_CLASS (cs_mapper_page_parent_class)->finalize (object);
}

static void
cs_mapper_page_dispose (GObject *object)
{
  CsMapperPage *self = CS_MAPPER_PAGE (object);
  cs_job_cancel (self->job);   /* freed in finalize, as the Steering page's */
  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  g_clear_object (&self->session);
  g_clear_pointer (&self->graph, cs_mapper_graph_free);
  g_clear_pointer (&self->history, cs_history_free);
  g_clear_pointer (&self->file_points, cs_points_free);
  g_clear_pointer (&self->file_path, g_free);
  g_clear_pointer (&self->file_dataset, g_free);
  g_clear_pointer (&self->point_labels, g_strfreev);
  g_clear_pointer (&self->drag_before, layout_free);
  g_clear_pointer (&self->token_ids, g_free);
  g_clear_pointer (&self->point_group, g_free);
  g_clear_pointer (&self->group_names, g_strfreev);
  g_clear_pointer (&self->lens_values, g_free);
  g_clear_pointer (&self->lens_names, g_strfreev);
  g_clear_pointer (&self->highlight, g_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->category_checks, g_ptr_array_unref);
  g_clear_pointer (&self->lens_specs, g_ptr_array_unref);
  g_clear_object (&self->lens1_model);
  g_clear_object (&self->lens2_model);
  g_clear_object (&self->colour_model);
  g_clear_pointer (&self->proj_values, g_free);
  g_clear_pointer (&self->proj_names, g_strfreev);
  G_OBJECT_CLASS (cs_mapper_page_parent_class)->dispose (object);
}

static void
cs_mapper_page_class_init (CsMapperPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cs_mapper_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = cs_mapper_page_finalize;
}
