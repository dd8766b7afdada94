/* The forward pass against Hugging Face transformers' own outputs
 * (tests/data/reference/<model>/reference.safetensors): logits, every
 * residual-stream hook, steering, and batches of unequal prompts. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cs-error.h"
#include "cs-forward.h"
#include "cs-model.h"
#include "cs-safetensors.h"

typedef struct
{
  CsModel       *model;
  CsSafetensors *ref;
  int            batch, seq;
  gint32        *ids;
} Ref;

static void
ref_clear (Ref *r)
{
  g_clear_object (&r->model);
  g_clear_pointer (&r->ref, cs_safetensors_unref);
  g_free (r->ids);
}

static void
ref_open (Ref *r, const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *refpath = g_build_filename (dir, "reference.safetensors", NULL);

  r->model = cs_model_open (dir, &error);
  g_assert_no_error (error);
  r->ref = cs_safetensors_open (refpath, &error);
  g_assert_no_error (error);
  const CsTensor *ids = cs_safetensors_lookup (r->ref, "input_ids");
  g_assert_nonnull (ids);
  g_assert_cmpint (ids->dtype, ==, CS_DTYPE_I64);
  r->batch = (int) ids->shape[0];
  r->seq = (int) ids->shape[1];
  r->ids = g_new (gint32, r->batch * r->seq);
  for (int i = 0; i < r->batch * r->seq; i++)
    {
      gint64 v;
      memcpy (&v, (const guint8 *) ids->data + 8 * i, 8);
      r->ids[i] = (gint32) v;
    }
}

static float *
ref_f32 (Ref *r, const char *name, gsize *n)
{
  const CsTensor *t = cs_safetensors_lookup (r->ref, name);
  g_assert_nonnull (t);
  *n = (gsize) cs_tensor_numel (t);
  float *out = g_new (float, *n);
  cs_tensor_read_f32 (t, 0, *n, out);
  return out;
}

static double
max_abs_diff (const float *a, const float *b, gsize n)
{
  double m = 0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs ((double) a[i] - b[i]));
  return m;
}

static CsForwardResult *
run_ref (Ref *r, const CsForwardOptions *opt)
{
  g_autoptr(GError) error = NULL;
  const gint32 **rows = g_new (const gint32 *, r->batch);
  int *lengths = g_new (int, r->batch);
  for (int b = 0; b < r->batch; b++)
    {
      rows[b] = r->ids + b * r->seq;
      lengths[b] = r->seq;
    }
  CsForwardResult *res = cs_forward_run (r->model, rows, lengths, r->batch, opt, NULL, &error);
  g_assert_no_error (error);
  g_free (rows);
  g_free (lengths);
  return res;
}

static void
test_reference_model (gconstpointer data)
{
  const char *name = data;
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", name, NULL);
  Ref r = { 0 };
  const CsModelConfig *cfg;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  gsize n;

  ref_open (&r, dir);
  cfg = cs_model_get_config (r.model);
  gboolean has_hooks = cs_safetensors_lookup (r.ref, "resid_pre.0") != NULL;

  if (has_hooks)
    {
      for (int l = 0; l < cfg->n_layers; l++)
        {
          g_ptr_array_add (names, g_strdup_printf ("resid_pre.%d", l));
          g_ptr_array_add (names, g_strdup_printf ("resid_post.%d", l));
        }
      g_ptr_array_add (names, g_strdup ("final_norm"));
      g_ptr_array_add (names, NULL);
      opt.capture = (const char * const *) names->pdata;
    }

  g_autoptr(CsForwardResult) res = run_ref (&r, &opt);
  g_autofree float *logits = ref_f32 (&r, "logits", &n);
  g_assert_cmpuint (n, ==, (gsize) r.batch * r.seq * cfg->vocab);
  double dl = max_abs_diff (res->logits, logits, n);
  g_test_message ("%s: logits max |diff| %.3g", name, dl);
  g_assert_cmpfloat (dl, <, 1e-4);

  if (!has_hooks)
    goto done;

  for (guint i = 0; i + 1 < names->len; i++)
    {
      const char *hook = g_ptr_array_index (names, i);
      if (g_str_equal (hook, "final_norm"))
        continue;
      g_autofree float *want = ref_f32 (&r, hook, &n);
      const float *got = cs_forward_result_get_capture (res, hook);
      g_assert_nonnull (got);
      double dh = max_abs_diff (got, want, n);
      g_test_message ("%s: %s max |diff| %.3g", name, hook, dh);
      g_assert_cmpfloat (dh, <, 1e-4);
    }

  /* final_norm is what the unembedding reads: its product with the
   * unembedding (and the final soft-cap) must give HF's logits. */
  {
    const float *fin = cs_forward_result_get_capture (res, "final_norm");
    const CsTensor *U = cs_model_get_unembedding (r.model);
    int d = cfg->hidden;
    g_autofree float *u = g_new (float, (gsize) cfg->vocab * d);
    double worst = 0;
    cs_tensor_read_f32 (U, 0, (gsize) cfg->vocab * d, u);
    for (int t = 0; t < r.batch * r.seq; t += 5)
      for (int v = 0; v < cfg->vocab; v++)
        {
          double s = 0;
          for (int j = 0; j < d; j++)
            s += (double) fin[(gsize) t * d + j] * u[(gsize) v * d + j];
          if (cfg->final_softcap > 0)
            s = cfg->final_softcap * tanh (s / cfg->final_softcap);
          worst = MAX (worst, fabs (s - logits[(gsize) t * cfg->vocab + v]));
        }
    g_test_message ("%s: final_norm · Uᵀ max |diff| %.3g", name, worst);
    g_assert_cmpfloat (worst, <, 1e-4);
  }

  /* Steering at every position, as the reference's hook did. */
  {
    const char *layer_s = cs_safetensors_get_metadata (r.ref, "steer_layer");
    const char *mult_s = cs_safetensors_get_metadata (r.ref, "steer_multiplier");
    g_autofree float *vec = ref_f32 (&r, "steer_vector", &n);
    g_autofree float *want = NULL;
    CsForwardOptions sopt = CS_FORWARD_OPTIONS_INIT;

    g_assert_nonnull (layer_s);
    g_assert_nonnull (mult_s);
    g_assert_cmpuint (n, ==, (gsize) cfg->hidden);
    sopt.steer_layer = atoi (layer_s);
    sopt.steer_multiplier = (float) g_ascii_strtod (mult_s, NULL);
    sopt.steer_vector = vec;
    g_autoptr(CsForwardResult) sres = run_ref (&r, &sopt);
    want = ref_f32 (&r, "steered_logits", &n);
    double ds = max_abs_diff (sres->logits, want, n);
    g_test_message ("%s: steered logits max |diff| %.3g (layer %s, ×%s)", name, ds, layer_s, mult_s);
    g_assert_cmpfloat (ds, <, 1e-4);
    /* The steering changed something: the test would notice it missing. */
    g_assert_cmpfloat (max_abs_diff (sres->logits, res->logits, n), >, 1e-2);

    /* Resuming from the unsteered stream at the steering layer (steering
     * added to the given stream) and from the layer before it (steering
     * on the way) gives transformers' steered logits too. */
    for (int from = sopt.steer_layer; from >= MAX (0, sopt.steer_layer - 1); from--)
      {
        g_autofree char *hook = g_strdup_printf ("resid_post.%d", from);
        const char *caps[] = { hook, NULL };
        CsForwardOptions copt = CS_FORWARD_OPTIONS_INIT;
        CsForwardOptions ropt = sopt;
        copt.capture = caps;
        copt.logits = CS_LOGITS_NONE;
        copt.stop_layer = from;   /* the layers after it are not needed */
        g_autoptr(CsForwardResult) cap = run_ref (&r, &copt);
        ropt.resume_layer = from;
        ropt.resume_from = cs_forward_result_get_capture (cap, hook);
        g_autoptr(CsForwardResult) resumed = run_ref (&r, &ropt);
        double dr = max_abs_diff (resumed->logits, want, n);
        g_test_message ("%s: resumed after layer %d, steered at %d: max |diff| %.3g", name, from, sopt.steer_layer, dr);
        g_assert_cmpfloat (dr, <, 1e-4);
      }
  }

