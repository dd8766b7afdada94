#define G_LOG_DOMAIN "cs-forward"

#include "cs-forward.h"
#include "cs-forward-private.h"
#include "cs-backend.h"
#include "cs-error.h"
#include "cs-gpu.h"
#include "cuda/cs-cuda-api.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static void
vec_f32 (const CsTensor *t, float *out)
{
  cs_tensor_read_f32 (t, 0, (gsize) cs_tensor_numel (t), out);
}

/* y[n, out] = x[n, in] · Wᵀ + b for W stored [out, in] (nn.Linear), or
 * x · W + b for W stored [in, out] (GPT-2's Conv1D). */
void
fwd_linear (Ctx *c, const float *x, int n, int in, const CsTensor *w, gboolean in_out,
            const CsTensor *bias, float *y, int out)
{
  const float *wide = cs_tensor_is_f32_aligned (w) ? w->data : NULL;
  if (wide && n == 1)
    /* one row (a generation step): a matrix-vector product reads the
     * weights once, where GEMM would first copy them into its panels */
    cblas_sgemv (CblasRowMajor, in_out ? CblasTrans : CblasNoTrans, in_out ? in : out, in_out ? out : in, 1.0f,
                 wide, in_out ? out : in, x, 1, 0.0f, y, 1);
  else if (wide)
    {
      if (in_out)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, out, in,
                     1.0f, x, in, wide, out, 0.0f, y, out);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in,
                     1.0f, x, in, wide, in, 0.0f, y, out);
    }
  else if (!in_out)
    {
      int rows = MAX (1, (int) (CONVERT_CHUNK_FLOATS / (guint) in));
      for (int r0 = 0; r0 < out; r0 += rows)
        {
          int r1 = MIN (out, r0 + rows);
#pragma omp parallel for schedule(static)
          for (int r = r0; r < r1; r++)
            cs_tensor_read_f32 (w, (gsize) r * in, (gsize) in, c->convert + (gsize) (r - r0) * in);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, r1 - r0, in,
                       1.0f, x, in, c->convert, in, 0.0f, y + r0, out);
        }
    }
  else
    {
      int rows = MAX (1, (int) (CONVERT_CHUNK_FLOATS / (guint) out));
      for (int k0 = 0; k0 < in; k0 += rows)
        {
          int k1 = MIN (in, k0 + rows);
#pragma omp parallel for schedule(static)
          for (int k = k0; k < k1; k++)
            cs_tensor_read_f32 (w, (gsize) k * out, (gsize) out, c->convert + (gsize) (k - k0) * out);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, out, k1 - k0,
                       1.0f, x + k0, in, c->convert, out, k0 ? 1.0f : 0.0f, y, out);
        }
    }
  if (bias)
    {
      g_autofree float *b = g_new (float, out);
      vec_f32 (bias, b);
#pragma omp parallel for schedule(static)
      for (int i = 0; i < n; i++)
        {
          float *row = y + (gsize) i * out;
#pragma omp simd
          for (int j = 0; j < out; j++)
            row[j] += b[j];
        }
    }
}

static void
layer_norm (const float *x, float *y, int n, int d, const CsTensor *w, const CsTensor *b, double eps)
{
  g_autofree float *wf = g_new (float, d);
  g_autofree float *bf = g_new (float, d);
  vec_f32 (w, wf);
  vec_f32 (b, bf);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++)
    {
      const float *xi = x + (gsize) i * d;
      float *yi = y + (gsize) i * d;
      double mean = 0, var = 0;
      for (int j = 0; j < d; j++)
        mean += xi[j];
      mean /= d;
      for (int j = 0; j < d; j++)
        var += (xi[j] - mean) * (xi[j] - mean);
      var /= d;
      float inv = (float) (1.0 / sqrt (var + eps));
      for (int j = 0; j < d; j++)
        yi[j] = (float) (xi[j] - mean) * inv * wf[j] + bf[j];
    }
}

/* RMSNorm; Gemma scales by (1 + w) rather than w. */
static void
rms_norm (const float *x, float *y, int n, int d, const CsTensor *w, double eps, gboolean one_plus)
{
  g_autofree float *wf = g_new (float, d);
  vec_f32 (w, wf);
  if (one_plus)
    for (int j = 0; j < d; j++)
      wf[j] += 1.0f;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++)
    {
      const float *xi = x + (gsize) i * d;
      float *yi = y + (gsize) i * d;
      double ss = 0;
      for (int j = 0; j < d; j++)
        ss += (double) xi[j] * xi[j];
      float inv = (float) (1.0 / sqrt (ss / d + eps));
      for (int j = 0; j < d; j++)
        yi[j] = (xi[j] * inv) * wf[j];
    }
}

static void
norm (Ctx *c, const float *x, float *y, int n, const CsTensor *w, const CsTensor *b)
{
  const CsModelConfig *cfg = c->cfg;
  if (cfg->arch == CS_ARCH_GPT2)
    layer_norm (x, y, n, cfg->hidden, w, b, cfg->norm_eps);
  else
    rms_norm (x, y, n, cfg->hidden, w, cfg->norm_eps,
              cfg->arch == CS_ARCH_GEMMA || cfg->arch == CS_ARCH_GEMMA2);
}

