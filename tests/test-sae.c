/* The SAE loader and encoder against the reference encodings that were
 * computed with PyTorch beside the SAE (tests/data/sample-sae), and the SAE
 * applied to the sample model's own resid_post.1 activations. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cs-error.h"
#include "cs-forward.h"
#include "cs-model.h"
#include "cs-safetensors.h"
#include "cs-hdf5.h"
#include "cs-sae.h"
#include "cs-sae-train.h"
#include "cs-tokenizer.h"
#include "sae-synthetic.h"

static float *
ref (CsSafetensors *st, const char *name, gsize *n)
{
  const CsTensor *t = cs_safetensors_lookup (st, name);
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

static void
test_reference_encodings (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "sample-sae", NULL);
  g_autofree char *rp = g_build_filename (dir, "reference.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSae) sae = cs_sae_load (dir, &error);
  g_autoptr(CsSafetensors) st = cs_safetensors_open (rp, &error);
  gsize nx, nf, nr;

  g_assert_no_error (error);
  g_assert_cmpint (sae->d_in, ==, 256);
  g_assert_cmpint (sae->d_sae, ==, 2048);
  g_assert_cmpint (sae->hook_layer, ==, 1);
  g_assert_cmpstr (sae->hook_name, ==, "blocks.1.hook_resid_post");
  g_assert_true (sae->apply_b_dec_to_input);
  g_autofree float *x = ref (st, "activations", &nx);
  g_autofree float *want_f = ref (st, "feature_acts", &nf);
  g_autofree float *want_r = ref (st, "reconstruction", &nr);
  int n = (int) (nx / 256);
  g_autofree float *f = g_new (float, nf);
  g_autofree float *r = g_new (float, nr);
  cs_sae_encode (sae, x, n, f);
  cs_sae_decode (sae, f, n, x, r);
  double df = max_abs_diff (f, want_f, nf), dr = max_abs_diff (r, want_r, nr);
  g_test_message ("features max |diff| %.3g, reconstruction max |diff| %.3g", df, dr);
  g_assert_cmpfloat (df, <, 1e-5);
  g_assert_cmpfloat (dr, <, 1e-5);
}

/* On the model's own layer-1 residual stream the SAE is sparse (its README:
 * mean L0 about 20) and reconstructs most of the variance (FVU 0.23). */
static void
test_on_model_activations (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "sample-sae", NULL);
  g_autofree char *mdir = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "sample-model", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSae) sae = cs_sae_load (dir, &error);
  g_autoptr(CsModel) m = cs_model_open (mdir, &error);
  g_autoptr(CsTokenizer) tok = NULL;
  g_autoptr(GArray) tids = NULL;
  const char *caps[] = { "resid_post.1", NULL };
  CsForwardOptions o = CS_FORWARD_OPTIONS_INIT;

  g_assert_no_error (error);
  /* sentences like the corpus it was trained on */
  tok = cs_tokenizer_load (cs_model_get_tokenizer_path (m), &error);
  g_assert_no_error (error);
  tids = cs_tokenizer_encode (tok, "A beaver is a kind of rodent. Examples of mammal include dog, cat and horse. "
                                   "A sparrow is a kind of oscine. To run means to move fast by using your feet. "
                                   "An oak is a kind of tree. A trout is a kind of fish that lives in cold water.",
                              TRUE, &error);
  g_assert_no_error (error);
  int len = MIN ((int) tids->len, 64);
  const gint32 *rows[1] = { (const gint32 *) tids->data };
  o.capture = caps;
  o.logits = CS_LOGITS_NONE;
  o.device = CS_DEVICE_CPU;
  g_autoptr(CsForwardResult) res = cs_forward_run (m, rows, &len, 1, &o, NULL, &error);
  g_assert_no_error (error);
  const float *x = cs_forward_result_get_capture (res, "resid_post.1");
  g_autofree float *f = g_new (float, (gsize) len * 2048);
  g_autofree float *xr = g_new (float, (gsize) len * 256);
  cs_sae_encode (sae, x, len, f);
  cs_sae_decode (sae, f, len, x, xr);
  double l0 = 0, err = 0, var = 0;
  double mean[256] = { 0 };
  for (int i = 0; i < len * 2048; i++)
    l0 += f[i] > 0;
  for (int i = 0; i < len * 256; i++)
    mean[i % 256] += x[i] / len;
  for (int i = 0; i < len * 256; i++)
    {
      err += pow (x[i] - xr[i], 2);
      var += pow (x[i] - mean[i % 256], 2);
    }
  g_test_message ("%d tokens: mean L0 %.1f, fraction of variance unexplained %.3f", len, l0 / len, err / var);
  g_assert_cmpfloat (l0 / len, >, 3);
  g_assert_cmpfloat (l0 / len, <, 100);
  g_assert_cmpfloat (err / var, <, 0.5);
}

