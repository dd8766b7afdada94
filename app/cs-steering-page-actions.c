#define G_LOG_DOMAIN "conceptscope"

/* The Steering page's actions: undo and redo of the reports shown (a run,
 * Continue Again, an opened workspace), export, the workspace, and the SAE
 * the runs use (loaded, trained from a text file, or the sample model's). */

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs-build-config.h"
#include "cs-export-dialog.h"
#include "cs-paths.h"
#include "cs-sae-train.h"
#include "cs-steering-page-private.h"
#include "cs-tokenizer.h"
#include "cs-ui.h"

/* ---- undo: a run replaces the report shown, Continue Again its
 * continuations; either goes into the history by ownership ---- */

typedef struct
{
  CsSteerReport *report;       /* the whole report, or only continuations */
  gboolean       generations;
} StState;

static void
st_state_free (gpointer p)
{
  StState *st = p;
  cs_steer_report_free (st->report);
  g_free (st);
}

static CsSteerReport *
generations_holder (void)
{
  return g_new0 (CsSteerReport, 1);
}

void
cs_steering_page_history_init (CsSteeringPage *self)
{
  self->history = cs_history_new (st_state_free, 20);
}

static void
update_undo_buttons (CsSteeringPage *self)
{
  cs_ui_update_undo (self->undo_button, self->redo_button, self->history);
}

void
cs_steering_page_remember_report (CsSteeringPage *self, const char *label, CsSteerReport *old)
{
  StState *st;
  if (!old)
    return;
  st = g_new0 (StState, 1);
  st->report = old;
  cs_history_push (self->history, label, st);
  update_undo_buttons (self);
}

/* One step of undo (or redo): the current state goes where top came from. */
static gboolean
history_step (CsSteeringPage *self, gboolean undo)
{
  StState *top = undo ? cs_history_peek_undo (self->history) : cs_history_peek_redo (self->history);
  StState *cur, *st;

  if (!top || cs_job_running (self->job) || !self->report)
    return FALSE;
  cur = g_new0 (StState, 1);
  cur->generations = top->generations;
  if (top->generations)
    {
      cur->report = generations_holder ();
      cs_steer_report_take_generations (cur->report, self->report);
    }
  else
    cur->report = g_steal_pointer (&self->report);
  st = undo ? cs_history_undo (self->history, cur) : cs_history_redo (self->history, cur);
  if (st->generations)
    cs_steer_report_take_generations (self->report, st->report);
  else
    self->report = g_steal_pointer (&st->report);
  st_state_free (st);
  cs_steering_page_report_changed (self);
  update_undo_buttons (self);
  return TRUE;
}

void
cs_steering_page_remember_generations (CsSteeringPage *self)
{
  StState *st = g_new0 (StState, 1);
  st->generations = TRUE;
  st->report = generations_holder ();
  cs_steer_report_take_generations (st->report, self->report);
  cs_history_push (self->history, _("the continuations"), st);
  update_undo_buttons (self);
}

gboolean
cs_steering_page_undo (CsSteeringPage *self)
{
  g_return_val_if_fail (CS_IS_STEERING_PAGE (self), FALSE);
  return history_step (self, TRUE);
}

gboolean
cs_steering_page_redo (CsSteeringPage *self)
{
  g_return_val_if_fail (CS_IS_STEERING_PAGE (self), FALSE);
  return history_step (self, FALSE);
}

/* ---- export and workspace ---- */

gboolean
cs_steering_page_export (CsSteeringPage *self, const char *path, const char *preset, const char *theme, double scale,
                         double font_size, GError **error)
{
  CsFigureStyle s = { 0 };
  CsSteerFigureKind kind = cs_steering_page_visible_kind (self);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "card") == 0)
    {
      if (!self->card)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to export yet"));
          return FALSE;
        }
      return cs_figure_style_from (preset, theme, font_size, &s, error) &&
             cs_figure_view_export (self->card_view, path, &s, scale, error);
    }
  if (!self->report)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to export yet"));
      return FALSE;
    }
  if (!cs_steer_figure_available (self->report, kind, error))
    return FALSE;
  if (!cs_figure_style_from (preset, theme, font_size, &s, error))
    return FALSE;
  return cs_figure_view_export (self->views[kind], path, &s, scale, error);
}

