#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A sparse autoencoder: SAELens's folder format (cfg.json,
 * sae_weights.safetensors) with the standard (ReLU) or JumpReLU
 * architecture, or Gemma Scope's params.npz.
 * pre = (x − b_dec·[apply_b_dec_to_input]) · W_enc + b_enc;
 * ReLU: f = relu(pre); JumpReLU: f = pre where pre > threshold, else 0;
 * x̂ = f · W_dec + b_dec. */
typedef struct
{
  int     d_in, d_sae;
  char   *hook_name;        /* e.g. blocks.1.hook_resid_post */
  int     hook_layer;       /* -1 when cfg.json does not say */
  gboolean apply_b_dec_to_input;
  float  *W_enc;            /* [d_in, d_sae] */
  float  *W_dec;            /* [d_sae, d_in] */
  float  *b_enc;            /* [d_sae] */
  float  *b_dec;            /* [d_in] */
  float  *threshold;        /* [d_sae] for JumpReLU, NULL for ReLU */
} CsSae;

/* A folder with cfg.json and sae_weights.safetensors (SAELens), or a
 * Gemma Scope params.npz (the file, or a folder holding it; its layer is
 * read from a "layer_N" part of the path when there is one). */
CsSae   *cs_sae_load    (const char   *folder,
                         GError      **error);
void     cs_sae_free    (CsSae        *sae);
/* x [n, d_in] → features [n, d_sae] */
void     cs_sae_encode  (CsSae        *sae,
                         const float  *x,
                         int           n,
                         float        *features);
/* features [n, d_sae] → reconstruction [n, d_in] */
void     cs_sae_decode  (CsSae        *sae,
                         const float  *features,
                         int           n,
                         float        *x);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSae, cs_sae_free)

G_END_DECLS
