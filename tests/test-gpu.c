/* The CUDA backend against the CPU backend (itself checked against
 * transformers): logits, hooks and steering on every reference model,
 * batches of unequal prompts, whitening, and SAE training (gradient, Adam
 * step, and a run on data with a known dictionary). Without a usable GPU the GPU
 * cases are skipped with the reason, and the fallback path is checked. */
#include <math.h>
#include <string.h>

#include "cs-error.h"
#include "cs-forward.h"
#include "cs-gpu.h"
#include "cs-model.h"
#include "cs-whiten.h"
#include "sae-synthetic.h"

static const char *models[] = { "gpt2", "gpt2-bf16", "gpt2-hubstyle", "llama", "gemma", "gemma2" };

static double
max_abs_diff (const float *a, const float *b, gsize n)
{
  double m = 0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs ((double) a[i] - b[i]));
  return m;
}

static double
max_abs (const float *a, gsize n)
{
  double m = 0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs ((double) a[i]));
  return m;
}

static gboolean
need_gpu (void)
{
  const char *reason = NULL;
  if (cs_gpu_get (&reason))
    return TRUE;
  g_test_skip_printf ("no usable GPU: %s", reason);
  return FALSE;
}

static CsModel *
open_ref (const char *name)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", name, NULL);
  g_autoptr(GError) error = NULL;
  CsModel *m = cs_model_open (dir, &error);
  g_assert_no_error (error);
  return m;
}

/* Deterministic ragged prompts over the model's vocabulary. */
static void
make_prompts (int vocab, int batch, int maxlen, gint32 **ids, int *lengths)
{
  GRand *r = g_rand_new_with_seed (99);
  for (int b = 0; b < batch; b++)
    {
      lengths[b] = b == 0 ? maxlen : g_rand_int_range (r, 3, maxlen + 1);
      ids[b] = g_new (gint32, lengths[b]);
      for (int i = 0; i < lengths[b]; i++)
        ids[b][i] = g_rand_int_range (r, 0, vocab);
    }
  g_rand_free (r);
}

