#pragma once

/* What the Steering page's two files share (cs-steering-page.c: the
 * panel, the figures, running and continuing; cs-steering-page-actions.c:
 * undo of the reports, export, the workspace, the SAE). */

#include "cs-figure-view.h"
#include "cs-history.h"
#include "cs-job.h"
#include "cs-sae-card.h"
#include "cs-steering-page.h"
#include "cs-steering-settings.h"

struct _CsSteeringPage
{
  AdwBin              parent_instance;

  CsSession          *session;
  CsSteeringSettings *settings;          /* the side panel's values */

  /* the template's widgets */
  GtkDropDown        *dataset_drop, *position_drop, *columns_drop, *rows_drop, *concept_drop, *concept_minus_drop;
  GtkStringList      *concept_model, *concept_minus_model;
  GPtrArray          *concept_values, *concept_minus_values;   /* category names; "" first */
  GtkTextView        *dataset_view;
  GtkLabel           *dataset_label, *sae_label, *status_label;
  GtkEntry           *layers_entry, *mult_entry, *targets_entry, *gen_entry;
  GtkSpinButton      *held_spin, *effects_layer_spin, *gen_tokens_spin, *from_spin;
  GtkCheckButton     *normalise_check;
  GtkGrid            *sweep_grid, *gen_grid, *variants_grid;
  GtkWidget          *sae_button, *train_button, *run_button, *cancel_button, *continue_button, *undo_box, *main_box;
  GtkProgressBar     *progress_bar;
  GtkStack           *stack;
  GtkWidget          *undo_button, *redo_button;
  CsFigureView       *views[CS_STEER_FIGURE_N];

  char               *dataset_path;       /* where the editor's text came from */
  gboolean            loading_text;

  CsHistory          *history;
  CsSae              *sae;
  CsSaeSet           *saes;     /* the sample model's set (an SAE per layer), when no single SAE is loaded */
  char               *sae_path;
  CsSteerReport      *report;
  char               *error;
  CsJob              *job;          /* the running work: a sweep, continuations or SAE training */

  /* the Card tab (cs-steering-page-card.c) */
  GtkWidget          *card_box, *card_cancel;
  CsFigureView       *card_view;
  GtkEntry           *card_entry;
  GtkLabel           *card_corpus_label, *card_status;
  GtkProgressBar     *card_progress;
  CsJob              *card_job;      /* a corpus scan, beside whatever job runs */
  char               *card_corpus;
  CsSaeCard          *card;          /* shown */
  char               *card_title;
  GHashTable         *card_scans;    /* layer → CsSaeScan of this session's SAEs and corpus */
};

/* cs-steering-page.c */
void     cs_steering_page_set_busy      (CsSteeringPage *self,
                                         gboolean        busy);
void     cs_steering_page_set_status    (CsSteeringPage *self,
                                         const char     *text);
/* The report shown changed (or its order): figures drawn again, the
 * status line says what the run found. */
void     cs_steering_page_report_changed (CsSteeringPage *self);
CsSteerFigureKind cs_steering_page_visible_kind (CsSteeringPage *self);
/* The model's tokenizer, for the work threads; an error that says so when
 * the folder has none. */
CsTokenizer *cs_steering_page_model_tokenizer (CsModel  *model,
                                              GError  **error);

void     cs_steering_page_start_run     (CsSteeringPage *self);

/* cs-steering-page-card.c */
void     cs_steering_page_card_init     (CsSteeringPage *self);
void     cs_steering_page_card_saes_changed (CsSteeringPage *self);
void     cs_steering_page_card_dispose  (CsSteeringPage *self);
void     cs_steering_page_card_finalize (CsSteeringPage *self);

/* cs-steering-page-actions.c */
void     cs_steering_page_history_init  (CsSteeringPage *self);
/* The report shown before a new one replaces it (taken over). */
void     cs_steering_page_remember_report (CsSteeringPage *self,
                                           const char     *label,
                                           CsSteerReport  *old);
/* Continuations replace the shown report's: the old ones into the history. */
void     cs_steering_page_remember_generations (CsSteeringPage *self);
void     cs_steering_page_export_dialog (CsSteeringPage *self);
void     cs_steering_page_sae_dialog    (CsSteeringPage *self);
void     cs_steering_page_train_dialog  (CsSteeringPage *self);
/* The sample model's own SAE, when the model is the sample model and none
 * is loaded. */
void     cs_steering_page_default_sae   (CsSteeringPage *self,
                                         CsModel        *model);
/* The variant drop-downs for the set's layers with several SAEs. */
void     cs_steering_page_show_variants (CsSteeringPage *self);
