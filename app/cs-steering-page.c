#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs-job.h"
#include "cs-ui.h"
#include "cs-figure-view.h"
#include "cs-history.h"
#include "cs-build-config.h"
#include "cs-categories.h"
#include "cs-export-dialog.h"
#include "cs-figure.h"
#include "cs-paths.h"
#include "cs-sae.h"
#include "cs-sae-train.h"
#include "cs-steering-page.h"
#include "cs-tokenizer.h"
#include "cs-wordnet.h"

static const char *shipped[] = { "animal-vs-plant", "mammal-vs-bird", "animal-or-plant-ab" };

struct _CsSteeringPage
{
  AdwBin           parent_instance;

  CsSession       *session;
  GtkDropDown     *dataset_drop;
  GtkTextView     *dataset_view;
  GtkLabel        *dataset_label;
  GtkEntry        *layers_entry, *mult_entry, *targets_entry;
  GtkSpinButton   *held_spin, *effects_layer_spin, *gen_tokens_spin;
  GtkEntry        *gen_entry;
  GtkDropDown     *position_drop, *columns_drop, *rows_drop;
  GtkCheckButton  *normalise_check;
  GtkSpinButton   *from_spin;
  GtkLabel        *sae_label;
  GtkWidget       *sae_button, *train_button, *run_button, *cancel_button, *continue_button;
  GtkProgressBar  *progress_bar;
  GtkLabel        *status_label;
  CsHistory       *history;
  GtkWidget       *undo_button, *redo_button;
  GtkStack        *stack;
  GtkDrawingArea  *areas[CS_STEER_FIGURE_N];
  char            *dataset_path;       /* where the editor's text came from */
  gboolean         loading_text;

  CsSae           *sae;
  char            *sae_path;
  CsSteerReport   *report;
  char            *error;
  CsJob           *job;          /* the running work: a sweep, continuations or SAE training */
};

G_DEFINE_FINAL_TYPE (CsSteeringPage, cs_steering_page, ADW_TYPE_BIN)

static const char *
figure_title (CsSteerFigureKind k)
{
  switch (k)
    {
    case CS_STEER_FIGURE_BEHAVIOUR: return _("Behaviour");
    case CS_STEER_FIGURE_HEATMAP: return _("Layers × Multipliers");
    case CS_STEER_FIGURE_EFFECTS: return _("Effects Downstream");
    case CS_STEER_FIGURE_CONCEPTS: return _("Concept Vectors");
    case CS_STEER_FIGURE_SVD: return _("SVD");
    case CS_STEER_FIGURE_SAE: return _("SAE Features");
    case CS_STEER_FIGURE_SAMPLES: return _("Continuations");
    default: return "";
    }
}

/* The tab's own short title (the figure's full title is its accessible
 * label): seven tabs must fit beside the side panel in a laptop's window. */
static const char *
tab_title (CsSteerFigureKind k)
{
  switch (k)
    {
    case CS_STEER_FIGURE_BEHAVIOUR: return C_("steering tab", "Behaviour");
    case CS_STEER_FIGURE_HEATMAP: return C_("steering tab", "Layers × m");
    case CS_STEER_FIGURE_EFFECTS: return C_("steering tab", "Effects");
    case CS_STEER_FIGURE_CONCEPTS: return C_("steering tab", "Concepts");
    case CS_STEER_FIGURE_SVD: return C_("steering tab", "SVD");
    case CS_STEER_FIGURE_SAE: return C_("steering tab", "SAE");
    case CS_STEER_FIGURE_SAMPLES: return C_("steering tab", "Continuations");
    default: return "";
    }
}

static CsSteerFigureKind
visible_kind (CsSteeringPage *self)
{
  CsSteerFigureKind k = CS_STEER_FIGURE_BEHAVIOUR;
  cs_steer_figure_parse (gtk_stack_get_visible_child_name (self->stack), &k);
  return k;
}

/* The column and row orders apply to the effects heatmap only. */
static void
tab_changed (CsSteeringPage *self)
{
  gboolean effects = visible_kind (self) == CS_STEER_FIGURE_EFFECTS;
  gtk_widget_set_visible (GTK_WIDGET (self->columns_drop), effects);
  gtk_widget_set_visible (GTK_WIDGET (self->rows_drop), effects);
}

static void
area_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CsSteeringPage *self = user_data;
  CsFigureStyle s = cs_figure_screen_style ();
  CsSteerFigureKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (area), "kind"));
  g_autoptr(GError) why = NULL;

  s.width = width;
  s.height = height;
  cs_figure_paint_background (cr, width, height, &s);
  if (!self->report)
    return;
  if (!cs_steer_figure_available (self->report, kind, &why))
    {
      /* what to do here, in the page's words (the engine's name CLI flags) */
      const char *hint = kind == CS_STEER_FIGURE_CONCEPTS ? _("Compute the Geometry view first: the cosines are with its concept vectors")
                         : kind == CS_STEER_FIGURE_SAE ? _("Load or train an SAE, then run again")
                         : kind == CS_STEER_FIGURE_SAMPLES ? _("Give a prompt under Continuations and press Continue Again")
                         : why->message;
      PangoLayout *l = gtk_widget_create_pango_layout (GTK_WIDGET (area), hint);
      int w, h;
      pango_layout_get_pixel_size (l, &w, &h);
      cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
      cairo_move_to (cr, (width - w) / 2.0, (height - h) / 2.0);
      pango_cairo_show_layout (cr, l);
      g_object_unref (l);
      return;
    }
  cs_steer_figure_draw (cr, 0, 0, width, height, &s, self->report, kind);
}

