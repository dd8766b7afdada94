#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-geometry-page-private.h"
#include "cs-geometry-run.h"
#include "cs-ui.h"

/* The Geometry page: its panel (resources/ui/cs-geometry-page.ui, bound to
 * a CsGeometrySettings) and the computation (cs_geometry_run in a CsJob).
 * What feeds the views is in cs-geometry-page-figures.c; undo, workspaces,
 * export, search and selection in cs-geometry-page-actions.c. */

G_DEFINE_FINAL_TYPE (CsGeometryPage, cs_geometry_page, ADW_TYPE_BIN)

/* ---- axes ---- */

static gboolean
same_axis (CsAxis a, CsAxis b)
{
  return a.plus == b.plus && a.minus == b.minus;
}


gboolean
geometry_page_reproject (CsGeometryPage *self, GError **error)
{
  CsProjection *p;
  if (self->pre_proj && self->orthogonalise && same_axis (self->ax, self->pre_ax) && same_axis (self->ay, self->pre_ay))
    p = g_steal_pointer (&self->pre_proj);
  else
    p = cs_geometry_project (cs_session_get_space (self->session), geometry_of (self), self->ax, self->ay,
                             self->orthogonalise, error);
  cs_geometry_page_forget_projected (self);
  if (!p)
    return FALSE;
  g_clear_pointer (&self->proj, cs_projection_free);
  self->proj = p;
  {
    /* the axes for the other pages (the Steering page steers along them) */
    CsCategorySet *c = geometry_of (self)->categories;
    CsAxis both[2] = { self->ax, self->ay };
    char *spec[2];
    for (int k = 0; k < 2; k++)
      spec[k] = both[k].minus >= 0 ? g_strdup_printf ("%s-%s", cs_category_set_get (c, both[k].plus)->name,
                                                      cs_category_set_get (c, both[k].minus)->name)
                                   : g_strdup (cs_category_set_get (c, both[k].plus)->name);
    cs_session_set_axes (self->session, spec[0], spec[1]);
    g_free (spec[0]);
    g_free (spec[1]);
  }
  cs_geometry_page_refresh_figures (self);
  cs_projection_view_reset_view (self->projection_view);
  return TRUE;
}

/* The category a drop-down shows, by its item's name ("—": none). */
static int
dropped_category (CsGeometryPage *self, GtkDropDown *d)
{
  GtkStringObject *item = GTK_STRING_OBJECT (gtk_drop_down_get_selected_item (d));
  return item ? cs_category_set_find (geometry_of (self)->categories, gtk_string_object_get_string (item)) : -1;
}

void
geometry_page_show_message (CsGeometryPage *self, const char *message)
{
  gtk_label_set_text (self->status_label, message);
  gtk_widget_set_visible (self->status_box, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  gtk_widget_set_visible (self->cancel_button, FALSE);
}

static void
on_axes_changed (CsGeometryPage *self)
{
  g_autoptr(GError) error = NULL;
  CsAxis ax, ay, oldx = self->ax, oldy = self->ay;
  gboolean old_orth = self->orthogonalise;
  GeoState *before;

  if (self->updating || !geometry_of (self))
    return;
  ax = (CsAxis) { dropped_category (self, self->x_drop), dropped_category (self, self->xm_drop) };
  ay = (CsAxis) { dropped_category (self, self->y_drop), dropped_category (self, self->ym_drop) };
  if (ax.plus < 0 || ay.plus < 0)
    return;
  before = geometry_page_capture (self);
  self->ax = ax;
  self->ay = ay;
  self->orthogonalise = gtk_check_button_get_active (self->orth_check);
  if (!geometry_page_reproject (self, &error))
    {
      geo_state_free (before);
      self->ax = oldx;
      self->ay = oldy;
      self->orthogonalise = old_orth;
      geometry_page_show_message (self, error->message);
    }
  else
    {
      gtk_widget_set_visible (self->status_box, FALSE);
      cs_history_push (self->history, _("changing the axes"), before);
      geometry_page_update_undo (self);
    }
}

void
geometry_page_select_axes_widgets (CsGeometryPage *self)
{
  self->updating = TRUE;
  /* the drop-downs list the categories in order, the minus ones after "—" */
  gtk_drop_down_set_selected (self->x_drop, (guint) self->ax.plus);
  gtk_drop_down_set_selected (self->xm_drop, (guint) (self->ax.minus + 1));
  gtk_drop_down_set_selected (self->y_drop, (guint) self->ay.plus);
  gtk_drop_down_set_selected (self->ym_drop, (guint) (self->ay.minus + 1));
  gtk_check_button_set_active (self->orth_check, self->orthogonalise);
  self->updating = FALSE;
}

gboolean
cs_geometry_page_set_axes (CsGeometryPage *self, const char *x, const char *xm, const char *y, const char *ym,
                           gboolean orthogonalise, GError **error)
{
  CsCategorySet *c;
  g_return_val_if_fail (CS_IS_GEOMETRY_PAGE (self), FALSE);
  if (!geometry_of (self))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "the geometry is not computed yet");
      return FALSE;
    }
  c = geometry_of (self)->categories;
  CsAxis ax = { cs_category_set_find (c, x), xm ? cs_category_set_find (c, xm) : -1 };
  CsAxis ay = { cs_category_set_find (c, y), ym ? cs_category_set_find (c, ym) : -1 };
  if (ax.plus < 0 || ay.plus < 0 || (xm && ax.minus < 0) || (ym && ay.minus < 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "unknown category in the axes");
      return FALSE;
    }
  self->ax = ax;
  self->ay = ay;
  self->orthogonalise = orthogonalise;
  geometry_page_select_axes_widgets (self);
  return geometry_page_reproject (self, error);
}

