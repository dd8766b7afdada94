#define G_LOG_DOMAIN "cs-model-config"

#include "cs-json.h"
#include "cs-model-config.h"
#include "cs-error.h"

#include <json-glib/json-glib.h>
#include <math.h>

static const struct { const char *name; CsArch arch; } architectures[] = {
  { "GPT2LMHeadModel", CS_ARCH_GPT2 },
  { "LlamaForCausalLM", CS_ARCH_LLAMA },
  { "MistralForCausalLM", CS_ARCH_MISTRAL },
  { "GemmaForCausalLM", CS_ARCH_GEMMA },
  { "Gemma2ForCausalLM", CS_ARCH_GEMMA2 },
  { "Qwen2ForCausalLM", CS_ARCH_QWEN2 },
};

const char *
cs_model_config_supported (void)
{
  return "GPT2LMHeadModel, LlamaForCausalLM, MistralForCausalLM, GemmaForCausalLM, "
         "Gemma2ForCausalLM, Qwen2ForCausalLM";
}

const char *
cs_arch_family (CsArch arch)
{
  switch (arch)
    {
    case CS_ARCH_GPT2: return "GPT-2";
    case CS_ARCH_LLAMA: return "Llama";
    case CS_ARCH_MISTRAL: return "Mistral";
    case CS_ARCH_GEMMA: return "Gemma";
    case CS_ARCH_GEMMA2: return "Gemma 2";
    case CS_ARCH_QWEN2: return "Qwen2";
    default: return "?";
    }
}

void
cs_model_config_free (CsModelConfig *c)
{
  if (!c)
    return;
  g_free (c->architecture);
  g_free (c->model_type);
  g_free (c->layer_sliding);
  g_free (c->dtype);
  g_free (c);
}

static JsonNode *
member (JsonObject *o, const char *name)
{
  if (!o || !json_object_has_member (o, name))
    return NULL;
  JsonNode *n = json_object_get_member (o, name);
  if (JSON_NODE_HOLDS_NULL (n))
    return NULL;
  return n;
}

static gboolean
get_number (JsonObject *o, const char *name, double *out)
{
  JsonNode *n = member (o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    *out = (double) json_node_get_int (n);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double (n);
  else if (t == G_TYPE_BOOLEAN)
    *out = json_node_get_boolean (n);
  else
    return FALSE;
  return TRUE;
}

/* Reads the first of several spellings of an integer field. */
static gboolean
get_int_any (JsonObject *o, const char * const *names, int *out)
{
  for (guint i = 0; names[i]; i++)
    {
      double d;
      if (get_number (o, names[i], &d))
        {
          *out = (int) d;
          return TRUE;
        }
    }
  return FALSE;
}

static const char *
get_string (JsonObject *o, const char *name)
{
  JsonNode *n = member (o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
get_bool (JsonObject *o, const char *name, gboolean dflt)
{
  double d;
  if (get_number (o, name, &d))
    return d != 0;
  return dflt;
}

/* Every number of a config must be finite (JSON has no NaN, but 1e400
 * reads as infinity), and the integer fields must hold integers: a layer
 * count of 4.5 was read as 4. */
static gboolean
check_numbers (JsonObject *o, const char *origin, GError **error)
{
  static const char *const ints[] = {
    "n_layer", "num_hidden_layers", "n_embd", "hidden_size", "n_head", "num_attention_heads",
    "num_key_value_heads", "head_dim", "intermediate_size", "n_inner", "max_position_embeddings",
    "n_positions", "n_ctx", "vocab_size", "sliding_window", "bos_token_id", "eos_token_id", "pad_token_id",
    "query_pre_attn_scalar", NULL
  };
  g_autoptr(GList) names = json_object_get_members (o);

  for (GList *l = names; l; l = l->next)
    {
      JsonNode *n = json_object_get_member (o, l->data);
      if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64 &&
          g_strv_contains (ints, l->data) && (json_node_get_int (n) > G_MAXINT32 || json_node_get_int (n) < G_MININT32))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the field '%s' is %" G_GINT64_FORMAT ", out of range",
                       origin, (const char *) l->data, json_node_get_int (n));
          return FALSE;
        }
      if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_DOUBLE)
        {
          double d = json_node_get_double (n);
          if (!isfinite (d))
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the field '%s' is not a finite number",
                           origin, (const char *) l->data);
              return FALSE;
            }
          if (g_strv_contains (ints, l->data) && (d != floor (d) || fabs (d) > G_MAXINT32))
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the field '%s' is %g; it must be a whole number",
                           origin, (const char *) l->data, d);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
