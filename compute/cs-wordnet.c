#define G_LOG_DOMAIN "cs-wordnet"

#include "cs-wordnet.h"
#include "cs-error.h"

#include <stdlib.h>
#include <string.h>

/* The files are read once and parsed in place: lemmas are pointers into
 * data.noun's text (each ended where its space was), synsets one array in
 * file order, which is offset order (an offset is the line's byte
 * position), found by binary search. WordNet 3.0's 82,115 noun synsets in
 * 0.13 s (most of it reading 20 MB) and 0.002 s to free, instead of
 * 0.15-0.31 s and 0.06 s with an allocation per lemma, synset and index
 * entry. */
typedef struct
{
  gint64 offset;
  guint  lemma_start;    /* into lemmas: this synset's, then NULL */
  guint  hyponym_start;  /* into hyponyms */
  guint  n_hyponyms;
} Synset;

/* Nouns and verbs, one array: a verb synset's key is its offset in
 * data.verb plus CS_WORDNET_VERB_BASE, so keys stay ascending (nouns
 * first) and one binary search finds either. */
struct _CsWordNet
{
  char       *dir;
  char       *data_text[2], *index_text[2];
  GArray     *synsets;   /* Synset, by key */
  GPtrArray  *lemmas;    /* char * into data_text; each synset's list ends with NULL */
  GArray     *hyponyms;  /* gint64 keys */
  GHashTable *index[2];  /* per part of speech: lowercase lemma (into index_text) → position in senses + 1 */
  GArray     *senses;    /* gint64: a count, then that many keys in sense order */
  guint       n_nouns;   /* the first n_nouns synsets are nouns */
  int        *hyper_start;  /* [n + 1], built on first use: hypernyms of synset i are */
  int        *hyper;        /* hyper[hyper_start[i] … hyper_start[i + 1]), as positions */
  gboolean    has_verbs;
};

static const char pos_letter[2] = { 'n', 'v' };
static const char *const pos_word[2] = { "noun", "verb" };

void
cs_wordnet_free (CsWordNet *self)
{
  if (!self)
    return;
  g_clear_pointer (&self->synsets, g_array_unref);
  g_clear_pointer (&self->lemmas, g_ptr_array_unref);
  g_clear_pointer (&self->hyponyms, g_array_unref);
  for (int k = 0; k < 2; k++)
    {
      g_clear_pointer (&self->index[k], g_hash_table_unref);
      g_free (self->data_text[k]);
      g_free (self->index_text[k]);
    }
  g_clear_pointer (&self->senses, g_array_unref);
  g_free (self->hyper_start);
  g_free (self->hyper);
  g_free (self->dir);
  g_free (self);
}

const char *
cs_wordnet_get_dir (CsWordNet *self)
{
  return self->dir;
}

static char *
find_dir (const char *dir)
{
  const char *home = g_getenv ("WNHOME");
  g_autoptr(GPtrArray) tries = g_ptr_array_new_with_free_func (g_free);

  if (dir)
    g_ptr_array_add (tries, g_strdup (dir));
  else
    {
      if (home && *home)
        {
          g_ptr_array_add (tries, g_strdup (home));
          g_ptr_array_add (tries, g_build_filename (home, "dict", NULL));
        }
      g_ptr_array_add (tries, g_strdup ("/usr/share/wordnet"));
      g_ptr_array_add (tries, g_strdup ("/app/share/wordnet"));
    }
  for (guint i = 0; i < tries->len; i++)
    {
      g_autofree char *probe = g_build_filename (g_ptr_array_index (tries, i), "data.noun", NULL);
      if (g_file_test (probe, G_FILE_TEST_IS_REGULAR))
        return g_strdup (g_ptr_array_index (tries, i));
    }
  return NULL;
}

/* A non-negative decimal or hexadecimal number at p (after spaces), its end
 * in *end (p itself when there is none, as strtol does). WordNet's numbers only: faster than
 * strtoll, which consults the locale. */
