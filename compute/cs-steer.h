#pragma once

#include <gio/gio.h>

#include "cs-backend.h"
#include "cs-geometry.h"
#include "cs-model.h"
#include "cs-sae.h"
#include "cs-sae-set.h"
#include "cs-sae-flow.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* Contrastive steering (ActAdd, Turner et al. 2023; CAA, Rimsky et al.
 * 2024): a vector per layer from pairs of prompts, added back during the
 * forward pass, and what it does to behaviour and to features downstream. */

typedef struct
{
  char *positive;        /* the text whose activations are added */
  char *negative;        /* the text whose activations are subtracted */
  /* A/B items (CAA's format): the question, and the letters */
  char *question;
  char  matching, not_matching;
} CsSteerPair;

typedef struct
{
  GPtrArray *pairs;      /* CsSteerPair*, in file order */
  gboolean   ab;         /* CAA A/B items (else plain pairs) */
} CsSteerDataset;

/* A JSON list of {"question", "answer_matching_behavior",
 * "answer_not_matching_behavior"} (answers like "(A)") or of {"positive",
 * "negative"}. */
CsSteerDataset *cs_steer_dataset_load  (const char       *path,
                                        GError          **error);
/* The same from text; origin names it in messages. */
CsSteerDataset *cs_steer_dataset_parse (const char       *json,
                                        gssize            len,
                                        const char       *origin,
                                        GError          **error);
void            cs_steer_dataset_free  (CsSteerDataset   *ds);
/* A dataset shipped in the data folder's steering/ by name
 * ("animal-vs-plant", with or without .json); NULL when there is none. */
char           *cs_steer_shipped_dataset (const char     *name);
/* "all" (or NULL/empty), a range "0-3", a list "1,2" or both "0-1,3" →
 * layer indices within 0 … n_layers − 1. */
GArray         *cs_steer_parse_layers  (const char       *spec,
                                        int               n_layers,
                                        GError          **error);
/* "-8,-4,0,4,8" → doubles. */
GArray         *cs_steer_parse_multipliers (const char   *spec,
                                        GError          **error);
/* The deterministic split: item i is held out when (i * 0.6180339887…) mod 1
 * < held_out (a low-discrepancy sequence: the held-out share is spread over
 * the file). */
gboolean        cs_steer_is_held_out   (guint             i,
                                        double            held_out);

typedef enum
{
  CS_STEER_POSITION_LAST,     /* the last token of each prompt */
  CS_STEER_POSITION_ANSWER,   /* A/B: the answer letter's token */
} CsSteerPosition;

typedef struct
{
  int       n_layers, d;
  float    *vectors;          /* [n_layers, d]: mean(positive − negative) at resid_post.L */
  int       n_pairs;          /* pairs used */
  float    *differences;      /* [n_layers, n_pairs, d] */
  double   *norms;            /* [n_layers] ‖v_L‖ */
  double   *resid_norms;      /* [n_layers] mean ‖resid_post.L‖ at the position, over both sides */
} CsSteerVectors;

/* Tokenises both sides of every pair not held out, runs them in batches,
 * and averages the differences at the position for every layer. */
CsSteerVectors *cs_steer_compute       (CsModel          *model,
                                        CsTokenizer      *tok,
                                        CsSteerDataset   *ds,
                                        double            held_out,
                                        CsSteerPosition   position,
                                        CsDevice          device,
                                        CsProgressFunc    progress,
                                        gpointer          progress_data,
                                        GCancellable     *cancellable,
                                        GError          **error);
void            cs_steer_vectors_free  (CsSteerVectors   *v);

/* The prompts a sweep measures: A/B items as "question (" with the two
 * letters' token ids; plain pairs as their negative side (does the vector
 * move the other side towards the behaviour?). */
typedef struct
{
  int      n;
  gint32 **ids;
  int     *lengths;
  gboolean ab;
  gint32  *letter_match, *letter_other;   /* [n] for A/B */
  int      steer_from;                    /* steering is added from this position on (0: all) */
} CsSteerPrompts;

CsSteerPrompts *cs_steer_prompts_new   (CsModel          *model,
                                        CsTokenizer      *tok,
                                        CsSteerDataset   *ds,
                                        double            held_out,
                                        gboolean          held_out_only,
                                        GError          **error);
