#define G_LOG_DOMAIN "cs-tokenizer"

#include "cs-tokenizer.h"
#include "cs-error.h"
#include "cs-json.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* GPT-2's pre-tokenisation, which the ByteLevel pre-tokeniser applies when
 * use_regex is set. */
#define GPT2_PATTERN \
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

#define SPM_SPACE "\xe2\x96\x81"   /* ▁ U+2581 */

typedef struct
{
  char    *content;
  gint32   id;
  gboolean special;
} AddedToken;

typedef struct
{
  gint32 rank;
  gint32 merged;
} Merge;

struct _CsTokenizer
{
  GHashTable *vocab;           /* token string → id (+1, so 0 means absent) */
  GPtrArray  *id_to_token;     /* id → char* (NULL for holes) */
  GHashTable *merges;          /* (a << 32 | b) → Merge* */
  GArray     *added;           /* AddedToken, longest content first */
  GHashTable *special_ids;     /* ids of special added tokens */

  gboolean    byte_level;      /* ByteLevel pre-tokeniser / decoder */
  gboolean    byte_level_regex;
  gboolean    add_prefix_space;
  GRegex     *split;           /* pre-tokeniser regex, or NULL */
  gboolean    metaspace;       /* Metaspace pre-tokeniser */
  gboolean    metaspace_prepend; /* prepend ▁ to the first word */
  gboolean    normalize_spm;   /* Prepend ▁ + Replace ' ' → ▁ normaliser */
  gboolean    normalize_prepend;
  gboolean    byte_fallback;
  gboolean    ignore_merges;
  gboolean    fuse_unk;
  gint32      unk_id;          /* -1 when none */
  gboolean    strip_leading_space; /* decoder's Strip */

  GArray     *template_prefix; /* ids before the sequence */
  GArray     *template_suffix; /* ids after */

  guint32     byte_to_char[256];
  GHashTable *char_to_byte;    /* unichar → byte+1 */

  GHashTable *cache;           /* piece → GArray of ids */
  GMutex      cache_lock;
};

void
cs_tokenizer_free (CsTokenizer *self)
{
  if (!self)
    return;
  g_clear_pointer (&self->vocab, g_hash_table_unref);
  g_clear_pointer (&self->id_to_token, g_ptr_array_unref);
  g_clear_pointer (&self->merges, g_hash_table_unref);
  if (self->added)
    {
      for (guint i = 0; i < self->added->len; i++)
        g_free (g_array_index (self->added, AddedToken, i).content);
      g_array_unref (self->added);
    }
  g_clear_pointer (&self->special_ids, g_hash_table_unref);
  g_clear_pointer (&self->split, g_regex_unref);
  g_clear_pointer (&self->template_prefix, g_array_unref);
  g_clear_pointer (&self->template_suffix, g_array_unref);
  g_clear_pointer (&self->char_to_byte, g_hash_table_unref);
  g_clear_pointer (&self->cache, g_hash_table_unref);
  g_mutex_clear (&self->cache_lock);
  g_free (self);
}

/* GPT-2's reversible map from bytes to printable code points. */
static void
init_byte_map (CsTokenizer *self)
{
  guint32 next = 256;

  self->char_to_byte = g_hash_table_new (NULL, NULL);
  for (guint b = 0; b < 256; b++)
    {
      gboolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      self->byte_to_char[b] = printable ? b : next++;
      g_hash_table_insert (self->char_to_byte, GUINT_TO_POINTER (self->byte_to_char[b]),
                           GUINT_TO_POINTER (b + 1));
    }
}

static gint32
vocab_lookup (CsTokenizer *self, const char *token)
{
  gpointer v = g_hash_table_lookup (self->vocab, token);
  return v ? GPOINTER_TO_INT (v) - 1 : -1;
}

static void
set_token (CsTokenizer *self, gint32 id, const char *token)
{
  if ((guint) id >= self->id_to_token->len)
    g_ptr_array_set_size (self->id_to_token, id + 1);
  g_free (g_ptr_array_index (self->id_to_token, id));
  g_ptr_array_index (self->id_to_token, id) = g_strdup (token);
  g_hash_table_insert (self->vocab, g_strdup (token), GINT_TO_POINTER (id + 1));
}

