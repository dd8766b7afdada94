#define G_LOG_DOMAIN "cs-model"

#include "cs-json.h"
#include "cs-model.h"
#include "cs-tokenizer.h"
#include "cs-error.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

struct _CsModel
{
  GObject          parent_instance;
  char            *path;
  char            *name;
  char            *tokenizer_path;
  CsModelConfig   *config;
  GPtrArray       *files;       /* CsSafetensors* */
  GHashTable      *tensors;     /* name → const CsTensor* over all shards */
  CsLayerWeights  *layers;
  const CsTensor  *embedding, *positions, *final_norm_w, *final_norm_b, *unembedding;
  gint64           n_params;
  CsDType          dtype;
  gsize            file_size;
  gint64           newest_mtime;
  char            *identity;
};

G_DEFINE_FINAL_TYPE (CsModel, cs_model, G_TYPE_OBJECT)

static void
cs_model_finalize (GObject *object)
{
  CsModel *self = CS_MODEL (object);

  g_clear_pointer (&self->tensors, g_hash_table_unref);
  g_clear_pointer (&self->files, g_ptr_array_unref);
  g_clear_pointer (&self->config, cs_model_config_free);
  g_clear_pointer (&self->layers, g_free);
  g_free (self->path);
  g_free (self->name);
  g_free (self->tokenizer_path);
  g_free (self->identity);
  G_OBJECT_CLASS (cs_model_parent_class)->finalize (object);
}

static void
cs_model_class_init (CsModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cs_model_finalize;
}

static void
cs_model_init (CsModel *self)
{
  self->files = g_ptr_array_new_with_free_func ((GDestroyNotify) cs_safetensors_unref);
  self->tensors = g_hash_table_new (g_str_hash, g_str_equal);
}

static gboolean
add_file (CsModel *self, const char *path, GError **error)
{
  CsSafetensors *st = cs_safetensors_open (path, error);
  if (!st)
    return FALSE;
  g_ptr_array_add (self->files, st);
  self->file_size += cs_safetensors_get_file_size (st);
  {
    GStatBuf sb;
    if (g_stat (path, &sb) == 0)
      self->newest_mtime = MAX (self->newest_mtime, (gint64) sb.st_mtime);
  }
  for (guint i = 0; i < cs_safetensors_get_n_tensors (st); i++)
    {
      const CsTensor *t = cs_safetensors_get_nth (st, i);
      g_hash_table_insert (self->tensors, t->name, (gpointer) t);
    }
  return TRUE;
}

static gboolean
load_sharded (CsModel *self, const char *index_path, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonNode *root, *map;
  JsonObject *mapobj;
  g_autoptr(GList) members = NULL;

  if (!cs_json_parse_file (parser, index_path, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: %s", index_path, local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root) ||
      !(map = json_object_get_member (json_node_get_object (root), "weight_map")) ||
      !JSON_NODE_HOLDS_OBJECT (map))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: no 'weight_map' object", index_path);
      return FALSE;
    }
  mapobj = json_node_get_object (map);
  members = json_object_get_members (mapobj);
  for (GList *l = members; l; l = l->next)
    {
      JsonNode *fn = json_object_get_member (mapobj, l->data);
      const char *file = JSON_NODE_HOLDS_VALUE (fn) && json_node_get_value_type (fn) == G_TYPE_STRING ?
                         json_node_get_string (fn) : NULL;
      g_autofree char *full = NULL;
      if (!file || strchr (file, '/') || g_hash_table_contains (seen, file))
        {
          if (!file || strchr (file, '/'))
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                           "%s: weight_map entry for '%s' is not a file name in the folder",
                           index_path, (const char *) l->data);
              return FALSE;
            }
          continue;
        }
      g_hash_table_add (seen, (gpointer) file);
      full = g_build_filename (self->path, file, NULL);
      if (!add_file (self, full, error))
        return FALSE;
    }
  return TRUE;
}

