#define G_LOG_DOMAIN "cs-sae"

#include "cs-sae.h"
#include "cs-backend.h"
#include "cs-error.h"
#include "cs-json.h"
#include "cs-npz.h"
#include "cs-safetensors.h"

#include <cblas.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

void
cs_sae_free (CsSae *s)
{
  if (!s)
    return;
  g_free (s->hook_name);
  g_free (s->W_enc);
  g_free (s->W_dec);
  g_free (s->b_enc);
  g_free (s->b_dec);
  g_free (s->threshold);
  g_free (s);
}

static float *
read_tensor (CsSafetensors *st, const char *path, const char *name, gint64 d0, gint64 d1, GError **error)
{
  const CsTensor *t = cs_safetensors_lookup (st, name);
  float *out;
  if (!t)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s: the SAE weights lack '%s'", path, name);
      return NULL;
    }
  if (!cs_dtype_is_float (t->dtype) || (d1 < 0 ? (t->ndim != 1 || t->shape[0] != d0)
                                                : (t->ndim != 2 || t->shape[0] != d0 || t->shape[1] != d1)))
    {
      g_autofree char *desc = cs_tensor_describe (t);
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "%s: '%s' is %s, which does not fit d_in and d_sae of cfg.json",
                   path, name, desc);
      return NULL;
    }
  out = g_try_new (float, cs_tensor_numel (t));
  if (!out)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "%s: not enough memory for '%s'", path, name);
      return NULL;
    }
  cs_tensor_read_f32 (t, 0, (gsize) cs_tensor_numel (t), out);
  return out;
}

static float *
npz_tensor (CsNpz *z, const char *path, const char *name, gint64 d0, gint64 d1, GError **error)
{
  int rank = 0;
  gint64 dims[4];
  float *out = cs_npz_read_f32 (z, name, &rank, dims, error);
  if (!out)
    return NULL;
  if (d1 < 0 ? (rank != 1 || dims[0] != d0) : (rank != 2 || dims[0] != d0 || dims[1] != d1))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "%s: '%s' has the wrong shape for W_enc's d_in × d_sae", path, name);
      g_free (out);
      return NULL;
    }
  return out;
}

/* Weights with NaN or infinities make every feature and the FVU NaN, with
 * no other sign: refused by name. */
static gboolean
check_finite (const CsSae *s, const char *path, GError **error)
{
  const struct { const char *name; const float *v; gsize n; } t[] = {
    { "W_enc", s->W_enc, (gsize) s->d_in * s->d_sae }, { "W_dec", s->W_dec, (gsize) s->d_sae * s->d_in },
    { "b_enc", s->b_enc, (gsize) s->d_sae }, { "b_dec", s->b_dec, (gsize) s->d_in },
    { "threshold", s->threshold, s->threshold ? (gsize) s->d_sae : 0 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (t); k++)
    for (gsize i = 0; t[k].v && i < t[k].n; i++)
      if (!isfinite (t[k].v[i]))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' holds %s (entry %" G_GSIZE_FORMAT ")", path,
                       t[k].name, isnan (t[k].v[i]) ? "NaN" : "an infinite value", i);
          return FALSE;
        }
  return TRUE;
}

/* Gemma Scope: params.npz with W_enc [d_in, d_sae], W_dec, b_enc, b_dec,
 * threshold; JumpReLU, no b_dec subtracted from the input. */
static CsSae *
load_npz (const char *path, GError **error)
{
  g_autoptr(CsNpz) z = cs_npz_open (path, error);
  g_autoptr(CsSae) s = NULL;
  g_autofree float *probe = NULL;
  int rank = 0;
  gint64 dims[4];
  const char *layer;

  if (!z)
    return NULL;
  probe = cs_npz_read_f32 (z, "W_enc", &rank, dims, error);
  if (!probe)
    return NULL;
  if (rank != 2 || dims[0] <= 0 || dims[1] <= 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: W_enc must be a matrix [d_in, d_sae]", path);
      return NULL;
    }
  s = g_new0 (CsSae, 1);
  s->d_in = (int) dims[0];
  s->d_sae = (int) dims[1];
  s->W_enc = g_steal_pointer (&probe);
  s->hook_layer = -1;
  layer = strstr (path, "layer_");
  if (layer && g_ascii_isdigit (layer[6]))
    s->hook_layer = (int) g_ascii_strtoll (layer + 6, NULL, 10);
  s->hook_name = s->hook_layer >= 0 ? g_strdup_printf ("blocks.%d.hook_resid_post", s->hook_layer) : NULL;
  if (!(s->W_dec = npz_tensor (z, path, "W_dec", s->d_sae, s->d_in, error)) ||
      !(s->b_enc = npz_tensor (z, path, "b_enc", s->d_sae, -1, error)) ||
      !(s->b_dec = npz_tensor (z, path, "b_dec", s->d_in, -1, error)))
    return NULL;
  if (cs_npz_has (z, "threshold") && !(s->threshold = npz_tensor (z, path, "threshold", s->d_sae, -1, error)))
    return NULL;
  if (!check_finite (s, path, error))
    return NULL;
  return g_steal_pointer (&s);
}