/* ---- categories ---- */

static void on_category_toggled (GtkCheckButton *button, CsGeometryPage *self);

void
cs_geometry_page_select_synset (CsGeometryPage *self, guint index)
{
  g_autoptr(GError) error = NULL;
  CsGeometry *g = geometry_of (self);
  CsCategorySet *cs;
  GeoState *before;
  gboolean *old_visible;
  CsAxis oldx = self->ax, oldy = self->ay;
  int child = -1;
  GtkWidget *w;

  if (!g || index >= g->categories->items->len)
    return;
  cs = g->categories;
  if (!g->vectors[index].estimated)
    {
      g_autofree char *msg = g_strdup_printf (_("%s has too few tokens for a vector"),
                                              cs_category_set_get (cs, index)->name);
      geometry_page_show_message (self, msg);
      return;
    }
  before = geometry_page_capture (self);
  old_visible = g_memdup2 (self->visible, sizeof (gboolean) * cs->items->len);
  for (guint i = 0; i < cs->items->len; i++)
    {
      CsCategory *c = cs_category_set_get (cs, i);
      gboolean mine = i == index || (c->parent == (int) index && c->reliable && g->vectors[i].estimated);
      self->visible[i] = mine;
      if (mine && i != index && child < 0)
        child = (int) i;
    }
  /* the check buttons follow without each recording a step */
  for (w = gtk_widget_get_first_child (self->categories_box); w; w = gtk_widget_get_next_sibling (w))
    if (GTK_IS_CHECK_BUTTON (w))
      {
        guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (w), "index"));
        g_signal_handlers_block_by_func (w, on_category_toggled, self);
        gtk_check_button_set_active (GTK_CHECK_BUTTON (w), i < cs->items->len && self->visible[i]);
        g_signal_handlers_unblock_by_func (w, on_category_toggled, self);
      }
  self->ax = (CsAxis) { (int) index, -1 };
  if (child >= 0)
    self->ay = (CsAxis) { child, -1 };
  else if (self->ay.plus == (int) index)
    self->ay = oldx.plus != (int) index ? oldx : oldy;
  if (self->ay.plus == self->ax.plus && self->ay.minus < 0)
    {
      /* nothing to pair it with: leave the plane as it was */
      memcpy (self->visible, old_visible, sizeof (gboolean) * cs->items->len);
      self->ax = oldx;
      self->ay = oldy;
      g_free (old_visible);
      geo_state_free (before);
      geometry_page_fill_panel (self);
      return;
    }
  g_free (old_visible);
  geometry_page_select_axes_widgets (self);
  cs_wordnet_view_set_selected (self->wordnet_view, (gint) index);
  if (!geometry_page_reproject (self, &error))
    {
      geometry_page_show_message (self, error->message);
      geo_state_free (before);
      return;
    }
  {
    g_autofree char *label = g_strdup_printf (_("selecting %s"), cs_category_set_get (cs, index)->name);
    cs_history_push (self->history, label, before);
    geometry_page_update_undo (self);
  }
}

static void
on_synset_activated (CsWordNetView *view, guint index, CsGeometryPage *self)
{
  cs_geometry_page_select_synset (self, index);
}

