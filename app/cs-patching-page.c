#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>
#include <math.h>

#include "cs-error.h"
#include "cs-export-dialog.h"
#include "cs-figure-view.h"
#include "cs-forward.h"
#include "cs-history.h"
#include "cs-job.h"
#include "cs-patch-figure.h"
#include "cs-patching-page.h"
#include "cs-patching-settings.h"
#include "cs-steer.h"
#include "cs-ui.h"

/* ---- what is shown: a patching result and a function vector, shared by
 * reference between the page, its views and its undo history ---- */

typedef struct
{
  CsPatchResult *r;
} PatchHold;

typedef struct
{
  CsFvResult *r;
} FvHold;

static void patch_hold_clear (gpointer p) { cs_patch_result_free (((PatchHold *) p)->r); }
static void fv_hold_clear (gpointer p) { cs_fv_result_free (((FvHold *) p)->r); }

static PatchHold *
patch_hold_new (CsPatchResult *r)
{
  PatchHold *h = g_rc_box_new0 (PatchHold);
  h->r = r;
  return h;
}

static FvHold *
fv_hold_new (CsFvResult *r)
{
  FvHold *h = g_rc_box_new0 (FvHold);
  h->r = r;
  return h;
}

static void
patch_hold_release (gpointer h)
{
  if (h)
    g_rc_box_release_full (h, patch_hold_clear);
}

static void
fv_hold_release (gpointer h)
{
  if (h)
    g_rc_box_release_full (h, fv_hold_clear);
}

typedef struct
{
  PatchHold *patch;
  FvHold    *fv;
} State;

static State *
state_new (PatchHold *patch, FvHold *fv)
{
  State *s = g_new0 (State, 1);
  s->patch = patch ? g_rc_box_acquire (patch) : NULL;
  s->fv = fv ? g_rc_box_acquire (fv) : NULL;
  return s;
}

static void
state_free (gpointer p)
{
  State *s = p;
  if (!s)
    return;
  patch_hold_release (s->patch);
  fv_hold_release (s->fv);
  g_free (s);
}

struct _CsPatchingPage
{
  AdwBin          parent_instance;

  CsSession      *session;
  CsPatchingSettings *settings;
  CsJob          *job;
  CsHistory      *history;
  State          *state;
  char           *error;
  gulong          model_handler;

  GtkGrid        *patch_grid, *fv_grid;
  GtkEntry       *clean_entry, *corrupted_entry, *answer_entry, *wrong_entry;
  GtkDropDown    *target_drop, *metric_drop, *task_drop;
  GtkCheckButton *noising_check, *last_check;
  GtkSpinButton  *shots_spin, *prompts_spin, *heads_spin, *eval_spin;
  GtkWidget      *patch_button, *fv_button, *cancel_button;
  GtkProgressBar *progress_bar;
  GtkLabel       *status_label, *head_label;
  GtkBox         *undo_box, *main_box;
  GtkStack       *stack;
  CsFigureView   *patch_view, *fv_heads_view, *fv_layers_view;
  GtkWidget      *undo_button, *redo_button;
};

G_DEFINE_FINAL_TYPE (CsPatchingPage, cs_patching_page, ADW_TYPE_BIN)


/* ---- figures ---- */

static void
draw_patch (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  cs_patch_figure_draw (cr, 0, 0, w, h, s, ((PatchHold *) data)->r, NULL);
}

static void
draw_fv_heads (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  cs_fv_figure_draw (cr, 0, 0, w, h, s, ((FvHold *) data)->r, CS_FV_FIGURE_HEADS, NULL);
}

static void
draw_fv_layers (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  cs_fv_figure_draw (cr, 0, 0, w, h, s, ((FvHold *) data)->r, CS_FV_FIGURE_LAYERS, NULL);
}

static void
show_state (CsPatchingPage *self)
{
  State *s = self->state;
  if (s && s->patch)
    cs_figure_view_set_draw_func (self->patch_view, draw_patch, g_rc_box_acquire (s->patch), patch_hold_release);
  else
    cs_figure_view_set_draw_func (self->patch_view, NULL, NULL, NULL);
  if (s && s->fv)
    {
      cs_figure_view_set_draw_func (self->fv_heads_view, draw_fv_heads, g_rc_box_acquire (s->fv), fv_hold_release);
      cs_figure_view_set_draw_func (self->fv_layers_view, draw_fv_layers, g_rc_box_acquire (s->fv), fv_hold_release);
    }
  else
    {
      cs_figure_view_set_draw_func (self->fv_heads_view, NULL, NULL, NULL);
      cs_figure_view_set_draw_func (self->fv_layers_view, NULL, NULL, NULL);
    }
  cs_ui_update_undo (self->undo_button, self->redo_button, self->history);
}

