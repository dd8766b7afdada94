#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-build-config.h"
#include "cs-categories.h"
#include "cs-steering-page-private.h"
#include "cs-tokenizer.h"
#include "cs-ui.h"

static const char *shipped[] = { "animal-vs-plant", "mammal-vs-bird", "animal-or-plant-ab" };

/* The drop-downs' choices and the engine's values they stand for. */
static const CsUiChoice positions[] = {
  { CS_STEER_POSITION_LAST, N_("Last token") },
  { CS_STEER_POSITION_ANSWER, N_("Answer letter (A/B)") },
  { -1, NULL },
};
static const CsUiChoice column_orders[] = {
  { CS_STEER_SORT_KIND, N_("Features by kind") },
  { CS_STEER_SORT_CHANGE, N_("Features by largest change") },
  { -1, NULL },
};
static const CsUiChoice row_orders[] = {
  { TRUE, N_("First layer at the top") },
  { FALSE, N_("Last layer at the top") },
  { -1, NULL },
};

G_DEFINE_FINAL_TYPE (CsSteeringPage, cs_steering_page, ADW_TYPE_BIN)

/* ---- the figures ---- */

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
    case CS_STEER_FIGURE_HIERARCHY: return _("Hierarchy Check");
    case CS_STEER_FIGURE_FLOW: return _("Feature Flow");
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
    case CS_STEER_FIGURE_HIERARCHY: return C_("steering tab", "Hierarchy");
    case CS_STEER_FIGURE_FLOW: return C_("steering tab", "Flow");
    default: return "";
    }
}

CsSteerFigureKind
cs_steering_page_visible_kind (CsSteeringPage *self)
{
  CsSteerFigureKind k = CS_STEER_FIGURE_BEHAVIOUR;
  cs_steer_figure_parse (gtk_stack_get_visible_child_name (self->stack), &k);
  return k;
}

/* The column and row orders apply to the effects heatmap only. */
static void
tab_changed (CsSteeringPage *self)
{
  gboolean effects = cs_steering_page_visible_kind (self) == CS_STEER_FIGURE_EFFECTS;
  gtk_widget_set_visible (GTK_WIDGET (self->columns_drop), effects);
  gtk_widget_set_visible (GTK_WIDGET (self->rows_drop), effects);
}

typedef struct
{
  CsSteeringPage    *self;
  CsSteerFigureKind  kind;
} FigureData;

/* One figure of the report, on screen and in export alike; on screen, where
 * the report cannot draw it, what to do instead. */
static void
draw_figure (cairo_t *cr, double width, double height, const CsFigureStyle *s, gpointer data)
{
  FigureData *d = data;
  g_autoptr(GError) why = NULL;

  if (!d->self->report)
    return;
  if (!cs_steer_figure_available (d->self->report, d->kind, &why))
    {
      /* in the page's words (the engine's name CLI flags) */
      const char *hint = d->kind == CS_STEER_FIGURE_CONCEPTS ? _("Compute the Geometry view first: the cosines are with its concept vectors")
                         : d->kind == CS_STEER_FIGURE_SAE ? _("Load or train an SAE, then run again")
                         : d->kind == CS_STEER_FIGURE_SAMPLES ? _("Give a prompt under Continuations and press Continue Again")
                         : d->kind == CS_STEER_FIGURE_HIERARCHY ? _("Steer with a concept of the Geometry view to see which categories move")
                         : d->kind == CS_STEER_FIGURE_FLOW ? _("The feature flow needs SAEs at several layers (the sample model has them)")
                         : why->message;
      PangoLayout *l = pango_cairo_create_layout (cr);
      PangoFontDescription *fd = pango_font_description_from_string ("Sans 11");
      int w, h;
      pango_layout_set_font_description (l, fd);
      pango_layout_set_text (l, hint, -1);
      pango_layout_get_pixel_size (l, &w, &h);
      cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
      cairo_move_to (cr, (width - w) / 2.0, (height - h) / 2.0);
      pango_cairo_show_layout (cr, l);
      pango_font_description_free (fd);
      g_object_unref (l);
      return;
    }
  cs_steer_figure_draw (cr, 0, 0, width, height, s, d->self->report, d->kind);
}

