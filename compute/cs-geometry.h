#pragma once

#include <gio/gio.h>

#include "cs-categories.h"
#include "cs-safetensors.h"
#include "cs-whiten.h"

G_BEGIN_DECLS

/* The whitened representation space of a model's unembedding: any row of
 * g is (γ_y − mean)·Cov^(−1/2), so only the mean and Cov^(−1/2) are kept.
 * Immutable once made and reference-counted, so pages and background jobs
 * share one (Cov^(−1/2) is 128 MB at d = 4096) instead of copying it;
 * cs_geometry_space_free drops a reference. */
typedef struct
{
  const CsTensor *unembedding;   /* borrowed: the model must outlive the space */
  gint64          vocab;
  int             d;
  double         *mean;          /* [d] */
  double         *inv_sqrt;      /* [d, d] */
  int             n_floored;
  gint            ref_count;
} CsGeometrySpace;

CsGeometrySpace *cs_geometry_space_new       (const CsTensor   *unembedding,
                                              CsDevice          device,
                                              GCancellable     *cancellable,
                                              GError          **error);
/* From a saved mean and Cov^(−1/2) (a workspace's cache). */
CsGeometrySpace *cs_geometry_space_new_from  (const CsTensor   *unembedding,
                                              const double     *mean,
                                              const double     *inv_sqrt,
                                              int               n_floored);
/* The same, kept in the user's cache ($XDG_CACHE_HOME/conceptscope/
 * whitening, one HDF5 file of mean and Cov^(−1/2) per model): read from
 * there when key (the model's path and identity) matches, otherwise
 * computed and stored, so a model's next session and every recomputation
 * skip the whitening. A damaged or foreign cache file is computed again;
 * a cache that cannot be written is no error. from_cache may be NULL. */
CsGeometrySpace *cs_geometry_space_new_cached (const CsTensor   *unembedding,
                                              const char       *key,
                                              CsDevice          device,
                                              gboolean         *from_cache,
                                              GCancellable     *cancellable,
                                              GError          **error);
/* The same, reporting the whitening's progress (rows read, then the
 * eigendecomposition; see cs_whiten_transform_with_progress). */
CsGeometrySpace *cs_geometry_space_new_cached_with_progress (const CsTensor *unembedding,
                                                             const char     *key,
                                                             CsDevice        device,
                                                             gboolean       *from_cache,
                                                             CsProgressFunc  progress,
                                                             gpointer        progress_data,
                                                             GCancellable   *cancellable,
                                                             GError        **error);
CsGeometrySpace *cs_geometry_space_ref       (CsGeometrySpace  *space);
void             cs_geometry_space_free      (CsGeometrySpace  *space);
/* Rows of g for the given token ids: out [n, d] (float64). */
void             cs_geometry_g_rows          (CsGeometrySpace  *space,
                                              const gint32     *ids,
                                              int               n,
                                              double           *out);
/* g_y · dir for every token y: out [vocab]. */
void             cs_geometry_project_all     (CsGeometrySpace  *space,
                                              const double     *dir,
                                              float            *out);
/* The same for k directions in one pass over the vocabulary. */
void             cs_geometry_project_all_many (CsGeometrySpace     *space,
                                               const double *const *dirs,
                                               int                  k,
                                               float              **outs);

/* Park et al.'s estimator on rows X [n, d] of g: μ = mean, Σ the Ledoit–Wolf
 * shrinkage covariance, ĝ = pinv(Σ)μ/‖pinv(Σ)μ‖, ℓ̄ = (μ·ĝ)ĝ. Computed through
 * the n × n Gram matrix of the centred rows when n ≤ d (O(n²d + n³), no d × d
 * matrix), exactly the same estimator as the d × d eigendecomposition. */
gboolean         cs_geometry_estimate_vector (const double     *X,
                                              int               n,
                                              int               d,
                                              double           *lbar,
                                              GError          **error);
/* The same with a given shrinkage δ in [0, 1] (negative: Ledoit–Wolf's). */
gboolean         cs_geometry_estimate_vector_shrunk (const double *X,
                                                     int           n,
                                                     int           d,
                                                     double        shrink,
                                                     double       *lbar,
                                                     GError      **error);
/* The estimator as written: the d × d shrunk covariance, its full
 * eigendecomposition (LAPACK dsyevd) and pinv's cutoff. O(d³): the reference
 * the fast path is tested against, and the path for n > d. */
gboolean         cs_geometry_estimate_vector_reference (const double *X,
                                                        int           n,
                                                        int           d,
                                                        double        shrink,
                                                        double       *lbar,
                                                        GError      **error);
/* sklearn's Ledoit–Wolf shrinkage of rows X [n, d] (centred inside);
 * fills the shrunk covariance when cov is not NULL. */
double           cs_ledoit_wolf              (const double     *X,
                                              int               n,
                                              int               d,
                                              double           *cov);

typedef struct
{
  double mean, std;
} CsStat;

typedef struct
{
  double *lbar;                 /* [d] */
  double  norm;                 /* ‖ℓ̄‖ */
  int     n_train, n_test;
  CsStat  train, test, random;  /* g(y)·ℓ̄/‖ℓ̄‖² */
  CsStat  shuffled_train, shuffled_test, shuffled_random;
  double  cos_parent;           /* cos(ℓ̄_c − ℓ̄_p, ℓ̄_p); NAN for a root */
  double  cos_grandparent;      /* cos(ℓ̄_c − ℓ̄_p, ℓ̄_p − ℓ̄_gp); NAN without a grandparent */
  double  cos_parent_shuffled;  /* cos_parent of the vectors estimated from the shuffled g; NAN when none */
  gboolean estimated;           /* FALSE when the category had too few tokens */
} CsCategoryVector;