static void
set_status (CsPatchingPage *self, const char *text)
{
  gtk_label_set_text (self->status_label, text);
}

static void
set_busy (CsPatchingPage *self, gboolean busy)
{
  gtk_widget_set_visible (self->cancel_button, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), busy);
  gtk_widget_set_sensitive (self->patch_button, !busy);
  gtk_widget_set_sensitive (self->fv_button, !busy);
  if (busy)
    gtk_progress_bar_set_fraction (self->progress_bar, 0);
}

/* A new state shown; the one before goes to the history as label. */
static void
replace_state (CsPatchingPage *self, State *next, const char *label)
{
  if (self->state)
    cs_history_push (self->history, label, g_steal_pointer (&self->state));
  self->state = next;
  show_state (self);
}

/* ---- background work ---- */

typedef struct
{
  CsModel       *model;
  CsTokenizer   *tok;
  CsJob         *job;
  gboolean       fv;
  CsPatchParams  patch;
  char          *strings[4];
  CsFvParams     fvp;
  CsFvTask      *task;
  CsGeometrySpace *space;      /* the Geometry view's, for the vector's cosines with its concepts (or NULL) */
  CsGeometry    *geometry;
  char          *cosines;      /* "ℓ̄ fish +0.18, …" (made on the worker) */
} Work;

static void
work_free (gpointer p)
{
  Work *w = p;
  g_clear_object (&w->model);
  cs_tokenizer_free (w->tok);
  for (int i = 0; i < 4; i++)
    g_free (w->strings[i]);
  cs_fv_task_free (w->task);
  cs_geometry_space_free (w->space);
  cs_geometry_free (w->geometry);
  g_free (w->cosines);
  g_free (w);
}

static void
work_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Work *w = data;
  GError *error = NULL;
  if (w->fv)
    {
      CsFvResult *r = cs_fv_run (w->model, w->tok, w->task, &w->fvp, cs_job_progress, w->job, cancellable, &error);
      if (r && w->space && w->geometry && w->space->d == r->hidden)
        {
          /* the vector along the Geometry view's concept directions Cov^½ ℓ̄, the largest |cos| first */
          g_autofree double *u = cs_steer_concept_directions (w->space, w->geometry, NULL);
          CsCategorySet *cats = w->geometry->categories;
          g_autoptr(GString) text = g_string_new (NULL);
          g_autofree double *cs = g_new0 (double, MAX (1, cats->items->len));
          g_autofree gboolean *used = g_new0 (gboolean, MAX (1, cats->items->len));
          double vn = 0;
          for (int j = 0; j < r->hidden; j++)
            vn += (double) r->vector[j] * r->vector[j];
          for (guint c = 0; u && c < cats->items->len; c++)
            {
              double dot = 0, un = 0;
              for (int j = 0; j < r->hidden; j++)
                {
                  dot += r->vector[j] * u[(gsize) c * r->hidden + j];
                  un += u[(gsize) c * r->hidden + j] * u[(gsize) c * r->hidden + j];
                }
              cs[c] = vn > 0 && un > 0 && cs_category_set_get (cats, c)->reliable ? dot / sqrt (vn * un) : NAN;
            }
          for (int k = 0; u && k < 3; k++)
            {
              int best = -1;
              for (guint c = 0; c < cats->items->len; c++)
                if (!used[c] && isfinite (cs[c]) && (best < 0 || fabs (cs[c]) > fabs (cs[best])))
                  best = (int) c;
              if (best < 0)
                break;
              used[best] = TRUE;
              g_string_append_printf (text, "%sℓ̄ %s %+.2f", k ? ", " : "", cs_category_set_get (cats, best)->name,
                                      cs[best]);
            }
          if (text->len)
            w->cosines = g_string_free (g_steal_pointer (&text), FALSE);
        }
      if (r)
        g_task_return_pointer (task, r, (GDestroyNotify) cs_fv_result_free);
      else
        g_task_return_error (task, error);
    }
  else
    {
      CsPatchResult *r = cs_patch_run (w->model, w->tok, &w->patch, cs_job_progress, w->job, cancellable, &error);
      if (r)
        g_task_return_pointer (task, r, (GDestroyNotify) cs_patch_result_free);
      else
        g_task_return_error (task, error);
    }
}

