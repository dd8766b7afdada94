/* Whitening against an independent computation of the same mathematics with
 * GSL (gsl_eigen_symmv in float64) and against the properties that define it:
 * g has zero mean and identity covariance, and Cov^(−1/2) is symmetric. */
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <string.h>

#include "cs-backend.h"
#include "cs-error.h"
#include "cs-model.h"
#include "cs-whiten.h"

static CsTensor
make_tensor (gint64 rows, int cols, CsDType dtype, gpointer data)
{
  CsTensor t = { 0 };
  t.name = (char *) "test";
  t.dtype = dtype;
  t.ndim = 2;
  t.shape[0] = rows;
  t.shape[1] = cols;
  t.data = data;
  t.nbytes = (gsize) rows * cols * cs_dtype_size (dtype);
  return t;
}

/* Correlated data with a spread of variances: X = Z · A. */
static float *
random_matrix (gint64 rows, int cols, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  g_autofree double *A = g_new (double, cols * cols);
  float *x = g_new (float, rows * cols);
  g_autofree double *z = g_new (double, cols);
  for (int i = 0; i < cols * cols; i++)
    A[i] = g_rand_double_range (r, -1, 1) * (i % (cols + 1) == 0 ? 3.0 : 0.5);
  for (gint64 i = 0; i < rows; i++)
    {
      for (int k = 0; k < cols; k++)
        z[k] = g_rand_double_range (r, -1, 1) * (1.0 + k % 5);
      for (int j = 0; j < cols; j++)
        {
          double s = 0.3 * j / cols;
          for (int k = 0; k < cols; k++)
            s += z[k] * A[k * cols + j];
          x[i * cols + j] = (float) s;
        }
    }
  g_rand_free (r);
  return x;
}

static void
check_against_gsl (const float *x, gint64 V, int d, CsWhitening *w)
{
  g_autofree double *mean = g_new0 (double, d);
  gsl_matrix *cov = gsl_matrix_calloc (d, d);
  gsl_matrix *evec = gsl_matrix_alloc (d, d);
  gsl_vector *eval = gsl_vector_alloc (d);
  gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc (d);
  double worst = 0, scale = 0;

  for (gint64 i = 0; i < V; i++)
    for (int j = 0; j < d; j++)
      mean[j] += x[i * d + j];
  for (int j = 0; j < d; j++)
    {
      mean[j] /= V;
      g_assert_cmpfloat (fabs (mean[j] - w->mean[j]), <, 1e-9 * (1 + fabs (mean[j])));
    }
  for (gint64 i = 0; i < V; i++)
    for (int a = 0; a < d; a++)
      for (int b = 0; b <= a; b++)
        {
          double v = (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]) / V;
          gsl_matrix_set (cov, a, b, gsl_matrix_get (cov, a, b) + v);
        }
  for (int a = 0; a < d; a++)
    for (int b = 0; b < a; b++)
      gsl_matrix_set (cov, b, a, gsl_matrix_get (cov, a, b));
  gsl_eigen_symmv (cov, eval, evec, ws);
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++)
      {
        double s = 0;
        for (int k = 0; k < d; k++)
          s += gsl_matrix_get (evec, a, k) * gsl_matrix_get (evec, b, k) / sqrt (gsl_vector_get (eval, k));
        worst = MAX (worst, fabs (s - w->inv_sqrt[a * d + b]));
        scale = MAX (scale, fabs (s));
      }
  g_test_message ("Cov^-1/2 vs GSL: max |diff| %.3g (largest entry %.3g)", worst, scale);
  g_assert_cmpfloat (worst / scale, <, 1e-9);
  gsl_eigen_symmv_free (ws);
  gsl_vector_free (eval);
  gsl_matrix_free (evec);
  gsl_matrix_free (cov);
}

