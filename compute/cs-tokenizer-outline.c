#define G_LOG_DOMAIN "cs-tokenizer"

#include "cs-tokenizer-private.h"

#include <string.h>

/* ---- model.vocab and model.merges without a JSON tree ----
 *
 * They are nearly all of a tokenizer.json (Llama 3's: 128k vocabulary
 * entries, 280k merges), and json-glib builds a node for every string in
 * them. The reader finds the two members' text, hands json-glib the file
 * with them emptied, and reads them here, strictly: a string decoded and
 * checked as UTF-8, an id an integer, a merge "a b" or ["a", "b"]. Anything
 * it does not expect in the file's outline (two "model" members, say) sends
 * the whole file down json-glib's path instead. */

void
tok_scan_ws (Scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
    s->p++;
}

gboolean
tok_scan_char (Scan *s, char c)
{
  tok_scan_ws (s);
  if (s->p < s->end && *s->p == c)
    {
      s->p++;
      return TRUE;
    }
  return FALSE;
}

static int
hex4 (const char *p)
{
  int v = 0;
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* A JSON string at s->p (after white space); decoded into out (reset
 * first) when out is not NULL. */
gboolean
tok_scan_string (Scan *s, GString *out)
{
  tok_scan_ws (s);
  if (s->p >= s->end || *s->p != '"')
    return FALSE;
  s->p++;
  if (out)
    g_string_truncate (out, 0);
  while (s->p < s->end)
    {
      const char *run = s->p;
      while (s->p < s->end && *s->p != '"' && *s->p != '\\' && (guchar) *s->p >= 0x20)
        s->p++;
      if (out)
        g_string_append_len (out, run, s->p - run);
      if (s->p >= s->end || (guchar) *s->p < 0x20)
        return FALSE;
      if (*s->p == '"')
        {
          s->p++;
          return !out || g_utf8_validate (out->str, (gssize) out->len, NULL);
        }
      /* an escape */
      if (s->end - s->p < 2)
        return FALSE;
      char e = s->p[1];
      s->p += 2;
      if (e == 'u')
        {
          int u;
          if (s->end - s->p < 4 || (u = hex4 (s->p)) < 0)
            return FALSE;
          s->p += 4;
          if (u >= 0xd800 && u < 0xdc00)
            {
              int lo;
              if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' || (lo = hex4 (s->p + 2)) < 0xdc00 ||
                  lo >= 0xe000)
                return FALSE;
              s->p += 6;
              u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            }
          else if (u >= 0xdc00 && u < 0xe000)
            return FALSE;
          if (out)
            g_string_append_unichar (out, (gunichar) u);
          continue;
        }
      const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
      const char *k = strchr (from, e);
      if (!e || !k)
        return FALSE;
      if (out)
        g_string_append_c (out, to[k - from]);
    }
  return FALSE;
}

/* Skips any JSON value (not checked: json-glib reads what is skipped). */
gboolean
tok_scan_skip (Scan *s)
{
  int depth = 0;

  tok_scan_ws (s);
  do
    {
      if (s->p >= s->end)
        return FALSE;
      if (*s->p == '"')
        {
          if (!tok_scan_string (s, NULL))
            return FALSE;
          continue;
        }
      if (*s->p == '{' || *s->p == '[')
        depth++;
      else if (*s->p == '}' || *s->p == ']')
        depth--;
      else if (depth == 0 && (*s->p == ',' || *s->p == ':'))
        return TRUE;
      s->p++;
      if (depth == 0)
        {
          /* a scalar runs on until a delimiter */
          while (s->p < s->end && !strchr (",:]} \n\r\t", *s->p))
            s->p++;
          return TRUE;
        }
    }
  while (depth > 0);
  return depth == 0;
}

/* Walks an object's members, calling visit on each with the scanner at its
 * value; visit moves past the value. */
static gboolean
scan_members (Scan *s, gboolean (*visit) (Scan *, const char *, gpointer), gpointer data)
{
  g_autoptr(GString) key = g_string_new (NULL);

  if (!tok_scan_char (s, '{'))
    return FALSE;
  if (tok_scan_char (s, '}'))
    return TRUE;
  for (;;)
    {
      if (!tok_scan_string (s, key) || !tok_scan_char (s, ':'))
        return FALSE;
      tok_scan_ws (s);
      if (!visit (s, key->str, data))
        return FALSE;
      if (tok_scan_char (s, '}'))
        return TRUE;
      if (!tok_scan_char (s, ','))
        return FALSE;
    }
}