static gboolean
export_figure (gpointer owner, const char *path, const char *preset, const char *theme, double scale,
               double font_size, GError **error)
{
  return cs_steering_page_export (CS_STEERING_PAGE (owner), path, preset, theme, scale, font_size, error);
}

static void
export_failed (gpointer owner, const char *message)
{
  cs_steering_page_set_status (CS_STEERING_PAGE (owner), message);
}

void
cs_steering_page_export_dialog (CsSteeringPage *self)
{
  if (self->report)
    cs_export_dialog_present (GTK_WIDGET (self), G_OBJECT (self), cs_steer_figure_name (cs_steering_page_visible_kind (self)),
                              export_figure, export_failed);
}

gboolean
cs_steering_page_save_to (CsSteeringPage *self, const char *path, GError **error)
{
  if (!self->report)
    return TRUE;
  return cs_steer_report_save (self->report, path, error);
}

gboolean
cs_steering_page_load_from (CsSteeringPage *self, const char *path, GError **error)
{
  CsSteerReport *r = cs_steer_report_load (path, error);
  if (!r)
    return FALSE;
  cs_steering_page_remember_report (self, _("opening the workspace"), g_steal_pointer (&self->report));
  self->report = r;
  /* the SAEs its run used, with the variants chosen then, for the runs and
   * cards that follow */
  if (r->sae_set_root && !cs_job_running (self->job))
    {
      g_autoptr(GError) local = NULL;
      gboolean same = self->saes && g_str_equal (self->saes->root, r->sae_set_root);
      for (guint i = 0; same && r->sae_set_choices[i]; i++)
        {
          int layer = atoi (r->sae_set_choices[i]);
          const char *variant = strchr (r->sae_set_choices[i], '=');
          same = variant && cs_steering_page_choose_sae_variant (self, layer, variant + 1, &local);
        }
      if (same)
        cs_steering_page_show_variants (self);
      else if (!g_file_test (r->sae_set_root, G_FILE_TEST_IS_DIR) ||
               !cs_steering_page_load_saes (self, r->sae_set_root, (const char * const *) r->sae_set_choices, &local))
        {
          g_autofree char *text = g_strdup_printf (_("The run's SAEs (%s) could not be opened again: %s"),
                                                   r->sae_set_root, local ? local->message : _("no such folder"));
          cs_steering_page_report_changed (self);
          cs_steering_page_set_status (self, text);
          return TRUE;
        }
    }
  cs_steering_page_report_changed (self);
  cs_steering_page_set_status (self, _("Steering results from the workspace"));
  return TRUE;
}

/* ---- the SAE ---- */

gboolean
cs_steering_page_load_sae (CsSteeringPage *self, const char *folder, GError **error)
{
  CsSae *sae = cs_sae_load (folder, error);
  g_autofree char *base = NULL, *label = NULL;
  if (!sae)
    return FALSE;
  g_clear_pointer (&self->sae, cs_sae_free);
  g_clear_pointer (&self->saes, cs_sae_set_free);   /* an SAE of one's own replaces the sample model's set */
  self->sae = sae;
  cs_steering_page_show_variants (self);
  cs_steering_page_card_saes_changed (self);
  g_free (self->sae_path);
  self->sae_path = g_strdup (folder);
  base = g_path_get_basename (folder);
  label = g_strdup_printf (_("%s: %d features at layer %d"), base, sae->d_sae, sae->hook_layer);
  gtk_label_set_text (self->sae_label, label);
  /* a caveat about how the folder asks its input to be scaled */
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->sae_label), sae->normalize_note);
  if (sae->normalize_note)
    cs_steering_page_set_status (self, sae->normalize_note);
  return TRUE;
}

static void install_set (CsSteeringPage *self, CsSaeSet *set);

/* The set's label (what: a format taking the layers; NULL: its folder and
 * layers), what was skipped in the tooltip. */