done:
  ref_clear (&r);
}

/* A batch of prompts of different lengths gives what each prompt gives alone. */
static void
test_ragged_batch (gconstpointer data)
{
  const char *name = data;
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", name, NULL);
  Ref r = { 0 };
  g_autoptr(GError) error = NULL;
  const char *caps[] = { "resid_post.1", NULL };
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;

  ref_open (&r, dir);
  opt.capture = caps;
  int V = cs_model_get_config (r.model)->vocab, d = cs_model_get_config (r.model)->hidden;
  int lens[3] = { 5, r.seq, 11 };
  const gint32 *rows[3] = { r.ids + r.seq, r.ids, r.ids + r.seq + 2 };
  g_autoptr(CsForwardResult) all = cs_forward_run (r.model, rows, lens, 3, &opt, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (all->seq, ==, r.seq);
  for (int b = 0; b < 3; b++)
    {
      g_autoptr(CsForwardResult) one = cs_forward_run (r.model, &rows[b], &lens[b], 1, &opt, NULL, &error);
      g_assert_no_error (error);
      double dl = max_abs_diff (all->logits + (gsize) b * r.seq * V, one->logits, (gsize) lens[b] * V);
      double dc = max_abs_diff (cs_forward_result_get_capture (all, "resid_post.1") + (gsize) b * r.seq * d,
                                cs_forward_result_get_capture (one, "resid_post.1"), (gsize) lens[b] * d);
      g_assert_cmpfloat (dl, <, 1e-5);
      g_assert_cmpfloat (dc, <, 1e-5);
      /* padding stays zero */
      for (gsize k = (gsize) lens[b] * V; k < (gsize) r.seq * V; k++)
        g_assert_cmpfloat (all->logits[(gsize) b * r.seq * V + k], ==, 0.0f);
    }

  /* Last-position logits equal the matching rows of the full ones. */
  opt.logits = CS_LOGITS_LAST;
  opt.capture = NULL;
  g_autoptr(CsForwardResult) last = cs_forward_run (r.model, rows, lens, 3, &opt, NULL, &error);
  g_assert_no_error (error);
  for (int b = 0; b < 3; b++)
    g_assert_cmpfloat (max_abs_diff (last->logits + (gsize) b * V,
                                     all->logits + ((gsize) b * r.seq + lens[b] - 1) * V, V), <, 1e-5);
  ref_clear (&r);
}

/* The attention and MLP hooks: for every layer, resid_pre + attn_out +
 * mlp_out is transformers' resid_post (the oracle's own tensors), and
 * the heads' results plus the output bias sum to attn_out (Gemma 2: its
 * post-attention norm of that sum). Patches: the clean stream patched
 * into another prompt at every position of a layer gives the clean
 * logits; a patch that adds at resid_post equals steering; one head's z
 * patched in changes exactly that head's result. */
static void
test_head_hooks (gconstpointer data)
{
  const char *name = data;
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", name, NULL);
  Ref r = { 0 };
  g_autoptr(GError) error = NULL;
  const CsModelConfig *cfg;
  int d, H, hd, nl;
  double worst_sum = 0, worst_block = 0;

  ref_open (&r, dir);
  cfg = cs_model_get_config (r.model);
  d = cfg->hidden;
  H = cfg->n_heads;
  hd = cfg->head_dim;
  nl = cfg->n_layers;
  for (int l = 0; l < nl; l++)
    {
      g_autofree char *z = g_strdup_printf ("attn_z.%d", l), *hr = g_strdup_printf ("head_result.%d", l);
      g_autofree char *ao = g_strdup_printf ("attn_out.%d", l), *mo = g_strdup_printf ("mlp_out.%d", l);
      g_autofree char *pre = g_strdup_printf ("resid_pre.%d", l), *post = g_strdup_printf ("resid_post.%d", l);
      const char *caps[] = { z, hr, ao, mo, NULL };
      CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
      g_autoptr(CsForwardResult) res = NULL;
      g_autofree float *rpre = NULL, *rpost = NULL, *bias = g_new0 (float, d), *nw = g_new (float, d);
      const CsLayerWeights *L = cs_model_get_layer (r.model, l);
      const float *hres, *aout, *mout;
      gsize n;

      opt.capture = caps;
      opt.device = CS_DEVICE_CPU;
      res = run_ref (&r, &opt);
      g_assert_cmpint (cs_forward_hook_width (r.model, z), ==, H * hd);
      g_assert_cmpint (cs_forward_hook_width (r.model, hr), ==, H * d);
      hres = cs_forward_result_get_capture (res, hr);
      aout = cs_forward_result_get_capture (res, ao);
      mout = cs_forward_result_get_capture (res, mo);
      rpre = ref_f32 (&r, pre, &n);
      rpost = ref_f32 (&r, post, &n);
      for (gsize i = 0; i < n; i++)
        worst_block = MAX (worst_block, fabs ((double) rpre[i] + aout[i] + mout[i] - rpost[i]) /
                                            MAX (1.0, fabs (rpost[i])));
      if (L->o_b)
        cs_tensor_read_f32 (L->o_b, 0, d, bias);
      if (L->post_attn_norm_w)
        {
          cs_tensor_read_f32 (L->post_attn_norm_w, 0, d, nw);
          for (int j = 0; j < d; j++)
            nw[j] += 1.0f;   /* Gemma's RMSNorm scales by 1 + w */
        }
      for (int t = 0; t < r.batch * r.seq; t++)
        {
          double sum[512], ss = 0;
          g_assert_cmpint (d, <=, 512);
          for (int j = 0; j < d; j++)
            {
              sum[j] = bias[j];
              for (int h = 0; h < H; h++)
                sum[j] += hres[((gsize) t * H + h) * d + j];
              ss += sum[j] * sum[j];
            }
          for (int j = 0; j < d; j++)
            {
              double want = L->post_attn_norm_w ? sum[j] / sqrt (ss / d + cfg->norm_eps) * nw[j] : sum[j];
              worst_sum = MAX (worst_sum, fabs (want - aout[(gsize) t * d + j]) / MAX (1.0, fabs (want)));
            }
        }
    }
  g_test_message ("%s: resid_pre + attn_out + mlp_out vs transformers' resid_post %.2g; heads' sum vs attn_out %.2g",
                  name, worst_block, worst_sum);
  g_assert_cmpfloat (worst_block, <, 1e-4);
  g_assert_cmpfloat (worst_sum, <, 1e-4);

  /* denoising every position of a layer with the other prompt's stream gives its logits */
  {
    int V = cfg->vocab, l = nl - 2;
    g_autofree char *pre = g_strdup_printf ("resid_pre.%d", l);
    const char *caps[] = { pre, NULL };
    CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
    g_autoptr(CsForwardResult) base = NULL, patched = NULL;
    CsForwardPatch patch = { pre, 1, -1, -1, NULL, FALSE };
    opt.capture = caps;
    opt.device = CS_DEVICE_CPU;
    base = run_ref (&r, &opt);
    patch.values = cs_forward_result_get_capture (base, pre);   /* prompt 0's rows */
    opt.capture = NULL;
    opt.patches = &patch;
    opt.n_patches = 1;
    patched = run_ref (&r, &opt);
    g_assert_cmpfloat (max_abs_diff (patched->logits + (gsize) r.seq * V, base->logits, (gsize) r.seq * V), <, 1e-5);
    g_assert_cmpfloat (max_abs_diff (patched->logits, base->logits, (gsize) r.seq * V), ==, 0);

    /* adding at resid_post is steering */
    {
      gsize nv;
      g_autofree float *vec = ref_f32 (&r, "steer_vector", &nv);
      g_autofree float *rows = g_new (float, (gsize) r.seq * d);
      CsForwardPatch adds[2];
      g_autoptr(CsForwardResult) added = NULL, steered = NULL;
      CsForwardOptions so = CS_FORWARD_OPTIONS_INIT;
      for (int t = 0; t < r.seq; t++)
        for (int j = 0; j < d; j++)
          rows[(gsize) t * d + j] = 4.0f * vec[j];
      for (int b = 0; b < 2; b++)
        adds[b] = (CsForwardPatch) { "resid_post.1", b, -1, -1, rows, TRUE };
      opt.patches = adds;
      opt.n_patches = 2;
      added = run_ref (&r, &opt);
      so.device = CS_DEVICE_CPU;
      so.steer_layer = 1;
      so.steer_multiplier = 4.0f;
      so.steer_vector = vec;
      steered = run_ref (&r, &so);
      g_assert_cmpfloat (max_abs_diff (added->logits, steered->logits, (gsize) 2 * r.seq * V), <, 1e-5);
    }
  }

  /* one head's z from the other prompt at the last position: only that head's result changes there */
  {
    const char *caps[] = { "attn_z.1", "head_result.1", NULL };
    CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
    g_autoptr(CsForwardResult) base = NULL, patched = NULL;
    int h = H - 1, last = r.seq - 1;
    const float *z, *hr0, *hr1;
    CsForwardPatch patch = { "attn_z.1", 1, last, h, NULL, FALSE };
    opt.capture = caps;
    opt.device = CS_DEVICE_CPU;
    base = run_ref (&r, &opt);
    z = cs_forward_result_get_capture (base, "attn_z.1");
    patch.values = z + (gsize) last * H * hd + (gsize) h * hd;   /* prompt 0, last position, head h */
    opt.patches = &patch;
    opt.n_patches = 1;
    patched = run_ref (&r, &opt);
    hr0 = cs_forward_result_get_capture (base, "head_result.1");
    hr1 = cs_forward_result_get_capture (patched, "head_result.1");
    for (int t = 0; t < r.seq; t++)
      for (int k = 0; k < H; k++)
        {
          const float *got = hr1 + (((gsize) r.seq + t) * H + k) * d;
          const float *same = hr0 + (((gsize) r.seq + t) * H + k) * d;   /* prompt 1 unpatched */
          const float *donor = hr0 + ((gsize) t * H + k) * d;             /* prompt 0 */
          g_assert_cmpfloat (max_abs_diff (got, t == last && k == h ? donor : same, d), <, 1e-6);
        }
  }

  /* patches are checked */
  {
    CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
    float v[4096] = { 0 };
    const gint32 *rows[1] = { r.ids };
    int len = r.seq;
    CsForwardPatch bad[] = {
      { "head_result.0", 0, 0, -1, v, FALSE }, { "resid_pre.0", 0, 0, 0, v, FALSE }, { "attn_z.0", 0, r.seq, 0, v, FALSE },
      { "attn_z.0", 3, 0, 0, v, FALSE }, { "attn_z.0", 0, 0, H, v, FALSE }, { "resid_pre.9", 0, 0, -1, v, FALSE },
    };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(CsForwardResult) res = NULL;
        opt.patches = &bad[i];
        opt.n_patches = 1;
        res = cs_forward_run (r.model, rows, &len, 1, &opt, NULL, &error);
        g_assert_null (res);
        g_assert_nonnull (error);
        g_test_message ("refused: %s", error->message);
        g_clear_error (&error);
      }
    opt.n_patches = 0;
    opt.patches = NULL;
    opt.device = CS_DEVICE_CUDA;
    {
      const char *caps[] = { "attn_z.0", NULL };
      g_autoptr(CsForwardResult) res = NULL;
      opt.capture = caps;
      res = cs_forward_run (r.model, rows, &len, 1, &opt, NULL, &error);
      g_assert_null (res);
      g_assert_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED);
      g_clear_error (&error);
    }
  }
  ref_clear (&r);
}

