#define G_LOG_DOMAIN "cs-wordnet"

#include "cs-wordnet.h"
#include "cs-error.h"

#include <stdlib.h>
#include <string.h>

typedef struct
{
  char  **lemmas;        /* NULL-terminated */
  GArray *hyponyms;      /* gint64 */
} Synset;

struct _CsWordNet
{
  char       *dir;
  GHashTable *synsets;   /* gint64* offset → Synset* */
  GHashTable *index;     /* lowercase lemma → GArray of gint64 offsets (sense order) */
};

static void
synset_free (gpointer p)
{
  Synset *s = p;
  g_strfreev (s->lemmas);
  g_array_unref (s->hyponyms);
  g_free (s);
}

void
cs_wordnet_free (CsWordNet *self)
{
  if (!self)
    return;
  g_clear_pointer (&self->synsets, g_hash_table_unref);
  g_clear_pointer (&self->index, g_hash_table_unref);
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

static gboolean
parse_data (CsWordNet *self, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  g_autoptr(GError) local_error = NULL;
  char *line, *next;
  guint n = 0;

  if (!g_file_get_contents (path, &text, &len, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s", local_error->message);
      return FALSE;
    }
  for (line = text; line && *line; line = next)
    {
      char *end = strchr (line, '\n'), *p = line, *q;
      next = end ? end + 1 : NULL;
      if (end)
        *end = '\0';
      if (line[0] == ' ' || !g_ascii_isdigit (line[0]))
        continue;   /* the licence header */
      gint64 offset = g_ascii_strtoll (p, &q, 10);
      if (q == p)
        goto bad;
      p = q;
      strtol (p, &q, 10);              /* lex_filenum */
      p = q;
      while (*p == ' ')
        p++;
      if (!*p)
        goto bad;
      p++;                              /* ss_type */
      long w_cnt = strtol (p, &q, 16);
      if (q == p || w_cnt <= 0 || w_cnt > 1000)
        goto bad;
      p = q;
      Synset *s = g_new0 (Synset, 1);
      s->lemmas = g_new0 (char *, w_cnt + 1);
      s->hyponyms = g_array_new (FALSE, FALSE, sizeof (gint64));
      for (long i = 0; i < w_cnt; i++)
        {
          while (*p == ' ')
            p++;
          q = p;
          while (*q && *q != ' ')
            q++;
          s->lemmas[i] = g_strndup (p, q - p);
          p = q;
          strtol (p, &q, 16);           /* lex_id */
          p = q;
        }
      long p_cnt = strtol (p, &q, 10);
      p = q;
      for (long i = 0; i < p_cnt; i++)
        {
          char sym[4] = { 0 };
          while (*p == ' ')
            p++;
          for (int k = 0; k < 3 && *p && *p != ' '; k++)
            sym[k] = *p++;
          gint64 target = g_ascii_strtoll (p, &q, 10);
          p = q;
          while (*p == ' ')
            p++;
          char pos = *p;
          if (*p)
            p++;
          strtol (p, &q, 16);           /* source/target */
          p = q;
          if (pos == 'n' && (g_str_equal (sym, "~") || g_str_equal (sym, "~i")))
            g_array_append_val (s->hyponyms, target);
        }
      gint64 *key = g_new (gint64, 1);
      *key = offset;
      g_hash_table_insert (self->synsets, key, s);
      n++;
    }
  if (n == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s holds no synsets", path);
      return FALSE;
    }
  return TRUE;
bad:
  g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: a line is not in WordNet's data format", path);
  return FALSE;
}

static gboolean
parse_index (CsWordNet *self, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local_error = NULL;
  char *line, *next;

  if (!g_file_get_contents (path, &text, NULL, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s", local_error->message);
      return FALSE;
    }
  for (line = text; line && *line; line = next)
    {
      char *end = strchr (line, '\n');
      next = end ? end + 1 : NULL;
      if (end)
        *end = '\0';
      if (line[0] == ' ')
        continue;
      g_auto(GStrv) f = g_strsplit (line, " ", -1);
      guint nf = g_strv_length (f);
      if (nf < 4)
        continue;
      long synset_cnt = strtol (f[2], NULL, 10), p_cnt = strtol (f[3], NULL, 10);
      guint first = 4 + (guint) p_cnt + 2;
      if (synset_cnt <= 0 || first + synset_cnt > nf)
        continue;
      GArray *offs = g_array_new (FALSE, FALSE, sizeof (gint64));
      for (long i = 0; i < synset_cnt; i++)
        {
          gint64 o = g_ascii_strtoll (f[first + i], NULL, 10);
          g_array_append_val (offs, o);
        }
      g_hash_table_insert (self->index, g_strdup (f[0]), offs);
    }
  return TRUE;
}

CsWordNet *
cs_wordnet_open (const char  *dir,
                 GError     **error)
{
  g_autoptr(CsWordNet) self = NULL;
  g_autofree char *found = find_dir (dir);
  g_autofree char *data = NULL, *index = NULL;

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
  self->synsets = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, synset_free);
  self->index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  data = g_build_filename (self->dir, "data.noun", NULL);
  index = g_build_filename (self->dir, "index.noun", NULL);
  if (!parse_data (self, data, error) || !parse_index (self, index, error))
    return NULL;
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
  GArray *offs;

  if (dot)
    {
      char *end = NULL;
      lemma = g_ascii_strdown (name, dot - name);
      sense = strtol (dot + 3, &end, 10);
      if (!end || *end || sense < 1)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "'%s' is not a synset name like mammal.n.01", name);
          return -1;
        }
    }
  else
    lemma = g_ascii_strdown (name, -1);
  g_strdelimit (lemma, " ", '_');
  offs = g_hash_table_lookup (self->index, lemma);
  if (!offs || (guint) sense > offs->len)
    {
      if (offs)
        g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "WordNet has only %u noun senses of '%s'", offs->len, lemma);
      else
        g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "WordNet has no noun '%s'", lemma);
      return -1;
    }
  return g_array_index (offs, gint64, sense - 1);
}

static Synset *
get_synset (CsWordNet *self, gint64 offset)
{
  return g_hash_table_lookup (self->synsets, &offset);
}

char *
cs_wordnet_synset_name (CsWordNet *self,
                        gint64     offset)
{
  Synset *s = get_synset (self, offset);
  g_autofree char *lemma = NULL;
  GArray *offs;

  if (!s)
    return NULL;
  lemma = g_ascii_strdown (s->lemmas[0], -1);
  offs = g_hash_table_lookup (self->index, lemma);
  for (guint i = 0; offs && i < offs->len; i++)
    if (g_array_index (offs, gint64, i) == offset)
      return g_strdup_printf ("%s.n.%02u", lemma, i + 1);
  return g_strdup_printf ("%s.n.??", lemma);
}

const char * const *
cs_wordnet_lemmas (CsWordNet *self,
                   gint64     offset)
{
  Synset *s = get_synset (self, offset);
  return s ? (const char * const *) s->lemmas : NULL;
}

GArray *
cs_wordnet_hyponyms (CsWordNet *self,
                     gint64     offset)
{
  Synset *s = get_synset (self, offset);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (s)
    g_array_append_vals (out, s->hyponyms->data, s->hyponyms->len);
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
        for (guint i = 0; s->lemmas[i]; i++)
          if (!g_hash_table_contains (seen_lemma, s->lemmas[i]))
            {
              char *l = g_strdup (s->lemmas[i]);
              g_hash_table_add (seen_lemma, l);
              g_ptr_array_add (out, l);
            }
      g_array_append_vals (queue, s->hyponyms->data, s->hyponyms->len);
    }
  return out;
}
