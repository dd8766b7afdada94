#define G_LOG_DOMAIN "cs-mapper"

#include "cs-mapper.h"
#include "cs-error.h"
#include "cs-json.h"
#include "cs-hdf5.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* The hot distance loops are built for AVX2 too, chosen at load time where
 * the processor has it (the default build targets plain x86-64). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CS_HOT __attribute__ ((target_clones ("avx2", "default")))
#else
#define CS_HOT
#endif

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

/* ------------------------------------------------------------------- cover */

void
cs_mapper_params_init (CsMapperParams *p)
{
  memset (p, 0, sizeof *p);
  p->n_lenses = 1;
  p->intervals = 10;
  p->overlap = 0.3;
  p->cover = CS_COVER_UNIFORM;
  p->cluster = CS_CLUSTER_DBSCAN;
  p->eps = 0;
  p->min_samples = 5;
  p->bins = 10;
  p->min_intersection = 1;
}

const char *
cs_mapper_cover_name (CsCoverKind kind)
{
  return kind == CS_COVER_BALANCED ? "balanced" : "uniform";
}

const char *
cs_mapper_cluster_name (CsClusterKind kind)
{
  return kind == CS_CLUSTER_SINGLE_LINKAGE ? "single-linkage" : "dbscan";
}

typedef struct
{
  int     n;          /* intervals */
  double *lo, *hi;
} Cover1;

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static void
cover_make (Cover1 *c, const double *lens, int stride, gint64 n, const CsMapperParams *p,
            double *vmin, double *vmax)
{
  double a = INFINITY, b = -INFINITY;

  for (gint64 i = 0; i < n; i++)
    {
      a = MIN (a, lens[i * stride]);
      b = MAX (b, lens[i * stride]);
    }
  *vmin = a;
  *vmax = b;
  if (!(b > a))
    {
      /* every point has the same value: one interval holds them all */
      c->n = 1;
      c->lo = g_new (double, 1);
      c->hi = g_new (double, 1);
      c->lo[0] = a;
      c->hi[0] = b;
      return;
    }
  c->n = p->intervals;
  c->lo = g_new (double, c->n);
  c->hi = g_new (double, c->n);
  if (p->cover == CS_COVER_UNIFORM)
    {
      double L = (b - a) / ((double) c->n - (double) (c->n - 1) * p->overlap);
      double s = L * (1.0 - p->overlap);
      for (int i = 0; i < c->n; i++)
        {
          c->lo[i] = a + (double) i * s;
          c->hi[i] = c->lo[i] + L;
        }
      c->hi[c->n - 1] = b;   /* the last end is b up to rounding: make it exact */
    }
  else
    {
      g_autofree double *v = g_new (double, n);
      double R = (double) (n - 1);
      double L = R / ((double) c->n - (double) (c->n - 1) * p->overlap);
      double s = L * (1.0 - p->overlap);
      for (gint64 i = 0; i < n; i++)
        v[i] = lens[i * stride];
      qsort (v, n, sizeof (double), cmp_double);
      for (int i = 0; i < c->n; i++)
        {
          double r[2] = { (double) i * s, MIN (R, (double) i * s + L) };
          double q[2];
          for (int e = 0; e < 2; e++)
            {
              gint64 k = (gint64) floor (r[e]);
              double f = r[e] - (double) k;
              if (k >= n - 1)
                q[e] = v[n - 1];
              else
                q[e] = v[k] + f * (v[k + 1] - v[k]);
            }
          c->lo[i] = q[0];
          c->hi[i] = q[1];
        }
      c->hi[c->n - 1] = b;
    }
}

static void
cover_clear (Cover1 *c)
{
  g_free (c->lo);
  g_free (c->hi);
}

/* The intervals holding v: [*first, *last]; FALSE when none. Both ends
 * ascend with i, so a binary search finds the first. */
static gboolean
cover_find (const Cover1 *c, double v, int *first, int *last)
{
  int lo = 0, hi = c->n;
  while (lo < hi)
    {
      int mid = (lo + hi) / 2;
      if (c->hi[mid] < v)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo >= c->n || c->lo[lo] > v)
    return FALSE;
  *first = lo;
  while (lo + 1 < c->n && c->lo[lo + 1] <= v)
    lo++;
  *last = lo;
  return TRUE;
}

/* -------------------------------------------------------------- clustering */

typedef struct
{
  int     n, d;
  double *C;        /* dimension-major: C[k * n + j], points in sort order */
  double *key;      /* the sort key, ascending */
  double  key_scale;
  int    *local;    /* sort position → position in the element's member list */
} Block;

typedef struct
{
  double v;
  int    j;
} KeyIdx;

static int
cmp_keyidx (const void *a, const void *b)
{
  const KeyIdx *x = a, *y = b;
  if (x->v != y->v)
    return x->v < y->v ? -1 : 1;
  return x->j - y->j;
}

/* Pairs inside the sweep windows of a sorted key: what a neighbour search
 * along it costs. */
static gint64
window_pairs (const KeyIdx *ki, int n, double win)
{
  gint64 pairs = 0;
  int hi = 0;
  for (int p = 0; p < n; p++)
    {
      if (hi < p + 1)
        hi = p + 1;
      while (hi < n && ki[hi].v - ki[p].v <= win)
        hi++;
      pairs += hi - p - 1;
    }
  return pairs;
}

/* Gathers the element's points sorted along a key such that a window of
 * ±eps along it bounds every eps-neighbourhood: the coordinate of largest
 * spread, or the distance to a pivot (the point farthest from the mean;
 * |d(x, r) − d(y, r)| ≤ d(x, y)), whichever leaves fewer pairs to test for
 * this eps (eps ≤ 0: the coordinate). */
static void
block_gather (Block *b, const double *X, int d, const gint32 *idx, int n, double eps)
{
  int best = 0;
  double best_var = -1;
  KeyIdx *ki = g_new (KeyIdx, n);
  g_autofree double *mu = g_new0 (double, d);

  b->n = n;
  b->d = d;
  b->C = g_new (double, (gsize) n * d);
  b->key = g_new (double, n);
  b->local = g_new (int, n);
  for (int k = 0; k < d; k++)
    {
      double s = 0, s2 = 0;
      for (int j = 0; j < n; j++)
        {
          double v = X[(gint64) idx[j] * d + k];
          s += v;
          s2 += v * v;
        }
      mu[k] = s / n;
      s2 = s2 / n - (s / n) * (s / n);
      if (s2 > best_var)
        {
          best_var = s2;
          best = k;
        }
    }
  for (int j = 0; j < n; j++)
    {
      ki[j].v = X[(gint64) idx[j] * d + best];
      ki[j].j = j;
    }
  qsort (ki, n, sizeof (KeyIdx), cmp_keyidx);
  b->key_scale = MAX (fabs (ki[0].v), fabs (ki[n - 1].v));
  if (eps > 0 && d > 1 && n > 64)
    {
      KeyIdx *kp = g_new (KeyIdx, n);
      const double *r = NULL;
      double far = -1;
      for (int j = 0; j < n; j++)
        {
          const double *x = X + (gint64) idx[j] * d;
          double s = 0;
          for (int k = 0; k < d; k++)
            s += (x[k] - mu[k]) * (x[k] - mu[k]);
          if (s > far)
            {
              far = s;
              r = x;
            }
        }
      for (int j = 0; j < n; j++)
        {
          const double *x = X + (gint64) idx[j] * d;
          double s = 0;
          for (int k = 0; k < d; k++)
            s += (x[k] - r[k]) * (x[k] - r[k]);
          kp[j].v = sqrt (s);
          kp[j].j = j;
        }
      qsort (kp, n, sizeof (KeyIdx), cmp_keyidx);
      if (window_pairs (kp, n, eps) < window_pairs (ki, n, eps))
        {
          g_free (ki);
          ki = kp;
          b->key_scale = ki[n - 1].v;
        }
      else
        g_free (kp);
    }
  for (int p = 0; p < n; p++)
    {
      const double *x = X + (gint64) idx[ki[p].j] * d;
      b->local[p] = ki[p].j;
      b->key[p] = ki[p].v;
      for (int k = 0; k < d; k++)
        b->C[(gsize) k * n + p] = x[k];
    }
  g_free (ki);
}

static void
block_clear (Block *b)
{
  g_free (b->C);
  g_free (b->key);
  g_free (b->local);
}

