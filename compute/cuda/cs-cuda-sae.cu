// SAE training on the GPU: the same loss, gradient and Adam step as
// compute/cs-sae-train.c (the CPU path, which is the reference the GPU test
// compares against), on cuBLAS SGEMMs and small kernels of our own.
//
// Row-major matrices are handed to column-major cuBLAS as their transposes:
// a row-major [r, c] matrix is a column-major [c, r] one with leading
// dimension c, so C = A·B (row-major) is Cᵀ = Bᵀ·Aᵀ (column-major).

#include <cmath>
#include <cstring>
#include <new>

#include "cs-cuda-api.h"
#include "cs-cuda-common.h"

struct CsCudaSae
{
  int d = 0, m = 0, max_rows = 0, max_batch = 0, apply_b_dec = 1;
  cublasHandle_t blas = nullptr;
  // parameters, gradients and Adam's moments: W_enc, W_dec, b_enc, b_dec
  float *p[4] = {}, *g[4] = {}, *am[4] = {}, *av[4] = {};
  size_t n[4] = {};
  float *chunk = nullptr, *x = nullptr, *xc = nullptr, *e = nullptr, *dxc = nullptr, *pre = nullptr, *df = nullptr;
  float *dnorm = nullptr, *fsum = nullptr;
  int *idx = nullptr;
  double *acc = nullptr;   // squared error, penalty, active count
};

namespace {

__global__ void
k_gather_center (const float *chunk, const int *idx, int d, const float *b_dec, int apply, float *x, float *xc)
{
  int b = blockIdx.x;
  const float *src = chunk + (size_t) idx[b] * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x)
    {
      float v = src[j];
      x[(size_t) b * d + j] = v;
      xc[(size_t) b * d + j] = apply ? v - b_dec[j] : v;
    }
}

__global__ void
k_fill_rows (float *out, const float *bias, int rows, int cols)
{
  size_t total = (size_t) rows * cols;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < total; i += (size_t) gridDim.x * blockDim.x)
    out[i] = bias[i % cols];
}

// The sum of v over the block (blockDim.x = 256), in every thread.
__device__ double
block_sum (double v)
{
  __shared__ double s[256];
  __syncthreads ();   // an earlier call's readers are done with s
  s[threadIdx.x] = v;
  __syncthreads ();
  for (int w = blockDim.x / 2; w > 0; w >>= 1)
    {
      if (threadIdx.x < w)
        s[threadIdx.x] += s[threadIdx.x + w];
      __syncthreads ();
    }
  return s[0];
}

__device__ void
block_add (double v, double *dst)
{
  double total = block_sum (v);
  if (threadIdx.x == 0)
    atomicAdd (dst, total);
}

__global__ void
k_row_norms (const float *W, int cols, float *norms)
{
  const float *row = W + (size_t) blockIdx.x * cols;
  double q = 0;
  for (int j = threadIdx.x; j < cols; j += blockDim.x)
    q += (double) row[j] * row[j];
  q = block_sum (q);
  if (threadIdx.x == 0)
    norms[blockIdx.x] = (float) sqrt (q);
}

// f = relu(pre) in place; the penalty Σ f·‖W_dec,k‖ and the active count.
__global__ void
k_relu_stats (float *pre, int rows, int m, const float *dnorm, double *acc)
{
  size_t total = (size_t) rows * m;
  double pen = 0, l0 = 0;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < total; i += (size_t) gridDim.x * blockDim.x)
    {
      float f = pre[i] > 0 ? pre[i] : 0.0f;
      pre[i] = f;
      pen += (double) f * dnorm[i % m];
      l0 += f > 0;
    }
  block_add (pen, acc + 1);
  block_add (l0, acc + 2);
}

// e = x̂ − x; accumulates Σ e², then scales e to dL/dx̂.
__global__ void
k_error (float *e, const float *x, size_t total, float scale, double *acc)
{
  double q = 0;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < total; i += (size_t) gridDim.x * blockDim.x)
    {
      float v = e[i] - x[i];
      q += (double) v * v;
      e[i] = v * scale;
    }
  block_add (q, acc);
}