static void
check_whitened (CsWhitening *w)
{
  gint64 V = w->rows;
  int d = w->cols;
  double worst_mean = 0, worst_cov = 0;

  for (int a = 0; a < d; a++)
    {
      double m = 0;
      for (gint64 i = 0; i < V; i++)
        m += w->g[i * d + a];
      worst_mean = MAX (worst_mean, fabs (m / V));
      for (int b = 0; b <= a; b++)
        {
          double s = 0;
          for (gint64 i = 0; i < V; i++)
            s += (double) w->g[i * d + a] * w->g[i * d + b];
          worst_cov = MAX (worst_cov, fabs (s / V - (a == b)));
          g_assert_cmpfloat (fabs (w->inv_sqrt[a * d + b] - w->inv_sqrt[b * d + a]), <, 1e-12);
        }
    }
  g_test_message ("g: max |mean| %.3g, max |g^T g / V - I| %.3g", worst_mean, worst_cov);
  g_assert_cmpfloat (worst_mean, <, 1e-5);
  g_assert_cmpfloat (worst_cov, <, 1e-5);
}

static void
test_whiten_f32 (void)
{
  gint64 V = 3000;
  int d = 48;
  g_autofree float *x = random_matrix (V, d, 11);
  CsTensor t = make_tensor (V, d, CS_DTYPE_F32, x);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsWhitening) w = cs_whiten (&t, CS_DEVICE_CPU, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (w->device, ==, CS_DEVICE_CPU);
  g_assert_cmpint (w->n_floored, ==, 0);
  for (int j = 1; j < d; j++)
    g_assert_cmpfloat (w->eigenvalues[j - 1], <=, w->eigenvalues[j]);
  check_against_gsl (x, V, d, w);
  check_whitened (w);
}

/* Progress counts the rows read: rising, reaching 1, with a report per
 * block of rows of each pass (8192 rows: three blocks of 20000 rows), and
 * the same Cov^(−1/2) as without it. */
static void
record_progress (double fraction, gpointer data)
{
  double f = fraction;
  g_array_append_val ((GArray *) data, f);
}

