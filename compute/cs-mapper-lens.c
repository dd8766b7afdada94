#define G_LOG_DOMAIN "cs-mapper"

#include "cs-mapper.h"
#include "cs-mapper-private.h"
#include "cs-error.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ lenses */

gboolean
cs_lens_parse (const char *text, CsLensSpec *spec, GError **error)
{
  char *end = NULL;

  memset (spec, 0, sizeof *spec);
  if (!text || !*text)
    goto bad;
  if (g_str_has_prefix (text, "pca"))
    {
      long k = strtol (text + 3, &end, 10);
      if (end == text + 3 || *end || k < 1 || k > 64)
        goto bad;
      spec->kind = CS_LENS_PCA;
      spec->index = (int) k;
      return TRUE;
    }
  if (g_str_equal (text, "l2"))
    {
      spec->kind = CS_LENS_L2;
      return TRUE;
    }
  if (g_str_equal (text, "density"))
    {
      spec->kind = CS_LENS_DENSITY;
      return TRUE;
    }
  if (g_str_equal (text, "eccentricity"))
    {
      spec->kind = CS_LENS_ECCENTRICITY;
      return TRUE;
    }
  if (g_str_has_prefix (text, "knn:"))
    {
      long k = strtol (text + 4, &end, 10);
      if (end == text + 4 || *end || k < 1 || k > 1000)
        goto bad;
      spec->kind = CS_LENS_KNN;
      spec->index = (int) k;
      return TRUE;
    }
  if (g_str_has_prefix (text, "column:"))
    {
      long k = strtol (text + 7, &end, 10);
      if (end == text + 7 || *end || k < 0 || k > G_MAXINT)
        goto bad;
      spec->kind = CS_LENS_COLUMN;
      spec->index = (int) k;
      return TRUE;
    }
  if (g_str_has_prefix (text, "vector:") && text[7])
    {
      spec->kind = CS_LENS_VECTOR;
      spec->name = g_strdup (text + 7);
      return TRUE;
    }
bad:
  g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
               "unknown lens '%s' (lenses: pca1, pca2, l2, density, eccentricity, knn:K, vector:NAME, column:I)",
               text ? text : "");
  return FALSE;
}

void
cs_lens_clear (CsLensSpec *spec)
{
  g_clear_pointer (&spec->name, g_free);
}

char *
cs_lens_describe (const CsLensSpec *spec)
{
  switch (spec->kind)
    {
    case CS_LENS_COLUMN: return g_strdup_printf ("column:%d", spec->index);
    case CS_LENS_PCA: return g_strdup_printf ("pca%d", spec->index);
    case CS_LENS_L2: return g_strdup ("l2");
    case CS_LENS_DENSITY: return g_strdup ("density");
    case CS_LENS_ECCENTRICITY: return g_strdup ("eccentricity");
    case CS_LENS_KNN: return g_strdup_printf ("knn:%d", spec->index);
    case CS_LENS_VECTOR: return g_strdup_printf ("vector:%s", spec->name);
    default: return g_strdup ("?");
    }
}

