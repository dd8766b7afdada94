#define G_LOG_DOMAIN "cs-geometry"

#include "cs-geometry.h"
#include "cs-hdf5.h"
#include "cs-backend.h"
#include "cs-error.h"

#include <glib/gstdio.h>
#include <utime.h>

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#define N_RANDOM 1000

CsGeometrySpace *
cs_geometry_space_new_from (const CsTensor *u, const double *mean, const double *inv_sqrt, int n_floored)
{
  CsGeometrySpace *s = g_new0 (CsGeometrySpace, 1);
  s->ref_count = 1;
  s->unembedding = u;
  s->vocab = u->shape[0];
  s->d = (int) u->shape[1];
  s->mean = g_memdup2 (mean, sizeof (double) * s->d);
  s->inv_sqrt = g_memdup2 (inv_sqrt, sizeof (double) * s->d * s->d);
  s->n_floored = n_floored;
  return s;
}

static CsGeometrySpace *
space_new (const CsTensor *u, CsDevice device, CsProgressFunc progress, gpointer progress_data,
           GCancellable *cancellable, GError **error)
{
  g_autoptr(CsWhitening) w = cs_whiten_transform_with_progress (u, device, progress, progress_data, cancellable,
                                                                error);
  if (!w)
    return NULL;
  return cs_geometry_space_new_from (u, w->mean, w->inv_sqrt, w->n_floored);
}

CsGeometrySpace *
cs_geometry_space_new (const CsTensor *u, CsDevice device, GCancellable *cancellable, GError **error)
{
  return space_new (u, device, NULL, NULL, cancellable, error);
}

static char *
space_cache_path (const char *key)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  g_autofree char *name = g_strconcat (hash, ".h5", NULL);
  return g_build_filename (g_get_user_cache_dir (), "conceptscope", "whitening", name, NULL);
}

/* The cache holds the whitenings of the CS_SPACE_CACHE_MAX models used
 * last (a 2304-wide model's is 42 MB): before a new one is stored, the
 * least recently used go. Reading a file marks it used. */
#define CS_SPACE_CACHE_MAX 8

typedef struct
{
  char   *path;
  gint64  mtime;
} CacheFile;

static gint
cache_file_newer_first (gconstpointer a, gconstpointer b)
{
  const CacheFile *x = a, *y = b;
  return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : 0;
}

static void
space_cache_trim (const char *dir, int keep)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GArray) files = g_array_new (FALSE, FALSE, sizeof (CacheFile));
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      CacheFile f;
      GStatBuf st;
      if (!g_str_has_suffix (name, ".h5"))
        continue;
      f.path = g_build_filename (dir, name, NULL);
      if (g_stat (f.path, &st) != 0)
        {
          g_free (f.path);
          continue;
        }
      f.mtime = (gint64) st.st_mtime;
      g_array_append_val (files, f);
    }
  g_array_sort (files, cache_file_newer_first);
  for (guint i = 0; i < files->len; i++)
    {
      CacheFile *f = &g_array_index (files, CacheFile, i);
      if ((int) i >= keep)
        g_unlink (f->path);
      g_free (f->path);
    }
}

static CsGeometrySpace *
space_from_cache (const CsTensor *u, const char *key, const char *path)
{
  /* the program's own cache, written atomically: no child-process walk */
  g_autoptr(CsH5Reader) r = g_file_test (path, G_FILE_TEST_IS_REGULAR) ? cs_h5_reader_open_own (path, NULL) : NULL;
  g_autofree char *stored = r ? cs_h5_reader_attr (r, "key") : NULL;
  g_autofree double *mean = NULL, *inv_sqrt = NULL;
  int rank = 0, d = (int) u->shape[1];
  gsize dims[8];
  double n_floored = 0;

  if (!stored || !g_str_equal (stored, key) || !cs_h5_reader_attr_double (r, "n_floored", &n_floored) ||
      !(mean = cs_h5_reader_f64 (r, "/mean", &rank, dims, NULL)) || rank != 1 || dims[0] != (gsize) d ||
      !(inv_sqrt = cs_h5_reader_f64 (r, "/inv_sqrt", &rank, dims, NULL)) || rank != 2 || dims[0] != (gsize) d ||
      dims[1] != (gsize) d)
    return NULL;
  for (gsize i = 0; i < (gsize) d * d; i++)
    if (!isfinite (inv_sqrt[i]))
      return NULL;
  g_utime (path, NULL);   /* used now: the last to be trimmed */
  {
    /* the arrays just read become the space's own (a copy of Cov^(−1/2) is
     * 128 MB at d = 4096) */
    CsGeometrySpace *s = g_new0 (CsGeometrySpace, 1);
    s->ref_count = 1;
    s->unembedding = u;
    s->vocab = u->shape[0];
    s->d = d;
    s->mean = g_steal_pointer (&mean);
    s->inv_sqrt = g_steal_pointer (&inv_sqrt);
    s->n_floored = (int) n_floored;
    return s;
  }
}

CsGeometrySpace *
cs_geometry_space_new_cached (const CsTensor *u, const char *key, CsDevice device, gboolean *from_cache,
                              GCancellable *cancellable, GError **error)
{
  return cs_geometry_space_new_cached_with_progress (u, key, device, from_cache, NULL, NULL, cancellable, error);
}

