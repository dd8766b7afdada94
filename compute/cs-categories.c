#define G_LOG_DOMAIN "cs-categories"

#include "cs-categories.h"
#include "cs-error.h"
#include "cs-json.h"

#include <json-glib/json-glib.h>
#include <string.h>

static void
category_free (gpointer p)
{
  CsCategory *c = p;
  g_free (c->name);
  g_free (c->source);
  g_array_unref (c->tokens);
  g_ptr_array_unref (c->words);
  g_free (c);
}

void
cs_category_set_free (CsCategorySet *set)
{
  if (!set)
    return;
  g_ptr_array_unref (set->items);
  g_free (set);
}

CsCategory *
cs_category_set_get (CsCategorySet *set, guint i)
{
  return g_ptr_array_index (set->items, i);
}

int
cs_category_set_find (CsCategorySet *set, const char *name)
{
  for (guint i = 0; i < set->items->len; i++)
    {
      CsCategory *c = cs_category_set_get (set, i);
      if (g_str_equal (c->name, name) || g_strcmp0 (c->source, name) == 0)
        return (int) i;
    }
  return -1;
}

CsCategorySet *
cs_category_set_new (int min_tokens)
{
  CsCategorySet *s = g_new0 (CsCategorySet, 1);
  s->items = g_ptr_array_new_with_free_func (category_free);
  s->min_tokens = min_tokens;
  return s;
}

static CsCategorySet *
set_new (const CsCategoryOptions *o)
{
  return cs_category_set_new (o->min_tokens);
}

static CsCategory *category_new (const char *name, const char *source, int parent);

CsCategory *
cs_category_set_add (CsCategorySet *set, const char *name, const char *source, int parent)
{
  CsCategory *c = category_new (name, source, parent);
  g_ptr_array_add (set->items, c);
  return c;
}

static CsCategory *
category_new (const char *name, const char *source, int parent)
{
  CsCategory *c = g_new0 (CsCategory, 1);
  c->name = g_strdup (name);
  c->source = g_strdup (source);
  c->parent = parent;
  c->tokens = g_array_new (FALSE, FALSE, sizeof (gint32));
  c->words = g_ptr_array_new_with_free_func (g_free);
  return c;
}

CsVocabStyle
cs_vocab_style (CsTokenizer *tok)
{
  static const char *probes[] = { "the", "and", "of", "to", "in", "is", "a", NULL };
  int byte_level = 0, spm = 0;

  for (guint i = 0; probes[i]; i++)
    {
      g_autofree char *b = g_strconcat ("\xc4\xa0", probes[i], NULL);
      g_autofree char *s = g_strconcat ("\xe2\x96\x81", probes[i], NULL);
      byte_level += cs_tokenizer_token_to_id (tok, b) >= 0;
      spm += cs_tokenizer_token_to_id (tok, s) >= 0;
    }
  if (byte_level == 0 && spm == 0)
    return CS_VOCAB_BARE;
  return byte_level >= spm ? CS_VOCAB_BYTE_LEVEL : CS_VOCAB_SENTENCEPIECE;
}

static int
compare_i32 (gconstpointer a, gconstpointer b)
{
  gint32 x = *(const gint32 *) a, y = *(const gint32 *) b;
  return x < y ? -1 : x > y;
}

static void
add_token (CsCategory *c, GHashTable *seen, gint32 id)
{
  if (id < 0 || g_hash_table_contains (seen, GINT_TO_POINTER (id + 1)))
    return;
  g_hash_table_add (seen, GINT_TO_POINTER (id + 1));
  g_array_append_val (c->tokens, id);
}