static void
on_block_activate (CsGeometryPage *self)
{
  const char *name = gtk_editable_get_text (GTK_EDITABLE (self->block_entry));
  guint first, count;
  if (!self->wordnet || !*name)
    return;
  if (!cs_geometry_wordnet_block (self->wordnet, name, &first, &count))
    {
      g_autofree char *msg = g_strdup_printf (_("No synset “%s” among these categories"), name);
      gtk_label_set_text (self->wordnet_label, msg);
      return;
    }
  cs_wordnet_view_zoom_to (self->wordnet_view, first, count);
  cs_wordnet_view_set_selected (self->wordnet_view, (gint) first);
  {
    g_autofree char *msg = g_strdup_printf (_("%s: %u synsets"), name, count);
    gtk_label_set_text (self->wordnet_label, msg);
  }
}

static void
on_whole_table (CsGeometryPage *self)
{
  if (self->wordnet)
    cs_wordnet_view_zoom_to (self->wordnet_view, 0, self->wordnet->heatmaps.n);
}

static void
on_wordnet_all_toggled (CsGeometryPage *self)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  /* the threshold follows the vocabulary's size, as on the command line */
  if (gtk_check_button_get_active (self->wordnet_all_check) && model && !self->updating)
    g_object_set (self->settings, "min-tokens",
                  cs_geometry_wordnet_all_min_tokens (cs_model_get_config (model)->vocab), NULL);
}

static void
on_category_toggled (GtkCheckButton *button, CsGeometryPage *self)
{
  guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "index"));
  if (geometry_of (self) && i < geometry_of (self)->categories->items->len)
    {
      const char *name = cs_category_set_get (geometry_of (self)->categories, i)->name;
      g_autofree char *label = gtk_check_button_get_active (button) ? g_strdup_printf (_("showing %s"), name)
                                                                     : g_strdup_printf (_("hiding %s"), name);
      geometry_page_remember (self, label);
      self->visible[i] = gtk_check_button_get_active (button);
      cs_geometry_page_refresh_figures (self);
    }
}

void
cs_geometry_page_set_category_visible (CsGeometryPage *self, const char *name, gboolean visible)
{
  GtkWidget *child;
  int i = geometry_of (self) ? cs_category_set_find (geometry_of (self)->categories, name) : -1;
  if (i < 0)
    return;
  for (child = gtk_widget_get_first_child (self->categories_box); child; child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_CHECK_BUTTON (child) && GPOINTER_TO_INT (g_object_get_data (G_OBJECT (child), "index")) == i)
      gtk_check_button_set_active (GTK_CHECK_BUTTON (child), visible);
}

gboolean
cs_geometry_page_get_category_visible (CsGeometryPage *self, const char *name)
{
  int i = geometry_of (self) ? cs_category_set_find (geometry_of (self)->categories, name) : -1;
  return i >= 0 && self->visible[i];
}

static void
on_legend_activated (CsProjectionView *view, guint category, CsGeometryPage *self)
{
  if (geometry_of (self) && category < geometry_of (self)->categories->items->len)
    cs_geometry_page_set_category_visible (self, cs_category_set_get (geometry_of (self)->categories, category)->name,
                                           !self->visible[category]);
}

/* The categories' check buttons and the axes' choices for the geometry drawn. */
void
geometry_page_fill_panel (CsGeometryPage *self)
{
  CsCategorySet *c = geometry_of (self)->categories;
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) minus = gtk_string_list_new (NULL);
  GtkWidget *child;

  cs_geometry_page_compute_figure2 (self);
  while ((child = gtk_widget_get_first_child (self->categories_box)))
    gtk_box_remove (GTK_BOX (self->categories_box), child);
  gtk_string_list_append (minus, "—");
  for (guint i = 0; i < c->items->len; i++)
    {
      CsCategory *cat = cs_category_set_get (c, i);
      int depth = 0;
      for (int p = cat->parent; p >= 0 && depth < 8; p = cs_category_set_get (c, p)->parent)
        depth++;
      /* indented by depth (the whole WordNet is many levels deep), at most 8 */
      g_autofree char *indent = g_strnfill (depth * 3, ' ');
      g_autofree char *label = cat->reliable ?
        g_strdup_printf ("%s%s (%u)", indent, cat->name, cat->tokens->len) :
        g_strdup_printf (_("%s%s (%u, unreliable)"), indent, cat->name, cat->tokens->len);
      GtkWidget *check = gtk_check_button_new_with_label (label);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check), self->visible[i]);
      g_object_set_data (G_OBJECT (check), "index", GUINT_TO_POINTER (i));
      if (!cat->reliable)
        gtk_widget_set_tooltip_text (check, _("Too few tokens for a reliable vector; hidden unless checked"));
      g_signal_connect (check, "toggled", G_CALLBACK (on_category_toggled), self);
      gtk_box_append (GTK_BOX (self->categories_box), check);
      gtk_string_list_append (names, cat->name);
      gtk_string_list_append (minus, cat->name);
    }
  self->updating = TRUE;
  gtk_drop_down_set_model (self->x_drop, G_LIST_MODEL (names));
  gtk_drop_down_set_model (self->y_drop, G_LIST_MODEL (names));
  gtk_drop_down_set_model (self->xm_drop, G_LIST_MODEL (minus));
  gtk_drop_down_set_model (self->ym_drop, G_LIST_MODEL (minus));
  gtk_drop_down_set_model (self->z_drop, G_LIST_MODEL (names));
  gtk_drop_down_set_model (self->zm_drop, G_LIST_MODEL (minus));
  {
    /* the third axis: fish beside mammal and bird (the paper's simplex), or
     * the first reliable category the plane does not use */
    int z = cs_category_set_find (c, "fish");
    for (guint i = 0; z < 0 && i < c->items->len; i++)
      if (cs_category_set_get (c, i)->reliable && (int) i != self->ax.plus && (int) i != self->ay.plus)
        z = (int) i;
    gtk_drop_down_set_selected (self->z_drop, z >= 0 ? (guint) z : 0);
    gtk_drop_down_set_selected (self->zm_drop, 0);
  }
  self->updating = FALSE;
}