static void
redraw (CsSteeringPage *self)
{
  for (int k = 0; k < CS_STEER_FIGURE_N; k++)
    gtk_widget_queue_draw (GTK_WIDGET (self->areas[k]));
}

char *
cs_steering_page_describe_at (CsSteeringPage *self, double x, double y)
{
  CsFigureStyle s = cs_figure_screen_style ();
  GtkWidget *area = GTK_WIDGET (self->areas[CS_STEER_FIGURE_EFFECTS]);
  if (!self->report || visible_kind (self) != CS_STEER_FIGURE_EFFECTS)
    return NULL;
  return cs_steer_figure_effects_describe (0, 0, gtk_widget_get_width (area), gtk_widget_get_height (area), &s,
                                           self->report, x, y);
}

static void
on_effects_motion (GtkEventControllerMotion *m, double x, double y, CsSteeringPage *self)
{
  g_autofree char *text = cs_steering_page_describe_at (self, x, y);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->areas[CS_STEER_FIGURE_EFFECTS]), text);
}

/* ---- the dataset ---- */


static void
show_dataset_text (CsSteeringPage *self, const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      gtk_label_set_text (self->status_label, error->message);
      return;
    }
  self->loading_text = TRUE;
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->dataset_view), text, -1);
  self->loading_text = FALSE;
  g_free (self->dataset_path);
  self->dataset_path = g_strdup (path);
  {
    g_autofree char *base = g_path_get_basename (path);
    gtk_label_set_text (self->dataset_label, base);
  }
}

static void
on_dataset_selected (CsSteeringPage *self)
{
  guint i = gtk_drop_down_get_selected (self->dataset_drop);
  if (i < G_N_ELEMENTS (shipped))
    {
      g_autofree char *p = cs_steer_shipped_dataset (shipped[i]);
      if (p)
        show_dataset_text (self, p);
      /* A/B sets are read at the answer letter */
      gtk_drop_down_set_selected (self->position_drop, g_str_has_suffix (shipped[i], "-ab") ? 1 : 0);
    }
}

static void
on_dataset_edited (CsSteeringPage *self)
{
  if (self->loading_text)
    return;
  if (!g_str_has_suffix (gtk_label_get_text (self->dataset_label), _(" (edited)")))
    {
      g_autofree char *l = g_strconcat (gtk_label_get_text (self->dataset_label), _(" (edited)"), NULL);
      gtk_label_set_text (self->dataset_label, l);
    }
}

static void
dataset_chosen (GtkWidget *owner, const char *path)
{
  show_dataset_text (CS_STEERING_PAGE (owner), path);
}

static void
open_dataset_clicked (CsSteeringPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Open a Steering Dataset"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL,
                     NULL, NULL, dataset_chosen);
}

/* ---- SAE ---- */

gboolean
cs_steering_page_load_sae (CsSteeringPage *self, const char *folder, GError **error)
{
  CsSae *sae = cs_sae_load (folder, error);
  g_autofree char *base = NULL, *label = NULL;
  if (!sae)
    return FALSE;
  g_clear_pointer (&self->sae, cs_sae_free);
  self->sae = sae;
  g_free (self->sae_path);
  self->sae_path = g_strdup (folder);
  base = g_path_get_basename (folder);
  label = g_strdup_printf (_("%s: %d features at layer %d"), base, sae->d_sae, sae->hook_layer);
  gtk_label_set_text (self->sae_label, label);
  /* a caveat about how the folder asks its input to be scaled */
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->sae_label), sae->normalize_note);
  if (sae->normalize_note)
    gtk_label_set_text (self->status_label, sae->normalize_note);
  return TRUE;
}

static void
sae_chosen (GtkWidget *owner, const char *path)
{
  CsSteeringPage *self = CS_STEERING_PAGE (owner);
  g_autoptr(GError) error = NULL;
  if (!cs_steering_page_load_sae (self, path, &error))
    gtk_label_set_text (self->status_label, error->message);
}

static void
sae_clicked (CsSteeringPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Open an SAELens Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                     _("_Open"), NULL, NULL, NULL, sae_chosen);
}

/* The model's tokenizer, for the work threads; an error that says so when
 * the folder has none. */
static CsTokenizer *
model_tokenizer (CsModel *model, GError **error)
{
  const char *tp = cs_model_get_tokenizer_path (model);
  if (!tp)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                   _("The model has no tokenizer.json, so the prompts cannot be tokenised"));
      return NULL;
    }
  return cs_model_open_tokenizer (model, error);
}

/* ---- training an SAE ---- */