static void
work_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CsPatchingPage *self = CS_PATCHING_PAGE (source);
  Work *w = g_task_get_task_data (G_TASK (result));
  gboolean fv = w->fv;
  g_autoptr(GError) error = NULL;
  gpointer r;

  if (!cs_job_finish (self->job, result))
    return;
  set_busy (self, FALSE);
  r = g_task_propagate_pointer (G_TASK (result), &error);
  g_clear_pointer (&self->error, g_free);
  if (!r)
    {
      self->error = g_strdup (error->message);
      set_status (self, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? _("Cancelled") : error->message);
      return;
    }
  if (fv)
    {
      CsFvResult *f = r;
      g_autofree char *text = g_strdup_printf (_("%s: zero-shot p(answer) %.4f, with the vector after layer %d %.4f; "
                                                 "in context %.4f (%.1f s)"),
                                               f->task, f->zs_prob, f->best_layer, f->layer_prob[f->best_layer],
                                               f->icl_prob, f->seconds);
      FvHold *h = fv_hold_new (f);
      State *next = state_new (self->state ? self->state->patch : NULL, h);
      fv_hold_release (h);
      replace_state (self, next, _("finding a task's heads"));
      gtk_stack_set_visible_child_name (self->stack, "fv-heads");
      if (w->cosines)
        {
          /* TRANSLATORS: the status line, then the vector's largest cosines with concept directions */
          g_autofree char *with = g_strdup_printf (_("%s; along %s"), text, w->cosines);
          set_status (self, with);
          gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), with);
        }
      else
        set_status (self, text);
    }
  else
    {
      CsPatchResult *p = r;
      g_autofree char *text = g_strdup_printf (_("%s patching of %s: clean %.3f, corrupted %.3f (%d runs, %.2f s)"),
                                               p->noising ? _("Noising") : _("Denoising"),
                                               cs_patch_target_name (p->target), p->clean_metric, p->corrupted_metric,
                                               p->n_runs, p->seconds);
      PatchHold *h = patch_hold_new (p);
      State *next = state_new (h, self->state ? self->state->fv : NULL);
      patch_hold_release (h);
      replace_state (self, next, _("patching"));
      gtk_stack_set_visible_child_name (self->stack, "patching");
      set_status (self, text);
    }
}

static void
show_progress (double fraction, gpointer data)
{
  CsPatchingPage *self = data;
  gtk_progress_bar_set_fraction (self->progress_bar, fraction);
}

static gboolean
start_work (CsPatchingPage *self, Work *w)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  CsTokenizer *tok = self->session ? cs_session_get_tokenizer (self->session) : NULL;
  if (!model || !tok)
    {
      set_status (self, _("Open a model with a tokenizer first"));
      work_free (w);
      return FALSE;
    }
  w->model = g_object_ref (model);
  w->tok = cs_tokenizer_ref (tok);
  if (w->fv && cs_session_get_space (self->session) && cs_session_get_geometry (self->session))
    {
      w->space = cs_geometry_space_ref (cs_session_get_space (self->session));
      w->geometry = cs_geometry_ref (cs_session_get_geometry (self->session));
    }
  w->job = self->job;
  set_busy (self, TRUE);
  set_status (self, w->fv ? _("Finding the heads…") : _("Patching…"));
  cs_job_start (self->job, self, w, work_free, work_thread, work_done);
  return TRUE;
}