/* ---- the computation ---- */

typedef struct
{
  CsModel            *model;
  CsGeometrySettings *settings;   /* a snapshot of the panel */
  CsGeometrySpace    *space;      /* the whitening already shown for this model, or NULL */
  CsJob              *job;        /* for the progress (the task keeps the page, which keeps the job) */
} Params;

static void
params_free (gpointer p)
{
  Params *q = p;
  g_object_unref (q->model);
  g_object_unref (q->settings);
  cs_geometry_space_free (q->space);
  g_free (q);
}

typedef struct
{
  CsGeometryRun *run;
  CsProjection  *planes[4];   /* Figure 2's three (when has_fig2), then the default axes' */
  int            n_planes;
  gboolean       has_fig2;
  CsAxis         ax[4], ay[4];
} Computed;

static void
computed_free (gpointer p)
{
  Computed *c = p;
  for (int k = 0; k < c->n_planes; k++)
    cs_projection_free (c->planes[k]);
  cs_geometry_run_free (c->run);
  g_free (c);
}

static void
compute_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Params *prm = task_data;
  CsGeometryParams params;
  GError *error = NULL;
  Computed *c = g_new0 (Computed, 1);

  cs_geometry_settings_to_params (prm->settings, &params);
  if (!(c->run = cs_geometry_run (prm->model, &params, prm->space, cs_job_progress, prm->job, cancellable, &error)))
    {
      g_task_return_error (task, error);
      computed_free (c);
      return;
    }
  /* the planes the page opens with, here rather than on the main loop; if
   * they cannot be made the page makes them (and says why) */
  {
    CsGeometry *g = c->run->geometry;
    int n = cs_geometry_figure2_axes (g->categories, c->ax, c->ay) ? 3 : 0;
    gboolean fig2 = n == 3;
    if (cs_geometry_default_axes (g, &c->ax[n], &c->ay[n]))
      n++;
    if (n > 0 && cs_geometry_project_many (c->run->space, g, c->ax, c->ay, n, TRUE, c->planes, NULL))
      {
        c->n_planes = n;
        c->has_fig2 = fig2;
      }
  }
  g_task_return_pointer (task, c, computed_free);
}

/* The status line while computing: the phase's own percentage and, once a
 * few seconds show the pace, the time left at that pace. */
static void
show_progress (double fraction, gpointer data)
{
  CsGeometryPage *self = data;
  int p = (int) (fraction * 1000);
  if (p <= 0)
    {
      gtk_progress_bar_pulse (self->progress_bar);   /* reading the tokenizer and the whitening's cache */
      return;
    }
  int phase = p < 500 ? 1 : 2, end = phase == 1 ? 500 : 1000;
  gint64 now = g_get_monotonic_time ();
  double f, elapsed;
  g_autofree char *left = NULL;
  g_autofree char *text = NULL;
  if (phase != self->shown_phase)
    {
      self->shown_phase = phase;
      self->phase_t0 = now;
      self->phase_p0 = p;
    }
  f = (double) (p - self->phase_p0) / MAX (1, end - self->phase_p0);
  elapsed = (now - self->phase_t0) / 1e6;
  if (elapsed > 3 && f > 0.01 && f < 1)
    {
      double s = elapsed * (1 - f) / f;
      left = s < 90 ? g_strdup_printf (g_dngettext (NULL, "about %d second left", "about %d seconds left",
                                                    (int) ceil (s)), (int) ceil (s))
                    : g_strdup_printf (g_dngettext (NULL, "about %d minute left", "about %d minutes left",
                                                    (int) ceil (s / 60)), (int) ceil (s / 60));
    }
  gtk_progress_bar_set_fraction (self->progress_bar, p / 1000.0);
  if (phase == 1)
    text = left ? g_strdup_printf (_("Whitening the unembedding: %d %% (%s)…"), p / 5, left)
                : g_strdup_printf (_("Whitening the unembedding: %d %%…"), p / 5);
  else
    text = left ? g_strdup_printf (_("Estimating the categories: %d %% (%s)…"), (p - 500) / 5, left)
                : g_strdup_printf (_("Estimating the categories: %d %%…"), (p - 500) / 5);
  gtk_label_set_text (self->status_label, text);
}