CsGeometrySpace *
cs_geometry_space_new_cached_with_progress (const CsTensor *u, const char *key, CsDevice device,
                                            gboolean *from_cache, CsProgressFunc progress, gpointer progress_data,
                                            GCancellable *cancellable, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *full_key = NULL;
  CsGeometrySpace *s;

  g_return_val_if_fail (u != NULL && key != NULL, NULL);
  /* the key also names the matrix, so another tensor of the model never matches */
  full_key = g_strdup_printf ("%s|%s|%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "|%d", key, u->name ? u->name : "",
                              u->shape[0], u->shape[1], (int) u->dtype);
  path = space_cache_path (full_key);
  if (u->ndim == 2 && (s = space_from_cache (u, full_key, path)))
    {
      if (from_cache)
        *from_cache = TRUE;
      return s;
    }
  if (from_cache)
    *from_cache = FALSE;
  s = space_new (u, device, progress, progress_data, cancellable, error);
  if (s)
    {
      g_autofree char *dir = g_path_get_dirname (path);
      g_autoptr(CsH5Writer) w = NULL;
      gsize dm[1] = { (gsize) s->d }, di[2] = { (gsize) s->d, (gsize) s->d };
      if (g_mkdir_with_parents (dir, 0755) == 0)
        space_cache_trim (dir, CS_SPACE_CACHE_MAX - 1);
      if (g_file_test (dir, G_FILE_TEST_IS_DIR) && (w = cs_h5_writer_new (path, NULL)) &&
          cs_h5_writer_set_attr (w, "key", full_key, NULL) &&
          cs_h5_writer_set_attr_double (w, "n_floored", s->n_floored, NULL) &&
          cs_h5_writer_add_f64 (w, "/mean", 1, dm, s->mean, NULL) &&
          cs_h5_writer_add_f64 (w, "/inv_sqrt", 2, di, s->inv_sqrt, NULL))
        cs_h5_writer_commit (w, NULL);
    }
  return s;
}

CsGeometrySpace *
cs_geometry_space_ref (CsGeometrySpace *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  g_atomic_int_inc (&s->ref_count);
  return s;
}

void
cs_geometry_space_free (CsGeometrySpace *s)
{
  if (!s || !g_atomic_int_dec_and_test (&s->ref_count))
    return;
  g_free (s->mean);
  g_free (s->inv_sqrt);
  g_free (s);
}

void
cs_geometry_g_rows (CsGeometrySpace *s, const gint32 *ids, int n, double *out)
{
  int d = s->d;
  g_autofree double *c = g_new (double, (gsize) n * d);
#pragma omp parallel
  {
    g_autofree float *row = g_new (float, d);
#pragma omp for schedule(static)
    for (int i = 0; i < n; i++)
      {
        cs_tensor_read_f32 (s->unembedding, (gsize) ids[i] * d, d, row);
        for (int j = 0; j < d; j++)
          c[(gsize) i * d + j] = (double) row[j] - s->mean[j];
      }
  }
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, d, 1.0, c, d, s->inv_sqrt, d, 0.0, out, d);
}

/* The vocabulary passes' inner product, built for AVX-512 and AVX2 too
 * (picked at load time; the default build targets plain x86-64): eight
 * independent sums so the loop vectorises without reassociating. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__ ((target_clones ("avx512f", "avx2", "default")))
#endif
static double
dot_row (const float *row, const double *w, int d)
{
  double acc[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
  int j = 0;
  for (; j + 8 <= d; j += 8)
    for (int q = 0; q < 8; q++)
      acc[q] += row[j + q] * w[j + q];
  for (; j < d; j++)
    acc[0] += row[j] * w[j];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void
cs_geometry_project_all (CsGeometrySpace *s, const double *dir, float *out)
{
  cs_geometry_project_all_many (s, &dir, 1, &out);
}

/* g_y·dir = (γ_y − μ)·(W dir) = γ_y·(W dir) − μ·(W dir): W dir once per
 * direction, then one pass over the vocabulary for all of them, each row
 * converted from its stored dtype once. */
void
cs_geometry_project_all_many (CsGeometrySpace *s, const double *const *dirs, int k, float **outs)
{
  int d = s->d;
  g_autofree double *wd = g_new (double, (gsize) k * d);
  g_autofree double *offset = g_new0 (double, k);

  for (int i = 0; i < k; i++)
    {
      cblas_dgemv (CblasRowMajor, CblasNoTrans, d, d, 1.0, s->inv_sqrt, d, dirs[i], 1, 0.0, wd + (gsize) i * d, 1);
      for (int j = 0; j < d; j++)
        offset[i] += s->mean[j] * wd[(gsize) i * d + j];
    }
#pragma omp parallel
  {
    g_autofree float *row = g_new (float, d);
#pragma omp for schedule(static)
    for (gint64 v = 0; v < s->vocab; v++)
      {
        cs_tensor_read_f32 (s->unembedding, (gsize) v * d, d, row);
        for (int i = 0; i < k; i++)
          outs[i][v] = (float) (dot_row (row, wd + (gsize) i * d, d) - offset[i]);
      }
  }
}

/* sklearn's shrinkage from the sums it is made of: trace_n = tr(XcᵀXc)/n,
 * frob = ‖XcᵀXc‖²_F = ‖XcXcᵀ‖²_F, quart = Σ_ab (X2ᵀX2)_ab = Σ_i ‖xc_i‖⁴. */