static char *
plural_of (const char *w)
{
  gsize n = strlen (w);
  if (n > 1 && w[n - 1] == 'y' && !strchr ("aeiou", w[n - 2]))
    return g_strdup_printf ("%.*sies", (int) (n - 1), w);
  if (g_str_has_suffix (w, "s") || g_str_has_suffix (w, "x") || g_str_has_suffix (w, "ch") ||
      g_str_has_suffix (w, "sh") || g_str_has_suffix (w, "z"))
    return g_strconcat (w, "es", NULL);
  return g_strconcat (w, "s", NULL);
}

/* A word becomes tokens by the vocabulary's own convention, in lowercase and
 * Capitalised form; a multi-word lemma counts only when it is one token. */
static void
match_words (CsCategory *c, GPtrArray *words, CsTokenizer *tok, CsVocabStyle style, gboolean plurals)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  const char *space = style == CS_VOCAB_BYTE_LEVEL ? "\xc4\xa0" : style == CS_VOCAB_SENTENCEPIECE ? "\xe2\x96\x81" : " ";

  c->n_words = words->len;
  for (guint i = 0; i < words->len; i++)
    {
      g_autoptr(GString) w = g_string_new (g_ptr_array_index (words, i));
      g_string_replace (w, "_", " ", 0);
      g_autofree char *lower = g_utf8_strdown (w->str, -1);
      g_autofree char *cap = g_strdup (lower);
      g_autofree char *forms[5] = { NULL };
      guint nf = 0;
      gboolean hit = FALSE;

      cap[0] = g_ascii_toupper (cap[0]);
      forms[nf++] = g_strdup (lower);
      if (!g_str_equal (cap, lower))
        forms[nf++] = g_strdup (cap);
      if (plurals)
        {
          forms[nf++] = plural_of (lower);
          forms[nf++] = plural_of (cap);
        }
      for (guint k = 0; k < nf; k++)
        {
          g_autoptr(GString) t = g_string_new (forms[k]);
          if (style != CS_VOCAB_BARE)
            {
              g_string_replace (t, " ", space, 0);
              g_string_prepend (t, space);
            }
          gint32 id = cs_tokenizer_token_to_id (tok, t->str);
          if (id >= 0 && !cs_tokenizer_is_special (tok, id))
            {
              hit = hit || !g_hash_table_contains (seen, GINT_TO_POINTER (id + 1));
              add_token (c, seen, id);
            }
        }
      if (hit)
        g_ptr_array_add (c->words, g_strdup (lower));
    }
  g_array_sort (c->tokens, compare_i32);
}

static void
finish (CsCategorySet *set)
{
  for (guint i = 0; i < set->items->len; i++)
    {
      CsCategory *c = cs_category_set_get (set, i);
      c->reliable = (int) c->tokens->len >= MAX (set->min_tokens, 2);
    }
}

static gboolean
add_synset (CsCategorySet *set, CsWordNet *wn, gint64 offset, int parent, CsTokenizer *tok,
            CsVocabStyle style, const CsCategoryOptions *o)
{
  g_autofree char *sname = cs_wordnet_synset_name (wn, offset);
  g_autofree char *display = g_strdup (cs_wordnet_lemmas (wn, offset)[0]);
  g_autoptr(GPtrArray) words = cs_wordnet_closure_lemmas (wn, offset, FALSE);
  CsCategory *c;

  g_strdelimit (display, "_", ' ');
  if (cs_category_set_find (set, display) >= 0)
    {
      g_free (display);
      display = g_strdup (sname);
    }
  c = category_new (display, sname, parent);
  match_words (c, words, tok, style, o->plurals);
  g_ptr_array_add (set->items, c);
  return TRUE;
}

static void
add_subtree (CsCategorySet *set, CsWordNet *wn, gint64 offset, int parent, int depth, CsTokenizer *tok,
             CsVocabStyle style, const CsCategoryOptions *o)
{
  int me = (int) set->items->len;
  add_synset (set, wn, offset, parent, tok, style, o);
  if (depth <= 0)
    return;
  g_autoptr(GArray) kids = cs_wordnet_hyponyms (wn, offset);
  for (guint i = 0; i < kids->len; i++)
    add_subtree (set, wn, g_array_index (kids, gint64, i), me, depth - 1, tok, style, o);
}