static void
sort_effects (CsSteeringPage *self)
{
  int columns, first_top;
  g_object_get (self->settings, "columns", &columns, "first-layer-top", &first_top, NULL);
  if (self->report && self->report->effects)
    cs_steer_effects_sort (self->report->effects, (CsSteerColumnOrder) columns, first_top);
  for (int k = 0; k < CS_STEER_FIGURE_N; k++)
    cs_figure_view_invalidate (self->views[k]);
}

/* The status line for the report shown: what the run found. */
static void
describe_report (CsSteeringPage *self)
{
  const CsSteerSweep *sw = self->report ? self->report->sweep : NULL;
  g_autofree char *text = NULL;
  if (!sw || !self->report->effects)
    return;
  if (self->report->concept)
    text = g_strdup_printf (_("Steering with %s; moves most at layer %d; effects at layer %d × %g; %.0f tokens/s"),
                            self->report->concept, cs_steer_sweep_best_layer (sw), self->report->effects->steer_layer,
                            self->report->effects->multiplier, sw->tokens / MAX (1e-9, sw->seconds));
  else
    text = g_strdup_printf (_("%d pairs for the vector; moves most at layer %d; effects at layer %d × %g; %.0f tokens/s"),
                            self->report->n_pairs, cs_steer_sweep_best_layer (sw), self->report->effects->steer_layer,
                            self->report->effects->multiplier, sw->tokens / MAX (1e-9, sw->seconds));
  cs_steering_page_set_status (self, text);
}

void
cs_steering_page_report_changed (CsSteeringPage *self)
{
  sort_effects (self);
  describe_report (self);
}

char *
cs_steering_page_describe_at (CsSteeringPage *self, double x, double y)
{
  CsFigureView *view = self->views[CS_STEER_FIGURE_EFFECTS];
  CsFigureStyle s = cs_figure_view_get_style (view);
  if (!self->report || cs_steering_page_visible_kind (self) != CS_STEER_FIGURE_EFFECTS)
    return NULL;
  return cs_steer_figure_effects_describe (0, 0, gtk_widget_get_width (GTK_WIDGET (view)),
                                           gtk_widget_get_height (GTK_WIDGET (view)), &s, self->report, x, y);
}

static void
on_effects_motion (GtkEventControllerMotion *m, double x, double y, CsSteeringPage *self)
{
  g_autofree char *text = cs_steering_page_describe_at (self, x, y);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->views[CS_STEER_FIGURE_EFFECTS]), text);
}

void
cs_steering_page_set_status (CsSteeringPage *self, const char *text)
{
  gtk_label_set_text (self->status_label, text ? text : "");
}

void
cs_steering_page_set_busy (CsSteeringPage *self, gboolean busy)
{
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), busy);
  gtk_widget_set_visible (self->cancel_button, busy);
  gtk_widget_set_sensitive (self->run_button, !busy);
  gtk_widget_set_sensitive (self->continue_button, !busy);
  gtk_widget_set_sensitive (self->sae_button, !busy);
  gtk_widget_set_sensitive (self->train_button, !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->variants_grid), !busy);
}

CsTokenizer *
cs_steering_page_model_tokenizer (CsModel *model, GError **error)
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

/* ---- the dataset ---- */


