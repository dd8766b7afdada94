#pragma once

#include <adwaita.h>

#include "cs-session.h"
#include "cs-steer-figure.h"
#include "cs-steer.h"
#include "cs-sae-card.h"

G_BEGIN_DECLS

#define CS_TYPE_STEERING_PAGE (cs_steering_page_get_type ())
G_DECLARE_FINAL_TYPE (CsSteeringPage, cs_steering_page, CS, STEERING_PAGE, AdwBin)

/* The Steering view: a contrastive dataset (a shipped one, a file, or edited
 * in place), layers and multipliers, Run in the background with progress and
 * Cancel; the figures (behaviour lines and heatmap, effects downstream,
 * concept cosines, SVD, SAE decomposition) in tabs, exportable. Concept
 * vectors come from the Geometry view. */
void                 cs_steering_page_set_session (CsSteeringPage *self,
                                                   CsSession      *session);
/* Runs as the Run button does, with these settings (NULL keeps the side
 * panel's): dataset is a shipped name or a file. */
void                 cs_steering_page_run          (CsSteeringPage *self,
                                                    const char     *dataset,
                                                    const char     *layers,
                                                    const char     *multipliers,
                                                    const char     *targets);
void                 cs_steering_page_cancel       (CsSteeringPage *self);
/* The vector of the runs that follow: Cov^½ ℓ̄_plus, or Cov^½ (ℓ̄_plus −
 * ℓ̄_minus), categories of the Geometry view (minus NULL: none); plus NULL:
 * the pairs' mean difference again. FALSE when a name is no category. */
gboolean             cs_steering_page_set_concept  (CsSteeringPage *self,
                                                    const char     *plus,
                                                    const char     *minus);
/* Continues the side panel's prompt under each multiplier with the shown
 * run's vector at its effects layer (in the background), nothing else
 * recomputed. */
void                 cs_steering_page_continue     (CsSteeringPage *self);
/* The prompt to continue and how many tokens (as typed in the side panel). */
void                 cs_steering_page_set_prompt   (CsSteeringPage *self,
                                                    const char     *prompt,
                                                    int             tokens);
gboolean             cs_steering_page_get_busy     (CsSteeringPage *self);
const char          *cs_steering_page_get_error    (CsSteeringPage *self);
const CsSteerReport *cs_steering_page_get_report   (CsSteeringPage *self);
/* The SAE the runs use (loaded, trained, or the sample model's), or NULL. */
const CsSae         *cs_steering_page_get_sae      (CsSteeringPage *self);
void                 cs_steering_page_show_figure  (CsSteeringPage *self,
                                                    CsSteerFigureKind kind);
/* The drawing area of the visible figure (describe_at's coordinates). */
GtkWidget           *cs_steering_page_get_figure_area (CsSteeringPage *self);
/* What hovering over the visible figure at widget coordinates shows. */
char                *cs_steering_page_describe_at  (CsSteeringPage *self,
                                                    double          x,
                                                    double          y);
gboolean             cs_steering_page_export       (CsSteeringPage *self,
                                                    const char     *path,
                                                    const char     *preset,
                                                    const char     *theme,
                                                    double          scale,
                                                    double          font_size,
                                                    GError        **error);
/* Loads an SAELens folder for the runs that follow. */
gboolean             cs_steering_page_load_sae     (CsSteeringPage *self,
                                                    const char     *folder,
                                                    GError        **error);
/* Opens a folder of SAEs for several layers (a SAELens release, a Gemma
 * Scope tree; choices: "L=variant" or NULL for the defaults) for the runs
 * that follow; what does not fit the model is listed in the label's
 * tooltip. */
gboolean             cs_steering_page_load_saes    (CsSteeringPage *self,
                                                    const char     *folder,
                                                    const char * const *choices,
                                                    GError        **error);
/* The same in the background (progress; the page busy meanwhile), as Load
 * SAE… does: FALSE (and why) when it cannot start. */
gboolean             cs_steering_page_open_saes    (CsSteeringPage *self,
                                                    const char     *folder,
                                                    GError        **error);
/* Another of the folder's SAEs for a layer, loaded in the background, as
 * the variant drop-downs do. */
gboolean             cs_steering_page_select_sae_variant (CsSteeringPage *self,
                                                    int             layer,
                                                    const char     *variant,
                                                    GError        **error);
/* Another of the folder's SAEs for a layer, at once. */
gboolean             cs_steering_page_choose_sae_variant (CsSteeringPage *self,
                                                    int             layer,
                                                    const char     *variant,
                                                    GError        **error);
/* "L=variant" of the set in use, or NULL without one. */
GStrv                cs_steering_page_get_sae_choices (CsSteeringPage *self);
/* Collects activations at resid_post.layer over the lines of a text file,
 * trains an SAE in the background (progress, Cancel), saves it under the
 * user's data folder (conceptscope/saes/) and loads it for the runs. */
void                 cs_steering_page_train_sae    (CsSteeringPage *self,
                                                    const char     *text_path,
                                                    int             layer,
                                                    int             d_sae,
                                                    int             epochs);
gboolean             cs_steering_page_save_to      (CsSteeringPage *self,
                                                    const char     *path,
                                                    GError        **error);
gboolean             cs_steering_page_load_from    (CsSteeringPage *self,
                                                    const char     *path,
                                                    GError        **error);

/* Feature cards (the Card tab): opens the card of latent at the layer
 * whose SAE the page has, scanning the corpus in the background when it is
 * not cached; FALSE (and why) when it cannot start. A click on an SAE column
 * of the effects heatmap or a node of the flow does the same. */
gboolean             cs_steering_page_open_card    (CsSteeringPage *self,
                                                    int             layer,
                                                    int             latent,
                                                    GError        **error);
/* The corpus cards are scanned in (default: the one shipped with the
 * sample model's SAEs). */
void                 cs_steering_page_set_card_corpus (CsSteeringPage *self,
                                                    const char     *path);
const CsSaeCard     *cs_steering_page_get_card     (CsSteeringPage *self);
gboolean             cs_steering_page_get_card_busy (CsSteeringPage *self);
/* The latent drawn at widget coordinates of the effects heatmap (an SAE
 * column), the SAE decomposition (a bar) or the flow (a node); a click
 * there opens its card (TRUE when one was there). */
gboolean             cs_steering_page_latent_at    (CsSteeringPage *self,
                                                    CsSteerFigureKind kind,
                                                    double          x,
                                                    double          y,
                                                    int            *layer,
                                                    int            *latent);
gboolean             cs_steering_page_click_at     (CsSteeringPage *self,
                                                    CsSteerFigureKind kind,
                                                    double          x,
                                                    double          y);
/* The flow's node at widget coordinates of the Flow tab (−1: none), and
 * what hovering there shows. */
int                  cs_steering_page_flow_node_at (CsSteeringPage *self,
                                                    double          x,
                                                    double          y);
char                *cs_steering_page_describe_flow_at (CsSteeringPage *self,
                                                    double          x,
                                                    double          y);

/* Undo and redo (Ctrl+Z, Ctrl+Shift+Z) of a run, of Continue Again and of
 * an opened workspace: the report shown before comes back as it was. FALSE
 * when there is nothing to take back, or while computing. */
gboolean                 cs_steering_page_undo (CsSteeringPage *self);
gboolean                 cs_steering_page_redo (CsSteeringPage *self);

G_END_DECLS