/* tanh through expf, which vectorises (libmvec) inside omp simd loops where
 * tanhf does not; exact to float rounding, saturating correctly at ±1. */
static inline float
fast_tanh (float u)
{
  return 1.0f - 2.0f / (1.0f + expf (2.0f * u));
}

static inline float
gelu_tanh (float x)
{
  const float k = 0.7978845608028654f;   /* sqrt(2/π) */
  return 0.5f * x * (1.0f + fast_tanh (k * (x + 0.044715f * x * x * x)));
}

static inline float
activate (CsActivation act, float x)
{
  switch (act)
    {
    case CS_ACT_GELU_TANH: return gelu_tanh (x);
    case CS_ACT_GELU_ERF: return 0.5f * x * (1.0f + erff (x * 0.7071067811865476f));
    case CS_ACT_SILU: return x / (1.0f + expf (-x));
    case CS_ACT_RELU: return x > 0 ? x : 0;
    default: return x;
    }
}

static void
init_rope (Ctx *c)
{
  c->rope_inv_freq = cs_model_config_rope_inv_freq (c->cfg);
}

/* Rotates each head of rows [T, n_heads × head_dim] in place, HF's
 * rotate_half convention (first half paired with second half). */
static void
apply_rope (Ctx *c, float *x, int n_heads)
{
  int hd = c->cfg->head_dim, half = hd / 2, stride = n_heads * hd;
#pragma omp parallel for schedule(static)
  for (int t = 0; t < c->T; t++)
    {
      float cs[512], sn[512];
      int pos = c->positions[t];
      for (int i = 0; i < half && i < 512; i++)
        {
          float angle = (float) pos * (float) c->rope_inv_freq[i];
          cs[i] = cosf (angle);
          sn[i] = sinf (angle);
        }
      for (int h = 0; h < n_heads; h++)
        {
          float *v = x + (gsize) t * stride + (gsize) h * hd;
          for (int i = 0; i < half; i++)
            {
              float a = v[i], b = v[i + half];
              v[i] = a * cs[i] - b * sn[i];
              v[i + half] = b * cs[i] + a * sn[i];
            }
        }
    }
}

struct _CsForwardCache
{
  int     n_layers, batch, max_len, kvd;
  int    *len;       /* [batch] */
  float **k, **v;    /* [n_layers] of [batch, max_len, kvd] */
};

CsForwardCache *
cs_forward_cache_new (CsModel *model, int batch, int max_len)
{
  return cs_forward_cache_new_from (model, batch, max_len, 0);
}

CsForwardCache *
cs_forward_cache_new_from (CsModel *model, int batch, int max_len, int first_layer)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  CsForwardCache *kv = g_new0 (CsForwardCache, 1);
  gsize n;

  kv->n_layers = cfg->n_layers;
  kv->batch = batch;
  kv->max_len = MIN (max_len, cfg->max_positions);
  kv->kvd = cfg->n_kv_heads * cfg->head_dim;
  kv->len = g_new0 (int, batch);
  kv->k = g_new0 (float *, kv->n_layers);
  kv->v = g_new0 (float *, kv->n_layers);
  n = (gsize) batch * kv->max_len * kv->kvd;
  for (int l = MAX (0, first_layer); l < kv->n_layers; l++)
    if (!(kv->k[l] = g_try_malloc (n * sizeof (float))) || !(kv->v[l] = g_try_malloc (n * sizeof (float))))
      {
        cs_forward_cache_free (kv);
        return NULL;
      }
  return kv;
}

void
cs_forward_cache_free (CsForwardCache *kv)
{
  if (!kv)
    return;
  for (int l = 0; l < kv->n_layers; l++)
    {
      g_free (kv->k[l]);
      g_free (kv->v[l]);
    }
  g_free (kv->k);
  g_free (kv->v);
  g_free (kv->len);
  g_free (kv);
}

gboolean
cs_forward_cache_copy (CsForwardCache *dst, int b, const CsForwardCache *src, int src_b, int n_tokens)
{
  if (!dst || !src || b < 0 || b >= dst->batch || src_b < 0 || src_b >= src->batch || n_tokens < 0 ||
      n_tokens > src->len[src_b] || n_tokens > dst->max_len || dst->kvd != src->kvd || dst->n_layers != src->n_layers)
    return FALSE;
  for (int l = 0; l < dst->n_layers; l++)
    {
      if (!dst->k[l])
        continue;
      if (!src->k[l])
        return FALSE;
      memcpy (dst->k[l] + (gsize) b * dst->max_len * dst->kvd, src->k[l] + (gsize) src_b * src->max_len * src->kvd,
              sizeof (float) * n_tokens * dst->kvd);
      memcpy (dst->v[l] + (gsize) b * dst->max_len * dst->kvd, src->v[l] + (gsize) src_b * src->max_len * src->kvd,
              sizeof (float) * n_tokens * dst->kvd);
    }
  dst->len[b] = n_tokens;
  return TRUE;
}