static void
test_whiten_progress (void)
{
  gint64 V = 20000;
  int d = 16;
  g_autofree float *x = random_matrix (V, d, 5);
  CsTensor t = make_tensor (V, d, CS_DTYPE_F32, x);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(CsWhitening) w = cs_whiten_transform_with_progress (&t, CS_DEVICE_CPU, record_progress, seen, NULL,
                                                                &error);
  g_autoptr(CsWhitening) plain = cs_whiten_transform (&t, CS_DEVICE_CPU, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (seen->len, >=, 6);
  g_assert_cmpfloat (g_array_index (seen, double, 0), >, 0);
  for (guint i = 1; i < seen->len; i++)
    g_assert_cmpfloat (g_array_index (seen, double, i), >=, g_array_index (seen, double, i - 1));
  g_assert_cmpfloat (g_array_index (seen, double, seen->len - 1), ==, 1.0);
  g_assert_cmpmem (w->inv_sqrt, sizeof (double) * d * d, plain->inv_sqrt, sizeof (double) * d * d);
}

/* The OpenBLAS kernels asked for: the best the processor runs where the
 * library guessed weaker ones (Prescott's on an AVX-512 Intel it did not
 * know, Haswell's on an AVX-512 AMD), and nothing where its guess is good. */
static void
test_blas_core_pick (void)
{
  g_assert_cmpstr (cs_backend_pick_blas_core ("Prescott", TRUE, TRUE), ==, "SkylakeX");
  g_assert_cmpstr (cs_backend_pick_blas_core ("Haswell", TRUE, TRUE), ==, "SkylakeX");
  g_assert_cmpstr (cs_backend_pick_blas_core ("Zen", TRUE, TRUE), ==, "SkylakeX");
  g_assert_null (cs_backend_pick_blas_core ("SkylakeX", TRUE, TRUE));
  g_assert_null (cs_backend_pick_blas_core ("Cooperlake", TRUE, TRUE));
  g_assert_cmpstr (cs_backend_pick_blas_core ("Prescott", FALSE, TRUE), ==, "Haswell");
  g_assert_cmpstr (cs_backend_pick_blas_core ("Nehalem", FALSE, TRUE), ==, "Haswell");
  g_assert_null (cs_backend_pick_blas_core ("Zen", FALSE, TRUE));
  g_assert_null (cs_backend_pick_blas_core ("Haswell", FALSE, TRUE));
  g_assert_null (cs_backend_pick_blas_core ("Prescott", FALSE, FALSE));
  g_assert_cmpstr (cs_backend_pick_blas_core (NULL, TRUE, TRUE), ==, "SkylakeX");
}

/* BF16 input is read as the BF16 values: same result as their float32 copy. */
static void
test_whiten_bf16 (void)
{
  gint64 V = 2000;
  int d = 32;
  g_autofree float *x = random_matrix (V, d, 12);
  g_autofree guint16 *h = g_new (guint16, V * d);
  for (gint64 i = 0; i < V * d; i++)
    {
      h[i] = cs_f32_to_bf16 (x[i]);
      x[i] = cs_bf16_to_f32 (h[i]);
    }
  CsTensor tb = make_tensor (V, d, CS_DTYPE_BF16, h);
  CsTensor tf = make_tensor (V, d, CS_DTYPE_F32, x);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsWhitening) wb = cs_whiten (&tb, CS_DEVICE_CPU, NULL, &error);
  g_autoptr(CsWhitening) wf = cs_whiten (&tf, CS_DEVICE_CPU, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (wb->g, V * d * sizeof (float), wf->g, V * d * sizeof (float));
}

/* Duplicated columns make the covariance singular: the floor catches it. */
static void
test_whiten_rank_deficient (void)
{
  gint64 V = 500;
  int d = 16;
  g_autofree float *x = random_matrix (V, d, 13);
  for (gint64 i = 0; i < V; i++)
    {
      x[i * d + 5] = x[i * d + 4];
      x[i * d + 9] = 2 * x[i * d + 3];
    }
  CsTensor t = make_tensor (V, d, CS_DTYPE_F32, x);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsWhitening) w = cs_whiten (&t, CS_DEVICE_CPU, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (w->n_floored, ==, 2);
  for (int i = 0; i < d * d; i++)
    g_assert_true (isfinite (w->inv_sqrt[i]));
  for (gint64 i = 0; i < V * d; i++)
    g_assert_true (isfinite (w->g[i]));
}

static void
test_whiten_bad_input (void)
{
  float x[4] = { 1, 2, 3, 4 };
  CsTensor t = make_tensor (1, 4, CS_DTYPE_F32, x);
  g_autoptr(GError) error = NULL;
  g_assert_null (cs_whiten (&t, CS_DEVICE_CPU, NULL, &error));
  g_assert_nonnull (strstr (error->message, "cannot whiten a 1 × 4 matrix"));
  g_clear_error (&error);
  t.ndim = 1;
  g_assert_null (cs_whiten (&t, CS_DEVICE_CPU, NULL, &error));
  g_assert_nonnull (strstr (error->message, "2-D F32, F16 or BF16"));
}

/* The sample model's tied unembedding whitens cleanly. */
static void
test_whiten_sample_model (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "sample-model", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) m = cs_model_open (dir, &error);
  g_assert_no_error (error);
  g_autoptr(CsWhitening) w = cs_whiten (cs_model_get_unembedding (m), CS_DEVICE_CPU, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (w->rows, ==, 12288);
  g_assert_cmpint (w->cols, ==, 256);
  check_whitened (w);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/whiten/f32-vs-gsl", test_whiten_f32);
  g_test_add_func ("/whiten/bf16", test_whiten_bf16);
  g_test_add_func ("/whiten/progress", test_whiten_progress);
  g_test_add_func ("/whiten/blas-core", test_blas_core_pick);
  g_test_add_func ("/whiten/rank-deficient", test_whiten_rank_deficient);
  g_test_add_func ("/whiten/bad-input", test_whiten_bad_input);
  g_test_add_func ("/whiten/sample-model", test_whiten_sample_model);
  return g_test_run ();
}
