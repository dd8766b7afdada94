#define G_LOG_DOMAIN "conceptscope"

/* The Steering page's Card tab: a latent's feature card (the contexts of a
 * corpus where it fires most, how often, what it writes, its cosine with
 * the Geometry view's concept directions), opened by a click on an SAE
 * column of the effects heatmap or a node of the feature flow, or typed as
 * "L2/431". The corpus is scanned in the background (progress, Cancel) and
 * cached per SAE and corpus, so the next card of the same layer is
 * instant; the scans of this session also give the flow's hover its
 * summaries. */

#include <glib/gi18n.h>
#include <string.h>

#include "cs-paths.h"
#include "cs-sae-card-figure.h"
#include "cs-sae-flow-figure.h"
#include "cs-steer-figure.h"
#include "cs-steering-page-private.h"
#include "cs-ui.h"

/* The folder of the page's SAE at resid_post.layer, or NULL. */
static const char *
sae_path_at (CsSteeringPage *self, int layer)
{
  if (self->saes)
    for (guint i = 0; i < self->saes->chosen->len; i++)
      {
        CsSaeSetMember *m = g_ptr_array_index (self->saes->chosen, i);
        if (m->layer == layer)
          return m->path;
      }
  if (self->sae && self->sae_path && cs_sae_resid_layer (self->sae) == layer)
    return self->sae_path;
  return NULL;
}

static void
draw_card (cairo_t *cr, double width, double height, const CsFigureStyle *s, gpointer data)
{
  CsSteeringPage *self = data;
  CsSaeCardFigure fig;
  if (!self->card)
    {
        {
          PangoLayout *l = pango_cairo_create_layout (cr);
          PangoFontDescription *fd = pango_font_description_from_string ("Sans 11");
          int w, h;
          pango_layout_set_font_description (l, fd);
          pango_layout_set_width (l, (int) (width * 0.8 * PANGO_SCALE));
          pango_layout_set_alignment (l, PANGO_ALIGN_CENTER);
          pango_layout_set_text (l, _("Click an SAE latent in the Effects, SAE or Flow tab, or type one above as "
                                      "L2/431, to see where it fires in the corpus"), -1);
          pango_layout_get_pixel_size (l, &w, &h);
          cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
          cairo_move_to (cr, width * 0.1, (height - h) / 2.0);
          pango_cairo_show_layout (cr, l);
          pango_font_description_free (fd);
          g_object_unref (l);
        }
      return;
    }
  cs_sae_card_figure_init (&fig, self->card, self->card_title);
  cs_sae_card_figure_draw (cr, 0, 0, width, height, s, &fig);
}

static void
set_card_busy (CsSteeringPage *self, gboolean busy)
{
  gtk_widget_set_visible (GTK_WIDGET (self->card_progress), busy);
  gtk_widget_set_visible (self->card_cancel, busy);
}

static void
show_corpus (CsSteeringPage *self)
{
  g_autofree char *base = self->card_corpus ? g_path_get_basename (self->card_corpus) : NULL;
  gtk_label_set_text (self->card_corpus_label, base ? base : _("No corpus"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->card_corpus_label), self->card_corpus);
}

typedef struct
{
  CsModel         *model;
  CsTokenizer     *tok;
  CsGeometrySpace *space;
  CsGeometry      *geometry;
  char            *sae_path, *corpus;
  int              layer, latent;
  CsJob           *job;
  CsSaeScan       *scan;     /* results, taken by done */
  CsSaeCard       *card;
} CardJob;

static void
card_job_free (gpointer p)
{
  CardJob *j = p;
  g_clear_object (&j->model);
  g_clear_pointer (&j->tok, cs_tokenizer_free);
  g_clear_pointer (&j->space, cs_geometry_space_free);
  g_clear_pointer (&j->geometry, cs_geometry_free);
  g_free (j->sae_path);
  g_free (j->corpus);
  cs_sae_scan_free (j->scan);
  cs_sae_card_free (j->card);
  g_free (j);
}

