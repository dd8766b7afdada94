#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A sparse autoencoder: SAELens's folder format (cfg.json,
 * sae_weights.safetensors) with the standard (ReLU) or JumpReLU
 * architecture, or Gemma Scope's params.npz.
 * pre = (x − b_dec·[apply_b_dec_to_input]) · W_enc + b_enc;
 * ReLU: f = relu(pre); JumpReLU: f = pre where pre > threshold, else 0;
 * x̂ = f · W_dec + b_dec.
 *
 * SAELens's run-time input normalisations are applied as SAELens applies
 * them: constant_norm_rescale scales each row x to norm √d_in before
 * encoding, layer_norm centres it and divides by its standard deviation
 * (N − 1 in the denominator, as torch.std) plus 1e-5; decoding undoes either
 * with the same row's factors. expected_average_only_in carries a dataset
 * scaling factor that SAELens folds into the weights when it saves a trained
 * SAE (the folder then says none) and leaves out when it cannot find it; a
 * folder that still says it is read as SAELens reads it, unscaled, and
 * `normalize_note` says so. */
typedef enum
{
  CS_SAE_NORM_NONE,
  CS_SAE_NORM_CONSTANT_NORM_RESCALE,
  CS_SAE_NORM_LAYER_NORM,
} CsSaeNorm;

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
  CsSaeNorm norm;
  const char *normalize_note; /* a caveat about the folder's normalisation, or NULL */
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
/* features [n, d_sae] → reconstruction [n, d_in]. x_in: the activations
 * the features were encoded from, whose normalisation factors the
 * reconstruction takes back (NULL: left in the SAE's normalised units; only
 * an SAE with norm none needs no x_in). */
void     cs_sae_decode  (CsSae        *sae,
                         const float  *features,
                         int           n,
                         const float  *x_in,
                         float        *x);

/* "blocks.L.hook_resid_post" or "blocks.L.hook_resid_pre": the layer, and
 * whether it is the stream entering it; FALSE for other hooks. */
gboolean cs_sae_hook_parse (const char   *hook_name,
                            gboolean     *pre,
                            int          *layer);
/* The resid_post layer an SAE reads: L for hook_resid_post of layer L,
 * L − 1 for hook_resid_pre (what layer L − 1 leaves); −1 for other hooks
 * and for resid_pre of layer 0 (the embeddings). */
int      cs_sae_resid_layer (const CsSae *sae);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSae, cs_sae_free)

G_END_DECLS