static gint64
number (char *p, char **end, int base)
{
  gint64 v = 0;
  char *given = p, *start;
  while (*p == ' ')
    p++;
  start = p;
  for (;; p++)
    {
      int d = g_ascii_isdigit (*p) ? *p - '0' : base == 16 && g_ascii_isxdigit (*p) ? g_ascii_xdigit_value (*p) : -1;
      if (d < 0 || v > G_MAXINT64 / 32)
        break;
      v = v * base + d;
    }
  *end = p == start ? given : p;
  return v;
}

static gboolean
parse_data (CsWordNet *self, int pos, const char *path, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  char *line, *next;
  gint64 last = -1, base = pos ? CS_WORDNET_VERB_BASE : 0;
  guint first = self->synsets->len;
  gsize len;

  if (!g_file_get_contents (path, &self->data_text[pos], &len, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s", local_error->message);
      return FALSE;
    }
  for (line = self->data_text[pos]; line && *line; line = next)
    {
      char *end = strchr (line, '\n'), *p = line, *q;
      Synset s;
      next = end ? end + 1 : NULL;
      if (end)
        *end = '\0';
      if (line[0] == ' ' || !g_ascii_isdigit (line[0]))
        continue;   /* the licence header */
      s.offset = number (p, &q, 10);
      if (q == p || s.offset <= last || s.offset >= CS_WORDNET_VERB_BASE)
        goto bad;
      last = s.offset;
      s.offset += base;
      p = q;
      number (p, &q, 10);              /* lex_filenum */
      p = q;
      while (*p == ' ')
        p++;
      if (!*p)
        goto bad;
      p++;                              /* ss_type */
      long w_cnt = number (p, &q, 16);
      if (q == p || w_cnt <= 0 || w_cnt > 1000)
        goto bad;
      p = q;
      s.lemma_start = self->lemmas->len;
      for (long i = 0; i < w_cnt; i++)
        {
          while (*p == ' ')
            p++;
          q = p;
          while (*q && *q != ' ')
            q++;
          if (!*q || q == p)
            goto bad;
          *q = '\0';                    /* the lemma ends here */
          g_ptr_array_add (self->lemmas, p);
          p = q + 1;
          number (p, &q, 16);           /* lex_id */
          p = q;
        }
      g_ptr_array_add (self->lemmas, NULL);
      long p_cnt = number (p, &q, 10);
      p = q;
      s.hyponym_start = self->hyponyms->len;
      for (long i = 0; i < p_cnt; i++)
        {
          char sym[4] = { 0 };
          while (*p == ' ')
            p++;
          for (int k = 0; k < 3 && *p && *p != ' '; k++)
            sym[k] = *p++;
          gint64 target = number (p, &q, 10);
          p = q;
          while (*p == ' ')
            p++;
          char tpos = *p;
          if (*p)
            p++;
          number (p, &q, 16);           /* source/target */
          p = q;
          if (tpos == pos_letter[pos] && sym[0] == '~' && (sym[1] == '\0' || (sym[1] == 'i' && sym[2] == '\0')))
            {
              target += base;
              g_array_append_val (self->hyponyms, target);
            }
        }
      s.n_hyponyms = self->hyponyms->len - s.hyponym_start;
      g_array_append_val (self->synsets, s);
    }
  if (self->synsets->len == first)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s holds no synsets", path);
      return FALSE;
    }
  return TRUE;
bad:
  g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: a line is not in WordNet's data format", path);
  return FALSE;
}