static void
column_means (const double *X, gint64 n, int d, double *mu)
{
  memset (mu, 0, sizeof (double) * d);
  for (gint64 i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      mu[k] += X[i * d + k];
  for (int k = 0; k < d; k++)
    mu[k] /= (double) n;
}

/* Fewer points than dimensions: the same component from the n × n Gram
 * matrix G = X_c X_cᵀ = V Λ Vᵀ, never forming the d × d covariance (a CSV
 * row of 10⁶ columns asked for 8 TB). The component's loading is
 * u = X_cᵀ v / √λ, and each point's value X_c,i · u = √λ v_i. */
static gboolean
lens_pca_gram (const double *X, gint64 n, int d, int comp, const double *mu, double *out, GError **error)
{
  g_autofree double *xc = g_try_malloc ((gsize) n * d * sizeof (double));
  g_autofree double *G = g_new (double, (gsize) n * n);
  g_autofree double *w = g_new (double, n);
  g_autofree double *u = g_new0 (double, d);
  double lam, big = 0, sign;
  int col;

  if (!xc)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "lens pca%d: not enough memory for %" G_GINT64_FORMAT
                   " centred points of %d dimensions", comp, n, d);
      return FALSE;
    }
  for (gint64 i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      xc[i * d + k] = X[i * d + k] - mu[k];
  cblas_dsyrk (CblasRowMajor, CblasLower, CblasNoTrans, (int) n, d, 1.0, xc, d, 0.0, G, (int) n);
  if (LAPACKE_dsyevd (LAPACK_ROW_MAJOR, 'V', 'L', (int) n, G, (int) n, w) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "lens pca%d: the eigendecomposition did not converge", comp);
      return FALSE;
    }
  col = (int) n - comp;
  lam = MAX (w[col], 0.0);
  /* the loading, only for its sign: the largest-magnitude entry positive, as
   * the covariance path fixes it */
  for (gint64 i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      u[k] += xc[i * d + k] * G[i * n + col];
  for (int k = 0; k < d; k++)
    if (fabs (u[k]) > fabs (big))
      big = u[k];
  sign = big < 0 ? -1 : 1;
  for (gint64 i = 0; i < n; i++)
    out[i] = sign * sqrt (lam) * G[i * n + col];
  return TRUE;
}

static gboolean
lens_pca (const double *X, gint64 n, int d, int comp, double *out, GError **error)
{
  g_autofree double *mu = g_new (double, d);
  g_autofree double *cov = NULL;
  g_autofree double *w = NULL;
  const gint64 B = 4096;
  g_autofree double *blk = NULL;
  double *v, big = 0;

  if (comp > d || comp > n)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "lens pca%d: the points have only %d dimensions and %"
                   G_GINT64_FORMAT " points", comp, d, n);
      return FALSE;
    }
  column_means (X, n, d, mu);
  if (n < d)
    return lens_pca_gram (X, n, d, comp, mu, out, error);
  cov = g_try_malloc0 ((gsize) d * d * sizeof (double));
  w = g_new (double, d);
  blk = g_new (double, (gsize) MIN (B, n) * d);
  if (!cov)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "lens pca%d: not enough memory for the %d × %d covariance",
                   comp, d, d);
      return FALSE;
    }
  for (gint64 i0 = 0; i0 < n; i0 += B)
    {
      gint64 m = MIN (B, n - i0);
      for (gint64 i = 0; i < m; i++)
        for (int k = 0; k < d; k++)
          blk[i * d + k] = X[(i0 + i) * d + k] - mu[k];
      cblas_dsyrk (CblasRowMajor, CblasLower, CblasTrans, d, (int) m, 1.0, blk, d, 1.0, cov, d);
    }
  if (LAPACKE_dsyevd (LAPACK_ROW_MAJOR, 'V', 'L', d, cov, d, w) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "lens pca%d: the eigendecomposition did not converge", comp);
      return FALSE;
    }
  /* Eigenvalues ascend: component c is column d − c. The sign makes the
   * largest-magnitude loading positive, so the lens does not flip between
   * runs or machines. */
  v = g_new (double, d);
  for (int k = 0; k < d; k++)
    {
      v[k] = cov[(gsize) k * d + (d - comp)];
      if (fabs (v[k]) > fabs (big))
        big = v[k];
    }
  if (big < 0)
    for (int k = 0; k < d; k++)
      v[k] = -v[k];
#pragma omp parallel for schedule(static)
  for (gint64 i = 0; i < n; i++)
    {
      double s = 0;
      for (int k = 0; k < d; k++)
        s += (X[i * d + k] - mu[k]) * v[k];
      out[i] = s;
    }
  g_free (v);
  return TRUE;
}