/* Finds a tensor under its name with or without the usual wrapper prefixes. */
static const CsTensor *
find_tensor (CsModel *self, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static const CsTensor *
find_tensor (CsModel *self, const char *fmt, ...)
{
  static const char *prefixes[] = { "", "transformer.", "model.", "language_model.model.", NULL };
  g_autofree char *name = NULL;
  va_list ap;

  va_start (ap, fmt);
  name = g_strdup_vprintf (fmt, ap);
  va_end (ap);

  for (guint i = 0; prefixes[i]; i++)
    {
      g_autofree char *full = g_strconcat (prefixes[i], name, NULL);
      const CsTensor *t = g_hash_table_lookup (self->tensors, full);
      if (t)
        return t;
    }
  if (g_str_has_prefix (name, "model."))
    return g_hash_table_lookup (self->tensors, name + 6);
  return NULL;
}

typedef struct
{
  CsModel *self;
  GError **error;
  gboolean ok;
} Check;

/* Looks a weight up and checks its dtype and shape against config.json;
 * d1 < 0 means a vector. A missing required tensor is an error naming it. */
static const CsTensor *
want (Check *c, gboolean required, gint64 d0, gint64 d1, const char *fmt, ...) G_GNUC_PRINTF (5, 6);

static const CsTensor *
want (Check *c, gboolean required, gint64 d0, gint64 d1, const char *fmt, ...)
{
  g_autofree char *name = NULL;
  const CsTensor *t;
  va_list ap;

  if (!c->ok)
    return NULL;
  va_start (ap, fmt);
  name = g_strdup_vprintf (fmt, ap);
  va_end (ap);

  t = find_tensor (c->self, "%s", name);
  if (!t)
    {
      if (required)
        {
          g_set_error (c->error, CS_ERROR, CS_ERROR_MISSING,
                       "%s: the tensor '%s' is missing from the model's safetensors files",
                       c->self->path, name);
          c->ok = FALSE;
        }
      return NULL;
    }
  if (!cs_dtype_is_float (t->dtype) || t->dtype == CS_DTYPE_F64)
    {
      g_set_error (c->error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "%s: tensor '%s' is %s; weights must be F32, F16 or BF16",
                   c->self->path, t->name, cs_dtype_to_string (t->dtype));
      c->ok = FALSE;
      return NULL;
    }
  if ((d1 < 0 && (t->ndim != 1 || t->shape[0] != d0)) ||
      (d1 >= 0 && (t->ndim != 2 || t->shape[0] != d0 || t->shape[1] != d1)))
    {
      g_autofree char *desc = cs_tensor_describe (t);
      g_autofree char *expected = d1 < 0 ?
        g_strdup_printf ("[%" G_GINT64_FORMAT "]", d0) :
        g_strdup_printf ("[%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", d0, d1);
      g_set_error (c->error, CS_ERROR, CS_ERROR_MISMATCH,
                   "%s: tensor '%s' is %s but config.json implies %s",
                   c->self->path, t->name, desc, expected);
      c->ok = FALSE;
      return NULL;
    }
  return t;
}

static gboolean
bind_weights (CsModel *self, GError **error)
{
  const CsModelConfig *cfg = self->config;
  Check c = { self, error, TRUE };
  gint64 d = cfg->hidden, V = cfg->vocab, I = cfg->intermediate;
  gint64 qd = (gint64) cfg->n_heads * cfg->head_dim, kvd = (gint64) cfg->n_kv_heads * cfg->head_dim;

  self->layers = g_new0 (CsLayerWeights, cfg->n_layers);

  if (cfg->arch == CS_ARCH_GPT2)
    {
      self->embedding = want (&c, TRUE, V, d, "wte.weight");
      self->positions = want (&c, TRUE, cfg->max_positions, d, "wpe.weight");
      self->final_norm_w = want (&c, TRUE, d, -1, "ln_f.weight");
      self->final_norm_b = want (&c, TRUE, d, -1, "ln_f.bias");
      for (int i = 0; i < cfg->n_layers && c.ok; i++)
        {
          CsLayerWeights *L = &self->layers[i];
          L->attn_norm_w = want (&c, TRUE, d, -1, "h.%d.ln_1.weight", i);
          L->attn_norm_b = want (&c, TRUE, d, -1, "h.%d.ln_1.bias", i);
          L->qkv_w = want (&c, TRUE, d, 3 * d, "h.%d.attn.c_attn.weight", i);
          L->qkv_b = want (&c, TRUE, 3 * d, -1, "h.%d.attn.c_attn.bias", i);
          L->o_w = want (&c, TRUE, d, d, "h.%d.attn.c_proj.weight", i);
          L->o_b = want (&c, TRUE, d, -1, "h.%d.attn.c_proj.bias", i);
          L->mlp_norm_w = want (&c, TRUE, d, -1, "h.%d.ln_2.weight", i);
          L->mlp_norm_b = want (&c, TRUE, d, -1, "h.%d.ln_2.bias", i);
          L->fc_w = want (&c, TRUE, d, I, "h.%d.mlp.c_fc.weight", i);
          L->fc_b = want (&c, TRUE, I, -1, "h.%d.mlp.c_fc.bias", i);
          L->proj_w = want (&c, TRUE, I, d, "h.%d.mlp.c_proj.weight", i);
          L->proj_b = want (&c, TRUE, d, -1, "h.%d.mlp.c_proj.bias", i);
        }
    }
  else
    {
      gboolean gemma2 = cfg->arch == CS_ARCH_GEMMA2;
      self->embedding = want (&c, TRUE, V, d, "model.embed_tokens.weight");
      self->final_norm_w = want (&c, TRUE, d, -1, "model.norm.weight");
      for (int i = 0; i < cfg->n_layers && c.ok; i++)
        {
          CsLayerWeights *L = &self->layers[i];
          const char *p = "model.layers";
          L->attn_norm_w = want (&c, TRUE, d, -1, "%s.%d.input_layernorm.weight", p, i);
          L->q_w = want (&c, TRUE, qd, d, "%s.%d.self_attn.q_proj.weight", p, i);
          L->k_w = want (&c, TRUE, kvd, d, "%s.%d.self_attn.k_proj.weight", p, i);
          L->v_w = want (&c, TRUE, kvd, d, "%s.%d.self_attn.v_proj.weight", p, i);
          L->o_w = want (&c, TRUE, d, qd, "%s.%d.self_attn.o_proj.weight", p, i);
          L->q_b = want (&c, cfg->arch == CS_ARCH_QWEN2, qd, -1, "%s.%d.self_attn.q_proj.bias", p, i);
          L->k_b = want (&c, cfg->arch == CS_ARCH_QWEN2, kvd, -1, "%s.%d.self_attn.k_proj.bias", p, i);
          L->v_b = want (&c, cfg->arch == CS_ARCH_QWEN2, kvd, -1, "%s.%d.self_attn.v_proj.bias", p, i);
          L->o_b = want (&c, FALSE, d, -1, "%s.%d.self_attn.o_proj.bias", p, i);
          if (gemma2)
            {
              L->post_attn_norm_w = want (&c, TRUE, d, -1, "%s.%d.post_attention_layernorm.weight", p, i);
              L->mlp_norm_w = want (&c, TRUE, d, -1, "%s.%d.pre_feedforward_layernorm.weight", p, i);
              L->post_mlp_norm_w = want (&c, TRUE, d, -1, "%s.%d.post_feedforward_layernorm.weight", p, i);
            }
          else
            L->mlp_norm_w = want (&c, TRUE, d, -1, "%s.%d.post_attention_layernorm.weight", p, i);
          L->gate_w = want (&c, TRUE, I, d, "%s.%d.mlp.gate_proj.weight", p, i);
          L->up_w = want (&c, TRUE, I, d, "%s.%d.mlp.up_proj.weight", p, i);
          L->down_w = want (&c, TRUE, d, I, "%s.%d.mlp.down_proj.weight", p, i);
          L->gate_b = want (&c, FALSE, I, -1, "%s.%d.mlp.gate_proj.bias", p, i);
          L->up_b = want (&c, FALSE, I, -1, "%s.%d.mlp.up_proj.bias", p, i);
          L->down_b = want (&c, FALSE, d, -1, "%s.%d.mlp.down_proj.bias", p, i);
        }
    }
  if (!c.ok)
    return FALSE;

  /* A missing lm_head means the unembedding is tied to the embedding, whatever
   * tie_word_embeddings says (GPT-2 checkpoints never store it). */
  self->unembedding = NULL;
  if (!cfg->tie_embeddings)
    self->unembedding = want (&c, FALSE, V, d, "lm_head.weight");
  if (!c.ok)
    return FALSE;
  if (!self->unembedding)
    self->unembedding = self->embedding;
  return TRUE;
}

static void
count_params (CsModel *self)
{
  GHashTableIter it;
  gpointer k, v;
  gint64 by_dtype[16] = { 0 };

  self->n_params = 0;
  g_hash_table_iter_init (&it, self->tensors);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      const CsTensor *t = v;
      /* GPT-2's causal-mask buffers are not parameters. */
      if (g_str_has_suffix (t->name, ".attn.bias") || g_str_has_suffix (t->name, ".attn.masked_bias"))
        continue;
      if (!cs_dtype_is_float (t->dtype))
        continue;
      self->n_params += cs_tensor_numel (t);
      by_dtype[t->dtype] += cs_tensor_numel (t);
    }
  self->dtype = CS_DTYPE_F32;
  for (guint i = 0; i < G_N_ELEMENTS (by_dtype); i++)
    if (by_dtype[i] > by_dtype[self->dtype])
      self->dtype = (CsDType) i;
}

