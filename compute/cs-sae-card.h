#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cs-backend.h"
#include "cs-geometry.h"
#include "cs-model.h"
#include "cs-sae.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* Feature cards: every latent of an SAE scanned over a text corpus — where
 * it fires most (the top contexts, each the tokens around the firing one
 * with the latent's activation on each), how often it fires, and the
 * histogram of its non-zero activations. The corpus is streamed: each line
 * is tokenised (with the model's BOS), cut into chunks of at most
 * CS_SAE_SCAN_CHUNK tokens, and run in batches, so memory stays bounded
 * whatever the file's size. A scan is cached in the user's cache folder per
 * SAE and corpus (their paths, sizes and modification times), so a second
 * look is instant. */

#define CS_SAE_SCAN_CHUNK   64   /* tokens per chunk of a line */
#define CS_SAE_SCAN_TOP     20   /* top contexts per latent */
#define CS_SAE_SCAN_WINDOW  8    /* tokens kept on each side of a firing token */
#define CS_SAE_SCAN_BINS    40   /* histogram bins, log10 activation from −3 to 3 */

typedef struct
{
  int      d_sae, layer;
  gint64   n_tokens;                 /* scanned */
  gint64  *fires;                    /* [d_sae] tokens where the latent is > 0 */
  double  *hist;                     /* [d_sae, BINS] counts of non-zero activations by log10 bin */
  float   *top_act;                  /* [d_sae, TOP] descending; 0 where fewer fired */
  gint64  *top_where;                /* [d_sae, TOP] line × 1024 + position in the line (for checking) */
  gint32  *top_ids;                  /* [d_sae, TOP, 2W + 1] the context's token ids, −1 past its ends */
  float   *top_acts;                 /* [d_sae, TOP, 2W + 1] the latent on each of them */
  gboolean from_cache;
} CsSaeScan;

/* Scans the corpus at resid_post.layer (max_tokens ≤ 0: all of it),
 * reading the cache first when use_cache. */
CsSaeScan *cs_sae_scan_run   (CsModel        *model,
                              CsTokenizer    *tokenizer,
                              CsSae          *sae,
                              const char     *sae_path,
                              int             layer,
                              const char     *corpus,
                              gint64          max_tokens,
                              gboolean        use_cache,
                              CsProgressFunc  progress,
                              gpointer        progress_data,
                              GCancellable   *cancellable,
                              GError        **error);
void       cs_sae_scan_free  (CsSaeScan      *scan);
gboolean   cs_sae_scan_save  (const CsSaeScan *scan,
                              const char     *path,
                              GError        **error);
CsSaeScan *cs_sae_scan_load  (const char     *path,
                              GError        **error);
/* Several scans (a set's, one per layer) in one file: group /L{layer}/
 * holds each one's tables and its n_tokens and layer. */
gboolean   cs_sae_scans_save (CsSaeScan * const *scans,
                              int             n,
                              const char     *path,
                              GError        **error);

/* What a latent writes: the n tokens its decoder row raises most and the
 * n it lowers most through the unembedding (ids, descending / ascending). */
void       cs_sae_latent_logits (CsModel     *model,
                                 CsSae       *sae,
                                 int          latent,
                                 int          n,
                                 gint32      *raised,
                                 gint32      *lowered);

/* One latent's card, assembled from a scan for the screen, a figure file
 * and JSON alike: its top contexts as token texts, what its decoder row
 * writes through the unembedding, and (when a geometry is given) its
 * cosine with each reliable category's concept direction Cov^½ ℓ̄. */
typedef struct
{
  int      layer, latent;
  gint64   n_tokens, fires;
  gboolean from_cache;
  int      n_contexts, width;          /* contexts that fired; tokens each (the firing one in the middle) */
  gint32  *ids;                        /* [n_contexts, width], −1 past a context's ends */
  char   **tokens;                     /* [n_contexts × width] texts, NULL past the ends */
  float   *acts;                       /* [n_contexts, width] the latent on each token */
  float   *peak;                       /* [n_contexts] at the firing token */
  gint64  *where;                      /* [n_contexts] line × 2^20 + position in the line */
  double   hist[CS_SAE_SCAN_BINS];
  int      n_logits;
  gint32  *raised, *lowered;           /* [n_logits] token ids */
  char   **raised_text, **lowered_text;   /* NULL-terminated */
  int      n_concepts;
  char   **concepts;                   /* NULL-terminated category names */
  double  *concept_cos;
} CsSaeCard;

/* sae may be NULL when n_logits is 0 (no logits: a summary from the scan). */
CsSaeCard *cs_sae_card_new          (CsModel          *model,
                                     CsTokenizer      *tokenizer,
                                     CsSae            *sae,
                                     const CsSaeScan  *scan,
                                     int               latent,
                                     int               n_logits);
/* The decoder row's cosine with each estimated, reliable category's
 * Cov^½ ℓ̄ (the space's model must have the SAE's width). */
gboolean   cs_sae_card_add_concepts (CsSaeCard        *card,
                                     CsSae            *sae,
                                     CsGeometrySpace  *space,
                                     CsGeometry       *geometry,
                                     GError          **error);
JsonNode  *cs_sae_card_to_json      (const CsSaeCard  *card);
/* One line for a tooltip: how often it fires and its strongest context. */
char      *cs_sae_card_summary      (const CsSaeCard  *card);
void       cs_sae_card_free         (CsSaeCard        *card);

/* "L2/431" or "2/431" → layer and latent. */
gboolean   cs_sae_latent_parse      (const char       *text,
                                     int              *layer,
                                     int              *latent);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSaeScan, cs_sae_scan_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSaeCard, cs_sae_card_free)

G_END_DECLS