/* Squared distances between the rows of A [na, d] and B [nb, d] into D [na, nb]. */
static void
cross_sqdist (const double *A, int na, const double *B, int nb, int d,
              const double *an, const double *bn, double *D)
{
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, na, nb, d, -2.0, A, d, B, d, 0.0, D, nb);
  for (int i = 0; i < na; i++)
    for (int j = 0; j < nb; j++)
      D[(gsize) i * nb + j] = MAX (0.0, D[(gsize) i * nb + j] + an[i] + bn[j]);
}

static void
row_sqnorms (const double *X, gint64 n, int d, double *out)
{
#pragma omp parallel for schedule(static)
  for (gint64 i = 0; i < n; i++)
    {
      double s = 0;
      for (int k = 0; k < d; k++)
        s += X[i * d + k] * X[i * d + k];
      out[i] = s;
    }
}

#define DENSITY_REFERENCE 4000

static gboolean
lens_density (const double *X, gint64 n, int d, double *out, GCancellable *cancellable, GError **error)
{
  /* Gaussian kernel density, bandwidth by Scott's rule (h = n^(−1/(d+4)) σ̄,
   * σ̄ the mean of the columns' standard deviations); against every point up
   * to 4000 points, above that against 4000 evenly strided points. */
  int m = (int) MIN (n, DENSITY_REFERENCE);
  g_autofree double *R = g_new (double, (gsize) m * d);
  g_autofree double *rn = g_new (double, m);
  g_autofree double *xn = g_new (double, n);
  g_autofree double *mu = g_new (double, d);
  double sig = 0, h, inv2h2;
  const int B = 256;

  column_means (X, n, d, mu);
  for (int k = 0; k < d; k++)
    {
      double s = 0;
      for (gint64 i = 0; i < n; i++)
        s += (X[i * d + k] - mu[k]) * (X[i * d + k] - mu[k]);
      sig += sqrt (s / MAX (1, n - 1));
    }
  sig /= d;
  h = pow ((double) n, -1.0 / (d + 4)) * (sig > 0 ? sig : 1.0);
  inv2h2 = 1.0 / (2 * h * h);
  for (int j = 0; j < m; j++)
    {
      gint64 src = (gint64) ((double) j * n / m);
      memcpy (R + (gsize) j * d, X + src * d, sizeof (double) * d);
    }
  row_sqnorms (R, m, d, rn);
  row_sqnorms (X, n, d, xn);
  for (gint64 i0 = 0; i0 < n; i0 += (gint64) B * 16)
    {
      gint64 end = MIN (n, i0 + (gint64) B * 16);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
#pragma omp parallel
      {
        double *D = g_new (double, (gsize) B * m);
#pragma omp for schedule(dynamic, 1)
        for (gint64 b = i0; b < end; b += B)
          {
            int nb = (int) MIN (B, end - b);
            cross_sqdist (X + b * d, nb, R, m, d, xn + b, rn, D);
            for (int i = 0; i < nb; i++)
              {
                double s = 0;
                for (int j = 0; j < m; j++)
                  s += exp (-D[(gsize) i * m + j] * inv2h2);
                out[b + i] = s / m;
              }
          }
        g_free (D);
      }
    }
  return TRUE;
}