static void
show_dataset_text (CsSteeringPage *self, const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      cs_steering_page_set_status (self, error->message);
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
      g_object_set (self->settings, "position",
                    g_str_has_suffix (shipped[i], "-ab") ? CS_STEER_POSITION_ANSWER : CS_STEER_POSITION_LAST, NULL);
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

/* ---- running ---- */

typedef struct
{
  CsModel         *model;
  CsSteerDataset  *dataset;
  char            *dataset_name;
  CsSteerRun       run;             /* the panel's scalar parameters */
  GArray          *layers, *mults;
  GArray          *targets;
  char            *targets_name;
  CsGeometrySpace *space;
  CsGeometry      *geometry;
  CsSae           *sae;             /* the page's; Load SAE is off while a run goes */
  CsSaeSet        *saes;            /* the same */
  char            *gen_prompt;
  char            *concept;         /* cs_steer_concept_vector's spec, or NULL */
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
  g_clear_pointer (&j->layers, g_array_unref);
  g_clear_pointer (&j->mults, g_array_unref);
  g_clear_pointer (&j->targets, g_array_unref);
  g_free (j->targets_name);
  g_free (j->gen_prompt);
  g_free (j->concept);
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
  CsSteerRun run;

  if (!(tok = cs_steering_page_model_tokenizer (j->model, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!j->dataset->ab)
    {
      /* a category of the Geometry view, else WordNet's */
      g_clear_pointer (&j->targets, g_array_unref);
      if (!(j->targets = cs_steer_target_tokens (j->targets_name, j->geometry, tok, &error)))
        {
          g_prefix_error (&error, _("Targets “%s”: "), j->targets_name);
          g_task_return_error (task, error);
          return;
        }
    }
  run = j->run;
  run.model = j->model;
  run.tok = tok;
  run.dataset = j->dataset;
  run.dataset_name = j->dataset_name;
  run.layers = (const int *) j->layers->data;
  run.n_layers = (int) j->layers->len;
  run.multipliers = (const double *) j->mults->data;
  run.n_mult = (int) j->mults->len;
  run.targets = j->targets ? (const gint32 *) j->targets->data : NULL;
  run.n_targets = j->targets ? (int) j->targets->len : 0;
  run.targets_name = j->dataset->ab ? NULL : j->targets_name;
  run.space = j->space;
  run.geometry = j->geometry;
  run.sae = j->sae;
  run.saes = j->saes;
  run.concept = j->concept;
  j->report = cs_steer_run (&run, cs_job_progress, j->job, cancellable, &error);
  if (!j->report)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CsSteeringPage *self = CS_STEERING_PAGE (source);
  g_autoptr(GError) error = NULL;
  RunJob *j = g_task_get_task_data (G_TASK (result));

  if (!cs_job_finish (self->job, result))
    return;
  cs_steering_page_set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      cs_steering_page_set_status (self, error->message);
      return;
    }
  g_clear_pointer (&self->error, g_free);
  cs_steering_page_remember_report (self, _("the run"), g_steal_pointer (&self->report));
  self->report = g_steal_pointer (&j->report);
  cs_steering_page_report_changed (self);
}

void
cs_steering_page_start_run (CsSteeringPage *self)
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
      cs_steering_page_set_status (self, _("Open a model first"));
      return;
    }
  n_layers = cs_model_get_config (model)->n_layers;
  gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (self->dataset_view), &a, &b);
  text = gtk_text_buffer_get_text (gtk_text_view_get_buffer (self->dataset_view), &a, &b, FALSE);
  j = g_new0 (RunJob, 1);
  j->dataset = cs_steer_dataset_parse (text, -1, gtk_label_get_text (self->dataset_label), &error);
  if (!j->dataset ||
      !(j->layers = cs_steer_parse_layers (cs_steering_settings_get (self->settings, "layers"), n_layers, &error)) ||
      !(j->mults = cs_steer_parse_multipliers (cs_steering_settings_get (self->settings, "multipliers"), &error)))
    {
      cs_steering_page_set_status (self, error->message);
      run_job_free (j);
      return;
    }
  j->model = g_object_ref (model);
  j->dataset_name = g_strdup (self->dataset_path ? self->dataset_path : gtk_label_get_text (self->dataset_label));
  j->targets_name = g_strstrip (g_strdup (cs_steering_settings_get (self->settings, "targets")));
  if (geo && space && space->d == cs_model_get_config (model)->hidden)
    {
      j->geometry = cs_geometry_dup (geo);
      j->space = cs_geometry_space_ref (space);
    }
  if (!j->dataset->ab && !*j->targets_name)
    {
      cs_steering_page_set_status (self, _("Plain pairs are measured by the probability of a category’s tokens: "
                                                "name the targets (for example animal)"));
      run_job_free (j);
      return;
    }
  if ((j->concept = cs_steering_settings_dup_concept (self->settings)) && !j->geometry)
    {
      cs_steering_page_set_status (self, _("Steering with a concept needs the Geometry view's concept vectors: "
                                           "compute them first"));
      run_job_free (j);
      return;
    }
  cs_steering_page_default_sae (self, model);
  j->sae = self->sae;
  j->saes = self->saes;
  cs_steering_settings_to_run (self->settings, &j->run);
  j->gen_prompt = g_strstrip (g_strdup (j->run.gen_prompt ? j->run.gen_prompt : ""));
  j->run.gen_prompt = j->gen_prompt;
  j->job = self->job;
  cs_steering_page_set_busy (self, TRUE);
  cs_steering_page_set_status (self, _("Computing the vectors and sweeping layers and multipliers…"));
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

  if (!(tok = cs_steering_page_model_tokenizer (j->model, &error)))
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
  cs_steering_page_set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      cs_steering_page_set_status (self, error->message);
      return;
    }
  if (!r)
    return;
  /* the report shown keeps everything else; the continuations move over,
   * the ones they replace into the history */
  cs_steering_page_remember_generations (self);
  cs_steer_report_take_generations (r, j->holder);
  cs_steering_page_show_figure (self, CS_STEER_FIGURE_SAMPLES);
  cs_steering_page_report_changed (self);
  cs_steering_page_set_status (self, _("Continued the prompt under each multiplier"));
}