int
cs_forward_cache_length (CsForwardCache *kv, int b)
{
  return kv && b >= 0 && b < kv->batch ? kv->len[b] : 0;
}

/* Appends the run's key and value rows (strides ks, vs) of a layer to the
 * cache after each sequence's earlier tokens. */
static void
cache_append (Ctx *c, CsForwardCache *kv, int layer, const float *k, int ks, const float *v, int vs)
{
  for (int b = 0; b < c->batch; b++)
    for (int i = 0; i < c->lengths[b]; i++)
      {
        gsize row = (gsize) b * kv->max_len + kv->len[b] + i, src = (gsize) (c->offsets[b] + i);
        memcpy (kv->k[layer] + row * kv->kvd, k + src * ks, sizeof (float) * kv->kvd);
        memcpy (kv->v[layer] + row * kv->kvd, v + src * vs, sizeof (float) * kv->kvd);
      }
}

/* Causal attention within each prompt. q rows have stride qs, k/v rows ks/vs;
 * head h reads key/value head h / group. Key j of prompt b is row
 * kv_base[b] + j (the packed rows, or the cache's, where a prompt's earlier
 * tokens come first: query i sits at position past[b] + i). */
static void
attention (Ctx *c, int layer, const float *q, int qs, const float *k, int ks, const float *v, int vs,
           const int *kv_base, float *out, int os)
{
  const CsModelConfig *cfg = c->cfg;
  int hd = cfg->head_dim, H = cfg->n_heads, group = cfg->n_heads / cfg->n_kv_heads;
  int window = cfg->layer_sliding[layer] ? cfg->sliding_window : 0;
  double scale = cs_model_config_attn_scale (cfg, layer);
  float cap = (float) cfg->attn_softcap;
  int maxlen = 0;
  for (int b = 0; b < c->batch; b++)
    maxlen = MAX (maxlen, c->lengths[b] + (c->past ? c->past[b] : 0));

#pragma omp parallel
  {
    g_autofree float *scores = g_new (float, maxlen);
    g_autofree float *acc = g_new (float, hd);
#pragma omp for collapse(2) schedule(dynamic, 4)
    for (int b = 0; b < c->batch; b++)
      for (int h = 0; h < H; h++)
        {
          int off = c->offsets[b], L = c->lengths[b], kvh = h / group, base = kv_base[b];
          int past = c->past ? c->past[b] : 0;
          for (int i0 = 0; i0 < L; i0++)
            {
              const float *qi = q + (gsize) (off + i0) * qs + (gsize) h * hd;
              int i = past + i0, j0 = window > 0 ? MAX (0, i - window + 1) : 0;
              float mx = -INFINITY, sum = 0;
              for (int j = j0; j <= i; j++)
                {
                  const float *kj = k + (gsize) (base + j) * ks + (gsize) kvh * hd;
                  float s = 0;
#pragma omp simd reduction(+:s)
                  for (int e = 0; e < hd; e++)
                    s += qi[e] * kj[e];
                  s *= (float) scale;
                  if (cap > 0)
                    s = cap * tanhf (s / cap);
                  scores[j - j0] = s;
                  mx = MAX (mx, s);
                }
              for (int j = j0; j <= i; j++)
                {
                  float e = expf (scores[j - j0] - mx);
                  scores[j - j0] = e;
                  sum += e;
                }
              memset (acc, 0, sizeof (float) * hd);
              for (int j = j0; j <= i; j++)
                {
                  const float *vj = v + (gsize) (base + j) * vs + (gsize) kvh * hd;
                  float p = scores[j - j0] / sum;
#pragma omp simd
                  for (int e = 0; e < hd; e++)
                    acc[e] += p * vj[e];
                }
              memcpy (out + (gsize) (off + i0) * os + (gsize) h * hd, acc, sizeof (float) * hd);
            }
        }
  }
}

static void
add_into (float *x, const float *y, gsize n)
{
#pragma omp parallel for simd schedule(static)
  for (gsize i = 0; i < n; i++)
    x[i] += y[i];
}

void
cs_forward_result_free (CsForwardResult *r)
{
  if (!r)
    return;
  g_free (r->lengths);
  g_free (r->logits);
  g_clear_pointer (&r->capture_names, g_ptr_array_unref);
  g_clear_pointer (&r->captures, g_ptr_array_unref);
  g_free (r);
}

const float *
cs_forward_result_get_capture (CsForwardResult *r,
                               const char      *name)
{
  for (guint i = 0; i < r->capture_names->len; i++)
    if (g_str_equal (g_ptr_array_index (r->capture_names, i), name))
      return g_ptr_array_index (r->captures, i);
  return NULL;
}

/* Copies packed rows [T, d] into a zero-padded [batch, seq, d] array. */
static float *
unpack (Ctx *c, const float *packed, int seq, int d)
{
  float *out = cs_alloc_large ((gsize) c->batch * seq * d * sizeof (float));
  if (!out)
    return NULL;
  memset (out, 0, (gsize) c->batch * seq * d * sizeof (float));
  for (int b = 0; b < c->batch; b++)
    memcpy (out + (gsize) b * seq * d, packed + (gsize) c->offsets[b] * d,
            (gsize) c->lengths[b] * d * sizeof (float));
  return out;
}