CsSae *
cs_sae_load (const char *folder, GError **error)
{
  g_autofree char *cfg_path = g_build_filename (folder, "cfg.json", NULL);
  g_autofree char *w_path = g_build_filename (folder, "sae_weights.safetensors", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(CsSae) s = g_new0 (CsSae, 1);
  g_autoptr(CsSafetensors) st = NULL;
  JsonObject *o;
  const char *arch, *norm;

  if (g_str_has_suffix (folder, ".npz"))
    return load_npz (folder, error);
  {
    g_autofree char *npz = g_build_filename (folder, "params.npz", NULL);
    if (!g_file_test (cfg_path, G_FILE_TEST_EXISTS) && g_file_test (npz, G_FILE_TEST_EXISTS))
      return load_npz (npz, error);
  }
  if (!cs_json_parse_file (parser, cfg_path, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: %s (an SAELens SAE folder holds cfg.json and "
                   "sae_weights.safetensors; a Gemma Scope SAE is a params.npz)", cfg_path, local_error->message);
      return NULL;
    }
  if (!cs_json_root_object (parser))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: not a JSON object", cfg_path);
      return NULL;
    }
  o = cs_json_root_object (parser);
  s->d_in = (int) cs_json_int (o, "d_in", -1);
  s->d_sae = (int) cs_json_int (o, "d_sae", -1);
  s->hook_layer = (int) cs_json_int (o, "hook_layer", -1);
  s->hook_name = g_strdup (cs_json_string (o, "hook_name", NULL));
  arch = cs_json_string (o, "architecture", NULL);
  norm = cs_json_string (o, "normalize_activations", NULL);
  {
    JsonNode *n = json_object_has_member (o, "apply_b_dec_to_input") ? json_object_get_member (o, "apply_b_dec_to_input") : NULL;
    s->apply_b_dec_to_input = n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN &&
                              json_node_get_boolean (n);
  }
  if (s->d_in <= 0 || s->d_sae <= 0 || s->d_in > 1000000 || s->d_sae > 10000000)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: d_in and d_sae must be positive integers", cfg_path);
      return NULL;
    }
  if (arch && !g_str_equal (arch, "standard") && !g_str_equal (arch, "jumprelu"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "%s: the SAE architecture '%s' is not supported (standard and jumprelu are)", cfg_path, arch);
      return NULL;
    }
  if (!norm || g_str_equal (norm, "none"))
    s->norm = CS_SAE_NORM_NONE;
  else if (g_str_equal (norm, "constant_norm_rescale"))
    s->norm = CS_SAE_NORM_CONSTANT_NORM_RESCALE;
  else if (g_str_equal (norm, "layer_norm"))
    s->norm = CS_SAE_NORM_LAYER_NORM;
  else if (g_str_equal (norm, "expected_average_only_in"))
    s->normalize_note = "normalize_activations is expected_average_only_in, but the folder holds no scaling factor: "
                        "the SAE reads unscaled activations, as SAELens runs it without one";
  else
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "%s: normalize_activations '%s' is not one of SAELens's (none, expected_average_only_in, "
                   "constant_norm_rescale, layer_norm)", cfg_path, norm);
      return NULL;
    }
  st = cs_safetensors_open (w_path, error);
  if (!st ||
      !(s->W_enc = read_tensor (st, w_path, "W_enc", s->d_in, s->d_sae, error)) ||
      !(s->W_dec = read_tensor (st, w_path, "W_dec", s->d_sae, s->d_in, error)) ||
      !(s->b_enc = read_tensor (st, w_path, "b_enc", s->d_sae, -1, error)) ||
      !(s->b_dec = read_tensor (st, w_path, "b_dec", s->d_in, -1, error)))
    return NULL;
  if (arch && g_str_equal (arch, "jumprelu") &&
      !(s->threshold = read_tensor (st, w_path, "threshold", s->d_sae, -1, error)))
    return NULL;
  if (!check_finite (s, w_path, error))
    return NULL;
  return g_steal_pointer (&s);
}