void
cs_steering_page_set_prompt (CsSteeringPage *self, const char *prompt, int tokens)
{
  g_object_set (self->settings, "gen-prompt", prompt ? prompt : "", NULL);
  if (tokens > 0)
    g_object_set (self->settings, "gen-tokens", tokens, NULL);
}

/* Continues the side panel's prompt with the shown run's vector at its
 * effects layer, without running the rest again. */
void
cs_steering_page_continue (CsSteeringPage *self)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  const CsSteerReport *r = self->report;
  ContinueJob *j;
  g_autofree char *prompt = g_strstrip (g_strdup (cs_steering_settings_get (self->settings, "gen-prompt")));

  if (!r || !r->sweep || !r->effects || !model)
    {
      cs_steering_page_set_status (self, _("Run the analysis first: the continuations use its vector"));
      return;
    }
  if (!*prompt)
    {
      cs_steering_page_set_status (self, _("Give a prompt to continue"));
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
  g_object_get (self->settings, "gen-tokens", &j->tokens, "steer-from", &j->steer_from, NULL);
  j->job = self->job;
  cs_steering_page_set_busy (self, TRUE);
  cs_steering_page_set_status (self, _("Continuing the prompt under each multiplier…"));
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
    g_object_set (self->settings, "layers", layers, NULL);
  if (multipliers)
    g_object_set (self->settings, "multipliers", multipliers, NULL);
  if (targets)
    g_object_set (self->settings, "targets", targets, NULL);
  cs_steering_page_start_run (self);
}

