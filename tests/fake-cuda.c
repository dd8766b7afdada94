/* A stand-in for the CUDA module that loads, reports a device and fails
 * where it is told to: the engine's paths for a GPU that fails in the middle
 * of work (out of memory for a batch, a driver error) run on machines
 * without one. FAKE_CUDA_FAIL names what fails: "forward", "sae_new",
 * "sae_step", "whiten" (comma-separated; all of them when unset). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "cuda/cs-cuda-api.h"

struct CsCudaModel { int unused; };
struct CsCudaSae { int unused; };

static int
fails (const char *what)
{
  const char *list = getenv ("FAKE_CUDA_FAIL");
  return !list || strstr (list, what) != NULL;
}

static int
fake_init (char *name, size_t name_len, size_t *total, size_t *free_b, char *err, size_t err_len)
{
  snprintf (name, name_len, "Fake GPU (test)");
  *total = *free_b = (size_t) 1 << 40;
  return 0;
}

static CsCudaModel *
fake_model_new (const CsCudaModelDesc *desc, char *err, size_t err_len)
{
  return calloc (1, sizeof (CsCudaModel));
}

static void
fake_model_free (CsCudaModel *m)
{
  free (m);
}

static size_t
fake_model_bytes (CsCudaModel *m)
{
  return 0;
}

static int
fake_forward (CsCudaModel *m, const CsCudaForwardArgs *a, char *err, size_t err_len)
{
  snprintf (err, err_len, "injected failure (forward)");
  return -1;
}

static int
fake_whiten (const CsCudaTensor *u, int64_t rows, int cols, double floor_rel, float *g, double *mean, double *eig,
             double *inv_sqrt, int *n_floored, char *err, size_t err_len)
{
  snprintf (err, err_len, "injected failure (whiten)");
  return -1;
}

static CsCudaSae *
fake_sae_new (int d_in, int d_sae, int max_rows, int max_batch, int apply, const float *W_enc, const float *W_dec,
              const float *b_enc, const float *b_dec, char *err, size_t err_len)
{
  if (fails ("sae_new"))
    {
      snprintf (err, err_len, "injected failure (sae_new)");
      return NULL;
    }
  return calloc (1, sizeof (CsCudaSae));
}

static int
fake_sae_upload (CsCudaSae *s, const float *rows, int n, char *err, size_t err_len)
{
  return 0;
}

static int
fake_sae_step (CsCudaSae *s, CsCudaSaeStep *st, char *err, size_t err_len)
{
  snprintf (err, err_len, "injected failure (sae_step)");
  return -1;
}

static int
fake_sae_download (CsCudaSae *s, float *W_enc, float *W_dec, float *b_enc, float *b_dec, char *err, size_t err_len)
{
  snprintf (err, err_len, "injected failure (sae_download)");
  return -1;
}

static void
fake_sae_free (CsCudaSae *s)
{
  free (s);
}

static const CsCudaVTable table = {
  CS_CUDA_ABI, fake_init, fake_model_new, fake_model_free, fake_model_bytes, fake_forward, fake_whiten,
  fake_sae_new, fake_sae_upload, fake_sae_step, fake_sae_download, fake_sae_free,
};

__attribute__ ((visibility ("default"))) const CsCudaVTable *
cs_cuda_get_vtable (void)
{
  return &table;
}