void            cs_steer_prompts_free  (CsSteerPrompts   *p);

/* Behaviour of each prompt from its last-position logits [n, vocab]: A/B:
 * p(matching) / (p(A) + p(B)); otherwise the probability mass on targets. */
void            cs_steer_behaviour     (const CsSteerPrompts *p,
                                        const float      *logits,
                                        int               vocab,
                                        const gint32     *targets,
                                        int               n_targets,
                                        double           *out);

typedef struct
{
  int     n_layers, n_mult;
  int    *layers;
  double *multipliers;
  double *behaviour;       /* [n_layers, n_mult]: mean over prompts */
  double *behaviour_sd;    /* [n_layers, n_mult] */
  double  seconds;
  gint64  tokens;          /* the sweep's tokens: its prompts' tokens × layers × multipliers (the layers
                            * before each sweep layer run once per batch, not once per setting) */
} CsSteerSweep;

/* Adds m × v_L at resid_post.L at every position, for every layer and
 * multiplier asked, and measures the behaviour. */
CsSteerSweep   *cs_steer_sweep         (CsModel          *model,
                                        CsSteerVectors   *v,
                                        CsSteerPrompts   *prompts,
                                        const int        *layers,
                                        int               n_layers,
                                        const double     *multipliers,
                                        int               n_mult,
                                        const gint32     *targets,
                                        int               n_targets,
                                        CsDevice          device,
                                        CsProgressFunc    progress,
                                        gpointer          progress_data,
                                        GCancellable     *cancellable,
                                        GError          **error);
void            cs_steer_sweep_free    (CsSteerSweep     *s);

/* Features whose value a steered run changes, at every layer from the
 * steered one on (resid_post.l, last position, mean over prompts of steered
 * − unsteered): SAE latents at the SAE's layer, concept projections
 * ⟨ℓ̄_c/‖ℓ̄_c‖, Cov^(1/2)·final_norm(h)⟩ (the residual seen through the final
 * norm, in the whitened space where ℓ̄ lives), and logit-lens probabilities
 * softmax(unembed(final_norm(h))). Columns are the top_k features of each
 * kind by their largest |change|. */
typedef struct
{
  int     n_rows, n_cols;
  int    *row_layers;       /* [n_rows] */
  char  **col_labels;       /* [n_cols] "ℓ̄ mammal", "SAE 123", "tok ' dog'" */
  int    *col_kind;         /* 0 concept, 1 SAE, 2 token */
  int    *col_index;        /* category, latent or token id */
  int    *col_layer;        /* an SAE latent's layer (its SAE's), −1 for the others */
  double *values;           /* [n_rows, n_cols]; NAN where a feature does not exist at that layer */
  int     steer_layer;
  double  multiplier;
  float  *resid_delta;      /* [n_rows, hidden]: the mean change of resid_post at the last token (not saved) */
} CsSteerEffects;

CsSteerEffects *cs_steer_effects       (CsModel          *model,
                                        CsTokenizer      *tok,
                                        CsSteerVectors   *v,
                                        CsSteerPrompts   *prompts,
                                        int               layer,
                                        double            multiplier,
                                        CsGeometrySpace  *space,
                                        CsGeometry       *geometry,
                                        CsSae            *sae,
                                        int               sae_layer,
                                        int               top_k,
                                        CsDevice          device,
                                        GCancellable     *cancellable,
                                        GError          **error);
/* The same with an SAE at any layer: by_layer [n_layers] (NULL where
 * none); the top_k latents of each later layer that has one, by their
 * change there, their cells at other layers NAN; with layer_labels named
 * "L{l}/{index}" plus their top tokens. */
CsSteerEffects *cs_steer_effects_set   (CsModel          *model,
                                        CsTokenizer      *tok,
                                        CsSteerVectors   *v,
                                        CsSteerPrompts   *prompts,
                                        int               layer,
                                        double            multiplier,
                                        CsGeometrySpace  *space,
                                        CsGeometry       *geometry,
                                        CsSae * const    *by_layer,
                                        gboolean          layer_labels,
                                        int               top_k,
                                        CsDevice          device,
                                        GCancellable     *cancellable,
                                        GError          **error);