/* index.noun, index.verb: lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt synset_offset… */
static gboolean
parse_index (CsWordNet *self, int pos, const char *path, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  char *line, *next;
  gint64 base = pos ? CS_WORDNET_VERB_BASE : 0;

  if (!g_file_get_contents (path, &self->index_text[pos], NULL, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s", local_error->message);
      return FALSE;
    }
  for (line = self->index_text[pos]; line && *line; line = next)
    {
      char *end = strchr (line, '\n'), *f[4], *p = line;
      guint nf = 0;
      next = end ? end + 1 : NULL;
      if (end)
        *end = '\0';
      if (line[0] == ' ')
        continue;
      /* the first four fields, each ended in place */
      while (nf < 4 && *p)
        {
          f[nf++] = p;
          while (*p && *p != ' ')
            p++;
          if (*p)
            *p++ = '\0';
        }
      if (nf < 4)
        continue;
      long synset_cnt = strtol (f[2], NULL, 10), p_cnt = strtol (f[3], NULL, 10);
      if (synset_cnt <= 0 || p_cnt < 0)
        continue;
      /* skip the pointer symbols and the two counts */
      for (long k = 0; k < p_cnt + 2 && *p; k++)
        {
          while (*p && *p != ' ')
            p++;
          while (*p == ' ')
            p++;
        }
      guint start = self->senses->len;
      gint64 count = 0;
      g_array_append_val (self->senses, count);
      for (long i = 0; i < synset_cnt && *p; i++)
        {
          char *q;
          gint64 o = number (p, &q, 10);
          if (q == p)
            break;
          o += base;
          g_array_append_val (self->senses, o);
          count++;
          p = q;
          while (*p == ' ')
            p++;
        }
      if (count < synset_cnt)
        {
          g_array_set_size (self->senses, start);   /* a short line: left out, as before */
          continue;
        }
      g_array_index (self->senses, gint64, start) = count;
      g_hash_table_insert (self->index[pos], f[0], GUINT_TO_POINTER (start + 1));
    }
  return TRUE;
}

/* The senses of a lemma: a count, then the offsets; NULL when none. */
static const gint64 *
lemma_senses (CsWordNet *self, int pos, const char *lemma)
{
  guint at = self->index[pos] ? GPOINTER_TO_UINT (g_hash_table_lookup (self->index[pos], lemma)) : 0;
  return at ? &g_array_index (self->senses, gint64, at - 1) : NULL;
}

CsWordNet *
cs_wordnet_open (const char  *dir,
                 GError     **error)
{
  g_autoptr(CsWordNet) self = NULL;
  g_autofree char *found = find_dir (dir);

  if (!found)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING,
                   "WordNet 3.0 was not found%s%s: install it (Debian/Ubuntu: apt-get install wordnet-base), "
                   "or give its database folder (the one holding data.noun) with --wordnet or $WNHOME",
                   dir ? " in " : "", dir ? dir : "");
      return NULL;
    }
  self = g_new0 (CsWordNet, 1);
  self->dir = g_steal_pointer (&found);
  self->synsets = g_array_sized_new (FALSE, FALSE, sizeof (Synset), 90000);
  self->lemmas = g_ptr_array_sized_new (250000);
  self->hyponyms = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 100000);
  self->senses = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 250000);
  for (int pos = 0; pos < 2; pos++)
    {
      g_autofree char *data = g_build_filename (self->dir, pos ? "data.verb" : "data.noun", NULL);
      g_autofree char *index = g_build_filename (self->dir, pos ? "index.verb" : "index.noun", NULL);
      /* the verbs are optional: a folder of nouns alone serves all but --pos verb */
      if (pos == 1 && !(g_file_test (data, G_FILE_TEST_IS_REGULAR) && g_file_test (index, G_FILE_TEST_IS_REGULAR)))
        break;
      self->index[pos] = g_hash_table_new (g_str_hash, g_str_equal);
      if (!parse_data (self, pos, data, error) || !parse_index (self, pos, index, error))
        return NULL;
      if (pos == 0)
        self->n_nouns = self->synsets->len;
      else
        self->has_verbs = TRUE;
    }
  return g_steal_pointer (&self);
}

gint64
cs_wordnet_lookup (CsWordNet   *self,
                   const char  *name,
                   GError     **error)
{
  g_autofree char *lemma = NULL;
  long sense = 1;
  const char *dot = strstr (name, ".n.");
  const gint64 *offs;
  int pos = 0;

  if (!dot && (dot = strstr (name, ".v.")))
    pos = 1;
  if (pos == 1 && !self->has_verbs)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s holds no verbs (data.verb, index.verb)", self->dir);
      return -1;
    }
  if (dot)
    {
      char *end = NULL;
      lemma = g_ascii_strdown (name, dot - name);
      sense = strtol (dot + 3, &end, 10);
      if (!end || *end || sense < 1)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "'%s' is not a synset name like mammal.n.01 or run.v.01", name);
          return -1;
        }
    }
  else
    lemma = g_ascii_strdown (name, -1);
  g_strdelimit (lemma, " ", '_');
  offs = lemma_senses (self, pos, lemma);
  if (!offs || sense > offs[0])
    {
      if (offs)
        g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "WordNet has only %d %s senses of '%s'", (int) offs[0],
                     pos_word[pos], lemma);
      else
        g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "WordNet has no %s '%s'", pos_word[pos], lemma);
      return -1;
    }
  return offs[sense];
}

