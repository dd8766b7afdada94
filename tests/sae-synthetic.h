/* Data with a known dictionary, for the SAE training tests of the CPU
 * (test-sae) and the GPU (test-gpu): rows made of 24 unit directions in 16
 * dimensions, two or three active per row with weights in [0.5, 2]. A
 * trained SAE should reconstruct it (FVU < 0.1) with few active features,
 * and most true directions should have a decoder row within 0.9 cosine. */
#pragma once

#include <glib/gstdio.h>
#include <math.h>

#include "cs-hdf5.h"
#include "cs-sae-train.h"

enum { SYN_D = 16, SYN_K = 24, SYN_N = 24000 };

typedef struct
{
  float *U;      /* [SYN_K, SYN_D] the true directions */
  float *rows;   /* [SYN_N, SYN_D] */
  char  *dir, *h5;
} SynData;

static inline void
syn_make (SynData *s)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (11);
  g_autoptr(GError) error = NULL;
  const int d = SYN_D, K = SYN_K, n = SYN_N;

  s->U = g_new (float, K * d);
  s->rows = g_new0 (float, (gsize) n * d);
  for (int k = 0; k < K; k++)
    {
      double nn = 0;
      for (int j = 0; j < d; j++)
        {
          s->U[k * d + j] = (float) g_rand_double_range (r, -1, 1);
          nn += s->U[k * d + j] * s->U[k * d + j];
        }
      for (int j = 0; j < d; j++)
        s->U[k * d + j] /= (float) sqrt (nn);
    }
  for (int i = 0; i < n; i++)
    {
      int active = 2 + (i % 2);
      for (int a = 0; a < active; a++)
        {
          int k = g_rand_int_range (r, 0, K);
          float c = (float) g_rand_double_range (r, 0.5, 2.0);
          for (int j = 0; j < d; j++)
            s->rows[(gsize) i * d + j] += c * s->U[k * d + j];
        }
    }
  s->dir = g_dir_make_tmp ("cs-sae-train-XXXXXX", NULL);
  s->h5 = g_build_filename (s->dir, "acts.h5", NULL);
  {
    g_autoptr(CsH5Appender) a = cs_h5_appender_new (s->h5, "acts", d, &error);
    g_assert_no_error (error);
    for (int i0 = 0; i0 < n; i0 += 5000)
      g_assert_true (cs_h5_appender_add (a, s->rows + (gsize) i0 * d, MIN (5000, n - i0), &error));
    g_assert_cmpuint (cs_h5_appender_rows (a), ==, (guint) n);
  }
}

static inline CsSaeTrainOptions
syn_options (CsDevice device)
{
  CsSaeTrainOptions o = CS_SAE_TRAIN_OPTIONS_INIT;
  o.d_sae = 48;
  o.l1 = 0.3;
  o.lr = 3e-3;
  o.batch = 128;
  o.epochs = 15;
  o.device = device;
  return o;
}

/* Asserts what the trained SAE should do on the data; returns the FVU. */
static inline double
syn_check (const SynData *s, CsSae *sae)
{
  const int d = SYN_D, K = SYN_K, n = SYN_N;
  double mse, l0, var = 0, mean[SYN_D] = { 0 };
  int found = 0;

  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      mean[j] += s->rows[(gsize) i * d + j] / n;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      var += (s->rows[(gsize) i * d + j] - mean[j]) * (s->rows[(gsize) i * d + j] - mean[j]) / n;
  cs_sae_loss_grad (sae, s->rows, 4000, 0, NULL, &mse, &l0);
  for (int k = 0; k < K; k++)
    {
      double best = 0;
      for (int f = 0; f < sae->d_sae; f++)
        {
          double dot = 0, nn = 0;
          for (int j = 0; j < d; j++)
            {
              dot += s->U[k * d + j] * sae->W_dec[(gsize) f * d + j];
              nn += (double) sae->W_dec[(gsize) f * d + j] * sae->W_dec[(gsize) f * d + j];
            }
          best = MAX (best, dot / sqrt (nn));
        }
      found += best > 0.9;
    }
  g_test_message ("trained SAE: FVU %.3f, L0 %.2f, %d of %d true directions found (cos > 0.9)", mse / var, l0, found, K);
  g_assert_cmpfloat (mse / var, <, 0.1);
  g_assert_cmpfloat (l0, <, 10);
  g_assert_cmpint (found, >=, K * 2 / 3);
  return mse / var;
}

static inline void
syn_free (SynData *s)
{
  g_unlink (s->h5);
  g_rmdir (s->dir);
  g_free (s->h5);
  g_free (s->dir);
  g_free (s->U);
  g_free (s->rows);
}
