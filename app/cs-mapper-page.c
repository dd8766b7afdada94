#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-build-config.h"
#include "cs-categories.h"
#include "cs-mapper-figure.h"
#include "cs-mapper-page-private.h"
#include "cs-tokenizer.h"
#include "cs-ui.h"

#define REBUILD_DELAY_MS 400

G_DEFINE_FINAL_TYPE (CsMapperPage, cs_mapper_page, ADW_TYPE_BIN)

/* ---- the graph's figure ---- */

typedef struct
{
  CsMapperFigure  mf;
  GPtrArray      *names;
  char           *value_label;
  char           *title;
  gboolean       *highlight;
} GraphData;

static void
graph_data_free (gpointer p)
{
  GraphData *d = p;
  cs_mapper_figure_clear (&d->mf);
  g_ptr_array_unref (d->names);
  g_free (d->value_label);
  g_free (d->title);
  g_free (d->highlight);
  g_free (d);
}

/* The figure of the graph shown, coloured as the panel says. */
static GraphData *
graph_data_new (CsMapperPage *self)
{
  GraphData *d = g_new0 (GraphData, 1);
  const char *colour = cs_mapper_settings_get_colour (self->settings);
  g_autofree double *values = NULL;
  int nl = self->graph->params.n_lenses, proj = -1;

  d->names = g_ptr_array_new_with_free_func (g_free);
  if (colour && g_str_has_prefix (colour, "vector:") && self->proj_values)
    for (int c = 0; c < self->n_proj; c++)
      if (g_str_equal (self->proj_names[c], colour + 7))
        proj = c;
  if (g_strcmp0 (colour, "categories") == 0 && self->group_names)
    for (guint k = 0; self->group_names[k]; k++)
      g_ptr_array_add (d->names, g_markup_escape_text (self->group_names[k], -1));
  else if (proj >= 0)
    {
      g_autofree char *lm = cs_mapper_lens_markup (colour);
      values = g_new (double, MAX (1, self->graph->n_points));
      for (gint64 i = 0; i < self->graph->n_points; i++)
        values[i] = self->proj_values[i * self->n_proj + proj];
      d->value_label = g_strdup_printf (_("mean %s"), lm);
    }
  else
    {
      int l = g_strcmp0 (colour, "lens2") == 0 && nl > 1 ? 1 : 0;
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
  if (self->highlight)
    d->highlight = g_memdup2 (self->highlight, sizeof (gboolean) * MAX (1, self->graph->n_nodes));
  d->mf.fig.highlight = d->highlight;
  return d;
}

void
cs_mapper_page_refresh_figure (CsMapperPage *self, gboolean keep_view)
{
  if (!self->graph || !self->graph->x)
    {
      cs_graph_view_set_figure (self->graph_view, NULL, NULL, NULL, FALSE);
      return;
    }
  GraphData *d = graph_data_new (self);
  cs_graph_view_set_figure (self->graph_view, &d->mf.fig, d, graph_data_free, keep_view);
  cs_graph_view_set_selected (self->graph_view, self->selected);
}

double
cs_mapper_page_node_colour_value (CsMapperPage *self, int node)
{
  GraphData *d;
  double v;
  if (!self->graph || node < 0 || node >= self->graph->n_nodes)
    return NAN;
  d = graph_data_new (self);
  v = d->mf.values ? d->mf.values[node] : NAN;
  graph_data_free (d);
  return v;
}

/* ---- node details ---- */

char *
cs_mapper_page_token_text (CsMapperPage *self, gint32 id)
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
      g_autofree char *text = self->token_ids ? cs_mapper_page_token_text (self, self->token_ids[p])
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

/* The tooltip of a node under the pointer. */
static char *
describe_node (int node, gpointer data)
{
  CsMapperPage *self = data;
  const CsMapperNode *n;
  g_autofree char *comp = NULL, *head = NULL;
  GString *s;

  if (!self->graph || node < 0 || node >= self->graph->n_nodes)
    return NULL;
  n = &self->graph->nodes[node];
  comp = composition (self, node);
  s = g_string_new (NULL);
  head = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Node %d: %d token", "Node %d: %d tokens", n->n_members),
                          node, n->n_members);
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
          g_autofree char *tt = cs_mapper_page_token_text (self, self->token_ids[n->members[t]]);
          g_autofree char *esc = g_markup_escape_text (tt, -1);
          g_string_append_printf (s, "%s%s", t ? ", " : "", esc);
        }
      if (n->n_members > 12)
        g_string_append (s, ", …");
    }
  return g_string_free (s, FALSE);
}