static double
ledoit_wolf_shrinkage (double trace_n, double frob, double quart, int n, int d, double *mean_var)
{
  double m = trace_n / d, delta_ = frob / ((double) n * n), beta, delta;

  beta = 1.0 / ((double) d * n) * (quart / n - delta_);
  delta = (delta_ - 2.0 * m * trace_n + d * m * m) / d;
  beta = MIN (beta, delta);
  *mean_var = m;
  return beta == 0 ? 0 : beta / delta;
}

double
cs_ledoit_wolf (const double *X, int n, int d, double *cov)
{
  g_autofree double *mu = g_new0 (double, d);
  g_autofree double *xc = g_new (double, (gsize) n * d);
  g_autofree double *x2 = g_new (double, (gsize) n * d);
  g_autofree double *xtx = g_new (double, (gsize) d * d);
  g_autofree double *x2tx2 = g_new (double, (gsize) d * d);
  double trace = 0, m, beta_ = 0, delta_ = 0, shrink;

  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      mu[j] += X[(gsize) i * d + j] / n;
  for (gsize k = 0; k < (gsize) n * d; k++)
    {
      xc[k] = X[k] - mu[k % d];
      x2[k] = xc[k] * xc[k];
      trace += x2[k];
    }
  trace /= n;                      /* trace of the empirical covariance */
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, d, d, n, 1.0, xc, d, xc, d, 0.0, xtx, d);
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, d, d, n, 1.0, x2, d, x2, d, 0.0, x2tx2, d);
  for (gsize k = 0; k < (gsize) d * d; k++)
    {
      delta_ += xtx[k] * xtx[k];
      beta_ += x2tx2[k];
    }
  shrink = ledoit_wolf_shrinkage (trace, delta_, beta_, n, d, &m);
  if (cov)
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++)
        cov[(gsize) a * d + b] = (1 - shrink) * xtx[(gsize) a * d + b] / n + (a == b ? shrink * m : 0);
  return shrink;
}

/* ℓ̄ = (μ·ĝ)ĝ from v = pinv(Σ)μ, in place of lbar */
static gboolean
finish_vector (const double *mu, const double *v, int d, double *lbar, GError **error)
{
  double norm = 0, dot = 0;

  for (int j = 0; j < d; j++)
    norm += v[j] * v[j];
  norm = sqrt (norm);
  if (!(norm > 0) || !isfinite (norm))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED,
                   "the category's tokens have zero mean in the whitened space: no direction to estimate");
      return FALSE;
    }
  for (int j = 0; j < d; j++)
    dot += mu[j] * v[j] / norm;
  for (int j = 0; j < d; j++)
    lbar[j] = dot * v[j] / norm;
  return TRUE;
}

static gboolean
check_rows (int n, GError **error)
{
  if (n < 2)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                   "%d token%s: a category vector needs at least two", n, n == 1 ? "" : "s");
      return FALSE;
    }
  return TRUE;
}

gboolean
cs_geometry_estimate_vector_reference (const double *X, int n, int d, double shrink, double *lbar, GError **error)
{
  g_autofree double *mu = g_new0 (double, d);
  g_autofree double *cov = g_new (double, (gsize) d * d);
  g_autofree double *w = g_new (double, d);
  g_autofree double *t = g_new0 (double, d);
  g_autofree double *v = g_new0 (double, d);
  double cutoff;

  if (!check_rows (n, error))
    return FALSE;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      mu[j] += X[(gsize) i * d + j] / n;
  if (shrink < 0)
    cs_ledoit_wolf (X, n, d, cov);
  else
    {
      /* the same covariance with the given shrinkage */
      g_autofree double *xc = g_new (double, (gsize) n * d);
      double trace = 0;
      for (gsize k = 0; k < (gsize) n * d; k++)
        {
          xc[k] = X[k] - mu[k % d];
          trace += xc[k] * xc[k];
        }
      cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, d, d, n, (1 - shrink) / n, xc, d, xc, d, 0.0, cov, d);
      for (int a = 0; a < d; a++)
        cov[(gsize) a * d + a] += shrink * trace / n / d;
    }
  if (LAPACKE_dsyevd (LAPACK_ROW_MAJOR, 'V', 'L', d, cov, d, w) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "the category covariance's eigendecomposition failed");
      return FALSE;
    }
  /* pinv(Σ)μ = Q diag(1/λ) Qᵀ μ, dropping λ below the pseudo-inverse cutoff */
  cutoff = MAX (w[d - 1], 0.0) * d * DBL_EPSILON;
  cblas_dgemv (CblasRowMajor, CblasTrans, d, d, 1.0, cov, d, mu, 1, 0.0, t, 1);
  for (int k = 0; k < d; k++)
    t[k] = w[k] > cutoff ? t[k] / w[k] : 0;
  cblas_dgemv (CblasRowMajor, CblasNoTrans, d, d, 1.0, cov, d, t, 1, 0.0, v, 1);
  return finish_vector (mu, v, d, lbar, error);
}