static void
set_busy (CsGeometryPage *self, const char *message)
{
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), message != NULL && cs_job_running (self->job));
  gtk_widget_set_visible (self->status_box, message != NULL);
  gtk_spinner_set_spinning (self->spinner, message != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_widget_set_visible (self->cancel_button, TRUE);
  if (message)
    gtk_label_set_text (self->status_label, message);
}

/* Stops what runs, quietly (a workspace is opened instead). */
void
geometry_page_stop (CsGeometryPage *self)
{
  cs_job_cancel (self->job);
  set_busy (self, NULL);
}

/* The axes a new geometry opens with (those the background work projected). */
static void
open_default_axes (CsGeometryPage *self)
{
  g_autoptr(GError) error = NULL;
  CsCategorySet *cs = geometry_of (self)->categories;
  CsAxis ax, ay;
  if (!cs_geometry_default_axes (geometry_of (self), &ax, &ay) ||
      !cs_geometry_page_set_axes (self, cs_category_set_get (cs, ax.plus)->name, NULL,
                                  cs_category_set_get (cs, ay.plus)->name, NULL, TRUE, &error))
    set_busy (self, error ? error->message : _("Too few categories with enough tokens to draw"));
}

static void
compute_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CsGeometryPage *self = CS_GEOMETRY_PAGE (source);
  g_autoptr(GError) error = NULL;
  Computed *c = g_task_propagate_pointer (G_TASK (result), &error);

  if (!cs_job_finish (self->job, result))
    {
      if (c)
        computed_free (c);
      return;   /* superseded by a newer model */
    }
  if (!c)
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      set_busy (self, error->message);
      /* the panel shows the parameters of what is drawn again */
      if (geometry_of (self))
        {
          cs_geometry_settings_set_from (self->settings, geometry_of (self));
          if (self->description && g_str_has_prefix (self->description, "WordNet "))
            {
              /* "WordNet animal (/usr/share/wordnet)" */
              g_autofree char *root = g_strdup (self->description + strlen ("WordNet "));
              char *space = strchr (root, ' ');
              if (space)
                *space = '\0';
              g_object_set (self->settings, "hierarchy", root, NULL);
            }
        }
      gtk_spinner_set_spinning (self->spinner, FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
      gtk_widget_set_visible (self->cancel_button, FALSE);
      return;
    }
  if (self->new_model)
    geometry_page_forget_history (self);
  else
    geometry_page_remember (self, _("recomputing the categories"));
  self->new_model = FALSE;
  g_free (self->description);
  self->description = g_steal_pointer (&c->run->description);
  /* the tokenizer and space first: who follows the geometry finds them */
  cs_session_set_tokenizer (self->session, c->run->tokenizer);
  cs_session_set_space (self->session, c->run->space);
  cs_geometry_page_forget_projected (self);
  {
    int k = 0;
    for (; c->has_fig2 && k < 3; k++)
      self->pre_fig2[k] = g_steal_pointer (&c->planes[k]);
    if (k < c->n_planes)
      {
        self->pre_proj = g_steal_pointer (&c->planes[k]);
        self->pre_ax = c->ax[k];
        self->pre_ay = c->ay[k];
      }
  }
  g_free (self->visible);
  self->visible = cs_geometry_figure_shown (c->run->geometry, FALSE);
  {
    CsGeometry *g = g_steal_pointer (&c->run->geometry);
    computed_free (c);
    cs_session_set_marked (self->session, NULL, 0);
    cs_session_set_workspace_path (self->session, NULL);
    geometry_page_set_box (self, geo_box_new (g));
  }
  geometry_page_fill_panel (self);
  set_busy (self, NULL);
  open_default_axes (self);
}

