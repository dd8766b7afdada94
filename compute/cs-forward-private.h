#pragma once

/* What cs-forward.c (the layers) and cs-forward-hooks.c (hook points,
 * captures, patches) share. */

#include "cs-forward.h"

G_BEGIN_DECLS

/* Non-float32 weights are converted in slices of at most this many floats,
 * so a BF16 or F16 model never gets a float32 copy of itself. (Keeping a
 * float32 copy of the small sample model was tried: slower, 0.07 → 0.11 s
 * for a patching run and 4.8 → 5.6 s for a corpus scan — the slice just
 * converted is still in the cache when the product reads it.) */
#define CONVERT_CHUNK_FLOATS (4u << 20)

typedef enum { HOOK_PRE, HOOK_POST, HOOK_FINAL, HOOK_ATTN_Z, HOOK_HEAD_RESULT, HOOK_ATTN_OUT, HOOK_MLP_OUT } HookKind;

typedef struct
{
  HookKind kind;
  int      layer;
  int      width;     /* floats per token: hidden, or n_heads × head_dim (attn_z), or n_heads × hidden (head_result) */
  float   *data;      /* packed [T, width] */
} Hook;

/* A patch parsed: where it applies. */
typedef struct
{
  Hook                  at;
  const CsForwardPatch *p;
} Patch;

typedef struct
{
  CsModel             *model;
  const CsModelConfig *cfg;
  int                  T;          /* packed tokens */
  int                  batch;
  int                  seq;        /* the longest prompt */
  const int           *lengths;
  int                 *offsets;    /* [batch] start row of each prompt */
  int                 *positions;  /* [T] position within its prompt (after any cached tokens) */
  const int           *past;       /* [batch] tokens already in the cache, or NULL */
  gint32              *ids;        /* [T] packed token ids */
  float               *convert;    /* CONVERT_CHUNK_FLOATS scratch */
  double              *rope_inv_freq;
  Patch               *patches;
  int                  n_patches;
} Ctx;

/* y[n, out] = x[n, in] · Wᵀ + b for W stored [out, in] (nn.Linear), or
 * x · W + b for W stored [in, out] (GPT-2's Conv1D). */
void     fwd_linear         (Ctx *c, const float *x, int n, int in, const CsTensor *w, gboolean in_out,
                             const CsTensor *b, float *y, int out);
/* A hook point's name: its kind, layer and width; FALSE (with error when
 * not NULL) for an unknown one. */
gboolean fwd_parse_hook     (CsModel *model, const char *name, Hook *hook, GError **error);
/* The options' patches parsed into c and checked against the run. */
gboolean fwd_parse_patches  (Ctx *c, CsModel *model, const CsForwardOptions *opt, int batch, const int *lengths,
                             GError **error);
void     fwd_capture        (Ctx *c, Hook *hooks, guint n_hooks, HookKind kind, int layer, const float *x);
void     fwd_apply_patches  (Ctx *c, HookKind kind, int layer, float *x, int width);
void     fwd_head_results   (Ctx *c, const CsLayerWeights *L, const float *z, int qd, gboolean in_out, float *out);
void     fwd_block_output   (Ctx *c, Hook *hooks, guint n_hooks, HookKind kind, int layer, float *x);
gboolean fwd_wants          (Hook *hooks, guint n_hooks, HookKind kind, int layer);

G_END_DECLS