void
cs_mapper_page_select_node (CsMapperPage *self, int node)
{
  g_autofree char *text = NULL;
  if (!self->graph || node >= self->graph->n_nodes)
    node = -1;
  self->selected = node;
  cs_graph_view_set_selected (self->graph_view, node);
  if (node < 0)
    {
      gtk_label_set_text (self->node_label, _("Click a node to list its tokens"));
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->members_view), "", -1);
      gtk_widget_set_sensitive (self->show_button, FALSE);
      if (self->session)
        cs_session_set_marked (self->session, NULL, 0);
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
}

int
cs_mapper_page_get_selected_node (CsMapperPage *self)
{
  return self->selected;
}

int
cs_mapper_page_node_at (CsMapperPage *self, double x, double y)
{
  return cs_graph_view_node_at (self->graph_view, x, y);
}

gboolean
cs_mapper_page_node_position (CsMapperPage *self, int node, double *x, double *y)
{
  return cs_graph_view_node_position (self->graph_view, node, x, y);
}

static void
on_node_activated (CsMapperPage *self, int node)
{
  cs_mapper_page_select_node (self, node);
}

static void
on_node_moved (CsMapperPage *self, int node, double x, double y)
{
  if (!self->graph || node < 0 || node >= self->graph->n_nodes)
    return;
  /* the layout keeps it there */
  self->graph->x[node] = x;
  self->graph->y[node] = y;
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self->graph_view));
}

/* ---- building in the background ---- */

typedef struct
{
  CsModel          *model;        /* keeps the unembedding alive */
  CsGeometrySpace  *space;
  CsGeometry       *geometry;     /* for vector lenses and the colours */
  gint32           *ids;
  int               n;
  CsMapperSettings *settings;     /* the panel's values it was started with */
  double           *X;            /* a file's points [n, d] instead of rows of g */
  int               d;
  GStrv             labels;
  int              *group;
  GStrv             group_names;
  CsMapperRun      *run;          /* the result */
} BuildJob;

static void
build_job_free (gpointer p)
{
  BuildJob *j = p;
  g_clear_object (&j->model);
  cs_geometry_space_free (j->space);
  cs_geometry_free (j->geometry);
  g_free (j->ids);
  g_free (j->X);
  g_strfreev (j->labels);
  g_clear_object (&j->settings);
  g_free (j->group);
  g_strfreev (j->group_names);
  cs_mapper_run_free (j->run);
  g_free (j);
}

static void
build_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BuildJob *j = task_data;
  int d = j->X ? j->d : j->space->d;
  g_autofree double *X = j->X ? g_steal_pointer (&j->X) : g_new (double, (gsize) j->n * d);
  GError *error = NULL;
  CsMapperRunParams params;

  if (j->space)
    cs_geometry_g_rows (j->space, j->ids, j->n, X);
  cs_mapper_settings_to_params (j->settings, &params);
  params.geometry = j->geometry;
  params.concepts = j->space != NULL;   /* tokens: coloured by any concept */
  j->run = cs_mapper_run (X, j->n, d, &params, NULL, NULL, cancellable, &error);
  if (!j->run)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
cs_mapper_page_set_status (CsMapperPage *self, const char *text, gboolean busy)
{
  gtk_label_set_text (self->status_label, text ? text : "");
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
}

static void on_selection_changed (CsMapperPage *self);