/* Element i of an array as an object / string / integer, or NULL / FALSE
 * when it is something else: a user's file must never trip an assertion. */
static JsonObject *
elem_object (JsonArray *a, guint i)
{
  JsonNode *n = a && i < json_array_get_length (a) ? json_array_get_element (a, i) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static const char *
elem_string (JsonArray *a, guint i)
{
  JsonNode *n = a && i < json_array_get_length (a) ? json_array_get_element (a, i) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n)
                                                                                           : NULL;
}

static gboolean
node_int (JsonNode *n, gint64 *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

/* Walks a pre-tokeniser (or a Sequence of them) and records what it does. */
static gboolean
read_pre_tokenizer (CsTokenizer *self, JsonObject *pt, const char *origin, GError **error)
{
  const char *type = cs_json_string (pt, "type", NULL);

  if (!type)
    return TRUE;
  if (g_str_equal (type, "Sequence"))
    {
      JsonArray *a = cs_json_array (pt, "pretokenizers");
      for (guint i = 0; a && i < json_array_get_length (a); i++)
        {
          JsonNode *n = json_array_get_element (a, i);
          if (JSON_NODE_HOLDS_OBJECT (n) && !read_pre_tokenizer (self, json_node_get_object (n), origin, error))
            return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (type, "ByteLevel"))
    {
      self->byte_level = TRUE;
      self->byte_level_regex = cs_json_bool (pt, "use_regex", TRUE);
      self->add_prefix_space = cs_json_bool (pt, "add_prefix_space", FALSE);
      return TRUE;
    }
  if (g_str_equal (type, "Split"))
    {
      JsonObject *pattern = cs_json_object (pt, "pattern");
      const char *regex = cs_json_string (pattern, "Regex", NULL);
      const char *behavior = cs_json_string (pt, "behavior", NULL);
      g_autoptr(GError) local_error = NULL;

      if (!regex || (behavior && !g_str_equal (behavior, "Isolated")))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                       "%s: a Split pre-tokeniser with %s is not supported (only a regex with Isolated behaviour)",
                       origin, regex ? "this behaviour" : "a plain string pattern");
          return FALSE;
        }
      g_clear_pointer (&self->split, g_regex_unref);
      self->split = g_regex_new (regex, G_REGEX_OPTIMIZE, 0, &local_error);
      if (!self->split)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the pre-tokeniser regex does not compile: %s",
                       origin, local_error->message);
          return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (type, "Metaspace"))
    {
      const char *scheme = cs_json_string (pt, "prepend_scheme", NULL);
      self->metaspace = TRUE;
      self->metaspace_prepend = scheme ? !g_str_equal (scheme, "never") : cs_json_bool (pt, "add_prefix_space", TRUE);
      return TRUE;
    }
  if (g_str_equal (type, "Digits") || g_str_equal (type, "Punctuation") || g_str_equal (type, "Whitespace") ||
      g_str_equal (type, "WhitespaceSplit") || g_str_equal (type, "BertPreTokenizer"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "%s: the %s pre-tokeniser is not supported; ConceptScope reads byte-level BPE "
                   "(GPT-2, Llama 3, Qwen2) and SentencePiece-style BPE (Llama 2, Gemma)", origin, type);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_normalizer (CsTokenizer *self, JsonObject *n, const char *origin, GError **error)
{
  const char *type = cs_json_string (n, "type", NULL);

  if (!type)
    return TRUE;
  if (g_str_equal (type, "Sequence"))
    {
      JsonArray *a = cs_json_array (n, "normalizers");
      for (guint i = 0; a && i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (JSON_NODE_HOLDS_OBJECT (e) && !read_normalizer (self, json_node_get_object (e), origin, error))
            return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (type, "Prepend"))
    {
      if (g_strcmp0 (cs_json_string (n, "prepend", NULL), SPM_SPACE) != 0)
        goto unsupported;
      self->normalize_prepend = TRUE;
      return TRUE;
    }
  if (g_str_equal (type, "Replace"))
    {
      JsonObject *pattern = cs_json_object (n, "pattern");
      if (g_strcmp0 (cs_json_string (pattern, "String", NULL), " ") != 0 ||
          g_strcmp0 (cs_json_string (n, "content", NULL), SPM_SPACE) != 0)
        goto unsupported;
      self->normalize_spm = TRUE;
      return TRUE;
    }
  if (g_str_equal (type, "NFC"))
    return TRUE;   /* applied in encode */
unsupported:
  g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
               "%s: the %s normaliser is not supported (only the SentencePiece ▁ normaliser and NFC)",
               origin, type);
  return FALSE;
}

static void
read_decoder (CsTokenizer *self, JsonObject *d)
{
  const char *type = cs_json_string (d, "type", NULL);

  if (!type)
    return;
  if (g_str_equal (type, "Sequence"))
    {
      JsonArray *a = cs_json_array (d, "decoders");
      for (guint i = 0; a && i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (JSON_NODE_HOLDS_OBJECT (e))
            read_decoder (self, json_node_get_object (e));
        }
    }
  else if (g_str_equal (type, "Strip"))
    {
      JsonNode *start = json_object_has_member (d, "start") ? json_object_get_member (d, "start") : NULL;
      self->strip_leading_space = start && JSON_NODE_HOLDS_VALUE (start) && json_node_get_int (start) > 0;
    }
  else if (g_str_equal (type, "Metaspace"))
    {
      const char *scheme = cs_json_string (d, "prepend_scheme", NULL);
      self->strip_leading_space = scheme ? !g_str_equal (scheme, "never") : cs_json_bool (d, "add_prefix_space", TRUE);
    }
}

static gboolean
read_template (CsTokenizer *self, JsonObject *pp, const char *origin, GError **error)
{
  const char *type = cs_json_string (pp, "type", NULL);
  JsonArray *single;
  JsonObject *specials;
  gboolean after = FALSE;

  self->template_prefix = g_array_new (FALSE, FALSE, sizeof (gint32));
  self->template_suffix = g_array_new (FALSE, FALSE, sizeof (gint32));
  if (!type)
    return TRUE;
  if (g_str_equal (type, "Sequence"))
    {
      JsonArray *a = cs_json_array (pp, "processors");
      for (guint i = 0; a && i < json_array_get_length (a); i++)
        {
          JsonObject *p = elem_object (a, i);
          if (p && g_strcmp0 (cs_json_string (p, "type", NULL), "TemplateProcessing") == 0)
            {
              g_clear_pointer (&self->template_prefix, g_array_unref);
              g_clear_pointer (&self->template_suffix, g_array_unref);
              return read_template (self, p, origin, error);
            }
        }
      return TRUE;
    }
  if (!g_str_equal (type, "TemplateProcessing"))
    return TRUE;

  single = cs_json_array (pp, "single");
  specials = cs_json_object (pp, "special_tokens");
  for (guint i = 0; single && i < json_array_get_length (single); i++)
    {
      JsonObject *piece = elem_object (single, i);
      JsonObject *sp = cs_json_object (piece, "SpecialToken");
      if (cs_json_object (piece, "Sequence"))
        {
          after = TRUE;
          continue;
        }
      if (sp)
        {
          const char *name = cs_json_string (sp, "id", NULL);
          JsonObject *def = cs_json_object (specials, name);
          JsonArray *ids = cs_json_array (def, "ids");
          if (!ids)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                           "%s: the post-processor uses special token '%s' but does not define its ids",
                           origin, name ? name : "?");
              return FALSE;
            }
          for (guint k = 0; k < json_array_get_length (ids); k++)
            {
              gint64 v;
              gint32 id;
              if (!node_int (json_array_get_element (ids, k), &v) || v < 0 || v > G_MAXINT32)
                {
                  g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                               "%s: the post-processor's special token '%s' has a non-integer id", origin, name);
                  return FALSE;
                }
              id = (gint32) v;
              g_array_append_val (after ? self->template_suffix : self->template_prefix, id);
            }
        }
    }
  return TRUE;
}