static void
describe_set (CsSteeringPage *self, const char *what)
{
  g_autoptr(GString) layers = g_string_new (NULL);
  g_autoptr(GString) skipped = g_string_new (NULL);
  g_autofree char *label = NULL;
  for (guint i = 0; i < self->saes->chosen->len; i++)
    g_string_append_printf (layers, "%s%d", i ? ", " : "", ((CsSaeSetMember *) self->saes->chosen->pdata[i])->layer);
  label = what ? g_strdup_printf (what, layers->str)
               : g_strdup_printf (_("%s: SAEs at layers %s"), self->saes->root, layers->str);
  gtk_label_set_text (self->sae_label, label);
  for (guint i = 0; i < self->saes->skipped->len; i++)
    g_string_append_printf (skipped, "%s%s", i ? "\n" : "", (const char *) self->saes->skipped->pdata[i]);
  if (skipped->len)
    {
      g_autofree char *tip = g_strdup_printf (_("Skipped:\n%s"), skipped->str);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->sae_label), tip);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->sae_label), NULL);
}

gboolean
cs_steering_page_load_saes (CsSteeringPage *self, const char *folder, const char * const *choices, GError **error)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  const CsModelConfig *cfg;
  CsSaeSet *set;
  if (!model)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s", _("Open a model first: a set's SAEs are matched to its layers"));
      return FALSE;
    }
  cfg = cs_model_get_config (model);
  if (!(set = cs_sae_set_open (folder, cfg->hidden, cfg->n_layers, choices, error)))
    return FALSE;
  install_set (self, set);
  return TRUE;
}

/* The page's SAEs become the set (taken over). */
static void
install_set (CsSteeringPage *self, CsSaeSet *set)
{
  g_clear_pointer (&self->sae, cs_sae_free);
  g_clear_pointer (&self->sae_path, g_free);
  g_clear_pointer (&self->saes, cs_sae_set_free);
  self->saes = set;
  cs_steering_page_card_saes_changed (self);
  describe_set (self, NULL);
  cs_steering_page_show_variants (self);
  if (set->skipped->len)
    {
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u SAE of the folder skipped: %s",
                                                            "%u SAEs of the folder skipped; the first: %s",
                                                            set->skipped->len),
                                               set->skipped->len, (const char *) set->skipped->pdata[0]);
      cs_steering_page_set_status (self, text);
    }
}

gboolean
cs_steering_page_choose_sae_variant (CsSteeringPage *self, int layer, const char *variant, GError **error)
{
  if (!self->saes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s", _("No folder of SAEs is loaded"));
      return FALSE;
    }
  if (cs_job_running (self->job))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, "%s", _("Wait for the run to finish"));
      return FALSE;
    }
  if (!cs_sae_set_choose (self->saes, layer, variant, error))
    return FALSE;
  cs_steering_page_card_saes_changed (self);
  cs_steering_page_show_variants (self);
  return TRUE;
}

GStrv
cs_steering_page_get_sae_choices (CsSteeringPage *self)
{
  return self->saes ? cs_sae_set_choices (self->saes) : NULL;
}

/* ---- loading SAEs in the background: a folder of them, or another
 * variant for a layer (a Gemma Scope SAE is hundreds of megabytes) ---- */

typedef struct
{
  char     *dir;        /* a folder to open … */
  GStrv     choices;
  int       d_model, n_layers;
  char     *path;       /* … or one variant's SAE to load */
  char     *variant;
  int       layer;
  CsSaeSet *set;        /* results */
  CsSae    *sae;
} SaeLoad;

static void
sae_load_free (gpointer p)
{
  SaeLoad *j = p;
  g_free (j->dir);
  g_strfreev (j->choices);
  g_free (j->path);
  g_free (j->variant);
  cs_sae_set_free (j->set);
  cs_sae_free (j->sae);
  g_free (j);
}