void            cs_steer_effects_free  (CsSteerEffects   *e);

typedef enum
{
  CS_STEER_SORT_KIND,          /* concepts, SAE latents, tokens; each by its rank */
  CS_STEER_SORT_CHANGE,        /* by the largest |change| over the rows, descending */
} CsSteerColumnOrder;

/* Reorders the columns, and the rows by layer (ascending or not). */
void            cs_steer_effects_sort  (CsSteerEffects   *e,
                                        CsSteerColumnOrder order,
                                        gboolean          layers_ascending);

/* A concept direction of the whitened space as a residual-space vector
 * (docs/steering.md): Cov^(1/2) ℓ̄_a for spec "a", Cov^(1/2) (ℓ̄_a − ℓ̄_b)
 * for "a-b" (a and b categories of geometry with estimated vectors). out
 * [d]; name (may be NULL) "ℓ̄_a − ℓ̄_b"; plus and minus (may be NULL) the
 * categories' indices (minus −1 for "a"). */
/* Every category's concept direction in the residual stream, Cov^(1/2) ℓ̄_c
 * scaled by 1/‖ℓ̄_c‖, [n_categories, d] (zero rows where not estimated):
 * one Cholesky inversion of the whitening for all of them. */
double         *cs_steer_concept_directions (CsGeometrySpace *space,
                                        CsGeometry       *geometry,
                                        GError          **error);
double         *cs_steer_concept_vector (CsGeometrySpace *space,
                                        CsGeometry       *geometry,
                                        const char       *spec,
                                        char            **name,
                                        int              *plus,
                                        int              *minus,
                                        GError          **error);

/* Singular values of the stacked per-pair differences at a layer, and each
 * of the first k right singular vectors read through the unembedding (the
 * n_tokens tokens with the largest and smallest logits). Each vector's sign
 * makes its dot product with the mean difference non-negative. */
typedef struct
{
  int     n_values, k, n_tokens;
  double *values;           /* singular values, descending */
  double *explained;        /* their squares' share of the total */
  gint32 *top, *bottom;     /* [k, n_tokens] */
} CsSteerSvd;

CsSteerSvd     *cs_steer_svd           (CsModel          *model,
                                        CsSteerVectors   *v,
                                        int               layer,
                                        int               k,
                                        int               n_tokens,
                                        GError          **error);
void            cs_steer_svd_free      (CsSteerSvd       *s);

/* The steering vector of a layer in the whitened space: Cov^(1/2)
 * applied to the vector as the final norm passes it on (its gain times the
 * vector, centred first for a LayerNorm; the norm's scale does not change a
 * direction), then its cosine with each category's ℓ̄ (NAN where not
 * estimated): out [n_categories]. */
gboolean        cs_steer_concept_cosines (CsModel        *model,
                                        CsSteerVectors   *v,
                                        int               layer,
                                        CsGeometrySpace  *space,
                                        CsGeometry       *geometry,
                                        double           *out,
                                        GError          **error);

/* The vector decomposed into SAE features: the encoder's response W_encᵀv
 * and the cosine with each decoder row; the k most positive and k most
 * negative of each: indices [2k] (positive first) and values [2k]. */
void            cs_steer_sae_decompose (CsSae            *sae,
                                        const float      *vector,
                                        int               k,
                                        int              *enc_idx,
                                        double           *enc_val,
                                        int              *dec_idx,
                                        double           *dec_val);

/* Continues n prompts (token ids) by up to n_tokens each, the vector added
 * (multipliers[b] × vector at resid_post.layer from position steer_from on
 * for prompt b; layer < 0 or no vector: unsteered) at every step, so the
 * prompt and the new tokens both see it. temperature 0 takes the most
 * probable token; above 0 samples from softmax(logits / temperature) with
 * seed. All stop when the longest fills the model's context. Returns
 * [n, n_tokens] ids, −1 after a stop. On the CPU the prompts go in one batch
 * and the keys and values of earlier tokens are kept (CsForwardCache), so
 * each step runs one token per prompt; on the GPU each prompt runs whole
 * every step. */
