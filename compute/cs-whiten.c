#define G_LOG_DOMAIN "cs-whiten"

#include "cs-whiten.h"
#include "cs-error.h"
#include "cs-gpu.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#define BLOCK_ROWS 8192

void
cs_whitening_free (CsWhitening *w)
{
  if (!w)
    return;
  g_free (w->g);
  g_free (w->mean);
  g_free (w->eigenvalues);
  g_free (w->inv_sqrt);
  g_free (w);
}

/* Rows [r0, r0 + n) of the tensor, centred, in float64. */
static void
centred_block (const CsTensor *u, gint64 r0, int n, int d, const double *mean, float *f32, double *out)
{
  cs_tensor_read_f32 (u, (gsize) r0 * d, (gsize) n * d, f32);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      out[(gsize) i * d + j] = (double) f32[(gsize) i * d + j] - mean[j];
}

typedef struct
{
  CsProgressFunc func;
  gpointer       data;
  double         w_mean, w_cov, w_eig, w_prod;   /* shares of the work, summing to 1 */
} Progress;

/* The phases' shares from their operation counts: V·d to read for the mean,
 * V·d² for the covariance, about 8 d³ for the eigendecomposition (slower
 * kernels than a product's) and 2 d³ for Cov^(−1/2); forming g adds 2 V·d². */
static void
progress_init (Progress *p, CsProgressFunc func, gpointer data, gint64 V, int d, gboolean form_g)
{
  double dd = (double) d, mean = (double) V * dd * 8, cov = (double) V * dd * dd,
         eig = 8 * dd * dd * dd, prod = 2 * dd * dd * dd + (form_g ? 2.0 * V * dd * dd : 0), all;
  all = mean + cov + eig + prod;
  p->func = func;
  p->data = data;
  p->w_mean = mean / all;
  p->w_cov = cov / all;
  p->w_eig = eig / all;
  p->w_prod = prod / all;
}

static void
progress_report (const Progress *p, double fraction)
{
  if (p && p->func)
    p->func (CLAMP (fraction, 0, 1), p->data);
}

/* LAPACK's eigendecomposition cannot be interrupted, and at d = 4,096 it
 * takes seconds. Large ones run in a thread of their own on a copy of the
 * matrix; the caller polls its cancellable and, when cancelled, returns at
 * once and leaves the thread to finish and free its copy. */
typedef struct
{
  int       d;
  double   *a, *w;
  int       info;
  gboolean  done, abandoned;
  GMutex    lock;
  GCond     cond;
} Eigh;

static void
eigh_free (Eigh *e)
{
  g_free (e->a);
  g_free (e->w);
  g_mutex_clear (&e->lock);
  g_cond_clear (&e->cond);
  g_free (e);
}

static gint abandoned_work;   /* threads still finishing work nobody waits for */

static gpointer
eigh_thread (gpointer data)
{
  Eigh *e = data;
  gboolean abandoned;
  int info = LAPACKE_dsyevd (LAPACK_ROW_MAJOR, 'V', 'L', e->d, e->a, e->d, e->w);
  g_mutex_lock (&e->lock);
  e->info = info;
  e->done = TRUE;
  abandoned = e->abandoned;
  g_cond_signal (&e->cond);
  g_mutex_unlock (&e->lock);
  if (abandoned)
    {
      eigh_free (e);
      g_atomic_int_dec_and_test (&abandoned_work);
    }
  return NULL;
}

void
cs_whiten_wait_abandoned (void)
{
  /* the libraries' teardown at exit must not run under a LAPACK call */
  while (g_atomic_int_get (&abandoned_work) > 0)
    g_usleep (20000);
}

static gboolean
eigh_cancellable (int d, double *a, double *w, GCancellable *cancellable, GError **error)
{
  Eigh *e;
  gboolean ok;

  if (!cancellable || d < 1024)
    {
      if (LAPACKE_dsyevd (LAPACK_ROW_MAJOR, 'V', 'L', d, a, d, w) != 0)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FAILED,
                       "the eigendecomposition of the unembedding's covariance did not converge");
          return FALSE;
        }
      return TRUE;
    }
  e = g_new0 (Eigh, 1);
  e->d = d;
  e->a = g_memdup2 (a, sizeof (double) * d * d);
  e->w = g_new (double, d);
  g_mutex_init (&e->lock);
  g_cond_init (&e->cond);
  g_thread_unref (g_thread_new ("eigh", eigh_thread, e));
  g_mutex_lock (&e->lock);
  while (!e->done && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait_until (&e->cond, &e->lock, g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND);
  if (!e->done)
    {
      e->abandoned = TRUE;   /* the thread frees it */
      g_atomic_int_inc (&abandoned_work);
      g_mutex_unlock (&e->lock);
      return !g_cancellable_set_error_if_cancelled (cancellable, error);
    }
  g_mutex_unlock (&e->lock);
  ok = e->info == 0;
  if (ok)
    {
      memcpy (a, e->a, sizeof (double) * d * d);
      memcpy (w, e->w, sizeof (double) * d);
    }
  else
    g_set_error (error, CS_ERROR, CS_ERROR_FAILED,
                 "the eigendecomposition of the unembedding's covariance did not converge");
  eigh_free (e);
  return ok;
}

