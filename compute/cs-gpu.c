#define G_LOG_DOMAIN "cs-gpu"

#include "cs-gpu.h"
#include "cs-build-config.h"
#include "cs-error.h"
#include "cuda/cs-cuda-api.h"

#include <gmodule.h>
#include <math.h>
#include <stdio.h>

struct _CsGpuModel
{
  const CsCudaVTable *vt;
  CsCudaModel        *handle;
};

static const CsCudaVTable *vtable;
static char *unavailable_reason;
static char device_name[256];

static char *
find_module (void)
{
  const char *env = g_getenv ("CONCEPTSCOPE_CUDA_MODULE");
  const char *candidates[] = { CS_MODULEDIR "/libcs-cuda.so", CS_BUILD_MODULEDIR "/libcs-cuda.so", NULL };

  if (env && *env)
    return g_strdup (env);
  for (guint i = 0; candidates[i]; i++)
    if (g_file_test (candidates[i], G_FILE_TEST_EXISTS))
      return g_strdup (candidates[i]);
  return NULL;
}

static gpointer
load_once (gpointer data)
{
  g_autofree char *path = find_module ();
  GModule *module;
  CsCudaGetVTable get = NULL;
  char err[512] = "";
  size_t total = 0, free_b = 0;
  const CsCudaVTable *vt;

  if (g_strcmp0 (g_getenv ("CONCEPTSCOPE_DEVICE"), "cpu") == 0)
    {
      unavailable_reason = g_strdup ("CONCEPTSCOPE_DEVICE=cpu");
      return NULL;
    }
  if (!path)
    {
      unavailable_reason = g_strdup ("this build has no CUDA module (built without nvcc and cuBLAS)");
      return NULL;
    }
  /* Without the NVIDIA kernel driver (or WSL's GPU device) there is no GPU
   * to ask for: say so plainly rather than through the CUDA runtime's
   * complaint about driver versions, and skip loading it (0.4 s). A module
   * named by CONCEPTSCOPE_CUDA_MODULE is always tried (tests use a stand-in). */
  if (!g_getenv ("CONCEPTSCOPE_CUDA_MODULE") && !g_file_test ("/proc/driver/nvidia/version", G_FILE_TEST_EXISTS) &&
      !g_file_test ("/dev/nvidia0", G_FILE_TEST_EXISTS) && !g_file_test ("/dev/dxg", G_FILE_TEST_EXISTS))
    {
      unavailable_reason = g_strdup ("no NVIDIA GPU on this machine");
      return NULL;
    }
  module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (!module)
    {
      /* Usually libcudart/libcublas or the driver's libcuda is missing. */
      unavailable_reason = g_strdup_printf ("the CUDA module does not load (%s)", g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (module, "cs_cuda_get_vtable", (gpointer *) &get) || !get)
    {
      unavailable_reason = g_strdup_printf ("%s is not a ConceptScope CUDA module", path);
      g_module_close (module);
      return NULL;
    }
  vt = get ();
  if (!vt || vt->abi != CS_CUDA_ABI)
    {
      unavailable_reason = g_strdup_printf ("%s was built for another version of ConceptScope", path);
      g_module_close (module);
      return NULL;
    }
  if (vt->init (device_name, sizeof device_name, &total, &free_b, err, sizeof err) != 0)
    {
      unavailable_reason = g_strdup (err);
      g_module_close (module);
      return NULL;
    }
  g_module_make_resident (module);
  vtable = vt;
  return (gpointer) vt;
}

const CsCudaVTable *
cs_gpu_get (const char **reason)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, load_once, NULL);
  if (reason)
    *reason = unavailable_reason;
  return vtable;
}

gboolean
cs_gpu_available (void)
{
  return cs_gpu_get (NULL) != NULL;
}

const char *
cs_gpu_device_name (void)
{
  return cs_gpu_get (NULL) ? device_name : NULL;
}

gboolean
cs_gpu_should_use (CsDevice device, GError **error)
{
  static gsize reported = 0;
  const char *reason = NULL;

  if (device == CS_DEVICE_CPU)
    return FALSE;
  if (cs_gpu_get (&reason))
    return TRUE;
  if (device == CS_DEVICE_CUDA)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "no usable GPU: %s", reason);
      return FALSE;
    }
  if (g_once_init_enter (&reported))
    {
      if (g_getenv ("CONCEPTSCOPE_QUIET_FALLBACK") == NULL)
        fprintf (stderr, "ConceptScope: computing on the CPU (%s)\n", reason);
      g_once_init_leave (&reported, 1);
    }
  return FALSE;
}