/* acc[j − j0] = ‖x_p − x_j‖² for j in [j0, j1), summed over coordinates in
 * order (the loop over j vectorises). */
CS_HOT static void
block_sqdist (const Block *b, int p, int j0, int j1, double *acc)
{
  int m = j1 - j0;
  for (int j = 0; j < m; j++)
    acc[j] = 0;
  for (int k = 0; k < b->d; k++)
    {
      const double *c = b->C + (gsize) k * b->n + j0;
      double v = b->C[(gsize) k * b->n + p];
      for (int j = 0; j < m; j++)
        {
          double t = c[j] - v;
          acc[j] += t * t;
        }
    }
}

static int
uf_find (int *parent, int x)
{
  while (parent[x] != x)
    {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
  return x;
}

static void
uf_union (int *parent, int a, int b)
{
  a = uf_find (parent, a);
  b = uf_find (parent, b);
  if (a != b)
    parent[MAX (a, b)] = MIN (a, b);
}

/* Clusters numbered in the order of their first member (the element's
 * members are in ascending point order), so labels do not depend on how the
 * points were sorted inside. label[] is by member position; −1: noise. */
static int
label_components (const Block *b, int *parent, const gboolean *in, int *label_by_pos, int *label)
{
  int n = b->n, n_clusters = 0;
  g_autofree int *root_label = g_new (int, n);
  g_autofree int *pos_of_local = g_new (int, n);

  for (int p = 0; p < n; p++)
    {
      pos_of_local[b->local[p]] = p;
      root_label[p] = -1;
    }
  for (int l = 0; l < n; l++)
    {
      int p = pos_of_local[l], r;
      if (in && !in[p])
        {
          label[l] = label_by_pos ? label_by_pos[p] : -1;
          continue;
        }
      r = uf_find (parent, p);
      if (root_label[r] < 0)
        root_label[r] = n_clusters++;
      label[l] = root_label[r];
    }
  /* non-core points carry their core's position; resolve to its label */
  if (in && label_by_pos)
    for (int l = 0; l < n; l++)
      {
        int p = pos_of_local[l];
        if (!in[p])
          label[l] = label_by_pos[p] >= 0 ? root_label[uf_find (parent, label_by_pos[p])] : -1;
      }
  return n_clusters;
}

/* Squared distances of a block of rows [p0, p0 + np) to the columns
 * [j0, j0 + nj) into D: by one GEMM (‖x‖² + ‖y‖² − 2 x·y) when the points
 * have a few coordinates or more, with every value within a rounding margin
 * of eps² recomputed by the direct sum, so the comparisons with eps² are
 * those of the direct sums; by the direct sums for fewer coordinates. */
#define ROWS_PER_BLOCK 32

static void
block_norms (const Block *b, double *nrm)
{
  for (int p = 0; p < b->n; p++)
    nrm[p] = 0;
  for (int k = 0; k < b->d; k++)
    {
      const double *c = b->C + (gsize) k * b->n;
      for (int p = 0; p < b->n; p++)
        nrm[p] += c[p] * c[p];
    }
}

/* row[j] += ni + nrm[j]; whether any value lies within margin of eps2. */
CS_HOT static int
add_norms (double *row, int nj, double ni, const double *nrm, double eps2, double margin)
{
  int near = 0;
  for (int j = 0; j < nj; j++)
    {
      double v = row[j] + (ni + nrm[j]);
      row[j] = v;
      near |= fabs (v - eps2) <= margin;
    }
  return near;
}

static void
block_rows (const Block *b, const double *nrm, int p0, int np, int j0, int nj, double eps2, double *D)
{
  if (b->d < 4)
    {
      for (int i = 0; i < np; i++)
        block_sqdist (b, p0 + i, j0, j0 + nj, D + (gsize) i * nj);
      return;
    }
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, np, nj, b->d, -2.0, b->C + p0, b->n, b->C + j0, b->n,
               0.0, D, nj);
  {
    double nmax = 0;
    const double *nj0 = nrm + j0;
    for (int j = 0; j < nj; j++)
      nmax = MAX (nmax, nj0[j]);
    for (int i = 0; i < np; i++)
      {
        double *row = D + (gsize) i * nj, ni = nrm[p0 + i];
        /* one margin for the row (the largest scale): a superset of the
         * values that need the exact sum, and a loop that vectorises */
        double margin = 1e-9 * (ni + nmax) + 1e-300;
        if (G_UNLIKELY (add_norms (row, nj, ni, nj0, eps2, margin)))
          for (int j = 0; j < nj; j++)
            if (fabs (row[j] - eps2) <= margin)
              block_sqdist (b, p0 + i, j0 + j, j0 + j + 1, &row[j]);
      }
  }
}

static void
border_candidate (const Block *b, const gint32 *idx, int p, int q, int *best_core, double *best_d)
{
  /* p is a border point of core q: keep the nearest core (the direct sum;
   * ties: the smaller point index) */
  double v;
  block_sqdist (b, p, q, q + 1, &v);
  if (v < best_d[p] || (v == best_d[p] && idx[b->local[q]] < idx[b->local[best_core[p]]]))
    {
      best_d[p] = v;
      best_core[p] = q;
    }
}

/* Sets bit q of `bits` for every row[q − lo] ≤ eps2, a word at a time
 * (no branches in the inner loop); returns how many. */
CS_HOT static int
row_bits (const double *row, int lo, int nj, double eps2, guint64 *bits)
{
  int c = 0, q = lo, end = lo + nj;
  while (q < end)
    {
      int w = q >> 6, t0 = q & 63, t1 = MIN (64, t0 + (end - q));
      const double *r = row + (q - lo) - t0;
      guint64 m = 0;
      for (int t = t0; t < t1; t++)
        m |= (guint64) (r[t] <= eps2) << t;
      bits[w] |= m;
      c += __builtin_popcountll (m);
      q += t1 - t0;
    }
  return c;
}

/* The eps-neighbourhoods over the window of each block of rows (|key_p −
 * key_q| ≤ eps bounds every neighbour pair): kept as an adjacency bit matrix
 * for elements up to 32768 points (128 MB), recomputed in a second pass
 * above that. */
#define BITSET_MAX 32768

/* Large elements of many coordinates: no single sweep key bounds the
 * neighbourhoods well (isotropic clusters in 20 dimensions), so the points
 * are split into balls around farthest-point-sampled centres, and only the
 * pairs of balls whose gap (centre distance minus both radii) is at most
 * eps are measured, block by block. The adjacency and everything after it
 * are those of the windowed path. */
#define PARTITION_MIN 2048
#define PARTITION_GROUPS 48

static int cluster_dbscan_adjacency (const Block *b, guint64 *adj, int *count, double eps, int min_samples,
                                     const gint32 *idx, int *label, int *wlo, int *whi);