static int
compare_added (gconstpointer a, gconstpointer b)
{
  const AddedToken *x = a, *y = b;
  return (int) strlen (y->content) - (int) strlen (x->content);
}

/* A merge's key is (left id << 32) | right id. GLib's g_int64_hash folds the
 * halves with XOR, so every pair with the same left ^ right collides (Llama
 * 3's 280k merges made chains that took seconds to load); a multiplicative
 * mix spreads them. */
static guint
pair_hash (gconstpointer key)
{
  guint64 v = *(const guint64 *) key;
  v ^= v >> 33;
  v *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  v ^= v >> 33;
  return (guint) v;
}

CsTokenizer *
cs_tokenizer_parse (const char  *json,
                    gssize       len,
                    const char  *origin,
                    GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(CsTokenizer) self = g_new0 (CsTokenizer, 1);
  JsonObject *root, *model, *vocab;
  JsonArray *merges, *added;
  const char *type, *unk;

  g_mutex_init (&self->cache_lock);
  self->vocab = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->id_to_token = g_ptr_array_new_with_free_func (g_free);
  self->merges = g_hash_table_new_full (pair_hash, g_int64_equal, g_free, g_free);
  self->added = g_array_new (FALSE, FALSE, sizeof (AddedToken));
  self->special_ids = g_hash_table_new (NULL, NULL);
  self->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  self->unk_id = -1;
  init_byte_map (self);

  if (!cs_json_parse (parser, json, len, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: not valid JSON (%s)", origin, local_error->message);
      return NULL;
    }
  if (!cs_json_root_object (parser))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: not a tokenizer.json (no top-level object)", origin);
      return NULL;
    }
  root = cs_json_root_object (parser);
  model = cs_json_object (root, "model");
  type = cs_json_string (model, "type", NULL);
  if (!model || !type)
    {
      if (cs_json_array (root, "model") || json_object_has_member (root, "added_tokens_decoder"))
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                     "%s: this looks like tokenizer_config.json, not tokenizer.json", origin);
      else
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                     "%s: not a Hugging Face tokenizer.json (no model.type)", origin);
      return NULL;
    }
  if (!g_str_equal (type, "BPE"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "%s: the tokenizer model is %s; ConceptScope reads BPE tokenizers "
                   "(byte-level as GPT-2, Llama 3 and Qwen2 ship them, SentencePiece-style as Llama 2 and Gemma)",
                   origin, type);
      return NULL;
    }

  vocab = cs_json_object (model, "vocab");
  if (!vocab)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: model.vocab is missing", origin);
      return NULL;
    }
  {
    g_autoptr(GList) keys = json_object_get_members (vocab);
    /* ids run from 0 to about the number of entries; one far beyond would
     * make every id-indexed table that large (99,999,999 took 17 s) */
    gint64 limit = (gint64) g_list_length (keys) + (1 << 20);
    for (GList *l = keys; l; l = l->next)
      {
        gint64 id = -1;
        node_int (json_object_get_member (vocab, l->data), &id);
        if (id < 0 || id >= limit)
          {
            g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                         "%s: token '%s' has no valid id (a non-negative integer below %" G_GINT64_FORMAT ")",
                         origin, (const char *) l->data, limit);
            return NULL;
          }
        if ((guint) id < self->id_to_token->len && g_ptr_array_index (self->id_to_token, id))
          {
            /* two entries for one id: decoding would show one for the other */
            g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the vocabulary gives id %" G_GINT64_FORMAT
                         " to both '%s' and '%s'", origin, id, (const char *) g_ptr_array_index (self->id_to_token, id),
                         (const char *) l->data);
            return NULL;
          }
        set_token (self, (gint32) id, l->data);
      }
  }

  added = cs_json_array (root, "added_tokens");
  for (guint i = 0; added && i < json_array_get_length (added); i++)
    {
      JsonObject *a = elem_object (added, i);
      AddedToken t;
      const char *content = cs_json_string (a, "content", NULL);
      gint64 id = -1;
      if (!content || !*content || !json_object_has_member (a, "id") ||
          !node_int (json_object_get_member (a, "id"), &id) || id > G_MAXINT32 / 2)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: added_tokens[%u] is not {\"id\": …, \"content\": …}",
                       origin, i);
          return NULL;
        }
      t.content = g_strdup (content);
      t.id = (gint32) id;
      t.special = cs_json_bool (a, "special", FALSE);
      if (t.id < 0)
        {
          g_free (t.content);
          continue;
        }
      set_token (self, t.id, content);
      g_array_append_val (self->added, t);
      if (t.special)
        g_hash_table_add (self->special_ids, GINT_TO_POINTER (t.id));
    }
  g_array_sort (self->added, compare_added);

  merges = cs_json_array (model, "merges");
  for (guint i = 0; merges && i < json_array_get_length (merges); i++)
    {
      JsonNode *n = json_array_get_element (merges, i);
      g_autofree char *a = NULL;
      g_autofree char *b = NULL;
      g_autofree char *joined = NULL;
      gint32 ia, ib, im;

      if (JSON_NODE_HOLDS_ARRAY (n) && json_array_get_length (json_node_get_array (n)) == 2)
        {
          a = g_strdup (elem_string (json_node_get_array (n), 0));
          b = g_strdup (elem_string (json_node_get_array (n), 1));
        }
      else if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        {
          const char *s = json_node_get_string (n);
          const char *sp = *s ? strchr (s + 1, ' ') : NULL;
          if (!sp)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: merge %u is malformed", origin, i);
              return NULL;
            }
          a = g_strndup (s, sp - s);
          b = g_strdup (sp + 1);
        }
      if (!a || !b)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: merge %u is malformed", origin, i);
          return NULL;
        }
      joined = g_strconcat (a, b, NULL);
      ia = vocab_lookup (self, a);
      ib = vocab_lookup (self, b);
      im = vocab_lookup (self, joined);
      if (ia < 0 || ib < 0 || im < 0)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: merge %u ('%s' + '%s') uses a token missing from the vocabulary", origin, i, a, b);
          return NULL;
        }
      gint64 *key = g_new (gint64, 1);
      Merge *m = g_new (Merge, 1);
      *key = ((gint64) ia << 32) | (guint32) ib;
      m->rank = (gint32) i;
      m->merged = im;
      if (!g_hash_table_contains (self->merges, key))
        g_hash_table_insert (self->merges, key, m);
      else
        {
          g_free (key);
          g_free (m);
        }
    }

  self->byte_fallback = cs_json_bool (model, "byte_fallback", FALSE);
  self->ignore_merges = cs_json_bool (model, "ignore_merges", FALSE);
  self->fuse_unk = cs_json_bool (model, "fuse_unk", FALSE);
  unk = cs_json_string (model, "unk_token", NULL);
  if (unk)
    self->unk_id = vocab_lookup (self, unk);

  if (!read_normalizer (self, cs_json_object (root, "normalizer"), origin, error))
    return NULL;
  if (!read_pre_tokenizer (self, cs_json_object (root, "pre_tokenizer"), origin, error))
    return NULL;
  read_decoder (self, cs_json_object (root, "decoder"));
  if (!read_template (self, cs_json_object (root, "post_processor"), origin, error))
    return NULL;

  if (self->byte_level && self->byte_level_regex && !self->split)
    self->split = g_regex_new (GPT2_PATTERN, G_REGEX_OPTIMIZE, 0, NULL);
  if (!self->byte_level && !self->normalize_spm && !self->metaspace)
    {
      /* A BPE without byte-level or ▁ handling would silently mis-tokenise spaces. */
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "%s: this BPE tokenizer has neither a ByteLevel nor a SentencePiece (▁) pre-processing step; "
                   "ConceptScope reads byte-level BPE (GPT-2, Llama 3, Qwen2) and SentencePiece-style BPE (Llama 2, Gemma)",
                   origin);
      return NULL;
    }
  return g_steal_pointer (&self);
}