static void
card_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  CardJob *j = data;
  GError *error = NULL;
  g_autoptr(CsSae) sae = cs_sae_load (j->sae_path, &error);

  if (sae && j->latent >= sae->d_sae)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("The SAE at layer %d has latents 0 to %d"),
                 j->layer, sae->d_sae - 1);
  if (!error)
    j->scan = cs_sae_scan_run (j->model, j->tok, sae, j->sae_path, j->layer, j->corpus, 0, TRUE, cs_job_progress,
                               j->job, cancellable, &error);
  if (error)
    {
      g_task_return_error (task, error);
      return;
    }
  j->card = cs_sae_card_new (j->model, j->tok, sae, j->scan, j->latent, 10);
  if (j->space && j->geometry && j->space->d == sae->d_in)
    cs_sae_card_add_concepts (j->card, sae, j->space, j->geometry, NULL);   /* without them the card is still whole */
  g_task_return_boolean (task, TRUE);
}

static void
card_done (GObject *source, GAsyncResult *result, gpointer data)
{
  CsSteeringPage *self = CS_STEERING_PAGE (source);
  CardJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!cs_job_finish (self->card_job, result))
    return;
  set_card_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      gtk_label_set_text (self->card_status,
                          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? _("Cancelled") : error->message);
      return;
    }
  g_hash_table_replace (self->card_scans, GINT_TO_POINTER (j->layer), g_steal_pointer (&j->scan));
  cs_sae_card_free (self->card);
  self->card = g_steal_pointer (&j->card);
  g_free (self->card_title);
  self->card_title = g_strdup_printf ("L%d/%d", self->card->layer, self->card->latent);
  {
    g_autofree char *summary = cs_sae_card_summary (self->card);
    g_autofree char *text = g_strdup_printf ("%s: %s%s", self->card_title, summary,
                                             self->card->from_cache ? _(" (scan read from the cache)") : "");
    gtk_label_set_text (self->card_status, text);
  }
  gtk_editable_set_text (GTK_EDITABLE (self->card_entry), self->card_title);
  cs_figure_view_invalidate (self->card_view);
  for (int k = 0; k < CS_STEER_FIGURE_N; k++)
    cs_figure_view_invalidate (self->views[k]);
}

static void
card_progress_shown (double fraction, gpointer data)
{
  CsSteeringPage *self = data;
  gtk_progress_bar_set_fraction (self->card_progress, fraction);
}

gboolean
cs_steering_page_open_card (CsSteeringPage *self, int layer, int latent, GError **error)
{
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;
  CsTokenizer *tok = self->session ? cs_session_get_tokenizer (self->session) : NULL;
  const char *path = sae_path_at (self, layer);
  CardJob *j;

  g_return_val_if_fail (CS_IS_STEERING_PAGE (self), FALSE);
  if (!model || !tok)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s", _("Open a model with a tokenizer first"));
      return FALSE;
    }
  if (!path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No SAE of the page reads layer %d"), layer);
      return FALSE;
    }
  if (latent < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s", _("A latent is a number from 0"));
      return FALSE;
    }
  if (!self->card_corpus || !g_file_test (self->card_corpus, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                   _("Choose a text file to scan with Corpus… (one line, one text)"));
      return FALSE;
    }
  j = g_new0 (CardJob, 1);
  j->model = g_object_ref (model);
  j->tok = cs_tokenizer_ref (tok);
  if (cs_session_get_space (self->session) && cs_session_get_geometry (self->session))
    {
      j->space = cs_geometry_space_ref (cs_session_get_space (self->session));
      j->geometry = cs_geometry_ref (cs_session_get_geometry (self->session));
    }
  j->sae_path = g_strdup (path);
  j->corpus = g_strdup (self->card_corpus);
  j->layer = layer;
  j->latent = latent;
  j->job = self->card_job;
  gtk_stack_set_visible_child_name (self->stack, "card");
  {
    g_autofree char *text = g_strdup_printf (_("L%d/%d: scanning the corpus at layer %d (once per layer and corpus)…"),
                                             layer, latent, layer);
    gtk_label_set_text (self->card_status, text);
  }
  gtk_progress_bar_set_fraction (self->card_progress, 0);
  set_card_busy (self, TRUE);
  cs_job_start (self->card_job, self, j, card_job_free, card_thread, card_done);
  return TRUE;
}