static void
sae_load_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SaeLoad *j = data;
  GError *error = NULL;
  if (j->dir)
    j->set = cs_sae_set_open (j->dir, j->d_model, j->n_layers, (const char * const *) j->choices, &error);
  else
    j->sae = cs_sae_load (j->path, &error);
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
sae_load_done (GObject *source, GAsyncResult *result, gpointer data)
{
  CsSteeringPage *self = CS_STEERING_PAGE (source);
  SaeLoad *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  if (!cs_job_finish (self->job, result))
    return;
  cs_steering_page_set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      cs_steering_page_set_status (self, error->message);
      cs_steering_page_show_variants (self);   /* back to the ones in use */
      return;
    }
  if (j->set)
    {
      cs_steering_page_set_status (self, NULL);
      install_set (self, g_steal_pointer (&j->set));   /* says what was skipped */
    }
  else if (self->saes && cs_sae_set_put (self->saes, j->layer, j->variant, g_steal_pointer (&j->sae), &error))
    {
      g_autofree char *text = g_strdup_printf (_("Layer %d: %s"), j->layer, j->variant);
      cs_steering_page_card_saes_changed (self);
      cs_steering_page_show_variants (self);
      cs_steering_page_set_status (self, text);
    }
  else
    {
      cs_steering_page_set_status (self, error ? error->message : _("No folder of SAEs is loaded"));
      cs_steering_page_show_variants (self);
    }
}

static gboolean
start_sae_load (CsSteeringPage *self, SaeLoad *j, GError **error)
{
  if (cs_job_running (self->job))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, "%s", _("Wait for the run to finish"));
      sae_load_free (j);
      return FALSE;
    }
  cs_steering_page_set_busy (self, TRUE);
  cs_steering_page_set_status (self, _("Loading SAEs…"));
  cs_job_start (self->job, self, j, sae_load_free, sae_load_thread, sae_load_done);
  return TRUE;
}

gboolean
cs_steering_page_open_saes (CsSteeringPage *self, const char *folder, GError **error)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  SaeLoad *j;
  if (!model)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s", _("Open a model first: a set's SAEs are matched to its layers"));
      return FALSE;
    }
  j = g_new0 (SaeLoad, 1);
  j->dir = g_strdup (folder);
  j->d_model = cs_model_get_config (model)->hidden;
  j->n_layers = cs_model_get_config (model)->n_layers;
  return start_sae_load (self, j, error);
}

gboolean
cs_steering_page_select_sae_variant (CsSteeringPage *self, int layer, const char *variant, GError **error)
{
  const char *path = self->saes ? cs_sae_set_variant_path (self->saes, layer, variant) : NULL;
  SaeLoad *j;
  if (!path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No SAE %s at layer %d"), variant, layer);
      return FALSE;
    }
  j = g_new0 (SaeLoad, 1);
  j->path = g_strdup (path);
  j->variant = g_strdup (variant);
  j->layer = layer;
  return start_sae_load (self, j, error);
}

static void
on_variant_selected (GtkDropDown *drop, GParamSpec *pspec, CsSteeringPage *self)
{
  int layer = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (drop), "cs-layer"));
  GtkStringObject *item = gtk_drop_down_get_selected_item (drop);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) now = NULL;
  if (!item || !self->saes)
    return;
  now = cs_sae_set_variants (self->saes, layer);
  if (now[0] && g_str_equal (now[0], gtk_string_object_get_string (item)))
    return;   /* the one in use (the list being rebuilt) */
  if (!cs_steering_page_select_sae_variant (self, layer, gtk_string_object_get_string (item), &error))
    {
      cs_steering_page_set_status (self, error->message);
      cs_steering_page_show_variants (self);   /* back to the one in use */
    }
}