void
cs_mapper_page_install_graph (CsMapperPage *self, CsMapperGraph *graph, gint32 *ids, int *group, GStrv group_names,
                              double *lens, GStrv lens_names, int n_proj, double *proj, GStrv proj_names)
{
  /* the view lets go of the old graph's figure first */
  cs_graph_view_set_figure (self->graph_view, NULL, NULL, NULL, FALSE);
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
  self->selected = -1;
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
    cs_mapper_page_set_status (self, text, FALSE);
  }
  cs_mapper_page_refresh_figure (self, FALSE);
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
  CsMapperRun *run;

  if (!cs_job_finish (self->job, result))
    return;   /* superseded */
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      cs_mapper_page_set_status (self, error->message, FALSE);
      return;
    }
  g_clear_pointer (&self->error, g_free);
  cs_mapper_page_built_before (self, j->settings);
  run = j->run;
  cs_mapper_page_install_graph (self, g_steal_pointer (&run->graph), g_steal_pointer (&j->ids),
                                g_steal_pointer (&j->group), g_steal_pointer (&j->group_names),
                                g_steal_pointer (&run->lens), g_steal_pointer (&run->lens_names), run->n_concepts,
                                g_steal_pointer (&run->concepts), g_steal_pointer (&run->concept_names));
  self->point_labels = g_steal_pointer (&j->labels);
  cs_mapper_page_built_after (self, j->settings);
}

static int
compare_int (gconstpointer a, gconstpointer b)
{
  return *(const int *) a - *(const int *) b;
}

static BuildJob *
build_job_new (CsMapperPage *self)
{
  BuildJob *j = g_new0 (BuildJob, 1);
  j->settings = cs_mapper_settings_copy (self->settings);
  return j;
}

static void
run_build (CsMapperPage *self, BuildJob *j, const char *message)
{
  cs_mapper_page_set_status (self, message, TRUE);
  cs_job_start (self->job, self, j, build_job_free, build_thread, build_done);
}

/* The graph of the file's points: its own coordinates, no concept vectors. */
static void
start_build_file (CsMapperPage *self)
{
  const CsPoints *p = self->file_points;
  BuildJob *j = build_job_new (self);
  g_autofree char *msg = NULL;

  j->n = (int) p->n;
  j->d = p->d;
  j->X = g_memdup2 (p->X, sizeof (double) * p->n * p->d);
  j->ids = p->token_ids ? g_memdup2 (p->token_ids, sizeof (gint32) * p->n) : NULL;
  j->labels = g_strdupv (p->labels);
  j->group = p->group ? g_memdup2 (p->group, sizeof (int) * p->n) : NULL;
  j->group_names = g_strdupv (p->group_names);
  msg = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Building the graph of %d point…",
                                      "Building the graph of %d points…", j->n), j->n);
  run_build (self, j, msg);
}

void
cs_mapper_page_start_build (CsMapperPage *self)
{
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  CsGeometrySpace *space = self->session ? cs_session_get_space (self->session) : NULL;
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  const char * const *names = cs_mapper_settings_get_categories (self->settings);
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
      cs_mapper_page_set_status (self, _("The Geometry view's concept vectors come first: open a model and let them "
                                         "compute"), FALSE);
      return;
    }
  for (guint i = 0; names && names[i]; i++)
    {
      int c = cs_category_set_find (geo->categories, names[i]);
      if (c >= 0)
        g_array_append_val (cats, c);
    }
  if (cats->len == 0)
    {
      cs_mapper_page_set_status (self, _("Choose the categories whose tokens are the points"), FALSE);
      return;
    }
  g_array_sort (cats, compare_int);
  /* which tokens, and the most specific chosen category of each (the rows
   * of g themselves are computed in the thread) */
  pts = cs_points_of_categories (geo, NULL, (const int *) cats->data, (int) cats->len, &error);
  if (!pts)
    {
      cs_mapper_page_set_status (self, error->message, FALSE);
      return;
    }
  j = build_job_new (self);
  j->model = g_object_ref (model);
  j->space = cs_geometry_space_ref (space);
  j->geometry = cs_geometry_ref (geo);
  j->n = (int) pts->n;
  j->ids = g_steal_pointer (&pts->token_ids);
  j->group = g_steal_pointer (&pts->group);
  j->group_names = g_steal_pointer (&pts->group_names);
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
  cs_mapper_page_start_build (self);
  return G_SOURCE_REMOVE;
}