static const int *
one_each (void)
{
  static const int ones[2] = { 1, 1 };
  return ones;
}

/* A key-value cache: a ragged batch's prefixes run once, then the rest of
 * each prompt token by token (steered, as generation does), gives the
 * logits of the whole prompts run at once (themselves checked against
 * transformers above); sliding-window layers included (gemma2). */
static void
test_cache (gconstpointer data)
{
  const char *name = data;
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", name, NULL);
  Ref r = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CsForwardCache) kv = NULL;
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  g_autofree float *vec = NULL;
  gsize n;
  int V, lens[2], pre[2];
  const gint32 *rows[2];
  double worst = 0;

  ref_open (&r, dir);
  g_assert_cmpint (r.batch, >=, 2);
  V = cs_model_get_config (r.model)->vocab;
  n = (gsize) cs_model_get_config (r.model)->hidden;
  vec = g_new (float, n);
  for (gsize j = 0; j < n; j++)
    vec[j] = (float) sin (j * 0.37);
  opt.steer_layer = 1;
  opt.steer_multiplier = 2.0f;
  opt.steer_vector = vec;
  lens[0] = r.seq;
  lens[1] = r.seq - 3;
  pre[0] = r.seq - 5;
  pre[1] = r.seq - 6;
  rows[0] = r.ids;
  rows[1] = r.ids + r.seq;
  g_autoptr(CsForwardResult) full = cs_forward_run (r.model, rows, lens, 2, &opt, NULL, &error);
  g_assert_no_error (error);

  kv = cs_forward_cache_new (r.model, 2, r.seq);
  opt.cache = kv;
  {
    g_autoptr(CsForwardResult) head = cs_forward_run (r.model, rows, pre, 2, &opt, NULL, &error);
    g_assert_no_error (error);
    for (int b = 0; b < 2; b++)
      worst = MAX (worst, max_abs_diff (head->logits + (gsize) b * head->seq * V,
                                        full->logits + (gsize) b * full->seq * V, (gsize) pre[b] * V));
  }
  opt.logits = CS_LOGITS_LAST;
  for (int step = 0; step < 5; step++)
    {
      /* both sequences go on by one token (the second stops at its end) */
      int nb = 0, which[2], one[2] = { 1, 1 };
      const gint32 *next[2];
      for (int b = 0; b < 2; b++)
        if (cs_forward_cache_length (kv, b) < lens[b])
          {
            which[nb] = b;
            next[nb++] = rows[b] + cs_forward_cache_length (kv, b);
          }
      if (nb < 2)
        break;
      g_autoptr(CsForwardResult) st = cs_forward_run (r.model, next, one, 2, &opt, NULL, &error);
      g_assert_no_error (error);
      for (int i = 0; i < nb; i++)
        {
          int b = which[i], pos = cs_forward_cache_length (kv, b) - 1;
          worst = MAX (worst, max_abs_diff (st->logits + (gsize) i * V,
                                            full->logits + ((gsize) b * full->seq + pos) * V, V));
        }
    }
  g_test_message ("%s: cached token-by-token vs whole prompts, max |diff| %.3g", name, worst);
  g_assert_cmpfloat (worst, <, 1e-4);
  g_assert_cmpint (cs_forward_cache_length (kv, 1), ==, lens[1]);

  /* too long for the cache; the GPU asked for */
  {
    int big[2] = { r.seq, r.seq };
    opt.logits = CS_LOGITS_ALL;
    g_assert_null (cs_forward_run (r.model, rows, big, 2, &opt, NULL, &error));
    g_assert_nonnull (strstr (error->message, "more than the"));
    g_clear_error (&error);
    opt.device = CS_DEVICE_CUDA;
    g_assert_null (cs_forward_run (r.model, rows, one_each (), 2, &opt, NULL, &error));
    g_assert_nonnull (strstr (error->message, "key-value cache serves a CPU run"));
  }
  ref_clear (&r);
}