/* The same estimator through the n × n Gram matrix G = XcXcᵀ = V Λ Vᵀ. The
 * covariance Σ = c·I + a·XcᵀXc (a = (1 − δ)/n, c = δ·tr S/d) has the
 * eigenvectors u_k = Xcᵀv_k/√λ_k with eigenvalues e_k = c + a·λ_k, and c on
 * the rest of the space (which holds μ's part outside the rows' span). So
 *   pinv(Σ)μ = Σ_k (u_kᵀμ/e_k) u_k + [c kept] (μ − Σ_k u_k u_kᵀμ)/c
 *            = Xcᵀ y + [c kept] μ/c,  y = Σ_k v_k (v_kᵀXcμ/λ_k)(1/e_k − [c kept]/c),
 * with pinv's cutoff (max eigenvalue × d × ε) applied to the e_k and to c
 * exactly as the d × d eigendecomposition applies it. λ_k at rounding level
 * of G are its null space: they belong with c. O(n²d + n³) instead of O(d³). */
gboolean
cs_geometry_estimate_vector_shrunk (const double *X, int n, int d, double shrink, double *lbar, GError **error)
{
  g_autofree double *mu = NULL, *xc = NULL, *G = NULL, *lam = NULL, *b = NULL, *y = NULL, *v = NULL;
  double trace = 0, frob = 0, quart = 0, m, c, a, lam_max, tol, e_max, cutoff;
  gboolean keep_null;

  if (!check_rows (n, error))
    return FALSE;
  if (n > d)   /* the d × d problem is the smaller one */
    return cs_geometry_estimate_vector_reference (X, n, d, shrink, lbar, error);

  mu = g_new0 (double, d);
  xc = g_new (double, (gsize) n * d);
  G = g_new (double, (gsize) n * n);
  lam = g_new (double, n);
  b = g_new (double, n);
  y = g_new0 (double, n);
  v = g_new (double, d);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      mu[j] += X[(gsize) i * d + j] / n;
  for (gsize k = 0; k < (gsize) n * d; k++)
    xc[k] = X[k] - mu[k % d];
  cblas_dsyrk (CblasRowMajor, CblasLower, CblasNoTrans, n, d, 1.0, xc, d, 0.0, G, n);
  for (int i = 0; i < n; i++)
    {
      trace += G[(gsize) i * n + i];
      quart += G[(gsize) i * n + i] * G[(gsize) i * n + i];
      frob += G[(gsize) i * n + i] * G[(gsize) i * n + i];
      for (int j = 0; j < i; j++)
        {
          frob += 2 * G[(gsize) i * n + j] * G[(gsize) i * n + j];
          G[(gsize) j * n + i] = G[(gsize) i * n + j];
        }
    }
  trace /= n;
  if (shrink < 0)
    shrink = ledoit_wolf_shrinkage (trace, frob, quart, n, d, &m);
  else
    m = trace / d;
  c = shrink * m;
  a = (1 - shrink) / n;

  cblas_dgemv (CblasRowMajor, CblasNoTrans, n, d, 1.0, xc, d, mu, 1, 0.0, b, 1);   /* Xcμ */
  if (LAPACKE_dsyevd (LAPACK_ROW_MAJOR, 'V', 'L', n, G, n, lam) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "the category's Gram matrix eigendecomposition failed");
      return FALSE;
    }
  lam_max = MAX (lam[n - 1], 0.0);
  tol = lam_max * n * DBL_EPSILON;
  e_max = MAX (c, c + a * lam_max);
  cutoff = MAX (e_max, 0.0) * d * DBL_EPSILON;
  keep_null = c > cutoff;
  for (int k = 0; k < n; k++)
    {
      double e, p, coef;
      if (!(lam[k] > tol))
        continue;
      e = c + a * lam[k];
      p = 0;
      for (int i = 0; i < n; i++)
        p += G[(gsize) i * n + k] * b[i];
      p /= lam[k];
      if (keep_null)
        coef = -(a * lam[k]) / (e * c);   /* 1/e − 1/c without the cancellation */
      else
        coef = e > cutoff ? 1.0 / e : 0.0;
      for (int i = 0; i < n; i++)
        y[i] += G[(gsize) i * n + k] * p * coef;
    }
  cblas_dgemv (CblasRowMajor, CblasTrans, n, d, 1.0, xc, d, y, 1, 0.0, v, 1);
  if (keep_null)
    for (int j = 0; j < d; j++)
      v[j] += mu[j] / c;
  return finish_vector (mu, v, d, lbar, error);
}

gboolean
cs_geometry_estimate_vector (const double *X, int n, int d, double *lbar, GError **error)
{
  return cs_geometry_estimate_vector_shrunk (X, n, d, -1, lbar, error);
}

static CsStat
stat_of (const double *p, int n)
{
  CsStat s = { NAN, NAN };
  double m = 0, v = 0;
  if (n <= 0)
    return s;
  for (int i = 0; i < n; i++)
    m += p[i];
  m /= n;
  for (int i = 0; i < n; i++)
    v += (p[i] - m) * (p[i] - m);
  s.mean = m;
  s.std = n > 1 ? sqrt (v / (n - 1)) : 0;
  return s;
}

/* g(y)·ℓ̄/‖ℓ̄‖² for tokens ids[0..n), as (γ_y − μ)·(W ℓ̄): one d × d product
 * for the direction, then d per token (forming each g row would cost d²). */