/* Parameters changed: build a moment after the last change. */
void
cs_mapper_page_schedule_build (CsMapperPage *self)
{
  if (self->filling)
    return;
  /* a change by hand while an undo builds: the undo's positions no longer apply */
  cs_mapper_page_drop_pending (self);
  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  self->rebuild_source = g_timeout_add (REBUILD_DELAY_MS, rebuild_timeout, self);
}

/* ---- the session: the geometry's categories, the projection's selection ---- */

static void
on_selection_changed (CsMapperPage *self)
{
  const GArray *sel = cs_session_get_selection (self->session);
  g_autoptr(GHashTable) tokens = NULL;
  if (!self->graph || !self->token_ids)
    return;
  g_clear_pointer (&self->highlight, g_free);
  if (sel && sel->len > 0)
    {
      /* the selection is in token ids; the graph's points are token_ids[i] */
      g_autoptr(GArray) pts = g_array_new (FALSE, FALSE, sizeof (gint32));
      tokens = g_hash_table_new (g_direct_hash, g_direct_equal);
      for (guint i = 0; i < sel->len; i++)
        g_hash_table_add (tokens, GINT_TO_POINTER (g_array_index (sel, gint32, i) + 1));
      for (gint64 p = 0; p < self->graph->n_points; p++)
        if (g_hash_table_contains (tokens, GINT_TO_POINTER (self->token_ids[p] + 1)))
          {
            gint32 q = (gint32) p;
            g_array_append_val (pts, q);
          }
      self->highlight = g_new0 (gboolean, MAX (1, self->graph->n_nodes));
      cs_mapper_nodes_with (self->graph, (const gint32 *) pts->data, (int) pts->len, self->highlight);
    }
  cs_mapper_page_refresh_figure (self, TRUE);
}

