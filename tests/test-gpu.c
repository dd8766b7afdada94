/* The CUDA backend against the CPU backend (itself checked against
 * transformers): logits, hooks and steering on every reference model,
 * batches of unequal prompts, and whitening. Without a usable GPU the GPU
 * cases are skipped with the reason, and the fallback path is checked. */
#include <math.h>
#include <string.h>

#include "cs-error.h"
#include "cs-forward.h"
#include "cs-gpu.h"
#include "cs-model.h"
#include "cs-whiten.h"

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
  g_test_add_func ("/gpu/fallback", test_fallback);
  return g_test_run ();
}
