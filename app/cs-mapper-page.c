#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-build-config.h"
#include "cs-categories.h"
#include "cs-hdf5.h"
#include "cs-mapper-figure.h"
#include "cs-mapper-page-private.h"
#include "cs-tokenizer.h"
#include "cs-ui.h"

#define REBUILD_DELAY_MS 400

G_DEFINE_FINAL_TYPE (CsMapperPage, cs_mapper_page, ADW_TYPE_BIN)

/* The drop-downs' choices and the engine's values they stand for. */
typedef struct
{
  int         value;
  const char *name;    /* translated when shown */
} Choice;

static const Choice covers[] = {
  { CS_COVER_UNIFORM, N_("Uniform") },
  { CS_COVER_BALANCED, N_("Balanced (quantiles)") },
  { -1, NULL },
};
static const Choice clusters[] = {
  { CS_CLUSTER_DBSCAN, "DBSCAN" },
  { CS_CLUSTER_SINGLE_LINKAGE, N_("Single linkage (histogram gap)") },
  { -1, NULL },
};

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
  /* results */
  CsMapperRun      *run;
  int               n_proj;
  double           *proj;         /* [n, n_proj] */
  GStrv             proj_names;
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
  g_free (j->proj);
  g_strfreev (j->proj_names);
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
  j->run = cs_mapper_run (X, j->n, d, &params, NULL, NULL, cancellable, &error);
  if (!j->run)
    {
      g_task_return_error (task, error);
      return;
    }
  if (j->geometry && !j->X)
    {
      /* every estimated concept's projection, to colour the nodes by */
      g_autoptr(GPtrArray) names = g_ptr_array_new ();
      g_autofree double *col = g_new (double, MAX (1, j->n));
      CsCategorySet *cats = j->geometry->categories;
      j->proj = g_new (double, (gsize) MAX (1, j->n) * MAX (1, cats->items->len));
      for (guint c = 0; c < cats->items->len; c++)
        if (j->geometry->vectors[c].estimated)
          {
            g_autofree char *spec = g_strdup_printf ("vector:%s", cs_category_set_get (cats, c)->name);
            if (!cs_mapper_lens_values (spec, X, j->n, d, j->geometry, col, NULL, cancellable, NULL))
              continue;
            for (int i = 0; i < j->n; i++)
              j->proj[(gsize) i * cats->items->len + j->n_proj] = col[i];
            g_ptr_array_add (names, g_strdup (cs_category_set_get (cats, c)->name));
            j->n_proj++;
          }
      /* rows of n_proj values */
      for (int i = 0; i < j->n; i++)
        memmove (j->proj + (gsize) i * j->n_proj, j->proj + (gsize) i * cats->items->len,
                 sizeof (double) * j->n_proj);
      g_ptr_array_add (names, NULL);
      j->proj_names = (GStrv) g_ptr_array_steal (names, NULL);
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
                                g_steal_pointer (&run->lens), g_steal_pointer (&run->lens_names), j->n_proj,
                                g_steal_pointer (&j->proj), g_steal_pointer (&j->proj_names));
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
static void
schedule_rebuild (CsMapperPage *self)
{
  if (self->filling)
    return;
  /* a change by hand while an undo builds: the undo's positions no longer apply */
  cs_mapper_page_drop_pending (self);
  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  self->rebuild_source = g_timeout_add (REBUILD_DELAY_MS, rebuild_timeout, self);
}

/* ---- the side panel and its settings ---- */

static gboolean
choice_to_position (GBinding *b, const GValue *from, GValue *to, gpointer table)
{
  const Choice *c = table;
  for (guint i = 0; c[i].name; i++)
    if (c[i].value == g_value_get_int (from))
      {
        g_value_set_uint (to, i);
        return TRUE;
      }
  return FALSE;
}

static gboolean
position_to_choice (GBinding *b, const GValue *from, GValue *to, gpointer table)
{
  const Choice *c = table;
  guint pos = g_value_get_uint (from);
  for (guint i = 0; c[i].name; i++)
    if (i == pos)
      {
        g_value_set_int (to, c[i].value);
        return TRUE;
      }
  return FALSE;
}

static GtkStringList *
choice_model (const Choice *c)
{
  GtkStringList *l = gtk_string_list_new (NULL);
  for (guint i = 0; c[i].name; i++)
    gtk_string_list_append (l, i == 0 && c == clusters ? c[i].name : _(c[i].name));
  return l;
}

/* A drop-down of specs (lenses, colours): the spec at each position; Lens
 * 2's list starts with "None" (the spec ""). */
