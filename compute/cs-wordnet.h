#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* WordNet 3.0's noun and verb databases read from their own files
 * (data.noun, index.noun, and data.verb, index.verb when present):
 * synsets, their lemmas, and hyponym links (instance hyponyms and verbs'
 * troponyms included). A synset is known by a key: its byte offset in
 * data.noun, or for a verb its offset in data.verb plus
 * CS_WORDNET_VERB_BASE. */
typedef struct _CsWordNet CsWordNet;

#define CS_WORDNET_VERB_BASE (G_GINT64_CONSTANT (1) << 32)

/* Parts of speech, as a set. */
typedef enum
{
  CS_WORDNET_NOUNS = 1,
  CS_WORDNET_VERBS = 2,
  CS_WORDNET_BOTH  = 3,
} CsWordNetPos;

/* "noun", "verb", "both" → the set; 0 for anything else. */
CsWordNetPos cs_wordnet_pos_parse       (const char   *name);

/* dir may be NULL: then $WNHOME (or $WNHOME/dict), /usr/share/wordnet and
 * /app/share/wordnet are tried. */
CsWordNet   *cs_wordnet_open            (const char   *dir,
                                         GError      **error);
void         cs_wordnet_free            (CsWordNet    *self);
const char  *cs_wordnet_get_dir         (CsWordNet    *self);

/* "mammal.n.01", "run.v.01", or a bare lemma meaning its first noun
 * sense. -1 when unknown. */
gint64       cs_wordnet_lookup          (CsWordNet    *self,
                                         const char   *name,
                                         GError      **error);
/* "mammal.n.01" or "run.v.01" for a synset key (first lemma, sense number from the index). */
char        *cs_wordnet_synset_name     (CsWordNet    *self,
                                         gint64        offset);
/* The synset's own lemmas, as WordNet spells them (underscores for spaces). */
const char * const *cs_wordnet_lemmas   (CsWordNet    *self,
                                         gint64        offset);
/* Direct hyponyms and instance hyponyms (offsets). */
GArray      *cs_wordnet_hyponyms        (CsWordNet    *self,
                                         gint64        offset);
/* The lemmas of every synset below offset (all depths), and of offset
 * itself when include_self, without duplicates, in a stable order. */
GPtrArray   *cs_wordnet_closure_lemmas  (CsWordNet    *self,
                                         gint64        offset,
                                         gboolean      include_self);

/* Every synset, for passes over the whole database: how many, and the
 * key of the i-th (ascending: the nouns, then the verbs). */
guint        cs_wordnet_n_synsets       (CsWordNet    *self);
gint64       cs_wordnet_synset_at       (CsWordNet    *self,
                                         guint         i);
/* The position of a synset in that order, or -1. */
int          cs_wordnet_synset_index    (CsWordNet    *self,
                                         gint64        offset);
/* The first cs_wordnet_n_nouns synsets are the nouns. */
guint        cs_wordnet_n_nouns         (CsWordNet    *self);
gboolean     cs_wordnet_has_verbs       (CsWordNet    *self);

/* Shortest-path distances between synsets (keys[i] < 0: none) through a
 * common hypernym, instance hypernyms included (as NLTK's
 * shortest_path_distance): out[i * n + j] = the fewest hypernym links from
 * i up to an ancestor a plus from j up to a; -1 when they share no
 * ancestor (a noun and a verb, verbs of different roots). */
void         cs_wordnet_distances       (CsWordNet    *self,
                                         const gint64 *keys,
                                         guint         n,
                                         gint32       *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsWordNet, cs_wordnet_free)

G_END_DECLS