static CsStat
projection_stat (CsGeometrySpace *s, const gint32 *ids, int n, const double *lbar)
{
  int d = s->d;
  g_autofree double *wl = NULL;
  g_autofree double *p = NULL;
  double nn = 0, offset = 0;

  if (n <= 0)
    return stat_of (NULL, 0);
  wl = g_new (double, d);
  p = g_new (double, n);
  cblas_dgemv (CblasRowMajor, CblasNoTrans, d, d, 1.0, s->inv_sqrt, d, lbar, 1, 0.0, wl, 1);
  for (int j = 0; j < d; j++)
    {
      nn += lbar[j] * lbar[j];
      offset += s->mean[j] * wl[j];
    }
#pragma omp parallel
  {
    g_autofree float *row = g_new (float, d);
#pragma omp for schedule(static)
    for (int i = 0; i < n; i++)
      {
        double acc = 0;
        cs_tensor_read_f32 (s->unembedding, (gsize) ids[i] * d, d, row);
        for (int j = 0; j < d; j++)
          acc += row[j] * wl[j];
        p[i] = (acc - offset) / nn;
      }
  }
  return stat_of (p, n);
}

static double
cosine (const double *a, const double *b, int d)
{
  double ab = 0, aa = 0, bb = 0;
  for (int j = 0; j < d; j++)
    {
      ab += a[j] * b[j];
      aa += a[j] * a[j];
      bb += b[j] * b[j];
    }
  return aa > 0 && bb > 0 ? ab / sqrt (aa * bb) : NAN;
}

void
cs_geometry_free (CsGeometry *g)
{
  if (!g)
    return;
  if (g_atomic_int_add (&g->extra_refs, -1) > 0)
    return;
  for (guint i = 0; g->categories && i < g->categories->items->len; i++)
    g_free (g->vectors[i].lbar);
  g_free (g->vectors);
  g_free (g->cos);
  g_free (g->cos_shuffled);
  g_free (g->wordnet_distance);
  cs_category_set_free (g->categories);
  g_free (g);
}

CsGeometry *
cs_geometry_ref (CsGeometry *g)
{
  g_return_val_if_fail (g != NULL, NULL);
  g_atomic_int_inc (&g->extra_refs);
  return g;
}

CsGeometry *
cs_geometry_dup (const CsGeometry *g)
{
  CsGeometry *c = g_new0 (CsGeometry, 1);
  guint n = g->categories->items->len;
  *c = *g;
  c->extra_refs = 0;
  c->categories = cs_category_set_new (g->categories->min_tokens);
  for (guint i = 0; i < n; i++)
    {
      CsCategory *src = cs_category_set_get (g->categories, i);
      CsCategory *dst = cs_category_set_add (c->categories, src->name, src->source, src->parent);
      g_array_append_vals (dst->tokens, src->tokens->data, src->tokens->len);
      for (guint w = 0; w < src->words->len; w++)
        g_ptr_array_add (dst->words, g_strdup (src->words->pdata[w]));
      dst->n_words = src->n_words;
      dst->reliable = src->reliable;
    }
  c->vectors = g_memdup2 (g->vectors, sizeof (CsCategoryVector) * n);
  for (guint i = 0; i < n; i++)
    c->vectors[i].lbar = g->vectors[i].lbar ? g_memdup2 (g->vectors[i].lbar, sizeof (double) * g->d) : NULL;
  c->cos = g->cos ? g_memdup2 (g->cos, sizeof (double) * n * n) : NULL;
  c->cos_shuffled = g->cos_shuffled ? g_memdup2 (g->cos_shuffled, sizeof (double) * n * n) : NULL;
  c->wordnet_distance = g->wordnet_distance ? g_memdup2 (g->wordnet_distance, sizeof (gint32) * n * n) : NULL;
  return c;
}

/* Estimates one category from the rows `map` sends its tokens to. */
static gboolean
estimate_one (CsGeometrySpace *s, const gint32 *train, int n_train, const gint32 *test, int n_test,
              const gint32 *random, int n_random, double *lbar, CsStat *st_train, CsStat *st_test,
              CsStat *st_random, GError **error)
{
  g_autofree double *X = g_new (double, (gsize) n_train * s->d);
  cs_geometry_g_rows (s, train, n_train, X);
  if (!cs_geometry_estimate_vector (X, n_train, s->d, lbar, error))
    return FALSE;
  *st_train = projection_stat (s, train, n_train, lbar);
  *st_test = projection_stat (s, test, n_test, lbar);
  *st_random = projection_stat (s, random, n_random, lbar);
  return TRUE;
}

/* Category c's tokens in the order of the deterministic split: a
 * Fisher–Yates shuffle seeded by the run's seed and c; the first n_train
 * train the vector, the rest are held out. */
static gint32 *
split_order (const CsCategory *cat, guint c, guint seed)
{
  int nt = (int) cat->tokens->len;
  gint32 *ids = g_memdup2 (cat->tokens->data, sizeof (gint32) * MAX (nt, 1));
  GRand *r = g_rand_new_with_seed (seed + 7919 * c);

  for (int i = nt - 1; i > 0; i--)
    {
      int j = g_rand_int_range (r, 0, i + 1);
      gint32 t = ids[i];
      ids[i] = ids[j];
      ids[j] = t;
    }
  g_rand_free (r);
  return ids;
}

static int
compare_i32 (const void *a, const void *b)
{
  gint32 x = *(const gint32 *) a, y = *(const gint32 *) b;
  return x < y ? -1 : x > y;
}