static CsCudaTensor
tensor_desc (const CsTensor *t)
{
  CsCudaTensor d = { NULL, CS_CUDA_F32, 0 };
  if (!t)
    return d;
  d.data = t->data;
  d.dtype = t->dtype == CS_DTYPE_F16 ? CS_CUDA_F16 : t->dtype == CS_DTYPE_BF16 ? CS_CUDA_BF16 : CS_CUDA_F32;
  d.numel = cs_tensor_numel (t);
  return d;
}

static void
gpu_model_free (gpointer p)
{
  CsGpuModel *gm = p;
  if (gm->handle)
    gm->vt->model_free (gm->handle);
  g_free (gm);
}

CsGpuModel *
cs_gpu_model_for (CsModel *model, GError **error)
{
  static GMutex lock;
  const CsCudaVTable *vt = cs_gpu_get (NULL);
  const CsModelConfig *cfg = cs_model_get_config (model);
  CsGpuModel *gm;
  CsCudaModelDesc desc = { 0 };
  g_autofree CsCudaLayerDesc *layers = NULL;
  g_autofree float *inv_freq = NULL;
  g_autofree int *sliding = NULL;
  g_autofree float *scales = NULL;
  char err[512] = "";

  g_return_val_if_fail (vt != NULL, NULL);
  g_mutex_lock (&lock);
  gm = g_object_get_data (G_OBJECT (model), "cs-gpu-model");
  if (gm)
    {
      g_mutex_unlock (&lock);
      return gm;
    }

  layers = g_new0 (CsCudaLayerDesc, cfg->n_layers);
  sliding = g_new0 (int, cfg->n_layers);
  scales = g_new0 (float, cfg->n_layers);
  for (int l = 0; l < cfg->n_layers; l++)
    {
      const CsLayerWeights *L = cs_model_get_layer (model, l);
      CsCudaLayerDesc *D = &layers[l];
      scales[l] = (float) cs_model_config_attn_scale (cfg, l);
      sliding[l] = cfg->layer_sliding[l];
#define T(f) D->f = tensor_desc (L->f)
      T (attn_norm_w); T (attn_norm_b); T (qkv_w); T (qkv_b); T (q_w); T (q_b); T (k_w); T (k_b);
      T (v_w); T (v_b); T (o_w); T (o_b); T (post_attn_norm_w); T (mlp_norm_w); T (mlp_norm_b);
      T (post_mlp_norm_w); T (fc_w); T (fc_b); T (proj_w); T (proj_b); T (gate_w); T (gate_b);
      T (up_w); T (up_b); T (down_w); T (down_b);
#undef T
    }
  if (cfg->arch != CS_ARCH_GPT2)
    {
      g_autofree double *f = cs_model_config_rope_inv_freq (cfg);
      inv_freq = g_new (float, cfg->head_dim / 2);
      for (int i = 0; i < cfg->head_dim / 2; i++)
        inv_freq[i] = (float) f[i];
    }
  desc.gpt2 = cfg->arch == CS_ARCH_GPT2;
  desc.gemma_norm = cfg->arch == CS_ARCH_GEMMA || cfg->arch == CS_ARCH_GEMMA2;
  desc.n_layers = cfg->n_layers;
  desc.hidden = cfg->hidden;
  desc.n_heads = cfg->n_heads;
  desc.n_kv_heads = cfg->n_kv_heads;
  desc.head_dim = cfg->head_dim;
  desc.intermediate = cfg->intermediate;
  desc.vocab = cfg->vocab;
  desc.norm_eps = cfg->norm_eps;
  desc.activation = (int) cfg->activation;
  desc.rope_inv_freq = inv_freq;
  desc.attn_softcap = (float) cfg->attn_softcap;
  desc.final_softcap = (float) cfg->final_softcap;
  desc.sliding_window = cfg->sliding_window;
  desc.layer_sliding = sliding;
  desc.layer_attn_scale = scales;
  desc.embed_scale = cs_model_get_embed_scale (model);
  desc.embedding = tensor_desc (cs_model_get_embedding (model));
  desc.positions = tensor_desc (cs_model_get_positions (model));
  desc.final_norm_w = tensor_desc (cs_model_get_final_norm_w (model));
  desc.final_norm_b = tensor_desc (cs_model_get_final_norm_b (model));
  desc.unembedding = tensor_desc (cs_model_get_unembedding (model));
  desc.layers = layers;

  gm = g_new0 (CsGpuModel, 1);
  gm->vt = vt;
  gm->handle = vt->model_new (&desc, err, sizeof err);
  if (!gm->handle)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "%s: %s", cs_model_get_name (model), err);
      g_free (gm);
      g_mutex_unlock (&lock);
      return NULL;
    }
  g_object_set_data_full (G_OBJECT (model), "cs-gpu-model", gm, gpu_model_free);
  g_mutex_unlock (&lock);
  return gm;
}

CsCudaModel *
cs_gpu_model_handle (CsGpuModel *gm)
{
  return gm->handle;
}
