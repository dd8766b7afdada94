#define G_LOG_DOMAIN "cs-tokenizer"

#include "cs-tokenizer.h"
#include "cs-error.h"
#include "cs-json.h"
#include "cs-tokenizer-private.h"

#include <json-glib/json-glib.h>
#include <string.h>


CsTokenizer *
cs_tokenizer_ref (CsTokenizer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->extra_refs);
  return self;
}

void
cs_tokenizer_free (CsTokenizer *self)
{
  if (!self)
    return;
  if (g_atomic_int_add (&self->extra_refs, -1) > 0)
    return;
  g_clear_pointer (&self->vocab, g_hash_table_unref);
  g_clear_pointer (&self->id_to_token, g_ptr_array_unref);
  g_free (self->merges.slots);
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

/* id_to_token owns the strings; the vocabulary's keys are those strings. */
static void
set_token (CsTokenizer *self, gint32 id, const char *token)
{
  char *old;

  if ((guint) id >= self->id_to_token->len)
    g_ptr_array_set_size (self->id_to_token, id + 1);
  old = g_ptr_array_index (self->id_to_token, id);
  if (old && g_str_equal (old, token))
    return;
  if (old && GPOINTER_TO_INT (g_hash_table_lookup (self->vocab, old)) == id + 1)
    g_hash_table_remove (self->vocab, old);
  g_free (old);
  g_ptr_array_index (self->id_to_token, id) = g_strdup (token);
  g_hash_table_replace (self->vocab, g_ptr_array_index (self->id_to_token, id), GINT_TO_POINTER (id + 1));
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

/* The Rust crate's regexes run on Oniguruma, whose \s is Unicode's
 * White_Space; PCRE's (GRegex) also takes U+180E MONGOLIAN VOWEL SEPARATOR
 * (a space before Unicode 6.3), so "x\u180e!" split differently. The
 * pattern is rewritten with that class spelled out: \s outside a class
 * becomes [WS], \S becomes [^WS], and \s inside a class becomes WS. */
#define WHITE_SPACE "\\t-\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"

static char *
oniguruma_spaces (const char *pattern)
{
  GString *out = g_string_new (NULL);
  gboolean in_class = FALSE;

  for (const char *p = pattern; *p; p++)
    {
      if (*p == '\\' && p[1])
        {
          if (p[1] == 's')
            g_string_append (out, in_class ? WHITE_SPACE : "[" WHITE_SPACE "]");
          else if (p[1] == 'S' && !in_class)
            g_string_append (out, "[^" WHITE_SPACE "]");
          else
            g_string_append_len (out, p, 2);
          p++;
          continue;
        }
      if (*p == '[' && !in_class)
        {
          in_class = TRUE;
          g_string_append_c (out, '[');
          if (p[1] == '^')
            g_string_append_c (out, *++p);
          if (p[1] == ']')   /* a ] first in a class is a literal */
            g_string_append_c (out, *++p);
          continue;
        }
      if (*p == ']' && in_class)
        in_class = FALSE;
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static GRegex *
compile_split (const char *pattern, GError **error)
{
  g_autofree char *translated = oniguruma_spaces (pattern);
  return g_regex_new (translated, G_REGEX_OPTIMIZE, 0, error);
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
      self->split = compile_split (regex, &local_error);
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
      /* prepend_scheme (tokenizers ≥ 0.19) or the older add_prefix_space,
       * which meant "always" */
      const char *scheme = cs_json_string (pt, "prepend_scheme", NULL);
      self->metaspace = TRUE;
      if (scheme && g_str_equal (scheme, "first"))
        self->metaspace_prepend = PREPEND_FIRST;
      else if (scheme && g_str_equal (scheme, "never"))
        self->metaspace_prepend = PREPEND_NEVER;
      else if (scheme && g_str_equal (scheme, "always"))
        self->metaspace_prepend = PREPEND_ALWAYS;
      else if (scheme)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the Metaspace pre-tokeniser's prepend_scheme '%s' is "
                       "none of always, first, never", origin, scheme);
          return FALSE;
        }
      else
        self->metaspace_prepend = cs_json_bool (pt, "add_prefix_space", TRUE) ? PREPEND_ALWAYS : PREPEND_NEVER;
      self->metaspace_split = cs_json_bool (pt, "split", TRUE);
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

/* Adds a merge unless the pair has one already (the first, lowest rank, counts). */
static void
merge_insert (MergeTable *t, guint64 key, gint32 rank, gint32 merged)
{
  if (2 * (t->n + 1) > t->mask + 1 || !t->slots)
    {
      MergeTable bigger = { NULL, t->slots ? 2 * t->mask + 1 : 1023, 0 };
      bigger.slots = g_new (Merge, bigger.mask + 1);
      for (gsize i = 0; i <= bigger.mask; i++)
        bigger.slots[i].key = MERGE_EMPTY;
      for (gsize i = 0; t->slots && i <= t->mask; i++)
        if (t->slots[i].key != MERGE_EMPTY)
          merge_insert (&bigger, t->slots[i].key, t->slots[i].rank, t->slots[i].merged);
      g_free (t->slots);
      *t = bigger;
    }
  for (gsize i = tok_pair_hash (key) & t->mask;; i = (i + 1) & t->mask)
    {
      if (t->slots[i].key == key)
        return;
      if (t->slots[i].key == MERGE_EMPTY)
        {
          t->slots[i] = (Merge) { key, rank, merged };
          t->n++;
          return;
        }
    }
}

static gboolean add_merge (CsTokenizer *self, const char *a, const char *b, guint i, const char *origin,
                           GError **error);

/* [ "a b", ... ] or [ ["a", "b"], ... ] */
static gboolean
read_merges_text (CsTokenizer *self, const char *start, const char *end, const char *origin, GError **error)
{
  Scan s = { start, end };
  g_autoptr(GString) a = g_string_new (NULL);
  g_autoptr(GString) b = g_string_new (NULL);
  guint i = 0;

  if (!tok_scan_char (&s, '['))
    goto malformed;
  if (tok_scan_char (&s, ']'))
    return TRUE;
  for (;; i++)
    {
      const char *left = NULL, *right = NULL;

      tok_scan_ws (&s);
      if (s.p < s.end && *s.p == '[')
        {
          s.p++;
          if (!tok_scan_string (&s, a) || !tok_scan_char (&s, ',') || !tok_scan_string (&s, b) || !tok_scan_char (&s, ']'))
            goto malformed;
          left = a->str;
          right = b->str;
        }
      else if (tok_scan_string (&s, a))
        {
          char *sp = a->len ? strchr (a->str + 1, ' ') : NULL;
          if (sp)
            {
              *sp = '\0';
              left = a->str;
              right = sp + 1;
            }
        }
      else
        goto malformed;
      if (!add_merge (self, left, right, i, origin, error))
        return FALSE;
      if (tok_scan_char (&s, ']'))
        break;
      if (!tok_scan_char (&s, ','))
        goto malformed;
    }
  tok_scan_ws (&s);
  if (s.p == s.end)
    return TRUE;
malformed:
  g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: merge %u is malformed", origin, i);
  return FALSE;
}

/* Tokens and their ids, checked before any table is sized by an id. */
static gboolean
set_vocab (CsTokenizer *self, GPtrArray *tokens, GArray *ids, const char *origin, GError **error)
{
  /* ids run from 0 to about the number of entries; one far beyond would
   * make every id-indexed table that large (99,999,999 took 17 s) */
  gint64 limit = (gint64) tokens->len + (1 << 20), top = -1;

  for (guint i = 0; i < tokens->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      if (id < 0 || id >= limit)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: token '%s' has no valid id (a non-negative integer below %" G_GINT64_FORMAT ")",
                       origin, (const char *) tokens->pdata[i], limit);
          return FALSE;
        }
      top = MAX (top, id);
    }
  g_ptr_array_set_size (self->id_to_token, (guint) (top + 1));
  for (guint i = 0; i < tokens->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      const char *token = tokens->pdata[i];
      if (g_ptr_array_index (self->id_to_token, id))
        {
          /* two entries for one id: decoding would show one for the other */
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the vocabulary gives id %" G_GINT64_FORMAT
                       " to both '%s' and '%s'", origin, id, (const char *) g_ptr_array_index (self->id_to_token, id),
                       token);
          return FALSE;
        }
      if (g_hash_table_contains (self->vocab, token))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the vocabulary lists token '%s' twice", origin, token);
          return FALSE;
        }
      /* the table and the array share the string */
      g_ptr_array_index (self->id_to_token, id) = tokens->pdata[i];
      tokens->pdata[i] = NULL;
      g_hash_table_insert (self->vocab, g_ptr_array_index (self->id_to_token, id), GINT_TO_POINTER (id + 1));
    }
  return TRUE;
}