require_int (JsonObject *o, const char * const *names, int *out, const char *origin, GError **error)
{
  if (!get_int_any (o, names, out) || *out <= 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: the field '%s' is missing or not a positive integer", origin, names[0]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_activation (const char *s, CsActivation *out)
{
  if (!s)
    return FALSE;
  if (g_str_equal (s, "gelu_new") || g_str_equal (s, "gelu_pytorch_tanh") ||
      g_str_equal (s, "gelu_fast") || g_str_equal (s, "gelu_tanh"))
    *out = CS_ACT_GELU_TANH;
  else if (g_str_equal (s, "gelu"))
    *out = CS_ACT_GELU_ERF;
  else if (g_str_equal (s, "silu") || g_str_equal (s, "swish"))
    *out = CS_ACT_SILU;
  else if (g_str_equal (s, "relu"))
    *out = CS_ACT_RELU;
  else
    return FALSE;
  return TRUE;
}

CsModelConfig *
cs_model_config_parse (const char  *json,
                       gssize       len,
                       const char  *origin,
                       GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(CsModelConfig) c = g_new0 (CsModelConfig, 1);
  JsonObject *o, *rope = NULL;
  JsonNode *root, *n;
  const char *act_s = NULL;
  double d;
  gboolean found = FALSE;

  if (!cs_json_parse (parser, json, len, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: not valid JSON (%s)",
                   origin, local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: not a JSON object", origin);
      return NULL;
    }
  o = json_node_get_object (root);
  if (!check_numbers (o, origin, error))
    return NULL;

  n = member (o, "architectures");
  if (n && JSON_NODE_HOLDS_ARRAY (n) && json_array_get_length (json_node_get_array (n)) > 0)
    {
      JsonNode *first = json_array_get_element (json_node_get_array (n), 0);
      if (JSON_NODE_HOLDS_VALUE (first) && json_node_get_value_type (first) == G_TYPE_STRING)
        c->architecture = g_strdup (json_node_get_string (first));
    }
  c->model_type = g_strdup (get_string (o, "model_type"));
  if (!c->architecture)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: no 'architectures' entry; ConceptScope supports %s",
                   origin, cs_model_config_supported ());
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (architectures); i++)
    if (g_str_equal (architectures[i].name, c->architecture))
      {
        c->arch = architectures[i].arch;
        found = TRUE;
      }
  if (!found)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "%s: the architecture '%s' is not supported; ConceptScope supports %s",
                   origin, c->architecture, cs_model_config_supported ());
      return NULL;
    }

  if (!require_int (o, (const char *[]) { "num_hidden_layers", "n_layer", NULL }, &c->n_layers, origin, error) ||
      !require_int (o, (const char *[]) { "hidden_size", "n_embd", NULL }, &c->hidden, origin, error) ||
      !require_int (o, (const char *[]) { "num_attention_heads", "n_head", NULL }, &c->n_heads, origin, error) ||
      !require_int (o, (const char *[]) { "vocab_size", NULL }, &c->vocab, origin, error))
    return NULL;

  if (c->n_layers > 10000 || c->hidden > 1000000 || c->n_heads > 100000 || c->vocab > 100000000)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: %d layers, hidden size %d, %d heads, vocabulary %d: not the sizes of a real model",
                   origin, c->n_layers, c->hidden, c->n_heads, c->vocab);
      return NULL;
    }
  if (!get_int_any (o, (const char *[]) { "num_key_value_heads", NULL }, &c->n_kv_heads) || c->n_kv_heads <= 0)
    c->n_kv_heads = c->n_heads;
  if (!get_int_any (o, (const char *[]) { "head_dim", NULL }, &c->head_dim) || c->head_dim <= 0)
    c->head_dim = c->hidden / c->n_heads;
  if (!get_int_any (o, (const char *[]) { "intermediate_size", "n_inner", NULL }, &c->intermediate) || c->intermediate <= 0)
    c->intermediate = 4 * c->hidden;
  if (!get_int_any (o, (const char *[]) { "max_position_embeddings", "n_positions", "n_ctx", NULL }, &c->max_positions) ||
      c->max_positions <= 0)
    c->max_positions = 2048;

  if (c->n_heads % c->n_kv_heads != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d",
                   origin, c->n_heads, c->n_kv_heads);
      return NULL;
    }
  if (c->arch == CS_ARCH_GPT2 && c->head_dim * c->n_heads != c->hidden)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: n_embd %d is not divisible by n_head %d", origin, c->hidden, c->n_heads);
      return NULL;
    }
  if (c->arch != CS_ARCH_GPT2 && c->head_dim % 2 != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: head_dim %d is odd; rotary embeddings need an even head size", origin, c->head_dim);
      return NULL;
    }

  c->norm_eps = c->arch == CS_ARCH_GPT2 ? 1e-5 : 1e-6;
  {
    static const char *const eps_names[] = { "layer_norm_epsilon", "rms_norm_eps", "layer_norm_eps", NULL };
    for (guint i = 0; eps_names[i]; i++)
      if (get_number (o, eps_names[i], &d))
        {
          /* a normalisation divides by sqrt(variance + ε): ε ≤ 0 gives NaN
           * on a constant row, and ε past ~1 flattens every activation */
          if (!(d > 0 && d < 1))
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                           "%s: %s is %g; a normalisation epsilon lies between 0 and 1 (usually 1e-5 or 1e-6)",
                           origin, eps_names[i], d);
              return NULL;
            }
          c->norm_eps = d;
          break;
        }
  }

  switch (c->arch)
    {
    case CS_ARCH_GPT2:
      act_s = get_string (o, "activation_function");
      if (!act_s)
        act_s = "gelu_new";
      break;
    case CS_ARCH_GEMMA:
    case CS_ARCH_GEMMA2:
      /* Gemma's hidden_act said "gelu" for a while though the model uses the
       * tanh approximation; hidden_activation is the field that is right. */
      act_s = get_string (o, "hidden_activation");
      if (!act_s)
        act_s = "gelu_pytorch_tanh";
      break;
    default:
      act_s = get_string (o, "hidden_act");
      if (!act_s)
        act_s = "silu";
      break;
    }
  if (!parse_activation (act_s, &c->activation))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "%s: activation '%s' is not supported (gelu_new, gelu_pytorch_tanh, gelu, silu, relu)",
                   origin, act_s);
      return NULL;
    }

  c->tie_embeddings = get_bool (o, "tie_word_embeddings",
                                c->arch == CS_ARCH_GPT2 || c->arch == CS_ARCH_GEMMA ||
                                c->arch == CS_ARCH_GEMMA2);
  c->attention_bias = c->arch == CS_ARCH_QWEN2 || c->arch == CS_ARCH_GPT2 ||
                      get_bool (o, "attention_bias", FALSE);
  c->o_bias = c->arch == CS_ARCH_GPT2 ||
              (c->arch != CS_ARCH_QWEN2 && get_bool (o, "attention_bias", FALSE));
  c->mlp_bias = c->arch == CS_ARCH_GPT2 || get_bool (o, "mlp_bias", FALSE);
  c->scale_attn_by_inverse_layer_idx = get_bool (o, "scale_attn_by_inverse_layer_idx", FALSE);

  /* RoPE: older configs spell rope_theta / rope_scaling, newer ones rope_parameters. */
  c->rope_theta = 10000.0;
  c->rope_type = CS_ROPE_DEFAULT;
  n = member (o, "rope_parameters");
  if (n && JSON_NODE_HOLDS_OBJECT (n))
    rope = json_node_get_object (n);
  if (!rope)
    {
      n = member (o, "rope_scaling");
      if (n && JSON_NODE_HOLDS_OBJECT (n))
        rope = json_node_get_object (n);
    }
  if (get_number (o, "rope_theta", &d))
    c->rope_theta = d;
  if (rope)
    {
      const char *type = get_string (rope, "rope_type");
      if (!type)
        type = get_string (rope, "type");
      if (get_number (rope, "rope_theta", &d))
        c->rope_theta = d;
      if (type && g_str_equal (type, "llama3"))
        {
          c->rope_type = CS_ROPE_LLAMA3;
          c->rope_factor = get_number (rope, "factor", &d) ? d : 8.0;
          c->rope_low_freq_factor = get_number (rope, "low_freq_factor", &d) ? d : 1.0;
          c->rope_high_freq_factor = get_number (rope, "high_freq_factor", &d) ? d : 4.0;
          c->rope_original_max_positions = 8192;
          if (get_number (rope, "original_max_position_embeddings", &d))
            {
              gint64 v;
              if (!cs_whole_number (d, 1, G_MAXINT32, &v))
                {
                  g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the rope field 'original_max_position_embeddings' "
                               "is %g; it must be a positive whole number", origin, d);
                  return NULL;
                }
              c->rope_original_max_positions = (int) v;
            }
        }
      else if (type && g_str_equal (type, "linear"))
        {
          c->rope_type = CS_ROPE_LINEAR;
          c->rope_factor = get_number (rope, "factor", &d) ? d : 1.0;
        }
      else if (type && !g_str_equal (type, "default"))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                       "%s: rope type '%s' is not supported (default, linear, llama3)", origin, type);
          return NULL;
        }
    }

  if (get_number (o, "attn_logit_softcapping", &d))
    c->attn_softcap = d;
  if (get_number (o, "final_logit_softcapping", &d))
    c->final_softcap = d;
  if (get_number (o, "query_pre_attn_scalar", &d))
    c->query_pre_attn_scalar = d;

  c->layer_sliding = g_new0 (gboolean, c->n_layers);
  if (get_number (o, "sliding_window", &d) && d > 0)
    c->sliding_window = (int) d;
  if (c->arch == CS_ARCH_QWEN2 && !get_bool (o, "use_sliding_window", FALSE))
    c->sliding_window = 0;
  n = member (o, "layer_types");
  if (n && JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      if ((int) json_array_get_length (a) != c->n_layers)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: layer_types has %u entries but num_hidden_layers is %d",
                       origin, json_array_get_length (a), c->n_layers);
          return NULL;
        }
      for (int i = 0; i < c->n_layers; i++)
        {
          JsonNode *e = json_array_get_element (a, (guint) i);
          const char *t = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING ?
                          json_node_get_string (e) : NULL;
          c->layer_sliding[i] = t && g_str_equal (t, "sliding_attention");
        }
    }
  else if (c->sliding_window > 0)
    {
      for (int i = 0; i < c->n_layers; i++)
        /* Gemma 2 alternates, starting with a sliding layer; Mistral slides everywhere. */
        c->layer_sliding[i] = c->arch == CS_ARCH_GEMMA2 ? (i % 2 == 0) : TRUE;
    }
  if (c->sliding_window <= 0)
    for (int i = 0; i < c->n_layers; i++)
      c->layer_sliding[i] = FALSE;

  {
    const char *dt = get_string (o, "dtype");
    if (!dt)
      dt = get_string (o, "torch_dtype");
    c->dtype = g_strdup (dt);
  }
  c->bos_token_id = get_number (o, "bos_token_id", &d) ? (int) d : -1;
  c->eos_token_id = get_number (o, "eos_token_id", &d) ? (int) d : -1;

  return g_steal_pointer (&c);
}