static void set_busy (CsSteeringPage *self, gboolean busy);

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

  if (!(tok = model_tokenizer (j->model, &error)))
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
  set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error) || !cs_steering_page_load_sae (self, j->folder, &error))
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      gtk_label_set_text (self->status_label, error->message);
      return;
    }
  g_clear_pointer (&self->error, g_free);
  {
    g_autofree char *text = g_strdup_printf (_("Trained an SAE at layer %d on %s: fraction of variance unexplained "
                                               "%.3f, L0 %.1f; saved in %s"),
                                             j->layer, j->last.backend ? j->last.backend : "CPU", j->last.fvu,
                                             j->last.l0, j->folder);
    gtk_label_set_text (self->status_label, text);
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
      gtk_label_set_text (self->status_label, _("Open a model first"));
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
  set_busy (self, TRUE);
  {
    g_autofree char *msg = g_strdup_printf (_("Collecting activations at layer %d and training an SAE…"), layer);
    gtk_label_set_text (self->status_label, msg);
  }
  cs_job_start (self->job, self, j, train_job_free, train_thread, train_done);
}

static void
train_text_chosen (GtkWidget *owner, const char *path)
{
  CsSteeringPage *self = CS_STEERING_PAGE (owner);
  int layer = gtk_spin_button_get_value_as_int (self->effects_layer_spin);
  cs_steering_page_train_sae (self, path, layer >= 0 ? layer : 1, 1024, 2);
}

static void
train_clicked (CsSteeringPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Text to Train an SAE on (one prompt per line)"),
                     GTK_FILE_CHOOSER_ACTION_OPEN, _("_Train"), NULL, NULL, NULL, train_text_chosen);
}

/* ---- running ---- */

typedef struct
{
  CsModel         *model;
  CsSteerDataset  *dataset;
  char            *dataset_name;
  double           held_out;
  CsSteerPosition  position;
  GArray          *layers, *mults;
  GArray          *targets;
  char            *targets_name;
  CsGeometrySpace *space;
  CsGeometry      *geometry;
  CsSae           *sae;             /* the page's; Load SAE is off while a run goes */
  int              effects_layer;
  int              steer_from;
  gboolean         normalise;
  char            *gen_prompt;
  int              gen_tokens;
  CsJob            *job;
  CsSteerReport   *report;
} RunJob;

static void
run_job_free (gpointer p)
{
  RunJob *j = p;
  g_clear_object (&j->model);
  cs_steer_dataset_free (j->dataset);
  g_free (j->dataset_name);
  g_array_unref (j->layers);
  g_array_unref (j->mults);
  g_array_unref (j->targets);
  g_free (j->targets_name);
  g_free (j->gen_prompt);
  cs_geometry_space_free (j->space);
  cs_geometry_free (j->geometry);
  cs_steer_report_free (j->report);
  g_free (j);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunJob *j = task_data;
  GError *error = NULL;
  g_autoptr(CsTokenizer) tok = NULL;
  CsSteerRun run = { 0 };

  if (!(tok = model_tokenizer (j->model, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!j->dataset->ab && j->targets->len == 0)
    {
      /* the targets are not a category of the Geometry view: WordNet */
      g_autoptr(CsWordNet) wn = cs_wordnet_open (NULL, &error);
      g_autoptr(CsCategorySet) set = NULL;
      if (!wn || !(set = cs_category_set_from_wordnet (wn, j->targets_name, tok, NULL, &error)))
        {
          g_prefix_error (&error, _("Targets “%s”: "), j->targets_name);
          g_task_return_error (task, error);
          return;
        }
      g_array_append_vals (j->targets, cs_category_set_get (set, 0)->tokens->data,
                           cs_category_set_get (set, 0)->tokens->len);
    }
  run.model = j->model;
  run.tok = tok;
  run.dataset = j->dataset;
  run.dataset_name = j->dataset_name;
  run.held_out = j->held_out;
  run.position = j->position;
  run.layers = (const int *) j->layers->data;
  run.n_layers = (int) j->layers->len;
  run.multipliers = (const double *) j->mults->data;
  run.n_mult = (int) j->mults->len;
  run.targets = (const gint32 *) j->targets->data;
  run.n_targets = (int) j->targets->len;
  run.targets_name = j->dataset->ab ? NULL : j->targets_name;
  run.space = j->space;
  run.geometry = j->geometry;
  run.sae = j->sae;
  run.effects_layer = j->effects_layer;
  run.effects_multiplier = NAN;
  run.top_k = 8;
  run.device = CS_DEVICE_AUTO;
  run.steer_from = j->steer_from;
  run.normalise = j->normalise;
  run.gen_prompt = j->gen_prompt;
  run.gen_tokens = j->gen_tokens;
  j->report = cs_steer_run (&run, cs_job_progress, j->job, cancellable, &error);
  if (!j->report)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
set_busy (CsSteeringPage *self, gboolean busy)
{
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), busy);
  gtk_widget_set_visible (self->cancel_button, busy);
  gtk_widget_set_sensitive (self->run_button, !busy);
  gtk_widget_set_sensitive (self->continue_button, !busy);
  gtk_widget_set_sensitive (self->sae_button, !busy);
  gtk_widget_set_sensitive (self->train_button, !busy);
}

static void sort_effects (CsSteeringPage *self);

/* The status line for the report shown: what the run found. */
static void
describe_report (CsSteeringPage *self)
{
  const CsSteerSweep *sw = self->report ? self->report->sweep : NULL;
  g_autofree char *text = NULL;
  if (!sw || !self->report->effects)
    return;
  text = g_strdup_printf (_("%d pairs for the vector; moves most at layer %d; effects at layer %d × %g; %.0f tokens/s"),
                          self->report->n_pairs, cs_steer_sweep_best_layer (sw), self->report->effects->steer_layer,
                          self->report->effects->multiplier, sw->tokens / MAX (1e-9, sw->seconds));
  gtk_label_set_text (self->status_label, text);
}

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

static void
update_undo_buttons (CsSteeringPage *self)
{
  cs_ui_update_undo (self->undo_button, self->redo_button, self->history);
}

/* The report shown before a new one replaces it (taken over). */
static void
remember_report (CsSteeringPage *self, const char *label, CsSteerReport *old)
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
  sort_effects (self);
  describe_report (self);
  update_undo_buttons (self);
  return TRUE;
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

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CsSteeringPage *self = CS_STEERING_PAGE (source);
  g_autoptr(GError) error = NULL;
  RunJob *j = g_task_get_task_data (G_TASK (result));

  if (!cs_job_finish (self->job, result))
    return;
  set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      gtk_label_set_text (self->status_label, error->message);
      return;
    }
  g_clear_pointer (&self->error, g_free);
  remember_report (self, _("the run"), g_steal_pointer (&self->report));
  self->report = g_steal_pointer (&j->report);
  sort_effects (self);
  describe_report (self);
  redraw (self);
}