static void
open_card_reporting (CsSteeringPage *self, int layer, int latent)
{
  g_autoptr(GError) error = NULL;
  if (!cs_steering_page_open_card (self, layer, latent, &error))
    {
      gtk_stack_set_visible_child_name (self->stack, "card");
      gtk_label_set_text (self->card_status, error->message);
    }
}

static void
on_card_entry (CsSteeringPage *self)
{
  int layer, latent;
  if (!cs_sae_latent_parse (gtk_editable_get_text (GTK_EDITABLE (self->card_entry)), &layer, &latent))
    {
      gtk_label_set_text (self->card_status, _("Write a latent as L2/431: its layer, a slash, its index"));
      return;
    }
  open_card_reporting (self, layer, latent);
}

static void
on_card_cancel (CsSteeringPage *self)
{
  cs_job_cancel (self->card_job);
  set_card_busy (self, FALSE);
  gtk_label_set_text (self->card_status, _("Cancelled"));
}

void
cs_steering_page_set_card_corpus (CsSteeringPage *self, const char *path)
{
  g_return_if_fail (CS_IS_STEERING_PAGE (self));
  g_free (self->card_corpus);
  self->card_corpus = g_strdup (path);
  g_hash_table_remove_all (self->card_scans);   /* another corpus: the summaries were of the old one */
  show_corpus (self);
}

static void
corpus_chosen (GtkWidget *owner, const char *path)
{
  cs_steering_page_set_card_corpus (CS_STEERING_PAGE (owner), path);
}

static void
on_corpus_clicked (CsSteeringPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Choose a Corpus for Feature Cards"), GTK_FILE_CHOOSER_ACTION_OPEN,
                     _("_Open"), NULL, NULL, NULL, corpus_chosen);
}

const CsSaeCard *
cs_steering_page_get_card (CsSteeringPage *self)
{
  g_return_val_if_fail (CS_IS_STEERING_PAGE (self), NULL);
  return self->card;
}

gboolean
cs_steering_page_get_card_busy (CsSteeringPage *self)
{
  return cs_job_running (self->card_job);
}

/* ---- clicks and hover on the effects heatmap and the flow ---- */

static gboolean
effects_latent_at (CsSteeringPage *self, double x, double y, int *layer, int *latent)
{
  CsFigureView *view = self->views[CS_STEER_FIGURE_EFFECTS];
  CsFigureStyle s = cs_figure_view_get_style (view);
  const CsSteerEffects *e = self->report ? self->report->effects : NULL;
  int col;
  if (!e || !cs_steer_figure_effects_column_at (0, 0, gtk_widget_get_width (GTK_WIDGET (view)),
                                                gtk_widget_get_height (GTK_WIDGET (view)), &s, self->report, x, y,
                                                &col))
    return FALSE;
  if (e->col_kind[col] != 1 || e->col_layer[col] < 0)
    return FALSE;
  *layer = e->col_layer[col];
  *latent = e->col_index[col];
  return TRUE;
}

int
cs_steering_page_flow_node_at (CsSteeringPage *self, double x, double y)
{
  CsFigureView *view = self->views[CS_STEER_FIGURE_FLOW];
  CsFigureStyle s = cs_figure_view_get_style (view);
  if (!self->report || !self->report->flow)
    return -1;
  return cs_sae_flow_figure_node_at (0, 0, gtk_widget_get_width (GTK_WIDGET (view)),
                                     gtk_widget_get_height (GTK_WIDGET (view)), &s, self->report->flow, x, y);
}

