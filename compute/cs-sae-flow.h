#pragma once

#include <gio/gio.h>

#include "cs-backend.h"
#include "cs-model.h"
#include "cs-sae.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* The feature flow of a steering vector: how the latents it moves at one
 * layer drive the latents it moves at the next ones, by exact ablation.
 *
 * Nodes: at the steering layer and every later layer with an SAE, the
 * top_k latents whose mean activation at the last token changes most
 * (steered − unsteered) over the prompts; their Δ. Edges: from latent i at
 * layer l to latent j at l' ∈ (l, l + span]: on the steered prompts, i's
 * decoder contribution f_i(t) · W_dec[i] is removed from resid_post.l at
 * every position t, and the weight is the mean over prompts of j's
 * activation at the last token in the steered run minus in the ablated
 * one — how much of j's activation i accounts for (one batched forward
 * pass per source latent, resumed at layer l). SAEs that normalise their
 * input take the contribution in their normalised units. */

typedef struct
{
  int      steer_layer;
  double   multiplier;
  int      n_nodes;
  int     *node_layer, *node_latent;
  double  *node_delta;        /* Δ mean activation at the last token */
  char   **node_labels;       /* "L2/431 ' dog' ' cat'" */
  int      n_edges;
  int     *edge_from, *edge_to;   /* node indices */
  double  *edge_weight;
} CsSaeFlow;

CsSaeFlow *cs_sae_flow      (CsModel           *model,
                             CsTokenizer       *tokenizer,
                             const float       *vector,
                             int                steer_layer,
                             double             multiplier,
                             const gint32 * const *prompts,
                             const int         *lengths,
                             int                n_prompts,
                             CsSae * const     *by_layer,
                             int                top_k,
                             int                span,
                             GCancellable      *cancellable,
                             GError           **error);
void       cs_sae_flow_free (CsSaeFlow        *flow);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSaeFlow, cs_sae_flow_free)

G_END_DECLS
