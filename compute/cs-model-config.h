#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CS_ARCH_GPT2,
  CS_ARCH_LLAMA,
  CS_ARCH_MISTRAL,
  CS_ARCH_GEMMA,
  CS_ARCH_GEMMA2,
  CS_ARCH_QWEN2,
} CsArch;

typedef enum
{
  CS_ACT_GELU_TANH,
  CS_ACT_GELU_ERF,
  CS_ACT_SILU,
  CS_ACT_RELU,
} CsActivation;

typedef enum
{
  CS_ROPE_DEFAULT,
  CS_ROPE_LLAMA3,
  CS_ROPE_LINEAR,
} CsRopeType;

/* What config.json says, with each family's spelling resolved. */
typedef struct
{
  char         *architecture;        /* as config.json names it */
  CsArch        arch;
  char         *model_type;
  int           n_layers;
  int           hidden;
  int           n_heads;
  int           n_kv_heads;
  int           head_dim;
  int           intermediate;
  int           vocab;
  int           max_positions;
  double        norm_eps;
  CsActivation  activation;
  gboolean      tie_embeddings;
  gboolean      attention_bias;      /* q/k/v biases (Qwen2, or attention_bias) */
  gboolean      o_bias;
  gboolean      mlp_bias;
  /* rotary embeddings */
  double        rope_theta;
  CsRopeType    rope_type;
  double        rope_factor;
  double        rope_low_freq_factor;
  double        rope_high_freq_factor;
  int           rope_original_max_positions;
  /* Gemma 2 */
  double        attn_softcap;        /* 0 when off */
  double        final_softcap;       /* 0 when off */
  double        query_pre_attn_scalar; /* 0: use head_dim */
  int           sliding_window;      /* 0 when off */
  gboolean     *layer_sliding;       /* n_layers entries */
  /* GPT-2 */
  gboolean      scale_attn_by_inverse_layer_idx;
  char         *dtype;               /* "float32", "float16", "bfloat16" or NULL */
  int           bos_token_id;        /* -1 when absent */
  int           eos_token_id;
} CsModelConfig;

CsModelConfig *cs_model_config_load      (const char     *path,
                                          GError        **error);
CsModelConfig *cs_model_config_parse     (const char     *json,
                                          gssize          len,
                                          const char     *origin,
                                          GError        **error);
void           cs_model_config_free      (CsModelConfig  *config);
const char    *cs_model_config_supported (void);
const char    *cs_arch_family            (CsArch          arch);
/* RoPE's inverse frequencies (head_dim / 2 of them), with the config's
 * scaling (linear, llama3) applied. */
double        *cs_model_config_rope_inv_freq (const CsModelConfig *config);
/* The factor on query · key at a layer, for the CPU and the GPU alike:
 * 1/√(query_pre_attn_scalar or head_dim), divided by (layer + 1) where the
 * config asks for it (GPT-2's scale_attn_by_inverse_layer_idx). */
double         cs_model_config_attn_scale    (const CsModelConfig *config,
                                              int                  layer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsModelConfig, cs_model_config_free)

G_END_DECLS
