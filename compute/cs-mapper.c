#define G_LOG_DOMAIN "cs-mapper"

#include "cs-mapper.h"
#include "cs-mapper-private.h"
#include "cs-error.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------- cover */

void
cs_mapper_params_init (CsMapperParams *p)
{
  memset (p, 0, sizeof *p);
  p->n_lenses = 1;
  p->intervals = 10;
  p->overlap = 0.3;
  p->cover = CS_COVER_UNIFORM;
  p->cluster = CS_CLUSTER_DBSCAN;
  p->eps = 0;
  p->min_samples = 5;
  p->bins = 10;
  p->min_intersection = 1;
}

const char *
cs_mapper_cover_name (CsCoverKind kind)
{
  return kind == CS_COVER_BALANCED ? "balanced" : "uniform";
}

const char *
cs_mapper_cluster_name (CsClusterKind kind)
{
  return kind == CS_CLUSTER_SINGLE_LINKAGE ? "single-linkage" : "dbscan";
}

typedef struct
{
  int     n;          /* intervals */
  double *lo, *hi;
} Cover1;


static void
cover_make (Cover1 *c, const double *lens, int stride, gint64 n, const CsMapperParams *p,
            double *vmin, double *vmax)
{
  double a = INFINITY, b = -INFINITY;

  for (gint64 i = 0; i < n; i++)
    {
      a = MIN (a, lens[i * stride]);
      b = MAX (b, lens[i * stride]);
    }
  *vmin = a;
  *vmax = b;
  if (!(b > a))
    {
      /* every point has the same value: one interval holds them all */
      c->n = 1;
      c->lo = g_new (double, 1);
      c->hi = g_new (double, 1);
      c->lo[0] = a;
      c->hi[0] = b;
      return;
    }
  c->n = p->intervals;
  c->lo = g_new (double, c->n);
  c->hi = g_new (double, c->n);
  if (p->cover == CS_COVER_UNIFORM)
    {
      double L = (b - a) / ((double) c->n - (double) (c->n - 1) * p->overlap);
      double s = L * (1.0 - p->overlap);
      for (int i = 0; i < c->n; i++)
        {
          c->lo[i] = a + (double) i * s;
          c->hi[i] = c->lo[i] + L;
        }
      c->hi[c->n - 1] = b;   /* the last end is b up to rounding: make it exact */
    }
  else
    {
      g_autofree double *v = g_new (double, n);
      double R = (double) (n - 1);
      double L = R / ((double) c->n - (double) (c->n - 1) * p->overlap);
      double s = L * (1.0 - p->overlap);
      for (gint64 i = 0; i < n; i++)
        v[i] = lens[i * stride];
      qsort (v, n, sizeof (double), cs_mapper_cmp_double);
      for (int i = 0; i < c->n; i++)
        {
          double r[2] = { (double) i * s, MIN (R, (double) i * s + L) };
          double q[2];
          for (int e = 0; e < 2; e++)
            {
              gint64 k = (gint64) floor (r[e]);
              double f = r[e] - (double) k;
              if (k >= n - 1)
                q[e] = v[n - 1];
              else
                q[e] = v[k] + f * (v[k + 1] - v[k]);
            }
          c->lo[i] = q[0];
          c->hi[i] = q[1];
        }
      c->hi[c->n - 1] = b;
    }
}

static void
cover_clear (Cover1 *c)
{
  g_free (c->lo);
  g_free (c->hi);
}

/* The intervals holding v: [*first, *last]; FALSE when none. Both ends
 * ascend with i, so a binary search finds the first. */
static gboolean
cover_find (const Cover1 *c, double v, int *first, int *last)
{
  int lo = 0, hi = c->n;
  while (lo < hi)
    {
      int mid = (lo + hi) / 2;
      if (c->hi[mid] < v)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo >= c->n || c->lo[lo] > v)
    return FALSE;
  *first = lo;
  while (lo + 1 < c->n && c->lo[lo + 1] <= v)
    lo++;
  *last = lo;
  return TRUE;
}

/* ------------------------------------------------------------------- build */

typedef struct
{
  int     n_clusters;
  int    *label;      /* by member position */
} ElementResult;

static int
cmp_pair (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return (x > y) - (x < y);
}