CsTokenizer *
cs_tokenizer_load (const char  *path,
                   GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s", local_error->message);
      return NULL;
    }
  return cs_tokenizer_parse (contents, (gssize) len, path, error);
}

/* ---- BPE ---- */

typedef struct
{
  gint32 id;
  int    prev, next;
} Symbol;

static void
bpe_word (CsTokenizer *self, const char *piece, GArray *out)
{
  g_autoptr(GArray) syms = g_array_new (FALSE, FALSE, sizeof (Symbol));
  const char *p = piece;
  gint32 whole;

  if (self->ignore_merges && (whole = vocab_lookup (self, piece)) >= 0)
    {
      g_array_append_val (out, whole);
      return;
    }

  /* Initial symbols: characters, or their bytes as <0xNN> tokens. */
  while (*p)
    {
      const char *next = g_utf8_next_char (p);
      char buf[8];
      gsize n = (gsize) (next - p);
      gint32 id;

      memcpy (buf, p, n);
      buf[n] = '\0';
      id = vocab_lookup (self, buf);
      if (id >= 0)
        {
          Symbol s = { id, 0, 0 };
          g_array_append_val (syms, s);
        }
      else if (self->byte_fallback)
        {
          for (gsize k = 0; k < n; k++)
            {
              char hex[8];
              g_snprintf (hex, sizeof hex, "<0x%02X>", (guint8) p[k]);
              Symbol s = { vocab_lookup (self, hex), 0, 0 };
              if (s.id < 0)
                s.id = self->unk_id;
              if (s.id >= 0)
                g_array_append_val (syms, s);
            }
        }
      else if (self->unk_id >= 0)
        {
          Symbol *last = syms->len ? &g_array_index (syms, Symbol, syms->len - 1) : NULL;
          if (!(self->fuse_unk && last && last->id == self->unk_id))
            {
              Symbol s = { self->unk_id, 0, 0 };
              g_array_append_val (syms, s);
            }
        }
      p = next;
    }

  int n = (int) syms->len;
  for (int i = 0; i < n; i++)
    {
      g_array_index (syms, Symbol, i).prev = i - 1;
      g_array_index (syms, Symbol, i).next = i + 1 < n ? i + 1 : -1;
    }

  /* Repeatedly merge the lowest-ranked adjacent pair, leftmost first. */
  for (;;)
    {
      int best = -1;
      gint32 best_rank = G_MAXINT32, best_id = -1;
      for (int i = n > 0 ? 0 : -1; i >= 0; i = g_array_index (syms, Symbol, i).next)
        {
          Symbol *s = &g_array_index (syms, Symbol, i);
          if (s->next < 0)
            break;
          gint64 key = ((gint64) s->id << 32) | (guint32) g_array_index (syms, Symbol, s->next).id;
          Merge *m = g_hash_table_lookup (self->merges, &key);
          if (m && m->rank < best_rank)
            {
              best_rank = m->rank;
              best = i;
              best_id = m->merged;
            }
        }
      if (best < 0)
        break;
      Symbol *s = &g_array_index (syms, Symbol, best);
      Symbol *t = &g_array_index (syms, Symbol, s->next);
      s->id = best_id;
      s->next = t->next;
      if (t->next >= 0)
        g_array_index (syms, Symbol, t->next).prev = best;
    }
  for (int i = n > 0 ? 0 : -1; i >= 0; i = g_array_index (syms, Symbol, i).next)
    g_array_append_val (out, g_array_index (syms, Symbol, i).id);
}