/* Packs rows of a zero-padded [batch, seq, d] array into [T, d]. */
static void
pack (Ctx *c, const float *padded, int seq, int d, float *out)
{
  for (int b = 0; b < c->batch; b++)
    memcpy (out + (gsize) c->offsets[b] * d, padded + (gsize) b * seq * d, (gsize) c->lengths[b] * d * sizeof (float));
}

static void
steer_rows (Ctx *c, const CsForwardOptions *opt, float *x)
{
  int d = c->cfg->hidden;
  for (int b = 0; b < c->batch; b++)
    {
      float m = opt->steer_multipliers ? opt->steer_multipliers[b] : opt->steer_multiplier;
      int t0 = c->offsets[b], t1 = t0 + c->lengths[b];
#pragma omp parallel for schedule(static)
      for (int t = t0; t < t1; t++)
        if (c->positions[t] >= opt->steer_from)
          for (int j = 0; j < d; j++)
            x[(gsize) t * d + j] += m * opt->steer_vector[j];
    }
}

/* The CPU path: fills hooks[i].data and, unless NULL, the packed logits
 * ([T, V] for all positions, [batch, V] for the last). */
static gboolean
forward_cpu (Ctx *c, const gint32 * const *ids, const CsForwardOptions *opt, Hook *hooks, guint n_hooks,
             float *logits, GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = c->cfg;
  CsModel *model = c->model;
  int d = cfg->hidden, V = cfg->vocab, qd = cfg->n_heads * cfg->head_dim, kvd = cfg->n_kv_heads * cfg->head_dim;
  int ff = cfg->intermediate, batch = c->batch;
  gsize T = (gsize) c->T;
  gsize qkv_n = cfg->arch == CS_ARCH_GPT2 ? 3 * (gsize) d : (gsize) qd + 2 * (gsize) kvd;
  g_autofree float *x = g_try_malloc (T * d * sizeof (float));
  g_autofree float *h = g_try_malloc (T * MAX (d, qd) * sizeof (float));
  g_autofree float *qkv = g_try_malloc (T * qkv_n * sizeof (float));
  g_autofree float *att = g_try_malloc (T * MAX (d, qd) * sizeof (float));
  g_autofree float *mlp = g_try_malloc (T * (gsize) ff * 2 * sizeof (float));
  g_autofree float *tmp = g_try_malloc (T * d * sizeof (float));
  CsForwardCache *kv = opt->cache;
  g_autofree int *kv_base = NULL;

  c->convert = g_try_malloc (CONVERT_CHUNK_FLOATS * sizeof (float));
  if (!(x && h && qkv && att && mlp && tmp && c->convert))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY,
                   "not enough memory for the activations of %d tokens; run fewer or shorter prompts", c->T);
      return FALSE;
    }
  if (cfg->arch != CS_ARCH_GPT2)
    init_rope (c);
  if (kv)
    {
      kv_base = g_new (int, batch);
      for (int b = 0; b < batch; b++)
        kv_base[b] = b * kv->max_len;
    }

  if (opt->resume_layer >= 0)
    {
      pack (c, opt->resume_from, c->seq, d, x);
      if (opt->steer_layer == opt->resume_layer)
        steer_rows (c, opt, x);
      fwd_apply_patches (c, HOOK_POST, opt->resume_layer, x, d);
      fwd_capture (c, hooks, n_hooks, HOOK_POST, opt->resume_layer, x);
    }
  else
  /* Embedding (and GPT-2's learned positions; Gemma's sqrt(d) scale). */
  {
    const CsTensor *E = cs_model_get_embedding (model);
    const CsTensor *P = cs_model_get_positions (model);
    float scale = cs_model_get_embed_scale (model);
#pragma omp parallel for schedule(static)
    for (int t = 0; t < c->T; t++)
      {
        float *row = x + (gsize) t * d;
        cs_tensor_read_f32 (E, (gsize) c->ids[t] * d, d, row);
        if (P)
          {
            float prow[8192];
            for (int j0 = 0; j0 < d; j0 += 8192)
              {
                int n = MIN (8192, d - j0);
                cs_tensor_read_f32 (P, (gsize) c->positions[t] * d + j0, n, prow);
                for (int j = 0; j < n; j++)
                  row[j0 + j] += prow[j];
              }
          }
        if (scale != 1.0f)
          for (int j = 0; j < d; j++)
            row[j] *= scale;
      }
  }
  (void) ids;

  for (int l = opt->resume_layer + 1; l < (opt->stop_layer >= 0 ? opt->stop_layer + 1 : cfg->n_layers); l++)
    {
      const CsLayerWeights *L = cs_model_get_layer (model, l);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      fwd_apply_patches (c, HOOK_PRE, l, x, d);
      fwd_capture (c, hooks, n_hooks, HOOK_PRE, l, x);

      if (cfg->arch == CS_ARCH_GPT2)
        {
          norm (c, x, h, c->T, L->attn_norm_w, L->attn_norm_b);
          fwd_linear (c, h, c->T, d, L->qkv_w, TRUE, L->qkv_b, qkv, 3 * d);
          if (kv)
            {
              cache_append (c, kv, l, qkv + d, 3 * d, qkv + 2 * d, 3 * d);
              attention (c, l, qkv, 3 * d, kv->k[l], kv->kvd, kv->v[l], kv->kvd, kv_base, att, d);
            }
          else
            attention (c, l, qkv, 3 * d, qkv + d, 3 * d, qkv + 2 * d, 3 * d, c->offsets, att, d);
          fwd_apply_patches (c, HOOK_ATTN_Z, l, att, d);
          fwd_capture (c, hooks, n_hooks, HOOK_ATTN_Z, l, att);
          if (fwd_wants (hooks, n_hooks, HOOK_HEAD_RESULT, l))
            for (guint i = 0; i < n_hooks; i++)
              if (hooks[i].kind == HOOK_HEAD_RESULT && hooks[i].layer == l)
                fwd_head_results (c, L, att, d, TRUE, hooks[i].data);
          fwd_linear (c, att, c->T, d, L->o_w, TRUE, L->o_b, tmp, d);
          fwd_block_output (c, hooks, n_hooks, HOOK_ATTN_OUT, l, tmp);
          add_into (x, tmp, T * d);
          norm (c, x, h, c->T, L->mlp_norm_w, L->mlp_norm_b);
          fwd_linear (c, h, c->T, d, L->fc_w, TRUE, L->fc_b, mlp, ff);
#pragma omp parallel for simd schedule(static)
          for (gsize i = 0; i < T * ff; i++)
            mlp[i] = activate (cfg->activation, mlp[i]);
          fwd_linear (c, mlp, c->T, ff, L->proj_w, TRUE, L->proj_b, tmp, d);
          fwd_block_output (c, hooks, n_hooks, HOOK_MLP_OUT, l, tmp);
          add_into (x, tmp, T * d);
        }
      else
        {
          float *q = qkv, *k = qkv + T * qd, *v = k + T * kvd;
          float *gate = mlp, *up = mlp + T * ff;

          norm (c, x, h, c->T, L->attn_norm_w, NULL);
          fwd_linear (c, h, c->T, d, L->q_w, FALSE, L->q_b, q, qd);
          fwd_linear (c, h, c->T, d, L->k_w, FALSE, L->k_b, k, kvd);
          fwd_linear (c, h, c->T, d, L->v_w, FALSE, L->v_b, v, kvd);
          apply_rope (c, q, cfg->n_heads);
          apply_rope (c, k, cfg->n_kv_heads);
          if (kv)
            {
              cache_append (c, kv, l, k, kvd, v, kvd);
              attention (c, l, q, qd, kv->k[l], kvd, kv->v[l], kvd, kv_base, att, qd);
            }
          else
            attention (c, l, q, qd, k, kvd, v, kvd, c->offsets, att, qd);
          fwd_apply_patches (c, HOOK_ATTN_Z, l, att, qd);
          fwd_capture (c, hooks, n_hooks, HOOK_ATTN_Z, l, att);
          for (guint i = 0; i < n_hooks; i++)
            if (hooks[i].kind == HOOK_HEAD_RESULT && hooks[i].layer == l)
              fwd_head_results (c, L, att, qd, FALSE, hooks[i].data);
          fwd_linear (c, att, c->T, qd, L->o_w, FALSE, L->o_b, tmp, d);
          if (L->post_attn_norm_w)
            norm (c, tmp, tmp, c->T, L->post_attn_norm_w, NULL);
          fwd_block_output (c, hooks, n_hooks, HOOK_ATTN_OUT, l, tmp);
          add_into (x, tmp, T * d);

          norm (c, x, h, c->T, L->mlp_norm_w, NULL);
          fwd_linear (c, h, c->T, d, L->gate_w, FALSE, L->gate_b, gate, ff);
          fwd_linear (c, h, c->T, d, L->up_w, FALSE, L->up_b, up, ff);
#pragma omp parallel for simd schedule(static)
          for (gsize i = 0; i < T * ff; i++)
            gate[i] = activate (cfg->activation, gate[i]) * up[i];
          fwd_linear (c, gate, c->T, ff, L->down_w, FALSE, L->down_b, tmp, d);
          if (L->post_mlp_norm_w)
            norm (c, tmp, tmp, c->T, L->post_mlp_norm_w, NULL);
          fwd_block_output (c, hooks, n_hooks, HOOK_MLP_OUT, l, tmp);
          add_into (x, tmp, T * d);
        }

      if (opt->steer_layer == l)
        steer_rows (c, opt, x);
      fwd_apply_patches (c, HOOK_POST, l, x, d);
      fwd_capture (c, hooks, n_hooks, HOOK_POST, l, x);
      if (opt->progress)
        opt->progress ((l + 1.0) / (cfg->n_layers + 1.0), opt->progress_data);
    }

  if (kv)
    for (int b = 0; b < batch; b++)
      kv->len[b] += c->lengths[b];
  if (opt->stop_layer >= 0)
    return TRUE;
  norm (c, x, h, c->T, cs_model_get_final_norm_w (model), cs_model_get_final_norm_b (model));
  fwd_capture (c, hooks, n_hooks, HOOK_FINAL, cfg->n_layers, h);

  if (logits)
    {
      int rows = opt->logits == CS_LOGITS_ALL ? c->T : batch;
      float *src = h;
      if (opt->logits == CS_LOGITS_LAST)
        {
          for (int b = 0; b < batch; b++)
            memcpy (tmp + (gsize) b * d, h + (gsize) (c->offsets[b] + c->lengths[b] - 1) * d, sizeof (float) * d);
          src = tmp;
        }
      fwd_linear (c, src, rows, d, cs_model_get_unembedding (model), FALSE, NULL, logits, V);
      if (cfg->final_softcap > 0)
        {
          float cap = (float) cfg->final_softcap;
#pragma omp parallel for simd schedule(static)
          for (gsize i = 0; i < (gsize) rows * V; i++)
            logits[i] = cap * fast_tanh (logits[i] / cap);
        }
    }
  return TRUE;
}