void
cs_patching_page_patch (CsPatchingPage *self, const char *clean, const char *corrupted, const char *answer,
                        const char *wrong, const char *target)
{
  Work *w = g_new0 (Work, 1);
  CsPatchTarget t;
  g_return_if_fail (CS_IS_PATCHING_PAGE (self));
  if (clean)
    g_object_set (self->settings, "clean", clean, NULL);
  if (corrupted)
    g_object_set (self->settings, "corrupted", corrupted, NULL);
  if (answer)
    g_object_set (self->settings, "answer", answer, NULL);
  if (wrong)
    g_object_set (self->settings, "wrong", wrong, NULL);
  if (target && cs_patch_target_parse (target, &t))
    g_object_set (self->settings, "target", (int) t, NULL);
  /* the job's own copies: the panel may change while it runs */
  cs_patching_settings_to_patch (self->settings, &w->patch);
  w->strings[0] = g_strdup (w->patch.clean ? w->patch.clean : "");
  w->strings[1] = g_strdup (w->patch.corrupted ? w->patch.corrupted : "");
  w->strings[2] = g_strdup (w->patch.answer ? w->patch.answer : "");
  w->strings[3] = g_strdup (w->patch.wrong ? w->patch.wrong : "");
  w->patch.clean = w->strings[0];
  w->patch.corrupted = w->strings[1];
  w->patch.answer = w->strings[2];
  w->patch.wrong = *w->strings[3] ? w->strings[3] : NULL;
  if (w->patch.metric == CS_PATCH_LOGIT_DIFF && !w->patch.wrong)
    {
      set_status (self, _("The logit difference needs a wrong answer (or choose the probability)"));
      work_free (w);
      return;
    }
  start_work (self, w);
}

static void
cs_patching_page_start_patch (CsPatchingPage *self)
{
  cs_patching_page_patch (self, NULL, NULL, NULL, NULL, NULL);
}

void
cs_patching_page_find_heads (CsPatchingPage *self, const char *task, int shots, int prompts, int heads, int n_eval)
{
  Work *w = g_new0 (Work, 1);
  g_autoptr(GError) error = NULL;
  g_return_if_fail (CS_IS_PATCHING_PAGE (self));
  if (task)
    {
      gboolean shipped = FALSE;
      for (guint i = 0; cs_patching_settings_tasks[i]; i++)
        if (g_str_equal (cs_patching_settings_tasks[i], task))
          {
            g_object_set (self->settings, "task", (int) i, "task-file", NULL, NULL);
            shipped = TRUE;
          }
      if (!shipped)
        g_object_set (self->settings, "task-file", task, NULL);
    }
  if (shots > 0)
    g_object_set (self->settings, "shots", shots, NULL);
  if (prompts > 0)
    g_object_set (self->settings, "prompts", prompts, NULL);
  if (heads > 0)
    g_object_set (self->settings, "heads", heads, NULL);
  if (n_eval > 0)
    g_object_set (self->settings, "eval", n_eval, NULL);
  w->fv = TRUE;
  cs_patching_settings_to_fv (self->settings, &w->fvp);
  if (!(w->task = cs_fv_task_load (cs_patching_settings_get_task (self->settings), &error)))
    {
      set_status (self, error->message);
      work_free (w);
      return;
    }
  start_work (self, w);
}

static void
cs_patching_page_start_fv (CsPatchingPage *self)
{
  cs_patching_page_find_heads (self, NULL, 0, 0, 0, 0);
}

static void
task_chosen (GtkWidget *owner, const char *path)
{
  CsPatchingPage *self = CS_PATCHING_PAGE (owner);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *text = g_strdup_printf (_("Task from %s"), base);
  g_object_set (self->settings, "task-file", path, NULL);
  set_status (self, text);
}

static void
open_task_clicked (CsPatchingPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Open a Task"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL,
                     _("JSON tasks"), "*.json", task_chosen);
}

static void
on_task_selected (CsPatchingPage *self)
{
  g_object_set (self->settings, "task-file", NULL, NULL);   /* a shipped task again */
}

void
cs_patching_page_cancel (CsPatchingPage *self)
{
  g_return_if_fail (CS_IS_PATCHING_PAGE (self));
  cs_job_interrupt (self->job);
}

gboolean
cs_patching_page_get_busy (CsPatchingPage *self)
{
  g_return_val_if_fail (CS_IS_PATCHING_PAGE (self), FALSE);
  return cs_job_running (self->job);
}

const char *
cs_patching_page_get_error (CsPatchingPage *self)
{
  return self->error;
}

const char *
cs_patching_page_get_status (CsPatchingPage *self)
{
  return gtk_label_get_text (self->status_label);
}

const CsPatchResult *
cs_patching_page_get_patch (CsPatchingPage *self)
{
  return self->state && self->state->patch ? self->state->patch->r : NULL;
}