static int
cluster_dbscan_partitioned (const Block *b0, double eps, int min_samples, const gint32 *idx, int *label)
{
  int n = b0->n, d = b0->d, P = MIN (PARTITION_GROUPS, MAX (2, n / 256)), words = (n + 63) / 64;
  double eps2 = eps * eps;
  g_autofree double *mind = g_new (double, n);
  g_autofree int *group = g_new (int, n);
  g_autofree int *centre = g_new (int, P);
  g_autofree double *radius = g_new0 (double, P);
  g_autofree int *start = g_new0 (int, P + 1);
  g_autofree int *perm = g_new (int, n);
  g_autofree double *acc = g_new (double, n);
  g_autofree double *nrm = g_new (double, n);
  g_autofree double *D = g_new (double, (gsize) ROWS_PER_BLOCK * n);
  g_autofree guint64 *adj = g_new0 (guint64, (gsize) n * words);
  g_autofree int *count = g_new0 (int, n);
  g_autofree int *wlo = g_new0 (int, n);
  g_autofree int *whi = g_new (int, n);
  Block b = { 0 };
  int c = 0, result;

  /* farthest-point sampling; each point keeps its nearest centre */
  for (int p = 0; p < n; p++)
    mind[p] = INFINITY;
  for (int k = 0; k < P; k++)
    {
      double far = -1;
      centre[k] = c;
      block_sqdist (b0, c, 0, n, acc);
      for (int p = 0; p < n; p++)
        {
          if (acc[p] < mind[p])
            {
              mind[p] = acc[p];
              group[p] = k;
            }
          if (mind[p] > far)
            {
              far = mind[p];
              c = p;
            }
        }
    }
  for (int p = 0; p < n; p++)
    {
      radius[group[p]] = MAX (radius[group[p]], sqrt (mind[p]));
      start[group[p] + 1]++;
    }
  for (int k = 0; k < P; k++)
    start[k + 1] += start[k];
  {
    g_autofree int *fill = g_memdup2 (start, sizeof (int) * (P + 1));
    for (int p = 0; p < n; p++)
      perm[fill[group[p]]++] = p;
  }
  /* the points regrouped: positions of a ball are contiguous */
  b.n = n;
  b.d = d;
  b.C = g_new (double, (gsize) n * d);
  b.key = g_new0 (double, n);
  b.local = g_new (int, n);
  for (int q = 0; q < n; q++)
    {
      b.local[q] = b0->local[perm[q]];
      for (int k = 0; k < d; k++)
        b.C[(gsize) k * n + q] = b0->C[(gsize) k * n + perm[q]];
    }
  block_norms (&b, nrm);
  for (int a = 0; a < P; a++)
    for (int p0 = start[a]; p0 < start[a + 1]; p0 += ROWS_PER_BLOCK)
      {
        int np = MIN (ROWS_PER_BLOCK, start[a + 1] - p0);
        for (int g2 = 0; g2 < P; g2++)
          {
            int j0 = start[g2], nj = start[g2 + 1] - start[g2];
            double cd;
            if (nj == 0)
              continue;
            block_sqdist (b0, centre[a], centre[g2], centre[g2] + 1, &cd);
            if (sqrt (cd) - radius[a] - radius[g2] > eps * (1 + 1e-9))
              continue;
            block_rows (&b, nrm, p0, np, j0, nj, eps2, D);
            for (int i = 0; i < np; i++)
              count[p0 + i] += row_bits (D + (gsize) i * nj, j0, nj, eps2, adj + (gsize) (p0 + i) * words);
          }
      }
  for (int p = 0; p < n; p++)
    {
      whi[p] = n;
      if (!(adj[(gsize) p * words + (p >> 6)] >> (p & 63) & 1))
        {
          adj[(gsize) p * words + (p >> 6)] |= G_GUINT64_CONSTANT (1) << (p & 63);
          count[p]++;
        }
    }
  result = cluster_dbscan_adjacency (&b, adj, count, eps, min_samples, idx, label, wlo, whi);
  block_clear (&b);
  return result;
}

/* From an adjacency bit matrix (rows' set bits within [wlo, whi), the
 * point itself included) and the neighbour counts: core points, their
 * components breadth-first, border points to their nearest core. */
static int
cluster_dbscan_adjacency (const Block *b, guint64 *adj, int *count, double eps, int min_samples,
                          const gint32 *idx, int *label, int *wlo, int *whi)
{
  int n = b->n, words = (n + 63) / 64;
  g_autofree gboolean *core = g_new (gboolean, n);
  g_autofree int *parent = g_new (int, n);
  g_autofree int *best_core = g_new (int, n);
  g_autofree double *best_d = g_new (double, n);

  for (int p = 0; p < n; p++)
    {
      core[p] = count[p] >= min_samples;
      parent[p] = p;
      best_core[p] = -1;
      best_d[p] = INFINITY;
    }
  {
      /* components of the core points by a breadth-first search over the
       * adjacency rows masked with the cores not yet reached: each row is
       * read once, whatever the number of neighbours */
      g_autofree guint64 *unvisited = g_new0 (guint64, words);
      g_autofree guint64 *coremask = g_new0 (guint64, words);
      g_autofree int *queue = g_new (int, n);
      for (int p = 0; p < n; p++)
        if (core[p])
          {
            unvisited[p >> 6] |= G_GUINT64_CONSTANT (1) << (p & 63);
            coremask[p >> 6] |= G_GUINT64_CONSTANT (1) << (p & 63);
          }
      for (int p = 0; p < n; p++)
        {
          int head = 0, tail = 0;
          if (!(unvisited[p >> 6] >> (p & 63) & 1))
            continue;
          unvisited[p >> 6] &= ~(G_GUINT64_CONSTANT (1) << (p & 63));
          queue[tail++] = p;
          while (head < tail)
            {
              int u = queue[head++];
              const guint64 *bits = adj + (gsize) u * words;
              parent[u] = p;
              for (int w = wlo[u] >> 6; w <= (whi[u] - 1) >> 6 && w < words; w++)
                {
                  guint64 m = bits[w] & unvisited[w];
                  unvisited[w] &= ~m;
                  while (m)
                    {
                      queue[tail++] = w * 64 + __builtin_ctzll (m);
                      m &= m - 1;
                    }
                }
            }
        }
      for (int p = 0; p < n; p++)
        {
          const guint64 *bits = adj + (gsize) p * words;
          if (core[p])
            continue;
          for (int w = wlo[p] >> 6; w <= (whi[p] - 1) >> 6 && w < words; w++)
            {
              guint64 m = bits[w] & coremask[w];
              while (m)
                {
                  border_candidate (b, idx, p, w * 64 + __builtin_ctzll (m), best_core, best_d);
                  m &= m - 1;
                }
            }
        }
    }
  return label_components (b, parent, core, best_core, label);
}

static int
cluster_dbscan (const Block *b, double eps, int min_samples, const gint32 *idx, int *label)
{
  int n = b->n, words = (n + 63) / 64;
  gboolean bitset = n <= BITSET_MAX;
  double eps2 = eps * eps, win = eps * (1 + 1e-9) + 1e-12 * b->key_scale;
  g_autofree double *nrm = g_new (double, n);
  g_autofree double *D = g_new (double, (gsize) ROWS_PER_BLOCK * n);
  g_autofree guint64 *adj = bitset ? g_new0 (guint64, (gsize) n * words) : NULL;
  g_autofree int *wlo = g_new (int, n);
  g_autofree int *whi = g_new (int, n);
  g_autofree int *count = g_new0 (int, n);
  g_autofree gboolean *core = g_new (gboolean, n);
  g_autofree int *parent = g_new (int, n);
  g_autofree int *best_core = g_new (int, n);
  g_autofree double *best_d = g_new (double, n);

  if (n >= PARTITION_MIN && n <= BITSET_MAX && b->d >= 4)
    return cluster_dbscan_partitioned (b, eps, min_samples, idx, label);
  block_norms (b, nrm);
  for (int p = 0; p < n; p++)
    {
      parent[p] = p;
      best_core[p] = -1;
      best_d[p] = INFINITY;
    }
  for (int pass = 0; pass < (bitset ? 1 : 2); pass++)
    {
      int lo = 0, hi = 0;
      for (int p0 = 0; p0 < n; p0 += ROWS_PER_BLOCK)
        {
          int np = MIN (ROWS_PER_BLOCK, n - p0), nj;
          while (b->key[p0] - b->key[lo] > win)
            lo++;
          while (hi < n && b->key[hi] - b->key[p0 + np - 1] <= win)
            hi++;
          nj = hi - lo;
          block_rows (b, nrm, p0, np, lo, nj, eps2, D);
          for (int i = 0; i < np; i++)
            {
              int p = p0 + i, c = 0;
              const double *row = D + (gsize) i * nj;
              if (pass == 0)
                {
                  guint64 *bits = bitset ? adj + (gsize) p * words : NULL;
                  if (bits)
                    c = row_bits (row, lo, nj, eps2, bits);
                  else
                    for (int j = 0; j < nj; j++)
                      c += row[j] <= eps2;
                  if (!(row[p - lo] <= eps2))
                    {
                      /* itself, always (a distance of 0 rounded above eps² = 0) */
                      c++;
                      if (bits)
                        bits[p >> 6] |= G_GUINT64_CONSTANT (1) << (p & 63);
                    }
                  count[p] = c;
                  wlo[p] = lo;
                  whi[p] = hi;
                  continue;
                }
              for (int j = 0; j < nj; j++)
                {
                  int q = lo + j;
                  if (q == p || row[j] > eps2)
                    continue;
                  if (core[p] && core[q] && q > p)
                    uf_union (parent, p, q);
                  else if (!core[p] && core[q])
                    border_candidate (b, idx, p, q, best_core, best_d);
                }
            }
        }
      if (pass == 0)
        for (int p = 0; p < n; p++)
          core[p] = count[p] >= min_samples;
    }
  if (bitset)
    return cluster_dbscan_adjacency (b, adj, count, eps, min_samples, idx, label, wlo, whi);
  return label_components (b, parent, core, best_core, label);
}

