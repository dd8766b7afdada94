// ConceptScope's CUDA backend: the forward pass of every supported
// architecture and the whitening of the geometry engine, on cuBLAS and
// cuSOLVER with kernels of our own (SAE training is in cs-cuda-sae.cu). Built
// as a module (libcs-cuda.so) that the program loads at run time; see
// cs-cuda-api.h for the boundary.

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cs-cuda-api.h"
#include "cs-cuda-common.h"

namespace {

size_t
dtype_size (int dtype)
{
  return dtype == CS_CUDA_F32 ? 4 : 2;
}

__device__ __forceinline__ float
load (const void *p, int dtype, size_t i)
{
  if (dtype == CS_CUDA_F32)
    return static_cast<const float *> (p)[i];
  if (dtype == CS_CUDA_F16)
    return __half2float (static_cast<const __half *> (p)[i]);
  return __bfloat162float (static_cast<const __nv_bfloat16 *> (p)[i]);
}

// ---- kernels ----

__global__ void
k_convert_to_f32 (const void *src, int dtype, float *dst, size_t n)
{
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    dst[i] = load (src, dtype, i);
}

__global__ void
k_f32_to_half (const float *src, void *dst, int dtype, size_t n)
{
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    {
      if (dtype == CS_CUDA_F16)
        static_cast<__half *> (dst)[i] = __float2half_rn (src[i]);
      else
        static_cast<__nv_bfloat16 *> (dst)[i] = __float2bfloat16_rn (src[i]);
    }
}

__global__ void
k_embed (const int *ids, const int *pos, const void *E, int edt, const void *P, int pdt,
         float scale, float *x, int d)
{
  int t = blockIdx.x;
  size_t row = (size_t) ids[t] * d, prow = (size_t) pos[t] * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x)
    {
      float v = load (E, edt, row + j);
      if (P)
        v += load (P, pdt, prow + j);
      x[(size_t) t * d + j] = v * scale;
    }
}

template <int BLOCK>
__device__ float
block_sum (float v)
{
  __shared__ float buf[32];
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync (0xffffffff, v, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads ();
  if (lane == 0)
    buf[warp] = v;
  __syncthreads ();
  v = threadIdx.x < BLOCK / 32 ? buf[threadIdx.x] : 0.0f;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1)
      v += __shfl_xor_sync (0xffffffff, v, o);
  if (threadIdx.x == 0)
    buf[0] = v;
  __syncthreads ();
  return buf[0];
}

template <int BLOCK>
__global__ void
k_layer_norm (const float *x, float *y, const float *w, const float *b, int d, float eps)
{
  const float *xi = x + (size_t) blockIdx.x * d;
  float *yi = y + (size_t) blockIdx.x * d;
  float s = 0;
  for (int j = threadIdx.x; j < d; j += BLOCK)
    s += xi[j];
  float mean = block_sum<BLOCK> (s) / d;
  float v = 0;
  for (int j = threadIdx.x; j < d; j += BLOCK)
    v += (xi[j] - mean) * (xi[j] - mean);
  float inv = rsqrtf (block_sum<BLOCK> (v) / d + eps);
  for (int j = threadIdx.x; j < d; j += BLOCK)
    yi[j] = (xi[j] - mean) * inv * w[j] + b[j];
}

template <int BLOCK>
__global__ void
k_rms_norm (const float *x, float *y, const float *w, int d, float eps, int one_plus)
{
  const float *xi = x + (size_t) blockIdx.x * d;
  float *yi = y + (size_t) blockIdx.x * d;
  float s = 0;
  for (int j = threadIdx.x; j < d; j += BLOCK)
    s += xi[j] * xi[j];
  float inv = rsqrtf (block_sum<BLOCK> (s) / d + eps);
  for (int j = threadIdx.x; j < d; j += BLOCK)
    yi[j] = (xi[j] * inv) * (one_plus ? 1.0f + w[j] : w[j]);
}

__global__ void
k_add_bias (float *y, const float *b, size_t rows, int cols)
{
  size_t n = rows * cols;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    y[i] += b[i % cols];
}

__global__ void
k_add (float *x, const float *y, size_t n)
{
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    x[i] += y[i];
}

__global__ void
k_steer (float *x, const float *v, const int *pos, int T, int d, float m, int from)
{
  size_t n = (size_t) T * d;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    if (pos[i / d] >= from)
      x[i] += m * v[i % d];
}