static void
start (CsGeometryPage *self)
{
  CsModel *model = cs_session_get_model (self->session);
  CsGeometrySpace *space = cs_session_get_space (self->session);
  Params *prm;

  g_clear_pointer (&self->error, g_free);
  prm = g_new0 (Params, 1);
  prm->model = g_object_ref (model);
  prm->settings = cs_geometry_settings_copy (self->settings);
  prm->job = self->job;
  /* the same model's whitening does not change: only the categories are new */
  if (space && !self->new_model && space->unembedding == cs_model_get_unembedding (model))
    prm->space = cs_geometry_space_ref (space);
  self->shown_phase = 0;
  cs_job_start (self->job, self, prm, params_free, compute_thread, compute_done);
  if (prm->space)
    cs_job_progress (0.5, self->job);
  /* with the whitening reused there is none to wait for */
  set_busy (self, prm->space ? _("Estimating the categories…")
                             : _("Whitening the unembedding and estimating the categories…"));
}

void
cs_geometry_page_compute (CsGeometryPage *self, const char *hierarchy, double train_fraction, guint seed,
                          int min_tokens, const char *extra_name, const char *extra_words)
{
  g_return_if_fail (CS_IS_GEOMETRY_PAGE (self));
  if (!self->session || !cs_session_get_model (self->session))
    return;
  g_object_set (self->settings, "hierarchy", hierarchy && *hierarchy ? hierarchy : "animal", "train-fraction",
                train_fraction, "seed", seed, "min-tokens", min_tokens, "extra-name", extra_name, "extra-words",
                extra_words, "categories-json", NULL, "wordnet-all", FALSE, NULL);
  start (self);
}

void
cs_geometry_page_compute_wordnet_all (CsGeometryPage *self, const char *pos, int min_tokens)
{
  g_return_if_fail (CS_IS_GEOMETRY_PAGE (self));
  if (!self->session || !cs_session_get_model (self->session))
    return;
  self->updating = TRUE;   /* the threshold is the caller's, not the vocabulary's default */
  g_object_set (self->settings, "wordnet-all", TRUE, "pos", pos, "min-tokens", min_tokens, "categories-json", NULL,
                "extra-name", NULL, "extra-words", NULL, NULL);
  self->updating = FALSE;
  start (self);
}

CsWordNetView *
cs_geometry_page_get_wordnet_view (CsGeometryPage *self)
{
  g_return_val_if_fail (CS_IS_GEOMETRY_PAGE (self), NULL);
  return self->wordnet_view;
}

void
cs_geometry_page_compute_json (CsGeometryPage *self, const char *path, double train_fraction, guint seed,
                               int min_tokens)
{
  g_return_if_fail (CS_IS_GEOMETRY_PAGE (self));
  if (!self->session || !cs_session_get_model (self->session))
    return;
  g_object_set (self->settings, "categories-json", path, "train-fraction", train_fraction, "seed", seed,
                "min-tokens", min_tokens, "extra-name", NULL, "extra-words", NULL, NULL);
  start (self);
}

static void
json_chosen (GtkWidget *owner, const char *path)
{
  CsGeometryPage *self = CS_GEOMETRY_PAGE (owner);
  g_object_set (self->settings, "categories-json", path, NULL);
  start (self);
}

static void
load_json_clicked (CsGeometryPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Load Categories"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL,
                     _("Category lists (JSON)"), "*.json", json_chosen);
}

static void
recompute_clicked (CsGeometryPage *self)
{
  if (!self->session || !cs_session_get_model (self->session))
    return;
  g_object_set (self->settings, "categories-json", NULL, NULL);   /* the WordNet root field rules again */
  start (self);
}

void
cs_geometry_page_cancel (CsGeometryPage *self)
{
  g_return_if_fail (CS_IS_GEOMETRY_PAGE (self));
  cs_job_interrupt (self->job);   /* its result comes back, and the panel returns to what is drawn */
}

gboolean
cs_geometry_page_get_busy (CsGeometryPage *self)
{
  return cs_job_running (self->job);
}

const char *
cs_geometry_page_get_error (CsGeometryPage *self)
{
  return self->error;
}

CsGeometry *
cs_geometry_page_get_geometry (CsGeometryPage *self)
{
  return geometry_of (self);
}

CsProjectionView *
cs_geometry_page_get_projection_view (CsGeometryPage *self)
{
  return self->projection_view;
}

/* ---- the session ---- */

static void
on_model_changed (CsGeometryPage *self)
{
  if (self->opening || !cs_session_get_model (self->session))
    return;
  self->new_model = TRUE;   /* the history ends with the model its states came from */
  {
    CsGeometryParams d;
    cs_geometry_params_init (&d);
    cs_geometry_page_compute (self, d.hierarchy, d.train_fraction, d.seed, d.categories.min_tokens, NULL, NULL);
  }
}