void
cs_steering_page_show_variants (CsSteeringPage *self)
{
  GtkWidget *child;
  int row = 0;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->variants_grid))))
    gtk_grid_remove (self->variants_grid, child);
  for (guint i = 0; self->saes && i < self->saes->chosen->len; i++)
    {
      CsSaeSetMember *m = g_ptr_array_index (self->saes->chosen, i);
      g_auto(GStrv) variants = cs_sae_set_variants (self->saes, m->layer);
      g_autofree char *name = NULL;
      GtkWidget *label, *drop;
      if (g_strv_length (variants) < 2)
        continue;
      name = g_strdup_printf (_("Layer %d"), m->layer);
      label = gtk_label_new (name);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      drop = gtk_drop_down_new_from_strings ((const char * const *) variants);
      gtk_widget_set_hexpand (drop, TRUE);
      g_object_set_data (G_OBJECT (drop), "cs-layer", GINT_TO_POINTER (m->layer));
      gtk_accessible_update_property (GTK_ACCESSIBLE (drop), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
      g_signal_connect (drop, "notify::selected", G_CALLBACK (on_variant_selected), self);
      gtk_grid_attach (self->variants_grid, label, 0, row, 1, 1);
      gtk_grid_attach (self->variants_grid, drop, 1, row, 1, 1);
      row++;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->variants_grid), row > 0);
}

/* A folder with cfg.json or params.npz is one SAE; any other folder is
 * searched for SAEs at several layers. */
static void
sae_chosen (GtkWidget *owner, const char *path)
{
  CsSteeringPage *self = CS_STEERING_PAGE (owner);
  g_autoptr(GError) error = NULL;
  g_autofree char *cfg = g_build_filename (path, "cfg.json", NULL);
  g_autofree char *npz = g_build_filename (path, "params.npz", NULL);
  gboolean one = g_file_test (cfg, G_FILE_TEST_EXISTS) || g_file_test (npz, G_FILE_TEST_EXISTS) ||
                 g_str_has_suffix (path, ".npz");
  if (!(one ? cs_steering_page_load_sae (self, path, &error) : cs_steering_page_open_saes (self, path, &error)))
    cs_steering_page_set_status (self, error->message);
}

void
cs_steering_page_sae_dialog (CsSteeringPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Open an SAE Folder (One SAE, or SAEs for Several Layers)"),
                     GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                     _("_Open"), NULL, NULL, NULL, sae_chosen);
}

void
cs_steering_page_default_sae (CsSteeringPage *self, CsModel *model)
{
  g_autofree char *sample = NULL, *a = NULL, *b = NULL, *shipped = NULL;
  const CsModelConfig *cfg = cs_model_get_config (model);
  gboolean is_sample;
  /* the sample model comes with SAEs of its own, one per layer (data/sae-set) */
  sample = cs_paths_get_sample_model ();
  a = g_canonicalize_filename (sample, NULL);
  b = g_canonicalize_filename (cs_model_get_path (model), NULL);
  is_sample = g_str_equal (a, b);
  if (self->saes && !is_sample)
    {
      /* another model: the sample model's set does not read its activations */
      g_clear_pointer (&self->saes, cs_sae_set_free);
      cs_steering_page_card_saes_changed (self);
      cs_steering_page_show_variants (self);
      gtk_label_set_text (self->sae_label, _("None loaded"));
    }
  if (self->sae || self->saes || !is_sample)
    return;
  shipped = g_build_filename (cs_paths_get_datadir (), "sae-set", NULL);
  if (g_file_test (shipped, G_FILE_TEST_IS_DIR) &&
      (self->saes = cs_sae_set_open (shipped, cfg->hidden, cfg->n_layers, NULL, NULL)))
    {
      describe_set (self, _("The sample model's SAEs: layers %s"));
      cs_steering_page_show_variants (self);
    }
}

/* ---- training an SAE ---- */

typedef struct
{
  CsModel          *model;
  char             *text_path;
  char             *capture;
  int               layer;
  CsSaeTrainOptions options;
  char             *folder;
  CsJob             *job;
  CsSaeTrainStatus  last;
} TrainJob;

static void
train_job_free (gpointer p)
{
  TrainJob *j = p;
  g_clear_object (&j->model);
  g_free (j->text_path);
  g_free (j->capture);
  g_free (j->folder);
  g_free (j);
}

static void
collect_progress (double f, gpointer data)
{
  TrainJob *j = data;
  cs_job_progress (0.3 * f, j->job);
}

static void
train_progress (const CsSaeTrainStatus *st, gpointer data)
{
  TrainJob *j = data;
  j->last = *st;
  cs_job_progress (0.3 + 0.7 * st->step / MAX (1, st->steps), j->job);
}