gint32         *cs_steer_generate      (CsModel          *model,
                                        const gint32 * const *ids,
                                        const int        *lengths,
                                        int               n,
                                        int               layer,
                                        const double     *multipliers,
                                        const float      *vector,
                                        int               steer_from,
                                        int               n_tokens,
                                        double            temperature,
                                        guint             seed,
                                        CsDevice          device,
                                        GCancellable     *cancellable,
                                        GError          **error);

/* Everything one steering run found, as saved in the group /steering of a
 * workspace (or any HDF5 file; layout in docs/workspace.md) and read back
 * by the figures: texts are stored decoded, so figures need no model. */
typedef struct
{
  char           *dataset;
  char           *model_path;
  char           *targets;            /* category measured for plain pairs, or "" */
  char           *position;           /* "last" or "answer" */
  double          held_out;
  int             n_layers, d, n_pairs;
  float          *vectors;            /* [n_layers, d] */
  double         *norms;              /* [n_layers] */
  CsSteerSweep   *sweep;              /* NULL when none */
  CsSteerEffects *effects;            /* NULL when none */
  int             svd_layer;
  CsSteerSvd     *svd;                /* NULL when none */
  GStrv           svd_top, svd_bottom;   /* [k * n_tokens] token texts */
  int             n_concepts;
  GStrv           concept_names;
  double         *concept_cos;        /* [n_layers, n_concepts] */
  /* The decomposition by SAE features: row 0 the vector at sae_layer; with
   * a set, rows 1… the steering's effect propagated to each later layer
   * with an SAE (the mean change of resid_post there, steered − unsteered,
   * at the last token, at the effects multiplier), by that layer's SAE. */
  int             sae_layer, sae_k;   /* sae_k 0: none */
  int             sae_n;              /* rows (≥ 1 when sae_k > 0) */
  int            *sae_layers;         /* [sae_n]; sae_layers[0] == sae_layer */
  int            *sae_enc_idx, *sae_dec_idx;    /* [sae_n, 2k] */
  double         *sae_enc_val, *sae_dec_val;    /* [sae_n, 2k] */
  GStrv           sae_enc_labels, sae_dec_labels; /* [sae_n × 2k] "SAE 12 ' dog' ' cat'", or NULL */
  /* With a set: its folder and the variant chosen at each layer ("L=variant",
   * cs_sae_set_choices), so that the same SAEs can be opened again. */
  char           *sae_set_root;
  GStrv           sae_set_choices;
  char           *concept;            /* "ℓ̄_bird − ℓ̄_mammal" when a concept was added; NULL: the dataset's vector */
  /* The hierarchy check (with a concept): at hier_layer, for each category
   * (its role: "child", "sibling", "parent" or "unrelated"), the change of
   * log(mean over prompts of the category's probability mass) from the
   * unsteered run, per multiplier of the sweep. */
  int             hier_n, hier_layer;
  GStrv           hier_names, hier_roles;
  double         *hier_change;        /* [hier_n, sweep->n_mult] */
  CsSaeFlow      *flow;               /* with a set of SAEs: the feature flow at the effects layer; else NULL */
  char           *gen_prompt;         /* the prompt continued under steering; NULL: none */
  int             gen_layer, gen_n;   /* at the effects layer, one per multiplier */
  double         *gen_mult;           /* [gen_n] */
  GStrv           gen_texts;          /* [gen_n] the continuations (the new text only) */
  int             gen_tokens;
  gint32         *gen_ids;            /* [gen_n, gen_tokens], −1 after a stop */
} CsSteerReport;

void            cs_steer_report_free   (CsSteerReport    *r);
/* Into path: an existing HDF5 file gets /steering replaced (atomically, the
 * rest kept); otherwise a new file. */
gboolean        cs_steer_report_save   (const CsSteerReport *r,
                                        const char       *path,
                                        GError          **error);
CsSteerReport  *cs_steer_report_load   (const char       *path,
                                        GError          **error);
/* The layer where the vector moves the behaviour most: the largest
 * behaviour(max multiplier) − behaviour(min multiplier). */
int             cs_steer_sweep_best_layer (const CsSteerSweep *s);

/* Continues prompt under each multiplier with the report's vector at layer
 * (see cs_steer_generate: one batch, one seed) and puts the continuations in
 * the report in place of any before. */
