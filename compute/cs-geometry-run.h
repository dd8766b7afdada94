#pragma once

#include <gio/gio.h>

#include "cs-backend.h"
#include "cs-categories.h"
#include "cs-geometry.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* One geometry run, as the Geometry page and `conceptscope-cli geometry`
 * both do it: the model's tokenizer, the categories (a WordNet hierarchy or
 * the user's JSON, plus optionally one category from a list of words), the
 * whitened unembedding (read from the user's cache or computed, beside the
 * categories on a second thread), and the estimated vectors. */

typedef struct
{
  const char       *hierarchy;        /* WordNet root: "animal" (default), "plant" or a synset */
  const char       *wordnet_dir;      /* NULL: the installed or shipped WordNet */
  const char       *categories_json;  /* the user's categories instead of WordNet, or NULL */
  gboolean          wordnet_all;      /* every synset (categories.pos: nouns, verbs or both) with
                                       * categories.min_tokens tokens or more */
  double            train_fraction;   /* each category's tokens that estimate its vector (0.7) */
  guint             seed;             /* of the split and the baselines (0) */
  CsCategoryOptions categories;       /* min_tokens 10, plurals off, depth 1 */
  /* a category from the user's words (comma-, semicolon- or newline-
   * separated): new under the root, or, when the name exists, that
   * category with its words replaced; NULL or "" for none */
  const char       *extra_name;
  const char       *extra_words;
  CsDevice          device;           /* for the whitening (auto) */
  gboolean          use_cache;        /* read and write the user's whitening cache (TRUE) */
} CsGeometryParams;

/* The whole-WordNet mode's default threshold for a vocabulary's size: the
 * paper's 50 for 256,000 tokens, in proportion, within 10 … 50. */
int  cs_geometry_wordnet_all_min_tokens (gint64 vocab);

/* The one place the defaults live; the page's settings and the CLI's
 * options start from them. */
void cs_geometry_params_init (CsGeometryParams *params);

typedef struct
{
  CsTokenizer     *tokenizer;
  CsGeometrySpace *space;
  CsGeometry      *geometry;
  char            *description;       /* "WordNet animal (DIR)" or "categories from FILE" */
  gboolean         whitening_cached;  /* the whitening came from the cache (or was given) */
  double           whitening_seconds;
  double           estimation_seconds;
} CsGeometryRun;

/* Runs it. space, when not NULL, is this model's whitening already at hand
 * (taken by reference; no whitening is done). progress gets the whitening
 * as [0, 0.5) and the estimation as [0.5, 1]; it is called from two
 * threads, so it must be thread-safe. */
CsGeometryRun *cs_geometry_run      (CsModel                *model,
                                     const CsGeometryParams *params,
                                     CsGeometrySpace        *space,
                                     CsProgressFunc          progress,
                                     gpointer                progress_data,
                                     GCancellable           *cancellable,
                                     GError                **error);
void           cs_geometry_run_free (CsGeometryRun          *run);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsGeometryRun, cs_geometry_run_free)

G_END_DECLS
