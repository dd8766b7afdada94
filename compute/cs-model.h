#pragma once

#include "cs-tokenizer.h"
#include <glib-object.h>

#include "cs-model-config.h"
#include "cs-safetensors.h"

G_BEGIN_DECLS

/* The weights of one decoder layer, pointing into the mapped files. Fields a
 * family does not have stay NULL. Linear weights are [out, in] (nn.Linear)
 * except GPT-2's Conv1D ones, which are [in, out]; CsModel.conv1d says which. */
typedef struct
{
  const CsTensor *attn_norm_w, *attn_norm_b;
  const CsTensor *qkv_w, *qkv_b;
  const CsTensor *q_w, *q_b, *k_w, *k_b, *v_w, *v_b;
  const CsTensor *o_w, *o_b;
  const CsTensor *post_attn_norm_w;  /* Gemma 2: on the attention output */
  const CsTensor *mlp_norm_w, *mlp_norm_b;
  const CsTensor *post_mlp_norm_w;   /* Gemma 2: on the MLP output */
  const CsTensor *fc_w, *fc_b, *proj_w, *proj_b;           /* GPT-2 */
  const CsTensor *gate_w, *gate_b, *up_w, *up_b, *down_w, *down_b;
} CsLayerWeights;

#define CS_TYPE_MODEL (cs_model_get_type ())
G_DECLARE_FINAL_TYPE (CsModel, cs_model, CS, MODEL, GObject)

CsModel             *cs_model_open                (const char  *path,
                                                   GError     **error);
const char          *cs_model_get_path            (CsModel     *self);
const char          *cs_model_get_name            (CsModel     *self);
const CsModelConfig *cs_model_get_config          (CsModel     *self);
const CsLayerWeights *cs_model_get_layer          (CsModel     *self,
                                                   int          layer);
const CsTensor      *cs_model_get_embedding       (CsModel     *self);
const CsTensor      *cs_model_get_positions       (CsModel     *self);
const CsTensor      *cs_model_get_final_norm_w    (CsModel     *self);
const CsTensor      *cs_model_get_final_norm_b    (CsModel     *self);
const CsTensor      *cs_model_get_unembedding     (CsModel     *self);
gboolean             cs_model_is_conv1d           (CsModel     *self);
/* What the embedding output is multiplied by: sqrt(hidden) for Gemma,
 * rounded to the embedding's dtype as transformers does; 1 otherwise. */
float                cs_model_get_embed_scale     (CsModel     *self);
gint64               cs_model_get_n_params        (CsModel     *self);
CsDType              cs_model_get_dtype           (CsModel     *self);
gsize                cs_model_get_file_size       (CsModel     *self);
const char          *cs_model_get_tokenizer_path  (CsModel     *self);
/* The model's tokenizer.json, loaded and checked against the model: every
 * id it can produce has a row in the unembedding. */
CsTokenizer         *cs_model_open_tokenizer      (CsModel     *self,
                                                   GError     **error);
char                *cs_model_describe            (CsModel     *self);
/* "size:mtime" of the weight files: changes when the weights change, so a
 * workspace can tell whether its cached whitening still applies. */
const char          *cs_model_get_identity        (CsModel     *self);
/* The key of the model's whitening in the user's cache: its path and
 * identity. The application and the command line share the cache through it. */
char                *cs_model_get_cache_key       (CsModel     *self);

G_END_DECLS
