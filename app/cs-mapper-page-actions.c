#define G_LOG_DOMAIN "conceptscope"

/* The Mapper page's actions: undo and redo of the layout and of the
 * parameters, a new layout, export, the graph as JSON and in the
 * workspace. */

#include <glib/gi18n.h>
#include <string.h>

#include "cs-build-config.h"
#include "cs-categories.h"
#include "cs-export-dialog.h"
#include "cs-mapper-page-private.h"
#include "cs-ui.h"

/* ---- undo: the graph's settings and node positions before a change of
 * parameters, a node moved by hand or a new layout. The same settings give
 * the same graph, so taking back a change of parameters builds again and
 * puts the nodes where they were. ---- */

struct Layout
{
  int               n;
  double           *x, *y;
  CsMapperSettings *settings;   /* what built the graph, NULL: a graph from a workspace */
};

static void
layout_free (gpointer p)
{
  Layout *l = p;
  if (!l)
    return;
  g_free (l->x);
  g_free (l->y);
  g_clear_object (&l->settings);
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
  l->settings = self->built ? cs_mapper_settings_copy (self->built) : NULL;
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
  cs_mapper_page_refresh_figure (self, FALSE);
}

static void
update_undo_buttons (CsMapperPage *self)
{
  cs_ui_update_undo (self->undo_button, self->redo_button, self->history);
}

void
cs_mapper_page_history_init (CsMapperPage *self)
{
  self->history = cs_history_new (layout_free, 50);
}

void
cs_mapper_page_drop_pending (CsMapperPage *self)
{
  g_clear_pointer (&self->pending, layout_free);
  self->restoring = FALSE;
}

void
cs_mapper_page_forget_history (CsMapperPage *self)
{
  cs_history_clear (self->history);
  g_clear_object (&self->built);
  cs_mapper_page_drop_pending (self);
  update_undo_buttons (self);
}

void
cs_mapper_page_built_before (CsMapperPage *self, CsMapperSettings *built_with)
{
  /* a change of parameters by hand goes into the history */
  Layout *before = self->graph && self->built && !self->restoring ? layout_capture (self) : NULL;
  if (before && !cs_mapper_settings_equal (before->settings, built_with))
    {
      cs_history_push (self->history, _("changing the parameters"), before);
      update_undo_buttons (self);
    }
  else
    layout_free (before);
}

void
cs_mapper_page_built_after (CsMapperPage *self, CsMapperSettings *built_with)
{
  g_set_object (&self->built, built_with);
  if (self->restoring)
    {
      if (self->pending)
        layout_apply (self, self->pending);
      cs_mapper_page_drop_pending (self);
    }
}

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
  if (!l->settings || cs_mapper_settings_equal (l->settings, self->built))
    {
      layout_apply (self, l);
      layout_free (l);
      return TRUE;
    }
  /* other parameters: build with them, then put the nodes back */
  self->filling++;
  g_object_set (self->settings, "categories", cs_mapper_settings_get_categories (l->settings), NULL);
  {
    CsMapperRunParams p;
    g_autofree char *lens1 = NULL, *lens2 = NULL;
    g_object_get (l->settings, "lens1", &lens1, "lens2", &lens2, NULL);
    cs_mapper_settings_to_params (l->settings, &p);
    g_object_set (self->settings, "lens1", lens1, "lens2", lens2, NULL);
    cs_mapper_settings_set_from (self->settings, &p.graph);
  }
  self->filling--;
  cs_mapper_page_drop_pending (self);
  self->pending = l;
  self->restoring = TRUE;
  cs_mapper_page_start_build (self);
  if (!cs_job_running (self->job))
    cs_mapper_page_drop_pending (self);
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

void
cs_mapper_page_node_move_begin (CsMapperPage *self, int node)
{
  g_clear_pointer (&self->drag_before, layout_free);
  cs_mapper_page_drop_pending (self);
  if (self->graph && node >= 0)
    self->drag_before = layout_capture (self);
}

void
cs_mapper_page_node_move_end (CsMapperPage *self, int node, gboolean moved)
{
  Layout *before = g_steal_pointer (&self->drag_before);
  if (before && self->graph && before->n == self->graph->n_nodes && moved)
    {
      cs_history_push (self->history, _("moving a node"), before);
      update_undo_buttons (self);
    }
  else
    layout_free (before);
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
  cs_mapper_page_refresh_figure (self, FALSE);
}

/* ---- export ---- */

gboolean
cs_mapper_page_export (CsMapperPage *self, const char *path, const char *preset, const char *theme, double scale,
                       double font_size, GError **error)
{
  CsFigureStyle s = { 0 };
  if (!self->graph)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to export yet"));
      return FALSE;
    }
  if (!cs_figure_style_from (preset, theme, font_size, &s, error))
    return FALSE;
  return cs_figure_view_export (CS_FIGURE_VIEW (self->graph_view), path, &s, scale, error);
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
  cs_mapper_page_set_status (CS_MAPPER_PAGE (owner), message, FALSE);
}

void
cs_mapper_page_export_dialog (CsMapperPage *self)
{
  if (self->graph)
    cs_export_dialog_present (GTK_WIDGET (self), G_OBJECT (self), "mapper", export_figure, export_failed);
}

/* ---- the graph as JSON ---- */

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
    g_ptr_array_add (labels, self->token_ids      ? cs_mapper_page_token_text (self, self->token_ids[i])
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
    cs_mapper_page_set_status (self, error->message, FALSE);
}

void
cs_mapper_page_json_dialog (CsMapperPage *self)
{
  if (self->graph)
    cs_ui_choose_file (GTK_WIDGET (self), _("Save the Graph as JSON"), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"),
                       "mapper-graph.json", NULL, NULL, json_chosen);
}

/* ---- the workspace ---- */

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
  gboolean found[2] = { FALSE, g->params.n_lenses < 2 };

  self->filling++;
  g_object_set (self->settings, "categories", categories, NULL);
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
            g_object_set (self->settings, l == 0 ? "lens1" : "lens2", self->lens_specs->pdata[k], NULL);
            found[l] = TRUE;
          }
    }
  if (g->params.n_lenses < 2)
    g_object_set (self->settings, "lens2", "", NULL);
  cs_mapper_settings_set_from (self->settings, &g->params);
  self->filling--;
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
  cs_mapper_page_forget_history (self);
  if (self->file_points)
    {
      /* the workspace's graph is over its categories' tokens */
      g_clear_pointer (&self->file_points, cs_points_free);
      g_clear_pointer (&self->file_path, g_free);
      g_clear_pointer (&self->file_dataset, g_free);
      cs_mapper_page_show_file_mode (self);
      cs_mapper_page_fill_panel (self);
    }
  {
    gboolean known = panel_from_graph (self, graph, (const char * const *) lens_names, (const char * const *) names);
    cs_mapper_page_install_graph (self, graph, g_steal_pointer (&ids), g_steal_pointer (&group),
                                  g_steal_pointer (&names), g_steal_pointer (&lens), g_steal_pointer (&lens_names), 0,
                                  NULL, NULL);
    /* with the panel showing what built it, a change from here can be undone */
    if (known)
      self->built = cs_mapper_settings_copy (self->settings);
  }
  return TRUE;
}