void
cs_geometry_page_set_session (CsGeometryPage *self, CsSession *session)
{
  g_return_if_fail (CS_IS_GEOMETRY_PAGE (self));
  g_return_if_fail (self->session == NULL);
  self->session = g_object_ref (session);
  g_signal_connect_object (session, "notify::model", G_CALLBACK (on_model_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::marked", G_CALLBACK (cs_geometry_page_refresh_figures), self,
                           G_CONNECT_SWAPPED);
}

/* ---- construction ---- */

static void
cs_geometry_page_dispose (GObject *object)
{
  CsGeometryPage *self = CS_GEOMETRY_PAGE (object);
  cs_job_cancel (self->job);   /* freed in finalize: a finishing worker still reports into it */
  g_clear_pointer (&self->proj, cs_projection_free);
  for (int k = 0; k < 3; k++)
    g_clear_pointer (&self->fig2[k], cs_projection_free);
  cs_geometry_page_forget_projected (self);
  g_clear_pointer (&self->history, cs_history_free);
  g_clear_pointer (&self->wordnet, cs_geometry_wordnet_free);
  if (self->geo_box)
    geo_box_release (g_steal_pointer (&self->geo_box));
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_GEOMETRY_PAGE);
  G_OBJECT_CLASS (cs_geometry_page_parent_class)->dispose (object);
}

static void
cs_geometry_page_finalize (GObject *object)
{
  CsGeometryPage *self = CS_GEOMETRY_PAGE (object);
  g_clear_pointer (&self->job, cs_job_free);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->visible, g_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->description, g_free);
  G_OBJECT_CLASS (cs_geometry_page_parent_class)->finalize (object);
}

static void
on_search (GtkSearchEntry *entry, CsGeometryPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  gint64 id = cs_geometry_page_find_token (self, text);
  if (*text && id < 0)
    gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
}

static void
reset_clicked (CsGeometryPage *self)
{
  cs_projection_view_reset_view (self->projection_view);
}

static void
copy_selection_clicked (CsGeometryPage *self)
{
  g_autofree char *text = cs_geometry_page_dup_selection_text (self);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
}

static void
cs_geometry_page_class_init (CsGeometryPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = cs_geometry_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = cs_geometry_page_finalize;
  g_type_ensure (CS_TYPE_PROJECTION_VIEW);
  g_type_ensure (CS_TYPE_HEATMAP_VIEW);
  g_type_ensure (CS_TYPE_FIGURE_VIEW);
  g_type_ensure (CS_TYPE_SIMPLEX_VIEW);
  g_type_ensure (CS_TYPE_WORDNET_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/conceptscope/ConceptScope/ui/cs-geometry-page.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, CsGeometryPage, name)
  CHILD (categories_box);
  CHILD (axes_grid);
  CHILD (parameters_grid);
  CHILD (x_drop);
  CHILD (xm_drop);
  CHILD (y_drop);
  CHILD (ym_drop);
  CHILD (z_drop);
  CHILD (zm_drop);
  CHILD (simplex_view);
  CHILD (wordnet_all_check);
  CHILD (pos_drop);
  CHILD (block_entry);
  CHILD (wordnet_label);
  CHILD (wordnet_view);
  CHILD (orth_check);
  CHILD (held_out_check);
  CHILD (hierarchy_entry);
  CHILD (extra_name);
  CHILD (extra_words);
  CHILD (fraction_spin);
  CHILD (seed_spin);
  CHILD (min_spin);
  CHILD (search);
  CHILD (selection_label);
  CHILD (selection_view);
  CHILD (undo_box);
  CHILD (stack);
  CHILD (projection_view);
  CHILD (cosine_view);
  CHILD (validation_view);
  CHILD (orth_view);
  CHILD (fig2_view);
  CHILD (status_box);
  CHILD (cancel_button);
  CHILD (spinner);
  CHILD (status_label);
  CHILD (progress_bar);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, on_search);
  gtk_widget_class_bind_template_callback (widget_class, on_axes_changed);
  gtk_widget_class_bind_template_callback (widget_class, cs_geometry_page_refresh_simplex);
  gtk_widget_class_bind_template_callback (widget_class, cs_geometry_page_refresh_figures);
  gtk_widget_class_bind_template_callback (widget_class, recompute_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_block_activate);
  gtk_widget_class_bind_template_callback (widget_class, on_whole_table);
  gtk_widget_class_bind_template_callback (widget_class, on_wordnet_all_toggled);
  gtk_widget_class_bind_template_callback (widget_class, load_json_clicked);
  gtk_widget_class_bind_template_callback (widget_class, copy_selection_clicked);
  gtk_widget_class_bind_template_callback (widget_class, reset_clicked);
  gtk_widget_class_bind_template_callback (widget_class, cs_geometry_page_copy_figure);
  gtk_widget_class_bind_template_callback (widget_class, cs_geometry_page_export_dialog);
  gtk_widget_class_bind_template_callback (widget_class, cs_geometry_page_cancel);
}

