#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>

#include "cs-build-config.h"
#include "cs-export-dialog.h"
#include "cs-geometry-page-private.h"
#include "cs-ui.h"
#include "cs-workspace.h"

/* What the Geometry page does on request: undo and redo, workspaces,
 * export, search, selection and the keyboard's shortcuts. */

/* ---- undo and redo: the geometry is shared with the history (a
 * reference-counted box), the view's state is copied ---- */

void
geo_state_free (gpointer p)
{
  GeoState *st = p;
  geo_box_release (st->box);
  g_free (st->visible);
  g_free (st->description);
  g_free (st->json_path);
  g_free (st->workspace_path);
  g_free (st);
}

GeoState *
geometry_page_capture (CsGeometryPage *self)
{
  GeoState *st = g_new0 (GeoState, 1);
  g_autofree char *json = NULL;
  g_object_get (self->settings, "categories-json", &json, NULL);
  st->box = g_rc_box_acquire (self->geo_box);
  st->visible = g_memdup2 (self->visible, geometry_of (self)->categories->items->len * sizeof (gboolean));
  st->ax = self->ax;
  st->ay = self->ay;
  st->orthogonalise = self->orthogonalise;
  st->description = g_strdup (self->description);
  st->json_path = g_steal_pointer (&json);
  st->workspace_path = g_strdup (cs_session_get_workspace_path (self->session));
  return st;
}

void
geometry_page_update_undo (CsGeometryPage *self)
{
  cs_ui_update_undo (self->undo_button, self->redo_button, self->history);
}

/* Records the page's state as it is before a change named label. */
void
geometry_page_remember (CsGeometryPage *self, const char *label)
{
  if (!geometry_of (self))
    return;
  cs_history_push (self->history, label, geometry_page_capture (self));
  geometry_page_update_undo (self);
}

void
geometry_page_forget_history (CsGeometryPage *self)
{
  cs_history_clear (self->history);
  geometry_page_update_undo (self);
}

/* Shows st (taken over): its geometry, categories shown, axes and origin. */
static void
restore_state (CsGeometryPage *self, GeoState *st)
{
  gboolean other_geometry = st->box != self->geo_box;
  g_autoptr(GError) error = NULL;

  if (other_geometry)
    cs_session_set_marked (self->session, NULL, 0);
  g_free (self->visible);
  self->visible = g_steal_pointer (&st->visible);
  self->ax = st->ax;
  self->ay = st->ay;
  self->orthogonalise = st->orthogonalise;
  g_free (self->description);
  self->description = g_steal_pointer (&st->description);
  g_object_set (self->settings, "categories-json", st->json_path, NULL);
  cs_session_set_workspace_path (self->session, st->workspace_path);
  geometry_page_set_box (self, g_steal_pointer (&st->box));
  geo_state_free (st);
  geometry_page_fill_panel (self);
  geometry_page_select_axes_widgets (self);
  if (!geometry_page_reproject (self, &error))
    geometry_page_show_message (self, error->message);
  else
    gtk_widget_set_visible (self->status_box, FALSE);
  geometry_page_update_undo (self);
}

static gboolean
history_step (CsGeometryPage *self, gboolean undo)
{
  if (!geometry_of (self) || cs_geometry_page_get_busy (self) ||
      !(undo ? cs_history_undo_label (self->history) : cs_history_redo_label (self->history)))
    return FALSE;
  restore_state (self, undo ? cs_history_undo (self->history, geometry_page_capture (self))
                            : cs_history_redo (self->history, geometry_page_capture (self)));
  return TRUE;
}

gboolean
cs_geometry_page_undo (CsGeometryPage *self)
{
  g_return_val_if_fail (CS_IS_GEOMETRY_PAGE (self), FALSE);
  return history_step (self, TRUE);
}

gboolean
cs_geometry_page_redo (CsGeometryPage *self)
{
  g_return_val_if_fail (CS_IS_GEOMETRY_PAGE (self), FALSE);
  return history_step (self, FALSE);
}

const char *
cs_geometry_page_get_undo_label (CsGeometryPage *self)
{
  return cs_history_undo_label (self->history);
}

/* ---- workspaces ---- */