static gboolean
forward_gpu (Ctx *c, CsGpuModel *gm, const CsForwardOptions *opt, Hook *hooks, guint n_hooks, float *logits,
             GError **error)
{
  const CsCudaVTable *vt = cs_gpu_get (NULL);
  CsCudaForwardArgs a = { 0 };
  g_autofree int *kinds = g_new0 (int, MAX (n_hooks, 1));
  g_autofree int *layers = g_new0 (int, MAX (n_hooks, 1));
  g_autofree float **outs = g_new0 (float *, MAX (n_hooks, 1));
  g_autofree float *resume = NULL;
  char err[512] = "";

  for (guint i = 0; i < n_hooks; i++)
    {
      kinds[i] = hooks[i].kind == HOOK_PRE ? CS_CUDA_HOOK_PRE :
                 hooks[i].kind == HOOK_POST ? CS_CUDA_HOOK_POST : CS_CUDA_HOOK_FINAL;
      layers[i] = hooks[i].layer;
      outs[i] = hooks[i].data;
    }
  a.T = c->T;
  a.batch = c->batch;
  a.ids = c->ids;
  a.positions = c->positions;
  a.offsets = c->offsets;
  a.lengths = c->lengths;
  a.n_hooks = (int) n_hooks;
  a.hook_kind = kinds;
  a.hook_layer = layers;
  a.hook_out = outs;
  a.steer_layer = opt->steer_layer;
  a.steer_multiplier = opt->steer_multiplier;
  a.steer_vector = opt->steer_vector;
  a.steer_from = opt->steer_from;
  a.resume_layer = opt->resume_layer;
  a.stop_layer = opt->stop_layer;
  if (opt->resume_layer >= 0)
    {
      resume = g_try_malloc ((gsize) c->T * c->cfg->hidden * sizeof (float));
      if (!resume)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the stream to resume from");
          return FALSE;
        }
      pack (c, opt->resume_from, c->seq, c->cfg->hidden, resume);
      a.resume_from = resume;
    }
  a.logits_mode = !logits ? CS_CUDA_LOGITS_NONE :
                  opt->logits == CS_LOGITS_LAST ? CS_CUDA_LOGITS_LAST : CS_CUDA_LOGITS_ALL;
  a.logits_out = logits;
  a.fast = opt->fast;
  if (vt->forward (cs_gpu_model_handle (gm), &a, err, sizeof err) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "the GPU forward pass failed: %s", err);
      return FALSE;
    }
  if (opt->progress)
    opt->progress (1.0, opt->progress_data);
  return TRUE;
}