CsModel *
cs_model_open (const char  *path,
               GError     **error)
{
  g_autoptr(CsModel) self = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *index_path = NULL;
  g_autofree char *single_path = NULL;
  g_autofree char *tok_path = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING,
                   "%s is not a folder; open a Hugging Face model folder "
                   "(config.json, model.safetensors, tokenizer.json)", path);
      return NULL;
    }
  self = g_object_new (CS_TYPE_MODEL, NULL);
  self->path = g_canonicalize_filename (path, NULL);
  self->name = g_path_get_basename (self->path);

  config_path = g_build_filename (self->path, "config.json", NULL);
  if (!g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING,
                   "%s has no config.json; a Hugging Face model folder holds config.json, "
                   "model.safetensors (or shards with model.safetensors.index.json) and tokenizer.json",
                   self->path);
      return NULL;
    }
  self->config = cs_model_config_load (config_path, error);
  if (!self->config)
    return NULL;

  index_path = g_build_filename (self->path, "model.safetensors.index.json", NULL);
  single_path = g_build_filename (self->path, "model.safetensors", NULL);
  if (g_file_test (single_path, G_FILE_TEST_EXISTS))
    {
      if (!add_file (self, single_path, error))
        return NULL;
    }
  else if (g_file_test (index_path, G_FILE_TEST_EXISTS))
    {
      if (!load_sharded (self, index_path, error))
        return NULL;
    }
  else
    {
      g_autofree char *bin = g_build_filename (self->path, "pytorch_model.bin", NULL);
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING,
                   "%s has no model.safetensors or model.safetensors.index.json%s",
                   self->path,
                   g_file_test (bin, G_FILE_TEST_EXISTS) ?
                   "; it holds pytorch_model.bin, a pickle ConceptScope does not execute: "
                   "convert it with save_pretrained(safe_serialization=True)" : "");
      return NULL;
    }

  if (!bind_weights (self, error))
    return NULL;
  count_params (self);

  tok_path = g_build_filename (self->path, "tokenizer.json", NULL);
  if (g_file_test (tok_path, G_FILE_TEST_EXISTS))
    self->tokenizer_path = g_steal_pointer (&tok_path);

  return g_steal_pointer (&self);
}