static GPtrArray *
specs_of (CsMapperPage *self, GtkDropDown *drop, gboolean *none_first)
{
  *none_first = drop == self->lens2_drop;
  return drop == self->colour_drop ? self->colour_specs : self->lens_specs;
}

static gboolean
spec_to_position (GBinding *b, const GValue *from, GValue *to, gpointer data)
{
  CsMapperPage *self = data;
  GtkDropDown *drop = GTK_DROP_DOWN (g_binding_dup_target (b));
  const char *spec = g_value_get_string (from);
  gboolean none_first;
  GPtrArray *specs = specs_of (self, drop, &none_first);
  g_object_unref (drop);
  if (none_first && (!spec || !*spec))
    {
      g_value_set_uint (to, 0);
      return TRUE;
    }
  for (guint i = 0; spec && i < specs->len; i++)
    if (g_str_equal (specs->pdata[i], spec))
      {
        g_value_set_uint (to, i + (none_first ? 1 : 0));
        return TRUE;
      }
  return FALSE;
}

static gboolean
position_to_spec (GBinding *b, const GValue *from, GValue *to, gpointer data)
{
  CsMapperPage *self = data;
  GtkDropDown *drop = GTK_DROP_DOWN (g_binding_dup_target (b));
  guint pos = g_value_get_uint (from);
  gboolean none_first;
  GPtrArray *specs = specs_of (self, drop, &none_first);
  g_object_unref (drop);
  if (self->filling || pos == GTK_INVALID_LIST_POSITION)
    return FALSE;   /* the list is being refilled */
  if (none_first && pos == 0)
    {
      g_value_set_string (to, "");
      return TRUE;
    }
  pos -= none_first ? 1 : 0;
  if (pos >= specs->len)
    return FALSE;
  g_value_set_string (to, specs->pdata[pos]);
  return TRUE;
}

/* The drop-downs of specs shown as the settings say (after their lists
 * were filled again). */
static void
sync_spec_drops (CsMapperPage *self)
{
  const char *props[] = { "lens1", "lens2", "colour" };
  GtkDropDown *drops[] = { self->lens1_drop, self->lens2_drop, self->colour_drop };
  self->filling++;
  for (guint k = 0; k < G_N_ELEMENTS (drops); k++)
    {
      g_auto(GValue) from = G_VALUE_INIT, to = G_VALUE_INIT;
      g_value_init (&from, G_TYPE_STRING);
      g_value_init (&to, G_TYPE_UINT);
      g_object_get_property (G_OBJECT (self->settings), props[k], &from);
      GBinding *b = g_object_get_data (G_OBJECT (drops[k]), "cs-binding");
      if (spec_to_position (b, &from, &to, self))
        gtk_drop_down_set_selected (drops[k], g_value_get_uint (&to));
    }
  self->filling--;
}

static void
sync_category_checks (CsMapperPage *self)
{
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  const char * const *names = cs_mapper_settings_get_categories (self->settings);
  self->filling++;
  for (guint i = 0; geo && i < self->category_checks->len; i++)
    gtk_check_button_set_active (self->category_checks->pdata[i],
                                 names && g_strv_contains (names, cs_category_set_get (geo->categories, i)->name));
  self->filling--;
}

static void
category_toggled (CsMapperPage *self)
{
  CsGeometry *geo = cs_session_get_geometry (self->session);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  if (self->filling || !geo)
    return;
  for (guint i = 0; i < self->category_checks->len; i++)
    if (gtk_check_button_get_active (self->category_checks->pdata[i]))
      g_ptr_array_add (names, cs_category_set_get (geo->categories, i)->name);
  g_ptr_array_add (names, NULL);
  g_object_set (self->settings, "categories", names->pdata, NULL);
}

static void
on_settings_changed (CsMapperPage *self, GParamSpec *pspec)
{
  if (g_str_equal (pspec->name, "colour"))
    {
      cs_mapper_page_refresh_figure (self, TRUE);
      return;
    }
  if (g_str_equal (pspec->name, "categories"))
    sync_category_checks (self);
  schedule_rebuild (self);
}

/* The panel's choices from the geometry (its categories and concept
 * vectors) or the file (its coordinates), with the usual defaults:
 * the root's tokens over ℓ̄_mammal × ℓ̄_bird, or a file's first two
 * principal components. */