static void
test_bad_folder (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cs-sae-XXXXXX", NULL);
  g_autofree char *cfg = g_build_filename (dir, "cfg.json", NULL);
  g_assert_null (cs_sae_load (dir, &error));
  g_assert_nonnull (strstr (error->message, "cfg.json"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (cfg, "{\"d_in\": 256, \"d_sae\": 2048, \"architecture\": \"gated\"}", -1, NULL));
  g_assert_null (cs_sae_load (dir, &error));
  g_assert_nonnull (strstr (error->message, "'gated' is not supported"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (cfg, "{\"d_in\": 256, \"d_sae\": 2048}", -1, NULL));
  g_assert_null (cs_sae_load (dir, &error));
  g_assert_nonnull (strstr (error->message, "sae_weights.safetensors"));
  g_unlink (cfg);
  g_rmdir (dir);
}

/* The analytic gradient of the training loss against central finite
 * differences, entry by entry, for every parameter. */
static void
test_gradient (void)
{
  const int d = 5, m = 7, B = 4;
  g_autoptr(GRand) r = g_rand_new_with_seed (1);
  float x[20];
  g_autoptr(CsSae) s = cs_sae_new_init (d, m, NULL, 3);
  CsSaeGrad g = { g_new (float, d * m), g_new (float, d * m), g_new (float, m), g_new (float, d) };
  double worst = 0;

  for (int i = 0; i < B * d; i++)
    x[i] = (float) g_rand_double_range (r, -1, 1);
  for (int j = 0; j < d; j++)
    s->b_dec[j] = (float) g_rand_double_range (r, -0.2, 0.2);
  for (int i = 0; i < d * m; i++)
    {
      s->W_enc[i] *= 5;
      s->W_dec[i] *= 5;
    }
  /* keep every pre-activation away from the ReLU's kink, where a finite
   * difference would step across it */
  for (int k = 0; k < m; k++)
    for (int tries = 0; tries < 1000; tries++)
      {
        double closest = INFINITY;
        s->b_enc[k] = (float) g_rand_double_range (r, -0.3, 0.3);
        for (int b = 0; b < B; b++)
          {
            double pre = s->b_enc[k];
            for (int j = 0; j < d; j++)
              pre += (x[b * d + j] - s->b_dec[j]) * s->W_enc[j * m + k];
            closest = MIN (closest, fabs (pre));
          }
        if (closest > 0.05)
          break;
      }
  cs_sae_loss_grad (s, x, B, 0.3, &g, NULL, NULL);
  {
    float *params[4] = { s->W_enc, s->W_dec, s->b_enc, s->b_dec };
    float *grads[4] = { g.W_enc, g.W_dec, g.b_enc, g.b_dec };
    int sizes[4] = { d * m, d * m, m, d };
    for (int p = 0; p < 4; p++)
      for (int i = 0; i < sizes[p]; i++)
        {
          float keep = params[p][i];
          double h = 1e-3, lp, lm, num;
          params[p][i] = keep + (float) h;
          lp = cs_sae_loss_grad (s, x, B, 0.3, NULL, NULL, NULL);
          params[p][i] = keep - (float) h;
          lm = cs_sae_loss_grad (s, x, B, 0.3, NULL, NULL, NULL);
          params[p][i] = keep;
          num = (lp - lm) / (2 * h);
          worst = MAX (worst, fabs (num - grads[p][i]) / MAX (0.05, fabs (num)));
        }
  }
  g_test_message ("gradient vs finite differences: worst relative difference %.2g", worst);
  g_assert_cmpfloat (worst, <, 0.02);
  g_free (g.W_enc);
  g_free (g.W_dec);
  g_free (g.b_enc);
  g_free (g.b_dec);
}

/* SAELens's run-time normalisations on a hand-made SAE (identity weights,
 * no biases), worked on paper: constant_norm_rescale takes (3, 4, 0, 0) to
 * norm √4 = 2, (1.2, 1.6, 0, 0); layer_norm takes (1, 2, 3, 6) to its
 * deviations (−2, −1, 0, 3) over the sample standard deviation √(14/3);
 * decoding with the input gives back the part the ReLU kept, in the
 * input's units. */
static void
test_normalisation (void)
{
  float W[16] = { 0 }, b4[4] = { 0 }, f[4], r[4];
  CsSae s = { 4, 4, NULL, -1, FALSE, W, W, b4, b4, NULL, CS_SAE_NORM_CONSTANT_NORM_RESCALE, NULL };
  const float x1[4] = { 3, 4, 0, 0 }, x2[4] = { 1, 2, 3, 6 };
  const float want1[4] = { 1.2f, 1.6f, 0, 0 };
  double sd = sqrt (14.0 / 3.0);

  for (int i = 0; i < 4; i++)
    W[i * 4 + i] = 1;
  cs_sae_encode (&s, x1, 1, f);
  cs_sae_decode (&s, f, 1, x1, r);
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpfloat (fabs (f[i] - want1[i]), <, 1e-6);
      g_assert_cmpfloat (fabs (r[i] - x1[i]), <, 1e-6);
    }
  s.norm = CS_SAE_NORM_LAYER_NORM;
  cs_sae_encode (&s, x2, 1, f);
  cs_sae_decode (&s, f, 1, x2, r);
  g_assert_cmpfloat (f[0], ==, 0);
  g_assert_cmpfloat (f[1], ==, 0);
  g_assert_cmpfloat (f[2], ==, 0);
  g_assert_cmpfloat (fabs (f[3] - 3 / (sd + 1e-5)), <, 1e-6);
  /* the negative deviations were cut by the ReLU: they come back as the mean */
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (fabs (r[i] - 3), <, 1e-5);
  g_assert_cmpfloat (fabs (r[3] - 6), <, 1e-5);
  /* without the input, the reconstruction stays in normalised units */
  cs_sae_decode (&s, f, 1, NULL, r);
  g_assert_cmpfloat (fabs (r[3] - 3 / (sd + 1e-5)), <, 1e-6);
}

/* Training on data with a known dictionary (sae-synthetic.h), and the
 * trained SAE's folder loads back with the same encodings. */
static void
test_training (void)
{
  SynData data;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSae) s = NULL;
  g_autoptr(CsSae) back = NULL;
  CsSaeTrainOptions o = syn_options (CS_DEVICE_CPU);
  const float *rows;

  syn_make (&data);
  rows = data.rows;
  out = g_build_filename (data.dir, "sae", NULL);
  s = cs_sae_train_h5 (data.h5, "acts", &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  syn_check (&data, s);

  s->hook_layer = 1;
  s->hook_name = g_strdup ("blocks.1.hook_resid_post");
  g_assert_true (cs_sae_save (s, out, "test", &error));
  back = cs_sae_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->hook_layer, ==, 1);
  {
    g_autofree float *f1 = g_new (float, 10 * o.d_sae), *f2 = g_new (float, 10 * o.d_sae);
    cs_sae_encode (s, rows, 10, f1);
    cs_sae_encode (back, rows, 10, f2);
    g_assert_cmpint (memcmp (f1, f2, sizeof (float) * 10 * o.d_sae), ==, 0);
  }
  {
    g_autofree char *p1 = g_build_filename (out, "cfg.json", NULL);
    g_autofree char *p2 = g_build_filename (out, "sae_weights.safetensors", NULL);
    g_unlink (p1);
    g_unlink (p2);
    g_rmdir (out);
  }
  syn_free (&data);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sae/reference", test_reference_encodings);
  g_test_add_func ("/sae/model-activations", test_on_model_activations);
  g_test_add_func ("/sae/bad-folder", test_bad_folder);
  g_test_add_func ("/sae/normalisation", test_normalisation);
  g_test_add_func ("/sae/gradient", test_gradient);
  g_test_add_func ("/sae/training", test_training);
  return g_test_run ();
}