const CsFvResult *
cs_patching_page_get_fv (CsPatchingPage *self)
{
  return self->state && self->state->fv ? self->state->fv->r : NULL;
}

void
cs_patching_page_show_view (CsPatchingPage *self, const char *name)
{
  gtk_stack_set_visible_child_name (self->stack, name);
}

GtkWidget *
cs_patching_page_get_figure_area (CsPatchingPage *self)
{
  return gtk_stack_get_visible_child (self->stack);
}

/* ---- hover and clicks ---- */

static gboolean
cell_at (CsPatchingPage *self, GtkWidget *view, double x, double y, int *row, int *col)
{
  CsFigureStyle s = cs_figure_view_get_style (CS_FIGURE_VIEW (view));
  int w = gtk_widget_get_width (view), h = gtk_widget_get_height (view);
  if (view == GTK_WIDGET (self->patch_view))
    return cs_patching_page_get_patch (self) &&
           cs_patch_figure_cell_at (0, 0, w, h, &s, cs_patching_page_get_patch (self), x, y, row, col);
  if (view == GTK_WIDGET (self->fv_heads_view))
    return cs_patching_page_get_fv (self) &&
           cs_fv_figure_cell_at (0, 0, w, h, &s, cs_patching_page_get_fv (self), x, y, row, col);
  return FALSE;
}

char *
cs_patching_page_describe_at (CsPatchingPage *self, double x, double y)
{
  GtkWidget *view = gtk_stack_get_visible_child (self->stack);
  int row, col;
  if (!cell_at (self, view, x, y, &row, &col))
    return NULL;
  if (view == GTK_WIDGET (self->patch_view))
    {
      const CsPatchResult *r = cs_patching_page_get_patch (self);
      gsize at = (gsize) row * r->n_cols + col;
      if (isnan (r->values[at]))
        return g_strdup_printf (_("layer %d, %s: the other prompt has no token here"), row, r->col_labels[col]);
      return g_strdup_printf (_("layer %d, %s: %.3f restored (metric %.3f)"), row, r->col_labels[col], r->values[at],
                              r->raw[at]);
    }
  {
    const CsFvResult *r = cs_patching_page_get_fv (self);
    return g_strdup_printf (_("layer %d, head %d: average indirect effect %+.4f"), row, col,
                            r->aie[(gsize) row * r->n_heads + col]);
  }
}

static void
on_motion (GtkEventControllerMotion *m, double x, double y, CsPatchingPage *self)
{
  g_autofree char *tip = cs_patching_page_describe_at (self, x, y);
  gtk_widget_set_tooltip_text (gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (m)), tip);
}