CsForwardResult *
cs_forward_run (CsModel                 *model,
                const gint32 * const    *ids,
                const int               *lengths,
                int                      batch,
                const CsForwardOptions  *options,
                GCancellable            *cancellable,
                GError                 **error)
{
  static const CsForwardOptions defaults = CS_FORWARD_OPTIONS_INIT;
  const CsForwardOptions *opt = options ? options : &defaults;
  const CsModelConfig *cfg;
  g_autoptr(CsForwardResult) result = NULL;
  g_autofree Hook *hooks = NULL;
  g_autofree float *logits = NULL;
  CsGpuModel *gm = NULL;
  guint n_hooks = 0;
  Ctx c = { 0 };
  int d, V, maxlen = 0;
  gboolean ok = FALSE, ragged = FALSE, cpu_only = FALSE;

  g_return_val_if_fail (CS_IS_MODEL (model), NULL);
  g_return_val_if_fail (batch > 0 && ids != NULL && lengths != NULL, NULL);

  cs_backend_init ();
  cfg = cs_model_get_config (model);
  d = cfg->hidden;
  V = cfg->vocab;

  for (int b = 0; b < batch; b++)
    {
      if (lengths[b] <= 0)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "prompt %d is empty", b);
          return NULL;
        }
      if (lengths[b] > cfg->max_positions)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                       "prompt %d has %d tokens, longer than the model's context of %d",
                       b, lengths[b], cfg->max_positions);
          return NULL;
        }
      for (int i = 0; i < lengths[b]; i++)
        if (ids[b][i] < 0 || ids[b][i] >= V)
          {
            g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                         "token id %d (prompt %d, position %d) is outside the vocabulary (0 to %d)",
                         ids[b][i], b, i, V - 1);
            return NULL;
          }
      maxlen = MAX (maxlen, lengths[b]);
      c.T += lengths[b];
    }
  for (int b = 0; b < batch; b++)
    ragged = ragged || lengths[b] != maxlen;
  if (opt->steer_layer >= 0 && (opt->steer_layer >= cfg->n_layers || !opt->steer_vector))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                   "steering layer %d is outside the model's layers (0 to %d)",
                   opt->steer_layer, cfg->n_layers - 1);
      return NULL;
    }

  if (opt->steer_multipliers && opt->device == CS_DEVICE_CUDA)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "one steering multiplier per prompt runs on the CPU only");
      return NULL;
    }
  if (opt->cache)
    {
      CsForwardCache *kv = opt->cache;
      gboolean layers = TRUE;
      for (int l = MAX (0, opt->resume_layer + 1); l < kv->n_layers; l++)
        layers = layers && kv->k[l] != NULL;
      if (kv->batch != batch || kv->n_layers != cfg->n_layers || !layers || opt->stop_layer >= 0 ||
          opt->device == CS_DEVICE_CUDA)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "a key-value cache serves a CPU run of its own batch "
                       "(%d sequences) to the logits, holding every layer the run computes", kv->batch);
          return NULL;
        }
      for (int b = 0; b < batch; b++)
        if (kv->len[b] + lengths[b] > kv->max_len)
          {
            g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "sequence %d would reach %d tokens, more than the %d its "
                         "cache holds", b, kv->len[b] + lengths[b], kv->max_len);
            return NULL;
          }
    }
  if (opt->stop_layer >= 0 &&
      (opt->stop_layer >= cfg->n_layers || opt->stop_layer <= opt->resume_layer || opt->logits != CS_LOGITS_NONE ||
       opt->steer_layer > opt->stop_layer))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                   "stopping after layer %d: it must be one of the model's layers (0 to %d) after any resume layer "
                   "and steering, with no logits asked for", opt->stop_layer, cfg->n_layers - 1);
      return NULL;
    }
  if (opt->resume_layer >= 0 &&
      (opt->resume_layer >= cfg->n_layers || !opt->resume_from ||
       (opt->steer_layer >= 0 && opt->steer_layer < opt->resume_layer)))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                   "resuming after layer %d: it must be one of the model's layers (0 to %d), with the stream "
                   "given, and steering no earlier", opt->resume_layer, cfg->n_layers - 1);
      return NULL;
    }
  if (opt->capture)
    {
      n_hooks = g_strv_length ((char **) opt->capture);
      hooks = g_new0 (Hook, n_hooks);
      for (guint i = 0; i < n_hooks; i++)
        {
          if (!fwd_parse_hook (model, opt->capture[i], &hooks[i], error))
            return NULL;
          if (opt->stop_layer >= 0 && hooks[i].layer > opt->stop_layer)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%s comes after the layer the run stops at (%d)",
                           opt->capture[i], opt->stop_layer);
              return NULL;
            }
          if (opt->resume_layer >= 0 &&
              (hooks[i].layer < opt->resume_layer || (hooks[i].layer == opt->resume_layer && hooks[i].kind == HOOK_PRE)))
            {
              g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%s comes before the stream the run resumes from "
                           "(resid_post.%d)", opt->capture[i], opt->resume_layer);
              return NULL;
            }
        }
    }

  /* patches: where each applies, checked */
  if (!fwd_parse_patches (&c, model, opt, batch, lengths, error))
    goto refused;
  for (guint i = 0; i < n_hooks; i++)
    cpu_only = cpu_only || hooks[i].kind > HOOK_FINAL;
  cpu_only = cpu_only || opt->n_patches > 0;
  if (cpu_only && opt->device == CS_DEVICE_CUDA)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "patches and the attention and MLP hooks (attn_z, "
                   "head_result, attn_out, mlp_out) run on the CPU for now");
      goto refused;
    }

  /* Where to run: the GPU when asked for or available; an automatic choice
   * falls back to the CPU when the model does not fit. */
  {
    GError *local_error = NULL;
    if (!cpu_only && !opt->cache && !opt->steer_multipliers && cs_gpu_should_use (opt->device, &local_error))
      {
        gm = cs_gpu_model_for (model, &local_error);
        if (!gm && opt->device == CS_DEVICE_AUTO)
          {
            static gsize reported = 0;
            if (g_once_init_enter (&reported))
              {
                g_printerr ("ConceptScope: computing on the CPU (%s)\n", local_error->message);
                g_once_init_leave (&reported, 1);
              }
            g_clear_error (&local_error);
          }
      }
    if (local_error)
      {
        g_propagate_error (error, local_error);
        goto refused;
      }
  }

  result = g_new0 (CsForwardResult, 1);
  result->batch = batch;
  result->seq = maxlen;
  result->vocab = V;
  result->hidden = d;
  result->lengths = g_memdup2 (lengths, sizeof (int) * batch);
  result->capture_names = g_ptr_array_new_with_free_func (g_free);
  result->captures = g_ptr_array_new_with_free_func (g_free);
  result->device = gm ? CS_DEVICE_CUDA : CS_DEVICE_CPU;

  c.model = model;
  c.cfg = cfg;
  c.batch = batch;
  c.seq = maxlen;
  c.past = opt->cache ? opt->cache->len : NULL;
  c.lengths = lengths;
  c.offsets = g_new (int, batch);
  c.positions = g_new (int, c.T);
  c.ids = g_new (gint32, c.T);
  for (int b = 0, t = 0; b < batch; b++)
    {
      c.offsets[b] = t;
      for (int i = 0; i < lengths[b]; i++)
        {
          c.ids[t] = ids[b][i];
          c.positions[t++] = (opt->cache ? opt->cache->len[b] : 0) + i;
        }
    }

  for (guint i = 0; i < n_hooks; i++)
    if (!(hooks[i].data = cs_alloc_large ((gsize) c.T * hooks[i].width * sizeof (float))))
      {
        g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the captures");
        goto out;
      }
  if (opt->logits != CS_LOGITS_NONE)
    {
      int rows = opt->logits == CS_LOGITS_ALL ? c.T : batch;
      logits = cs_alloc_large ((gsize) rows * V * sizeof (float));
      if (!logits)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY,
                       "not enough memory for %d × %d logits; ask for the last position's logits only", rows, V);
          goto out;
        }
    }

  if (gm)
    {
      GError *gpu_error = NULL;
      if (!forward_gpu (&c, gm, opt, hooks, n_hooks, logits, &gpu_error))
        {
          /* chosen, not asked for: a GPU that fails (out of memory for this
           * batch, a driver error) leaves the work to the CPU */
          if (opt->device != CS_DEVICE_AUTO)
            {
              g_propagate_error (error, gpu_error);
              goto out;
            }
          {
            static gsize reported = 0;
            if (g_once_init_enter (&reported))
              {
                g_printerr ("ConceptScope: %s; computing on the CPU instead\n", gpu_error->message);
                g_once_init_leave (&reported, 1);
              }
          }
          g_clear_error (&gpu_error);
          result->device = CS_DEVICE_CPU;
          if (!forward_cpu (&c, ids, opt, hooks, n_hooks, logits, cancellable, error))
            goto out;
        }
    }
  else if (!forward_cpu (&c, ids, opt, hooks, n_hooks, logits, cancellable, error))
    goto out;

  /* Prompts of equal length are already laid out as [batch, seq, …]. */
  if (logits && opt->logits == CS_LOGITS_ALL && ragged)
    {
      result->logits = unpack (&c, logits, maxlen, V);
      if (!result->logits)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the padded logits");
          goto out;
        }
    }
  else
    result->logits = g_steal_pointer (&logits);

  for (guint i = 0; i < n_hooks; i++)
    {
      float *data = ragged ? unpack (&c, hooks[i].data, maxlen, hooks[i].width) : g_steal_pointer (&hooks[i].data);
      if (!data)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the captures");
          goto out;
        }
      g_ptr_array_add (result->capture_names, g_strdup (opt->capture[i]));
      g_ptr_array_add (result->captures, data);
    }
  if (opt->progress)
    opt->progress (1.0, opt->progress_data);
  ok = TRUE;

