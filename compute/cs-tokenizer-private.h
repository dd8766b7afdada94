#pragma once

/* The tokenizer.json reader's outline pass (cs-tokenizer-outline.c): the
 * file's model.vocab and model.merges found and read without a JSON tree,
 * the rest handed to json-glib. Shared by cs-tokenizer.c only. */

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *p, *end;
} Scan;

typedef struct
{
  const char *vocab, *vocab_end;
  const char *merges, *merges_end;
} BigMembers;

void      tok_scan_ws             (Scan *s);
gboolean  tok_scan_char           (Scan *s, char c);
gboolean  tok_scan_string         (Scan *s, GString *out);
gboolean  tok_scan_skip           (Scan *s);
gboolean  tok_find_big_members    (const char *json, gsize len, BigMembers *big);
GString  *tok_without_big_members (const char *json, gsize len, const BigMembers *big);
gboolean  tok_read_vocab_text     (const char *start, const char *end, GPtrArray *tokens, GArray *ids);

G_END_DECLS