// out[c] = alpha Σ_r M[r, c] (+ out[c] when accumulating), summed in double.
__global__ void
k_column_sum (const float *M, int rows, int cols, float *out, float alpha, int accumulate)
{
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols)
    return;
  double s = 0;
  for (int r = 0; r < rows; r++)
    s += M[(size_t) r * cols + c];
  out[c] = (float) (alpha * s) + (accumulate ? out[c] : 0.0f);
}

// The penalty's pull on the decoder: + l1/B Σ_b f_bk · W_dec,k / ‖W_dec,k‖.
__global__ void
k_decoder_penalty (float *gW, const float *W, const float *fsum, const float *dnorm, int m, int d, float c)
{
  size_t total = (size_t) m * d;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < total; i += (size_t) gridDim.x * blockDim.x)
    {
      int k = (int) (i / d);
      if (dnorm[k] > 0 && fsum[k] > 0)
        gW[i] += c * fsum[k] / dnorm[k] * W[i];
    }
}

// dL/dpre: the penalty's l1/B ‖W_dec,k‖ added, and zero where the ReLU was off.
__global__ void
k_through_relu (float *df, const float *f, const float *dnorm, int rows, int m, float c)
{
  size_t total = (size_t) rows * m;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < total; i += (size_t) gridDim.x * blockDim.x)
    df[i] = f[i] > 0 ? df[i] + c * dnorm[i % m] : 0.0f;
}

__global__ void
k_adam (float *w, const float *g, float *am, float *av, size_t n, double lr, double c1, double c2)
{
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    {
      am[i] = (float) (b1 * am[i] + (1 - b1) * g[i]);
      av[i] = (float) (b2 * av[i] + (1 - b2) * (double) g[i] * g[i]);
      w[i] -= (float) (lr * (am[i] / c1) / (sqrt (av[i] / c2) + eps));
    }
}

void
sae_release (CsCudaSae *s)
{
  for (int k = 0; k < 4; k++)
    for (float *q : { s->p[k], s->g[k], s->am[k], s->av[k] })
      if (q)
        cudaFree (q);
  for (void *q : { (void *) s->chunk, (void *) s->x, (void *) s->xc, (void *) s->e, (void *) s->dxc, (void *) s->pre,
                   (void *) s->df, (void *) s->dnorm, (void *) s->fsum, (void *) s->idx, (void *) s->acc })
    if (q)
      cudaFree (q);
  if (s->blas)
    cublasDestroy (s->blas);
  delete s;
}

float *
dev_floats (size_t n)
{
  void *p = nullptr;
  CU (cudaMalloc (&p, n * sizeof (float)));
  return static_cast<float *> (p);
}

} // namespace