/* The concept drop-downs' choices: the geometry's estimated categories. */
static void
fill_concepts (CsSteeringPage *self)
{
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  g_autofree char *plus = NULL, *minus = NULL;

  g_object_get (self->settings, "concept", &plus, "concept-minus", &minus, NULL);
  g_ptr_array_set_size (self->concept_values, 0);
  g_ptr_array_set_size (self->concept_minus_values, 0);
  gtk_string_list_splice (self->concept_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->concept_model)), NULL);
  gtk_string_list_splice (self->concept_minus_model, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->concept_minus_model)), NULL);
  g_ptr_array_add (self->concept_values, g_strdup (""));
  g_ptr_array_add (self->concept_minus_values, g_strdup (""));
  gtk_string_list_append (self->concept_model, _("The pairs' mean difference"));
  gtk_string_list_append (self->concept_minus_model, _("Nothing"));
  {
    /* the Geometry view's axes, as they are now: ℓ̄_A or ℓ̄_A − ℓ̄_B as drawn
     * before any Gram–Schmidt */
    const char *axes = self->session ? cs_session_get_axes (self->session) : NULL;
    g_auto(GStrv) xy = axes && geo ? g_strsplit (axes, ";", 2) : NULL;
    for (int k = 0; xy && k < 2 && xy[k]; k++)
      if (!g_ptr_array_find_with_equal_func (self->concept_values, xy[k], g_str_equal, NULL))
        {
          g_auto(GStrv) parts = g_strsplit (xy[k], "-", 2);
          g_autofree char *label = parts[1] ? g_strdup_printf (_("projection's %s axis: ℓ̄ %s − ℓ̄ %s"),
                                                               k ? "y" : "x", parts[0], parts[1])
                                            : g_strdup_printf (_("projection's %s axis: ℓ̄ %s"), k ? "y" : "x",
                                                               parts[0]);
          g_ptr_array_add (self->concept_values, g_strdup (xy[k]));
          gtk_string_list_append (self->concept_model, label);
        }
  }
  for (guint c = 0; geo && c < geo->categories->items->len; c++)
    if (geo->vectors[c].estimated)
      {
        const char *name = cs_category_set_get (geo->categories, c)->name;
        g_autofree char *label = g_strdup_printf ("ℓ̄ %s", name);
        g_ptr_array_add (self->concept_values, g_strdup (name));
        g_ptr_array_add (self->concept_minus_values, g_strdup (name));
        gtk_string_list_append (self->concept_model, label);
        gtk_string_list_append (self->concept_minus_model, label);
      }
  /* a name the new geometry lacks goes back to the pairs' vector */
  if (!plus || !g_ptr_array_find_with_equal_func (self->concept_values, plus, g_str_equal, NULL))
    g_clear_pointer (&plus, g_free);
  if (!minus || !g_ptr_array_find_with_equal_func (self->concept_minus_values, minus, g_str_equal, NULL))
    g_clear_pointer (&minus, g_free);
  g_object_set (self->settings, "concept", plus ? plus : "", "concept-minus", minus ? minus : "", NULL);
  cs_ui_sync_strings (self->concept_drop);
  cs_ui_sync_strings (self->concept_minus_drop);
  gtk_widget_set_sensitive (GTK_WIDGET (self->concept_minus_drop), plus && *plus && !strchr (plus, '-'));
}

gboolean
cs_steering_page_set_concept (CsSteeringPage *self, const char *plus, const char *minus)
{
  g_return_val_if_fail (CS_IS_STEERING_PAGE (self), FALSE);
  if ((plus && !g_ptr_array_find_with_equal_func (self->concept_values, plus, g_str_equal, NULL)) ||
      (minus && !g_ptr_array_find_with_equal_func (self->concept_minus_values, minus, g_str_equal, NULL)))
    return FALSE;
  g_object_set (self->settings, "concept", plus ? plus : "", "concept-minus", minus ? minus : "", NULL);
  return TRUE;
}