/* One multiplier per prompt: each prompt's logits are those of a run with
 * its multiplier alone. */
static void
test_steer_per_prompt (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", "llama", NULL);
  Ref r = { 0 };
  g_autoptr(GError) error = NULL;
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  const float mults[2] = { 3.0f, -1.5f };
  g_autofree float *vec = NULL;
  gsize n;
  int V;

  ref_open (&r, dir);
  V = cs_model_get_config (r.model)->vocab;
  vec = ref_f32 (&r, "steer_vector", &n);
  opt.steer_layer = 1;
  opt.steer_vector = vec;
  opt.steer_multipliers = mults;
  g_autoptr(CsForwardResult) both = run_ref (&r, &opt);
  opt.steer_multipliers = NULL;
  for (int b = 0; b < 2; b++)
    {
      opt.steer_multiplier = mults[b];
      g_autoptr(CsForwardResult) one = run_ref (&r, &opt);
      g_assert_cmpfloat (max_abs_diff (both->logits + (gsize) b * r.seq * V, one->logits + (gsize) b * r.seq * V,
                                       (gsize) r.seq * V), <, 1e-6);
    }
  opt.steer_multipliers = mults;
  opt.device = CS_DEVICE_CUDA;
  {
    const gint32 *rows[2] = { r.ids, r.ids + r.seq };
    int lens[2] = { r.seq, r.seq };
    g_assert_null (cs_forward_run (r.model, rows, lens, 2, &opt, NULL, &error));
    g_assert_nonnull (strstr (error->message, "runs on the CPU only"));
  }
  ref_clear (&r);
}

