#pragma once

/* What the steering engine's files share and nothing else sees. The
 * engine's files: cs-steer-dataset.c (contrastive datasets), cs-steer-sweep.c
 * (vectors, prompts, the layer × multiplier sweep), cs-steer-readouts.c
 * (effects at every layer, the SVD, concepts and SAE decompositions),
 * cs-steer-generate.c (steered continuations), cs-steer-report.c (the
 * report and its files), cs-steer.c (the run that orchestrates them). */

#include "cs-steer.h"
#include "cs-forward.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* Prompts per forward call: runs that capture every layer keep their
 * activations, so they go by 32; sweeps keep one layer's stream and
 * last-position logits and go by 128, which also converts 16-bit weights a
 * quarter as often. */
#define BATCH 32
#define SWEEP_BATCH 128

GArray  *steer_encode           (CsModel *model, CsTokenizer *tok, const char *text, GError **error);
char   **steer_all_layer_hooks  (int n_layers);
/* The prompts' last-position logits, steered at layer by mult × vec. */
float   *steer_run_prompts      (CsModel *model, CsSteerPrompts *p, int layer, double mult, const float *vec,
                                 const char * const *capture, CsForwardResult **captured, CsDevice device,
                                 GCancellable *cancellable, GError **error);
void     steer_sae_labels       (CsModel *model, CsTokenizer *tok, CsSae *sae, const int *latents, int n, char **out);
void     steer_sae_labels_at    (CsModel *model, CsTokenizer *tok, CsSae *sae, int layer, const int *latents, int n,
                                 char **out);
void     steer_softmax_row      (const float *logits, int V, double *p);
double   steer_sweep_change     (const CsSteerSweep *s, int a);

G_END_DECLS