gboolean
cs_steering_page_latent_at (CsSteeringPage *self, CsSteerFigureKind kind, double x, double y, int *layer,
                            int *latent)
{
  g_return_val_if_fail (CS_IS_STEERING_PAGE (self), FALSE);
  if (kind == CS_STEER_FIGURE_EFFECTS)
    return effects_latent_at (self, x, y, layer, latent);
  if (kind == CS_STEER_FIGURE_SAE)
    {
      CsFigureView *view = self->views[CS_STEER_FIGURE_SAE];
      CsFigureStyle st = cs_figure_view_get_style (view);
      if (!self->report ||
          !cs_steer_figure_sae_latent_at (0, 0, gtk_widget_get_width (GTK_WIDGET (view)),
                                          gtk_widget_get_height (GTK_WIDGET (view)), &st, self->report, x, y, layer,
                                          latent))
        return FALSE;
      /* a single SAE's report names its hook's layer; its card reads what that hook reads */
      if (!self->saes && self->sae && cs_sae_resid_layer (self->sae) >= 0)
        *layer = cs_sae_resid_layer (self->sae);
      return TRUE;
    }
  if (kind == CS_STEER_FIGURE_FLOW)
    {
      int i = cs_steering_page_flow_node_at (self, x, y);
      if (i < 0)
        return FALSE;
      *layer = self->report->flow->node_layer[i];
      *latent = self->report->flow->node_latent[i];
      return TRUE;
    }
  return FALSE;
}

gboolean
cs_steering_page_click_at (CsSteeringPage *self, CsSteerFigureKind kind, double x, double y)
{
  int layer, latent;
  if (!cs_steering_page_latent_at (self, kind, x, y, &layer, &latent))
    return FALSE;
  open_card_reporting (self, layer, latent);
  return TRUE;
}

static void
on_effects_pressed (GtkGestureClick *g, int n, double x, double y, CsSteeringPage *self)
{
  cs_steering_page_click_at (self, CS_STEER_FIGURE_EFFECTS, x, y);
}

static void
on_flow_pressed (GtkGestureClick *g, int n, double x, double y, CsSteeringPage *self)
{
  cs_steering_page_click_at (self, CS_STEER_FIGURE_FLOW, x, y);
}

static void
on_sae_pressed (GtkGestureClick *g, int n, double x, double y, CsSteeringPage *self)
{
  cs_steering_page_click_at (self, CS_STEER_FIGURE_SAE, x, y);
}

char *
cs_steering_page_describe_flow_at (CsSteeringPage *self, double x, double y)
{
  const CsSaeFlow *f = self->report ? self->report->flow : NULL;
  int i = cs_steering_page_flow_node_at (self, x, y);
  CsSaeScan *scan;
  g_autofree char *summary = NULL;
  if (i < 0)
    return NULL;
  scan = g_hash_table_lookup (self->card_scans, GINT_TO_POINTER (f->node_layer[i]));
  if (scan && f->node_latent[i] < scan->d_sae && self->session && cs_session_get_tokenizer (self->session))
    {
      g_autoptr(CsSaeCard) c = cs_sae_card_new (cs_session_get_model (self->session),
                                                cs_session_get_tokenizer (self->session), NULL, scan,
                                                f->node_latent[i], 0);
      summary = cs_sae_card_summary (c);
    }
  return g_strdup_printf (_("%s: Δ mean activation %+.4g; %s"), f->node_labels[i], f->node_delta[i],
                          summary ? summary : _("click for its card (the corpus is scanned once per layer)"));
}

static void
on_flow_motion (GtkEventControllerMotion *m, double x, double y, CsSteeringPage *self)
{
  g_autofree char *text = cs_steering_page_describe_flow_at (self, x, y);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->views[CS_STEER_FIGURE_FLOW]), text);
}

/* ---- construction ---- */