CsCategorySet *
cs_category_set_from_wordnet (CsWordNet                *wn,
                              const char               *hierarchy,
                              CsTokenizer              *tok,
                              const CsCategoryOptions  *options,
                              GError                  **error)
{
  static const CsCategoryOptions defaults = CS_CATEGORY_OPTIONS_INIT;
  const CsCategoryOptions *o = options ? options : &defaults;
  /* The paper's animal hierarchy, and a plant one built the same way. */
  static const char *animal[] = { "animal.n.01", "mammal.n.01", "bird.n.01", "fish.n.01", "reptile.n.01",
                                  "amphibian.n.03", "insect.n.01", NULL };
  static const char *plant[] = { "plant.n.02", "tree.n.01", "herb.n.01", "shrub.n.01", "flower.n.01",
                                 "vine.n.01", "grass.n.01", NULL };
  const char **preset = g_str_equal (hierarchy, "animal") ? animal : g_str_equal (hierarchy, "plant") ? plant : NULL;
  g_autoptr(CsCategorySet) set = set_new (o);
  CsVocabStyle style = cs_vocab_style (tok);

  if (preset)
    {
      for (guint i = 0; preset[i]; i++)
        {
          gint64 off = cs_wordnet_lookup (wn, preset[i], error);
          if (off < 0)
            return NULL;
          add_synset (set, wn, off, i == 0 ? -1 : 0, tok, style, o);
        }
    }
  else
    {
      gint64 off = cs_wordnet_lookup (wn, hierarchy, error);
      if (off < 0)
        return NULL;
      add_subtree (set, wn, off, -1, MAX (0, o->depth), tok, style, o);
    }
  if (set->items->len > CS_CATEGORIES_MAX)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%s to depth %d gives %u categories; at most %d are estimated "
                   "together (their cosines are a square table)", hierarchy, o->depth, set->items->len,
                   CS_CATEGORIES_MAX);
      return NULL;
    }
  finish (set);
  return g_steal_pointer (&set);
}

typedef struct
{
  CsWordNet     *wn;
  GArray       **closure;   /* per synset index: gint32 tokens handed up from below */
  guint          min_tokens;
  guint8        *visited;
  CsCategorySet *set;
  GHashTable    *names;     /* display names taken */
} WholeWalk;

/* Depth-first from a synset: kept synsets (enough tokens) in preorder, each
 * under the nearest kept one above it on this walk; a synset met again by
 * another path is not repeated. */
static void
whole_walk (WholeWalk *w, gint64 offset, int parent)
{
  int idx = cs_wordnet_synset_index (w->wn, offset);
  GArray *tokens;
  g_autoptr(GArray) kids = NULL;

  if (idx < 0 || w->visited[idx])
    return;
  w->visited[idx] = 1;
  tokens = w->closure[idx];
  if (tokens && tokens->len >= w->min_tokens)
    {
      g_autofree char *sname = cs_wordnet_synset_name (w->wn, offset);
      g_autofree char *display = g_strdup (cs_wordnet_lemmas (w->wn, offset)[0]);
      CsCategory *c;
      g_strdelimit (display, "_", ' ');
      if (g_hash_table_contains (w->names, display))
        {
          g_free (display);
          display = g_strdup (sname);
        }
      c = category_new (display, sname, parent);
      g_array_append_vals (c->tokens, tokens->data, tokens->len);
      g_hash_table_add (w->names, c->name);
      parent = (int) w->set->items->len;
      g_ptr_array_add (w->set->items, c);
    }
  kids = cs_wordnet_hyponyms (w->wn, offset);
  for (guint k = 0; k < kids->len; k++)
    whole_walk (w, g_array_index (kids, gint64, k), parent);
}