static void
test_forward_gpu_vs_cpu (gconstpointer data)
{
  const char *name = data;
  g_autoptr(CsModel) m = NULL;
  g_autoptr(GError) error = NULL;
  const CsModelConfig *cfg;
  gint32 *ids[4];
  int lengths[4], batch = 4;
  g_autofree float *steer = NULL;
  g_autoptr(GPtrArray) caps = g_ptr_array_new_with_free_func (g_free);

  if (!need_gpu ())
    return;
  m = open_ref (name);
  cfg = cs_model_get_config (m);
  make_prompts (cfg->vocab, batch, MIN (40, cfg->max_positions), ids, lengths);
  for (int l = 0; l < cfg->n_layers; l++)
    {
      g_ptr_array_add (caps, g_strdup_printf ("resid_pre.%d", l));
      g_ptr_array_add (caps, g_strdup_printf ("resid_post.%d", l));
    }
  g_ptr_array_add (caps, g_strdup ("final_norm"));
  g_ptr_array_add (caps, NULL);
  steer = g_new (float, cfg->hidden);
  for (int j = 0; j < cfg->hidden; j++)
    steer[j] = (float) sin (j * 0.37);

  for (int variant = 0; variant < 2; variant++)
    {
      CsForwardOptions o = CS_FORWARD_OPTIONS_INIT;
      o.capture = (const char * const *) caps->pdata;
      if (variant == 1)
        {
          o.steer_layer = 1;
          o.steer_multiplier = 3.0f;
          o.steer_vector = steer;
          o.steer_from = 2;
        }
      o.device = CS_DEVICE_CPU;
      g_autoptr(CsForwardResult) cpu = cs_forward_run (m, (const gint32 * const *) ids, lengths, batch, &o, NULL, &error);
      g_assert_no_error (error);
      o.device = CS_DEVICE_CUDA;
      g_autoptr(CsForwardResult) gpu = cs_forward_run (m, (const gint32 * const *) ids, lengths, batch, &o, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (gpu->device, ==, CS_DEVICE_CUDA);
      gsize n = (gsize) batch * cpu->seq * cfg->vocab;
      double dl = max_abs_diff (cpu->logits, gpu->logits, n);
      g_test_message ("%s%s: logits GPU vs CPU max |diff| %.3g (scale %.3g)", name,
                      variant ? " steered" : "", dl, max_abs (cpu->logits, n));
      g_assert_cmpfloat (dl, <, 1e-4);
      for (guint i = 0; i + 1 < caps->len; i++)
        {
          const char *c = g_ptr_array_index (caps, i);
          double dh = max_abs_diff (cs_forward_result_get_capture (cpu, c), cs_forward_result_get_capture (gpu, c),
                                    (gsize) batch * cpu->seq * cfg->hidden);
          if (dh >= 1e-4)
            g_test_message ("%s: %s max |diff| %.3g", name, c, dh);
          g_assert_cmpfloat (dh, <, 1e-4);
        }

      /* last-position logits */
      o.logits = CS_LOGITS_LAST;
      o.capture = NULL;
      g_autoptr(CsForwardResult) last = cs_forward_run (m, (const gint32 * const *) ids, lengths, batch, &o, NULL, &error);
      g_assert_no_error (error);
      for (int b = 0; b < batch; b++)
        g_assert_cmpfloat (max_abs_diff (last->logits + (gsize) b * cfg->vocab,
                                         cpu->logits + ((gsize) b * cpu->seq + lengths[b] - 1) * cfg->vocab,
                                         cfg->vocab), <, 1e-4);

      /* fast mode (TF32 / 16-bit tensor cores) is close, not equal */
      o.logits = CS_LOGITS_ALL;
      o.fast = TRUE;
      g_autoptr(CsForwardResult) fast = cs_forward_run (m, (const gint32 * const *) ids, lengths, batch, &o, NULL, &error);
      g_assert_no_error (error);
      double df = max_abs_diff (cpu->logits, fast->logits, n);
      g_test_message ("%s%s: fast mode max |diff| %.3g", name, variant ? " steered" : "", df);
      g_assert_cmpfloat (df, <, 0.05 * max_abs (cpu->logits, n));

      /* a run stopped after layer 0 on the GPU, resumed from its stream
       * (ragged batch, steered or not) gives the CPU's full-run logits */
      {
        const char *c0[] = { "resid_post.0", NULL };
        CsForwardOptions so = CS_FORWARD_OPTIONS_INIT, ro = o;
        so.capture = c0;
        so.logits = CS_LOGITS_NONE;
        so.stop_layer = 0;
        so.device = CS_DEVICE_CUDA;
        g_autoptr(CsForwardResult) head = cs_forward_run (m, (const gint32 * const *) ids, lengths, batch, &so, NULL,
                                                          &error);
        g_assert_no_error (error);
        g_assert_cmpfloat (max_abs_diff (cs_forward_result_get_capture (head, "resid_post.0"),
                                         cs_forward_result_get_capture (cpu, "resid_post.0"),
                                         (gsize) batch * cpu->seq * cfg->hidden), <, 1e-4);
        ro.fast = FALSE;
        ro.capture = NULL;
        ro.resume_layer = 0;
        ro.resume_from = cs_forward_result_get_capture (head, "resid_post.0");
        g_autoptr(CsForwardResult) tail = cs_forward_run (m, (const gint32 * const *) ids, lengths, batch, &ro, NULL,
                                                          &error);
        g_assert_no_error (error);
        double dr = max_abs_diff (cpu->logits, tail->logits, n);
        g_test_message ("%s%s: stopped and resumed on the GPU vs CPU max |diff| %.3g", name, variant ? " steered" : "",
                        dr);
        g_assert_cmpfloat (dr, <, 1e-4);
      }
    }
  for (int b = 0; b < batch; b++)
    g_free (ids[b]);
}

static void
test_sample_model_gpu (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "sample-model", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) m = NULL;
  gint32 *ids[4];
  int lengths[4];

  if (!need_gpu ())
    return;
  m = cs_model_open (dir, &error);
  g_assert_no_error (error);
  make_prompts (12288, 4, 128, ids, lengths);
  CsForwardOptions o = CS_FORWARD_OPTIONS_INIT;
  o.device = CS_DEVICE_CPU;
  g_autoptr(CsForwardResult) cpu = cs_forward_run (m, (const gint32 * const *) ids, lengths, 4, &o, NULL, &error);
  g_assert_no_error (error);
  o.device = CS_DEVICE_CUDA;
  g_autoptr(CsForwardResult) gpu = cs_forward_run (m, (const gint32 * const *) ids, lengths, 4, &o, NULL, &error);
  g_assert_no_error (error);
  double d = max_abs_diff (cpu->logits, gpu->logits, (gsize) 4 * cpu->seq * 12288);
  g_test_message ("sample-model (F16): logits GPU vs CPU max |diff| %.3g", d);
  g_assert_cmpfloat (d, <, 1e-4);
  for (int b = 0; b < 4; b++)
    g_free (ids[b]);
}

