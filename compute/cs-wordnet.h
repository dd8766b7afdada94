#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* WordNet 3.0's noun database read from its own files (data.noun,
 * index.noun): synsets, their lemmas, and hyponym links (instance hyponyms
 * included). */
typedef struct _CsWordNet CsWordNet;

/* dir may be NULL: then $WNHOME (or $WNHOME/dict), /usr/share/wordnet and
 * /app/share/wordnet are tried. */
CsWordNet   *cs_wordnet_open            (const char   *dir,
                                         GError      **error);
void         cs_wordnet_free            (CsWordNet    *self);
const char  *cs_wordnet_get_dir         (CsWordNet    *self);

/* "mammal.n.01", or a bare lemma meaning its first sense. -1 when unknown. */
gint64       cs_wordnet_lookup          (CsWordNet    *self,
                                         const char   *name,
                                         GError      **error);
/* "mammal.n.01" for a synset offset (first lemma, sense number from the index). */
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

/* Every noun synset, for passes over the whole database: how many, and the
 * offset of the i-th (ascending). */
guint        cs_wordnet_n_synsets       (CsWordNet    *self);
gint64       cs_wordnet_synset_at       (CsWordNet    *self,
                                         guint         i);
/* The position of a synset in that order, or -1. */
int          cs_wordnet_synset_index    (CsWordNet    *self,
                                         gint64        offset);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsWordNet, cs_wordnet_free)

G_END_DECLS