char *
cs_patching_page_read_head (CsPatchingPage *self, int layer, int head)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  CsTokenizer *tok = self->session ? cs_session_get_tokenizer (self->session) : NULL;
  const CsModelConfig *cfg;
  const CsPatchResult *p = cs_patching_page_get_patch (self);
  const CsFvResult *f = cs_patching_page_get_fv (self);
  gboolean from_fv = gtk_stack_get_visible_child (self->stack) == GTK_WIDGET (self->fv_heads_view);
  g_autofree float *z = NULL, *out = NULL, *logits = NULL;
  g_autoptr(GString) s = NULL;
  int hd;

  if (!model || !tok)
    return NULL;
  cfg = cs_model_get_config (model);
  hd = cfg->head_dim;
  if (layer < 0 || layer >= cfg->n_layers || head < 0 || head >= cfg->n_heads)
    return NULL;
  z = g_new (float, hd);
  if (from_fv)
    {
      if (!f || !f->mean_z || f->mean_z_width != cfg->n_heads * hd)
        return NULL;
      memcpy (z, f->mean_z + (gsize) layer * f->mean_z_width + (gsize) head * hd, sizeof (float) * hd);
    }
  else
    {
      /* the head's z at the last token of the clean prompt */
      g_autoptr(GArray) ids = NULL;
      g_autofree char *hook = g_strdup_printf ("attn_z.%d", layer);
      const char *caps[] = { hook, NULL };
      CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
      g_autoptr(CsForwardResult) res = NULL;
      const gint32 *rows[1];
      int len;
      if (!p || p->target != CS_PATCH_HEADS || !(ids = cs_tokenizer_encode (tok, p->clean, TRUE, NULL)))
        return NULL;
      rows[0] = (const gint32 *) ids->data;
      len = (int) ids->len;
      opt.capture = caps;
      opt.logits = CS_LOGITS_NONE;
      opt.stop_layer = layer;
      opt.device = CS_DEVICE_CPU;
      if (!(res = cs_forward_run (model, rows, &len, 1, &opt, NULL, NULL)))
        return NULL;
      memcpy (z, (const float *) res->captures->pdata[0] + ((gsize) (len - 1) * cfg->n_heads + head) * hd,
              sizeof (float) * hd);
    }
  out = g_new (float, cfg->hidden);
  logits = g_new (float, cfg->vocab);
  if (!cs_forward_head_output (model, layer, head, z, out) || !cs_forward_unembed (model, out, 1, NULL, logits))
    return NULL;
  s = g_string_new (NULL);
  g_string_printf (s, _("Head %d.%d writes (its output through the final norm and the unembedding):"), layer, head);
  for (int k = 0; k < 8; k++)
    {
      int best = -1;
      for (int i = 0; i < cfg->vocab; i++)
        if (!isnan (logits[i]) && (best < 0 || logits[i] > logits[best]))
          best = i;
      if (best < 0)
        break;
      {
        g_autofree char *t = cs_tokenizer_id_to_text (tok, best);
        g_string_append_printf (s, " “%s”", t);
      }
      logits[best] = NAN;
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
on_pressed (GtkGestureClick *click, int n, double x, double y, CsPatchingPage *self)
{
  GtkWidget *view = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (click));
  const CsPatchResult *p = cs_patching_page_get_patch (self);
  int row, col;
  if (!cell_at (self, view, x, y, &row, &col))
    return;
  if (view == GTK_WIDGET (self->patch_view) && (!p || p->target != CS_PATCH_HEADS))
    return;
  {
    g_autofree char *text = cs_patching_page_read_head (self, row, col);
    if (text)
      gtk_label_set_text (self->head_label, text);
  }
}

/* ---- export, undo, workspace ---- */

gboolean
cs_patching_page_export (CsPatchingPage *self, const char *path, const char *preset, const char *theme, double scale,
                         double font_size, GError **error)
{
  CsFigureStyle s = { 0 };
  CsFigureView *view = CS_FIGURE_VIEW (gtk_stack_get_visible_child (self->stack));
  if (!cs_figure_view_has_figure (view))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to export yet"));
      return FALSE;
    }
  if (!cs_figure_style_from (preset, theme, font_size, &s, error))
    return FALSE;
  return cs_figure_view_export (view, path, &s, scale, error);
}

static gboolean
export_figure (gpointer owner, const char *path, const char *preset, const char *theme, double scale,
               double font_size, GError **error)
{
  return cs_patching_page_export (CS_PATCHING_PAGE (owner), path, preset, theme, scale, font_size, error);
}

static void
export_failed (gpointer owner, const char *message)
{
  set_status (CS_PATCHING_PAGE (owner), message);
}

static void
cs_patching_page_export_dialog (CsPatchingPage *self)
{
  if (!cs_figure_view_has_figure (CS_FIGURE_VIEW (gtk_stack_get_visible_child (self->stack))))
    return;
  cs_export_dialog_present (GTK_WIDGET (self), G_OBJECT (self), gtk_stack_get_visible_child_name (self->stack),
                            export_figure, export_failed);
}

gboolean
cs_patching_page_undo (CsPatchingPage *self)
{
  State *before;
  g_return_val_if_fail (CS_IS_PATCHING_PAGE (self), FALSE);
  if (cs_job_running (self->job) || !self->state)
    return FALSE;
  before = cs_history_undo (self->history, self->state);
  if (!before)
    return FALSE;
  self->state = before;
  show_state (self);
  return TRUE;
}

gboolean
cs_patching_page_redo (CsPatchingPage *self)
{
  State *after;
  g_return_val_if_fail (CS_IS_PATCHING_PAGE (self), FALSE);
  if (cs_job_running (self->job) || !self->state)
    return FALSE;
  after = cs_history_redo (self->history, self->state);
  if (!after)
    return FALSE;
  self->state = after;
  show_state (self);
  return TRUE;
}