gboolean
cs_geometry_page_save_workspace (CsGeometryPage *self, const char *path, GError **error)
{
  g_autoptr(GHashTable) view = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GString) hidden = g_string_new (NULL);
  CsGeometry *g = geometry_of (self);
  CsCategorySet *c;

  if (!g || !cs_session_get_model (self->session))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to save yet"));
      return FALSE;
    }
  c = g->categories;
  g_hash_table_insert (view, "x", g_strdup (cs_category_set_get (c, self->ax.plus)->name));
  g_hash_table_insert (view, "x_minus", g_strdup (self->ax.minus >= 0 ? cs_category_set_get (c, self->ax.minus)->name : ""));
  g_hash_table_insert (view, "y", g_strdup (cs_category_set_get (c, self->ay.plus)->name));
  g_hash_table_insert (view, "y_minus", g_strdup (self->ay.minus >= 0 ? cs_category_set_get (c, self->ay.minus)->name : ""));
  g_hash_table_insert (view, "orthogonal", g_strdup (self->orthogonalise ? "1" : "0"));
  for (guint i = 0; i < c->items->len; i++)
    if (!self->visible[i])
      g_string_append_printf (hidden, "%s%s", hidden->len ? "\n" : "", cs_category_set_get (c, i)->name);
  g_hash_table_insert (view, "hidden", g_strdup (hidden->str));
  if (!cs_workspace_save_with_view (path, cs_session_get_model (self->session), cs_session_get_space (self->session),
                                    g, self->description ? self->description : "WordNet animal", view, error))
    return FALSE;
  cs_session_set_workspace_path (self->session, path);
  return TRUE;
}

/* The view a workspace saved (axes, hidden categories), or, from the
 * command line, none: the paper's first panel if it can. */
static void
show_saved_view (CsGeometryPage *self, GHashTable *view)
{
  const char *x = g_hash_table_lookup (view, "x"), *xm = g_hash_table_lookup (view, "x_minus");
  const char *y = g_hash_table_lookup (view, "y"), *ym = g_hash_table_lookup (view, "y_minus");
  const char *o = g_hash_table_lookup (view, "orthogonal");
  g_autoptr(GError) local = NULL;
  if (!x || !y || !cs_geometry_page_set_axes (self, x, xm && *xm ? xm : NULL, y, ym && *ym ? ym : NULL,
                                              g_strcmp0 (o, "0") != 0, &local))
    {
      CsCategorySet *c = geometry_of (self)->categories;
      guint n = c->items->len;
      const char *a = cs_category_set_get (c, 0)->name, *b = cs_category_set_get (c, MIN (1u, n - 1))->name;
      g_clear_error (&local);
      if (!cs_geometry_page_set_axes (self, a, NULL, b, NULL, TRUE, &local) &&
          !cs_geometry_page_set_axes (self, a, NULL, a, NULL, FALSE, NULL))
        geometry_page_show_message (self, local->message);
    }
}

gboolean
cs_geometry_page_open_workspace (CsGeometryPage *self, CsModel *model, const char *path, GError **error)
{
  g_autoptr(CsWorkspace) ws = cs_workspace_load (path, error);
  const CsTensor *u = cs_model_get_unembedding (model);
  g_autoptr(CsTokenizer) tok = NULL;
  g_autoptr(CsGeometrySpace) space = NULL;
  CsGeometry *g;

  if (!ws)
    return FALSE;
  if (!ws->geometry)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", _("The workspace holds no categories"));
      return FALSE;
    }
  if ((int) u->shape[1] != ws->d || u->shape[0] != ws->vocab)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The workspace was made from a model of another shape than %s"), cs_model_get_name (model));
      return FALSE;
    }
  if (!cs_model_get_tokenizer_path (model))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                   _("The model has no tokenizer.json, so its tokens cannot be matched to words"));
      return FALSE;
    }
  if (!(tok = cs_model_open_tokenizer (model, error)))
    return FALSE;
  geometry_page_stop (self);
  if (cs_session_get_model (self->session) == model && !self->new_model)
    geometry_page_remember (self, _("opening the workspace"));
  else
    geometry_page_forget_history (self);
  self->new_model = FALSE;
  /* the page's own change of model: nothing to compute */
  self->opening = TRUE;
  cs_session_set_model (self->session, model);
  self->opening = FALSE;
  space = cs_geometry_space_new_from (u, ws->mean, ws->inv_sqrt, ws->n_floored);
  cs_session_set_tokenizer (self->session, tok);
  cs_session_set_space (self->session, space);
  cs_session_set_marked (self->session, NULL, 0);
  g = g_steal_pointer (&ws->geometry);
  g_free (self->visible);
  self->visible = g_new0 (gboolean, g->categories->items->len);
  {
    const char *hidden = g_hash_table_lookup (ws->view, "hidden");
    g_auto(GStrv) names = hidden && *hidden ? g_strsplit (hidden, "\n", -1) : NULL;
    for (guint i = 0; i < g->categories->items->len; i++)
      {
        CsCategory *c = cs_category_set_get (g->categories, i);
        self->visible[i] = names ? !g_strv_contains ((const char * const *) names, c->name) : c->reliable;
      }
  }
  g_free (self->description);
  self->description = g_strdup (ws->hierarchy);
  cs_session_set_workspace_path (self->session, path);
  geometry_page_set_box (self, geo_box_new (g));
  geometry_page_fill_panel (self);
  show_saved_view (self, ws->view);
  return TRUE;
}