static void
sort_effects (CsSteeringPage *self)
{
  if (self->report && self->report->effects)
    cs_steer_effects_sort (self->report->effects,
                           gtk_drop_down_get_selected (self->columns_drop) == 1 ? CS_STEER_SORT_CHANGE
                                                                                : CS_STEER_SORT_KIND,
                           gtk_drop_down_get_selected (self->rows_drop) == 0);
  redraw (self);
}


static void
start_run (CsSteeringPage *self)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  CsGeometrySpace *space = self->session ? cs_session_get_space (self->session) : NULL;
  g_autoptr(GError) error = NULL;
  GtkTextIter a, b;
  g_autofree char *text = NULL;
  RunJob *j;
  int n_layers;

  if (!model)
    {
      gtk_label_set_text (self->status_label, _("Open a model first"));
      return;
    }
  n_layers = cs_model_get_config (model)->n_layers;
  gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (self->dataset_view), &a, &b);
  text = gtk_text_buffer_get_text (gtk_text_view_get_buffer (self->dataset_view), &a, &b, FALSE);
  j = g_new0 (RunJob, 1);
  j->dataset = cs_steer_dataset_parse (text, -1, gtk_label_get_text (self->dataset_label), &error);
  if (!j->dataset ||
      !(j->layers = cs_steer_parse_layers (gtk_editable_get_text (GTK_EDITABLE (self->layers_entry)), n_layers,
                                           &error)) ||
      !(j->mults = cs_steer_parse_multipliers (gtk_editable_get_text (GTK_EDITABLE (self->mult_entry)), &error)))
    {
      gtk_label_set_text (self->status_label, error->message);
      j->layers = j->layers ? j->layers : g_array_new (FALSE, FALSE, sizeof (int));
      j->mults = j->mults ? j->mults : g_array_new (FALSE, FALSE, sizeof (double));
      j->targets = g_array_new (FALSE, FALSE, sizeof (gint32));
      run_job_free (j);
      return;
    }
  j->model = g_object_ref (model);
  j->dataset_name = g_strdup (self->dataset_path ? self->dataset_path : gtk_label_get_text (self->dataset_label));
  j->held_out = gtk_spin_button_get_value (self->held_spin);
  j->position = gtk_drop_down_get_selected (self->position_drop) == 1 ? CS_STEER_POSITION_ANSWER
                                                                      : CS_STEER_POSITION_LAST;
  j->targets_name = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->targets_entry)));
  j->targets = g_array_new (FALSE, FALSE, sizeof (gint32));
  if (geo && space && space->d == cs_model_get_config (model)->hidden)
    {
      int c = cs_category_set_find (geo->categories, j->targets_name);
      if (c >= 0)
        g_array_append_vals (j->targets, cs_category_set_get (geo->categories, c)->tokens->data,
                             cs_category_set_get (geo->categories, c)->tokens->len);
      j->geometry = cs_geometry_dup (geo);
      j->space = cs_geometry_space_ref (space);
    }
  if (!j->dataset->ab && !*j->targets_name)
    {
      gtk_label_set_text (self->status_label, _("Plain pairs are measured by the probability of a category’s tokens: "
                                                "name the targets (for example animal)"));
      run_job_free (j);
      return;
    }
  if (!self->sae)
    {
      /* the sample model comes with an SAE of its own (data/sae-resid-post-1) */
      g_autofree char *sample = cs_paths_get_sample_model ();
      g_autofree char *a = g_canonicalize_filename (sample, NULL);
      g_autofree char *b = g_canonicalize_filename (cs_model_get_path (model), NULL);
      g_autofree char *shipped_sae = g_build_filename (cs_paths_get_datadir (), "sae-resid-post-1", NULL);
      if (g_str_equal (a, b) && g_file_test (shipped_sae, G_FILE_TEST_IS_DIR))
        cs_steering_page_load_sae (self, shipped_sae, NULL);
    }
  j->sae = self->sae;
  j->effects_layer = gtk_spin_button_get_value_as_int (self->effects_layer_spin);
  j->steer_from = gtk_spin_button_get_value_as_int (self->from_spin);
  j->normalise = gtk_check_button_get_active (self->normalise_check);
  j->gen_prompt = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->gen_entry))));
  j->gen_tokens = gtk_spin_button_get_value_as_int (self->gen_tokens_spin);
  j->job = self->job;
  set_busy (self, TRUE);
  gtk_label_set_text (self->status_label, _("Computing the vectors and sweeping layers and multipliers…"));
  cs_job_start (self->job, self, j, run_job_free, run_thread, run_done);
}