gboolean        cs_steer_report_continue (CsSteerReport *report,
                                        CsModel          *model,
                                        CsTokenizer      *tok,
                                        const char       *prompt,
                                        int               layer,
                                        const double     *multipliers,
                                        int               n_mult,
                                        int               n_tokens,
                                        double            temperature,
                                        guint             seed,
                                        int               steer_from,
                                        CsDevice          device,
                                        CsProgressFunc    progress,
                                        gpointer          progress_data,
                                        GCancellable     *cancellable,
                                        GError          **error);

/* Moves src's continuations into dst (replacing dst's); src keeps none. */
void            cs_steer_report_take_generations (CsSteerReport *dst,
                                        CsSteerReport    *src);

/* The whole analysis, as the Steering page and `conceptscope-cli steer` run
 * it: vectors, a sweep, the effects downstream at effects_layer (< 0: the
 * earliest swept layer moving the behaviour at least 90 % as much as the
 * best) with effects_multiplier (NAN: the largest), the SVD there, the
 * concept cosines (with a geometry) and the SAE decomposition (with an SAE,
 * at its layer). */
typedef struct
{
  CsModel         *model;
  CsTokenizer     *tok;
  CsSteerDataset  *dataset;
  const char      *dataset_name;
  double           held_out;
  CsSteerPosition  position;
  const int       *layers;
  int              n_layers;
  const double    *multipliers;
  int              n_mult;
  const gint32    *targets;
  int              n_targets;
  const char      *targets_name;
  CsGeometrySpace *space;       /* may be NULL */
  CsGeometry      *geometry;    /* may be NULL */
  CsSae           *sae;         /* may be NULL */
  /* SAEs at several layers (may be NULL; with it, sae is ignored): SAE
   * latents in the effects at every later layer that has one, and the
   * decomposition by the one at the effects layer when there is one */
  CsSaeSet        *saes;
  int              effects_layer;
  double           effects_multiplier;
  int              top_k;
  CsDevice         device;
  int              steer_from;  /* add the vector from this position on (0: every position) */
  gboolean         normalise;   /* scale each layer's vector to that layer's mean residual norm */
  /* A prompt to continue at the effects layer under each multiplier (NULL
   * or "": none), gen_tokens new tokens, at temperature with seed. */
  const char      *gen_prompt;
  int              gen_tokens;
  double           temperature;
  guint            seed;
  /* Steering with a concept instead of the dataset's contrastive vector
   * (NULL: the dataset's): a spec for cs_steer_concept_vector ("bird" or
   * "bird-mammal") over geometry and space, added at every swept layer;
   * the dataset then gives the prompts and the targets only. The report
   * gets the hierarchy check at the effects layer. */
  const char      *concept;
} CsSteerRun;

/* The defaults, in one place: held out 0.5, the last position, effects at
 * the automatic layer with the largest multiplier, 8 features of each
 * kind, device auto, 20 new tokens, the most probable token each step.
 * The layers and multipliers to sweep, as text, default to these: */
#define CS_STEER_DEFAULT_LAYERS      "all"
#define CS_STEER_DEFAULT_MULTIPLIERS "-4,-2,0,2,4"
void            cs_steer_run_init      (CsSteerRun       *run);

/* The tokens whose probability is the behaviour for plain pairs: those of
 * the category called name in geometry (may be NULL), else the WordNet
 * synset's hyponyms in the vocabulary. gint32 ids; an error when the name
 * is neither, or has no tokens here. */
GArray         *cs_steer_target_tokens (const char       *name,
                                        CsGeometry       *geometry,
                                        CsTokenizer      *tok,
                                        GError          **error);

CsSteerReport  *cs_steer_run           (const CsSteerRun *run,
                                        CsProgressFunc    progress,
                                        gpointer          progress_data,
                                        GCancellable     *cancellable,
                                        GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSteerReport, cs_steer_report_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSteerDataset, cs_steer_dataset_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSteerVectors, cs_steer_vectors_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSteerPrompts, cs_steer_prompts_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSteerSweep, cs_steer_sweep_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSteerEffects, cs_steer_effects_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSteerSvd, cs_steer_svd_free)

G_END_DECLS