CsCategorySet *
cs_category_set_from_wordnet_all (CsWordNet *wn, CsTokenizer *tok, const CsCategoryOptions *options, GError **error)
{
  static const CsCategoryOptions defaults = CS_CATEGORY_OPTIONS_INIT;
  const CsCategoryOptions *o = options ? options : &defaults;
  guint n = cs_wordnet_n_synsets (wn);
  CsVocabStyle style = cs_vocab_style (tok);
  g_autoptr(CsCategorySet) set = set_new (o);
  g_autofree GArray **closure = g_new0 (GArray *, MAX (1, n));
  g_autofree GArray **parents = g_new0 (GArray *, MAX (1, n));
  g_autofree int *stamp = g_new (int, MAX (1, n));
  g_autoptr(GArray) queue = g_array_new (FALSE, FALSE, sizeof (int));
  WholeWalk w = { wn, closure, (guint) MAX (1, o->min_tokens), NULL, set, NULL };
  CsWordNetPos pos = o->pos ? o->pos : CS_WORDNET_NOUNS;

  if ((pos & CS_WORDNET_VERBS) && !cs_wordnet_has_verbs (wn))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s holds no verbs (data.verb, index.verb)",
                   cs_wordnet_get_dir (wn));
      return NULL;
    }
  /* hypernyms: the hyponym links turned round */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GArray) kids = cs_wordnet_hyponyms (wn, cs_wordnet_synset_at (wn, i));
      for (guint k = 0; k < kids->len; k++)
        {
          int j = cs_wordnet_synset_index (wn, g_array_index (kids, gint64, k));
          if (j < 0)
            continue;
          if (!parents[j])
            parents[j] = g_array_new (FALSE, FALSE, sizeof (int));
          g_array_append_val (parents[j], i);
        }
      stamp[i] = -1;
    }
  /* each synset's own lemma tokens, handed to every ancestor once */
  for (guint i = 0; i < n; i++)
    {
      const char * const *lemmas = cs_wordnet_lemmas (wn, cs_wordnet_synset_at (wn, i));
      g_autoptr(GPtrArray) words = g_ptr_array_new ();
      CsCategory *own;
      for (guint l = 0; lemmas && lemmas[l]; l++)
        g_ptr_array_add (words, (gpointer) lemmas[l]);
      if (words->len == 0 || !parents[i])
        continue;
      own = category_new ("", "", -1);
      match_words (own, words, tok, style, o->plurals);
      if (own->tokens->len > 0)
        {
          g_array_set_size (queue, 0);
          g_array_append_vals (queue, parents[i]->data, parents[i]->len);
          for (guint q = 0; q < queue->len; q++)
            {
              int a = g_array_index (queue, int, q);
              if (stamp[a] == (int) i)
                continue;
              stamp[a] = (int) i;
              if (!closure[a])
                closure[a] = g_array_new (FALSE, FALSE, sizeof (gint32));
              g_array_append_vals (closure[a], own->tokens->data, own->tokens->len);
              if (parents[a])
                g_array_append_vals (queue, parents[a]->data, parents[a]->len);
            }
        }
      category_free (own);
    }
  /* ascending and unique, as match_words leaves a category's tokens */
  for (guint i = 0; i < n; i++)
    if (closure[i] && closure[i]->len > 0)
      {
        guint m = 0;
        g_array_sort (closure[i], compare_i32);
        for (guint k = 0; k < closure[i]->len; k++)
          if (k == 0 || g_array_index (closure[i], gint32, k) != g_array_index (closure[i], gint32, m - 1))
            g_array_index (closure[i], gint32, m++) = g_array_index (closure[i], gint32, k);
        g_array_set_size (closure[i], m);
      }
  w.visited = g_new0 (guint8, MAX (1, n));
  w.names = g_hash_table_new (g_str_hash, g_str_equal);
  /* from every root of the chosen parts of speech, in key order (the
   * nouns' one root is entity.n.01) */
  for (guint i = 0; i < n; i++)
    {
      gboolean verb = i >= cs_wordnet_n_nouns (wn);
      if (!parents[i] && (pos & (verb ? CS_WORDNET_VERBS : CS_WORDNET_NOUNS)))
        whole_walk (&w, cs_wordnet_synset_at (wn, i), -1);
    }
  g_free (w.visited);
  g_hash_table_unref (w.names);
  for (guint i = 0; i < n; i++)
    {
      if (closure[i])
        g_array_unref (closure[i]);
      if (parents[i])
        g_array_unref (parents[i]);
    }
  if (set->items->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "no WordNet %s synset has %d or more tokens in this vocabulary",
                   pos == CS_WORDNET_NOUNS ? "noun" : pos == CS_WORDNET_VERBS ? "verb" : "noun or verb", o->min_tokens);
      return NULL;
    }
  if (set->items->len > CS_CATEGORIES_MAX)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%u WordNet synsets have %d or more tokens; at most %d are "
                   "estimated together (their cosines are a square table): ask for more tokens", set->items->len,
                   o->min_tokens, CS_CATEGORIES_MAX);
      return NULL;
    }
  finish (set);
  return g_steal_pointer (&set);
}