/* ---- continuing the prompt with the vectors of the last run ---- */

typedef struct
{
  CsModel       *model;
  CsSteerReport *holder;     /* the vectors in, the continuations out */
  char          *prompt;
  GArray        *mults;
  int            layer, tokens, steer_from;
  CsJob          *job;
} ContinueJob;

static void
continue_job_free (gpointer p)
{
  ContinueJob *j = p;
  g_clear_object (&j->model);
  cs_steer_report_free (j->holder);
  g_free (j->prompt);
  g_array_unref (j->mults);
  g_free (j);
}

static void
continue_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ContinueJob *j = task_data;
  GError *error = NULL;
  g_autoptr(CsTokenizer) tok = NULL;

  if (!(tok = model_tokenizer (j->model, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!cs_steer_report_continue (j->holder, j->model, tok, j->prompt, j->layer, (const double *) j->mults->data,
                                 (int) j->mults->len, j->tokens, 0, 0, j->steer_from, CS_DEVICE_AUTO,
                                 cs_job_progress, j->job, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
continue_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CsSteeringPage *self = CS_STEERING_PAGE (source);
  ContinueJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  CsSteerReport *r = self->report;

  if (!cs_job_finish (self->job, result))
    return;
  set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      gtk_label_set_text (self->status_label, error->message);
      return;
    }
  if (!r)
    return;
  /* the report shown keeps everything else; the continuations move over,
   * the ones they replace into the history */
  {
    StState *st = g_new0 (StState, 1);
    st->generations = TRUE;
    st->report = generations_holder ();
    cs_steer_report_take_generations (st->report, r);
    cs_history_push (self->history, _("the continuations"), st);
    update_undo_buttons (self);
  }
  cs_steer_report_take_generations (r, j->holder);
  gtk_label_set_text (self->status_label, _("Continued the prompt under each multiplier"));
  cs_steering_page_show_figure (self, CS_STEER_FIGURE_SAMPLES);
  redraw (self);
}

void
cs_steering_page_set_prompt (CsSteeringPage *self, const char *prompt, int tokens)
{
  gtk_editable_set_text (GTK_EDITABLE (self->gen_entry), prompt ? prompt : "");
  if (tokens > 0)
    gtk_spin_button_set_value (self->gen_tokens_spin, tokens);
}

/* Continues the side panel's prompt with the shown run's vector at its
 * effects layer, without running the rest again. */
void
cs_steering_page_continue (CsSteeringPage *self)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  const CsSteerReport *r = self->report;
  ContinueJob *j;
  g_autofree char *prompt = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->gen_entry))));

  if (!r || !r->sweep || !r->effects || !model)
    {
      gtk_label_set_text (self->status_label, _("Run the analysis first: the continuations use its vector"));
      return;
    }
  if (!*prompt)
    {
      gtk_label_set_text (self->status_label, _("Give a prompt to continue"));
      return;
    }
  j = g_new0 (ContinueJob, 1);
  j->model = g_object_ref (model);
  j->holder = g_new0 (CsSteerReport, 1);
  j->holder->n_layers = r->n_layers;
  j->holder->d = r->d;
  j->holder->vectors = g_memdup2 (r->vectors, sizeof (float) * r->n_layers * r->d);
  j->prompt = g_steal_pointer (&prompt);
  j->mults = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_vals (j->mults, r->sweep->multipliers, r->sweep->n_mult);
  j->layer = r->effects->steer_layer;
  j->tokens = gtk_spin_button_get_value_as_int (self->gen_tokens_spin);
  j->steer_from = gtk_spin_button_get_value_as_int (self->from_spin);
  j->job = self->job;
  set_busy (self, TRUE);
  gtk_label_set_text (self->status_label, _("Continuing the prompt under each multiplier…"));
  cs_job_start (self->job, self, j, continue_job_free, continue_thread, continue_done);
}

void
cs_steering_page_run (CsSteeringPage *self, const char *dataset, const char *layers, const char *multipliers,
                      const char *targets)
{
  if (dataset)
    {
      gboolean found = FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (shipped); i++)
        if (g_str_equal (dataset, shipped[i]))
          {
            gtk_drop_down_set_selected (self->dataset_drop, i);
            on_dataset_selected (self);
            found = TRUE;
          }
      if (!found)
        show_dataset_text (self, dataset);
    }
  if (layers)
    gtk_editable_set_text (GTK_EDITABLE (self->layers_entry), layers);
  if (multipliers)
    gtk_editable_set_text (GTK_EDITABLE (self->mult_entry), multipliers);
  if (targets)
    gtk_editable_set_text (GTK_EDITABLE (self->targets_entry), targets);
  start_run (self);
}

void
cs_steering_page_cancel (CsSteeringPage *self)
{
  cs_job_cancel (self->job);
  set_busy (self, FALSE);
  gtk_label_set_text (self->status_label, _("Cancelled"));
}