/* The row's normalisation x → (x − shift) · scale, as SAELens computes it. */
static void
row_norm (const CsSae *s, const float *x, double *shift, double *scale)
{
  int d = s->d_in;
  double q = 0, mu = 0;
  *shift = 0;
  *scale = 1;
  switch (s->norm)
    {
    case CS_SAE_NORM_NONE:
      break;
    case CS_SAE_NORM_CONSTANT_NORM_RESCALE:
      for (int j = 0; j < d; j++)
        q += (double) x[j] * x[j];
      *scale = q > 0 ? sqrt ((double) d / q) : 1.0;
      break;
    case CS_SAE_NORM_LAYER_NORM:
      for (int j = 0; j < d; j++)
        mu += x[j];
      mu /= d;
      for (int j = 0; j < d; j++)
        q += (x[j] - mu) * (x[j] - mu);
      *shift = mu;
      *scale = 1.0 / (sqrt (q / MAX (1, d - 1)) + 1e-5);
      break;
    }
}

void
cs_sae_encode (CsSae *s, const float *x, int n, float *f)
{
  g_autofree float *xc = g_new (float, (gsize) n * s->d_in);
  cs_backend_init ();
  for (int i = 0; i < n; i++)
    {
      const float *xi = x + (gsize) i * s->d_in;
      float *ci = xc + (gsize) i * s->d_in;
      double shift, scale;
      row_norm (s, xi, &shift, &scale);
      for (int j = 0; j < s->d_in; j++)
        ci[j] = (float) ((xi[j] - shift) * scale) - (s->apply_b_dec_to_input ? s->b_dec[j] : 0.0f);
    }
  for (int i = 0; i < n; i++)
    memcpy (f + (gsize) i * s->d_sae, s->b_enc, sizeof (float) * s->d_sae);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, s->d_sae, s->d_in, 1.0f, xc, s->d_in, s->W_enc,
               s->d_sae, 1.0f, f, s->d_sae);
  if (s->threshold)
    {
      for (int i = 0; i < n; i++)
        for (int k = 0; k < s->d_sae; k++)
          {
            float *v = &f[(gsize) i * s->d_sae + k];
            if (!(*v > s->threshold[k]) || *v < 0)
              *v = 0;
          }
    }
  else
    for (gsize i = 0; i < (gsize) n * s->d_sae; i++)
      if (f[i] < 0)
        f[i] = 0;
}

void
cs_sae_decode (CsSae *s, const float *f, int n, const float *x_in, float *x)
{
  cs_backend_init ();
  for (int i = 0; i < n; i++)
    memcpy (x + (gsize) i * s->d_in, s->b_dec, sizeof (float) * s->d_in);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, s->d_in, s->d_sae, 1.0f, f, s->d_sae, s->W_dec,
               s->d_in, 1.0f, x, s->d_in);
  if (s->norm != CS_SAE_NORM_NONE && x_in)
    for (int i = 0; i < n; i++)
      {
        double shift, scale;
        float *xi = x + (gsize) i * s->d_in;
        row_norm (s, x_in + (gsize) i * s->d_in, &shift, &scale);
        for (int j = 0; j < s->d_in; j++)
          xi[j] = (float) (xi[j] / scale + shift);
      }
}

gboolean
cs_sae_hook_parse (const char *name, gboolean *pre, int *layer)
{
  const char *p;
  char *end;
  long l;
  if (!name || !g_str_has_prefix (name, "blocks."))
    return FALSE;
  p = name + strlen ("blocks.");
  l = strtol (p, &end, 10);
  if (end == p || l < 0 || l > G_MAXINT)
    return FALSE;
  if (g_str_equal (end, ".hook_resid_post"))
    *pre = FALSE;
  else if (g_str_equal (end, ".hook_resid_pre"))
    *pre = TRUE;
  else
    return FALSE;
  *layer = (int) l;
  return TRUE;
}

int
cs_sae_resid_layer (const CsSae *sae)
{
  gboolean pre;
  int layer;
  if (!cs_sae_hook_parse (sae->hook_name, &pre, &layer))
    return -1;
  return pre ? layer - 1 : layer;
}
