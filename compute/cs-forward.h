#pragma once

#include <gio/gio.h>

#include "cs-backend.h"
#include "cs-model.h"

G_BEGIN_DECLS

typedef enum
{
  CS_LOGITS_ALL,    /* [batch, seq, vocab] */
  CS_LOGITS_LAST,   /* [batch, vocab], at each prompt's last token */
  CS_LOGITS_NONE,
} CsLogitsMode;


/* Keys and values of earlier tokens, so that generation runs only the new
 * token each step (CPU only). A run given a cache reads its ids as the
 * continuation of what the cache holds for each prompt (positions go on
 * from there) and appends their keys and values. */
typedef struct _CsForwardCache CsForwardCache;

/* Room for batch sequences of up to max_len tokens each (at most the
 * model's context); NULL when memory is short. */
CsForwardCache  *cs_forward_cache_new        (CsModel                 *model,
                                              int                      batch,
                                              int                      max_len);
/* The same holding only layers first_layer… (a run resuming after
 * first_layer − 1 reads and fills no others). */
CsForwardCache  *cs_forward_cache_new_from   (CsModel                 *model,
                                              int                      batch,
                                              int                      max_len,
                                              int                      first_layer);
/* Sequence b of dst gets the first n_tokens keys and values of src's
 * sequence src_b (at every layer dst holds): a prefix shared by runs that
 * differ only after it. FALSE when they do not fit. */
gboolean         cs_forward_cache_copy       (CsForwardCache          *dst,
                                              int                      b,
                                              const CsForwardCache    *src,
                                              int                      src_b,
                                              int                      n_tokens);
void             cs_forward_cache_free       (CsForwardCache          *cache);
/* Tokens held for sequence b. */
int              cs_forward_cache_length     (CsForwardCache          *cache,
                                              int                      b);

/* An intervention at a hook point: rows of one prompt (one position, or
 * every position) replaced by, or added to, given values. At attn_z.L a
 * head's slice alone may be patched: replacing head h's z replaces its
 * result z_h · W_O[h] (the projection is linear), which is how heads are
 * patched. Patches run on the CPU. */
typedef struct
{
  const char  *hook;       /* resid_pre.L, resid_post.L, attn_z.L, attn_out.L or mlp_out.L */
  int          prompt;     /* which prompt of the batch */
  int          position;   /* a position of that prompt, or -1 for each of its positions */
  int          head;       /* attn_z only: one head (its head_dim floats), or -1 for the whole row */
  const float *values;     /* the row (or the head's slice) for each position patched, in order */
  gboolean     add;        /* add instead of replacing */
} CsForwardPatch;