/* Steering from a position on leaves earlier positions untouched. */
static void
test_steer_from_position (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", "llama", NULL);
  Ref r = { 0 };
  g_autoptr(GError) error = NULL;
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  gsize n;

  ref_open (&r, dir);
  int V = cs_model_get_config (r.model)->vocab;
  g_autofree float *vec = ref_f32 (&r, "steer_vector", &n);
  g_autoptr(CsForwardResult) base = run_ref (&r, &opt);
  opt.steer_layer = 1;
  opt.steer_multiplier = 4.0f;
  opt.steer_vector = vec;
  opt.steer_from = 6;
  g_autoptr(CsForwardResult) st = run_ref (&r, &opt);
  for (int b = 0; b < r.batch; b++)
    for (int p = 0; p < r.seq; p++)
      {
        double dd = max_abs_diff (st->logits + ((gsize) b * r.seq + p) * V,
                                  base->logits + ((gsize) b * r.seq + p) * V, V);
        if (p < 6)
          g_assert_cmpfloat (dd, ==, 0.0);
        else
          g_assert_cmpfloat (dd, >, 1e-3);
      }
  ref_clear (&r);
}

static void
test_sample_model (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "sample-model", NULL);
  Ref r = { 0 };
  gsize n;

  ref_open (&r, dir);
  g_autoptr(CsForwardResult) res = run_ref (&r, NULL);
  g_autofree float *want = ref_f32 (&r, "logits", &n);
  double dl = max_abs_diff (res->logits, want, n);
  g_test_message ("sample-model (F16 weights): logits max |diff| %.3g", dl);
  g_assert_cmpfloat (dl, <, 1e-4);
  ref_clear (&r);
}