/* Prim's minimum spanning tree on the complete graph: heights[p] is the
 * length of the edge joining p (p ≠ first) to the tree, via[p] its other end;
 * *diameter the largest distance between two of the points (every point's
 * distances to all are computed once on the way). */
static void
mst_heights (const Block *b, double *height, int *via, double *diameter)
{
  double far = 0;
  int n = b->n;
  g_autofree double *best = g_new (double, n);
  g_autofree gboolean *done = g_new0 (gboolean, n);
  g_autofree double *acc = g_new (double, n);
  int u = 0;

  for (int p = 0; p < n; p++)
    {
      best[p] = INFINITY;
      via[p] = -1;
    }
  height[0] = 0;
  for (int step = 0; step < n; step++)
    {
      int next = -1;
      double nb = INFINITY;
      done[u] = TRUE;
      block_sqdist (b, u, 0, n, acc);
      for (int p = 0; p < n; p++)
        {
          far = MAX (far, acc[p]);
          if (done[p])
            continue;
          if (acc[p] < best[p])
            {
              best[p] = acc[p];
              via[p] = u;
            }
          if (best[p] < nb)
            {
              nb = best[p];
              next = p;
            }
        }
      if (next < 0)
        break;
      height[next] = sqrt (best[next]);
      u = next;
    }
  *diameter = sqrt (far);
}

/* Single linkage with the histogram cut (docs/mapper.md): the merge heights
 * binned over [0, the element's diameter], cut at the lower edge of the
 * first empty bin above the fullest one. */
static int
cluster_single_linkage (const Block *b, int bins, int *label)
{
  int n = b->n;
  g_autofree double *height = g_new (double, n);
  g_autofree int *via = g_new (int, n);
  g_autofree int *parent = g_new (int, n);
  g_autofree int *hist = g_new0 (int, bins);
  double diameter = 0, cut = INFINITY, width;
  int mode = 0;

  for (int p = 0; p < n; p++)
    parent[p] = p;
  if (n > 1)
    {
      mst_heights (b, height, via, &diameter);
      width = diameter / bins;
      if (width > 0)
        {
          for (int p = 0; p < n; p++)
            if (via[p] >= 0)
              hist[MIN (bins - 1, (int) floor (height[p] / width))]++;
          for (int k = 1; k < bins; k++)
            if (hist[k] > hist[mode])
              mode = k;
          for (int k = mode + 1; k < bins; k++)
            if (hist[k] == 0)
              {
                cut = k * width;
                break;
              }
        }
      for (int p = 0; p < n; p++)
        if (via[p] >= 0 && height[p] <= cut)
          uf_union (parent, p, via[p]);
    }
  return label_components (b, parent, NULL, NULL, label);
}

/* Distance of each point to its k-th nearest point (itself the first). */
static void
kdist_element (const Block *b, int k, const gboolean *take, double *out, int *n_out)
{
  int n = b->n;
  g_autofree double *acc = g_new (double, n);
  g_autofree double *best = g_new (double, k);

  *n_out = 0;
  if (n < k)
    return;
  for (int p = 0; p < n; p++)
    {
      if (!take[b->local[p]])
        continue;
      for (int t = 0; t < k; t++)
        best[t] = INFINITY;
      block_sqdist (b, p, 0, n, acc);
      for (int j = 0; j < n; j++)
        {
          double v = acc[j];
          int q;
          if (v >= best[k - 1])
            continue;
          for (q = k - 1; q > 0 && best[q - 1] > v; q--)
            best[q] = best[q - 1];
          best[q] = v;
        }
      out[(*n_out)++] = sqrt (best[k - 1]);
    }
}

static double
knee (double *v, gint64 m)
{
  gint64 best = 0;
  double bv = -INFINITY;

  qsort (v, m, sizeof (double), cmp_double);
  if (m < 3 || !(v[m - 1] > v[0]))
    return v[m - 1];
  for (gint64 i = 0; i < m; i++)
    {
      double x = (double) i / (double) (m - 1);
      double y = (v[i] - v[0]) / (v[m - 1] - v[0]);
      if (x - y > bv)
        {
          bv = x - y;
          best = i;
        }
    }
  return v[best];
}

/* ------------------------------------------------------------------- build */

typedef struct
{
  int     n_clusters;
  int    *label;      /* by member position */
} ElementResult;

static int
cmp_pair (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return (x > y) - (x < y);
}

typedef struct
{
  gint64 size;
  int    e;
} SizeIdx;

static int
cmp_size_desc (const void *a, const void *b)
{
  const SizeIdx *x = a, *y = b;
  if (x->size != y->size)
    return x->size > y->size ? -1 : 1;
  return x->e - y->e;
}

void
cs_mapper_graph_free (CsMapperGraph *g)
{
  if (!g)
    return;
  g_free (g->nodes);
  g_free (g->edges);
  g_free (g->component);
  g_free (g->x);
  g_free (g->y);
  g_free (g->storage);
  g_free (g);
}

static void
graph_finish (CsMapperGraph *g)
{
  g_autofree int *parent = g_new (int, MAX (1, g->n_nodes));
  g_autofree int *root_id = g_new (int, MAX (1, g->n_nodes));

  for (int i = 0; i < g->n_nodes; i++)
    {
      parent[i] = i;
      root_id[i] = -1;
    }
  for (int e = 0; e < g->n_edges; e++)
    uf_union (parent, g->edges[e].source, g->edges[e].target);
  g->component = g_new (int, MAX (1, g->n_nodes));
  g->n_components = 0;
  for (int i = 0; i < g->n_nodes; i++)
    {
      int r = uf_find (parent, i);
      if (root_id[r] < 0)
        root_id[r] = g->n_components++;
      g->component[i] = root_id[r];
    }
  g->cycle_rank = g->n_edges - g->n_nodes + g->n_components;
}

/* Edges from the point → nodes lists: every pair of nodes holding a point is
 * counted once per shared point, by sorting the pairs. */
static void
build_nerve (CsMapperGraph *g)
{
  gint64 n = g->n_points;
  g_autofree gint64 *start = g_new0 (gint64, n + 1);
  g_autofree gint32 *list = NULL;
  g_autofree gint64 *fill = NULL;
  g_autoptr(GArray) pairs = g_array_new (FALSE, FALSE, sizeof (guint64));
  GArray *edges = g_array_new (FALSE, FALSE, sizeof (CsMapperEdge));
  gint64 total = 0;

  for (int v = 0; v < g->n_nodes; v++)
    for (int t = 0; t < g->nodes[v].n_members; t++)
      start[g->nodes[v].members[t] + 1]++;
  for (gint64 i = 0; i < n; i++)
    start[i + 1] += start[i];
  total = start[n];
  list = g_new (gint32, MAX (1, total));
  fill = g_memdup2 (start, sizeof (gint64) * (n + 1));
  for (int v = 0; v < g->n_nodes; v++)
    for (int t = 0; t < g->nodes[v].n_members; t++)
      list[fill[g->nodes[v].members[t]]++] = v;
  g->n_covered = 0;
  for (gint64 i = 0; i < n; i++)
    {
      gint64 a0 = start[i], a1 = start[i + 1];
      if (a1 > a0)
        g->n_covered++;
      for (gint64 a = a0; a < a1; a++)
        for (gint64 c = a + 1; c < a1; c++)
          {
            guint64 key = ((guint64) MIN (list[a], list[c]) << 32) | (guint64) MAX (list[a], list[c]);
            g_array_append_val (pairs, key);
          }
    }
  if (pairs->len)
    qsort (pairs->data, pairs->len, sizeof (guint64), cmp_pair);
  for (guint i = 0; i < pairs->len;)
    {
      guint64 key = g_array_index (pairs, guint64, i);
      guint j = i;
      while (j < pairs->len && g_array_index (pairs, guint64, j) == key)
        j++;
      if ((int) (j - i) >= g->params.min_intersection)
        {
          CsMapperEdge e;
          e.source = (int) (key >> 32);
          e.target = (int) (key & 0xffffffffu);
          e.shared = (int) (j - i);
          e.weight = (double) e.shared /
                     (double) (g->nodes[e.source].n_members + g->nodes[e.target].n_members - e.shared);
          g_array_append_val (edges, e);
        }
      i = j;
    }
  g->n_edges = edges->len;
  g->edges = (CsMapperEdge *) g_array_free (edges, FALSE);
}

