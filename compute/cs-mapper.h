#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cs-backend.h"

G_BEGIN_DECLS

/* Mapper (Singh, Mémoli, Carlsson 2007) over any matrix of points X [n, d]
 * (row-major, float64). Definitions, exactly (docs/mapper.md says the same):
 *
 * Cover, uniform: over the lens range [a, b], n intervals with overlap
 *   fraction f ∈ [0, 1) have length L = (b − a) / (n − (n − 1) f) and step
 *   s = L (1 − f); interval i is [a + i s, a + i s + L] (closed), so the first
 *   starts at a, the last ends at b and neighbours share the fraction f of L.
 * Cover, balanced: the same intervals laid on ranks 0 … N − 1 of the sorted
 *   lens values; their ends are mapped back to lens values by linear
 *   interpolation between order statistics (NumPy's default quantile), and
 *   membership is again by value. Each interval holds about the same count.
 * Two lenses: the product of the two 1-D covers (elements are (i, j)).
 *
 * Clustering in each element:
 *   single linkage: the n − 1 merge heights (minimum spanning tree edge
 *   lengths) are binned into `bins` equal bins over [min, max]; the cut is the
 *   lower edge of the first empty bin, edges longer than the cut are removed
 *   and each remaining component is a cluster. No empty bin: one cluster.
 *   DBSCAN: a point is core when at least min_samples points (itself
 *   included) lie within distance eps; clusters are the components of core
 *   points joined when within eps; a non-core point within eps of a core
 *   point joins the cluster of its nearest core point (so the result does not
 *   depend on the order of the points); the rest is noise and in no node.
 *   Without eps (eps ≤ 0), eps is the knee of the sorted distances of every
 *   point to its min_samples-th nearest neighbour inside its first cover
 *   element (the point of the normalised curve farthest below its chord).
 *
 * Nerve: one node per cluster; nodes A, B are joined when they share at least
 * min_intersection points; the weight is the Jaccard overlap |A∩B| / |A∪B|.
 * Found by listing, for every point, the nodes that contain it. */

typedef enum
{
  CS_LENS_COLUMN,        /* a column of X */
  CS_LENS_PCA,           /* the k-th principal component (largest first) */
  CS_LENS_L2,            /* ‖x‖ */
  CS_LENS_DENSITY,       /* Gaussian kernel density */
  CS_LENS_ECCENTRICITY,  /* root mean squared distance to all points */
  CS_LENS_KNN,           /* distance to the k-th nearest other point */
  CS_LENS_VECTOR,        /* x·v / ‖v‖² for a named vector (a concept's ℓ̄) */
} CsLensKind;

typedef struct
{
  CsLensKind kind;
  int        index;   /* column (0-based), component (1-based) or k */
  char      *name;    /* vector name for CS_LENS_VECTOR */
} CsLensSpec;

/* "pca1", "pca2", "l2", "density", "eccentricity", "knn:K", "vector:NAME",
 * "column:I". */
gboolean cs_lens_parse    (const char        *text,
                           CsLensSpec        *spec,
                           GError           **error);
void     cs_lens_clear    (CsLensSpec        *spec);
char    *cs_lens_describe (const CsLensSpec  *spec);
/* out [n]; vector [d] only for CS_LENS_VECTOR. */
gboolean cs_lens_compute  (const CsLensSpec  *spec,
                           const double      *X,
                           gint64             n,
                           int                d,
                           const double      *vector,
                           double            *out,
                           GCancellable      *cancellable,
                           GError           **error);

typedef enum { CS_COVER_UNIFORM, CS_COVER_BALANCED } CsCoverKind;
typedef enum { CS_CLUSTER_SINGLE_LINKAGE, CS_CLUSTER_DBSCAN } CsClusterKind;

typedef struct
{
  int           n_lenses;          /* 1 or 2 */
  int           intervals;         /* per lens */
  double        overlap;           /* fraction in [0, 1) */
  CsCoverKind   cover;
  CsClusterKind cluster;
  double        eps;               /* DBSCAN; ≤ 0: from the k-distance knee */
  int           min_samples;       /* DBSCAN */
  int           bins;              /* single linkage histogram */
  int           min_intersection;
} CsMapperParams;