gboolean
cs_steering_page_get_busy (CsSteeringPage *self)
{
  return cs_job_running (self->job);
}

const char *
cs_steering_page_get_error (CsSteeringPage *self)
{
  return self->error;
}

const CsSae *
cs_steering_page_get_sae (CsSteeringPage *self)
{
  return self->sae;
}

const CsSteerReport *
cs_steering_page_get_report (CsSteeringPage *self)
{
  return self->report;
}

GtkWidget *
cs_steering_page_get_figure_area (CsSteeringPage *self)
{
  return gtk_stack_get_visible_child (self->stack);
}

void
cs_steering_page_show_figure (CsSteeringPage *self, CsSteerFigureKind kind)
{
  gtk_stack_set_visible_child_name (self->stack, cs_steer_figure_name (kind));
}

void
cs_steering_page_set_session (CsSteeringPage *self, CsSession *session)
{
  g_return_if_fail (CS_IS_STEERING_PAGE (self));
  g_return_if_fail (self->session == NULL);
  self->session = g_object_ref (session);
}

/* ---- export and workspace ---- */

typedef struct
{
  CsSteeringPage    *self;
  CsSteerFigureKind  kind;
} DrawData;

static void
draw_export (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  DrawData *d = data;
  cs_steer_figure_draw (cr, 0, 0, w, h, s, d->self->report, d->kind);
}

gboolean
cs_steering_page_export (CsSteeringPage *self, const char *path, const char *preset, const char *theme, double scale,
                         double font_size, GError **error)
{
  CsFigureStyle s = { 0 };
  DrawData d = { self, visible_kind (self) };
  if (!self->report)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to export yet"));
      return FALSE;
    }
  if (!cs_steer_figure_available (self->report, d.kind, error))
    return FALSE;
  if (!cs_figure_style_from (preset, theme, font_size, &s, error))
    return FALSE;
  return cs_figure_export (path, &s, scale, draw_export, &d, error);
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
  gtk_label_set_text (CS_STEERING_PAGE (owner)->status_label, message);
}

