#pragma once

/* What the Mapper engine's files share and nothing else sees: the
 * clustering's point block, the clustering functions that cs-mapper.c's
 * build calls per cover element, and the graph's finishing step that the
 * readers call too. The engine's files: cs-mapper-lens.c (lenses),
 * cs-mapper.c (parameters, cover, build, nerve), cs-mapper-cluster.c
 * (DBSCAN, single linkage, the automatic eps), cs-mapper-layout.c (the
 * force layout), cs-mapper-io.c (node values, JSON and HDF5). */

#include "cs-mapper.h"

G_BEGIN_DECLS

/* An element's points gathered for clustering, sorted along a key (the
 * coordinate of largest spread, or the distance to a pivot) so that a window
 * of ±eps along it bounds every eps-neighbourhood. */
typedef struct
{
  int     n, d;
  double *C;        /* dimension-major: C[k * n + j], points in sort order */
  double *key;      /* the sort key, ascending */
  double  key_scale;
  int    *local;    /* sort position → position in the element's member list */
} Block;

static inline int
cs_mapper_cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void   mapper_block_gather           (Block *b, const double *X, int d, const gint32 *idx, int n, double eps);
void   mapper_block_clear            (Block *b);
int    mapper_uf_find                (int *parent, int x);
void   mapper_uf_union               (int *parent, int a, int b);
int    mapper_cluster_dbscan         (const Block *b, double eps, int min_samples, const gint32 *idx, int *label);
int    mapper_cluster_single_linkage (const Block *b, int bins, int *label);
void   mapper_kdist_element          (const Block *b, int k, const gboolean *take, double *out, int *n_out);
double mapper_knee                   (double *v, gint64 m);
void   mapper_graph_finish           (CsMapperGraph *g);

G_END_DECLS