static Synset *
get_synset (CsWordNet *self, gint64 offset)
{
  guint lo = 0, hi = self->synsets->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      Synset *s = &g_array_index (self->synsets, Synset, mid);
      if (s->offset == offset)
        return s;
      if (s->offset < offset)
        lo = mid + 1;
      else
        hi = mid;
    }
  return NULL;
}

static const char * const *
synset_lemmas (CsWordNet *self, const Synset *s)
{
  return (const char * const *) &g_ptr_array_index (self->lemmas, s->lemma_start);
}

static const gint64 *
synset_hyponyms (CsWordNet *self, const Synset *s)
{
  return &g_array_index (self->hyponyms, gint64, s->hyponym_start);
}

char *
cs_wordnet_synset_name (CsWordNet *self,
                        gint64     offset)
{
  Synset *s = get_synset (self, offset);
  g_autofree char *lemma = NULL;
  const gint64 *offs;
  int pos = offset >= CS_WORDNET_VERB_BASE;

  if (!s)
    return NULL;
  lemma = g_ascii_strdown (synset_lemmas (self, s)[0], -1);
  offs = lemma_senses (self, pos, lemma);
  for (gint64 i = 0; offs && i < offs[0]; i++)
    if (offs[i + 1] == offset)
      return g_strdup_printf ("%s.%c.%02u", lemma, pos_letter[pos], (guint) (i + 1));
  return g_strdup_printf ("%s.%c.??", lemma, pos_letter[pos]);
}

const char * const *
cs_wordnet_lemmas (CsWordNet *self,
                   gint64     offset)
{
  Synset *s = get_synset (self, offset);
  return s ? synset_lemmas (self, s) : NULL;
}

GArray *
cs_wordnet_hyponyms (CsWordNet *self,
                     gint64     offset)
{
  Synset *s = get_synset (self, offset);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (s)
    g_array_append_vals (out, synset_hyponyms (self, s), s->n_hyponyms);
  return out;
}

GPtrArray *
cs_wordnet_closure_lemmas (CsWordNet *self,
                           gint64     offset,
                           gboolean   include_self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen_syn = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GHashTable) seen_lemma = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GArray) queue = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_array_append_val (queue, offset);
  for (guint qi = 0; qi < queue->len; qi++)
    {
      gint64 o = g_array_index (queue, gint64, qi);
      Synset *s = get_synset (self, o);
      if (!s || g_hash_table_contains (seen_syn, &o))
        continue;
      gint64 *key = g_new (gint64, 1);
      *key = o;
      g_hash_table_add (seen_syn, key);
      if (qi > 0 || include_self)
        for (const char * const *l = synset_lemmas (self, s); *l; l++)
          if (!g_hash_table_contains (seen_lemma, *l))
            {
              char *copy = g_strdup (*l);
              g_hash_table_add (seen_lemma, copy);
              g_ptr_array_add (out, copy);
            }
      g_array_append_vals (queue, synset_hyponyms (self, s), s->n_hyponyms);
    }
  return out;
}

guint
cs_wordnet_n_synsets (CsWordNet *self)
{
  return self->synsets->len;
}

gint64
cs_wordnet_synset_at (CsWordNet *self, guint i)
{
  g_return_val_if_fail (i < self->synsets->len, -1);
  return g_array_index (self->synsets, Synset, i).offset;
}

int
cs_wordnet_synset_index (CsWordNet *self, gint64 offset)
{
  Synset *s = get_synset (self, offset);
  return s ? (int) (s - (Synset *) self->synsets->data) : -1;
}

guint
cs_wordnet_n_nouns (CsWordNet *self)
{
  return self->n_nouns;
}

gboolean
cs_wordnet_has_verbs (CsWordNet *self)
{
  return self->has_verbs;
}