gboolean
cs_patching_page_save_to (CsPatchingPage *self, const char *path, GError **error)
{
  const CsPatchResult *p = cs_patching_page_get_patch (self);
  const CsFvResult *f = cs_patching_page_get_fv (self);
  return (!p || cs_patch_result_save (p, path, error)) && (!f || cs_fv_result_save (f, path, error));
}

gboolean
cs_patching_page_load_from (CsPatchingPage *self, const char *path, GError **error)
{
  g_autoptr(GError) perr = NULL, ferr = NULL;
  CsPatchResult *p = cs_patch_result_load (path, &perr);
  CsFvResult *f = cs_fv_result_load (path, &ferr);
  PatchHold *ph;
  FvHold *fh;

  if (!p && !g_error_matches (perr, CS_ERROR, CS_ERROR_MISSING))
    {
      cs_fv_result_free (f);
      g_propagate_error (error, g_steal_pointer (&perr));
      return FALSE;
    }
  if (!f && !g_error_matches (ferr, CS_ERROR, CS_ERROR_MISSING))
    {
      cs_patch_result_free (p);
      g_propagate_error (error, g_steal_pointer (&ferr));
      return FALSE;
    }
  if (!p && !f)
    {
      g_propagate_error (error, g_steal_pointer (&perr));
      return FALSE;
    }
  ph = p ? patch_hold_new (p) : NULL;
  fh = f ? fv_hold_new (f) : NULL;
  replace_state (self, state_new (ph, fh), _("opening a workspace"));
  patch_hold_release (ph);
  fv_hold_release (fh);
  return TRUE;
}

/* ---- the page ---- */

static void
on_model_changed (CsPatchingPage *self)
{
  /* results of another model's weights: no longer what the model does */
  cs_job_cancel (self->job);
  set_busy (self, FALSE);
  cs_history_clear (self->history);
  g_clear_pointer (&self->state, state_free);
  show_state (self);
  set_status (self, _("Patch a prompt pair, or find a task's heads"));
}

void
cs_patching_page_set_session (CsPatchingPage *self, CsSession *session)
{
  g_return_if_fail (CS_IS_PATCHING_PAGE (self));
  if (self->session && self->model_handler)
    g_signal_handler_disconnect (self->session, self->model_handler);
  g_set_object (&self->session, session);
  self->model_handler = session ? g_signal_connect_swapped (session, "notify::model", G_CALLBACK (on_model_changed),
                                                            self)
                                : 0;
}

static void
cs_patching_page_dispose (GObject *object)
{
  CsPatchingPage *self = CS_PATCHING_PAGE (object);
  cs_job_cancel (self->job);
  if (self->session && self->model_handler)
    g_signal_handler_disconnect (self->session, self->model_handler);
  self->model_handler = 0;
  g_clear_object (&self->session);
  g_clear_pointer (&self->history, cs_history_free);
  g_clear_pointer (&self->state, state_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_PATCHING_PAGE);
  G_OBJECT_CLASS (cs_patching_page_parent_class)->dispose (object);
}

static void
cs_patching_page_finalize (GObject *object)
{
  CsPatchingPage *self = CS_PATCHING_PAGE (object);
  g_clear_pointer (&self->job, cs_job_free);
  g_clear_object (&self->settings);
  g_free (self->error);
  G_OBJECT_CLASS (cs_patching_page_parent_class)->finalize (object);
}

static void
cs_patching_page_class_init (CsPatchingPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = cs_patching_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = cs_patching_page_finalize;
  g_type_ensure (CS_TYPE_FIGURE_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/conceptscope/ConceptScope/ui/cs-patching-page.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, CsPatchingPage, name)
  CHILD (patch_grid);
  CHILD (fv_grid);
  CHILD (clean_entry);
  CHILD (corrupted_entry);
  CHILD (answer_entry);
  CHILD (wrong_entry);
  CHILD (target_drop);
  CHILD (metric_drop);
  CHILD (task_drop);
  CHILD (noising_check);
  CHILD (last_check);
  CHILD (shots_spin);
  CHILD (prompts_spin);
  CHILD (heads_spin);
  CHILD (eval_spin);
  CHILD (patch_button);
  CHILD (fv_button);
  CHILD (cancel_button);
  CHILD (progress_bar);
  CHILD (status_label);
  CHILD (head_label);
  CHILD (undo_box);
  CHILD (main_box);
  CHILD (stack);
  CHILD (patch_view);
  CHILD (fv_heads_view);
  CHILD (fv_layers_view);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, cs_patching_page_start_patch);
  gtk_widget_class_bind_template_callback (widget_class, cs_patching_page_start_fv);
  gtk_widget_class_bind_template_callback (widget_class, cs_patching_page_cancel);
  gtk_widget_class_bind_template_callback (widget_class, cs_patching_page_export_dialog);
  gtk_widget_class_bind_template_callback (widget_class, open_task_clicked);
}