static void
check_whitening (const CsTensor *t, const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsWhitening) cpu = cs_whiten (t, CS_DEVICE_CPU, NULL, &error);
  g_assert_no_error (error);
  g_autoptr(CsWhitening) gpu = cs_whiten (t, CS_DEVICE_CUDA, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gpu->device, ==, CS_DEVICE_CUDA);
  gsize n = (gsize) cpu->rows * cpu->cols;
  double dg = max_abs_diff (cpu->g, gpu->g, n) / max_abs (cpu->g, n);
  double dw = 0, sw = 0;
  for (int i = 0; i < cpu->cols * cpu->cols; i++)
    {
      dw = MAX (dw, fabs (cpu->inv_sqrt[i] - gpu->inv_sqrt[i]));
      sw = MAX (sw, fabs (cpu->inv_sqrt[i]));
    }
  g_test_message ("%s: whitened g GPU vs CPU max relative diff %.3g; Cov^-1/2 %.3g; floored %d vs %d",
                  what, dg, dw / sw, gpu->n_floored, cpu->n_floored);
  g_assert_cmpfloat (dw / sw, <, 1e-9);
  g_assert_cmpfloat (dg, <, 1e-6);
  g_assert_cmpint (gpu->n_floored, ==, cpu->n_floored);
}

static void
test_whiten_gpu (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "sample-model", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) m = NULL;

  if (!need_gpu ())
    return;
  m = cs_model_open (dir, &error);
  g_assert_no_error (error);
  check_whitening (cs_model_get_unembedding (m), "sample-model unembedding (F16)");
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autoptr(CsModel) r = open_ref (models[i]);
      check_whitening (cs_model_get_unembedding (r), models[i]);
    }
}

/* One SAE training step on the GPU against the CPU's loss and gradient
 * (themselves checked against finite differences in test-sae), then Adam's
 * update against its formula applied to the GPU's own gradient. */
static void
test_sae_step_gpu (void)
{
  const int d = 64, m = 256, B = 200;
  g_autoptr(GRand) r = g_rand_new_with_seed (5);
  g_autofree float *mean = g_new (float, d), *x = g_new (float, (gsize) B * d), *xs = g_new (float, (gsize) B * d);
  g_autofree int *idx = g_new (int, B);
  float *gpu_g[4], *cpu_g[4], *after[4];
  gsize sizes[4] = { (gsize) d * m, (gsize) d * m, m, d };
  const char *names[4] = { "W_enc", "W_dec", "b_enc", "b_dec" };
  g_autoptr(CsSae) s = NULL;
  CsSaeGrad g;
  const CsCudaVTable *vt;
  CsCudaSae *gs;
  char err[512] = "";
  double mse, l0, loss;
  const float l1 = 0.7f, lr = 1e-3f;

  if (!need_gpu ())
    return;
  vt = cs_gpu_get (NULL);
  for (int j = 0; j < d; j++)
    mean[j] = (float) g_rand_double_range (r, -0.5, 0.5);
  s = cs_sae_new_init (d, m, mean, 3);
  for (int k = 0; k < m; k++)
    s->b_enc[k] = (float) g_rand_double_range (r, -0.05, 0.05);
  for (int i = 0; i < B * d; i++)
    x[i] = (float) g_rand_double_range (r, -1, 1);
  /* the batch is drawn from the uploaded chunk in a shuffled order */
  for (int b = 0; b < B; b++)
    idx[b] = (b * 37 + 11) % B;
  for (int b = 0; b < B; b++)
    memcpy (xs + (gsize) b * d, x + (gsize) idx[b] * d, sizeof (float) * d);
  for (int k = 0; k < 4; k++)
    {
      gpu_g[k] = g_new (float, sizes[k]);
      cpu_g[k] = g_new (float, sizes[k]);
      after[k] = g_new (float, sizes[k]);
    }
  g = (CsSaeGrad) { cpu_g[0], cpu_g[1], cpu_g[2], cpu_g[3] };
  loss = cs_sae_loss_grad (s, xs, B, l1, &g, &mse, &l0);

  gs = vt->sae_new (d, m, B, B, s->apply_b_dec_to_input, s->W_enc, s->W_dec, s->b_enc, s->b_dec, err, sizeof err);
  g_assert_true (gs != NULL);
  g_assert_cmpint (vt->sae_upload (gs, x, B, err, sizeof err), ==, 0);
  {
    CsCudaSaeStep st = { idx, B, l1, lr, 1, 0, 0, 0, { gpu_g[0], gpu_g[1], gpu_g[2], gpu_g[3] } };
    g_assert_cmpint (vt->sae_step (gs, &st, err, sizeof err), ==, 0);
    g_test_message ("loss GPU %.6f CPU %.6f, MSE %.6f vs %.6f, L0 %.3f vs %.3f", st.loss, loss, st.mse, mse, st.l0,
                    l0);
    g_assert_cmpfloat (fabs (st.loss - loss), <, 1e-4 * loss);
    g_assert_cmpfloat (fabs (st.mse - mse), <, 1e-4 * mse);
    /* a pre-activation within rounding of 0 may fall either side */
    g_assert_cmpfloat (fabs (st.l0 - l0) * B, <=, 2);
  }
  for (int k = 0; k < 4; k++)
    {
      double diff = max_abs_diff (gpu_g[k], cpu_g[k], sizes[k]), scale = max_abs (cpu_g[k], sizes[k]);
      g_test_message ("gradient %s: GPU vs CPU max diff %.3g of max %.3g", names[k], diff, scale);
      g_assert_cmpfloat (scale, >, 0);
      g_assert_cmpfloat (diff, <, 1e-4 * scale);
    }
  g_assert_cmpint (vt->sae_download (gs, after[0], after[1], after[2], after[3], err, sizeof err), ==, 0);
  {
    float *before[4] = { s->W_enc, s->W_dec, s->b_enc, s->b_dec };
    double worst = 0;
    for (int k = 0; k < 4; k++)
      for (gsize i = 0; i < sizes[k]; i++)
        {
          /* the first step of Adam from zero moments */
          double gi = gpu_g[k][i], mh = 0.1 * gi / 0.1, vh = 0.001 * gi * gi / 0.001;
          double want = before[k][i] - lr * mh / (sqrt (vh) + 1e-8);
          worst = MAX (worst, fabs (want - after[k][i]));
        }
    g_test_message ("Adam step: worst difference from the formula %.3g (lr %.0e)", worst, lr);
    g_assert_cmpfloat (worst, <, 1e-6);
  }
  vt->sae_free (gs);
  for (int k = 0; k < 4; k++)
    {
      g_free (gpu_g[k]);
      g_free (cpu_g[k]);
      g_free (after[k]);
    }
}