typedef struct
{
  gint64 size;
  int    e;
} SizeIdx;

static int
cmp_size_desc (const void *a, const void *b)
{
  const SizeIdx *x = a, *y = b;
  if (x->size != y->size)
    return x->size > y->size ? -1 : 1;
  return x->e - y->e;
}

void
cs_mapper_graph_free (CsMapperGraph *g)
{
  if (!g)
    return;
  g_free (g->nodes);
  g_free (g->edges);
  g_free (g->component);
  g_free (g->x);
  g_free (g->y);
  g_free (g->storage);
  g_free (g);
}

void
mapper_graph_finish (CsMapperGraph *g)
{
  g_autofree int *parent = g_new (int, MAX (1, g->n_nodes));
  g_autofree int *root_id = g_new (int, MAX (1, g->n_nodes));

  for (int i = 0; i < g->n_nodes; i++)
    {
      parent[i] = i;
      root_id[i] = -1;
    }
  for (int e = 0; e < g->n_edges; e++)
    mapper_uf_union (parent, g->edges[e].source, g->edges[e].target);
  g->component = g_new (int, MAX (1, g->n_nodes));
  g->n_components = 0;
  for (int i = 0; i < g->n_nodes; i++)
    {
      int r = mapper_uf_find (parent, i);
      if (root_id[r] < 0)
        root_id[r] = g->n_components++;
      g->component[i] = root_id[r];
    }
  g->cycle_rank = g->n_edges - g->n_nodes + g->n_components;
}

/* Edges from the point → nodes lists: every pair of nodes holding a point is
 * counted once per shared point, by sorting the pairs. */
static void
build_nerve (CsMapperGraph *g)
{
  gint64 n = g->n_points;
  g_autofree gint64 *start = g_new0 (gint64, n + 1);
  g_autofree gint32 *list = NULL;
  g_autofree gint64 *fill = NULL;
  g_autoptr(GArray) pairs = g_array_new (FALSE, FALSE, sizeof (guint64));
  GArray *edges = g_array_new (FALSE, FALSE, sizeof (CsMapperEdge));
  gint64 total = 0;

  for (int v = 0; v < g->n_nodes; v++)
    for (int t = 0; t < g->nodes[v].n_members; t++)
      start[g->nodes[v].members[t] + 1]++;
  for (gint64 i = 0; i < n; i++)
    start[i + 1] += start[i];
  total = start[n];
  list = g_new (gint32, MAX (1, total));
  fill = g_memdup2 (start, sizeof (gint64) * (n + 1));
  for (int v = 0; v < g->n_nodes; v++)
    for (int t = 0; t < g->nodes[v].n_members; t++)
      list[fill[g->nodes[v].members[t]]++] = v;
  g->n_covered = 0;
  for (gint64 i = 0; i < n; i++)
    {
      gint64 a0 = start[i], a1 = start[i + 1];
      if (a1 > a0)
        g->n_covered++;
      for (gint64 a = a0; a < a1; a++)
        for (gint64 c = a + 1; c < a1; c++)
          {
            guint64 key = ((guint64) MIN (list[a], list[c]) << 32) | (guint64) MAX (list[a], list[c]);
            g_array_append_val (pairs, key);
          }
    }
  if (pairs->len)
    qsort (pairs->data, pairs->len, sizeof (guint64), cmp_pair);
  for (guint i = 0; i < pairs->len;)
    {
      guint64 key = g_array_index (pairs, guint64, i);
      guint j = i;
      while (j < pairs->len && g_array_index (pairs, guint64, j) == key)
        j++;
      if ((int) (j - i) >= g->params.min_intersection)
        {
          CsMapperEdge e;
          e.source = (int) (key >> 32);
          e.target = (int) (key & 0xffffffffu);
          e.shared = (int) (j - i);
          e.weight = (double) e.shared /
                     (double) (g->nodes[e.source].n_members + g->nodes[e.target].n_members - e.shared);
          g_array_append_val (edges, e);
        }
      i = j;
    }
  g->n_edges = edges->len;
  g->edges = (CsMapperEdge *) g_array_free (edges, FALSE);
}