void
cs_steering_page_card_init (CsSteeringPage *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *corpus_button = gtk_button_new_with_mnemonic (_("_Corpus…"));
  GtkWidget *view = cs_figure_view_new ();
  g_autofree char *shipped = g_build_filename (cs_paths_get_datadir (), "sae-set", "corpus.txt.gz", NULL);

  self->card_scans = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) cs_sae_scan_free);
  self->card_job = cs_job_new (NULL);
  self->card_entry = GTK_ENTRY (gtk_entry_new ());
  gtk_entry_set_placeholder_text (self->card_entry, "L2/431");
  gtk_editable_set_width_chars (GTK_EDITABLE (self->card_entry), 9);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->card_entry), _("A latent: its layer, a slash, its index; Enter opens its card"));
  g_signal_connect_swapped (self->card_entry, "activate", G_CALLBACK (on_card_entry), self);
  gtk_widget_set_tooltip_text (corpus_button, _("The text file whose lines are scanned for the contexts where a latent fires"));
  g_signal_connect_swapped (corpus_button, "clicked", G_CALLBACK (on_corpus_clicked), self);
  self->card_corpus_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_ellipsize (self->card_corpus_label, PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (self->card_corpus_label, 18);
  gtk_widget_add_css_class (GTK_WIDGET (self->card_corpus_label), "dim-label");
  self->card_progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->card_progress), GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (GTK_WIDGET (self->card_progress), 80, -1);
  self->card_cancel = gtk_button_new_with_mnemonic (_("C_ancel"));
  g_signal_connect_swapped (self->card_cancel, "clicked", G_CALLBACK (on_card_cancel), self);
  self->card_status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_ellipsize (self->card_status, PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (self->card_status, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (self->card_status), TRUE);
  cs_ui_full_text_tooltip (self->card_status);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->card_entry));
  gtk_box_append (GTK_BOX (row), corpus_button);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->card_corpus_label));
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->card_progress));
  gtk_box_append (GTK_BOX (row), self->card_cancel);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->card_status));
  gtk_widget_set_margin_start (row, 6);
  gtk_widget_set_margin_end (row, 6);
  gtk_box_append (GTK_BOX (box), row);
  gtk_widget_set_hexpand (view, TRUE);
  gtk_widget_set_vexpand (view, TRUE);
  cs_figure_view_set_draw_func (CS_FIGURE_VIEW (view), draw_card, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Feature Card"), -1);
  gtk_box_append (GTK_BOX (box), view);
  self->card_view = CS_FIGURE_VIEW (view);
  self->card_box = box;
  gtk_stack_add_titled (self->stack, box, "card", C_("steering tab", "Card"));
  set_card_busy (self, FALSE);
  cs_job_set_display (self->card_job, card_progress_shown, self);
  if (g_file_test (shipped, G_FILE_TEST_IS_REGULAR))
    self->card_corpus = g_steal_pointer (&shipped);
  show_corpus (self);

  {
    GtkGesture *click = gtk_gesture_click_new ();
    g_signal_connect (click, "pressed", G_CALLBACK (on_effects_pressed), self);
    gtk_widget_add_controller (GTK_WIDGET (self->views[CS_STEER_FIGURE_EFFECTS]), GTK_EVENT_CONTROLLER (click));
    click = gtk_gesture_click_new ();
    g_signal_connect (click, "pressed", G_CALLBACK (on_flow_pressed), self);
    gtk_widget_add_controller (GTK_WIDGET (self->views[CS_STEER_FIGURE_FLOW]), GTK_EVENT_CONTROLLER (click));
    click = gtk_gesture_click_new ();
    g_signal_connect (click, "pressed", G_CALLBACK (on_sae_pressed), self);
    gtk_widget_add_controller (GTK_WIDGET (self->views[CS_STEER_FIGURE_SAE]), GTK_EVENT_CONTROLLER (click));
  }
  {
    GtkEventController *motion = gtk_event_controller_motion_new ();
    g_signal_connect (motion, "motion", G_CALLBACK (on_flow_motion), self);
    gtk_widget_add_controller (GTK_WIDGET (self->views[CS_STEER_FIGURE_FLOW]), motion);
  }
}

/* The page's SAEs changed: the scans of this session belong to the old ones. */
void
cs_steering_page_card_saes_changed (CsSteeringPage *self)
{
  cs_job_cancel (self->card_job);
  set_card_busy (self, FALSE);
  g_hash_table_remove_all (self->card_scans);
}

void
cs_steering_page_card_dispose (CsSteeringPage *self)
{
  cs_job_cancel (self->card_job);
  g_clear_pointer (&self->card_scans, g_hash_table_unref);
  g_clear_pointer (&self->card, cs_sae_card_free);
  g_clear_pointer (&self->card_title, g_free);
  g_clear_pointer (&self->card_corpus, g_free);
}

void
cs_steering_page_card_finalize (CsSteeringPage *self)
{
  g_clear_pointer (&self->card_job, cs_job_free);
}