CsWordNetPos
cs_wordnet_pos_parse (const char *name)
{
  return !name                        ? 0
       : g_str_equal (name, "noun")   ? CS_WORDNET_NOUNS
       : g_str_equal (name, "verb")   ? CS_WORDNET_VERBS
       : g_str_equal (name, "both")   ? CS_WORDNET_BOTH
       : 0;
}

/* The hyponym links turned round, once. */
static void
ensure_hypernyms (CsWordNet *self)
{
  guint n = self->synsets->len;
  g_autofree int *fill = NULL;

  if (self->hyper_start)
    return;
  self->hyper_start = g_new0 (int, n + 1);
  for (guint i = 0; i < n; i++)
    {
      Synset *s = &g_array_index (self->synsets, Synset, i);
      for (guint k = 0; k < s->n_hyponyms; k++)
        {
          int j = cs_wordnet_synset_index (self, synset_hyponyms (self, s)[k]);
          if (j >= 0)
            self->hyper_start[j + 1]++;
        }
    }
  for (guint i = 0; i < n; i++)
    self->hyper_start[i + 1] += self->hyper_start[i];
  self->hyper = g_new (int, MAX (self->hyper_start[n], 1));
  fill = g_memdup2 (self->hyper_start, sizeof (int) * (n + 1));
  for (guint i = 0; i < n; i++)
    {
      Synset *s = &g_array_index (self->synsets, Synset, i);
      for (guint k = 0; k < s->n_hyponyms; k++)
        {
          int j = cs_wordnet_synset_index (self, synset_hyponyms (self, s)[k]);
          if (j >= 0)
            self->hyper[fill[j]++] = (int) i;
        }
    }
}

typedef struct
{
  int ancestor, dist;
} Up;

static int
compare_up (gconstpointer a, gconstpointer b)
{
  return ((const Up *) a)->ancestor - ((const Up *) b)->ancestor;
}

void
cs_wordnet_distances (CsWordNet *self, const gint64 *keys, guint n, gint32 *out)
{
  guint total = self->synsets->len;
  g_autofree GArray **ups = g_new0 (GArray *, MAX (n, 1));
  g_autofree int *dist = g_new (int, MAX (total, 1));
  g_autoptr(GArray) queue = g_array_new (FALSE, FALSE, sizeof (int));

  ensure_hypernyms (self);
  for (guint i = 0; i < total; i++)
    dist[i] = -1;
  /* each synset's ancestors (itself at 0) with their fewest links, by breadth-first search upwards */
  for (guint c = 0; c < n; c++)
    {
      int start = keys[c] >= 0 ? cs_wordnet_synset_index (self, keys[c]) : -1;
      ups[c] = g_array_new (FALSE, FALSE, sizeof (Up));
      if (start < 0)
        continue;
      g_array_set_size (queue, 0);
      g_array_append_val (queue, start);
      dist[start] = 0;
      for (guint q = 0; q < queue->len; q++)
        {
          int a = g_array_index (queue, int, q);
          Up u = { a, dist[a] };
          g_array_append_val (ups[c], u);
          for (int h = self->hyper_start[a]; h < self->hyper_start[a + 1]; h++)
            if (dist[self->hyper[h]] < 0)
              {
                dist[self->hyper[h]] = dist[a] + 1;
                g_array_append_val (queue, self->hyper[h]);
              }
        }
      for (guint q = 0; q < queue->len; q++)
        dist[g_array_index (queue, int, q)] = -1;
      g_array_sort (ups[c], compare_up);
    }
  /* a pair's distance: the best common ancestor, by merging the sorted lists */
  for (guint a = 0; a < n; a++)
    for (guint b = a; b < n; b++)
      {
        const Up *x = (const Up *) ups[a]->data, *y = (const Up *) ups[b]->data;
        guint i = 0, j = 0;
        gint32 best = -1;
        while (i < ups[a]->len && j < ups[b]->len)
          {
            if (x[i].ancestor < y[j].ancestor)
              i++;
            else if (x[i].ancestor > y[j].ancestor)
              j++;
            else
              {
                int d = x[i].dist + y[j].dist;
                if (best < 0 || d < best)
                  best = d;
                i++;
                j++;
              }
          }
        out[(gsize) a * n + b] = out[(gsize) b * n + a] = best;
      }
  for (guint c = 0; c < n; c++)
    g_array_unref (ups[c]);
}