CsMapperGraph *
cs_mapper_build (const double *X, gint64 n, int d, const double *lens, const CsMapperParams *params,
                 CsProgressFunc progress, gpointer progress_data, GCancellable *cancellable, GError **error)
{
  CsMapperParams p = *params;
  Cover1 cover[2] = { { 0 } };
  int nl = p.n_lenses, n_el;
  g_autofree gint64 *el_start = NULL;
  g_autofree gint32 *el_members = NULL;
  g_autofree SizeIdx *order = NULL;
  ElementResult *res = NULL;
  CsMapperGraph *g = NULL;
  gint64 total = 0, done = 0;
  gboolean cancelled = FALSE;

  if (nl < 1 || nl > 2)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "Mapper takes one or two lenses");
      return NULL;
    }
  if (p.intervals < 1 || p.intervals > 100000)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the number of intervals must be between 1 and 100000 (got %d)", p.intervals);
      return NULL;
    }
  if (!(p.overlap >= 0 && p.overlap < 1))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the overlap must be a fraction in [0, 1) (got %g)", p.overlap);
      return NULL;
    }
  if (p.min_samples < 1 || p.bins < 2 || p.min_intersection < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                   "min-samples and min-intersection must be at least 1, histogram bins at least 2");
      return NULL;
    }
  if (n < 1 || d < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "there are no points to build a graph from");
      return NULL;
    }
  if (n > G_MAXINT32)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "at most %d points", G_MAXINT32);
      return NULL;
    }
  for (gint64 i = 0; i < n * nl; i++)
    if (!isfinite (lens[i]))
      {
        g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the lens value of point %" G_GINT64_FORMAT " is not finite", i / nl);
        return NULL;
      }

  g = g_new0 (CsMapperGraph, 1);
  g->params = p;
  g->n_points = n;
  g->eps = p.eps;
  for (int l = 0; l < nl; l++)
    cover_make (&cover[l], lens + l, nl, n, &p, &g->lens_min[l], &g->lens_max[l]);
  if (nl == 1)
    cover[1].n = 1;
  n_el = cover[0].n * cover[1].n;

  /* point → elements, as element member lists in ascending point order */
  el_start = g_new0 (gint64, n_el + 1);
  for (int pass = 0; pass < 2; pass++)
    {
      g_autofree gint64 *fill = pass ? g_memdup2 (el_start, sizeof (gint64) * (n_el + 1)) : NULL;
      if (pass)
        el_members = g_new (gint32, MAX (1, el_start[n_el]));
      for (gint64 i = 0; i < n; i++)
        {
          int a0, a1, b0 = 0, b1 = 0;
          if (!cover_find (&cover[0], lens[i * nl], &a0, &a1))
            continue;
          if (nl == 2 && !cover_find (&cover[1], lens[i * nl + 1], &b0, &b1))
            continue;
          for (int a = a0; a <= a1; a++)
            for (int c = b0; c <= b1; c++)
              {
                int e = a * cover[1].n + c;
                if (pass)
                  el_members[fill[e]++] = (gint32) i;
                else
                  el_start[e + 1]++;
              }
        }
      if (!pass)
        for (int e = 0; e < n_el; e++)
          el_start[e + 1] += el_start[e];
    }
  total = el_start[n_el];
  order = g_new (SizeIdx, n_el);
  for (int e = 0; e < n_el; e++)
    {
      order[e].size = el_start[e + 1] - el_start[e];
      order[e].e = e;
    }
  qsort (order, n_el, sizeof (SizeIdx), cmp_size_desc);

  if (p.cluster == CS_CLUSTER_DBSCAN && !(p.eps > 0))
    {
      /* the mapper_knee of k-distances, each point in its first element */
      g_autofree gboolean *seen = g_new0 (gboolean, n);
      g_autofree double *kd = g_new (double, n);
      g_autofree gboolean *take = NULL;
      gint64 m = 0;
      take = g_new0 (gboolean, MAX (1, total));
      for (int e = 0; e < n_el; e++)
        for (gint64 t = el_start[e]; t < el_start[e + 1]; t++)
          if (!seen[el_members[t]])
            {
              seen[el_members[t]] = TRUE;
              take[t] = TRUE;
            }
#pragma omp parallel for schedule(dynamic, 1)
      for (int o = 0; o < n_el; o++)
        {
          int e = order[o].e, ne = (int) order[o].size, got = 0;
          Block b;
          double *out;
          if (ne < p.min_samples || cancelled)
            continue;
          if (g_cancellable_is_cancelled (cancellable))
            {
              cancelled = TRUE;
              continue;
            }
          out = g_new (double, ne);
          mapper_block_gather (&b, X, d, el_members + el_start[e], ne, 0);
          mapper_kdist_element (&b, p.min_samples, take + el_start[e], out, &got);
#pragma omp critical
          {
            memcpy (kd + m, out, sizeof (double) * got);
            m += got;
          }
          mapper_block_clear (&b);
          g_free (out);
        }
      if (!cancelled && m == 0)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                       "no cover element holds min-samples (%d) points, so eps cannot be chosen from the data: "
                       "give eps, lower min-samples or use fewer intervals", p.min_samples);
          goto fail;
        }
      if (!cancelled)
        g->eps = mapper_knee (kd, m);
    }

  res = g_new0 (ElementResult, n_el);