void
cs_mapper_page_fill_panel (CsMapperPage *self)
{
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  GtkWidget *child;
  const char *l1 = NULL, *l2 = "";
  const char *extra[] = { "pca1", "pca2", "l2", "density", "eccentricity", "knn:5" };
  const char *extra_names[] = { N_("Principal component 1"), N_("Principal component 2"), N_("L2 norm"),
                                N_("Density"), N_("Eccentricity"), N_("Distance to the 5th neighbour") };
  const char *colours[] = { "categories", "lens1", "lens2" };
  const char *colour_names[] = { N_("Categories (pies)"), N_("Lens 1 mean"), N_("Lens 2 mean") };

  self->filling++;
  while ((child = gtk_widget_get_first_child (self->categories_box)))
    gtk_box_remove (GTK_BOX (self->categories_box), child);
  g_ptr_array_set_size (self->category_checks, 0);
  g_ptr_array_set_size (self->lens_specs, 0);
  g_ptr_array_set_size (self->colour_specs, 0);
  gtk_string_list_splice (self->lens1_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->lens1_model)), NULL);
  gtk_string_list_splice (self->lens2_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->lens2_model)), NULL);
  gtk_string_list_splice (self->colour_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->colour_model)), NULL);
  gtk_string_list_append (self->lens2_model, _("None"));
  for (guint k = 0; k < G_N_ELEMENTS (colours); k++)
    {
      g_ptr_array_add (self->colour_specs, g_strdup (colours[k]));
      gtk_string_list_append (self->colour_model, _(colour_names[k]));
    }
  if (geo)
    {
      for (guint i = 0; i < geo->categories->items->len; i++)
        {
          CsCategory *c = cs_category_set_get (geo->categories, i);
          g_autofree char *label = g_strdup_printf ("%s (%u)", c->name, c->tokens->len);
          GtkWidget *check = gtk_check_button_new_with_label (label);
          gtk_widget_set_sensitive (check, self->file_points == NULL);
          g_signal_connect_swapped (check, "toggled", G_CALLBACK (category_toggled), self);
          gtk_box_append (GTK_BOX (self->categories_box), check);
          g_ptr_array_add (self->category_checks, check);
        }
      for (guint i = 0; i < geo->categories->items->len && !self->file_points; i++)
        if (geo->vectors[i].estimated)
          {
            CsCategory *c = cs_category_set_get (geo->categories, i);
            g_autofree char *label = g_strdup_printf (_("Projection on ℓ̄ %s"), c->name);
            char *spec = g_strdup_printf ("vector:%s", c->name);
            if (!l1 || g_str_equal (c->name, "mammal"))
              l1 = g_str_equal (c->name, "mammal") ? spec : l1;
            if (g_str_equal (c->name, "bird"))
              l2 = spec;
            g_ptr_array_add (self->lens_specs, spec);
            g_ptr_array_add (self->colour_specs, g_strdup (spec));
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
      l1 = "pca1";   /* the first two principal components */
      l2 = "pca2";
    }
  if (!l1)
    l1 = self->lens_specs->pdata[0];
  {
    /* the root of the hierarchy by default: its tokens hold the children's */
    const char *root[] = { geo && geo->categories->items->len ? cs_category_set_get (geo->categories, 0)->name : NULL,
                           NULL };
    g_object_set (self->settings, "categories", root, "lens1", l1, "lens2", l2, "colour", "categories", NULL);
  }
  self->filling--;
  sync_category_checks (self);
  sync_spec_drops (self);
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
cs_mapper_page_configure (CsMapperPage *self, const char *categories, const char *lens1, const char *lens2,
                          int intervals, double overlap)
{
  g_return_if_fail (CS_IS_MAPPER_PAGE (self));
  self->filling++;
  if (categories)
    {
      g_auto(GStrv) names = g_strsplit (categories, ",", -1);
      g_object_set (self->settings, "categories", names, NULL);
    }
  if (lens1)
    g_object_set (self->settings, "lens1", lens1, NULL);
  if (lens2)
    g_object_set (self->settings, "lens2", lens2, NULL);
  if (intervals > 0)
    g_object_set (self->settings, "intervals", intervals, NULL);
  if (overlap >= 0)
    g_object_set (self->settings, "overlap", overlap, NULL);
  self->filling--;
  cs_mapper_page_start_build (self);
}

gboolean
cs_mapper_page_set_colour (CsMapperPage *self, const char *what)
{
  g_return_val_if_fail (CS_IS_MAPPER_PAGE (self), FALSE);
  for (guint i = 0; i < self->colour_specs->len; i++)
    if (g_str_equal (self->colour_specs->pdata[i], what))
      {
        if (g_str_has_prefix (what, "vector:") && !(self->proj_names && g_strv_contains ((const char * const *) self->proj_names, what + 7)))
          return FALSE;
        g_object_set (self->settings, "colour", what, NULL);
        return TRUE;
      }
  return FALSE;
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

/* ---- points from a file ---- */

void
cs_mapper_page_show_file_mode (CsMapperPage *self)
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
    self->filling++;
    gtk_drop_down_set_model (self->dataset_drop, G_LIST_MODEL (list));
    gtk_drop_down_set_selected (self->dataset_drop, at);
    gtk_widget_set_visible (GTK_WIDGET (self->dataset_drop), !csv);
    self->filling--;
  }
  cs_mapper_page_forget_history (self);
  cs_mapper_page_fill_panel (self);
  cs_mapper_page_show_file_mode (self);
  cs_mapper_page_start_build (self);
  return TRUE;
}