static void
bpe_cached (CsTokenizer *self, const char *piece, GArray *out)
{
  GArray *hit;

  g_mutex_lock (&self->cache_lock);
  hit = g_hash_table_lookup (self->cache, piece);
  if (hit)
    g_array_append_vals (out, hit->data, hit->len);
  g_mutex_unlock (&self->cache_lock);
  if (hit)
    return;

  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  bpe_word (self, piece, ids);
  g_array_append_vals (out, ids->data, ids->len);
  g_mutex_lock (&self->cache_lock);
  if (g_hash_table_size (self->cache) > 200000)
    g_hash_table_remove_all (self->cache);
  g_hash_table_replace (self->cache, g_strdup (piece), ids);
  g_mutex_unlock (&self->cache_lock);
}

/* Maps a pre-token's bytes to GPT-2's printable characters. */
static char *
byte_level_map (CsTokenizer *self, const char *s, gsize n)
{
  GString *out = g_string_sized_new (n * 2);
  for (gsize i = 0; i < n; i++)
    g_string_append_unichar (out, self->byte_to_char[(guint8) s[i]]);
  return g_string_free (out, FALSE);
}

static void
encode_piece (CsTokenizer *self, const char *s, gsize n, GArray *out)
{
  if (n == 0)
    return;
  if (self->byte_level)
    {
      g_autofree char *mapped = byte_level_map (self, s, n);
      bpe_cached (self, mapped, out);
    }
  else
    {
      g_autofree char *piece = g_strndup (s, n);
      bpe_cached (self, piece, out);
    }
}