#pragma omp parallel for schedule(dynamic, 1)
  for (int o = 0; o < n_el; o++)
    {
      int e = order[o].e, ne = (int) order[o].size;
      Block b;
      if (ne == 0 || cancelled)
        continue;
      if (g_cancellable_is_cancelled (cancellable))
        {
          cancelled = TRUE;
          continue;
        }
      res[e].label = g_new (int, ne);
      mapper_block_gather (&b, X, d, el_members + el_start[e], ne,
                    p.cluster == CS_CLUSTER_DBSCAN ? g->eps : 0);
      if (p.cluster == CS_CLUSTER_DBSCAN)
        res[e].n_clusters = mapper_cluster_dbscan (&b, g->eps, p.min_samples, el_members + el_start[e], res[e].label);
      else
        res[e].n_clusters = mapper_cluster_single_linkage (&b, p.bins, res[e].label);
      mapper_block_clear (&b);
#pragma omp atomic
      done += ne;
      if (progress && omp_get_thread_num () == 0)
        progress (0.95 * (double) done / (double) MAX (1, total), progress_data);
    }
  if (cancelled || g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_CANCELLED, "cancelled");
      goto fail;
    }

  /* nodes, in element order then cluster order */
  {
    gint64 stored = 0;
    int nn = 0;
    for (int e = 0; e < n_el; e++)
      {
        nn += res[e].n_clusters;
        for (gint64 t = 0; t < el_start[e + 1] - el_start[e]; t++)
          if (res[e].label && res[e].label[t] >= 0)
            stored++;
      }
    g->n_nodes = nn;
    g->nodes = g_new0 (CsMapperNode, MAX (1, nn));
    g->storage = g_new (gint32, MAX (1, stored));
    stored = 0;
    nn = 0;
    for (int e = 0; e < n_el; e++)
      {
        gint64 ne = el_start[e + 1] - el_start[e];
        for (int c = 0; c < res[e].n_clusters; c++)
          {
            CsMapperNode *node = &g->nodes[nn++];
            node->element[0] = e / cover[1].n;
            node->element[1] = e % cover[1].n;
            node->members = g->storage + stored;
            for (gint64 t = 0; t < ne; t++)
              if (res[e].label[t] == c)
                {
                  gint32 pt = el_members[el_start[e] + t];
                  node->members[node->n_members++] = pt;
                  for (int l = 0; l < nl; l++)
                    node->lens_mean[l] += lens[(gint64) pt * nl + l];
                }
            for (int l = 0; l < nl; l++)
              node->lens_mean[l] /= MAX (1, node->n_members);
            stored += node->n_members;
          }
      }
  }
  build_nerve (g);
  mapper_graph_finish (g);
  if (progress)
    progress (1.0, progress_data);
  for (int e = 0; e < n_el; e++)
    g_free (res[e].label);
  g_free (res);
  cover_clear (&cover[0]);
  cover_clear (&cover[1]);
  return g;

fail:
  if (res)
    for (int e = 0; e < n_el; e++)
      g_free (res[e].label);
  g_free (res);
  cover_clear (&cover[0]);
  cover_clear (&cover[1]);
  cs_mapper_graph_free (g);
  return NULL;
}