static gboolean
whiten_cpu (const CsTensor *u, CsWhitening *w, gboolean form_g, const Progress *pr, GCancellable *cancellable,
            GError **error)
{
  gint64 V = w->rows;
  int d = w->cols;
  /* blocks of about 2³⁴ multiply-adds (a fraction of a second on two cores),
   * so Cancel is seen within a second at any width: 1,024 rows at d = 4,096 */
  int B = (int) MIN (MIN ((gint64) BLOCK_ROWS, MAX ((gint64) 512, (G_GINT64_CONSTANT (1) << 34) / ((gint64) d * d))), V);
  g_autofree float *f32 = g_try_malloc ((gsize) B * d * sizeof (float));
  g_autofree double *blk = g_try_malloc ((gsize) B * d * sizeof (double));
  g_autofree double *gblk = g_try_malloc ((gsize) B * d * sizeof (double));
  g_autofree double *cov = g_try_malloc0 ((gsize) d * d * sizeof (double));
  g_autofree double *s = g_new (double, d);

  if (!(f32 && blk && gblk && cov))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory to whiten a %d-wide matrix", d);
      return FALSE;
    }

  /* mean, in float64 */
  memset (w->mean, 0, sizeof (double) * d);
  for (gint64 r0 = 0; r0 < V; r0 += B)
    {
      int n = (int) MIN ((gint64) B, V - r0);
      cs_tensor_read_f32 (u, (gsize) r0 * d, (gsize) n * d, f32);
      for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
          w->mean[j] += f32[(gsize) i * d + j];
      if (pr)
        progress_report (pr, pr->w_mean * (double) (r0 + n) / V);
    }
  for (int j = 0; j < d; j++)
    w->mean[j] /= (double) V;

  /* Cov = CᵀC / V, accumulated block by block (lower triangle) */
  for (gint64 r0 = 0; r0 < V; r0 += B)
    {
      int n = (int) MIN ((gint64) B, V - r0);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      centred_block (u, r0, n, d, w->mean, f32, blk);
      cblas_dsyrk (CblasRowMajor, CblasLower, CblasTrans, d, n, 1.0 / (double) V, blk, d, 1.0, cov, d);
      if (pr)
        progress_report (pr, pr->w_mean + pr->w_cov * (double) (r0 + n) / V);
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* eigenvectors land in the columns of cov */
  if (!eigh_cancellable (d, cov, w->eigenvalues, cancellable, error))
    return FALSE;
  if (pr)
    progress_report (pr, pr->w_mean + pr->w_cov + pr->w_eig);
  w->floor = MAX (w->eigenvalues[d - 1], 0.0) * CS_WHITEN_FLOOR_REL;
  for (int j = 0; j < d; j++)
    {
      double lam = w->eigenvalues[j];
      if (!(lam >= w->floor) || lam <= 0)
        {
          lam = w->floor > 0 ? w->floor : 1e-300;
          w->n_floored++;
        }
      s[j] = 1.0 / sqrt (sqrt (lam));
    }
  /* Cov^(−1/2) = (Q diag(λ^−1/4)) (Q diag(λ^−1/4))ᵀ */
#pragma omp parallel for schedule(static)
  for (int i = 0; i < d; i++)
    for (int j = 0; j < d; j++)
      cov[(gsize) i * d + j] *= s[j];
  /* in panels of rows, so Cancel is seen between them (the whole product
   * is over a second at d = 4,096) */
  for (int r0 = 0; r0 < d; r0 += 1024)
    {
      int n = MIN (1024, d - r0);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, d, d, 1.0, cov + (gsize) r0 * d, d, cov, d, 0.0,
                   w->inv_sqrt + (gsize) r0 * d, d);
    }

  /* g = C · Cov^(−1/2), block by block */
  for (gint64 r0 = 0; form_g && r0 < V; r0 += B)
    {
      int n = (int) MIN ((gint64) B, V - r0);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      centred_block (u, r0, n, d, w->mean, f32, blk);
      cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, d, 1.0, blk, d, w->inv_sqrt, d, 0.0, gblk, d);
      float *dst = w->g + (gsize) r0 * d;
