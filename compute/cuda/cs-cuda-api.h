#pragma once

/* The boundary between ConceptScope and its CUDA module: plain C types only
 * (no GLib, no CUDA), so the module builds with nvcc alone and the rest of
 * the program never includes a CUDA header. The module exports one symbol,
 * cs_cuda_get_vtable, returning a table whose abi field must equal
 * CS_CUDA_ABI. */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CS_CUDA_ABI 3

enum { CS_CUDA_F32 = 0, CS_CUDA_F16 = 1, CS_CUDA_BF16 = 2 };
enum { CS_CUDA_ACT_GELU_TANH = 0, CS_CUDA_ACT_GELU_ERF = 1, CS_CUDA_ACT_SILU = 2, CS_CUDA_ACT_RELU = 3 };
enum { CS_CUDA_HOOK_PRE = 0, CS_CUDA_HOOK_POST = 1, CS_CUDA_HOOK_FINAL = 2 };
enum { CS_CUDA_LOGITS_ALL = 0, CS_CUDA_LOGITS_LAST = 1, CS_CUDA_LOGITS_NONE = 2 };

/* A host tensor in its stored dtype; data NULL when the model lacks it. */
typedef struct
{
  const void *data;
  int         dtype;
  int64_t     numel;
} CsCudaTensor;

typedef struct
{
  CsCudaTensor attn_norm_w, attn_norm_b;
  CsCudaTensor qkv_w, qkv_b;
  CsCudaTensor q_w, q_b, k_w, k_b, v_w, v_b;
  CsCudaTensor o_w, o_b;
  CsCudaTensor post_attn_norm_w;
  CsCudaTensor mlp_norm_w, mlp_norm_b;
  CsCudaTensor post_mlp_norm_w;
  CsCudaTensor fc_w, fc_b, proj_w, proj_b;
  CsCudaTensor gate_w, gate_b, up_w, up_b, down_w, down_b;
} CsCudaLayerDesc;

typedef struct
{
  int           gpt2;            /* LayerNorm, Conv1D [in, out] weights, fused qkv, learned positions */
  int           gemma_norm;      /* RMSNorm scales by (1 + w) */
  int           n_layers, hidden, n_heads, n_kv_heads, head_dim, intermediate, vocab;
  double        norm_eps;
  int           activation;
  const float  *rope_inv_freq;   /* head_dim / 2 entries; NULL for GPT-2 */
  float         attn_scale;      /* already includes query_pre_attn_scalar */
  float         attn_softcap, final_softcap;   /* 0 when off */
  int           sliding_window;
  const int    *layer_sliding;   /* n_layers */
  const float  *layer_attn_scale; /* n_layers: per-layer scale (GPT-2's inverse layer index) */
  float         embed_scale;
  CsCudaTensor  embedding, positions, final_norm_w, final_norm_b, unembedding;
  const CsCudaLayerDesc *layers;
} CsCudaModelDesc;

typedef struct
{
  int          T, batch;
  const int   *ids;            /* [T], prompts packed one after another */
  const int   *positions;      /* [T] */
  const int   *offsets;        /* [batch] */
  const int   *lengths;        /* [batch] */
  int          n_hooks;
  const int   *hook_kind;
  const int   *hook_layer;
  float      **hook_out;       /* host [T, hidden] each */
  int          steer_layer;    /* -1: off */
  float        steer_multiplier;
  const float *steer_vector;
  int          steer_from;
  int          logits_mode;
  float       *logits_out;     /* host: [T, vocab] (all) or [batch, vocab] (last) */
  int          fast;           /* TF32 / BF16 / F16 tensor cores */
  int          resume_layer;   /* -1: from the embedding; else from resid_post of this layer */
  const float *resume_from;    /* host [T, hidden], packed as ids */
  int          stop_layer;     /* -1: all layers; else the last layer to run (no final norm, no logits) */
} CsCudaForwardArgs;

typedef struct CsCudaModel CsCudaModel;
typedef struct CsCudaSae CsCudaSae;

/* One step of SAE training (see cs-sae-train.h for the loss); parameters are
 * row-major float32 as on the CPU: W_enc [d_in, d_sae], W_dec [d_sae, d_in]. */
typedef struct
{
  const int *rows;             /* B row indices into the uploaded chunk */
  int        B;
  float      l1, lr;
  int64_t    t;                /* Adam's step count (from 1); 0: gradient only, no update */
  double     loss, mse, l0;    /* out: the batch's loss, squared error, active features */
  float     *grad_out[4];      /* optional host copies of the gradient: W_enc, W_dec, b_enc, b_dec */
} CsCudaSaeStep;

typedef struct
{
  int           abi;
  /* 0 on success; fills the device's name and memory. */
  int         (*init)          (char *name, size_t name_len, size_t *total_bytes, size_t *free_bytes,
                                char *err, size_t err_len);
  CsCudaModel *(*model_new)    (const CsCudaModelDesc *desc, char *err, size_t err_len);
  void        (*model_free)    (CsCudaModel *model);
  size_t      (*model_bytes)   (CsCudaModel *model);
  int         (*forward)       (CsCudaModel *model, const CsCudaForwardArgs *args, char *err, size_t err_len);
  /* Causal-inner-product whitening in float64 on the GPU (see cs-whiten.h). */
  int         (*whiten)        (const CsCudaTensor *u, int64_t rows, int cols, double floor_rel,
                                float *g_out, double *mean_out, double *eig_out, double *inv_sqrt_out,
                                int *n_floored, char *err, size_t err_len);
  /* SAE training: the parameters go up once, with Adam's moments at zero;
   * rows of the training data go up a chunk at a time (at most max_rows),
   * batches are drawn from the chunk by index. */
  CsCudaSae   *(*sae_new)      (int d_in, int d_sae, int max_rows, int max_batch, int apply_b_dec_to_input,
                                const float *W_enc, const float *W_dec, const float *b_enc, const float *b_dec,
                                char *err, size_t err_len);
  int         (*sae_upload)    (CsCudaSae *sae, const float *rows, int n, char *err, size_t err_len);
  int         (*sae_step)      (CsCudaSae *sae, CsCudaSaeStep *step, char *err, size_t err_len);
  int         (*sae_download)  (CsCudaSae *sae, float *W_enc, float *W_dec, float *b_enc, float *b_dec,
                                char *err, size_t err_len);
  void        (*sae_free)      (CsCudaSae *sae);
} CsCudaVTable;

typedef const CsCudaVTable *(*CsCudaGetVTable) (void);

#ifdef __cplusplus
}
#endif