out:
  for (guint i = 0; i < n_hooks; i++)
    g_free (hooks[i].data);
  g_free (c.convert);
  g_free (c.offsets);
  g_free (c.positions);
  g_free (c.ids);
  g_free (c.rope_inv_freq);
  g_free (c.patches);
  return ok ? g_steal_pointer (&result) : NULL;
refused:
  g_free (c.patches);
  return NULL;
}

gboolean
cs_forward_unembed (CsModel *model, const float *x, int n, float *normed, float *logits)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  Ctx c = { 0 };
  int d = cfg->hidden, V = cfg->vocab;
  g_autofree float *h = normed ? NULL : g_new (float, (gsize) MAX (1, n) * d);
  float *y = normed ? normed : h;

  c.model = model;
  c.cfg = cfg;
  c.T = n;
  norm (&c, x, y, n, cs_model_get_final_norm_w (model), cs_model_get_final_norm_b (model));
  if (!logits)
    return TRUE;
  c.convert = cs_tensor_is_f32_aligned (cs_model_get_unembedding (model)) ? NULL : g_new (float, CONVERT_CHUNK_FLOATS);
  fwd_linear (&c, y, n, d, cs_model_get_unembedding (model), FALSE, NULL, logits, V);
  g_free (c.convert);
  if (cfg->final_softcap > 0)
    {
      float cap = (float) cfg->final_softcap;
      for (gsize i = 0; i < (gsize) n * V; i++)
        logits[i] = cap * fast_tanh (logits[i] / cap);
    }
  return TRUE;
}