/* ---- export ---- */

gboolean
cs_geometry_page_export (CsGeometryPage *self, const char *path, const char *preset, const char *theme, double scale,
                         double font_size, GError **error)
{
  CsFigureStyle s = { 0 };
  const char *view = gtk_stack_get_visible_child_name (self->stack);

  if (!geometry_of (self) || !self->proj)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to export yet"));
      return FALSE;
    }
  if (!cs_figure_style_from (preset, theme, font_size, &s, error))
    return FALSE;
  if (g_strcmp0 (view, "figure2") == 0)
    s.width = s.height * 3;   /* three panels side by side: three times as wide as the preset */
  if (g_strcmp0 (view, "wordnet") == 0)
    {
      if (!cs_figure_view_has_figure (CS_FIGURE_VIEW (self->wordnet_view)))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s",
                       _("Compute with “Every WordNet synset” to export the WordNet heatmaps"));
          return FALSE;
        }
      s.width = s.height * 2.6;   /* three square panels side by side */
      return cs_figure_view_export (CS_FIGURE_VIEW (self->wordnet_view), path, &s, scale, error);
    }
  return cs_figure_view_export (CS_FIGURE_VIEW (gtk_stack_get_visible_child (self->stack)), path, &s, scale, error);
}

void
cs_geometry_page_show_view (CsGeometryPage *self, const char *name)
{
  gtk_stack_set_visible_child_name (self->stack, name);
}

static gboolean
export_figure (gpointer owner, const char *path, const char *preset, const char *theme, double scale,
               double font_size, GError **error)
{
  return cs_geometry_page_export (CS_GEOMETRY_PAGE (owner), path, preset, theme, scale, font_size, error);
}

static void
export_failed (gpointer owner, const char *message)
{
  geometry_page_show_message (CS_GEOMETRY_PAGE (owner), message);
}

void
cs_geometry_page_export_dialog (CsGeometryPage *self)
{
  if (!self->proj)
    return;
  cs_export_dialog_present (GTK_WIDGET (self), G_OBJECT (self), gtk_stack_get_visible_child_name (self->stack),
                            export_figure, export_failed);
}

void
cs_geometry_page_copy_figure (CsGeometryPage *self)
{
  g_autofree char *tmp = g_build_filename (g_get_tmp_dir (), "conceptscope-figure.png", NULL);
  g_autoptr(GError) error = NULL;
  if (cs_geometry_page_export (self, tmp, "slide", "light", 2, 0, &error))
    {
      g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (tmp, NULL);
      if (texture)
        gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (self)), texture);
    }
}

/* ---- search, selection, the picked token ---- */

gint64
cs_geometry_page_find_token (CsGeometryPage *self, const char *text)
{
  const char *prefixes[] = { "\xc4\xa0", "\xe2\x96\x81", "" };
  CsTokenizer *tok = self->session ? cs_session_get_tokenizer (self->session) : NULL;
  gint32 id = -1;

  if (!self->proj || !tok || !text || !*text)
    return -1;
  for (guint k = 0; k < G_N_ELEMENTS (prefixes) && id < 0; k++)
    {
      g_autofree char *t = g_strconcat (prefixes[k], text, NULL);
      id = cs_tokenizer_token_to_id (tok, t);
    }
  if (id < 0 || id >= self->proj->vocab)
    return -1;
  cs_projection_view_center_on (self->projection_view, id);
  return id;
}

char *
cs_geometry_page_dup_selection_text (CsGeometryPage *self)
{
  const GArray *sel = cs_session_get_selection (self->session);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < sel->len; i++)
    {
      g_autofree char *t = cs_tokenizer_id_to_text (cs_session_get_tokenizer (self->session),
                                                    g_array_index (sel, gint32, i));
      g_string_append_printf (s, "%s\n", t);
    }
  return g_string_free (s, FALSE);
}