CsMapperGraph *
cs_mapper_build (const double *X, gint64 n, int d, const double *lens, const CsMapperParams *params,
                 CsProgressFunc progress, gpointer progress_data, GCancellable *cancellable, GError **error)
{
  CsMapperParams p = *params;
  Cover1 cover[2] = { { 0 } };
  int nl = p.n_lenses, n_el;
  g_autofree gint64 *el_start = NULL;
  g_autofree gint32 *el_members = NULL;
  g_autofree SizeIdx *order = NULL;
  ElementResult *res = NULL;
  CsMapperGraph *g = NULL;
  gint64 total = 0, done = 0;
  gboolean cancelled = FALSE;

  if (nl < 1 || nl > 2)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "Mapper takes one or two lenses");
      return NULL;
    }
  if (p.intervals < 1 || p.intervals > 100000)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the number of intervals must be between 1 and 100000 (got %d)", p.intervals);
      return NULL;
    }
  if (!(p.overlap >= 0 && p.overlap < 1))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the overlap must be a fraction in [0, 1) (got %g)", p.overlap);
      return NULL;
    }
  if (p.min_samples < 1 || p.bins < 2 || p.min_intersection < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                   "min-samples and min-intersection must be at least 1, histogram bins at least 2");
      return NULL;
    }
  if (n < 1 || d < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "there are no points to build a graph from");
      return NULL;
    }
  if (n > G_MAXINT32)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "at most %d points", G_MAXINT32);
      return NULL;
    }
  for (gint64 i = 0; i < n * nl; i++)
    if (!isfinite (lens[i]))
      {
        g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the lens value of point %" G_GINT64_FORMAT " is not finite", i / nl);
        return NULL;
      }

  g = g_new0 (CsMapperGraph, 1);
  g->params = p;
  g->n_points = n;
  g->eps = p.eps;
  for (int l = 0; l < nl; l++)
    cover_make (&cover[l], lens + l, nl, n, &p, &g->lens_min[l], &g->lens_max[l]);
  if (nl == 1)
    cover[1].n = 1;
  n_el = cover[0].n * cover[1].n;

  /* point → elements, as element member lists in ascending point order */
  el_start = g_new0 (gint64, n_el + 1);
  for (int pass = 0; pass < 2; pass++)
    {
      g_autofree gint64 *fill = pass ? g_memdup2 (el_start, sizeof (gint64) * (n_el + 1)) : NULL;
      if (pass)
        el_members = g_new (gint32, MAX (1, el_start[n_el]));
      for (gint64 i = 0; i < n; i++)
        {
          int a0, a1, b0 = 0, b1 = 0;
          if (!cover_find (&cover[0], lens[i * nl], &a0, &a1))
            continue;
          if (nl == 2 && !cover_find (&cover[1], lens[i * nl + 1], &b0, &b1))
            continue;
          for (int a = a0; a <= a1; a++)
            for (int c = b0; c <= b1; c++)
              {
                int e = a * cover[1].n + c;
                if (pass)
                  el_members[fill[e]++] = (gint32) i;
                else
                  el_start[e + 1]++;
              }
        }
      if (!pass)
        for (int e = 0; e < n_el; e++)
          el_start[e + 1] += el_start[e];
    }
  total = el_start[n_el];
  order = g_new (SizeIdx, n_el);
  for (int e = 0; e < n_el; e++)
    {
      order[e].size = el_start[e + 1] - el_start[e];
      order[e].e = e;
    }
  qsort (order, n_el, sizeof (SizeIdx), cmp_size_desc);

  if (p.cluster == CS_CLUSTER_DBSCAN && !(p.eps > 0))
    {
      /* the knee of k-distances, each point in its first element */
      g_autofree gboolean *seen = g_new0 (gboolean, n);
      g_autofree double *kd = g_new (double, n);
      g_autofree gboolean *take = NULL;
      gint64 m = 0;
      take = g_new0 (gboolean, MAX (1, total));
      for (int e = 0; e < n_el; e++)
        for (gint64 t = el_start[e]; t < el_start[e + 1]; t++)
          if (!seen[el_members[t]])
            {
              seen[el_members[t]] = TRUE;
              take[t] = TRUE;
            }
#pragma omp parallel for schedule(dynamic, 1)
      for (int o = 0; o < n_el; o++)
        {
          int e = order[o].e, ne = (int) order[o].size, got = 0;
          Block b;
          double *out;
          if (ne < p.min_samples || cancelled)
            continue;
          if (g_cancellable_is_cancelled (cancellable))
            {
              cancelled = TRUE;
              continue;
            }
          out = g_new (double, ne);
          block_gather (&b, X, d, el_members + el_start[e], ne, 0);
          kdist_element (&b, p.min_samples, take + el_start[e], out, &got);
#pragma omp critical
          {
            memcpy (kd + m, out, sizeof (double) * got);
            m += got;
          }
          block_clear (&b);
          g_free (out);
        }
      if (!cancelled && m == 0)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                       "no cover element holds min-samples (%d) points, so eps cannot be chosen from the data: "
                       "give eps, lower min-samples or use fewer intervals", p.min_samples);
          goto fail;
        }
      if (!cancelled)
        g->eps = knee (kd, m);
    }

  res = g_new0 (ElementResult, n_el);
#pragma omp parallel for schedule(dynamic, 1)
  for (int o = 0; o < n_el; o++)
    {
      int e = order[o].e, ne = (int) order[o].size;
      Block b;
      if (ne == 0 || cancelled)
        continue;
      if (g_cancellable_is_cancelled (cancellable))
        {
          cancelled = TRUE;
          continue;
        }
      res[e].label = g_new (int, ne);
      block_gather (&b, X, d, el_members + el_start[e], ne,
                    p.cluster == CS_CLUSTER_DBSCAN ? g->eps : 0);
      if (p.cluster == CS_CLUSTER_DBSCAN)
        res[e].n_clusters = cluster_dbscan (&b, g->eps, p.min_samples, el_members + el_start[e], res[e].label);
      else
        res[e].n_clusters = cluster_single_linkage (&b, p.bins, res[e].label);
      block_clear (&b);
#pragma omp atomic
      done += ne;
      if (progress && omp_get_thread_num () == 0)
        progress (0.95 * (double) done / (double) MAX (1, total), progress_data);
    }
  if (cancelled || g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_CANCELLED, "cancelled");
      goto fail;
    }

  /* nodes, in element order then cluster order */
  {
    gint64 stored = 0;
    int nn = 0;
    for (int e = 0; e < n_el; e++)
      {
        nn += res[e].n_clusters;
        for (gint64 t = 0; t < el_start[e + 1] - el_start[e]; t++)
          if (res[e].label && res[e].label[t] >= 0)
            stored++;
      }
    g->n_nodes = nn;
    g->nodes = g_new0 (CsMapperNode, MAX (1, nn));
    g->storage = g_new (gint32, MAX (1, stored));
    stored = 0;
    nn = 0;
    for (int e = 0; e < n_el; e++)
      {
        gint64 ne = el_start[e + 1] - el_start[e];
        for (int c = 0; c < res[e].n_clusters; c++)
          {
            CsMapperNode *node = &g->nodes[nn++];
            node->element[0] = e / cover[1].n;
            node->element[1] = e % cover[1].n;
            node->members = g->storage + stored;
            for (gint64 t = 0; t < ne; t++)
              if (res[e].label[t] == c)
                {
                  gint32 pt = el_members[el_start[e] + t];
                  node->members[node->n_members++] = pt;
                  for (int l = 0; l < nl; l++)
                    node->lens_mean[l] += lens[(gint64) pt * nl + l];
                }
            for (int l = 0; l < nl; l++)
              node->lens_mean[l] /= MAX (1, node->n_members);
            stored += node->n_members;
          }
      }
  }
  build_nerve (g);
  graph_finish (g);
  if (progress)
    progress (1.0, progress_data);
  for (int e = 0; e < n_el; e++)
    g_free (res[e].label);
  g_free (res);
  cover_clear (&cover[0]);
  cover_clear (&cover[1]);
  return g;

fail:
  if (res)
    for (int e = 0; e < n_el; e++)
      g_free (res[e].label);
  g_free (res);
  cover_clear (&cover[0]);
  cover_clear (&cover[1]);
  cs_mapper_graph_free (g);
  return NULL;
}

