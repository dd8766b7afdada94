#pragma once

#include <glib.h>

#include "cs-tokenizer.h"
#include "cs-wordnet.h"

G_BEGIN_DECLS

/* The most categories one estimation takes: their cosine tables are
 * n × n, and the paper's whole-WordNet figures use hundreds. */
#define CS_CATEGORIES_MAX 4096

/* How a vocabulary marks a word that follows a space. */
typedef enum
{
  CS_VOCAB_BYTE_LEVEL,     /* Ġword */
  CS_VOCAB_SENTENCEPIECE,  /* ▁word */
  CS_VOCAB_BARE,           /* word */
} CsVocabStyle;

typedef struct
{
  char      *name;       /* display name: mammal */
  char      *source;     /* mammal.n.01, or "user" */
  int        parent;     /* index in the set, -1 for a root */
  GArray    *tokens;     /* gint32 token ids, ascending, unique */
  GPtrArray *words;      /* the words (lemmas) that matched a token */
  guint      n_words;    /* words tried */
  gboolean   reliable;   /* at least min_tokens tokens */
} CsCategory;

typedef struct
{
  GPtrArray *items;      /* CsCategory*, parents before children */
  int        min_tokens;
} CsCategorySet;

typedef struct
{
  int      min_tokens;   /* below this a category is flagged unreliable (default 10) */
  gboolean plurals;      /* also match simple English plurals */
  int      depth;        /* for a synset root: levels of hyponyms that become categories (default 1) */
  CsWordNetPos pos;      /* whole WordNet: nouns (default), verbs or both */
} CsCategoryOptions;

#define CS_CATEGORY_OPTIONS_INIT { 10, FALSE, 1, CS_WORDNET_NOUNS }

CsVocabStyle   cs_vocab_style                 (CsTokenizer              *tok);

/* hierarchy: "animal", "plant", or a synset name such as "bird.n.01". */
CsCategorySet *cs_category_set_from_wordnet   (CsWordNet                *wn,
                                               const char               *hierarchy,
                                               CsTokenizer              *tok,
                                               const CsCategoryOptions  *options,
                                               GError                  **error);
/* {"name": {"parent": "other" | null, "words": [...]}} or with "tokens":
 * [exact vocabulary strings]. */
/* Every WordNet noun synset (or verb synset, or both: options->pos) whose
 * hyponyms' lemmas give at least options->min_tokens tokens of the
 * vocabulary (the paper's "all WordNet features", with 50 for Gemma), in
 * a depth-first order from the roots (entity.n.01 for the nouns; the verbs'
 * many roots in file order, after the nouns): the hierarchy order of its
 * Figure 4, each under its nearest kept hypernym on that walk. A synset's tokens are those of its hyponym
 * closure, its own lemmas excluded, as for one hierarchy; found in one
 * pass that hands each synset's lemma tokens up to all its ancestors. An
 * error when more than CS_CATEGORIES_MAX synsets qualify. */
CsCategorySet *cs_category_set_from_wordnet_all (CsWordNet               *wn,
                                                 CsTokenizer             *tok,
                                                 const CsCategoryOptions *options,
                                                 GError                 **error);
CsCategorySet *cs_category_set_from_json      (const char               *path,
                                               CsTokenizer              *tok,
                                               const CsCategoryOptions  *options,
                                               GError                  **error);
CsCategorySet *cs_category_set_new            (int                       min_tokens);
/* Appends an empty category (no tokens yet) and returns it. */
CsCategory    *cs_category_set_add            (CsCategorySet            *set,
                                               const char               *name,
                                               const char               *source,
                                               int                       parent);
/* Appends a category made of words (matched like lemmas) under `parent`
 * (an index, or -1) and updates the reliability flags. */
CsCategory    *cs_category_set_add_words      (CsCategorySet            *set,
                                               CsTokenizer              *tok,
                                               const char               *name,
                                               int                       parent,
                                               const char * const       *words,
                                               gboolean                  plurals);
void           cs_category_set_free           (CsCategorySet            *set);
int            cs_category_set_find           (CsCategorySet            *set,
                                               const char               *name);
CsCategory    *cs_category_set_get            (CsCategorySet            *set,
                                               guint                     i);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsCategorySet, cs_category_set_free)

G_END_DECLS