__device__ __forceinline__ float
act (int a, float x)
{
  switch (a)
    {
    case CS_CUDA_ACT_GELU_TANH:
      return 0.5f * x * (1.0f + tanhf (0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case CS_CUDA_ACT_GELU_ERF:
      return 0.5f * x * (1.0f + erff (x * 0.7071067811865476f));
    case CS_CUDA_ACT_SILU:
      return x / (1.0f + expf (-x));
    default:
      return x > 0 ? x : 0;
    }
}

__global__ void
k_activate (float *x, size_t n, int a)
{
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    x[i] = act (a, x[i]);
}

__global__ void
k_gated (float *gate, const float *up, size_t n, int a)
{
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    gate[i] = act (a, gate[i]) * up[i];
}

// HF's rotate_half convention: element i pairs with i + half.
__global__ void
k_rope (float *x, const int *pos, const float *inv_freq, int T, int n_heads, int hd)
{
  int half = hd / 2;
  size_t n = (size_t) T * n_heads * half;
  for (size_t idx = blockIdx.x * (size_t) blockDim.x + threadIdx.x; idx < n; idx += (size_t) gridDim.x * blockDim.x)
    {
      int i = idx % half;
      size_t th = idx / half;            // t * n_heads + h
      int t = th / n_heads;
      float angle = (float) pos[t] * inv_freq[i];
      float c = cosf (angle), s = sinf (angle);
      float *v = x + th * hd;
      float a = v[i], b = v[i + half];
      v[i] = a * c - b * s;
      v[i + half] = b * c + a * s;
    }
}

__device__ __forceinline__ float to_f (float v) { return v; }
__device__ __forceinline__ float to_f (__nv_bfloat16 v) { return __bfloat162float (v); }
__device__ __forceinline__ void from_f (float &d, float v) { d = v; }
__device__ __forceinline__ void from_f (__nv_bfloat16 &d, float v) { d = __float2bfloat16_rn (v); }

// One block per score row: causal (and sliding-window) mask, soft-cap,
// softmax. Scores are float32, or BF16 in fast mode (math in float32).
template <int BLOCK, typename S_T>
__global__ void
k_softmax (S_T *S, int L, float cap, int window)
{
  int i = blockIdx.x % L;
  S_T *row = S + (size_t) blockIdx.x * L;
  int j0 = window > 0 ? max (0, i - window + 1) : 0;
  float mx = -INFINITY;
  for (int j = j0 + threadIdx.x; j <= i; j += BLOCK)
    {
      float s = to_f (row[j]);
      if (cap > 0)
        s = cap * tanhf (s / cap);
      mx = fmaxf (mx, s);
    }
  __shared__ float red[32];
  for (int o = 16; o > 0; o >>= 1)
    mx = fmaxf (mx, __shfl_xor_sync (0xffffffff, mx, o));
  if ((threadIdx.x & 31) == 0)
    red[threadIdx.x >> 5] = mx;
  __syncthreads ();
  if (threadIdx.x < 32)
    {
      float m = threadIdx.x < BLOCK / 32 ? red[threadIdx.x] : -INFINITY;
      for (int o = 16; o > 0; o >>= 1)
        m = fmaxf (m, __shfl_xor_sync (0xffffffff, m, o));
      if (threadIdx.x == 0)
        red[0] = m;
    }
  __syncthreads ();
  mx = red[0];
  float sum = 0;
  for (int j = j0 + threadIdx.x; j <= i; j += BLOCK)
    {
      float s = to_f (row[j]);
      if (cap > 0)
        s = cap * tanhf (s / cap);
      sum += expf (s - mx);
    }
  float total = block_sum<BLOCK> (sum);
  float inv = 1.0f / total;
  for (int j = threadIdx.x; j < L; j += BLOCK)
    {
      float p = 0.0f;
      if (j >= j0 && j <= i)
        {
          float s = to_f (row[j]);
          if (cap > 0)
            s = cap * tanhf (s / cap);
          p = expf (s - mx) * inv;
        }
      from_f (row[j], p);
    }
}

__global__ void
k_softcap (float *x, size_t n, float cap)
{
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    x[i] = cap * tanhf (x[i] / cap);
}

__global__ void
k_gather_rows (const float *src, float *dst, const int *rows, int d)
{
  int r = blockIdx.x;
  for (int j = threadIdx.x; j < d; j += blockDim.x)
    dst[(size_t) r * d + j] = src[(size_t) rows[r] * d + j];
}

// whitening helpers (double precision)
__global__ void
k_column_sums (const void *u, int dtype, int64_t rows, int cols, double *sums)
{
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols)
    return;
  int64_t r0 = (int64_t) blockIdx.y * 1024, r1 = min (rows, r0 + 1024);
  double s = 0;
  for (int64_t r = r0; r < r1; r++)
    s += load (u, dtype, (size_t) r * cols + c);
  atomicAdd (&sums[c], s);
}

__global__ void
k_center (const void *u, int dtype, const double *mean, double *c, int64_t rows, int cols)
{
  size_t n = (size_t) rows * cols;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    c[i] = (double) load (u, dtype, i) - mean[i % cols];
}

__global__ void
k_scale_columns (double *q, const double *s, int n)
{
  size_t total = (size_t) n * n;
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < total; i += (size_t) gridDim.x * blockDim.x)
    q[i] *= s[i / n];   // column-major: column index is i / n
}

__global__ void
k_d2f (const double *src, float *dst, size_t n)
{
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
    dst[i] = (float) src[i];
}

// ---- device memory ----

struct Buf
{
  void *p = nullptr;
  size_t bytes = 0;

  float *f () { return static_cast<float *> (p); }
  void ensure (size_t need)
  {
    if (need <= bytes)
      return;
    if (p)
      cudaFree (p);
    p = nullptr;
    bytes = 0;
    CU (cudaMalloc (&p, need));
    bytes = need;
  }
  void release ()
  {
    if (p)
      cudaFree (p);
    p = nullptr;
    bytes = 0;
  }
};

struct DevTensor
{
  void *p = nullptr;
  int dtype = CS_CUDA_F32;
  int64_t numel = 0;
  explicit operator bool () const { return p != nullptr; }
};

struct Layer
{
  DevTensor attn_norm_w, attn_norm_b, qkv_w, qkv_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
  DevTensor post_attn_norm_w, mlp_norm_w, mlp_norm_b, post_mlp_norm_w;
  DevTensor fc_w, fc_b, proj_w, proj_b, gate_w, gate_b, up_w, up_b, down_w, down_b;
};

} // namespace

struct CsCudaModel
{
  CsCudaModelDesc desc {};
  std::vector<int> layer_sliding;
  std::vector<float> layer_scale;
  std::vector<Layer> layers;
  DevTensor embedding, positions, final_norm_w, final_norm_b, unembedding;
  float *inv_freq = nullptr;
  std::vector<void *> allocations;
  size_t weight_bytes = 0;
  cublasHandle_t blas = nullptr;
  cudaStream_t stream = nullptr;
  Buf x, h, qkv, att, mlp, tmp, scores, convert, half_act, logits, ints, steer, rows, qkv16;
};