guint8 *
cs_geometry_train_mask (const CsGeometry *g, guint c)
{
  const CsCategory *cat;
  guint8 *mask;
  g_autofree gint32 *ids = NULL;
  int nt;

  g_return_val_if_fail (g != NULL && c < g->categories->items->len, NULL);
  cat = cs_category_set_get (g->categories, c);
  nt = (int) cat->tokens->len;
  mask = g_new0 (guint8, MAX (nt, 1));
  if (!g->vectors[c].estimated)
    return mask;
  ids = split_order (cat, c, g->seed);
  for (int i = 0; i < g->vectors[c].n_train && i < nt; i++)
    {
      const gint32 *at = bsearch (&ids[i], cat->tokens->data, nt, sizeof (gint32), compare_i32);
      if (at)
        mask[at - (const gint32 *) cat->tokens->data] = 1;
    }
  return mask;
}

CsGeometry *
cs_geometry_estimate (CsGeometrySpace *s, CsCategorySet *cats, double train_fraction, guint seed,
                      GCancellable *cancellable, GError **error)
{
  return cs_geometry_estimate_with_progress (s, cats, train_fraction, seed, NULL, NULL, cancellable, error);
}

CsGeometry *
cs_geometry_estimate_with_progress (CsGeometrySpace *s, CsCategorySet *cats, double train_fraction, guint seed,
                                    CsProgressFunc progress, gpointer progress_data,
                                    GCancellable *cancellable, GError **error)
{
  g_autoptr(CsGeometry) g = g_new0 (CsGeometry, 1);
  guint n = cats->items->len;
  int d = s->d;
  g_autofree gint32 *perm = NULL;
  g_autofree gint32 *random = NULL;
  g_autofree gint32 *random_shuf = NULL;
  g_autofree double **shuf_lbar = NULL;
  GRand *rand;
  int n_random = (int) MIN ((gint64) N_RANDOM, s->vocab);

  g->categories = cats;
  g->d = d;
  g->train_fraction = train_fraction;
  g->seed = seed;
  g->n_random = n_random;
  g->vectors = g_new0 (CsCategoryVector, n);
  g->cos = g_new (double, (gsize) n * n);
  g->cos_shuffled = g_new (double, (gsize) n * n);
  shuf_lbar = g_new0 (double *, n);

  if (!(train_fraction > 0 && train_fraction <= 1))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the train fraction must be in (0, 1], not %g", train_fraction);
      return NULL;
    }
  cs_backend_init ();

  /* the shuffled baseline: g's rows permuted; and the random tokens */
  rand = g_rand_new_with_seed (seed ^ 0x5eed);
  perm = g_new (gint32, s->vocab);
  for (gint64 i = 0; i < s->vocab; i++)
    perm[i] = (gint32) i;
  for (gint64 i = s->vocab - 1; i > 0; i--)
    {
      gint64 j = g_rand_int_range (rand, 0, (gint32) (i + 1));
      gint32 t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
  random = g_new (gint32, n_random);
  random_shuf = g_new (gint32, n_random);
  for (int i = 0; i < n_random; i++)
    {
      random[i] = g_rand_int_range (rand, 0, (gint32) s->vocab);
      random_shuf[i] = perm[random[i]];
    }
  g_rand_free (rand);

  for (guint c = 0; c < n; c++)
    {
      CsCategory *cat = cs_category_set_get (cats, c);
      CsCategoryVector *cv = &g->vectors[c];
      int nt = (int) cat->tokens->len;
      g_autofree gint32 *ids = split_order (cat, c, seed);
      g_autofree gint32 *sids = g_new (gint32, MAX (nt, 1));
      g_autoptr(GError) local_error = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      for (int i = 0; i < nt; i++)
        sids[i] = perm[ids[i]];
      cv->n_train = train_fraction >= 1.0 ? nt : (int) lround (train_fraction * nt);
      cv->n_test = nt - cv->n_train;
      cv->lbar = g_new0 (double, d);
      cv->cos_parent = cv->cos_grandparent = cv->cos_parent_shuffled = NAN;
      if (cv->n_train < 2)
        {
          cv->estimated = FALSE;
          cv->train = cv->test = cv->random = stat_of (NULL, 0);
          cv->shuffled_train = cv->shuffled_test = cv->shuffled_random = stat_of (NULL, 0);
          continue;
        }
      if (!estimate_one (s, ids, cv->n_train, ids + cv->n_train, cv->n_test, random, n_random, cv->lbar,
                         &cv->train, &cv->test, &cv->random, &local_error))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "category '%s': %s", cat->name, local_error->message);
          return NULL;
        }
      shuf_lbar[c] = g_new0 (double, d);
      if (!estimate_one (s, sids, cv->n_train, sids + cv->n_train, cv->n_test, random_shuf, n_random, shuf_lbar[c],
                         &cv->shuffled_train, &cv->shuffled_test, &cv->shuffled_random, &local_error))
        g_clear_pointer (&shuf_lbar[c], g_free);
      cv->estimated = TRUE;
      for (int j = 0; j < d; j++)
        cv->norm += cv->lbar[j] * cv->lbar[j];
      cv->norm = sqrt (cv->norm);
      if (progress)
        progress ((c + 1.0) / n, progress_data);
    }

  /* hierarchy */
  for (guint c = 0; c < n; c++)
    {
      CsCategory *cat = cs_category_set_get (cats, c);
      CsCategoryVector *cv = &g->vectors[c];
      if (cat->parent < 0 || !cv->estimated || !g->vectors[cat->parent].estimated)
        continue;
      const double *p = g->vectors[cat->parent].lbar;
      g_autofree double *diff = g_new (double, d);
      for (int j = 0; j < d; j++)
        diff[j] = cv->lbar[j] - p[j];
      cv->cos_parent = cosine (diff, p, d);
      if (shuf_lbar[c] && shuf_lbar[cat->parent])
        {
          const double *sp = shuf_lbar[cat->parent];
          for (int j = 0; j < d; j++)
            diff[j] = shuf_lbar[c][j] - sp[j];
          cv->cos_parent_shuffled = cosine (diff, sp, d);
        }
      int gp = cs_category_set_get (cats, cat->parent)->parent;
      if (gp >= 0 && g->vectors[gp].estimated)
        {
          g_autofree double *pd = g_new (double, d);
          for (int j = 0; j < d; j++)
            pd[j] = p[j] - g->vectors[gp].lbar[j];
          cv->cos_grandparent = cosine (diff, pd, d);
        }
    }
  for (guint a = 0; a < n; a++)
    for (guint b = 0; b < n; b++)
      {
        gboolean ok = g->vectors[a].estimated && g->vectors[b].estimated;
        g->cos[a * n + b] = ok ? cosine (g->vectors[a].lbar, g->vectors[b].lbar, d) : NAN;
        g->cos_shuffled[a * n + b] = shuf_lbar[a] && shuf_lbar[b] ? cosine (shuf_lbar[a], shuf_lbar[b], d) : NAN;
      }
  for (guint c = 0; c < n; c++)
    g_free (shuf_lbar[c]);
  return g_steal_pointer (&g);
}