/* Splits with the pre-tokeniser regex, keeping matches and the gaps between. */
static void
encode_split (CsTokenizer *self, const char *text, GArray *out)
{
  g_autoptr(GMatchInfo) mi = NULL;
  gsize len = strlen (text), pos = 0;

  if (!self->split)
    {
      encode_piece (self, text, len, out);
      return;
    }
  g_regex_match (self->split, text, 0, &mi);
  while (g_match_info_matches (mi))
    {
      int start, end;
      g_match_info_fetch_pos (mi, 0, &start, &end);
      if ((gsize) start > pos)
        encode_piece (self, text + pos, (gsize) start - pos, out);
      if (end > start)
        encode_piece (self, text + start, (gsize) (end - start), out);
      pos = (gsize) end;
      if (!g_match_info_next (mi, NULL))
        break;
    }
  if (pos < len)
    encode_piece (self, text + pos, len - pos, out);
}

static void
encode_segment (CsTokenizer *self, const char *segment, gsize n, gboolean first, GArray *out)
{
  g_autofree char *text = g_strndup (segment, n);

  if (!*text)
    return;
  if (self->normalize_spm || self->normalize_prepend)
    {
      GString *s = g_string_new (NULL);
      if (self->normalize_prepend)
        g_string_append (s, SPM_SPACE);
      g_string_append (s, text);
      if (self->normalize_spm)
        g_string_replace (s, " ", SPM_SPACE, 0);
      g_free (text);
      text = g_string_free (s, FALSE);
    }
  if (self->metaspace)
    {
      /* Metaspace: spaces become ▁, a ▁ goes before the first word, and each
       * word starts at a ▁. */
      g_autoptr(GString) s = g_string_new (NULL);
      if (self->metaspace_prepend && first && !g_str_has_prefix (text, " "))
        g_string_append (s, SPM_SPACE);
      g_string_append (s, text);
      g_string_replace (s, " ", SPM_SPACE, 0);
      const char *p = s->str, *start = s->str;
      while (*p)
        {
          if (p != start && g_str_has_prefix (p, SPM_SPACE))
            {
              encode_piece (self, start, (gsize) (p - start), out);
              start = p;
            }
          p = g_utf8_next_char (p);
        }
      encode_piece (self, start, (gsize) (p - start), out);
      return;
    }
  if (self->byte_level && self->add_prefix_space && first && !g_str_has_prefix (text, " "))
    {
      char *t = g_strconcat (" ", text, NULL);
      g_free (text);
      text = t;
    }
  encode_split (self, text, out);
}