namespace {

// Vectors (norm weights, biases) go up as float32; matrices in their stored dtype.
DevTensor
upload (CsCudaModel *m, const CsCudaTensor &t, bool as_f32)
{
  DevTensor d;
  if (!t.data)
    return d;
  d.numel = t.numel;
  if (as_f32 && t.dtype != CS_CUDA_F32)
    {
      void *tmp = nullptr;
      size_t raw = (size_t) t.numel * dtype_size (t.dtype);
      CU (cudaMalloc (&tmp, raw));
      CU (cudaMemcpy (tmp, t.data, raw, cudaMemcpyHostToDevice));
      CU (cudaMalloc (&d.p, (size_t) t.numel * 4));
      m->allocations.push_back (d.p);
      k_convert_to_f32<<<grid_for (t.numel), 256>>> (tmp, t.dtype, (float *) d.p, (size_t) t.numel);
      CU (cudaGetLastError ());
      CU (cudaDeviceSynchronize ());
      cudaFree (tmp);
      d.dtype = CS_CUDA_F32;
      m->weight_bytes += (size_t) t.numel * 4;
      return d;
    }
  size_t bytes = (size_t) t.numel * dtype_size (t.dtype);
  CU (cudaMalloc (&d.p, bytes));
  m->allocations.push_back (d.p);
  CU (cudaMemcpy (d.p, t.data, bytes, cudaMemcpyHostToDevice));
  d.dtype = t.dtype;
  m->weight_bytes += bytes;
  return d;
}

size_t
desc_bytes (const CsCudaModelDesc *d)
{
  size_t total = 0;
  auto add = [&] (const CsCudaTensor &t) { if (t.data) total += (size_t) t.numel * dtype_size (t.dtype); };
  add (d->embedding);
  add (d->positions);
  if (d->unembedding.data != d->embedding.data)
    add (d->unembedding);
  for (int l = 0; l < d->n_layers; l++)
    {
      const CsCudaLayerDesc &L = d->layers[l];
      for (const CsCudaTensor *t : { &L.qkv_w, &L.q_w, &L.k_w, &L.v_w, &L.o_w, &L.fc_w, &L.proj_w,
                                     &L.gate_w, &L.up_w, &L.down_w })
        add (*t);
    }
  return total;
}

// y[n, out] = x[n, in] · W (+ b). W row-major [out, in] (Linear) or [in, out] (Conv1D).
void
linear (CsCudaModel *m, const float *x, int n, int in, const DevTensor &w, bool in_out,
        const DevTensor &bias, float *y, int out, bool fast)
{
  const float one = 1.0f, zero = 0.0f;
  cublasHandle_t hb = m->blas;

  if (w.dtype == CS_CUDA_F32)
    {
      CB (cublasSetMathMode (hb, fast ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
      if (in_out)
        CB (cublasSgemm (hb, CUBLAS_OP_N, CUBLAS_OP_N, out, n, in, &one, (const float *) w.p, out, x, in, &zero, y, out));
      else
        CB (cublasSgemm (hb, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, (const float *) w.p, in, x, in, &zero, y, out));
    }
  else if (fast)
    {
      // Tensor cores: activations rounded to the weights' 16-bit type, float32 accumulation.
      cudaDataType_t t = w.dtype == CS_CUDA_F16 ? CUDA_R_16F : CUDA_R_16BF;
      m->half_act.ensure ((size_t) n * in * 2);
      k_f32_to_half<<<grid_for ((size_t) n * in), 256, 0, m->stream>>> (x, m->half_act.p, w.dtype, (size_t) n * in);
      CB (cublasSetMathMode (hb, CUBLAS_DEFAULT_MATH));
      if (in_out)
        CB (cublasGemmEx (hb, CUBLAS_OP_N, CUBLAS_OP_N, out, n, in, &one, w.p, t, out, m->half_act.p, t, in,
                          &zero, y, CUDA_R_32F, out, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      else
        CB (cublasGemmEx (hb, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w.p, t, in, m->half_act.p, t, in,
                          &zero, y, CUDA_R_32F, out, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
  else
    {
      // Float32 products from 16-bit weights: dequantise slices of rows.
      CB (cublasSetMathMode (hb, CUBLAS_DEFAULT_MATH));
      const size_t cap = (size_t) 64 << 20;   // floats per slice
      if (!in_out)
        {
          int rows = (int) std::max<size_t> (1, std::min<size_t> (out, cap / in));
          m->convert.ensure ((size_t) rows * in * 4);
          for (int r0 = 0; r0 < out; r0 += rows)
            {
              int r = std::min (rows, out - r0);
              size_t cnt = (size_t) r * in;
              const char *src = (const char *) w.p + (size_t) r0 * in * 2;
              k_convert_to_f32<<<grid_for (cnt), 256, 0, m->stream>>> (src, w.dtype, m->convert.f (), cnt);
              CB (cublasSgemm (hb, CUBLAS_OP_T, CUBLAS_OP_N, r, n, in, &one, m->convert.f (), in, x, in, &zero,
                               y + r0, out));
            }
        }
      else
        {
          int rows = (int) std::max<size_t> (1, std::min<size_t> (in, cap / out));
          m->convert.ensure ((size_t) rows * out * 4);
          for (int k0 = 0; k0 < in; k0 += rows)
            {
              int k = std::min (rows, in - k0);
              size_t cnt = (size_t) k * out;
              const char *src = (const char *) w.p + (size_t) k0 * out * 2;
              const float beta = k0 ? 1.0f : 0.0f;
              k_convert_to_f32<<<grid_for (cnt), 256, 0, m->stream>>> (src, w.dtype, m->convert.f (), cnt);
              CB (cublasSgemm (hb, CUBLAS_OP_N, CUBLAS_OP_N, out, n, k, &one, m->convert.f (), out, x + k0, in,
                               &beta, y, out));
            }
        }
    }
  if (bias)
    k_add_bias<<<grid_for ((size_t) n * out), 256, 0, m->stream>>> (y, (const float *) bias.p, (size_t) n, out);
}

void
norm (CsCudaModel *m, const float *x, float *y, int n, const DevTensor &w, const DevTensor &b)
{
  const CsCudaModelDesc &d = m->desc;
  if (d.gpt2)
    k_layer_norm<256><<<n, 256, 0, m->stream>>> (x, y, (const float *) w.p, (const float *) b.p, d.hidden,
                                                 (float) d.norm_eps);
  else
    k_rms_norm<256><<<n, 256, 0, m->stream>>> (x, y, (const float *) w.p, d.hidden, (float) d.norm_eps,
                                               d.gemma_norm);
}

// Causal attention per prompt: S = scale · Q Kᵀ (batched over heads), masked
// softmax, O = P V. q/k/v rows have strides qs/ks/vs floats. In fast mode Q,
// K, V and the scores are BF16 (float32 accumulation), halving the traffic
// of the score matrices, which dominates this step.
void
attention (CsCudaModel *m, const CsCudaForwardArgs *a, int layer, const float *q, int qs, const float *k, int ks,
           const float *v, int vs, float *out, int os, bool fast)
{
  const CsCudaModelDesc &d = m->desc;
  int hd = d.head_dim, H = d.n_heads, group = d.n_heads / d.n_kv_heads;
  int window = m->layer_sliding[layer] ? d.sliding_window : 0;
  float scale = m->layer_scale[layer];
  const float zero = 0.0f, one = 1.0f;
  int maxlen = 0;
  for (int b = 0; b < a->batch; b++)
    maxlen = std::max (maxlen, a->lengths[b]);
  int batch_heads = group == 1 ? H : group;
  m->scores.ensure ((size_t) batch_heads * maxlen * maxlen * (fast ? 2 : 4));
  CB (cublasSetMathMode (m->blas, CUBLAS_DEFAULT_MATH));

  // BF16 copies of q, k, v, at the same row strides.
  const __nv_bfloat16 *q16 = nullptr, *k16 = nullptr, *v16 = nullptr;
  if (fast)
    {
      // q, k and v lie in one buffer, q first and v last, in both layouts
      // (GPT-2's fused rows and the separate q | k | v blocks).
      size_t T = (size_t) a->T;
      size_t span = (size_t) (v - q) + (T - 1) * vs + (size_t) d.n_kv_heads * hd;
      m->qkv16.ensure (span * 2);
      __nv_bfloat16 *base = static_cast<__nv_bfloat16 *> (m->qkv16.p);
      k_f32_to_half<<<grid_for (span), 256, 0, m->stream>>> (q, base, CS_CUDA_BF16, span);
      q16 = base;
      k16 = base + (k - q);
      v16 = base + (v - q);
    }

  for (int b = 0; b < a->batch; b++)
    {
      int L = a->lengths[b], off = a->offsets[b];
      int calls = group == 1 ? 1 : d.n_kv_heads;
      for (int c = 0; c < calls; c++)
        {
          int h0 = group == 1 ? 0 : c * group;
          int kvh = group == 1 ? 0 : c;
          long long strideK = group == 1 ? hd : 0;
          size_t qo = (size_t) off * qs + (size_t) h0 * hd, ko = (size_t) off * ks + (size_t) kvh * hd,
                 vo = (size_t) off * vs + (size_t) kvh * hd;
          float *ob = out + (size_t) off * os + (size_t) h0 * hd;
          if (fast)
            {
              __nv_bfloat16 *S = static_cast<__nv_bfloat16 *> (m->scores.p);
              CB (cublasGemmStridedBatchedEx (m->blas, CUBLAS_OP_T, CUBLAS_OP_N, L, L, hd, &scale,
                                              k16 + ko, CUDA_R_16BF, ks, strideK, q16 + qo, CUDA_R_16BF, qs, hd,
                                              &zero, S, CUDA_R_16BF, L, (long long) L * L, batch_heads,
                                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
              k_softmax<128><<<batch_heads * L, 128, 0, m->stream>>> (S, L, d.attn_softcap, window);
              CB (cublasGemmStridedBatchedEx (m->blas, CUBLAS_OP_N, CUBLAS_OP_N, hd, L, L, &one,
                                              v16 + vo, CUDA_R_16BF, vs, strideK, S, CUDA_R_16BF, L,
                                              (long long) L * L, &zero, ob, CUDA_R_32F, os, hd, batch_heads,
                                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
            }
          else
            {
              float *S = m->scores.f ();
              // Sᵀ (column-major) = K · Qᵀ, one L×L block per head.
              CB (cublasSgemmStridedBatched (m->blas, CUBLAS_OP_T, CUBLAS_OP_N, L, L, hd, &scale,
                                             k + ko, ks, strideK, q + qo, qs, hd, &zero, S, L, (long long) L * L,
                                             batch_heads));
              k_softmax<128><<<batch_heads * L, 128, 0, m->stream>>> (S, L, d.attn_softcap, window);
              // Oᵀ (column-major) = Vᵀ · Pᵀ
              CB (cublasSgemmStridedBatched (m->blas, CUBLAS_OP_N, CUBLAS_OP_N, hd, L, L, &one,
                                             v + vo, vs, strideK, S, L, (long long) L * L, &zero, ob, os, hd,
                                             batch_heads));
            }
        }
    }
}

void
copy_hooks (CsCudaModel *m, const CsCudaForwardArgs *a, int kind, int layer, const float *x)
{
  for (int i = 0; i < a->n_hooks; i++)
    if (a->hook_kind[i] == kind && a->hook_layer[i] == layer)
      CU (cudaMemcpyAsync (a->hook_out[i], x, (size_t) a->T * m->desc.hidden * 4, cudaMemcpyDeviceToHost, m->stream));
}

int
forward (CsCudaModel *m, const CsCudaForwardArgs *a, char *err, size_t err_len)
{
  g_err = err;
  g_err_len = err_len;
  try
    {
      const CsCudaModelDesc &d = m->desc;
      int T = a->T, D = d.hidden, qd = d.n_heads * d.head_dim, kvd = d.n_kv_heads * d.head_dim, I = d.intermediate;
      bool fast = a->fast != 0;
      size_t qkv_n = d.gpt2 ? 3 * (size_t) D : (size_t) qd + 2 * (size_t) kvd;
      size_t wide = std::max (D, qd);

      m->x.ensure ((size_t) T * D * 4);
      m->h.ensure ((size_t) T * wide * 4);
      m->qkv.ensure ((size_t) T * qkv_n * 4);
      m->att.ensure ((size_t) T * wide * 4);
      m->mlp.ensure ((size_t) T * I * 2 * 4);
      m->tmp.ensure ((size_t) T * D * 4);
      m->ints.ensure ((size_t) T * 2 * 4 + (size_t) a->batch * 4);
      int *ids = static_cast<int *> (m->ints.p), *pos = ids + T, *last = pos + T;
      std::vector<int> last_rows (a->batch);
      for (int b = 0; b < a->batch; b++)
        last_rows[b] = a->offsets[b] + a->lengths[b] - 1;
      CU (cudaMemcpyAsync (ids, a->ids, (size_t) T * 4, cudaMemcpyHostToDevice, m->stream));
      CU (cudaMemcpyAsync (pos, a->positions, (size_t) T * 4, cudaMemcpyHostToDevice, m->stream));
      CU (cudaMemcpyAsync (last, last_rows.data (), (size_t) a->batch * 4, cudaMemcpyHostToDevice, m->stream));
      if (a->steer_layer >= 0)
        {
          m->steer.ensure ((size_t) D * 4);
          CU (cudaMemcpyAsync (m->steer.p, a->steer_vector, (size_t) D * 4, cudaMemcpyHostToDevice, m->stream));
        }

      float *x = m->x.f (), *h = m->h.f (), *qkv = m->qkv.f (), *att = m->att.f (), *mlp = m->mlp.f (),
            *tmp = m->tmp.f ();
      if (a->resume_layer >= 0)
        {
          CU (cudaMemcpyAsync (x, a->resume_from, (size_t) T * D * 4, cudaMemcpyHostToDevice, m->stream));
          if (a->steer_layer == a->resume_layer)
            k_steer<<<grid_for ((size_t) T * D), 256, 0, m->stream>>> (x, m->steer.f (), pos, T, D,
                                                                       a->steer_multiplier, a->steer_from);
          copy_hooks (m, a, CS_CUDA_HOOK_POST, a->resume_layer, x);
        }
      else
        k_embed<<<T, 256, 0, m->stream>>> (ids, pos, m->embedding.p, m->embedding.dtype,
                                           m->positions.p, m->positions.dtype, d.embed_scale, x, D);

      int end = a->stop_layer >= 0 ? a->stop_layer + 1 : d.n_layers;
      for (int l = a->resume_layer + 1; l < end; l++)
        {
          const Layer &L = m->layers[l];
          copy_hooks (m, a, CS_CUDA_HOOK_PRE, l, x);
          if (d.gpt2)
            {
              norm (m, x, h, T, L.attn_norm_w, L.attn_norm_b);
              linear (m, h, T, D, L.qkv_w, true, L.qkv_b, qkv, 3 * D, fast);
              attention (m, a, l, qkv, 3 * D, qkv + D, 3 * D, qkv + 2 * D, 3 * D, att, D, fast);
              linear (m, att, T, D, L.o_w, true, L.o_b, tmp, D, fast);
              k_add<<<grid_for ((size_t) T * D), 256, 0, m->stream>>> (x, tmp, (size_t) T * D);
              norm (m, x, h, T, L.mlp_norm_w, L.mlp_norm_b);
              linear (m, h, T, D, L.fc_w, true, L.fc_b, mlp, I, fast);
              k_activate<<<grid_for ((size_t) T * I), 256, 0, m->stream>>> (mlp, (size_t) T * I, d.activation);
              linear (m, mlp, T, I, L.proj_w, true, L.proj_b, tmp, D, fast);
              k_add<<<grid_for ((size_t) T * D), 256, 0, m->stream>>> (x, tmp, (size_t) T * D);
            }
          else
            {
              float *q = qkv, *k = qkv + (size_t) T * qd, *v = k + (size_t) T * kvd;
              float *gate = mlp, *up = mlp + (size_t) T * I;
              DevTensor none;
              norm (m, x, h, T, L.attn_norm_w, none);
              linear (m, h, T, D, L.q_w, false, L.q_b, q, qd, fast);
              linear (m, h, T, D, L.k_w, false, L.k_b, k, kvd, fast);
              linear (m, h, T, D, L.v_w, false, L.v_b, v, kvd, fast);
              k_rope<<<grid_for ((size_t) T * d.n_heads * d.head_dim / 2), 256, 0, m->stream>>> (
                q, pos, m->inv_freq, T, d.n_heads, d.head_dim);
              k_rope<<<grid_for ((size_t) T * d.n_kv_heads * d.head_dim / 2), 256, 0, m->stream>>> (
                k, pos, m->inv_freq, T, d.n_kv_heads, d.head_dim);
              attention (m, a, l, q, qd, k, kvd, v, kvd, att, qd, fast);
              linear (m, att, T, qd, L.o_w, false, L.o_b, tmp, D, fast);
              if (L.post_attn_norm_w)
                norm (m, tmp, tmp, T, L.post_attn_norm_w, none);
              k_add<<<grid_for ((size_t) T * D), 256, 0, m->stream>>> (x, tmp, (size_t) T * D);
              norm (m, x, h, T, L.mlp_norm_w, none);
              linear (m, h, T, D, L.gate_w, false, L.gate_b, gate, I, fast);
              linear (m, h, T, D, L.up_w, false, L.up_b, up, I, fast);
              k_gated<<<grid_for ((size_t) T * I), 256, 0, m->stream>>> (gate, up, (size_t) T * I, d.activation);
              linear (m, gate, T, I, L.down_w, false, L.down_b, tmp, D, fast);
              if (L.post_mlp_norm_w)
                norm (m, tmp, tmp, T, L.post_mlp_norm_w, none);
              k_add<<<grid_for ((size_t) T * D), 256, 0, m->stream>>> (x, tmp, (size_t) T * D);
            }
          if (a->steer_layer == l)
            k_steer<<<grid_for ((size_t) T * D), 256, 0, m->stream>>> (x, m->steer.f (), pos, T, D,
                                                                       a->steer_multiplier, a->steer_from);
          copy_hooks (m, a, CS_CUDA_HOOK_POST, l, x);
        }

      if (a->stop_layer >= 0)
        {
          CU (cudaGetLastError ());
          CU (cudaStreamSynchronize (m->stream));
          return 0;
        }
      norm (m, x, h, T, m->final_norm_w, m->final_norm_b);
      copy_hooks (m, a, CS_CUDA_HOOK_FINAL, d.n_layers, h);
      if (a->logits_mode != CS_CUDA_LOGITS_NONE)
        {
          int rows = a->logits_mode == CS_CUDA_LOGITS_ALL ? T : a->batch;
          const float *src = h;
          DevTensor none;
          if (a->logits_mode == CS_CUDA_LOGITS_LAST)
            {
              k_gather_rows<<<a->batch, 256, 0, m->stream>>> (h, tmp, last, D);
              src = tmp;
            }
          m->logits.ensure ((size_t) rows * d.vocab * 4);
          linear (m, src, rows, D, m->unembedding, false, none, m->logits.f (), d.vocab, fast);
          if (d.final_softcap > 0)
            k_softcap<<<grid_for ((size_t) rows * d.vocab), 256, 0, m->stream>>> (m->logits.f (),
                                                                                   (size_t) rows * d.vocab,
                                                                                   d.final_softcap);
          CU (cudaMemcpyAsync (a->logits_out, m->logits.p, (size_t) rows * d.vocab * 4, cudaMemcpyDeviceToHost,
                               m->stream));
        }
      CU (cudaGetLastError ());
      CU (cudaStreamSynchronize (m->stream));
      return 0;
    }
  catch (Fail &)
    {
      cudaGetLastError ();
      return -1;
    }
}

void
model_free (CsCudaModel *m)
{
  if (!m)
    return;
  cudaDeviceSynchronize ();
  for (void *p : m->allocations)
    cudaFree (p);
  for (Buf *b : { &m->x, &m->h, &m->qkv, &m->att, &m->mlp, &m->tmp, &m->scores, &m->convert, &m->half_act,
                  &m->logits, &m->ints, &m->steer, &m->rows, &m->qkv16 })
    b->release ();
  if (m->inv_freq)
    cudaFree (m->inv_freq);
  if (m->blas)
    cublasDestroy (m->blas);
  if (m->stream)
    cudaStreamDestroy (m->stream);
  delete m;
}

CsCudaModel *
model_new (const CsCudaModelDesc *desc, char *err, size_t err_len)
{
  g_err = err;
  g_err_len = err_len;
  CsCudaModel *m = new CsCudaModel ();
  try
    {
      size_t free_b = 0, total_b = 0, need = desc_bytes (desc);
      CU (cudaMemGetInfo (&free_b, &total_b));
      // Weights plus a margin for activations of a modest batch.
      if (need + ((size_t) 512 << 20) > free_b)
        {
          set_err (err, err_len, "the model needs %.2f GiB on the GPU but only %.2f GiB of %.2f GiB are free",
                   need / 1073741824.0, free_b / 1073741824.0, total_b / 1073741824.0);
          throw Fail ();
        }
      m->desc = *desc;
      m->layer_sliding.assign (desc->layer_sliding, desc->layer_sliding + desc->n_layers);
      m->layer_scale.assign (desc->layer_attn_scale, desc->layer_attn_scale + desc->n_layers);
      m->desc.layer_sliding = nullptr;
      m->desc.layer_attn_scale = nullptr;
      m->desc.layers = nullptr;
      m->desc.rope_inv_freq = nullptr;
      CU (cudaStreamCreateWithFlags (&m->stream, cudaStreamNonBlocking));
      CB (cublasCreate (&m->blas));
      CB (cublasSetStream (m->blas, m->stream));
      m->embedding = upload (m, desc->embedding, false);
      m->positions = upload (m, desc->positions, false);
      m->final_norm_w = upload (m, desc->final_norm_w, true);
      m->final_norm_b = upload (m, desc->final_norm_b, true);
      m->unembedding = desc->unembedding.data == desc->embedding.data ? m->embedding
                                                                     : upload (m, desc->unembedding, false);
      m->layers.resize (desc->n_layers);
      for (int l = 0; l < desc->n_layers; l++)
        {
          const CsCudaLayerDesc &s = desc->layers[l];
          Layer &L = m->layers[l];
          L.attn_norm_w = upload (m, s.attn_norm_w, true);
          L.attn_norm_b = upload (m, s.attn_norm_b, true);
          L.qkv_w = upload (m, s.qkv_w, false);
          L.qkv_b = upload (m, s.qkv_b, true);
          L.q_w = upload (m, s.q_w, false);
          L.q_b = upload (m, s.q_b, true);
          L.k_w = upload (m, s.k_w, false);
          L.k_b = upload (m, s.k_b, true);
          L.v_w = upload (m, s.v_w, false);
          L.v_b = upload (m, s.v_b, true);
          L.o_w = upload (m, s.o_w, false);
          L.o_b = upload (m, s.o_b, true);
          L.post_attn_norm_w = upload (m, s.post_attn_norm_w, true);
          L.mlp_norm_w = upload (m, s.mlp_norm_w, true);
          L.mlp_norm_b = upload (m, s.mlp_norm_b, true);
          L.post_mlp_norm_w = upload (m, s.post_mlp_norm_w, true);
          L.fc_w = upload (m, s.fc_w, false);
          L.fc_b = upload (m, s.fc_b, true);
          L.proj_w = upload (m, s.proj_w, false);
          L.proj_b = upload (m, s.proj_b, true);
          L.gate_w = upload (m, s.gate_w, false);
          L.gate_b = upload (m, s.gate_b, true);
          L.up_w = upload (m, s.up_w, false);
          L.up_b = upload (m, s.up_b, true);
          L.down_w = upload (m, s.down_w, false);
          L.down_b = upload (m, s.down_b, true);
        }
      if (desc->rope_inv_freq)
        {
          CU (cudaMalloc (&m->inv_freq, (size_t) desc->head_dim / 2 * 4));
          CU (cudaMemcpy (m->inv_freq, desc->rope_inv_freq, (size_t) desc->head_dim / 2 * 4, cudaMemcpyHostToDevice));
        }
      return m;
    }
  catch (Fail &)
    {
      cudaGetLastError ();
      model_free (m);
      return nullptr;
    }
}

size_t
model_bytes (CsCudaModel *m)
{
  return m ? m->weight_bytes : 0;
}

int
init (char *name, size_t name_len, size_t *total, size_t *free_b, char *err, size_t err_len)
{
  int n = 0;
  cudaError_t e = cudaGetDeviceCount (&n);
  if (e != cudaSuccess)
    {
      set_err (err, err_len, "no usable NVIDIA driver (%s)", cudaGetErrorString (e));
      return -1;
    }
  if (n == 0)
    {
      set_err (err, err_len, "no CUDA device found");
      return -1;
    }
  cudaDeviceProp prop;
  e = cudaGetDeviceProperties (&prop, 0);
  if (e == cudaSuccess)
    e = cudaMemGetInfo (free_b, total);
  if (e != cudaSuccess)
    {
      set_err (err, err_len, "the CUDA device does not answer (%s)", cudaGetErrorString (e));
      return -1;
    }
  snprintf (name, name_len, "%s", prop.name);
  return 0;
}

// CS_CUDA_PROFILE=1 prints where the whitening's time goes.
struct PhaseClock
{
  bool on = getenv ("CS_CUDA_PROFILE") != nullptr;
  std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now ();
  void mark (const char *what)
  {
    if (!on)
      return;
    cudaDeviceSynchronize ();
    auto now = std::chrono::steady_clock::now ();
    fprintf (stderr, "  whiten %-28s %8.1f ms\n", what, std::chrono::duration<double, std::milli> (now - t).count ());
    t = now;
  }
};

int
whiten (const CsCudaTensor *u, int64_t rows, int cols, double floor_rel, float *g_out, double *mean_out,
        double *eig_out, double *inv_sqrt_out, int *n_floored, char *err, size_t err_len)
{
  g_err = err;
  g_err_len = err_len;
  void *du = nullptr;
  double *C = nullptr, *G = nullptr, *cov = nullptr, *sums = nullptr, *w = nullptr, *work = nullptr, *W = nullptr,
         *scale = nullptr;
  float *gf = nullptr;
  int *info = nullptr;
  cublasHandle_t hb = nullptr;
  cusolverDnHandle_t hs = nullptr;
  int rc = -1;
  try
    {
      size_t n = (size_t) rows * cols, raw = n * dtype_size (u->dtype);
      size_t free_b = 0, total_b = 0;
      CU (cudaMemGetInfo (&free_b, &total_b));
      size_t need = raw + n * 8 * 2 + n * 4 + (size_t) cols * cols * 8 * 3;
      if (need > free_b)
        {
          set_err (err, err_len, "whitening %lld × %d needs %.2f GiB on the GPU but %.2f GiB are free",
                   (long long) rows, cols, need / 1073741824.0, free_b / 1073741824.0);
          throw Fail ();
        }
      PhaseClock clock;
      CB (cublasCreate (&hb));
      CS (cusolverDnCreate (&hs));
      clock.mark ("handles");
      CU (cudaMalloc (&du, raw));
      CU (cudaMemcpy (du, u->data, raw, cudaMemcpyHostToDevice));
      clock.mark ("upload");
      CU (cudaMalloc (&sums, (size_t) cols * 8));
      CU (cudaMemset (sums, 0, (size_t) cols * 8));
      dim3 grid ((cols + 255) / 256, (unsigned) ((rows + 1023) / 1024));
      k_column_sums<<<grid, 256>>> (du, u->dtype, rows, cols, sums);
      std::vector<double> mean (cols);
      CU (cudaMemcpy (mean.data (), sums, (size_t) cols * 8, cudaMemcpyDeviceToHost));
      for (int j = 0; j < cols; j++)
        mean[j] /= (double) rows;
      CU (cudaMemcpy (sums, mean.data (), (size_t) cols * 8, cudaMemcpyHostToDevice));
      CU (cudaMalloc (&C, n * 8));
      k_center<<<grid_for (n), 256>>> (du, u->dtype, sums, C, rows, cols);
      cudaFree (du);
      du = nullptr;
      clock.mark ("mean, centre (float64)");

      // Cov = Cᵀ C / rows: C row-major [rows, cols] is column-major Cᵀ [cols, rows].
      CU (cudaMalloc (&cov, (size_t) cols * cols * 8));
      const double inv_rows = 1.0 / (double) rows, zero = 0.0, one = 1.0;
      CB (cublasDsyrk (hb, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, cols, (int) rows, &inv_rows, C, cols, &zero, cov,
                       cols));
      clock.mark ("covariance (DSYRK)");
      CU (cudaMalloc (&w, (size_t) cols * 8));
      CU (cudaMalloc (&info, sizeof (int)));
      int lwork = 0;
      CS (cusolverDnDsyevd_bufferSize (hs, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, cols, cov, cols, w,
                                       &lwork));
      CU (cudaMalloc (&work, (size_t) lwork * 8));
      CS (cusolverDnDsyevd (hs, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, cols, cov, cols, w, work, lwork,
                            info));
      int h_info = 0;
      CU (cudaMemcpy (&h_info, info, sizeof (int), cudaMemcpyDeviceToHost));
      if (h_info != 0)
        {
          set_err (err, err_len, "the eigendecomposition of the covariance did not converge (info %d)", h_info);
          throw Fail ();
        }
      clock.mark ("eigendecomposition (DSYEVD)");
      std::vector<double> eig (cols), s (cols);
      CU (cudaMemcpy (eig.data (), w, (size_t) cols * 8, cudaMemcpyDeviceToHost));
      double top = std::max (eig[cols - 1], 0.0), floor_v = top * floor_rel;
      int floored = 0;
      for (int j = 0; j < cols; j++)
        {
          double lam = eig[j];
          if (lam < floor_v || !(lam > 0))
            {
              lam = floor_v > 0 ? floor_v : 1e-300;
              floored++;
            }
          s[j] = 1.0 / std::sqrt (std::sqrt (lam));   // λ^(-1/4): W = (Q s)(Q s)ᵀ
        }
      CU (cudaMalloc (&scale, (size_t) cols * 8));
      CU (cudaMemcpy (scale, s.data (), (size_t) cols * 8, cudaMemcpyHostToDevice));
      k_scale_columns<<<grid_for ((size_t) cols * cols), 256>>> (cov, scale, cols);
      CU (cudaMalloc (&W, (size_t) cols * cols * 8));
      CB (cublasDgemm (hb, CUBLAS_OP_N, CUBLAS_OP_T, cols, cols, cols, &one, cov, cols, cov, cols, &zero, W, cols));
      // g = C · W: column-major gᵀ [cols, rows] = W · Cᵀ (W symmetric).
      clock.mark ("Cov^-1/2");
      CU (cudaMalloc (&G, n * 8));
      CB (cublasDgemm (hb, CUBLAS_OP_N, CUBLAS_OP_N, cols, (int) rows, cols, &one, W, cols, C, cols, &zero, G, cols));
      clock.mark ("g = C Cov^-1/2 (DGEMM)");
      cudaFree (C);
      C = nullptr;
      CU (cudaMalloc (&gf, n * 4));
      k_d2f<<<grid_for (n), 256>>> (G, gf, n);
      clock.mark ("to float32");
      CU (cudaMemcpy (g_out, gf, n * 4, cudaMemcpyDeviceToHost));
      clock.mark ("download");
      if (mean_out)
        memcpy (mean_out, mean.data (), (size_t) cols * 8);
      if (eig_out)
        memcpy (eig_out, eig.data (), (size_t) cols * 8);
      if (inv_sqrt_out)
        CU (cudaMemcpy (inv_sqrt_out, W, (size_t) cols * cols * 8, cudaMemcpyDeviceToHost));
      if (n_floored)
        *n_floored = floored;
      CU (cudaGetLastError ());
      rc = 0;
    }
  catch (Fail &)
    {
      cudaGetLastError ();
    }
  for (void *p : { (void *) du, (void *) C, (void *) G, (void *) cov, (void *) sums, (void *) w, (void *) work,
                   (void *) W, (void *) scale, (void *) gf, (void *) info })
    if (p)
      cudaFree (p);
  if (hb)
    cublasDestroy (hb);
  if (hs)
    cusolverDnDestroy (hs);
  return rc;
}

const CsCudaVTable vtable = {
  CS_CUDA_ABI, init, model_new, model_free, model_bytes, forward, whiten,
  cs_cuda_sae_new, cs_cuda_sae_upload, cs_cuda_sae_step, cs_cuda_sae_download, cs_cuda_sae_free,
};

} // namespace

extern "C" __attribute__ ((visibility ("default"))) const CsCudaVTable *
cs_cuda_get_vtable (void)
{
  return &vtable;
}