static void
on_geometry_changed (CsMapperPage *self)
{
  cs_mapper_page_forget_history (self);
  cs_mapper_page_fill_panel (self);
  if (!self->file_points)
    cs_mapper_page_start_build (self);
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

/* ---- small handlers ---- */

static void
reset_view_clicked (CsMapperPage *self)
{
  cs_graph_view_reset_view (self->graph_view);
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

/* ---- construction ---- */

static void
cs_mapper_page_init (CsMapperPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->job = cs_job_new (NULL);
  self->selected = -1;
  self->settings = cs_mapper_settings_new ();
  self->category_checks = g_ptr_array_new ();
  self->lens_specs = g_ptr_array_new_with_free_func (g_free);
  self->lens2_specs = g_ptr_array_new_with_free_func (g_free);
  self->colour_specs = g_ptr_array_new_with_free_func (g_free);
  self->lens1_model = gtk_string_list_new (NULL);
  self->lens2_model = gtk_string_list_new (NULL);
  self->colour_model = gtk_string_list_new (NULL);

  cs_mapper_page_bind_panel (self);
  cs_ui_grid_labels (self->lens_grid);
  cs_ui_grid_labels (self->cluster_grid);
  cs_ui_full_text_tooltip (self->status_label);
  cs_graph_view_set_describe_func (self->graph_view, describe_node, self);
  cs_mapper_page_history_init (self);
  cs_ui_add_undo (GTK_BOX (self->undo_box), GTK_WIDGET (self), G_CALLBACK (cs_mapper_page_undo),
                  G_CALLBACK (cs_mapper_page_redo), &self->undo_button, &self->redo_button);
  cs_mapper_page_forget_history (self);
  cs_mapper_page_fill_panel (self);
  cs_mapper_page_show_file_mode (self);
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
  if (self->graph_view)
    cs_graph_view_set_figure (self->graph_view, NULL, NULL, NULL, FALSE);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_MAPPER_PAGE);
  self->graph_view = NULL;
  g_clear_object (&self->session);
  g_clear_pointer (&self->graph, cs_mapper_graph_free);
  g_clear_pointer (&self->history, cs_history_free);
  cs_mapper_page_drop_pending (self);
  g_clear_object (&self->built);
  g_clear_pointer (&self->file_points, cs_points_free);
  g_clear_pointer (&self->file_path, g_free);
  g_clear_pointer (&self->file_dataset, g_free);
  g_clear_pointer (&self->point_labels, g_strfreev);
  g_clear_pointer (&self->token_ids, g_free);
  g_clear_pointer (&self->point_group, g_free);
  g_clear_pointer (&self->group_names, g_strfreev);
  g_clear_pointer (&self->lens_values, g_free);
  g_clear_pointer (&self->lens_names, g_strfreev);
  g_clear_pointer (&self->highlight, g_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->category_checks, g_ptr_array_unref);
  g_clear_pointer (&self->lens_specs, g_ptr_array_unref);
  g_clear_pointer (&self->lens2_specs, g_ptr_array_unref);
  g_clear_pointer (&self->colour_specs, g_ptr_array_unref);
  g_clear_object (&self->lens1_model);
  g_clear_object (&self->lens2_model);
  g_clear_object (&self->colour_model);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->proj_values, g_free);
  g_clear_pointer (&self->proj_names, g_strfreev);
  G_OBJECT_CLASS (cs_mapper_page_parent_class)->dispose (object);
}

static void
cs_mapper_page_class_init (CsMapperPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cs_mapper_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = cs_mapper_page_finalize;
  g_type_ensure (CS_TYPE_GRAPH_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/conceptscope/ConceptScope/ui/cs-mapper-page.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, CsMapperPage, name)
  CHILD (categories_box);
  CHILD (tokens_button);
  CHILD (file_box);
  CHILD (file_label);
  CHILD (dataset_drop);
  CHILD (lens_grid);
  CHILD (lens1_drop);
  CHILD (lens2_drop);
  CHILD (intervals_spin);
  CHILD (overlap_spin);
  CHILD (cover_drop);
  CHILD (cluster_grid);
  CHILD (cluster_drop);
  CHILD (eps_spin);
  CHILD (min_samples_spin);
  CHILD (min_inter_spin);
  CHILD (colour_drop);
  CHILD (node_label);
  CHILD (members_view);
  CHILD (show_button);
  CHILD (spinner);
  CHILD (status_label);
  CHILD (undo_box);
  CHILD (graph_view);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, cs_mapper_page_points_file_clicked);
  gtk_widget_class_bind_template_callback (widget_class, cs_mapper_page_use_categories);
  gtk_widget_class_bind_template_callback (widget_class, cs_mapper_page_dataset_changed);
  gtk_widget_class_bind_template_callback (widget_class, copy_members_clicked);
  gtk_widget_class_bind_template_callback (widget_class, show_in_projection_clicked);
  gtk_widget_class_bind_template_callback (widget_class, relayout_clicked);
  gtk_widget_class_bind_template_callback (widget_class, reset_view_clicked);
  gtk_widget_class_bind_template_callback (widget_class, cs_mapper_page_json_dialog);
  gtk_widget_class_bind_template_callback (widget_class, cs_mapper_page_export_dialog);
  gtk_widget_class_bind_template_callback (widget_class, on_node_activated);
  gtk_widget_class_bind_template_callback (widget_class, cs_mapper_page_node_move_begin);
  gtk_widget_class_bind_template_callback (widget_class, on_node_moved);
  gtk_widget_class_bind_template_callback (widget_class, cs_mapper_page_node_move_end);
}