void
cs_steering_page_cancel (CsSteeringPage *self)
{
  cs_job_cancel (self->job);
  cs_steering_page_set_busy (self, FALSE);
  cs_steering_page_set_status (self, _("Cancelled"));
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
  g_signal_connect_object (session, "notify::geometry", G_CALLBACK (fill_concepts), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::axes", G_CALLBACK (fill_concepts), self, G_CONNECT_SWAPPED);
  fill_concepts (self);
}

static void fill_concepts (CsSteeringPage *self);

/* ---- construction ---- */

static void
on_settings_changed (CsSteeringPage *self, GParamSpec *pspec)
{
  if (g_str_equal (pspec->name, "columns") || g_str_equal (pspec->name, "first-layer-top"))
    sort_effects (self);
  if (g_str_equal (pspec->name, "concept"))
    {
      const char *plus = cs_steering_settings_get (self->settings, "concept");
      gtk_widget_set_sensitive (GTK_WIDGET (self->concept_minus_drop), *plus && !strchr (plus, '-'));
      if (strchr (plus, '-'))
        g_object_set (self->settings, "concept-minus", "", NULL);   /* an axis is already a difference */
    }
}

static void
bind (CsSteeringPage *self, gpointer widget, const char *widget_prop, const char *prop)
{
  g_object_bind_property (self->settings, prop, widget, widget_prop, G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
}

static void
cs_steering_page_init (CsSteeringPage *self)
{
  g_autoptr(GtkStringList) sets = gtk_string_list_new (shipped);
  GtkWidget *tabs;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->settings = cs_steering_settings_new ();
  self->job = cs_job_new (self->progress_bar);
  gtk_drop_down_set_model (self->dataset_drop, G_LIST_MODEL (sets));
  bind (self, self->layers_entry, "text", "layers");
  bind (self, self->mult_entry, "text", "multipliers");
  bind (self, self->targets_entry, "text", "targets");
  bind (self, self->gen_entry, "text", "gen-prompt");
  bind (self, self->held_spin, "value", "held-out");
  bind (self, self->effects_layer_spin, "value", "effects-layer");
  bind (self, self->from_spin, "value", "steer-from");
  bind (self, self->gen_tokens_spin, "value", "gen-tokens");
  bind (self, self->normalise_check, "active", "normalise");
  cs_ui_bind_choice (self->position_drop, G_OBJECT (self->settings), "position", positions);
  cs_ui_bind_choice (self->columns_drop, G_OBJECT (self->settings), "columns", column_orders);
  cs_ui_bind_choice (self->rows_drop, G_OBJECT (self->settings), "first-layer-top", row_orders);
  self->concept_values = g_ptr_array_new_with_free_func (g_free);
  self->concept_minus_values = g_ptr_array_new_with_free_func (g_free);
  self->concept_model = gtk_string_list_new (NULL);
  self->concept_minus_model = gtk_string_list_new (NULL);
  cs_ui_bind_strings (self->concept_drop, G_LIST_MODEL (self->concept_model), G_OBJECT (self->settings), "concept",
                      self->concept_values);
  cs_ui_bind_strings (self->concept_minus_drop, G_LIST_MODEL (self->concept_minus_model), G_OBJECT (self->settings),
                      "concept-minus", self->concept_minus_values);
  g_signal_connect_object (self->settings, "notify", G_CALLBACK (on_settings_changed), self, G_CONNECT_SWAPPED);
  cs_ui_spin_auto (self->effects_layer_spin, -1);
  cs_ui_grid_labels (self->sweep_grid);
  cs_ui_grid_labels (self->gen_grid);
  cs_ui_full_text_tooltip (self->status_label);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->dataset_view), "changed", G_CALLBACK (on_dataset_edited),
                            self);

  for (int k = 0; k < CS_STEER_FIGURE_N; k++)
    {
      FigureData *d = g_new (FigureData, 1);
      GtkWidget *view = cs_figure_view_new ();
      d->self = self;
      d->kind = (CsSteerFigureKind) k;
      gtk_widget_set_hexpand (view, TRUE);
      gtk_widget_set_vexpand (view, TRUE);
      cs_figure_view_set_draw_func (CS_FIGURE_VIEW (view), draw_figure, d, g_free);
      gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      figure_title ((CsSteerFigureKind) k), -1);
      gtk_stack_add_titled (self->stack, view, cs_steer_figure_name ((CsSteerFigureKind) k),
                            tab_title ((CsSteerFigureKind) k));
      self->views[k] = CS_FIGURE_VIEW (view);
    }
  {
    GtkEventController *motion = gtk_event_controller_motion_new ();
    g_signal_connect (motion, "motion", G_CALLBACK (on_effects_motion), self);
    gtk_widget_add_controller (GTK_WIDGET (self->views[CS_STEER_FIGURE_EFFECTS]), motion);
  }
  cs_steering_page_card_init (self);
  tabs = cs_ui_tabs (self->stack);
  gtk_widget_set_margin_top (tabs, 6);
  gtk_box_prepend (GTK_BOX (self->main_box), tabs);
  tab_changed (self);
  cs_steering_page_history_init (self);
  cs_ui_add_undo (GTK_BOX (self->undo_box), GTK_WIDGET (self), G_CALLBACK (cs_steering_page_undo),
                  G_CALLBACK (cs_steering_page_redo), &self->undo_button, &self->redo_button);
  cs_ui_update_undo (self->undo_button, self->redo_button, self->history);
  fill_concepts (self);
  on_dataset_selected (self);
}