const char *cs_model_get_path (CsModel *self) { g_return_val_if_fail (CS_IS_MODEL (self), NULL); return self->path; }
const char *cs_model_get_name (CsModel *self) { g_return_val_if_fail (CS_IS_MODEL (self), NULL); return self->name; }
const CsModelConfig *cs_model_get_config (CsModel *self) { g_return_val_if_fail (CS_IS_MODEL (self), NULL); return self->config; }
const CsTensor *cs_model_get_embedding (CsModel *self) { return self->embedding; }
const CsTensor *cs_model_get_positions (CsModel *self) { return self->positions; }
const CsTensor *cs_model_get_final_norm_w (CsModel *self) { return self->final_norm_w; }
const CsTensor *cs_model_get_final_norm_b (CsModel *self) { return self->final_norm_b; }
const CsTensor *cs_model_get_unembedding (CsModel *self) { return self->unembedding; }
gboolean cs_model_is_conv1d (CsModel *self) { return self->config->arch == CS_ARCH_GPT2; }
gint64 cs_model_get_n_params (CsModel *self) { return self->n_params; }
CsDType cs_model_get_dtype (CsModel *self) { return self->dtype; }
gsize cs_model_get_file_size (CsModel *self) { return self->file_size; }
const char *cs_model_get_tokenizer_path (CsModel *self) { return self->tokenizer_path; }

