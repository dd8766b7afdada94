/* A stand-in for the CUDA module that loads, reports a device and fails
 * where it is told to: the engine's paths for a GPU that fails in the middle
 * of work (out of memory for a batch, a driver error) run on machines
 * without one. FAKE_CUDA_FAIL names what fails: "forward", "sae_new",
 * "sae_step", "whiten" (comma-separated; all of them when unset).
 *
 * With FAKE_CUDA_ECHO set the forward pass succeeds and writes values that
 * say where they came from (fake_value), and a capture of the stream it
 * resumes from returns that stream, as the real module does: the engine's
 * packing of ragged batches into the module's [T, …] rows and back is then
 * checked without a GPU. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "cuda/cs-cuda-api.h"

struct CsCudaModel { int hidden, vocab; };
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
  CsCudaModel *m = calloc (1, sizeof (CsCudaModel));
  m->hidden = desc->hidden;
  m->vocab = desc->vocab;
  return m;
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

/* What the echo forward pass writes for packed row t, column j; kind 3 is
 * the logits. */
static float
fake_value (const CsCudaForwardArgs *a, int t, int kind, int layer, int j)
{
  return (float) (a->ids[t] + 0.25 * a->positions[t] + 1000 * kind + 100 * layer + 0.001 * j);
}

static int
fake_forward (CsCudaModel *m, const CsCudaForwardArgs *a, char *err, size_t err_len)
{
  if (!getenv ("FAKE_CUDA_ECHO"))
    {
      snprintf (err, err_len, "injected failure (forward)");
      return -1;
    }
  for (int i = 0; i < a->n_hooks; i++)
    for (int t = 0; t < a->T; t++)
      for (int j = 0; j < m->hidden; j++)
        a->hook_out[i][(size_t) t * m->hidden + j] =
          a->resume_from && a->hook_kind[i] == CS_CUDA_HOOK_POST && a->hook_layer[i] == a->resume_layer
            ? a->resume_from[(size_t) t * m->hidden + j]
            : fake_value (a, t, a->hook_kind[i], a->hook_layer[i], j);
  if (a->logits_mode == CS_CUDA_LOGITS_ALL)
    for (int t = 0; t < a->T; t++)
      for (int v = 0; v < m->vocab; v++)
        a->logits_out[(size_t) t * m->vocab + v] = fake_value (a, t, 3, 0, v);
  else if (a->logits_mode == CS_CUDA_LOGITS_LAST)
    for (int b = 0; b < a->batch; b++)
      for (int v = 0; v < m->vocab; v++)
        a->logits_out[(size_t) b * m->vocab + v] = fake_value (a, a->offsets[b] + a->lengths[b] - 1, 3, 0, v);
  return 0;
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