CsCategorySet *
cs_category_set_from_json (const char               *path,
                           CsTokenizer              *tok,
                           const CsCategoryOptions  *options,
                           GError                  **error)
{
  static const CsCategoryOptions defaults = CS_CATEGORY_OPTIONS_INIT;
  const CsCategoryOptions *o = options ? options : &defaults;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(CsCategorySet) set = set_new (o);
  g_autoptr(GList) names = NULL;
  g_autoptr(GPtrArray) parents = g_ptr_array_new ();
  CsVocabStyle style = cs_vocab_style (tok);
  JsonObject *root;

  if (!cs_json_parse_file (parser, path, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: %s", path, local_error->message);
      return NULL;
    }
  if (!cs_json_root_object (parser))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: expected {\"name\": {\"parent\": ..., \"words\": [...]}}", path);
      return NULL;
    }
  root = cs_json_root_object (parser);
  names = json_object_get_members (root);
  if (g_list_length (names) > CS_CATEGORIES_MAX)
    {
      /* n² cosines (and a quadratic walk of the parents) for 100,000
       * categories asked for 80 GB and minutes */
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%s: %u categories; at most %d are estimated together", path,
                   g_list_length (names), CS_CATEGORIES_MAX);
      return NULL;
    }
  for (GList *l = names; l; l = l->next)
    {
      const char *name = l->data;
      JsonNode *n = json_object_get_member (root, name);
      JsonObject *e;
      JsonNode *pn;
      const char *parent = NULL;
      CsCategory *c;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: category '%s' is not an object", path, name);
          return NULL;
        }
      e = json_node_get_object (n);
      pn = json_object_has_member (e, "parent") ? json_object_get_member (e, "parent") : NULL;
      if (pn && JSON_NODE_HOLDS_VALUE (pn) && json_node_get_value_type (pn) == G_TYPE_STRING)
        parent = json_node_get_string (pn);
      c = category_new (name, "user", -1);
      g_ptr_array_add (set->items, c);
      g_ptr_array_add (parents, (gpointer) parent);
      JsonNode *tn = json_object_has_member (e, "tokens") ? json_object_get_member (e, "tokens") : NULL;
      JsonNode *wn = json_object_has_member (e, "words") ? json_object_get_member (e, "words") : NULL;
      if ((tn && !JSON_NODE_HOLDS_ARRAY (tn)) || (wn && !JSON_NODE_HOLDS_ARRAY (wn)))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: category '%s': \"words\" and \"tokens\" must be lists",
                       path, name);
          return NULL;
        }
      if (tn)
        {
          JsonArray *a = json_node_get_array (tn);
          g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
          for (guint i = 0; a && i < json_array_get_length (a); i++)
            {
              JsonNode *en = json_array_get_element (a, i);
              const char *t = JSON_NODE_HOLDS_VALUE (en) && json_node_get_value_type (en) == G_TYPE_STRING ?
                              json_node_get_string (en) : NULL;
              gint32 id = t ? cs_tokenizer_token_to_id (tok, t) : -1;
              if (id < 0)
                {
                  g_set_error (error, CS_ERROR, CS_ERROR_MISSING,
                               "%s: category '%s': '%s' is not a token of this vocabulary", path, name,
                               t ? t : "(not a string)");
                  return NULL;
                }
              add_token (c, seen, id);
              g_ptr_array_add (c->words, g_strdup (t));
            }
          c->n_words = a ? json_array_get_length (a) : 0;
          g_array_sort (c->tokens, compare_i32);
        }
      else if (wn)
        {
          JsonArray *a = json_node_get_array (wn);
          g_autoptr(GPtrArray) words = g_ptr_array_new ();
          for (guint i = 0; a && i < json_array_get_length (a); i++)
            {
              JsonNode *en = json_array_get_element (a, i);
              if (JSON_NODE_HOLDS_VALUE (en) && json_node_get_value_type (en) == G_TYPE_STRING)
                g_ptr_array_add (words, (gpointer) json_node_get_string (en));
            }
          match_words (c, words, tok, style, o->plurals);
        }
      else
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: category '%s' has neither \"words\" nor \"tokens\"", path, name);
          return NULL;
        }
    }
  if (set->items->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s defines no categories", path);
      return NULL;
    }
  for (guint i = 0; i < set->items->len; i++)
    {
      const char *p = g_ptr_array_index (parents, i);
      if (!p)
        continue;
      int pi = cs_category_set_find (set, p);
      if (pi < 0 || pi == (int) i)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: category '%s' names an unknown parent '%s'",
                       path, cs_category_set_get (set, i)->name, p);
          return NULL;
        }
      cs_category_set_get (set, i)->parent = pi;
    }
  /* parents before children (and no cycles) */
  {
    g_autoptr(GPtrArray) order = g_ptr_array_new ();
    g_autofree gboolean *placed = g_new0 (gboolean, set->items->len);
    g_autofree int *remap = g_new0 (int, set->items->len);
    gboolean progress = TRUE;
    while (order->len < set->items->len && progress)
      {
        progress = FALSE;
        for (guint i = 0; i < set->items->len; i++)
          {
            CsCategory *c = cs_category_set_get (set, i);
            if (!placed[i] && (c->parent < 0 || placed[c->parent]))
              {
                placed[i] = TRUE;
                remap[i] = (int) order->len;
                g_ptr_array_add (order, c);
                progress = TRUE;
              }
          }
      }
    if (order->len < set->items->len)
      {
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the parents form a cycle", path);
        return NULL;
      }
    g_ptr_array_set_free_func (set->items, NULL);
    g_ptr_array_unref (set->items);
    set->items = g_ptr_array_new_with_free_func (category_free);
    for (guint i = 0; i < order->len; i++)
      {
        CsCategory *c = g_ptr_array_index (order, i);
        if (c->parent >= 0)
          c->parent = remap[c->parent];
        g_ptr_array_add (set->items, c);
      }
  }
  finish (set);
  return g_steal_pointer (&set);
}

CsCategory *
cs_category_set_add_words (CsCategorySet *set, CsTokenizer *tok, const char *name, int parent,
                           const char * const *words, gboolean plurals)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new ();
  CsCategory *c = cs_category_set_add (set, name, "user", parent);
  for (guint i = 0; words && words[i]; i++)
    if (*words[i])
      g_ptr_array_add (list, (gpointer) words[i]);
  match_words (c, list, tok, cs_vocab_style (tok), plurals);
  finish (set);
  return c;
}