static void
cs_steering_page_dispose (GObject *object)
{
  CsSteeringPage *self = CS_STEERING_PAGE (object);
  /* cancelled here, freed in finalize: a worker still finishing writes its
   * progress into the job, and its task keeps the page alive until then */
  cs_job_cancel (self->job);
  cs_steering_page_card_dispose (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_STEERING_PAGE);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_object (&self->concept_model);
  g_clear_object (&self->concept_minus_model);
  g_clear_pointer (&self->concept_values, g_ptr_array_unref);
  g_clear_pointer (&self->concept_minus_values, g_ptr_array_unref);
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
  g_clear_pointer (&self->saes, cs_sae_set_free);
  g_clear_pointer (&self->job, cs_job_free);
  cs_steering_page_card_finalize (self);
  G_OBJECT_CLASS (cs_steering_page_parent_class)->finalize (object);
}

static void
cs_steering_page_class_init (CsSteeringPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cs_steering_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = cs_steering_page_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/conceptscope/ConceptScope/ui/cs-steering-page.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, CsSteeringPage, name)
  CHILD (dataset_drop);
  CHILD (dataset_label);
  CHILD (dataset_view);
  CHILD (sweep_grid);
  CHILD (layers_entry);
  CHILD (mult_entry);
  CHILD (targets_entry);
  CHILD (held_spin);
  CHILD (position_drop);
  CHILD (effects_layer_spin);
  CHILD (from_spin);
  CHILD (concept_drop);
  CHILD (concept_minus_drop);
  CHILD (normalise_check);
  CHILD (gen_grid);
  CHILD (variants_grid);
  CHILD (gen_entry);
  CHILD (gen_tokens_spin);
  CHILD (continue_button);
  CHILD (sae_label);
  CHILD (sae_button);
  CHILD (train_button);
  CHILD (run_button);
  CHILD (cancel_button);
  CHILD (progress_bar);
  CHILD (main_box);
  CHILD (status_label);
  CHILD (columns_drop);
  CHILD (rows_drop);
  CHILD (undo_box);
  CHILD (stack);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, on_dataset_selected);
  gtk_widget_class_bind_template_callback (widget_class, open_dataset_clicked);
  gtk_widget_class_bind_template_callback (widget_class, cs_steering_page_continue);
  gtk_widget_class_bind_template_callback (widget_class, cs_steering_page_sae_dialog);
  gtk_widget_class_bind_template_callback (widget_class, cs_steering_page_train_dialog);
  gtk_widget_class_bind_template_callback (widget_class, cs_steering_page_start_run);
  gtk_widget_class_bind_template_callback (widget_class, cs_steering_page_cancel);
  gtk_widget_class_bind_template_callback (widget_class, cs_steering_page_export_dialog);
  gtk_widget_class_bind_template_callback (widget_class, tab_changed);
}
