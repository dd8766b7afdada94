/* A GPU that fails in the middle of work, simulated by a stand-in CUDA
 * module (tests/fake-cuda.c) that loads and then fails where it is told to:
 * work the engine chose to put on the GPU (device AUTO) is done again on the
 * CPU and gives exactly the CPU's result; work asked of the GPU (CUDA) fails
 * with the module's message. */
#include <string.h>

#include "cs-forward.h"
#include "cs-gpu.h"
#include "cs-model.h"
#include "cs-whiten.h"
#include "sae-synthetic.h"

static CsModel *
open_ref (const char *name)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", name, NULL);
  g_autoptr(GError) error = NULL;
  CsModel *m = cs_model_open (dir, &error);
  g_assert_no_error (error);
  return m;
}

static void
test_loaded (void)
{
  const char *reason = NULL;
  g_assert_nonnull (cs_gpu_get (&reason));
  g_assert_cmpstr (cs_gpu_device_name (), ==, "Fake GPU (test)");
}

static void
test_forward (void)
{
  g_autoptr(CsModel) m = open_ref ("gpt2");
  g_autoptr(GError) error = NULL;
  gint32 a[5] = { 1, 2, 3, 4, 5 }, b[3] = { 7, 8, 9 };
  const gint32 *rows[2] = { a, b };
  int lens[2] = { 5, 3 };
  CsForwardOptions o = CS_FORWARD_OPTIONS_INIT;
  const char *capture[] = { "resid_post.1", NULL };

  o.capture = capture;
  o.device = CS_DEVICE_CPU;
  g_autoptr(CsForwardResult) cpu = cs_forward_run (m, rows, lens, 2, &o, NULL, &error);
  g_assert_no_error (error);
  o.device = CS_DEVICE_AUTO;
  g_autoptr(CsForwardResult) aut = cs_forward_run (m, rows, lens, 2, &o, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (aut->device, ==, CS_DEVICE_CPU);
  g_assert_cmpmem (cpu->logits, sizeof (float) * 2 * cpu->seq * cpu->vocab, aut->logits,
                   sizeof (float) * 2 * aut->seq * aut->vocab);
  g_assert_cmpmem (cpu->captures->pdata[0], sizeof (float) * 2 * cpu->seq * cpu->hidden, aut->captures->pdata[0],
                   sizeof (float) * 2 * aut->seq * aut->hidden);
  o.device = CS_DEVICE_CUDA;
  g_assert_null (cs_forward_run (m, rows, lens, 2, &o, NULL, &error));
  g_assert_nonnull (strstr (error->message, "injected failure (forward)"));
}

static void
test_whiten (void)
{
  g_autoptr(CsModel) m = open_ref ("llama");
  g_autoptr(GError) error = NULL;
  const CsTensor *u = cs_model_get_unembedding (m);
  g_autoptr(CsWhitening) cpu = cs_whiten (u, CS_DEVICE_CPU, NULL, &error);
  g_assert_no_error (error);
  g_autoptr(CsWhitening) aut = cs_whiten (u, CS_DEVICE_AUTO, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (aut->device, ==, CS_DEVICE_CPU);
  g_assert_cmpmem (cpu->g, sizeof (float) * cpu->rows * cpu->cols, aut->g, sizeof (float) * aut->rows * aut->cols);
  g_assert_null (cs_whiten (u, CS_DEVICE_CUDA, NULL, &error));
  g_assert_nonnull (strstr (error->message, "injected failure (whiten)"));
}

/* where: which part of the GPU trainer fails */
static void
test_sae (gconstpointer where)
{
  SynData data;
  g_autoptr(GError) error = NULL;
  CsSaeTrainOptions o = syn_options (CS_DEVICE_CPU);
  g_autoptr(CsSae) cpu = NULL;
  g_autoptr(CsSae) aut = NULL;
  g_autofree char *expect = g_strdup_printf ("injected failure (%s)", (const char *) where);

  g_setenv ("FAKE_CUDA_FAIL", where, TRUE);
  o.epochs = 2;
  syn_make (&data);
  cpu = cs_sae_train_h5 (data.h5, "acts", &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  o.device = CS_DEVICE_AUTO;
  aut = cs_sae_train_h5 (data.h5, "acts", &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (cpu->W_enc, sizeof (float) * cpu->d_in * cpu->d_sae, aut->W_enc,
                   sizeof (float) * aut->d_in * aut->d_sae);
  g_assert_cmpmem (cpu->b_dec, sizeof (float) * cpu->d_in, aut->b_dec, sizeof (float) * aut->d_in);
  o.device = CS_DEVICE_CUDA;
  g_assert_null (cs_sae_train_h5 (data.h5, "acts", &o, NULL, NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, expect));
  syn_free (&data);
  g_unsetenv ("FAKE_CUDA_FAIL");
}

/* The packing of a ragged batch into the module's rows and back, on the
 * GPU path: the stand-in writes values that name the row's token, position,
 * hook and layer (see tests/fake-cuda.c), which must land where the CPU path
 * puts that row; a resumed run gets back the stream it resumed from. */
static float
echo (int id, int pos, int kind, int layer, int j)
{
  return (float) (id + 0.25 * pos + 1000 * kind + 100 * layer + 0.001 * j);
}

static void
test_echo (void)
{
  g_autoptr(CsModel) m = open_ref ("gpt2");
  g_autoptr(GError) error = NULL;
  gint32 a[5] = { 11, 12, 13, 14, 15 }, b[3] = { 27, 28, 29 };
  const gint32 *rows[2] = { a, b };
  int lens[2] = { 5, 3 }, V, D;
  CsForwardOptions o = CS_FORWARD_OPTIONS_INIT;
  const char *capture[] = { "resid_pre.0", "resid_post.1", NULL };

  g_setenv ("FAKE_CUDA_ECHO", "1", TRUE);
  o.capture = capture;
  o.device = CS_DEVICE_CUDA;
  {
    g_autoptr(CsForwardResult) r = cs_forward_run (m, rows, lens, 2, &o, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (r->device, ==, CS_DEVICE_CUDA);
    g_assert_cmpint (r->seq, ==, 5);
    V = r->vocab;
    D = r->hidden;
    for (int p = 0; p < 2; p++)
      for (int t = 0; t < 5; t++)
        {
          const float *lg = r->logits + ((gsize) p * 5 + t) * V;
          const float *h0 = (const float *) r->captures->pdata[0] + ((gsize) p * 5 + t) * D;
          const float *h1 = (const float *) r->captures->pdata[1] + ((gsize) p * 5 + t) * D;
          for (int v = 0; v < V; v += 97)
            g_assert_cmpfloat (lg[v], ==, t < lens[p] ? echo (rows[p][t], t, 3, 0, v) : 0.0f);
          for (int j = 0; j < D; j++)
            {
              g_assert_cmpfloat (h0[j], ==, t < lens[p] ? echo (rows[p][t], t, 0, 0, j) : 0.0f);
              g_assert_cmpfloat (h1[j], ==, t < lens[p] ? echo (rows[p][t], t, 1, 1, j) : 0.0f);
            }
        }
  }
  o.logits = CS_LOGITS_LAST;
  {
    g_autoptr(CsForwardResult) r = cs_forward_run (m, rows, lens, 2, &o, NULL, &error);
    g_assert_no_error (error);
    for (int p = 0; p < 2; p++)
      for (int v = 0; v < V; v += 97)
        g_assert_cmpfloat (r->logits[(gsize) p * V + v], ==, echo (rows[p][lens[p] - 1], lens[p] - 1, 3, 0, v));
  }
  /* resumed from a given resid_post.1 ([batch, seq, hidden], zero-padded) */
  {
    g_autofree float *from = g_new0 (float, 2 * 5 * D);
    const char *post[] = { "resid_post.1", NULL };
    for (int p = 0; p < 2; p++)
      for (int t = 0; t < lens[p]; t++)
        for (int j = 0; j < D; j++)
          from[((gsize) p * 5 + t) * D + j] = (float) (p * 7 + t * 0.5 + j * 0.01);
    o.capture = post;
    o.resume_layer = 1;
    o.resume_from = from;
    g_autoptr(CsForwardResult) r = cs_forward_run (m, rows, lens, 2, &o, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (r->captures->pdata[0], sizeof (float) * 2 * 5 * D, from, sizeof (float) * 2 * 5 * D);
  }
  g_unsetenv ("FAKE_CUDA_ECHO");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gpu-fallback/loaded", test_loaded);
  g_test_add_func ("/gpu-fallback/forward", test_forward);
  g_test_add_func ("/gpu-fallback/whiten", test_whiten);
  g_test_add_data_func ("/gpu-fallback/sae/new", "sae_new", test_sae);
  g_test_add_data_func ("/gpu-fallback/sae/step", "sae_step", test_sae);
  g_test_add_func ("/gpu-fallback/forward/packing", test_echo);
  return g_test_run ();
}