typedef struct
{
  CsCategorySet    *categories;     /* owned */
  CsCategoryVector *vectors;        /* one per category */
  int               d;
  double           *cos;            /* [n, n] cos(ℓ̄_i, ℓ̄_j); NAN where not estimated */
  double           *cos_shuffled;   /* the same from the shuffled g */
  /* for WordNet categories: the length of the shortest path between two
   * synsets through a common hypernym, [n, n]; -1 where they share none
   * (or a category is not a synset). NULL for the user's categories. */
  gint32           *wordnet_distance;
  double            train_fraction;
  guint             seed;
  int               n_random;
  gint              extra_refs;     /* owners beyond the first: cs_geometry_ref */
} CsGeometry;

/* Estimates every category's vector with a deterministic train/test split
 * (train_fraction, seed), validation against random tokens, the shuffled-g
 * baseline (rows permuted), hierarchy cosines and the cosine matrices.
 * Takes ownership of categories. */
/* Which of category c's tokens (in the set's ascending order) trained its
 * vector: 1 for a training token, 0 for a held-out one; the split is the
 * estimation's own (seed, category), so a workspace read back gives the
 * same marks. All zero when the category was not estimated. g_free it. */
guint8          *cs_geometry_train_mask      (const CsGeometry *geometry,
                                              guint             category);
CsGeometry      *cs_geometry_estimate        (CsGeometrySpace  *space,
                                              CsCategorySet    *categories,
                                              double            train_fraction,
                                              guint             seed,
                                              GCancellable     *cancellable,
                                              GError          **error);
/* The same, reporting progress after each category. */
CsGeometry      *cs_geometry_estimate_with_progress (CsGeometrySpace  *space,
                                              CsCategorySet    *categories,
                                              double            train_fraction,
                                              guint             seed,
                                              CsProgressFunc    progress,
                                              gpointer          progress_data,
                                              GCancellable     *cancellable,
                                              GError          **error);
/* A computed geometry does not change: the session, the undo history and a
 * job's thread share it by reference; cs_geometry_free drops one. */
CsGeometry      *cs_geometry_ref             (CsGeometry       *geometry);
void             cs_geometry_free            (CsGeometry       *geometry);
/* A deep copy (for work on another thread while the original may change). */
CsGeometry      *cs_geometry_dup             (const CsGeometry *geometry);

/* The paper's Figure 4's third table: cos(ℓ̄_a − ℓ̄_parent(a), ℓ̄_b −
 * ℓ̄_parent(b)) for every pair, [n, n] (g_free it); NAN where a category
 * or its parent is not estimated, or it is a root. One matrix product. */
double          *cs_geometry_diff_cosines    (const CsGeometry *geometry);
/* Fills geometry->wordnet_distance from the categories' synset names. */
void             cs_geometry_set_wordnet_distances (CsGeometry *geometry,
                                                    CsWordNet  *wordnet);

/* An axis: ℓ̄ of one category, or the difference of two (minus ≥ 0). */
typedef struct
{
  int plus;
  int minus;   /* -1: none */
} CsAxis;

/* Coordinates of every vocabulary token on the plane of two axes; with
 * orthogonalise the second is Gram–Schmidt'ed against the first. Also the
 * coordinates of each category's ℓ̄ (for arrows). */
typedef struct
{
  gint64  vocab;
  float  *x, *y;              /* [vocab] */
  double *cat_x, *cat_y;      /* [n_categories]: ℓ̄ of each category in this plane */
  double  axis_norm[2];
} CsProjection;

CsProjection    *cs_geometry_project         (CsGeometrySpace  *space,
                                              CsGeometry       *geometry,
                                              CsAxis            x,
                                              CsAxis            y,
                                              gboolean          orthogonalise,
                                              GError          **error);
/* Several planes at once: one pass over the vocabulary for all of their
 * directions (the Geometry page's Figure 2 and main projection together).
 * out[k] gets plane k; on error none is made. */
gboolean         cs_geometry_project_many    (CsGeometrySpace  *space,
                                              CsGeometry       *geometry,
                                              const CsAxis     *x,
                                              const CsAxis     *y,
                                              int               n_planes,
                                              gboolean          orthogonalise,
                                              CsProjection    **out,
                                              GError          **error);
void             cs_projection_free          (CsProjection     *p);

/* The vocabulary in three dimensions (the 3-D simplex view): coordinates on
 * three axes' unit directions, Gram–Schmidt'ed in the given order when
 * orthogonalise (the second against the first, the third against both),
 * and each category's ℓ̄ in the same coordinates. */
typedef struct
{
  gint64  vocab;
  float  *xyz[3];             /* [vocab] each */
  double *cat[3];             /* [n_categories] each; NAN where not estimated */
} CsProjection3;

CsProjection3   *cs_geometry_project3        (CsGeometrySpace  *space,
                                              CsGeometry       *geometry,
                                              const CsAxis     *axes,
                                              gboolean          orthogonalise,
                                              GError          **error);
void             cs_projection3_free         (CsProjection3    *p);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsGeometrySpace, cs_geometry_space_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsGeometry, cs_geometry_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsProjection, cs_projection_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsProjection3, cs_projection3_free)

G_END_DECLS