/* Qwen2 and Mistral share Llama's layout. A Llama checkpoint relabelled as
 * Qwen2 with zero q/k/v biases, or as Mistral without a sliding window, must
 * give transformers' Llama logits; and a value bias b in Qwen2 must act as an
 * output-projection bias W_o·b would (attention weights sum to one). */
static char *
relabel_llama (const char *name, const char *arch, const char *model_type, const char *extra_config,
               const float *v_bias, gboolean o_bias_from_v)
{
  g_autofree char *src = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", "llama", NULL);
  g_autofree char *src_st = g_build_filename (src, "model.safetensors", NULL);
  g_autofree char *src_cfg = g_build_filename (src, "config.json", NULL);
  g_autofree char *cfg = NULL;
  char *dir = g_build_filename (g_get_tmp_dir (), name, NULL);
  g_autofree char *dst_st = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *dst_cfg = g_build_filename (dir, "config.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSafetensors) st = cs_safetensors_open (src_st, &error);
  g_autoptr(GArray) tensors = g_array_new (FALSE, FALSE, sizeof (CsTensor));
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  int d = 64, qd = 64, kvd = 32;

  g_assert_no_error (error);
  g_mkdir_with_parents (dir, 0755);
  for (guint i = 0; i < cs_safetensors_get_n_tensors (st); i++)
    g_array_append_val (tensors, *cs_safetensors_get_nth (st, i));
  for (int l = 0; l < 3; l++)
    {
      const char *names[] = { "q_proj", "k_proj", "v_proj" };
      int sizes[] = { qd, kvd, kvd };
      for (int k = 0; k < 3 && !o_bias_from_v && model_type[0] == 'q'; k++)
        {
          CsTensor t = { 0 };
          float *data = g_new0 (float, sizes[k]);
          if (k == 2 && v_bias)
            memcpy (data, v_bias, sizeof (float) * kvd);
          t.name = g_strdup_printf ("model.layers.%d.self_attn.%s.bias", l, names[k]);
          t.dtype = CS_DTYPE_F32;
          t.ndim = 1;
          t.shape[0] = sizes[k];
          t.data = data;
          t.nbytes = sizeof (float) * sizes[k];
          g_ptr_array_add (owned, t.name);
          g_ptr_array_add (owned, data);
          g_array_append_val (tensors, t);
        }
      if (o_bias_from_v)
        {
          /* o_bias = W_o · [b repeated over the query heads of each kv head] */
          g_autofree char *wname = g_strdup_printf ("model.layers.%d.self_attn.o_proj.weight", l);
          const CsTensor *wo = cs_safetensors_lookup (st, wname);
          g_autofree float *w = g_new (float, d * qd);
          float *bias = g_new0 (float, d);
          cs_tensor_read_f32 (wo, 0, d * qd, w);
          for (int i = 0; i < d; i++)
            for (int j = 0; j < qd; j++)
              bias[i] += w[i * qd + j] * v_bias[(j / 16 / 2) * 16 + j % 16];
          CsTensor t = { 0 };
          t.name = g_strdup_printf ("model.layers.%d.self_attn.o_proj.bias", l);
          t.dtype = CS_DTYPE_F32;
          t.ndim = 1;
          t.shape[0] = d;
          t.data = bias;
          t.nbytes = sizeof (float) * d;
          g_ptr_array_add (owned, t.name);
          g_ptr_array_add (owned, bias);
          g_array_append_val (tensors, t);
        }
    }
  g_assert_true (cs_safetensors_write (dst_st, (CsTensor *) tensors->data, tensors->len, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (src_cfg, &cfg, NULL, NULL));
  {
    g_autoptr(GString) c = g_string_new (cfg);
    g_autofree char *a = g_strdup_printf ("\"%s\"", arch);
    g_autofree char *mt = g_strdup_printf ("\"model_type\": \"%s\"%s", model_type, extra_config);
    g_string_replace (c, "\"LlamaForCausalLM\"", a, 1);
    g_string_replace (c, "\"model_type\": \"llama\"", mt, 1);
    g_assert_true (g_file_set_contents (dst_cfg, c->str, -1, NULL));
  }
  return dir;
}

static float *
run_dir (const char *dir, Ref *ids_from, const char **arch_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) m = cs_model_open (dir, &error);
  g_assert_no_error (error);
  if (arch_out)
    *arch_out = g_intern_string (cs_model_get_config (m)->architecture);
  CsModel *saved = ids_from->model;
  ids_from->model = m;
  CsForwardResult *r = run_ref (ids_from, NULL);
  ids_from->model = saved;
  float *logits = g_steal_pointer (&r->logits);
  cs_forward_result_free (r);
  return logits;
}

static void
test_llama_family (void)
{
  g_autofree char *llama = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", "llama", NULL);
  Ref r = { 0 };
  gsize n;
  const char *arch = NULL;
  float vb[32];

  ref_open (&r, llama);
  g_autofree float *want = ref_f32 (&r, "logits", &n);
  for (int i = 0; i < 32; i++)
    vb[i] = (float) cos (i * 1.3) * 0.5f;

  g_autofree char *qwen = relabel_llama ("cs-qwen2-zero", "Qwen2ForCausalLM", "qwen2", "", NULL, FALSE);
  g_autofree float *lq = run_dir (qwen, &r, &arch);
  g_assert_cmpstr (arch, ==, "Qwen2ForCausalLM");
  g_assert_cmpfloat (max_abs_diff (lq, want, n), <, 1e-4);

  g_autofree char *mistral = relabel_llama ("cs-mistral", "MistralForCausalLM", "mistral",
                                            ", \"sliding_window\": null", NULL, FALSE);
  g_autofree float *lm = run_dir (mistral, &r, &arch);
  g_assert_cmpstr (arch, ==, "MistralForCausalLM");
  g_assert_cmpfloat (max_abs_diff (lm, want, n), <, 1e-4);

  /* Mistral with a 4-token window attends to less: the logits must change. */
  g_autofree char *mistral_w = relabel_llama ("cs-mistral-w", "MistralForCausalLM", "mistral",
                                              ", \"sliding_window\": 4", NULL, FALSE);
  g_autofree float *lw = run_dir (mistral_w, &r, NULL);
  g_assert_cmpfloat (max_abs_diff (lw, want, n), >, 1e-2);

  g_autofree char *qwen_b = relabel_llama ("cs-qwen2-vbias", "Qwen2ForCausalLM", "qwen2", "", vb, FALSE);
  g_autofree char *llama_o = relabel_llama ("cs-llama-obias", "LlamaForCausalLM", "llama", "", vb, TRUE);
  g_autofree float *lqb = run_dir (qwen_b, &r, NULL);
  g_autofree float *lob = run_dir (llama_o, &r, NULL);
  g_test_message ("Qwen2 v-bias vs Llama o-bias: max |diff| %.3g; vs no bias %.3g",
                  max_abs_diff (lqb, lob, n), max_abs_diff (lqb, want, n));
  g_assert_cmpfloat (max_abs_diff (lqb, lob, n), <, 1e-4);
  g_assert_cmpfloat (max_abs_diff (lqb, want, n), >, 1e-2);
  ref_clear (&r);
}

/* The same weights split into two shards with model.safetensors.index.json
 * give the reference logits. */
static void
test_sharded (void)
{
  g_autofree char *src = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", "gpt2", NULL);
  g_autofree char *src_st = g_build_filename (src, "model.safetensors", NULL);
  g_autofree char *src_cfg = g_build_filename (src, "config.json", NULL);
  g_autofree char *dir = g_dir_make_tmp ("cs-shards-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSafetensors) st = cs_safetensors_open (src_st, &error);
  g_autoptr(GArray) a = g_array_new (FALSE, FALSE, sizeof (CsTensor));
  g_autoptr(GArray) b = g_array_new (FALSE, FALSE, sizeof (CsTensor));
  g_autoptr(GString) index = g_string_new ("{\"metadata\": {}, \"weight_map\": {");
  g_autofree char *cfg = NULL;
  Ref r = { 0 };
  gsize n;

  g_assert_no_error (error);
  for (guint i = 0; i < cs_safetensors_get_n_tensors (st); i++)
    {
      const CsTensor *t = cs_safetensors_get_nth (st, i);
      g_array_append_val (i % 2 ? b : a, *t);
      g_string_append_printf (index, "%s\"%s\": \"%s\"", i ? ", " : "", t->name,
                              i % 2 ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors");
    }
  g_string_append (index, "}}");
  {
    g_autofree char *p1 = g_build_filename (dir, "model-00001-of-00002.safetensors", NULL);
    g_autofree char *p2 = g_build_filename (dir, "model-00002-of-00002.safetensors", NULL);
    g_autofree char *pi = g_build_filename (dir, "model.safetensors.index.json", NULL);
    g_autofree char *pc = g_build_filename (dir, "config.json", NULL);
    g_assert_true (cs_safetensors_write (p1, (CsTensor *) a->data, a->len, NULL, &error));
    g_assert_true (cs_safetensors_write (p2, (CsTensor *) b->data, b->len, NULL, &error));
    g_assert_true (g_file_set_contents (pi, index->str, -1, NULL));
    g_assert_true (g_file_get_contents (src_cfg, &cfg, NULL, NULL));
    g_assert_true (g_file_set_contents (pc, cfg, -1, NULL));
  }
  /* the reference ids and logits come from the original folder */
  ref_open (&r, src);
  g_clear_object (&r.model);
  r.model = cs_model_open (dir, &error);
  g_assert_no_error (error);
  g_autoptr(CsForwardResult) res = run_ref (&r, NULL);
  g_autofree float *want = ref_f32 (&r, "logits", &n);
  g_assert_cmpfloat (max_abs_diff (res->logits, want, n), <, 1e-4);
  ref_clear (&r);
}

static void
test_bad_requests (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", "gpt2", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) m = cs_model_open (dir, &error);
  gint32 ids[80] = { 0 };
  const gint32 *rows[1] = { ids };
  int len = 4;
  const char *caps[] = { "resid_post.7", NULL };
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;

  g_assert_no_error (error);
  ids[2] = 512;
  g_assert_null (cs_forward_run (m, rows, &len, 1, NULL, NULL, &error));
  g_assert_error (error, CS_ERROR, CS_ERROR_RANGE);
  g_assert_nonnull (strstr (error->message, "token id 512"));
  g_assert_nonnull (strstr (error->message, "outside the vocabulary (0 to 511)"));
  g_clear_error (&error);

  ids[2] = 3;
  len = 65;
  g_assert_null (cs_forward_run (m, rows, &len, 1, NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, "has 65 tokens, longer than the model's context of 64"));
  g_clear_error (&error);

  len = 4;
  opt.capture = caps;
  g_assert_null (cs_forward_run (m, rows, &len, 1, &opt, NULL, &error));
  g_assert_nonnull (strstr (error->message, "the layer must be 0 to 2"));
  g_clear_error (&error);

  g_assert_false (cs_forward_check_capture_name (m, "attn.3", &error));
  g_assert_nonnull (strstr (error->message, "unknown capture point 'attn.3'"));
  g_clear_error (&error);

  /* resuming: a hook before the stream, steering before it, no stream */
  {
    float stream[4 * 64] = { 0 }, vec[64] = { 0 };
    const char *early[] = { "resid_pre.1", NULL };
    CsForwardOptions r = CS_FORWARD_OPTIONS_INIT;
    r.resume_layer = 1;
    r.resume_from = stream;
    r.capture = early;
    g_assert_null (cs_forward_run (m, rows, &len, 1, &r, NULL, &error));
    g_assert_nonnull (strstr (error->message, "resid_pre.1 comes before the stream the run resumes from (resid_post.1)"));
    g_clear_error (&error);
    r.capture = NULL;
    r.steer_layer = 0;
    r.steer_vector = vec;
    g_assert_null (cs_forward_run (m, rows, &len, 1, &r, NULL, &error));
    g_assert_nonnull (strstr (error->message, "steering no earlier"));
    g_clear_error (&error);
    r.steer_layer = -1;
    r.resume_from = NULL;
    g_assert_null (cs_forward_run (m, rows, &len, 1, &r, NULL, &error));
    g_assert_nonnull (strstr (error->message, "resuming after layer 1"));
    g_clear_error (&error);
    /* stopping: logits asked for, a hook after the stop */
    r = (CsForwardOptions) CS_FORWARD_OPTIONS_INIT;
    r.stop_layer = 0;
    g_assert_null (cs_forward_run (m, rows, &len, 1, &r, NULL, &error));
    g_assert_nonnull (strstr (error->message, "with no logits asked for"));
    g_clear_error (&error);
    r.logits = CS_LOGITS_NONE;
    r.capture = early;
    g_assert_null (cs_forward_run (m, rows, &len, 1, &r, NULL, &error));
    g_assert_nonnull (strstr (error->message, "resid_pre.1 comes after the layer the run stops at (0)"));
    g_clear_error (&error);
  }

  {
    g_autoptr(GCancellable) c = g_cancellable_new ();
    g_cancellable_cancel (c);
    g_assert_null (cs_forward_run (m, rows, &len, 1, NULL, c, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }
}

int
main (int argc, char **argv)
{
  static const char *models[] = { "gpt2", "gpt2-bf16", "gpt2-hubstyle", "llama", "gemma", "gemma2" };
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *path = g_strdup_printf ("/forward/reference/%s", models[i]);
      g_test_add_data_func (path, models[i], test_reference_model);
    }
  g_test_add_data_func ("/forward/ragged/gpt2", "gpt2", test_ragged_batch);
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    if (!g_str_equal (models[i], "gpt2-bf16") && !g_str_equal (models[i], "gpt2-hubstyle"))
      {
        g_autofree char *path = g_strdup_printf ("/forward/head-hooks/%s", models[i]);
        g_test_add_data_func (path, models[i], test_head_hooks);
      }
  g_test_add_data_func ("/forward/ragged/gemma2", "gemma2", test_ragged_batch);
  g_test_add_func ("/forward/steer-from", test_steer_from_position);
  g_test_add_func ("/forward/steer-per-prompt", test_steer_per_prompt);
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *path = g_strdup_printf ("/forward/cache/%s", models[i]);
      g_test_add_data_func (path, models[i], test_cache);
    }
  g_test_add_func ("/forward/qwen2-mistral", test_llama_family);
  g_test_add_func ("/forward/sample-model", test_sample_model);
  g_test_add_func ("/forward/sharded", test_sharded);
  g_test_add_func ("/forward/bad-requests", test_bad_requests);
  return g_test_run ();
}
