#pragma once

// What the CUDA module's source files share: error reporting from a failed
// CUDA, cuBLAS or cuSOLVER call into the caller's buffer (the call throws
// Fail, the entry point catches it and returns -1), and launch sizes.

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include "cs-cuda-api.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

inline void
set_err (char *err, size_t len, const char *fmt, ...)
{
  if (!err || !len)
    return;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err, len, fmt, ap);
  va_end (ap);
}

struct Fail
{
};

#define CU(call)                                                                 \
  do {                                                                           \
    cudaError_t e_ = (call);                                                     \
    if (e_ != cudaSuccess)                                                       \
      {                                                                          \
        set_err (g_err, g_err_len, "%s: %s", #call, cudaGetErrorString (e_));    \
        throw Fail ();                                                           \
      }                                                                          \
  } while (0)

#define CB(call)                                                                 \
  do {                                                                           \
    cublasStatus_t s_ = (call);                                                  \
    if (s_ != CUBLAS_STATUS_SUCCESS)                                             \
      {                                                                          \
        set_err (g_err, g_err_len, "%s: cuBLAS status %d", #call, (int) s_);     \
        throw Fail ();                                                           \
      }                                                                          \
  } while (0)

#define CS(call)                                                                 \
  do {                                                                           \
    cusolverStatus_t s_ = (call);                                                \
    if (s_ != CUSOLVER_STATUS_SUCCESS)                                           \
      {                                                                          \
        set_err (g_err, g_err_len, "%s: cuSOLVER status %d", #call, (int) s_);   \
        throw Fail ();                                                           \
      }                                                                          \
  } while (0)

// The error buffer of the call in progress on this thread, for the macros.
inline thread_local char *g_err;
inline thread_local size_t g_err_len;

inline int
grid_for (size_t n)
{
  return (int) std::min<size_t> ((n + 255) / 256, 65535 * 4);
}

// SAE training (cs-cuda-sae.cu), entries of the module's table.
CsCudaSae *cs_cuda_sae_new (int d_in, int d_sae, int max_rows, int max_batch, int apply_b_dec_to_input,
                            const float *W_enc, const float *W_dec, const float *b_enc, const float *b_dec,
                            char *err, size_t err_len);
int  cs_cuda_sae_upload   (CsCudaSae *s, const float *rows, int n, char *err, size_t err_len);
int  cs_cuda_sae_step     (CsCudaSae *s, CsCudaSaeStep *step, char *err, size_t err_len);
int  cs_cuda_sae_download (CsCudaSae *s, float *W_enc, float *W_dec, float *b_enc, float *b_dec, char *err,
                           size_t err_len);
void cs_cuda_sae_free     (CsCudaSae *s);