CsCudaSae *
cs_cuda_sae_new (int d_in, int d_sae, int max_rows, int max_batch, int apply_b_dec_to_input, const float *W_enc,
                 const float *W_dec, const float *b_enc, const float *b_dec, char *err, size_t err_len)
{
  g_err = err;
  g_err_len = err_len;
  CsCudaSae *s = new (std::nothrow) CsCudaSae;
  if (!s)
    {
      set_err (err, err_len, "out of host memory");
      return nullptr;
    }
  try
    {
      size_t d = (size_t) d_in, m = (size_t) d_sae;
      size_t free_b = 0, total_b = 0;
      const float *host[4] = { W_enc, W_dec, b_enc, b_dec };
      s->d = d_in;
      s->m = d_sae;
      s->max_rows = max_rows;
      s->max_batch = max_batch;
      s->apply_b_dec = apply_b_dec_to_input;
      s->n[0] = s->n[1] = d * m;
      s->n[2] = m;
      s->n[3] = d;
      size_t need = 4 * (2 * d * m + m + d) * 4 + ((size_t) max_rows * d + (size_t) max_batch * (4 * d + 2 * m)) * 4;
      CU (cudaMemGetInfo (&free_b, &total_b));
      if (need > free_b)
        {
          set_err (err, err_len, "training this SAE needs %.2f GiB on the GPU but %.2f GiB are free",
                   need / 1073741824.0, free_b / 1073741824.0);
          throw Fail ();
        }
      CB (cublasCreate (&s->blas));
      for (int k = 0; k < 4; k++)
        {
          s->p[k] = dev_floats (s->n[k]);
          s->g[k] = dev_floats (s->n[k]);
          s->am[k] = dev_floats (s->n[k]);
          s->av[k] = dev_floats (s->n[k]);
          CU (cudaMemcpy (s->p[k], host[k], s->n[k] * 4, cudaMemcpyHostToDevice));
          CU (cudaMemset (s->am[k], 0, s->n[k] * 4));
          CU (cudaMemset (s->av[k], 0, s->n[k] * 4));
        }
      s->chunk = dev_floats ((size_t) max_rows * d);
      s->x = dev_floats ((size_t) max_batch * d);
      s->xc = dev_floats ((size_t) max_batch * d);
      s->e = dev_floats ((size_t) max_batch * d);
      s->dxc = dev_floats ((size_t) max_batch * d);
      s->pre = dev_floats ((size_t) max_batch * m);
      s->df = dev_floats ((size_t) max_batch * m);
      s->dnorm = dev_floats (m);
      s->fsum = dev_floats (m);
      CU (cudaMalloc (&s->idx, (size_t) max_batch * sizeof (int)));
      CU (cudaMalloc (&s->acc, 3 * sizeof (double)));
      return s;
    }
  catch (Fail &)
    {
      cudaGetLastError ();
      sae_release (s);
      return nullptr;
    }
}

int
cs_cuda_sae_upload (CsCudaSae *s, const float *rows, int n, char *err, size_t err_len)
{
  g_err = err;
  g_err_len = err_len;
  if (n > s->max_rows)
    {
      set_err (err, err_len, "a chunk of %d rows is more than the %d this trainer was made for", n, s->max_rows);
      return -1;
    }
  try
    {
      CU (cudaMemcpy (s->chunk, rows, (size_t) n * s->d * 4, cudaMemcpyHostToDevice));
      return 0;
    }
  catch (Fail &)
    {
      cudaGetLastError ();
      return -1;
    }
}