CsTokenizer *
cs_model_open_tokenizer (CsModel *self, GError **error)
{
  g_autoptr(CsTokenizer) tok = NULL;

  g_return_val_if_fail (CS_IS_MODEL (self), NULL);
  if (!self->tokenizer_path)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s has no tokenizer.json", self->path);
      return NULL;
    }
  tok = cs_tokenizer_load (self->tokenizer_path, error);
  if (!tok || !cs_tokenizer_check_vocab (tok, cs_model_get_unembedding (self)->shape[0], self->tokenizer_path, error))
    return NULL;
  return g_steal_pointer (&tok);
}

const CsLayerWeights *
cs_model_get_layer (CsModel *self,
                    int      layer)
{
  g_return_val_if_fail (CS_IS_MODEL (self), NULL);
  g_return_val_if_fail (layer >= 0 && layer < self->config->n_layers, NULL);
  return &self->layers[layer];
}

char *
cs_model_describe (CsModel *self)
{
  const CsModelConfig *c = self->config;
  return g_strdup_printf ("%s · %s · %d layers · hidden %d · vocabulary %d",
                          self->name, c->architecture, c->n_layers, c->hidden, c->vocab);
}

float
cs_model_get_embed_scale (CsModel *self)
{
  const CsModelConfig *cfg = self->config;
  float scale;

  if (cfg->arch != CS_ARCH_GEMMA && cfg->arch != CS_ARCH_GEMMA2)
    return 1.0f;
  scale = sqrtf ((float) cfg->hidden);
  if (self->embedding->dtype == CS_DTYPE_BF16)
    scale = cs_bf16_to_f32 (cs_f32_to_bf16 (scale));
  else if (self->embedding->dtype == CS_DTYPE_F16)
    scale = cs_f16_to_f32 (cs_f32_to_f16 (scale));
  return scale;
}

const char *
cs_model_get_identity (CsModel *self)
{
  g_return_val_if_fail (CS_IS_MODEL (self), NULL);
  if (!self->identity)
    self->identity = g_strdup_printf ("%" G_GSIZE_FORMAT ":%" G_GINT64_FORMAT, self->file_size, self->newest_mtime);
  return self->identity;
}

char *
cs_model_get_cache_key (CsModel *self)
{
  g_return_val_if_fail (CS_IS_MODEL (self), NULL);
  return g_strdup_printf ("%s|%s", cs_model_get_path (self), cs_model_get_identity (self));
}