/* ------------------------------------------------------------------ layout */

typedef struct
{
  double x0, y0, size;     /* square cell */
  double cx, cy, mass;
  int    child[4];         /* −1: none */
  int    point;            /* leaf: the node it holds; −1 otherwise */
} QCell;

typedef struct
{
  QCell *cells;
  int    n, cap;
} QTree;

static int
qtree_new_cell (QTree *t, double x0, double y0, double size)
{
  QCell *c;
  if (t->n == t->cap)
    {
      t->cap = MAX (64, t->cap * 2);
      t->cells = g_renew (QCell, t->cells, t->cap);
    }
  c = &t->cells[t->n];
  c->x0 = x0;
  c->y0 = y0;
  c->size = size;
  c->cx = c->cy = c->mass = 0;
  c->child[0] = c->child[1] = c->child[2] = c->child[3] = -1;
  c->point = -1;
  return t->n++;
}

static void
qtree_insert (QTree *t, int cell, int pt, const double *x, const double *y, int depth)
{
  for (;;)
    {
      QCell *c = &t->cells[cell];
      double m = c->mass;
      int q;
      c->cx = (c->cx * m + x[pt]) / (m + 1);
      c->cy = (c->cy * m + y[pt]) / (m + 1);
      c->mass = m + 1;
      if (m == 0)
        {
          c->point = pt;
          return;
        }
      if (depth > 40)
        return;   /* coincident points: the mass is counted, that is enough */
      if (c->point >= 0)
        {
          /* push the resident point one level down */
          int old = c->point;
          double h = c->size / 2;
          int oq = (x[old] >= c->x0 + h) + 2 * (y[old] >= c->y0 + h);
          int nc;
          c->point = -1;
          nc = qtree_new_cell (t, c->x0 + (oq & 1) * h, c->y0 + (oq >> 1) * h, h);
          c = &t->cells[cell];
          c->child[oq] = nc;
          t->cells[nc].cx = x[old];
          t->cells[nc].cy = y[old];
          t->cells[nc].mass = 1;
          t->cells[nc].point = old;
        }
      {
        double h = c->size / 2;
        q = (x[pt] >= c->x0 + h) + 2 * (y[pt] >= c->y0 + h);
        if (c->child[q] < 0)
          {
            int nc = qtree_new_cell (t, c->x0 + (q & 1) * h, c->y0 + (q >> 1) * h, h);
            t->cells[cell].child[q] = nc;
          }
        cell = t->cells[cell].child[q];
        depth++;
      }
    }
}

static void
qtree_force (const QTree *t, int cell, double px, double py, int self, double k2, double theta2,
             double *fx, double *fy)
{
  const QCell *c = &t->cells[cell];
  double dx = px - c->cx, dy = py - c->cy, d2 = dx * dx + dy * dy;

  if (c->mass == 0 || (c->point == self && c->mass == 1))
    return;
  if (c->point >= 0 || c->size * c->size < theta2 * d2)
    {
      double f;
      if (d2 < 1e-12)
        return;
      f = k2 * c->mass / d2;   /* (k²/d) along the unit vector = k² Δ / d² */
      *fx += dx * f;
      *fy += dy * f;
      return;
    }
  for (int q = 0; q < 4; q++)
    if (c->child[q] >= 0)
      qtree_force (t, c->child[q], px, py, self, k2, theta2, fx, fy);
}

void
cs_mapper_layout (CsMapperGraph *g, guint seed)
{
  int n = g->n_nodes, iters;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree double *dx = NULL, *dy = NULL;
  double k = 1.0, k2 = 1.0, t0, side = sqrt ((double) MAX (1, n));
  gboolean bh = n > 500;
  QTree tree = { 0 };

  g_free (g->x);
  g_free (g->y);
  g->x = g_new (double, MAX (1, n));
  g->y = g_new (double, MAX (1, n));
  for (int i = 0; i < n; i++)
    {
      g->x[i] = g_rand_double (rand) * side;
      g->y[i] = g_rand_double (rand) * side;
    }
  if (n <= 1)
    {
      if (n == 1)
        g->x[0] = g->y[0] = 0.5;
      return;
    }
  dx = g_new (double, n);
  dy = g_new (double, n);
  iters = n > 5000 ? 150 : n > 1000 ? 250 : 400;
  t0 = side / 10;
  for (int it = 0; it < iters; it++)
    {
      double temp = t0 * (1.0 - (double) it / iters) + 1e-3;
      double cxm = 0, cym = 0;
      if (bh)
        {
          double xmin = INFINITY, ymin = INFINITY, xmax = -INFINITY, ymax = -INFINITY;
          for (int i = 0; i < n; i++)
            {
              xmin = MIN (xmin, g->x[i]);
              xmax = MAX (xmax, g->x[i]);
              ymin = MIN (ymin, g->y[i]);
              ymax = MAX (ymax, g->y[i]);
            }
          tree.n = 0;
          qtree_new_cell (&tree, xmin, ymin, MAX (xmax - xmin, ymax - ymin) * (1 + 1e-9) + 1e-9);
          for (int i = 0; i < n; i++)
            qtree_insert (&tree, 0, i, g->x, g->y, 0);
        }
      for (int i = 0; i < n; i++)
        {
          cxm += g->x[i];
          cym += g->y[i];
        }
      cxm /= n;
      cym /= n;
#pragma omp parallel for schedule(static)
      for (int i = 0; i < n; i++)
        {
          double fx = 0, fy = 0;
          if (bh)
            qtree_force (&tree, 0, g->x[i], g->y[i], i, k2, 0.81, &fx, &fy);
          else
            for (int j = 0; j < n; j++)
              {
                double ex = g->x[i] - g->x[j], ey = g->y[i] - g->y[j], d2 = ex * ex + ey * ey;
                if (j == i || d2 < 1e-12)
                  continue;
                fx += ex * k2 / d2;
                fy += ey * k2 / d2;
              }
          /* gravity keeps separate components in view */
          fx -= 0.05 * (g->x[i] - cxm);
          fy -= 0.05 * (g->y[i] - cym);
          dx[i] = fx;
          dy[i] = fy;
        }
      for (int e = 0; e < g->n_edges; e++)
        {
          int a = g->edges[e].source, b = g->edges[e].target;
          double ex = g->x[a] - g->x[b], ey = g->y[a] - g->y[b];
          double dist = sqrt (ex * ex + ey * ey);
          double f = dist / k * (0.5 + g->edges[e].weight);   /* d²/k along the unit vector */
          dx[a] -= ex * f;
          dy[a] -= ey * f;
          dx[b] += ex * f;
          dy[b] += ey * f;
        }
      for (int i = 0; i < n; i++)
        {
          double len = sqrt (dx[i] * dx[i] + dy[i] * dy[i]);
          /* a tiny deterministic jitter separates coincident nodes */
          if (len < 1e-12)
            {
              g->x[i] += 1e-6 * ((i % 7) - 3);
              g->y[i] += 1e-6 * ((i % 5) - 2);
              continue;
            }
          g->x[i] += dx[i] / len * MIN (len, temp);
          g->y[i] += dy[i] / len * MIN (len, temp);
        }
    }
  g_free (tree.cells);
  /* into [0, 1]², the same scale on both axes, centred */
  {
    double xmin = INFINITY, ymin = INFINITY, xmax = -INFINITY, ymax = -INFINITY, s;
    for (int i = 0; i < n; i++)
      {
        xmin = MIN (xmin, g->x[i]);
        xmax = MAX (xmax, g->x[i]);
        ymin = MIN (ymin, g->y[i]);
        ymax = MAX (ymax, g->y[i]);
      }
    s = MAX (xmax - xmin, ymax - ymin);
    if (!(s > 0))
      s = 1;
    for (int i = 0; i < n; i++)
      {
        g->x[i] = 0.5 + (g->x[i] - (xmin + xmax) / 2) / s;
        g->y[i] = 0.5 + (g->y[i] - (ymin + ymax) / 2) / s;
      }
  }
}

/* ------------------------------------------------------------------ values */

void
cs_mapper_node_means (const CsMapperGraph *g, const double *values, double *out)
{
  for (int v = 0; v < g->n_nodes; v++)
    {
      double s = 0;
      for (int t = 0; t < g->nodes[v].n_members; t++)
        s += values[g->nodes[v].members[t]];
      out[v] = g->nodes[v].n_members ? s / g->nodes[v].n_members : NAN;
    }
}