static gboolean
add_merge (CsTokenizer *self, const char *a, const char *b, guint i, const char *origin, GError **error)
{
  gint32 ia, ib, im;
  guint64 key;

  if (!a || !b || !*a || !*b)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: merge %u is malformed", origin, i);
      return FALSE;
    }
  ia = tok_vocab_lookup (self, a);
  ib = tok_vocab_lookup (self, b);
  {
    gsize la = strlen (a), lb = strlen (b);
    char stack[256];
    char *joined = la + lb < sizeof stack ? stack : g_malloc (la + lb + 1);
    memcpy (joined, a, la);
    memcpy (joined + la, b, lb + 1);
    im = tok_vocab_lookup (self, joined);
    if (joined != stack)
      g_free (joined);
  }
  if (ia < 0 || ib < 0 || im < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: merge %u ('%s' + '%s') uses a token missing from the vocabulary", origin, i, a, b);
      return FALSE;
    }
  key = ((guint64) (guint32) ia << 32) | (guint32) ib;
  merge_insert (&self->merges, key, (gint32) i, im);
  return TRUE;
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
  BigMembers big;
  gboolean fast;
  g_autoptr(GString) outline = NULL;

  g_mutex_init (&self->cache_lock);
  self->vocab = g_hash_table_new (g_str_hash, g_str_equal);
  self->id_to_token = g_ptr_array_new_with_free_func (g_free);
  self->added = g_array_new (FALSE, FALSE, sizeof (AddedToken));
  self->special_ids = g_hash_table_new (NULL, NULL);
  self->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  self->unk_id = -1;
  init_byte_map (self);

  {
    gsize n = len < 0 ? strlen (json) : (gsize) len;
    fast = tok_find_big_members (json, n, &big);
    if (fast)
      outline = tok_without_big_members (json, n, &big);
  }
  if (!cs_json_parse (parser, outline ? outline->str : json, outline ? (gssize) outline->len : len, &local_error))
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
    g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

    if (fast)
      {
        if (!tok_read_vocab_text (big.vocab, big.vocab_end, tokens, ids))
          {
            g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: model.vocab is not an object of tokens and integer ids "
                         "(near byte %" G_GSIZE_FORMAT ")", origin, (gsize) (big.vocab - json));
            return NULL;
          }
      }
    else
      {
        g_autoptr(GList) keys = json_object_get_members (vocab);
        for (GList *l = keys; l; l = l->next)
          {
            gint64 id = -1;
            node_int (json_object_get_member (vocab, l->data), &id);
            g_ptr_array_add (tokens, g_strdup (l->data));
            g_array_append_val (ids, id);
          }
      }
    if (!set_vocab (self, tokens, ids, origin, error))
      return NULL;
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

  if (fast && big.merges)
    {
      if (!read_merges_text (self, big.merges, big.merges_end, origin, error))
        return NULL;
    }
  else
    {
      merges = cs_json_array (model, "merges");
      for (guint i = 0; merges && i < json_array_get_length (merges); i++)
        {
          JsonNode *n = json_array_get_element (merges, i);
          g_autofree char *a = NULL;
          g_autofree char *b = NULL;

          if (JSON_NODE_HOLDS_ARRAY (n) && json_array_get_length (json_node_get_array (n)) == 2)
            {
              a = g_strdup (elem_string (json_node_get_array (n), 0));
              b = g_strdup (elem_string (json_node_get_array (n), 1));
            }
          else if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
            {
              const char *str = json_node_get_string (n);
              const char *sp = *str ? strchr (str + 1, ' ') : NULL;
              if (sp)
                {
                  a = g_strndup (str, sp - str);
                  b = g_strdup (sp + 1);
                }
            }
          if (!add_merge (self, a, b, i, origin, error))
            return NULL;
        }
    }

  self->byte_fallback = cs_json_bool (model, "byte_fallback", FALSE);
  self->ignore_merges = cs_json_bool (model, "ignore_merges", FALSE);
  self->fuse_unk = cs_json_bool (model, "fuse_unk", FALSE);
  unk = cs_json_string (model, "unk_token", NULL);
  if (unk)
    self->unk_id = tok_vocab_lookup (self, unk);

  if (!read_normalizer (self, cs_json_object (root, "normalizer"), origin, error))
    return NULL;
  if (!read_pre_tokenizer (self, cs_json_object (root, "pre_tokenizer"), origin, error))
    return NULL;
  read_decoder (self, cs_json_object (root, "decoder"));
  if (!read_template (self, cs_json_object (root, "post_processor"), origin, error))
    return NULL;

  if (self->byte_level && self->byte_level_regex && !self->split)
    self->split = compile_split (GPT2_PATTERN, NULL);
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
  return tok_vocab_lookup (self, token);
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