GArray *
cs_tokenizer_encode (CsTokenizer  *self,
                     const char   *text,
                     gboolean      add_special,
                     GError      **error)
{
  GArray *out;
  const char *p, *seg;
  gboolean first = TRUE;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "the text is not valid UTF-8");
      return NULL;
    }
  out = g_array_new (FALSE, FALSE, sizeof (gint32));
  if (add_special)
    g_array_append_vals (out, self->template_prefix->data, self->template_prefix->len);

  /* Added tokens are matched in the raw text first, longest first. */
  p = seg = text;
  while (*p)
    {
      const AddedToken *hit = NULL;
      for (guint i = 0; i < self->added->len; i++)
        {
          const AddedToken *t = &g_array_index (self->added, AddedToken, i);
          if (*p == t->content[0] && g_str_has_prefix (p, t->content))
            {
              hit = t;
              break;
            }
        }
      if (hit)
        {
          encode_segment (self, seg, (gsize) (p - seg), first, out);
          first = FALSE;
          g_array_append_val (out, hit->id);
          p += strlen (hit->content);
          seg = p;
        }
      else
        p++;
    }
  encode_segment (self, seg, (gsize) (p - seg), first, out);

  if (add_special)
    g_array_append_vals (out, self->template_suffix->data, self->template_suffix->len);
  return out;
}

/* SentencePiece's byte-fallback tokens, <0x00> … <0xFF>. */
static gboolean
is_byte_token (CsTokenizer *self, const char *tok)
{
  return !self->byte_level && self->byte_fallback && tok && strlen (tok) == 6 &&
         g_str_has_prefix (tok, "<0x") && tok[5] == '>' &&
         g_ascii_isxdigit (tok[3]) && g_ascii_isxdigit (tok[4]);
}

