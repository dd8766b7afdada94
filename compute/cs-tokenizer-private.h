#pragma once

/* What the tokenizer's files share: the tokenizer itself (read in
 * cs-tokenizer.c), its encoding (cs-tokenizer-encode.c: pre-tokenisation
 * and BPE) and the tokenizer.json reader's outline pass
 * (cs-tokenizer-outline.c: the file's model.vocab and model.merges found
 * and read without a JSON tree, the rest handed to json-glib). */

#include <glib.h>

#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* GPT-2's pre-tokenisation, which the ByteLevel pre-tokeniser applies when
 * use_regex is set. */
#define GPT2_PATTERN \
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

#define SPM_SPACE "\xe2\x96\x81"   /* ▁ U+2581 */

enum { PREPEND_NEVER, PREPEND_FIRST, PREPEND_ALWAYS };

typedef struct
{
  char    *content;
  gint32   id;
  gboolean special;
} AddedToken;

typedef struct
{
  guint64 key;      /* left id << 32 | right id; MERGE_EMPTY when the slot is free */
  gint32  rank;
  gint32  merged;
} Merge;

#define MERGE_EMPTY G_MAXUINT64

/* Merge ranks by pair: open addressing, linear probing, at most half full
 * (280k merges: no allocation per entry, one cache line per lookup). */
typedef struct
{
  Merge *slots;
  gsize  mask, n;
} MergeTable;

struct _CsTokenizer
{
  GHashTable *vocab;           /* token string → id (+1, so 0 means absent) */
  GPtrArray  *id_to_token;     /* id → char* (NULL for holes) */
  MergeTable  merges;
  GArray     *added;           /* AddedToken, longest content first */
  GHashTable *special_ids;     /* ids of special added tokens */

  gboolean    byte_level;      /* ByteLevel pre-tokeniser / decoder */
  gboolean    byte_level_regex;
  gboolean    add_prefix_space;
  GRegex     *split;           /* pre-tokeniser regex, or NULL */
  gboolean    metaspace;       /* Metaspace pre-tokeniser */
  int         metaspace_prepend; /* PREPEND_NEVER, _FIRST (the text's first segment) or _ALWAYS */
  gboolean    metaspace_split; /* each ▁ starts a word */
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
  gint        extra_refs;      /* owners beyond the first (cs_tokenizer_ref) */
};


/* A merge's key is (left id << 32) | right id, mixed before it picks a
 * slot (ids in a pair are close together: XOR-folding them, as
 * g_int64_hash does, collides). */
static inline gsize
tok_pair_hash (guint64 v)
{
  v ^= v >> 33;
  v *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  v ^= v >> 33;
  return (gsize) v;
}

static inline const Merge *
tok_merge_lookup (const MergeTable *t, guint64 key)
{
  if (!t->slots)
    return NULL;
  for (gsize i = tok_pair_hash (key) & t->mask;; i = (i + 1) & t->mask)
    {
      if (t->slots[i].key == key)
        return &t->slots[i];
      if (t->slots[i].key == MERGE_EMPTY)
        return NULL;
    }
}

static inline gint32
tok_vocab_lookup (CsTokenizer *self, const char *token)
{
  gpointer v = g_hash_table_lookup (self->vocab, token);
  return v ? GPOINTER_TO_INT (v) - 1 : -1;
}


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