#pragma omp parallel for schedule(static)
      for (gsize k = 0; k < (gsize) n * d; k++)
        dst[k] = (float) gblk[k];
      if (pr)
        progress_report (pr, 1 - pr->w_prod * (1 - (double) (r0 + n) / V));
    }
  if (pr)
    progress_report (pr, 1);
  return TRUE;
}

static CsWhitening *
whiten (const CsTensor *u, CsDevice device, gboolean form_g, CsProgressFunc progress, gpointer progress_data,
        GCancellable *cancellable, GError **error);

CsWhitening *
cs_whiten (const CsTensor  *u,
           CsDevice         device,
           GCancellable    *cancellable,
           GError         **error)
{
  return whiten (u, device, TRUE, NULL, NULL, cancellable, error);
}

CsWhitening *
cs_whiten_transform (const CsTensor  *u,
                     CsDevice         device,
                     GCancellable    *cancellable,
                     GError         **error)
{
  return whiten (u, device, FALSE, NULL, NULL, cancellable, error);
}

CsWhitening *
cs_whiten_transform_with_progress (const CsTensor *u, CsDevice device, CsProgressFunc progress,
                                   gpointer progress_data, GCancellable *cancellable, GError **error)
{
  return whiten (u, device, FALSE, progress, progress_data, cancellable, error);
}

static CsWhitening *
whiten (const CsTensor *u, CsDevice device, gboolean form_g, CsProgressFunc progress, gpointer progress_data,
        GCancellable *cancellable, GError **error)
{
  g_autoptr(CsWhitening) w = NULL;
  Progress pr;
  GError *local_error = NULL;
  gboolean gpu;

  g_return_val_if_fail (u != NULL, NULL);

  if (u->ndim != 2 || !cs_dtype_is_float (u->dtype) || u->dtype == CS_DTYPE_F64)
    {
      g_autofree char *desc = cs_tensor_describe (u);
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "the unembedding '%s' is %s; whitening needs a 2-D F32, F16 or BF16 matrix",
                   u->name ? u->name : "?", desc);
      return NULL;
    }
  if (u->shape[0] < 2 || u->shape[1] < 1 || u->shape[1] > 65536)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                   "cannot whiten a %" G_GINT64_FORMAT " × %" G_GINT64_FORMAT " matrix",
                   u->shape[0], u->shape[1]);
      return NULL;
    }
  cs_backend_init ();
  w = g_new0 (CsWhitening, 1);
  w->rows = u->shape[0];
  w->cols = (int) u->shape[1];
  w->g = form_g ? cs_alloc_large ((gsize) w->rows * w->cols * sizeof (float)) : NULL;
  w->mean = g_new0 (double, w->cols);
  w->eigenvalues = g_new0 (double, w->cols);
  w->inv_sqrt = g_try_malloc ((gsize) w->cols * w->cols * sizeof (double));
  if ((form_g && !w->g) || !w->inv_sqrt)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the whitened %" G_GINT64_FORMAT
                   " × %d matrix", w->rows, w->cols);
      return NULL;
    }

  /* The GPU module forms g; without it the CPU's blocked covariance suffices. */
  gpu = form_g && cs_gpu_should_use (device, &local_error);
  if (local_error)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (gpu)
    {
      const CsCudaVTable *vt = cs_gpu_get (NULL);
      CsCudaTensor t = { u->data, u->dtype == CS_DTYPE_F16 ? CS_CUDA_F16 :
                                  u->dtype == CS_DTYPE_BF16 ? CS_CUDA_BF16 : CS_CUDA_F32, cs_tensor_numel (u) };
      char err[512] = "";
      if (vt->whiten (&t, w->rows, w->cols, CS_WHITEN_FLOOR_REL, w->g, w->mean, w->eigenvalues, w->inv_sqrt,
                      &w->n_floored, err, sizeof err) == 0)
        {
          w->floor = MAX (w->eigenvalues[w->cols - 1], 0.0) * CS_WHITEN_FLOOR_REL;
          w->device = CS_DEVICE_CUDA;
          if (progress)
            progress (1, progress_data);
          return g_steal_pointer (&w);
        }
      if (device == CS_DEVICE_CUDA)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "whitening on the GPU failed: %s", err);
          return NULL;
        }
      g_printerr ("ConceptScope: whitening on the CPU (%s)\n", err);
      w->n_floored = 0;
    }
  w->device = CS_DEVICE_CPU;
  progress_init (&pr, progress, progress_data, w->rows, w->cols, form_g);
  if (!whiten_cpu (u, w, form_g, progress ? &pr : NULL, cancellable, error))
    return NULL;
  return g_steal_pointer (&w);
}