typedef struct
{
  /* Hook points to capture, NULL-terminated: "resid_pre.L" (input of decoder
   * layer L), "resid_post.L" (its output, after any steering), "final_norm"
   * (the stream after the final norm, what the unembedding reads);
   * "attn_z.L" (each head's attention-weighted values before the output
   * projection, [n_heads × head_dim] per token, heads in order),
   * "head_result.L" (each head's share of the output projection, z_h ·
   * W_O[h] without the bias, [n_heads × hidden] per token), "attn_out.L" and
   * "mlp_out.L" (what the attention and MLP blocks add to the stream, after
   * Gemma 2's post-norms: for other models the head results plus the output
   * bias sum to attn_out). The last four run on the CPU. */
  const char * const *capture;
  /* Steering: multiplier × vector added to resid_post.steer_layer at every
   * position >= steer_from. steer_layer < 0 turns it off. */
  int                 steer_layer;
  float               steer_multiplier;
  const float        *steer_vector;    /* hidden_size floats */
  int                 steer_from;
  CsLogitsMode        logits;
  CsProgressFunc      progress;
  gpointer            progress_data;
  /* CPU, CUDA, or AUTO (the GPU when there is a usable one). */
  CsDevice            device;
  /* GPU only: TF32 tensor cores for float32 weights and 16-bit tensor cores
   * (activations rounded to the weights' type) for F16/BF16 weights.
   * Off, every product is float32. */
  gboolean            fast;
  /* Resuming: the run starts from resid_post.resume_layer given as
   * resume_from ([batch, seq, hidden] as a capture of it returns it, seq the
   * longest prompt) and computes only the layers after it. Steering at the
   * resume layer is added to the given stream; earlier hooks and steering
   * are refused. The layers before it are the same for every setting of a
   * sweep, so a sweep runs them once. resume_layer < 0 turns it off. */
  int                 resume_layer;
  const float        *resume_from;
  /* Stopping: only the layers up to stop_layer run (no final norm, no
   * logits: ask for CS_LOGITS_NONE), for captures up to it. < 0: all. */
  int                 stop_layer;
  /* Keys and values of earlier tokens (see CsForwardCache): the run goes on
   * from them, on the CPU. NULL: none. Not with stop_layer. With
   * resume_layer, resume_from holds the stream of the new tokens only, and
   * the cache's layers up to the resume layer are neither read nor filled
   * (it then serves that run alone). */
  CsForwardCache     *cache;
  /* One multiplier per prompt in place of steer_multiplier (on the CPU):
   * several steering strengths in one batch. NULL: none. */
  const float        *steer_multipliers;
  /* Interventions (CPU only), applied before the captures at the same
   * point see the stream; NULL: none. */
  const CsForwardPatch *patches;
  int                 n_patches;
} CsForwardOptions;

#define CS_FORWARD_OPTIONS_INIT { NULL, -1, 0.0f, NULL, 0, CS_LOGITS_ALL, NULL, NULL, CS_DEVICE_AUTO, FALSE, -1, NULL, -1, NULL, NULL, NULL, 0 }

typedef struct
{
  int        batch;
  int        seq;          /* the longest prompt; shorter ones are padded with zeros */
  int        vocab;
  int        hidden;
  int       *lengths;      /* [batch] */
  float     *logits;       /* see CsLogitsMode; NULL for CS_LOGITS_NONE */
  GPtrArray *capture_names; /* char* */
  GPtrArray *captures;      /* float* [batch, seq, width] each (cs_forward_hook_width: hidden for most) */
  CsDevice   device;        /* where it ran: CPU or CUDA */
} CsForwardResult;

/* Runs a batch of prompts of possibly different lengths. Prompts are packed
 * without padding, and attention never crosses from one prompt to another,
 * so each result equals the prompt run alone. */
CsForwardResult *cs_forward_run              (CsModel                 *model,
                                              const gint32 * const    *ids,
                                              const int               *lengths,
                                              int                      batch,
                                              const CsForwardOptions  *options,
                                              GCancellable            *cancellable,
                                              GError                 **error);
void             cs_forward_result_free      (CsForwardResult         *result);
const float     *cs_forward_result_get_capture (CsForwardResult       *result,
                                              const char              *name);
gboolean         cs_forward_check_capture_name (CsModel               *model,
                                              const char              *name,
                                              GError                 **error);
/* Floats per token of a hook point's capture; -1 for an unknown name. */
int              cs_forward_hook_width       (CsModel                 *model,
                                              const char              *name);

/* The model's last step on rows of the residual stream x [n, hidden]: the
 * final norm into normed [n, hidden] (may be NULL) and the unembedding (with
 * any final soft-cap) into logits [n, vocab] (may be NULL): the logit lens. */
gboolean         cs_forward_unembed          (CsModel                 *model,
                                              const float             *x,
                                              int                      n,
                                              float                   *normed,
                                              float                   *logits);

/* A head's share of the output projection for a z of its own
 * (head_dim floats): z · W_O[head] without the bias, into out [hidden]
 * (what head_result.L holds for that head). FALSE for a layer or head out
 * of range, or without memory. */
gboolean         cs_forward_head_output      (CsModel                 *model,
                                              int                      layer,
                                              int                      head,
                                              const float             *z,
                                              float                   *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsForwardResult, cs_forward_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsForwardCache, cs_forward_cache_free)

G_END_DECLS