static void
append_token_bytes (CsTokenizer *self, GString *bytes, gint32 id)
{
  const char *tok = cs_tokenizer_id_to_token (self, id);
  if (!tok)
    return;
  if (is_byte_token (self, tok))
    {
      g_string_append_c (bytes, (char) g_ascii_strtoull (tok + 3, NULL, 16));
      return;
    }
  if (g_hash_table_contains (self->special_ids, GINT_TO_POINTER (id)))
    {
      g_string_append (bytes, tok);
      return;
    }
  if (self->byte_level)
    {
      for (const char *c = tok; *c; c = g_utf8_next_char (c))
        {
          gpointer b = g_hash_table_lookup (self->char_to_byte, GUINT_TO_POINTER (g_utf8_get_char (c)));
          if (b)
            g_string_append_c (bytes, (char) (GPOINTER_TO_UINT (b) - 1));
          else
            g_string_append_unichar (bytes, g_utf8_get_char (c));
        }
      return;
    }
  /* SentencePiece style: ▁ is a space. */
  g_autoptr(GString) s = g_string_new (tok);
  g_string_replace (s, SPM_SPACE, " ", 0);
  g_string_append_len (bytes, s->str, (gssize) s->len);
}

char *
cs_tokenizer_decode (CsTokenizer  *self,
                     const gint32 *ids,
                     gsize         n_ids,
                     gboolean      skip_special)
{
  g_autoptr(GString) bytes = g_string_new (NULL);

  for (gsize i = 0; i < n_ids; i++)
    {
      if (skip_special && g_hash_table_contains (self->special_ids, GINT_TO_POINTER (ids[i])) &&
          !is_byte_token (self, cs_tokenizer_id_to_token (self, ids[i])))
        continue;
      append_token_bytes (self, bytes, ids[i]);
    }
  if (!self->byte_level && self->strip_leading_space && bytes->str[0] == ' ')
    g_string_erase (bytes, 0, 1);
  return g_utf8_make_valid (bytes->str, (gssize) bytes->len);
}

const char *
cs_tokenizer_id_to_token (CsTokenizer *self,
                          gint32       id)
{
  if (id < 0 || (guint) id >= self->id_to_token->len)
    return NULL;
  return g_ptr_array_index (self->id_to_token, id);
}

char *
cs_tokenizer_id_to_text (CsTokenizer *self,
                         gint32       id)
{
  g_autoptr(GString) bytes = g_string_new (NULL);
  append_token_bytes (self, bytes, id);
  return g_utf8_make_valid (bytes->str, (gssize) bytes->len);
}

gint32
cs_tokenizer_token_to_id (CsTokenizer *self,
                          const char  *token)
{
  return vocab_lookup (self, token);
}

gint32
cs_tokenizer_get_vocab_size (CsTokenizer *self)
{
  return (gint32) self->id_to_token->len;
}

gboolean
cs_tokenizer_is_special (CsTokenizer *self,
                         gint32       id)
{
  return g_hash_table_contains (self->special_ids, GINT_TO_POINTER (id));
}

gboolean
cs_tokenizer_check_vocab (CsTokenizer *self, gint64 model_vocab, const char *origin, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if ((gint64) self->id_to_token->len > model_vocab)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "%s: the tokenizer has ids up to %u, but the model's vocabulary has %" G_GINT64_FORMAT " rows",
                   origin, self->id_to_token->len - 1, model_vocab);
      return FALSE;
    }
  for (guint i = 0; i < self->added->len; i++)
    if (g_array_index (self->added, AddedToken, i).id >= model_vocab)
      {
        g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "%s: the added token '%s' has id %d, beyond the model's %"
                     G_GINT64_FORMAT " rows", origin, g_array_index (self->added, AddedToken, i).content,
                     g_array_index (self->added, AddedToken, i).id, model_vocab);
        return FALSE;
      }
  for (int k = 0; k < 2; k++)
    {
      GArray *t = k ? self->template_suffix : self->template_prefix;
      for (guint i = 0; i < t->len; i++)
        if (g_array_index (t, gint32, i) < 0 || g_array_index (t, gint32, i) >= model_vocab)
          {
            g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "%s: the post-processor adds token id %d (%s), beyond "
                         "the model's %" G_GINT64_FORMAT " rows", origin, g_array_index (t, gint32, i),
                         k ? "after the text" : "before the text, the BOS", model_vocab);
            return FALSE;
          }
    }
  return TRUE;
}