static void
train_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TrainJob *j = task_data;
  GError *error = NULL;
  g_autoptr(CsTokenizer) tok = NULL;
  g_autoptr(CsSae) sae = NULL;
  g_autofree char *dir = NULL, *scratch = NULL;
  gint64 rows = 0;

  if (!(tok = cs_steering_page_model_tokenizer (j->model, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  dir = g_dir_make_tmp ("conceptscope-sae-XXXXXX", &error);
  if (!dir)
    {
      g_task_return_error (task, error);
      return;
    }
  scratch = g_build_filename (dir, "activations.h5", NULL);
  if (cs_sae_collect (j->model, tok, j->text_path, j->capture, 300000, scratch, &rows, collect_progress, j,
                      cancellable, &error))
    sae = cs_sae_train_h5 (scratch, "/acts", &j->options, train_progress, j, cancellable, &error);
  g_unlink (scratch);
  g_rmdir (dir);
  if (!sae)
    {
      g_task_return_error (task, error);
      return;
    }
  sae->hook_layer = j->layer;
  sae->hook_name = g_strdup_printf ("blocks.%d.hook_resid_post", j->layer);
  if (!cs_sae_save (sae, j->folder, cs_model_get_name (j->model), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
train_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CsSteeringPage *self = CS_STEERING_PAGE (source);
  g_autoptr(GError) error = NULL;
  TrainJob *j = g_task_get_task_data (G_TASK (result));

  if (!cs_job_finish (self->job, result))
    return;
  cs_steering_page_set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error) || !cs_steering_page_load_sae (self, j->folder, &error))
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      cs_steering_page_set_status (self, error->message);
      return;
    }
  g_clear_pointer (&self->error, g_free);
  {
    g_autofree char *text = g_strdup_printf (_("Trained an SAE at layer %d on %s: fraction of variance unexplained "
                                               "%.3f, L0 %.1f; saved in %s"),
                                             j->layer, j->last.backend ? j->last.backend : "CPU", j->last.fvu,
                                             j->last.l0, j->folder);
    cs_steering_page_set_status (self, text);
  }
}

void
cs_steering_page_train_sae (CsSteeringPage *self, const char *text_path, int layer, int d_sae, int epochs)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  TrainJob *j;

  if (!model)
    {
      cs_steering_page_set_status (self, _("Open a model first"));
      return;
    }
  layer = CLAMP (layer, 0, cs_model_get_config (model)->n_layers - 1);
  j = g_new0 (TrainJob, 1);
  j->model = g_object_ref (model);
  j->text_path = g_strdup (text_path);
  j->layer = layer;
  j->capture = g_strdup_printf ("resid_post.%d", layer);
  j->options = (CsSaeTrainOptions) CS_SAE_TRAIN_OPTIONS_INIT;
  j->options.d_sae = d_sae;
  j->options.l1 = 1.0;
  j->options.lr = 4e-3;
  j->options.epochs = epochs;
  {
    g_autofree char *name = g_strdup_printf ("%s-resid_post.%d-%s", cs_model_get_name (model), layer, stamp);
    j->folder = g_build_filename (g_get_user_data_dir (), "conceptscope", "saes", name, NULL);
  }
  j->job = self->job;
  cs_steering_page_set_busy (self, TRUE);
  {
    g_autofree char *msg = g_strdup_printf (_("Collecting activations at layer %d and training an SAE…"), layer);
    cs_steering_page_set_status (self, msg);
  }
  cs_job_start (self->job, self, j, train_job_free, train_thread, train_done);
}

static void
train_text_chosen (GtkWidget *owner, const char *path)
{
  CsSteeringPage *self = CS_STEERING_PAGE (owner);
  int layer;
  g_object_get (self->settings, "effects-layer", &layer, NULL);
  cs_steering_page_train_sae (self, path, layer >= 0 ? layer : 1, 1024, 2);
}

void
cs_steering_page_train_dialog (CsSteeringPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Text to Train an SAE on (one prompt per line)"),
                     GTK_FILE_CHOOSER_ACTION_OPEN, _("_Train"), NULL, NULL, NULL, train_text_chosen);
}