void
cs_mapper_nodes_with (const CsMapperGraph *g, const gint32 *points, int n, gboolean *out)
{
  g_autoptr(GHashTable) set = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (int i = 0; i < n; i++)
    g_hash_table_add (set, GINT_TO_POINTER (points[i] + 1));
  for (int v = 0; v < g->n_nodes; v++)
    {
      out[v] = FALSE;
      for (int t = 0; t < g->nodes[v].n_members && !out[v]; t++)
        out[v] = g_hash_table_contains (set, GINT_TO_POINTER (g->nodes[v].members[t] + 1));
    }
}

/* -------------------------------------------------------------------- save */

static JsonNode *
params_to_json (const CsMapperGraph *g, const char * const *lens_names)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const CsMapperParams *p = &g->params;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "lenses");
  json_builder_begin_array (b);
  for (int l = 0; l < p->n_lenses; l++)
    json_builder_add_string_value (b, lens_names && lens_names[l] ? lens_names[l] : "");
  json_builder_end_array (b);
  json_builder_set_member_name (b, "intervals");
  json_builder_add_int_value (b, p->intervals);
  json_builder_set_member_name (b, "overlap");
  json_builder_add_double_value (b, p->overlap);
  json_builder_set_member_name (b, "cover");
  json_builder_add_string_value (b, cs_mapper_cover_name (p->cover));
  json_builder_set_member_name (b, "cluster");
  json_builder_add_string_value (b, cs_mapper_cluster_name (p->cluster));
  if (p->cluster == CS_CLUSTER_DBSCAN)
    {
      json_builder_set_member_name (b, "eps");
      json_builder_add_double_value (b, g->eps);
      json_builder_set_member_name (b, "eps_automatic");
      json_builder_add_boolean_value (b, !(p->eps > 0));
      json_builder_set_member_name (b, "min_samples");
      json_builder_add_int_value (b, p->min_samples);
    }
  else
    {
      json_builder_set_member_name (b, "bins");
      json_builder_add_int_value (b, p->bins);
    }
  json_builder_set_member_name (b, "min_intersection");
  json_builder_add_int_value (b, p->min_intersection);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
cs_mapper_graph_to_json (const CsMapperGraph *g, const char * const *lens_names, const char * const *labels)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "parameters");
  json_builder_add_value (b, params_to_json (g, lens_names));
  json_builder_set_member_name (b, "n_points");
  json_builder_add_int_value (b, g->n_points);
  json_builder_set_member_name (b, "n_covered");
  json_builder_add_int_value (b, g->n_covered);
  json_builder_set_member_name (b, "n_nodes");
  json_builder_add_int_value (b, g->n_nodes);
  json_builder_set_member_name (b, "n_edges");
  json_builder_add_int_value (b, g->n_edges);
  json_builder_set_member_name (b, "components");
  json_builder_add_int_value (b, g->n_components);
  json_builder_set_member_name (b, "cycle_rank");
  json_builder_add_int_value (b, g->cycle_rank);
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (int v = 0; v < g->n_nodes; v++)
    {
      const CsMapperNode *node = &g->nodes[v];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, v);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, node->n_members);
      json_builder_set_member_name (b, "element");
      json_builder_begin_array (b);
      for (int l = 0; l < g->params.n_lenses; l++)
        json_builder_add_int_value (b, node->element[l]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "lens_mean");
      json_builder_begin_array (b);
      for (int l = 0; l < g->params.n_lenses; l++)
        json_builder_add_double_value (b, node->lens_mean[l]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "component");
      json_builder_add_int_value (b, g->component[v]);
      if (g->x)
        {
          json_builder_set_member_name (b, "x");
          json_builder_add_double_value (b, g->x[v]);
          json_builder_set_member_name (b, "y");
          json_builder_add_double_value (b, g->y[v]);
        }
      json_builder_set_member_name (b, "members");
      json_builder_begin_array (b);
      for (int t = 0; t < node->n_members; t++)
        json_builder_add_int_value (b, node->members[t]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "edges");
  json_builder_begin_array (b);
  for (int e = 0; e < g->n_edges; e++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "source");
      json_builder_add_int_value (b, g->edges[e].source);
      json_builder_set_member_name (b, "target");
      json_builder_add_int_value (b, g->edges[e].target);
      json_builder_set_member_name (b, "shared");
      json_builder_add_int_value (b, g->edges[e].shared);
      json_builder_set_member_name (b, "weight");
      json_builder_add_double_value (b, g->edges[e].weight);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  if (labels)
    {
      json_builder_set_member_name (b, "labels");
      json_builder_begin_array (b);
      for (gint64 i = 0; i < g->n_points; i++)
        json_builder_add_string_value (b, labels[i] ? labels[i] : "");
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
cs_mapper_graph_save_json (const CsMapperGraph *g, const char * const *lens_names, const char * const *labels,
                           const char *path, GError **error)
{
  g_autoptr(JsonNode) root = cs_mapper_graph_to_json (g, lens_names, labels);
  gsize len = 0;
  g_autofree char *text = cs_json_to_data (root, FALSE, &len);
  if (!g_file_set_contents (path, text, len, error))   /* writes a temporary file and renames it */
    return FALSE;
  return TRUE;
}

gboolean
cs_mapper_graph_save_h5 (const CsMapperGraph *g, const char * const *lens_names, const gint32 *point_ids,
                         const char *points, const char *path, GError **error)
{
  g_autoptr(CsH5Writer) w = cs_h5_writer_new_update (path, "/mapper", error);
  g_autofree gint32 *offsets = NULL, *members = NULL, *elements = NULL, *edges = NULL;
  g_autofree double *means = NULL, *weights = NULL, *layout = NULL;
  g_autoptr(JsonNode) params = NULL;
  g_autofree char *ptext = NULL;
  const char *ps[1];
  const char *names[3] = { NULL, NULL, NULL };
  gint64 total = 0;
  gsize dims[2];
  int nn = g->n_nodes, ne = g->n_edges;

  if (!w)
    return FALSE;
  for (int v = 0; v < nn; v++)
    total += g->nodes[v].n_members;
  if (total > G_MAXINT32)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the graph's memberships are too many to store (%" G_GINT64_FORMAT ")", total);
      return FALSE;
    }
  offsets = g_new (gint32, nn + 1);
  members = g_new (gint32, MAX (1, total));
  elements = g_new (gint32, MAX (1, nn * 2));
  means = g_new (double, MAX (1, nn * 2));
  layout = g_new (double, MAX (1, nn * 2));
  edges = g_new (gint32, MAX (1, ne * 3));
  weights = g_new (double, MAX (1, ne));
  offsets[0] = 0;
  for (int v = 0; v < nn; v++)
    {
      memcpy (members + offsets[v], g->nodes[v].members, sizeof (gint32) * g->nodes[v].n_members);
      offsets[v + 1] = offsets[v] + g->nodes[v].n_members;
      for (int l = 0; l < 2; l++)
        {
          elements[v * 2 + l] = g->nodes[v].element[l];
          means[v * 2 + l] = g->nodes[v].lens_mean[l];
        }
      layout[v * 2] = g->x ? g->x[v] : NAN;
      layout[v * 2 + 1] = g->y ? g->y[v] : NAN;
    }
  for (int e = 0; e < ne; e++)
    {
      edges[e * 3] = g->edges[e].source;
      edges[e * 3 + 1] = g->edges[e].target;
      edges[e * 3 + 2] = g->edges[e].shared;
      weights[e] = g->edges[e].weight;
    }
  params = params_to_json (g, lens_names);
  {
    JsonObject *o = json_node_get_object (params);
    json_object_set_int_member (o, "n_points", g->n_points);
    json_object_set_double_member (o, "lens_min_0", g->lens_min[0]);
    json_object_set_double_member (o, "lens_max_0", g->lens_max[0]);
    json_object_set_double_member (o, "lens_min_1", g->lens_min[1]);
    json_object_set_double_member (o, "lens_max_1", g->lens_max[1]);
    if (points)
      json_object_set_string_member (o, "points", points);
  }
  ptext = cs_json_to_data (params, FALSE, NULL);
  ps[0] = ptext;
  for (int l = 0; l < g->params.n_lenses; l++)
    names[l] = lens_names && lens_names[l] ? lens_names[l] : "";
  dims[0] = nn + 1;
  if (!cs_h5_writer_add_i32 (w, "/mapper/node_offsets", 1, dims, offsets, error))
    return FALSE;
  dims[0] = total;
  if (total && !cs_h5_writer_add_i32 (w, "/mapper/node_members", 1, dims, members, error))
    return FALSE;
  dims[0] = nn;
  dims[1] = 2;
  if (nn && (!cs_h5_writer_add_i32 (w, "/mapper/node_element", 2, dims, elements, error) ||
             !cs_h5_writer_add_f64 (w, "/mapper/node_lens_mean", 2, dims, means, error) ||
             !cs_h5_writer_add_f64 (w, "/mapper/layout", 2, dims, layout, error)))
    return FALSE;
  dims[0] = ne;
  dims[1] = 3;
  if (ne && !cs_h5_writer_add_i32 (w, "/mapper/edges", 2, dims, edges, error))
    return FALSE;
  dims[0] = ne;
  if (ne && !cs_h5_writer_add_f64 (w, "/mapper/edge_weight", 1, dims, weights, error))
    return FALSE;
  dims[0] = g->n_points;
  if (point_ids && !cs_h5_writer_add_i32 (w, "/mapper/point_ids", 1, dims, point_ids, error))
    return FALSE;
  if (!cs_h5_writer_add_strings (w, "/mapper/lenses", names, g->params.n_lenses, error) ||
      !cs_h5_writer_add_strings (w, "/mapper/parameters", ps, 1, error))
    return FALSE;
  return cs_h5_writer_commit (w, error);
}