void cs_mapper_params_init (CsMapperParams *p);

typedef struct
{
  int     element[2];     /* interval index along each lens (second 0 for one lens) */
  int     n_members;
  gint32 *members;        /* point indices, ascending (into the graph's storage) */
  double  lens_mean[2];
} CsMapperNode;

typedef struct
{
  int    source, target;  /* source < target */
  int    shared;
  double weight;          /* Jaccard */
} CsMapperEdge;

typedef struct
{
  CsMapperParams params;
  double         eps;            /* DBSCAN: the eps used */
  double         lens_min[2], lens_max[2];
  gint64         n_points;
  gint64         n_covered;      /* points in at least one node */
  int            n_nodes;
  CsMapperNode  *nodes;
  int            n_edges;
  CsMapperEdge  *edges;
  int            n_components;
  int           *component;      /* [n_nodes] */
  int            cycle_rank;     /* edges − nodes + components */
  double        *x, *y;          /* layout in [0, 1]², NULL before cs_mapper_layout */
  gint32        *storage;
} CsMapperGraph;

/* lens [n, n_lenses] row-major. */
CsMapperGraph *cs_mapper_build         (const double          *X,
                                        gint64                 n,
                                        int                    d,
                                        const double          *lens,
                                        const CsMapperParams  *params,
                                        CsProgressFunc         progress,
                                        gpointer               progress_data,
                                        GCancellable          *cancellable,
                                        GError               **error);
void           cs_mapper_graph_free    (CsMapperGraph         *graph);

/* Force-directed layout (Fruchterman–Reingold with a Barnes–Hut quadtree
 * above 500 nodes), deterministic for a seed; coordinates in [0, 1]². */
void           cs_mapper_layout        (CsMapperGraph         *graph,
                                        guint                  seed);

/* Mean of values [n_points] over each node's members: out [n_nodes]. */
void           cs_mapper_node_means    (const CsMapperGraph   *graph,
                                        const double          *values,
                                        double                *out);
/* Whether each node contains any of the points: out [n_nodes]. */
void           cs_mapper_nodes_with    (const CsMapperGraph   *graph,
                                        const gint32          *points,
                                        int                    n,
                                        gboolean              *out);

/* nodes (id, members, size, element, lens_mean, x, y), edges (source,
 * target, shared, weight), components, cycle_rank, parameters; labels
 * [n_points] (may be NULL) go into "labels". */
JsonNode      *cs_mapper_graph_to_json (const CsMapperGraph   *graph,
                                        const char * const    *lens_names,
                                        const char * const    *labels);
gboolean       cs_mapper_graph_save_json (const CsMapperGraph *graph,
                                        const char * const    *lens_names,
                                        const char * const    *labels,
                                        const char            *path,
                                        GError               **error);
/* Into the group /mapper of an existing workspace file (replacing one there),
 * atomically: the file is copied, updated and renamed over the original.
 * point_ids [n_points] (the token of each point, may be NULL) and a line
 * saying what the points are (may be NULL) are stored with it. */
gboolean       cs_mapper_graph_save_h5 (const CsMapperGraph   *graph,
                                        const char * const    *lens_names,
                                        const gint32          *point_ids,
                                        const char            *points,
                                        const char            *path,
                                        GError               **error);
/* The graph saved there; NULL with an error when there is none. The other
 * outputs (may be NULL) receive the lens descriptions, the point ids (NULL
 * when none were stored) and the points' description. */
CsMapperGraph *cs_mapper_graph_load_h5 (const char            *path,
                                        GStrv                 *lens_names,
                                        gint32               **point_ids,
                                        char                 **points,
                                        GError               **error);

const char    *cs_mapper_cover_name    (CsCoverKind            kind);
const char    *cs_mapper_cluster_name  (CsClusterKind          kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsMapperGraph, cs_mapper_graph_free)

G_END_DECLS