static void
export_clicked (CsSteeringPage *self)
{
  if (self->report)
    cs_export_dialog_present (GTK_WIDGET (self), G_OBJECT (self), cs_steer_figure_name (visible_kind (self)),
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
  remember_report (self, _("opening the workspace"), g_steal_pointer (&self->report));
  self->report = r;
  gtk_label_set_text (self->status_label, _("Steering results from the workspace"));
  sort_effects (self);
  return TRUE;
}

/* ---- construction ---- */


static void
cs_steering_page_init (CsSteeringPage *self)
{
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *panel = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *main = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *grid, *sw, *row, *button;
  const char *sets[G_N_ELEMENTS (shipped) + 1];
  const char *positions[] = { N_("Last token"), N_("Answer letter (A/B)"), NULL };
  const char *positions_t[3] = { _(positions[0]), _(positions[1]), NULL };

  for (guint i = 0; i < G_N_ELEMENTS (shipped); i++)
    sets[i] = shipped[i];
  sets[G_N_ELEMENTS (shipped)] = NULL;

  gtk_widget_set_margin_start (side, 12);
  gtk_widget_set_margin_end (side, 12);
  gtk_widget_set_margin_bottom (side, 12);
  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Dataset")));
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->dataset_drop = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (sets));
  gtk_widget_set_hexpand (GTK_WIDGET (self->dataset_drop), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->dataset_drop), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Shipped datasets"), -1);
  g_signal_connect_swapped (self->dataset_drop, "notify::selected", G_CALLBACK (on_dataset_selected), self);
  button = gtk_button_new_with_mnemonic (_("_Open…"));
  gtk_widget_set_tooltip_text (button, _("A JSON list of {\"positive\", \"negative\"} pairs or CAA A/B items"));
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (open_dataset_clicked), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->dataset_drop));
  gtk_box_append (GTK_BOX (row), button);
  gtk_box_append (GTK_BOX (side), row);
  self->dataset_label = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (self->dataset_label, 0);
  gtk_label_set_ellipsize (self->dataset_label, PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (GTK_WIDGET (self->dataset_label), "dim-label");
  gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->dataset_label));
  sw = gtk_scrolled_window_new ();
  gtk_widget_set_size_request (sw, -1, 150);
  self->dataset_view = GTK_TEXT_VIEW (gtk_text_view_new ());
  gtk_text_view_set_monospace (self->dataset_view, TRUE);
  gtk_text_view_set_wrap_mode (self->dataset_view, GTK_WRAP_WORD_CHAR);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->dataset_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The dataset (editable JSON)"), -1);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->dataset_view), "changed", G_CALLBACK (on_dataset_edited),
                            self);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), GTK_WIDGET (self->dataset_view));
  gtk_box_append (GTK_BOX (side), sw);

  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Sweep")));
  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
  self->layers_entry = GTK_ENTRY (cs_ui_labelled (grid, 0, _("Layers"), gtk_entry_new ()));
  gtk_editable_set_text (GTK_EDITABLE (self->layers_entry), "all");
  self->mult_entry = GTK_ENTRY (cs_ui_labelled (grid, 1, _("Multipliers"), gtk_entry_new ()));
  gtk_editable_set_text (GTK_EDITABLE (self->mult_entry), "-4,-2,0,2,4");
  self->targets_entry = GTK_ENTRY (cs_ui_labelled (grid, 2, _("Targets"), gtk_entry_new ()));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->targets_entry),
                               _("Plain pairs: the category whose tokens’ probability is the behaviour"));
  gtk_editable_set_text (GTK_EDITABLE (self->targets_entry), "animal");
  self->held_spin = GTK_SPIN_BUTTON (cs_ui_labelled (grid, 3, _("Held out"), gtk_spin_button_new_with_range (0, 0.9, 0.05)));
  gtk_spin_button_set_value (self->held_spin, 0.5);
  self->position_drop = GTK_DROP_DOWN (cs_ui_labelled (grid, 4, _("Position"), gtk_drop_down_new_from_strings (positions_t)));
  self->effects_layer_spin = GTK_SPIN_BUTTON (cs_ui_labelled (grid, 5, _("Effects at layer"),
                                                        gtk_spin_button_new_with_range (-1, 200, 1)));
  gtk_spin_button_set_value (self->effects_layer_spin, -1);
  cs_ui_spin_auto (self->effects_layer_spin, -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->effects_layer_spin),
                               _("Auto: the earliest layer whose change is at least 0.9 of the best layer’s"));
  self->from_spin = GTK_SPIN_BUTTON (cs_ui_labelled (grid, 6, _("Steer from position"),
                                               gtk_spin_button_new_with_range (0, 100000, 1)));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->from_spin), _("0: the vector is added at every position"));
  gtk_box_append (GTK_BOX (side), grid);
  self->normalise_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("Scale vectors to the residual norm")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->normalise_check),
                               _("Each layer's vector gets that layer's mean residual norm: multiplier 1 is one typical norm"));
  gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->normalise_check));

  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Continuations")));
  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
  self->gen_entry = GTK_ENTRY (cs_ui_labelled (grid, 0, _("Prompt"), gtk_entry_new ()));
  gtk_editable_set_text (GTK_EDITABLE (self->gen_entry), "A fern is a kind of");
  gtk_entry_set_placeholder_text (self->gen_entry, _("None"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->gen_entry),
                               _("Continued under each multiplier at the effects layer (the most probable token "
                                 "each step); empty: none"));
  self->gen_tokens_spin = GTK_SPIN_BUTTON (cs_ui_labelled (grid, 1, _("New tokens"),
                                                          gtk_spin_button_new_with_range (1, 200, 1)));
  gtk_spin_button_set_value (self->gen_tokens_spin, 20);
  gtk_box_append (GTK_BOX (side), grid);
  self->continue_button = gtk_button_new_with_mnemonic (_("C_ontinue Again"));
  gtk_widget_set_tooltip_text (self->continue_button,
                               _("Continues the prompt with the last run's vector, without running the rest again"));
  g_signal_connect_swapped (self->continue_button, "clicked", G_CALLBACK (cs_steering_page_continue), self);
  gtk_box_append (GTK_BOX (side), self->continue_button);

  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Sparse autoencoder")));
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->sae_label = GTK_LABEL (gtk_label_new (_("None loaded")));
  gtk_label_set_xalign (self->sae_label, 0);
  gtk_label_set_wrap (self->sae_label, TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->sae_label), TRUE);
  self->sae_button = gtk_button_new_with_mnemonic (_("_Load SAE…"));
  g_signal_connect_swapped (self->sae_button, "clicked", G_CALLBACK (sae_clicked), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->sae_label));
  gtk_box_append (GTK_BOX (row), self->sae_button);
  gtk_box_append (GTK_BOX (side), row);
  self->train_button = gtk_button_new_with_mnemonic (_("_Train SAE on a Text File…"));
  gtk_widget_set_tooltip_text (self->train_button,
                               _("Collects the model's activations over the file's lines at the effects layer "
                                 "(layer 1 when automatic) and trains a 1024-feature SAE on them"));
  g_signal_connect_swapped (self->train_button, "clicked", G_CALLBACK (train_clicked), self);
  gtk_box_append (GTK_BOX (side), self->train_button);

  /* Run, Cancel and the progress stay in view below the scrolling panel */
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->run_button = gtk_button_new_with_mnemonic (_("_Run"));
  gtk_widget_add_css_class (self->run_button, "suggested-action");
  gtk_widget_set_hexpand (self->run_button, TRUE);
  g_signal_connect_swapped (self->run_button, "clicked", G_CALLBACK (start_run), self);
  self->cancel_button = gtk_button_new_with_mnemonic (_("_Cancel"));
  gtk_widget_set_visible (self->cancel_button, FALSE);
  g_signal_connect_swapped (self->cancel_button, "clicked", G_CALLBACK (cs_steering_page_cancel), self);
  gtk_box_append (GTK_BOX (row), self->run_button);
  gtk_box_append (GTK_BOX (row), self->cancel_button);
  self->progress_bar = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  self->job = cs_job_new (self->progress_bar);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), side);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_box_append (GTK_BOX (panel), scroller);
  {
    GtkWidget *foot = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_set_margin_start (foot, 12);
    gtk_widget_set_margin_end (foot, 12);
    gtk_widget_set_margin_top (foot, 6);
    gtk_widget_set_margin_bottom (foot, 12);
    gtk_box_append (GTK_BOX (foot), row);
    gtk_box_append (GTK_BOX (foot), GTK_WIDGET (self->progress_bar));
    gtk_box_append (GTK_BOX (panel), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
    gtk_box_append (GTK_BOX (panel), foot);
  }
  gtk_widget_set_size_request (panel, 320, -1);

  self->stack = GTK_STACK (gtk_stack_new ());
  for (int k = 0; k < CS_STEER_FIGURE_N; k++)
    {
      GtkWidget *area = gtk_drawing_area_new ();
      gtk_widget_set_hexpand (area, TRUE);
      gtk_widget_set_vexpand (area, TRUE);
      g_object_set_data (G_OBJECT (area), "kind", GINT_TO_POINTER (k));
      gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), area_draw, self, NULL);
      gtk_accessible_update_property (GTK_ACCESSIBLE (area), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      figure_title ((CsSteerFigureKind) k), -1);
      gtk_stack_add_titled (self->stack, area, cs_steer_figure_name ((CsSteerFigureKind) k),
                            tab_title ((CsSteerFigureKind) k));
      self->areas[k] = GTK_DRAWING_AREA (area);
    }
  {
    GtkEventController *motion = gtk_event_controller_motion_new ();
    g_signal_connect (motion, "motion", G_CALLBACK (on_effects_motion), self);
    gtk_widget_add_controller (GTK_WIDGET (self->areas[CS_STEER_FIGURE_EFFECTS]), motion);
  }
  gtk_widget_set_margin_start (bar, 6);
  gtk_widget_set_margin_end (bar, 6);
  gtk_widget_set_margin_top (bar, 6);
  {
    GtkWidget *tabs = cs_ui_tabs (self->stack);
    gtk_widget_set_margin_top (tabs, 6);
    gtk_box_append (GTK_BOX (main), tabs);
  }
  self->status_label = GTK_LABEL (gtk_label_new (_("Choose a dataset and press Run")));
  gtk_label_set_xalign (self->status_label, 0);
  gtk_label_set_ellipsize (self->status_label, PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (GTK_WIDGET (self->status_label), TRUE);
  cs_ui_full_text_tooltip (self->status_label);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->status_label));
  {
    const char *cols[] = { N_("Features by kind"), N_("Features by largest change"), NULL };
    const char *rows_[] = { N_("First layer at the top"), N_("Last layer at the top"), NULL };
    const char *cols_t[3] = { _(cols[0]), _(cols[1]), NULL }, *rows_t[3] = { _(rows_[0]), _(rows_[1]), NULL };
    self->columns_drop = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (cols_t));
    self->rows_drop = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (rows_t));
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->columns_drop), _("Order of the effects heatmap's columns"));
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->rows_drop), _("Order of the effects heatmap's rows"));
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->columns_drop), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Order of the effects heatmap's columns"), -1);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->rows_drop), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Order of the effects heatmap's rows"), -1);
    g_signal_connect_swapped (self->columns_drop, "notify::selected", G_CALLBACK (sort_effects), self);
    g_signal_connect_swapped (self->rows_drop, "notify::selected", G_CALLBACK (sort_effects), self);
    gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->columns_drop));
    gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->rows_drop));
  }
  g_signal_connect_swapped (self->stack, "notify::visible-child", G_CALLBACK (tab_changed), self);
  tab_changed (self);
  self->history = cs_history_new (st_state_free, 20);
  cs_ui_add_undo (GTK_BOX (bar), GTK_WIDGET (self), G_CALLBACK (cs_steering_page_undo),
                  G_CALLBACK (cs_steering_page_redo), &self->undo_button, &self->redo_button);
  update_undo_buttons (self);
  button = gtk_button_new_with_mnemonic (_("_Export…"));
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (export_clicked), self);
  gtk_box_append (GTK_BOX (bar), button);
  gtk_box_append (GTK_BOX (main), bar);
  gtk_box_append (GTK_BOX (main), GTK_WIDGET (self->stack));

  gtk_paned_set_start_child (GTK_PANED (paned), panel);
  gtk_paned_set_end_child (GTK_PANED (paned), main);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), FALSE);
  adw_bin_set_child (ADW_BIN (self), paned);
  on_dataset_selected (self);
}

static void
cs_steering_page_dispose (GObject *object)
{
  CsSteeringPage *self = CS_STEERING_PAGE (object);
  /* cancelled here, freed in finalize: a worker still finishing writes its
   * progress into the job, and its task keeps the page alive until then */
  cs_job_cancel (self->job);
  g_clear_object (&self->session);
  g_clear_pointer (&self->report, cs_steer_report_free);
  g_clear_pointer (&self->history, cs_history_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->dataset_path, g_free);
  g_clear_pointer (&self->sae_path, g_free);
  /* a run still going holds the SAE: it is freed with the last reference */
  G_OBJECT_CLASS (cs_steering_page_parent_class)->dispose (object);
}

static void
cs_steering_page_finalize (GObject *object)
{
  CsSteeringPage *self = CS_STEERING_PAGE (object);
  g_clear_pointer (&self->sae, cs_sae_free);
  g_clear_pointer (&self->job, cs_job_free);
  G_OBJECT_CLASS (cs_steering_page_parent_class)->finalize (object);
}

static void
cs_steering_page_class_init (CsSteeringPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cs_steering_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = cs_steering_page_finalize;
}