static gboolean
visit_model (Scan *s, const char *key, gpointer data)
{
  BigMembers *big = data;
  const char **start = g_str_equal (key, "vocab") ? &big->vocab : g_str_equal (key, "merges") ? &big->merges : NULL;
  const char *at = s->p;

  if (start && *start)
    return FALSE;   /* twice: json-glib decides which counts */
  if (!tok_scan_skip (s))
    return FALSE;
  if (start)
    {
      *start = at;
      if (start == &big->vocab)
        big->vocab_end = s->p;
      else
        big->merges_end = s->p;
    }
  return TRUE;
}

static gboolean
visit_root (Scan *s, const char *key, gpointer data)
{
  BigMembers *big = data;

  if (!g_str_equal (key, "model"))
    return tok_scan_skip (s);
  if (big->vocab || big->merges || s->p >= s->end || *s->p != '{')
    return FALSE;
  if (!scan_members (s, visit_model, big))
    return FALSE;
  return big->vocab != NULL;
}

gboolean
tok_find_big_members (const char *json, gsize len, BigMembers *big)
{
  Scan s = { json, json + len };

  memset (big, 0, sizeof *big);
  if (!scan_members (&s, visit_root, big))
    return FALSE;
  tok_scan_ws (&s);
  return s.p == s.end && big->vocab && (!big->merges || big->merges > big->vocab);
}

/* The file with model.vocab as {} and model.merges as [] (in either order). */
GString *
tok_without_big_members (const char *json, gsize len, const BigMembers *big)
{
  typedef struct { const char *start, *end, *empty; } Cut;
  GString *out = g_string_sized_new (len / 16 + 64);
  Cut cut[2] = {
    { big->vocab, big->vocab_end, "{}" }, { big->merges, big->merges_end, "[]" } };
  const char *at = json;

  if (!cut[1].start || (cut[1].start < cut[0].start))
    {
      Cut t = cut[0];
      cut[0] = cut[1];
      cut[1] = t;
    }
  for (int k = 0; k < 2; k++)
    {
      if (!cut[k].start)
        continue;
      g_string_append_len (out, at, cut[k].start - at);
      g_string_append (out, cut[k].empty);
      at = cut[k].end;
    }
  g_string_append_len (out, at, json + len - at);
  return out;
}

/* { "token": id, ... } */
gboolean
tok_read_vocab_text (const char *start, const char *end, GPtrArray *tokens, GArray *ids)
{
  Scan s = { start, end };
  g_autoptr(GString) tok = g_string_new (NULL);

  if (!tok_scan_char (&s, '{'))
    return FALSE;
  if (tok_scan_char (&s, '}'))
    return TRUE;
  for (;;)
    {
      gint64 id = 0;
      gboolean neg = FALSE;
      int digits = 0;

      if (!tok_scan_string (&s, tok) || !tok_scan_char (&s, ':'))
        return FALSE;
      tok_scan_ws (&s);
      if (s.p < s.end && *s.p == '-')
        {
          neg = TRUE;
          s.p++;
        }
      while (s.p < s.end && g_ascii_isdigit (*s.p))
        {
          if (id < G_MAXINT64 / 10 - 10)
            id = id * 10 + (*s.p - '0');
          s.p++;
          digits++;
        }
      if (!digits)
        {
          /* a string, null, an object…: no id (set_vocab says so) */
          if (neg || !tok_scan_skip (&s))
            return FALSE;
          id = -1;
        }
      if (s.p < s.end && (*s.p == '.' || *s.p == 'e' || *s.p == 'E'))
        id = -1;   /* a number, not an integer: refused by set_vocab */
      while (s.p < s.end && (g_ascii_isdigit (*s.p) || strchr (".eE+-", *s.p)))
        s.p++;
      if (neg)
        id = -1;
      g_ptr_array_add (tokens, g_strndup (tok->str, tok->len));
      g_array_append_val (ids, id);
      if (tok_scan_char (&s, '}'))
        break;
      if (!tok_scan_char (&s, ','))
        return FALSE;
    }
  tok_scan_ws (&s);
  return s.p == s.end;
}