CsModelConfig *
cs_model_config_load (const char  *path,
                      GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, &local_error))
    {
      g_set_error (error, CS_ERROR, g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ?
                   CS_ERROR_MISSING : CS_ERROR_IO,
                   "%s", local_error->message);
      return NULL;
    }
  return cs_model_config_parse (contents, (gssize) len, path, error);
}

double *
cs_model_config_rope_inv_freq (const CsModelConfig *cfg)
{
  int half = cfg->head_dim / 2;
  double *inv = g_new (double, MAX (half, 1));

  for (int i = 0; i < half; i++)
    {
      double f = 1.0 / pow (cfg->rope_theta, (2.0 * i) / cfg->head_dim);
      if (cfg->rope_type == CS_ROPE_LINEAR)
        f /= cfg->rope_factor;
      else if (cfg->rope_type == CS_ROPE_LLAMA3)
        {
          double old = cfg->rope_original_max_positions;
          double low_wl = old / cfg->rope_low_freq_factor;
          double high_wl = old / cfg->rope_high_freq_factor;
          double wl = 2 * G_PI / f;
          if (wl > low_wl)
            f /= cfg->rope_factor;
          else if (wl >= high_wl)
            {
              double smooth = (old / wl - cfg->rope_low_freq_factor) /
                              (cfg->rope_high_freq_factor - cfg->rope_low_freq_factor);
              f = (1 - smooth) * f / cfg->rope_factor + smooth * f;
            }
        }
      inv[i] = f;
    }
  return inv;
}

double
cs_model_config_attn_scale (const CsModelConfig *cfg, int layer)
{
  double scale = 1.0 / sqrt (cfg->query_pre_attn_scalar > 0 ? cfg->query_pre_attn_scalar : cfg->head_dim);
  if (cfg->scale_attn_by_inverse_layer_idx)
    scale /= (layer + 1);
  return scale;
}
