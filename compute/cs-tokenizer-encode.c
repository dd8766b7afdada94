#define G_LOG_DOMAIN "cs-tokenizer"

/* Encoding: added tokens, normalisation, pre-tokenisation (ByteLevel,
 * Metaspace, the split regex) and byte-pair merges with a heap of
 * candidates. The tokenizer itself is read in cs-tokenizer.c. */

#include <string.h>

#include "cs-error.h"
#include "cs-tokenizer-private.h"

/* ---- BPE ---- */

typedef struct
{
  gint32 id;
  int    prev, next;   /* neighbours in the word, -1 at the ends; prev -2 once merged away */
} Symbol;

/* A candidate merge of the symbol at pos with the one after it. */
typedef struct
{
  gint32 rank, pos;
  gint32 left, right, merged;
} Candidate;

static inline gboolean
candidate_before (const Candidate *a, const Candidate *b)
{
  return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void
heap_push (GArray *heap, const Candidate *c)
{
  guint i = heap->len;
  Candidate *h;

  g_array_set_size (heap, heap->len + 1);
  h = (Candidate *) heap->data;
  while (i > 0 && candidate_before (c, &h[(i - 1) / 2]))
    {
      h[i] = h[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  h[i] = *c;
}

static Candidate
heap_pop (GArray *heap)
{
  Candidate *h = (Candidate *) heap->data;
  Candidate top = h[0], last = h[heap->len - 1];
  guint n = heap->len - 1, i = 0;

  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && candidate_before (&h[c + 1], &h[c]))
        c++;
      if (!candidate_before (&h[c], &last))
        break;
      h[i] = h[c];
      i = c;
    }
  if (n > 0)
    h[i] = last;
  g_array_set_size (heap, n);
  return top;
}

static void
push_pair (CsTokenizer *self, GArray *heap, const Symbol *syms, int pos)
{
  guint64 key = ((guint64) (guint32) syms[pos].id << 32) | (guint32) syms[syms[pos].next].id;
  const Merge *m = tok_merge_lookup (&self->merges, key);

  if (m)
    {
      Candidate c = { m->rank, pos, syms[pos].id, syms[syms[pos].next].id, m->merged };
      heap_push (heap, &c);
    }
}

/* Byte-pair encoding of one pre-tokenised word: the lowest-ranked adjacent
 * pair is merged first, the leftmost of equal ranks first. Candidates wait
 * in a heap ordered by (rank, position); one that a merge has made stale
 * (a symbol gone or changed) is skipped when it comes up, and each merge
 * adds the two pairs it forms with its neighbours: O(n log n) in the word's
 * length (a SentencePiece-style tokenizer takes a whole line as one word). */
static void
bpe_word (CsTokenizer *self, const char *piece, GArray *out)
{
  g_autoptr(GArray) syms_array = g_array_new (FALSE, FALSE, sizeof (Symbol));
  g_autoptr(GArray) heap = NULL;
  const char *p = piece;
  Symbol *syms;
  gint32 whole;
  int n;

  if (self->ignore_merges && (whole = tok_vocab_lookup (self, piece)) >= 0)
    {
      g_array_append_val (out, whole);
      return;
    }

  /* Initial symbols: characters, or their bytes as <0xNN> tokens. */
  while (*p)
    {
      const char *next = g_utf8_next_char (p);
      char buf[8];
      gsize len = (gsize) (next - p);
      gint32 id;

      memcpy (buf, p, len);
      buf[len] = '\0';
      id = tok_vocab_lookup (self, buf);
      if (id >= 0)
        {
          Symbol s = { id, 0, 0 };
          g_array_append_val (syms_array, s);
        }
      else if (self->byte_fallback)
        {
          for (gsize k = 0; k < len; k++)
            {
              char hex[8];
              g_snprintf (hex, sizeof hex, "<0x%02X>", (guint8) p[k]);
              Symbol s = { tok_vocab_lookup (self, hex), 0, 0 };
              if (s.id < 0)
                s.id = self->unk_id;
              if (s.id >= 0)
                g_array_append_val (syms_array, s);
            }
        }
      else if (self->unk_id >= 0)
        {
          Symbol *last = syms_array->len ? &g_array_index (syms_array, Symbol, syms_array->len - 1) : NULL;
          if (!(self->fuse_unk && last && last->id == self->unk_id))
            {
              Symbol s = { self->unk_id, 0, 0 };
              g_array_append_val (syms_array, s);
            }
        }
      p = next;
    }

  n = (int) syms_array->len;
  syms = (Symbol *) syms_array->data;
  heap = g_array_sized_new (FALSE, FALSE, sizeof (Candidate), (guint) MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      syms[i].prev = i - 1;
      syms[i].next = i + 1 < n ? i + 1 : -1;
    }
  for (int i = 0; i + 1 < n; i++)
    push_pair (self, heap, syms, i);

  while (heap->len)
    {
      Candidate c = heap_pop (heap);
      Symbol *s = &syms[c.pos], *t;

      if (s->prev == -2 || s->next < 0 || s->id != c.left || syms[s->next].id != c.right)
        continue;   /* stale */
      t = &syms[s->next];
      s->id = c.merged;
      s->next = t->next;
      t->prev = -2;
      if (s->next >= 0)
        syms[s->next].prev = c.pos;
      if (s->prev >= 0)
        push_pair (self, heap, syms, s->prev);
      if (s->next >= 0)
        push_pair (self, heap, syms, c.pos);
    }
  for (int i = n > 0 ? 0 : -1; i >= 0; i = syms[i].next)
    g_array_append_val (out, syms[i].id);
}

static void
bpe_cached (CsTokenizer *self, const char *piece, GArray *out)
{
  GArray *hit;

  if (strlen (piece) > 256)
    {
      /* long words (a SentencePiece-style line) are rarely seen twice */
      bpe_word (self, piece, out);
      return;
    }
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
      /* Metaspace, as the Rust crate does it: spaces become ▁; a ▁ goes in
       * front unless the text already starts with one (a space or a literal
       * ▁), in every segment between added tokens (always) or only in the
       * text's first (first); with split, each ▁ starts a word (a run of
       * spaces gives one-▁ words before the last, which carries the word). */
      g_autoptr(GString) s = g_string_new (text);
      g_string_replace (s, " ", SPM_SPACE, 0);
      if ((self->metaspace_prepend == PREPEND_ALWAYS || (self->metaspace_prepend == PREPEND_FIRST && first)) &&
          !g_str_has_prefix (s->str, SPM_SPACE))
        g_string_prepend (s, SPM_SPACE);
      if (!self->metaspace_split)
        {
          encode_piece (self, s->str, s->len, out);
          return;
        }
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