/* The rubber band's tokens become the session's selection and are listed. */
void
geometry_page_selection_changed (CsGeometryPage *self)
{
  const GArray *sel = cs_projection_view_get_selection (self->projection_view);
  g_autofree char *text = NULL;
  g_autofree char *label = NULL;

  cs_session_set_selection (self->session, (const gint32 *) sel->data, sel->len);
  text = cs_geometry_page_dup_selection_text (self);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->selection_view), text, -1);
  label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u token selected", "%u tokens selected", sel->len),
                           sel->len);
  gtk_label_set_text (self->selection_label, label);
}

char *
geometry_page_describe_token (gint64 id, gpointer data)
{
  CsGeometryPage *self = data;
  CsGeometry *g = geometry_of (self);
  g_autofree char *text = NULL;
  GString *s;

  if (!g || !self->proj || id < 0 || id >= self->proj->vocab)
    return NULL;
  text = cs_tokenizer_id_to_text (cs_session_get_tokenizer (self->session), (gint32) id);
  s = g_string_new (NULL);
  g_string_append_printf (s, "“%s”  (%.2f, %.2f)", text, self->proj->x[id], self->proj->y[id]);
  for (guint c = 0; c < g->categories->items->len; c++)
    {
      CsCategory *cat = cs_category_set_get (g->categories, c);
      for (guint k = 0; k < cat->tokens->len; k++)
        if (g_array_index (cat->tokens, gint32, k) == id)
          {
            /* a training token projects near 1 by construction: say which it is */
            if (!g->vectors[c].estimated)
              g_string_append_printf (s, "\n%s", cat->name);
            else if (self->geo_box->train[c][k])
              g_string_append_printf (s, _("\n%s (training token)"), cat->name);
            else
              g_string_append_printf (s, _("\n%s (held-out token)"), cat->name);
            break;
          }
    }
  return g_string_free (s, FALSE);
}

/* A click on a token: it keeps its ring and is described beside the plot. */
void
geometry_page_token_activated (CsGeometryPage *self, gint64 id)
{
  g_autofree char *d = id >= 0 ? geometry_page_describe_token (id, self) : NULL;
  if (d)
    gtk_label_set_text (self->selection_label, d);
}

/* ---- shortcuts ---- */

static gboolean
shortcut_find (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  gtk_widget_grab_focus (GTK_WIDGET (CS_GEOMETRY_PAGE (widget)->search));
  return TRUE;
}

static gboolean
shortcut_export (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  cs_geometry_page_export_dialog (CS_GEOMETRY_PAGE (widget));
  return TRUE;
}

static gboolean
shortcut_reset (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  cs_projection_view_reset_view (CS_GEOMETRY_PAGE (widget)->projection_view);
  return TRUE;
}

static gboolean
shortcut_copy (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  cs_geometry_page_copy_figure (CS_GEOMETRY_PAGE (widget));
  return TRUE;
}

static gboolean
shortcut_zoom_in (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  cs_projection_view_zoom (CS_GEOMETRY_PAGE (widget)->projection_view, 1.25, 0.5, 0.5);
  return TRUE;
}

static gboolean
shortcut_zoom_out (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  cs_projection_view_zoom (CS_GEOMETRY_PAGE (widget)->projection_view, 0.8, 0.5, 0.5);
  return TRUE;
}

void
geometry_page_add_shortcuts (CsGeometryPage *self)
{
  /* managed by the window, so they work wherever the focus is while the page is shown */
  GtkEventController *c = gtk_shortcut_controller_new ();
  const struct { guint key; GdkModifierType mods; GtkShortcutFunc func; } keys[] = {
    { GDK_KEY_f, GDK_CONTROL_MASK, shortcut_find },
    { GDK_KEY_e, GDK_CONTROL_MASK, shortcut_export },
    { GDK_KEY_0, GDK_CONTROL_MASK, shortcut_reset },
    { GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK, shortcut_copy },
    { GDK_KEY_plus, GDK_CONTROL_MASK, shortcut_zoom_in },
    { GDK_KEY_equal, GDK_CONTROL_MASK, shortcut_zoom_in },
    { GDK_KEY_minus, GDK_CONTROL_MASK, shortcut_zoom_out },
  };
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (c), GTK_SHORTCUT_SCOPE_MANAGED);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (c),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (keys[i].key, keys[i].mods),
                                                            gtk_callback_action_new (keys[i].func, NULL, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), c);
}