int
cs_cuda_sae_step (CsCudaSae *s, CsCudaSaeStep *st, char *err, size_t err_len)
{
  g_err = err;
  g_err_len = err_len;
  int B = st->B, d = s->d, m = s->m;
  if (B < 1 || B > s->max_batch)
    {
      set_err (err, err_len, "a batch of %d rows is outside 1 … %d", B, s->max_batch);
      return -1;
    }
  try
    {
      const float one = 1.0f, zero = 0.0f;
      float *W_enc = s->p[0], *W_dec = s->p[1], *b_enc = s->p[2], *b_dec = s->p[3];
      float *gW_enc = s->g[0], *gW_dec = s->g[1], *gb_enc = s->g[2], *gb_dec = s->g[3];
      float c = (float) ((double) st->l1 / B);
      double acc[3];
      CU (cudaMemcpy (s->idx, st->rows, (size_t) B * sizeof (int), cudaMemcpyHostToDevice));
      CU (cudaMemset (s->acc, 0, 3 * sizeof (double)));
      k_gather_center<<<B, 256>>> (s->chunk, s->idx, d, b_dec, s->apply_b_dec, s->x, s->xc);
      k_row_norms<<<m, 256>>> (W_dec, d, s->dnorm);
      // pre [B, m] = b_enc + xc [B, d] · W_enc [d, m]
      k_fill_rows<<<grid_for ((size_t) B * m), 256>>> (s->pre, b_enc, B, m);
      CB (cublasSgemm (s->blas, CUBLAS_OP_N, CUBLAS_OP_N, m, B, d, &one, W_enc, m, s->xc, d, &one, s->pre, m));
      k_relu_stats<<<std::min (grid_for ((size_t) B * m), 1024), 256>>> (s->pre, B, m, s->dnorm, s->acc);
      // x̂ [B, d] = b_dec + f [B, m] · W_dec [m, d]; e = (x̂ − x) · 2/B
      k_fill_rows<<<grid_for ((size_t) B * d), 256>>> (s->e, b_dec, B, d);
      CB (cublasSgemm (s->blas, CUBLAS_OP_N, CUBLAS_OP_N, d, B, m, &one, W_dec, d, s->pre, m, &one, s->e, d));
      k_error<<<std::min (grid_for ((size_t) B * d), 1024), 256>>> (s->e, s->x, (size_t) B * d, 2.0f / B, s->acc);
      // gW_dec [m, d] = fᵀ e + the penalty's term
      CB (cublasSgemm (s->blas, CUBLAS_OP_N, CUBLAS_OP_T, d, m, B, &one, s->e, d, s->pre, m, &zero, gW_dec, d));
      k_column_sum<<<(m + 255) / 256, 256>>> (s->pre, B, m, s->fsum, 1.0f, 0);
      k_decoder_penalty<<<grid_for ((size_t) m * d), 256>>> (gW_dec, W_dec, s->fsum, s->dnorm, m, d, c);
      k_column_sum<<<(d + 255) / 256, 256>>> (s->e, B, d, gb_dec, 1.0f, 0);
      // df [B, m] = e [B, d] · W_decᵀ, through the ReLU
      CB (cublasSgemm (s->blas, CUBLAS_OP_T, CUBLAS_OP_N, m, B, d, &one, W_dec, d, s->e, d, &zero, s->df, m));
      k_through_relu<<<grid_for ((size_t) B * m), 256>>> (s->df, s->pre, s->dnorm, B, m, c);
      // gW_enc [d, m] = xcᵀ df; gb_enc = Σ_b df
      CB (cublasSgemm (s->blas, CUBLAS_OP_N, CUBLAS_OP_T, m, d, B, &one, s->df, m, s->xc, d, &zero, gW_enc, m));
      k_column_sum<<<(m + 255) / 256, 256>>> (s->df, B, m, gb_enc, 1.0f, 0);
      if (s->apply_b_dec)
        {
          // b_dec also entered through xc = x − b_dec: gb_dec −= Σ_b (df W_encᵀ)
          CB (cublasSgemm (s->blas, CUBLAS_OP_T, CUBLAS_OP_N, d, B, m, &one, W_enc, m, s->df, m, &zero, s->dxc, d));
          k_column_sum<<<(d + 255) / 256, 256>>> (s->dxc, B, d, gb_dec, -1.0f, 1);
        }
      CU (cudaGetLastError ());
      for (int k = 0; k < 4; k++)
        if (st->grad_out[k])
          CU (cudaMemcpy (st->grad_out[k], s->g[k], s->n[k] * 4, cudaMemcpyDeviceToHost));
      if (st->t > 0)
        {
          double c1 = 1 - std::pow (0.9, (double) st->t), c2 = 1 - std::pow (0.999, (double) st->t);
          for (int k = 0; k < 4; k++)
            k_adam<<<grid_for (s->n[k]), 256>>> (s->p[k], s->g[k], s->am[k], s->av[k], s->n[k], st->lr, c1, c2);
          CU (cudaGetLastError ());
        }
      CU (cudaMemcpy (acc, s->acc, sizeof acc, cudaMemcpyDeviceToHost));
      st->mse = acc[0] / B;
      st->l0 = acc[2] / B;
      st->loss = st->mse + acc[1] * st->l1 / B;
      return 0;
    }
  catch (Fail &)
    {
      cudaGetLastError ();
      return -1;
    }
}

int
cs_cuda_sae_download (CsCudaSae *s, float *W_enc, float *W_dec, float *b_enc, float *b_dec, char *err, size_t err_len)
{
  g_err = err;
  g_err_len = err_len;
  float *host[4] = { W_enc, W_dec, b_enc, b_dec };
  try
    {
      for (int k = 0; k < 4; k++)
        if (host[k])
          CU (cudaMemcpy (host[k], s->p[k], s->n[k] * 4, cudaMemcpyDeviceToHost));
      return 0;
    }
  catch (Fail &)
    {
      cudaGetLastError ();
      return -1;
    }
}

void
cs_cuda_sae_free (CsCudaSae *s)
{
  if (s)
    sae_release (s);
}