static gboolean
lens_knn (const double *X, gint64 n, int d, int k, double *out, GCancellable *cancellable, GError **error)
{
  g_autofree double *xn = g_new (double, n);
  const int B = 128, CB = 4096;

  if (k >= n)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "lens knn:%d needs more than %d points (there are %" G_GINT64_FORMAT ")",
                   k, k, n);
      return FALSE;
    }
  row_sqnorms (X, n, d, xn);
  for (gint64 i0 = 0; i0 < n; i0 += (gint64) B * 32)
    {
      gint64 end = MIN (n, i0 + (gint64) B * 32);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
#pragma omp parallel
      {
        double *D = g_new (double, (gsize) B * CB);
        double *best = g_new (double, (gsize) B * k);
#pragma omp for schedule(dynamic, 1)
        for (gint64 b = i0; b < end; b += B)
          {
            int nb = (int) MIN (B, end - b);
            for (gsize t = 0; t < (gsize) nb * k; t++)
              best[t] = INFINITY;
            for (gint64 c0 = 0; c0 < n; c0 += CB)
              {
                int nc = (int) MIN (CB, n - c0);
                cross_sqdist (X + b * d, nb, X + c0 * d, nc, d, xn + b, xn + c0, D);
                for (int i = 0; i < nb; i++)
                  {
                    double *bi = best + (gsize) i * k;
                    for (int j = 0; j < nc; j++)
                      {
                        double v = D[(gsize) i * nc + j];
                        int p;
                        if (c0 + j == b + i || v >= bi[k - 1])
                          continue;
                        for (p = k - 1; p > 0 && bi[p - 1] > v; p--)
                          bi[p] = bi[p - 1];
                        bi[p] = v;
                      }
                  }
              }
            for (int i = 0; i < nb; i++)
              out[b + i] = sqrt (best[(gsize) i * k + k - 1]);
          }
        g_free (D);
        g_free (best);
      }
    }
  return TRUE;
}

gboolean
cs_lens_compute (const CsLensSpec *spec, const double *X, gint64 n, int d, const double *vector,
                 double *out, GCancellable *cancellable, GError **error)
{
  if (n < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "there are no points");
      return FALSE;
    }
  switch (spec->kind)
    {
    case CS_LENS_COLUMN:
      if (spec->index >= d)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "lens column:%d: the points have only %d columns (0 … %d)",
                       spec->index, d, d - 1);
          return FALSE;
        }
      for (gint64 i = 0; i < n; i++)
        out[i] = X[i * d + spec->index];
      return TRUE;
    case CS_LENS_PCA:
      return lens_pca (X, n, d, spec->index, out, error);
    case CS_LENS_L2:
      row_sqnorms (X, n, d, out);
      for (gint64 i = 0; i < n; i++)
        out[i] = sqrt (out[i]);
      return TRUE;
    case CS_LENS_ECCENTRICITY:
      {
        /* (1/n Σ_j ‖x − x_j‖²)^(1/2) = (‖x − μ‖² + 1/n Σ_j ‖x_j − μ‖²)^(1/2) */
        g_autofree double *mu = g_new (double, d);
        double spread = 0;
        column_means (X, n, d, mu);
        for (gint64 i = 0; i < n; i++)
          {
            double s = 0;
            for (int k = 0; k < d; k++)
              s += (X[i * d + k] - mu[k]) * (X[i * d + k] - mu[k]);
            out[i] = s;
            spread += s;
          }
        spread /= n;
        for (gint64 i = 0; i < n; i++)
          out[i] = sqrt (out[i] + spread);
        return TRUE;
      }
    case CS_LENS_DENSITY:
      return lens_density (X, n, d, out, cancellable, error);
    case CS_LENS_KNN:
      return lens_knn (X, n, d, spec->index, out, cancellable, error);
    case CS_LENS_VECTOR:
      {
        double nn = 0;
        if (!vector)
          {
            g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "lens vector:%s: no such vector", spec->name);
            return FALSE;
          }
        for (int k = 0; k < d; k++)
          nn += vector[k] * vector[k];
        if (!(nn > 0))
          {
            g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "lens vector:%s: the vector is zero", spec->name);
            return FALSE;
          }
#pragma omp parallel for schedule(static)
        for (gint64 i = 0; i < n; i++)
          {
            double s = 0;
            for (int k = 0; k < d; k++)
              s += X[i * d + k] * vector[k];
            out[i] = s / nn;
          }
        return TRUE;
      }
    default:
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "unknown lens");
      return FALSE;
    }
}