CsMapperGraph *
cs_mapper_graph_load_h5 (const char *path, GStrv *lens_names, gint32 **point_ids, char **points, GError **error)
{
  g_autoptr(CsH5Reader) r = cs_h5_reader_open (path, error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) pstr = NULL;
  g_autofree gint32 *offsets = NULL, *elements = NULL, *edges = NULL;
  g_autofree double *means = NULL, *layout = NULL, *weights = NULL;
  gsize n_off = 0, n_el = 0, n_edges3 = 0, dims[8];
  int rank;
  JsonObject *o;
  CsMapperGraph *g;
  int nn;

  if (!r)
    return NULL;
  if (!cs_h5_reader_has (r, "/mapper/parameters"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s holds no Mapper graph", path);
      return NULL;
    }
  pstr = cs_h5_reader_strings (r, "/mapper/parameters", error);
  if (!pstr || !pstr[0] || !cs_json_parse (parser, pstr[0], -1, error) ||
      !cs_json_root_object (parser))
    {
      if (error && !*error)
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the Mapper parameters are unreadable", path);
      return NULL;
    }
  o = cs_json_root_object (parser);
  offsets = cs_h5_reader_i32 (r, "/mapper/node_offsets", &n_off, error);
  if (!offsets || n_off < 1)
    return NULL;
  nn = (int) n_off - 1;
  g = g_new0 (CsMapperGraph, 1);
  cs_mapper_params_init (&g->params);
  g->params.n_lenses = cs_json_array (o, "lenses") ?
                       (int) json_array_get_length (cs_json_array (o, "lenses")) : 1;
  g->params.intervals = (int) cs_json_int (o, "intervals", 10);
  g->params.overlap = cs_json_double (o, "overlap", 0.3);
  g->params.cover = g_strcmp0 (cs_json_string (o, "cover", ""), "balanced") == 0 ?
                    CS_COVER_BALANCED : CS_COVER_UNIFORM;
  g->params.cluster = g_strcmp0 (cs_json_string (o, "cluster", ""), "single-linkage") == 0 ?
                      CS_CLUSTER_SINGLE_LINKAGE : CS_CLUSTER_DBSCAN;
  g->eps = cs_json_double (o, "eps", 0);
  if (!cs_json_bool (o, "eps_automatic", TRUE))
    g->params.eps = g->eps;
  g->params.min_samples = (int) cs_json_int (o, "min_samples", 5);
  g->params.bins = (int) cs_json_int (o, "bins", 10);
  g->params.min_intersection = (int) cs_json_int (o, "min_intersection", 1);
  g->n_points = cs_json_int (o, "n_points", 0);
  g->lens_min[0] = cs_json_double (o, "lens_min_0", 0);
  g->lens_max[0] = cs_json_double (o, "lens_max_0", 0);
  g->lens_min[1] = cs_json_double (o, "lens_min_1", 0);
  g->lens_max[1] = cs_json_double (o, "lens_max_1", 0);
  g->n_nodes = nn;
  g->nodes = g_new0 (CsMapperNode, MAX (1, nn));
  if (offsets[nn] > 0)
    {
      gsize nm = 0;
      g->storage = cs_h5_reader_i32 (r, "/mapper/node_members", &nm, error);
      if (!g->storage || (gsize) offsets[nn] != nm)
        goto bad;
    }
  else
    g->storage = g_new (gint32, 1);
  if (nn)
    {
      elements = cs_h5_reader_i32 (r, "/mapper/node_element", &n_el, error);
      means = cs_h5_reader_f64 (r, "/mapper/node_lens_mean", &rank, dims, error);
      layout = cs_h5_reader_f64 (r, "/mapper/layout", &rank, dims, error);
      if (!elements || !means || !layout || n_el != (gsize) nn * 2)
        goto bad;
    }
  for (int v = 0; v < nn; v++)
    {
      if (offsets[v] < 0 || offsets[v + 1] < offsets[v] || offsets[v + 1] > offsets[nn])
        goto bad;
      g->nodes[v].members = g->storage + offsets[v];
      g->nodes[v].n_members = offsets[v + 1] - offsets[v];
      for (int t = 0; t < g->nodes[v].n_members; t++)
        if (g->nodes[v].members[t] < 0 || g->nodes[v].members[t] >= g->n_points)
          goto bad;
      for (int l = 0; l < 2; l++)
        {
          g->nodes[v].element[l] = elements[v * 2 + l];
          g->nodes[v].lens_mean[l] = means[v * 2 + l];
        }
    }
  if (nn && isfinite (layout[0]))
    {
      g->x = g_new (double, nn);
      g->y = g_new (double, nn);
      for (int v = 0; v < nn; v++)
        {
          g->x[v] = layout[v * 2];
          g->y[v] = layout[v * 2 + 1];
        }
    }
  if (cs_h5_reader_has (r, "/mapper/edges"))
    {
      edges = cs_h5_reader_i32 (r, "/mapper/edges", &n_edges3, error);
      weights = cs_h5_reader_f64 (r, "/mapper/edge_weight", &rank, dims, error);
      if (!edges || !weights || n_edges3 % 3)
        goto bad;
      g->n_edges = (int) (n_edges3 / 3);
      g->edges = g_new (CsMapperEdge, g->n_edges);
      for (int e = 0; e < g->n_edges; e++)
        {
          g->edges[e].source = edges[e * 3];
          g->edges[e].target = edges[e * 3 + 1];
          g->edges[e].shared = edges[e * 3 + 2];
          g->edges[e].weight = weights[e];
          if (g->edges[e].source < 0 || g->edges[e].source >= nn || g->edges[e].target < 0 || g->edges[e].target >= nn)
            goto bad;
        }
    }
  {
    /* points covered */
    g_autofree gboolean *hit = g_new0 (gboolean, MAX (1, g->n_points));
    for (int v = 0; v < nn; v++)
      for (int t = 0; t < g->nodes[v].n_members; t++)
        hit[g->nodes[v].members[t]] = TRUE;
    for (gint64 i = 0; i < g->n_points; i++)
      g->n_covered += hit[i];
  }
  graph_finish (g);
  if (point_ids)
    {
      gsize np = 0;
      *point_ids = cs_h5_reader_has (r, "/mapper/point_ids") ? cs_h5_reader_i32 (r, "/mapper/point_ids", &np, NULL) : NULL;
      if (*point_ids && (gint64) np != g->n_points)
        g_clear_pointer (point_ids, g_free);
    }
  if (points)
    *points = g_strdup (cs_json_string (o, "points", ""));
  if (lens_names)
    *lens_names = cs_h5_reader_strings (r, "/mapper/lenses", NULL);
  return g;

bad:
  if (error && !*error)
    g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the Mapper graph stored there is inconsistent", path);
  else if (error)
    g_prefix_error (error, "%s: the Mapper graph: ", path);
  cs_mapper_graph_free (g);
  return NULL;
}