/* A text field shows an unset string as empty. */
static gboolean
null_as_empty (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  if (G_VALUE_HOLDS_STRING (from) && !g_value_get_string (from))
    g_value_set_static_string (to, "");
  else
    g_value_transform (from, to);
  return TRUE;
}

static void
bind (CsGeometryPage *self, const char *property, gpointer widget, const char *widget_property)
{
  g_object_bind_property_full (self->settings, property, widget, widget_property,
                               G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE, null_as_empty, NULL, NULL, NULL);
}

static void
cs_geometry_page_init (CsGeometryPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->ax = self->ay = (CsAxis) { -1, -1 };
  self->orthogonalise = TRUE;
  self->settings = cs_geometry_settings_new ();
  bind (self, "hierarchy", self->hierarchy_entry, "text");
  bind (self, "train-fraction", self->fraction_spin, "value");
  bind (self, "seed", self->seed_spin, "value");
  bind (self, "min-tokens", self->min_spin, "value");
  bind (self, "extra-name", self->extra_name, "text");
  bind (self, "extra-words", self->extra_words, "text");
  {
    /* eight views: each tab as wide as its title, so that all of them show */
    GObject *switcher = gtk_widget_get_template_child (GTK_WIDGET (self), CS_TYPE_GEOMETRY_PAGE, "stack_switcher");
    GtkLayoutManager *layout = switcher ? gtk_widget_get_layout_manager (GTK_WIDGET (switcher)) : NULL;
    if (GTK_IS_BOX_LAYOUT (layout))
      gtk_box_layout_set_homogeneous (GTK_BOX_LAYOUT (layout), FALSE);
  }
  bind (self, "wordnet-all", self->wordnet_all_check, "active");
  g_object_bind_property (self->settings, "wordnet-all", self->hierarchy_entry, "sensitive",
                          G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
  g_object_bind_property (self->settings, "wordnet-all", self->pos_drop, "sensitive", G_BINDING_SYNC_CREATE);
  {
    const char *labels[] = { _("Nouns"), _("Verbs"), _("Nouns and verbs"), NULL };
    g_autoptr(GtkStringList) model = gtk_string_list_new (labels);
    g_autoptr(GPtrArray) values = g_ptr_array_new ();
    g_ptr_array_add (values, (gpointer) "noun");
    g_ptr_array_add (values, (gpointer) "verb");
    g_ptr_array_add (values, (gpointer) "both");
    cs_ui_bind_strings (self->pos_drop, G_LIST_MODEL (model), G_OBJECT (self->settings), "pos", values);
  }
  g_signal_connect (self->wordnet_view, "synset-activated", G_CALLBACK (on_synset_activated), self);
  cs_wordnet_view_set_tooltip_format (self->wordnet_view, _("%1$s × %2$s\nWordNet distance %3$s\n"
                                                            "cos(ℓ̄, ℓ̄) = %4$.3f\n"
                                                            "cos of the differences from the parents = %5$.3f"));
  cs_ui_grid_labels (self->axes_grid);
  cs_ui_grid_labels (self->parameters_grid);
  self->job = cs_job_new (NULL);
  cs_job_set_display (self->job, show_progress, self);
  self->history = cs_history_new (geo_state_free, 50);
  cs_ui_add_undo (self->undo_box, GTK_WIDGET (self), G_CALLBACK (cs_geometry_page_undo),
                  G_CALLBACK (cs_geometry_page_redo), &self->undo_button, &self->redo_button);
  geometry_page_update_undo (self);
  cs_projection_view_set_describe_func (self->projection_view, geometry_page_describe_token, self);
  g_signal_connect (self->projection_view, "legend-activated", G_CALLBACK (on_legend_activated), self);
  g_signal_connect_swapped (self->projection_view, "token-activated", G_CALLBACK (geometry_page_token_activated),
                            self);
  g_signal_connect_swapped (self->projection_view, "selection-changed", G_CALLBACK (geometry_page_selection_changed),
                            self);
  cs_heatmap_view_set_tooltip_format (self->cosine_view, "cos(ℓ̄ %1$s, ℓ̄ %2$s) = %3$.3f");
  cs_figure_view_set_font_scale (self->fig2_view, 0.85);
  geometry_page_add_shortcuts (self);
}
