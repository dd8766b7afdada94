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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gpu-fallback/loaded", test_loaded);
  g_test_add_func ("/gpu-fallback/forward", test_forward);
  g_test_add_func ("/gpu-fallback/whiten", test_whiten);
  g_test_add_data_func ("/gpu-fallback/sae/new", "sae_new", test_sae);
  g_test_add_data_func ("/gpu-fallback/sae/step", "sae_step", test_sae);
  return g_test_run ();
}