double *
cs_geometry_diff_cosines (const CsGeometry *g)
{
  guint n = g->categories->items->len;
  int d = g->d;
  double *out = g_new (double, (gsize) MAX (n, 1) * MAX (n, 1));
  g_autofree double *u = g_new0 (double, (gsize) MAX (n, 1) * d);
  g_autofree gboolean *ok = g_new0 (gboolean, MAX (n, 1));

  /* the unit differences, one row each; then their Gram matrix */
  for (guint c = 0; c < n; c++)
    {
      int p = cs_category_set_get (g->categories, c)->parent;
      double norm = 0, *row = u + (gsize) c * d;
      if (p < 0 || !g->vectors[c].estimated || !g->vectors[p].estimated)
        continue;
      for (int j = 0; j < d; j++)
        {
          row[j] = g->vectors[c].lbar[j] - g->vectors[p].lbar[j];
          norm += row[j] * row[j];
        }
      if (!(norm > 0))
        continue;
      norm = sqrt (norm);
      for (int j = 0; j < d; j++)
        row[j] /= norm;
      ok[c] = TRUE;
    }
  if (n > 0)
    cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, (int) n, d, 1.0, u, d, u, d, 0.0, out, (int) n);
  for (guint a = 0; a < n; a++)
    for (guint b = 0; b < n; b++)
      if (!ok[a] || !ok[b])
        out[(gsize) a * n + b] = NAN;
  return out;
}

void
cs_geometry_set_wordnet_distances (CsGeometry *g, CsWordNet *wn)
{
  guint n = g->categories->items->len;
  g_autofree gint64 *keys = g_new (gint64, MAX (n, 1));

  for (guint c = 0; c < n; c++)
    {
      const char *src = cs_category_set_get (g->categories, c)->source;
      keys[c] = src && (strstr (src, ".n.") || strstr (src, ".v.")) ? cs_wordnet_lookup (wn, src, NULL) : -1;
    }
  g_free (g->wordnet_distance);
  g->wordnet_distance = g_new (gint32, (gsize) MAX (n, 1) * MAX (n, 1));
  cs_wordnet_distances (wn, keys, n, g->wordnet_distance);
}

void
cs_projection_free (CsProjection *p)
{
  if (!p)
    return;
  g_free (p->x);
  g_free (p->y);
  g_free (p->cat_x);
  g_free (p->cat_y);
  g_free (p);
}

static gboolean
axis_vector (CsGeometry *g, CsAxis a, double *out, GError **error)
{
  guint n = g->categories->items->len;
  if (a.plus < 0 || (guint) a.plus >= n || (a.minus >= 0 && (guint) a.minus >= n))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "an axis names a category that is not in the workspace");
      return FALSE;
    }
  if (!g->vectors[a.plus].estimated || (a.minus >= 0 && !g->vectors[a.minus].estimated))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "an axis uses '%s', which has too few tokens for a vector",
                   cs_category_set_get (g->categories, g->vectors[a.plus].estimated ? a.minus : a.plus)->name);
      return FALSE;
    }
  for (int j = 0; j < g->d; j++)
    out[j] = g->vectors[a.plus].lbar[j] - (a.minus >= 0 ? g->vectors[a.minus].lbar[j] : 0);
  return TRUE;
}

/* The plane's unit directions a, b (b Gram–Schmidt'ed against a when asked)
 * and the axes' norms. */
static gboolean
plane_of (CsGeometry *g, CsAxis ax, CsAxis ay, gboolean orthogonalise, double *a, double *b, double *norms,
          GError **error)
{
  int d = g->d;
  double na = 0, nb = 0, ab = 0;

  if (!axis_vector (g, ax, a, error) || !axis_vector (g, ay, b, error))
    return FALSE;
  for (int j = 0; j < d; j++)
    na += a[j] * a[j];
  na = sqrt (na);
  for (int j = 0; j < d; j++)
    a[j] /= na;
  if (orthogonalise)
    {
      for (int j = 0; j < d; j++)
        ab += a[j] * b[j];
      for (int j = 0; j < d; j++)
        b[j] -= ab * a[j];
    }
  for (int j = 0; j < d; j++)
    nb += b[j] * b[j];
  nb = sqrt (nb);
  if (!(nb > 1e-12 * na))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the two axes are parallel: they span no plane");
      return FALSE;
    }
  for (int j = 0; j < d; j++)
    b[j] /= nb;
  norms[0] = na;
  norms[1] = nb;
  return TRUE;
}