/* Training on the GPU learns the known dictionary as the CPU does. */
static void
test_sae_training_gpu (void)
{
  SynData data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSae) s = NULL;
  CsSaeTrainOptions o = syn_options (CS_DEVICE_CUDA);
  gint64 t0;

  if (!need_gpu ())
    return;
  syn_make (&data);
  t0 = g_get_monotonic_time ();
  s = cs_sae_train_h5 (data.h5, "acts", &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("trained on the GPU in %.2f s", (g_get_monotonic_time () - t0) / 1e6);
  syn_check (&data, s);
  syn_free (&data);
}

/* Without a GPU: AUTO runs on the CPU, CUDA is an error that says why. */
static void
test_fallback (void)
{
  g_autoptr(CsModel) m = open_ref ("gpt2");
  g_autoptr(GError) error = NULL;
  gint32 row[4] = { 1, 2, 3, 4 };
  const gint32 *rows[1] = { row };
  int len = 4;
  const char *reason = NULL;
  CsForwardOptions o = CS_FORWARD_OPTIONS_INIT;

  if (cs_gpu_get (&reason))
    {
      g_test_skip ("a GPU is present: the fallback path is not taken");
      return;
    }
  g_test_message ("no GPU: %s", reason);
  g_assert_nonnull (reason);
  g_autoptr(CsForwardResult) r = cs_forward_run (m, rows, &len, 1, &o, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->device, ==, CS_DEVICE_CPU);
  o.device = CS_DEVICE_CUDA;
  g_assert_null (cs_forward_run (m, rows, &len, 1, &o, NULL, &error));
  g_assert_nonnull (strstr (error->message, "no usable GPU: "));
  g_clear_error (&error);
  g_assert_null (cs_whiten (cs_model_get_unembedding (m), CS_DEVICE_CUDA, NULL, &error));
  g_assert_nonnull (strstr (error->message, "no usable GPU: "));
  g_clear_error (&error);
  {
    SynData data;
    CsSaeTrainOptions so = syn_options (CS_DEVICE_CUDA);
    syn_make (&data);
    g_assert_null (cs_sae_train_h5 (data.h5, "acts", &so, NULL, NULL, NULL, &error));
    g_assert_nonnull (strstr (error->message, "no usable GPU: "));
    syn_free (&data);
  }
}

int
main (int argc, char **argv)
{
  g_setenv ("CONCEPTSCOPE_QUIET_FALLBACK", "1", TRUE);
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *path = g_strdup_printf ("/gpu/forward/%s", models[i]);
      g_test_add_data_func (path, models[i], test_forward_gpu_vs_cpu);
    }
  g_test_add_func ("/gpu/forward/sample-model", test_sample_model_gpu);
  g_test_add_func ("/gpu/whiten", test_whiten_gpu);
  g_test_add_func ("/gpu/sae/step", test_sae_step_gpu);
  g_test_add_func ("/gpu/sae/training", test_sae_training_gpu);
  g_test_add_func ("/gpu/fallback", test_fallback);
  return g_test_run ();
}