static void
cs_patching_page_init (CsPatchingPage *self)
{
  const char *target_labels[] = { N_("Residual stream, entering the layer"), N_("Residual stream, leaving the layer"),
                                  N_("Attention output"), N_("MLP output"), N_("Each head"), NULL };
  const char *metric_labels[] = { N_("Logit difference"), N_("Probability of the answer"), NULL };
  const char *task_labels[] = { N_("Hypernyms (WordNet)"), N_("Antonyms (WordNet)"), N_("Plurals (WordNet)"), NULL };
  GtkWidget *tabs;

  gtk_widget_init_template (GTK_WIDGET (self));
  {
    g_autoptr(GtkStringList) t = gtk_string_list_new (NULL), m = gtk_string_list_new (NULL),
                             k = gtk_string_list_new (NULL);
    for (guint i = 0; target_labels[i]; i++)
      gtk_string_list_append (t, _(target_labels[i]));
    for (guint i = 0; metric_labels[i]; i++)
      gtk_string_list_append (m, _(metric_labels[i]));
    for (guint i = 0; task_labels[i]; i++)
      gtk_string_list_append (k, _(task_labels[i]));
    gtk_drop_down_set_model (self->target_drop, G_LIST_MODEL (t));
    gtk_drop_down_set_model (self->metric_drop, G_LIST_MODEL (m));
    gtk_drop_down_set_model (self->task_drop, G_LIST_MODEL (k));
  }
  /* the panel bound two-way to the settings */
  self->settings = cs_patching_settings_new ();
  {
    const struct { const char *prop; gpointer widget; const char *widget_prop; } binds[] = {
      { "clean", self->clean_entry, "text" }, { "corrupted", self->corrupted_entry, "text" },
      { "answer", self->answer_entry, "text" }, { "wrong", self->wrong_entry, "text" },
      { "target", self->target_drop, "selected" }, { "metric", self->metric_drop, "selected" },
      { "task", self->task_drop, "selected" }, { "noising", self->noising_check, "active" },
      { "heads-last", self->last_check, "active" }, { "shots", self->shots_spin, "value" },
      { "prompts", self->prompts_spin, "value" }, { "heads", self->heads_spin, "value" },
      { "eval", self->eval_spin, "value" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (binds); i++)
      g_object_bind_property (self->settings, binds[i].prop, binds[i].widget, binds[i].widget_prop,
                              G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  }
  g_signal_connect_swapped (self->task_drop, "notify::selected", G_CALLBACK (on_task_selected), self);
  cs_ui_grid_labels (self->patch_grid);
  cs_ui_grid_labels (self->fv_grid);
  self->job = cs_job_new (NULL);
  cs_job_set_display (self->job, show_progress, self);
  self->history = cs_history_new (state_free, 50);
  cs_ui_add_undo (self->undo_box, GTK_WIDGET (self), G_CALLBACK (cs_patching_page_undo),
                  G_CALLBACK (cs_patching_page_redo), &self->undo_button, &self->redo_button);
  for (int k = 0; k < 2; k++)
    {
      GtkWidget *view = GTK_WIDGET (k ? self->fv_heads_view : self->patch_view);
      GtkEventController *motion = gtk_event_controller_motion_new ();
      GtkGesture *click = gtk_gesture_click_new ();
      g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
      gtk_widget_add_controller (view, motion);
      g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
      gtk_widget_add_controller (view, GTK_EVENT_CONTROLLER (click));
    }
  tabs = cs_ui_tabs (self->stack);
  gtk_widget_set_margin_top (tabs, 6);
  gtk_box_insert_child_after (self->main_box, tabs, gtk_widget_get_first_child (GTK_WIDGET (self->main_box)));
  show_state (self);
}