gboolean
cs_geometry_project_many (CsGeometrySpace *s, CsGeometry *g, const CsAxis *ax, const CsAxis *ay, int n_planes,
                          gboolean orthogonalise, CsProjection **out, GError **error)
{
  int d = g->d;
  guint n = g->categories->items->len;
  g_autofree double *dirs = g_new (double, (gsize) 2 * n_planes * d);
  g_autofree const double **dir_ptrs = g_new (const double *, 2 * n_planes);
  g_autofree float **outs = g_new (float *, 2 * n_planes);
  g_autoptr(GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) cs_projection_free);

  for (int k = 0; k < n_planes; k++)
    {
      double *a = dirs + (gsize) 2 * k * d, *b = a + d;
      CsProjection *p = g_new0 (CsProjection, 1);
      g_ptr_array_add (made, p);
      if (!plane_of (g, ax[k], ay[k], orthogonalise, a, b, p->axis_norm, error))
        return FALSE;
      p->vocab = s->vocab;
      p->x = g_try_new (float, s->vocab);
      p->y = g_try_new (float, s->vocab);
      if (!p->x || !p->y)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the projection");
          return FALSE;
        }
      dir_ptrs[2 * k] = a;
      dir_ptrs[2 * k + 1] = b;
      outs[2 * k] = p->x;
      outs[2 * k + 1] = p->y;
      p->cat_x = g_new0 (double, n);
      p->cat_y = g_new0 (double, n);
      for (guint c = 0; c < n; c++)
        {
          if (!g->vectors[c].estimated)
            {
              p->cat_x[c] = p->cat_y[c] = NAN;
              continue;
            }
          for (int j = 0; j < d; j++)
            {
              p->cat_x[c] += g->vectors[c].lbar[j] * a[j];
              p->cat_y[c] += g->vectors[c].lbar[j] * b[j];
            }
        }
    }
  cs_geometry_project_all_many (s, dir_ptrs, 2 * n_planes, outs);
  for (int k = 0; k < n_planes; k++)
    out[k] = g_steal_pointer (&made->pdata[k]);
  return TRUE;
}

CsProjection3 *
cs_geometry_project3 (CsGeometrySpace *s, CsGeometry *g, const CsAxis *axes, gboolean orthogonalise, GError **error)
{
  int d = g->d;
  guint n = g->categories->items->len;
  g_autofree double *dirs = g_new (double, (gsize) 3 * d);
  const double *dir_ptrs[3] = { dirs, dirs + d, dirs + 2 * d };
  g_autoptr(CsProjection3) p = g_new0 (CsProjection3, 1);

  for (int k = 0; k < 3; k++)
    {
      double *u = dirs + (gsize) k * d, nn = 0, n0 = 0;
      if (!axis_vector (g, axes[k], u, error))
        return NULL;
      for (int j = 0; j < d; j++)
        n0 += u[j] * u[j];
      for (int i = 0; orthogonalise && i < k; i++)
        {
          const double *v = dirs + (gsize) i * d;
          double dot = 0;
          for (int j = 0; j < d; j++)
            dot += u[j] * v[j];
          for (int j = 0; j < d; j++)
            u[j] -= dot * v[j];
        }
      for (int j = 0; j < d; j++)
        nn += u[j] * u[j];
      if (!(nn > 1e-24 * n0) || !(n0 > 0))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                       "the three axes are linearly dependent: they span no three dimensions");
          return NULL;
        }
      nn = sqrt (nn);
      for (int j = 0; j < d; j++)
        u[j] /= nn;
    }
  p->vocab = s->vocab;
  for (int k = 0; k < 3; k++)
    {
      p->xyz[k] = g_try_new (float, s->vocab);
      if (!p->xyz[k])
        {
          g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the projection");
          return NULL;
        }
      p->cat[k] = g_new0 (double, MAX (1, n));
      for (guint c = 0; c < n; c++)
        {
          if (!g->vectors[c].estimated)
            {
              p->cat[k][c] = NAN;
              continue;
            }
          for (int j = 0; j < d; j++)
            p->cat[k][c] += g->vectors[c].lbar[j] * dir_ptrs[k][j];
        }
    }
  cs_geometry_project_all_many (s, dir_ptrs, 3, p->xyz);
  return g_steal_pointer (&p);
}

void
cs_projection3_free (CsProjection3 *p)
{
  if (!p)
    return;
  for (int k = 0; k < 3; k++)
    {
      g_free (p->xyz[k]);
      g_free (p->cat[k]);
    }
  g_free (p);
}

CsProjection *
cs_geometry_project (CsGeometrySpace *s, CsGeometry *g, CsAxis ax, CsAxis ay, gboolean orthogonalise,
                     GError **error)
{
  CsProjection *p = NULL;
  return cs_geometry_project_many (s, g, &ax, &ay, 1, orthogonalise, &p, error) ? p : NULL;
}