void
cs_mapper_page_use_categories (CsMapperPage *self)
{
  g_return_if_fail (CS_IS_MAPPER_PAGE (self));
  g_clear_pointer (&self->file_points, cs_points_free);
  g_clear_pointer (&self->file_path, g_free);
  g_clear_pointer (&self->file_dataset, g_free);
  cs_mapper_page_forget_history (self);
  cs_mapper_page_show_file_mode (self);
  cs_mapper_page_fill_panel (self);
  cs_mapper_page_start_build (self);
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
    cs_mapper_page_set_status (self, error->message, FALSE);
}

static void
points_file_chosen (GtkWidget *owner, const char *path)
{
  CsMapperPage *self = CS_MAPPER_PAGE (owner);
  g_autoptr(GError) error = NULL;
  if (!cs_mapper_page_load_points (self, path, NULL, &error))
    cs_mapper_page_set_status (self, error->message, FALSE);
}

static void
points_file_clicked (CsMapperPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Points from a File"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL,
                     _("Activations (HDF5) or points (CSV)"), "*.h5 *.hdf5 *.csv", points_file_chosen);
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
bind_spin (CsMapperPage *self, GtkSpinButton *spin, const char *prop)
{
  g_object_bind_property (self->settings, prop, spin, "value", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
}

static void
bind_choice (CsMapperPage *self, GtkDropDown *drop, const char *prop, const Choice *table)
{
  g_autoptr(GtkStringList) model = choice_model (table);
  gtk_drop_down_set_model (drop, G_LIST_MODEL (model));
  g_object_bind_property_full (self->settings, prop, drop, "selected", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE,
                               choice_to_position, position_to_choice, (gpointer) table, NULL);
}

static void
bind_specs (CsMapperPage *self, GtkDropDown *drop, GtkStringList *model, const char *prop)
{
  GBinding *b;
  gtk_drop_down_set_model (drop, G_LIST_MODEL (model));
  b = g_object_bind_property_full (self->settings, prop, drop, "selected", G_BINDING_BIDIRECTIONAL,
                                   spec_to_position, position_to_spec, self, NULL);
  g_object_set_data (G_OBJECT (drop), "cs-binding", b);
}

static void
cs_mapper_page_init (CsMapperPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->job = cs_job_new (NULL);
  self->selected = -1;
  self->settings = cs_mapper_settings_new ();
  self->category_checks = g_ptr_array_new ();
  self->lens_specs = g_ptr_array_new_with_free_func (g_free);
  self->colour_specs = g_ptr_array_new_with_free_func (g_free);
  self->lens1_model = gtk_string_list_new (NULL);
  self->lens2_model = gtk_string_list_new (NULL);
  self->colour_model = gtk_string_list_new (NULL);

  bind_spin (self, self->intervals_spin, "intervals");
  bind_spin (self, self->overlap_spin, "overlap");
  bind_spin (self, self->eps_spin, "eps");
  bind_spin (self, self->min_samples_spin, "min-samples");
  bind_spin (self, self->min_inter_spin, "min-intersection");
  cs_ui_spin_auto (self->eps_spin, 0);
  bind_choice (self, self->cover_drop, "cover", covers);
  bind_choice (self, self->cluster_drop, "cluster", clusters);
  bind_specs (self, self->lens1_drop, self->lens1_model, "lens1");
  bind_specs (self, self->lens2_drop, self->lens2_model, "lens2");
  bind_specs (self, self->colour_drop, self->colour_model, "colour");
  g_signal_connect_object (self->settings, "notify", G_CALLBACK (on_settings_changed), self, G_CONNECT_SWAPPED);
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
  gtk_widget_class_bind_template_callback (widget_class, points_file_clicked);
  gtk_widget_class_bind_template_callback (widget_class, cs_mapper_page_use_categories);
  gtk_widget_class_bind_template_callback (widget_class, dataset_changed);
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
