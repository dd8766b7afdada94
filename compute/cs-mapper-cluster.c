#define G_LOG_DOMAIN "cs-mapper"

#include "cs-mapper.h"
#include "cs-mapper-private.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

/* The hot distance loops are built for AVX2 too, chosen at load time where
 * the processor has it (the default build targets plain x86-64). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CS_HOT __attribute__ ((target_clones ("avx2", "default")))
#else
#define CS_HOT
#endif

/* -------------------------------------------------------------- clustering */


typedef struct
{
  double v;
  int    j;
} KeyIdx;

static int
cmp_keyidx (const void *a, const void *b)
{
  const KeyIdx *x = a, *y = b;
  if (x->v != y->v)
    return x->v < y->v ? -1 : 1;
  return x->j - y->j;
}

/* Pairs inside the sweep windows of a sorted key: what a neighbour search
 * along it costs. */
static gint64
window_pairs (const KeyIdx *ki, int n, double win)
{
  gint64 pairs = 0;
  int hi = 0;
  for (int p = 0; p < n; p++)
    {
      if (hi < p + 1)
        hi = p + 1;
      while (hi < n && ki[hi].v - ki[p].v <= win)
        hi++;
      pairs += hi - p - 1;
    }
  return pairs;
}

/* Gathers the element's points sorted along a key such that a window of
 * ±eps along it bounds every eps-neighbourhood: the coordinate of largest
 * spread, or the distance to a pivot (the point farthest from the mean;
 * |d(x, r) − d(y, r)| ≤ d(x, y)), whichever leaves fewer pairs to test for
 * this eps (eps ≤ 0: the coordinate). */
void
mapper_block_gather (Block *b, const double *X, int d, const gint32 *idx, int n, double eps)
{
  int best = 0;
  double best_var = -1;
  KeyIdx *ki = g_new (KeyIdx, n);
  g_autofree double *mu = g_new0 (double, d);

  b->n = n;
  b->d = d;
  b->C = g_new (double, (gsize) n * d);
  b->key = g_new (double, n);
  b->local = g_new (int, n);
  for (int k = 0; k < d; k++)
    {
      double s = 0, s2 = 0;
      for (int j = 0; j < n; j++)
        {
          double v = X[(gint64) idx[j] * d + k];
          s += v;
          s2 += v * v;
        }
      mu[k] = s / n;
      s2 = s2 / n - (s / n) * (s / n);
      if (s2 > best_var)
        {
          best_var = s2;
          best = k;
        }
    }
  for (int j = 0; j < n; j++)
    {
      ki[j].v = X[(gint64) idx[j] * d + best];
      ki[j].j = j;
    }
  qsort (ki, n, sizeof (KeyIdx), cmp_keyidx);
  b->key_scale = MAX (fabs (ki[0].v), fabs (ki[n - 1].v));
  if (eps > 0 && d > 1 && n > 64)
    {
      KeyIdx *kp = g_new (KeyIdx, n);
      const double *r = NULL;
      double far = -1;
      for (int j = 0; j < n; j++)
        {
          const double *x = X + (gint64) idx[j] * d;
          double s = 0;
          for (int k = 0; k < d; k++)
            s += (x[k] - mu[k]) * (x[k] - mu[k]);
          if (s > far)
            {
              far = s;
              r = x;
            }
        }
      for (int j = 0; j < n; j++)
        {
          const double *x = X + (gint64) idx[j] * d;
          double s = 0;
          for (int k = 0; k < d; k++)
            s += (x[k] - r[k]) * (x[k] - r[k]);
          kp[j].v = sqrt (s);
          kp[j].j = j;
        }
      qsort (kp, n, sizeof (KeyIdx), cmp_keyidx);
      if (window_pairs (kp, n, eps) < window_pairs (ki, n, eps))
        {
          g_free (ki);
          ki = kp;
          b->key_scale = ki[n - 1].v;
        }
      else
        g_free (kp);
    }
  for (int p = 0; p < n; p++)
    {
      const double *x = X + (gint64) idx[ki[p].j] * d;
      b->local[p] = ki[p].j;
      b->key[p] = ki[p].v;
      for (int k = 0; k < d; k++)
        b->C[(gsize) k * n + p] = x[k];
    }
  g_free (ki);
}

void
mapper_block_clear (Block *b)
{
  g_free (b->C);
  g_free (b->key);
  g_free (b->local);
}

/* acc[j − j0] = ‖x_p − x_j‖² for j in [j0, j1), summed over coordinates in
 * order (the loop over j vectorises). */
CS_HOT static void
block_sqdist (const Block *b, int p, int j0, int j1, double *acc)
{
  int m = j1 - j0;
  for (int j = 0; j < m; j++)
    acc[j] = 0;
  for (int k = 0; k < b->d; k++)
    {
      const double *c = b->C + (gsize) k * b->n + j0;
      double v = b->C[(gsize) k * b->n + p];
      for (int j = 0; j < m; j++)
        {
          double t = c[j] - v;
          acc[j] += t * t;
        }
    }
}

int
mapper_uf_find (int *parent, int x)
{
  while (parent[x] != x)
    {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
  return x;
}

void
mapper_uf_union (int *parent, int a, int b)
{
  a = mapper_uf_find (parent, a);
  b = mapper_uf_find (parent, b);
  if (a != b)
    parent[MAX (a, b)] = MIN (a, b);
}

/* Clusters numbered in the order of their first member (the element's
 * members are in ascending point order), so labels do not depend on how the
 * points were sorted inside. label[] is by member position; −1: noise. */
static int
label_components (const Block *b, int *parent, const gboolean *in, int *label_by_pos, int *label)
{
  int n = b->n, n_clusters = 0;
  g_autofree int *root_label = g_new (int, n);
  g_autofree int *pos_of_local = g_new (int, n);

  for (int p = 0; p < n; p++)
    {
      pos_of_local[b->local[p]] = p;
      root_label[p] = -1;
    }
  for (int l = 0; l < n; l++)
    {
      int p = pos_of_local[l], r;
      if (in && !in[p])
        {
          label[l] = label_by_pos ? label_by_pos[p] : -1;
          continue;
        }
      r = mapper_uf_find (parent, p);
      if (root_label[r] < 0)
        root_label[r] = n_clusters++;
      label[l] = root_label[r];
    }
  /* non-core points carry their core's position; resolve to its label */
  if (in && label_by_pos)
    for (int l = 0; l < n; l++)
      {
        int p = pos_of_local[l];
        if (!in[p])
          label[l] = label_by_pos[p] >= 0 ? root_label[mapper_uf_find (parent, label_by_pos[p])] : -1;
      }
  return n_clusters;
}

/* Squared distances of a block of rows [p0, p0 + np) to the columns
 * [j0, j0 + nj) into D: by one GEMM (‖x‖² + ‖y‖² − 2 x·y) when the points
 * have a few coordinates or more, with every value within a rounding margin
 * of eps² recomputed by the direct sum, so the comparisons with eps² are
 * those of the direct sums; by the direct sums for fewer coordinates. */
#define ROWS_PER_BLOCK 32

static void
block_norms (const Block *b, double *nrm)
{
  for (int p = 0; p < b->n; p++)
    nrm[p] = 0;
  for (int k = 0; k < b->d; k++)
    {
      const double *c = b->C + (gsize) k * b->n;
      for (int p = 0; p < b->n; p++)
        nrm[p] += c[p] * c[p];
    }
}

/* row[j] += ni + nrm[j]; whether any value lies within margin of eps2. */
CS_HOT static int
add_norms (double *row, int nj, double ni, const double *nrm, double eps2, double margin)
{
  int near = 0;
  for (int j = 0; j < nj; j++)
    {
      double v = row[j] + (ni + nrm[j]);
      row[j] = v;
      near |= fabs (v - eps2) <= margin;
    }
  return near;
}

static void
block_rows (const Block *b, const double *nrm, int p0, int np, int j0, int nj, double eps2, double *D)
{
  if (b->d < 4)
    {
      for (int i = 0; i < np; i++)
        block_sqdist (b, p0 + i, j0, j0 + nj, D + (gsize) i * nj);
      return;
    }
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, np, nj, b->d, -2.0, b->C + p0, b->n, b->C + j0, b->n,
               0.0, D, nj);
  {
    double nmax = 0;
    const double *nj0 = nrm + j0;
    for (int j = 0; j < nj; j++)
      nmax = MAX (nmax, nj0[j]);
    for (int i = 0; i < np; i++)
      {
        double *row = D + (gsize) i * nj, ni = nrm[p0 + i];
        /* one margin for the row (the largest scale): a superset of the
         * values that need the exact sum, and a loop that vectorises */
        double margin = 1e-9 * (ni + nmax) + 1e-300;
        if (G_UNLIKELY (add_norms (row, nj, ni, nj0, eps2, margin)))
          for (int j = 0; j < nj; j++)
            if (fabs (row[j] - eps2) <= margin)
              block_sqdist (b, p0 + i, j0 + j, j0 + j + 1, &row[j]);
      }
  }
}

static void
border_candidate (const Block *b, const gint32 *idx, int p, int q, int *best_core, double *best_d)
{
  /* p is a border point of core q: keep the nearest core (the direct sum;
   * ties: the smaller point index) */
  double v;
  block_sqdist (b, p, q, q + 1, &v);
  if (v < best_d[p] || (v == best_d[p] && idx[b->local[q]] < idx[b->local[best_core[p]]]))
    {
      best_d[p] = v;
      best_core[p] = q;
    }
}

/* Sets bit q of `bits` for every row[q − lo] ≤ eps2, a word at a time
 * (no branches in the inner loop); returns how many. */
CS_HOT static int
row_bits (const double *row, int lo, int nj, double eps2, guint64 *bits)
{
  int c = 0, q = lo, end = lo + nj;
  while (q < end)
    {
      int w = q >> 6, t0 = q & 63, t1 = MIN (64, t0 + (end - q));
      const double *r = row + (q - lo) - t0;
      guint64 m = 0;
      for (int t = t0; t < t1; t++)
        m |= (guint64) (r[t] <= eps2) << t;
      bits[w] |= m;
      c += __builtin_popcountll (m);
      q += t1 - t0;
    }
  return c;
}

/* The eps-neighbourhoods over the window of each block of rows (|key_p −
 * key_q| ≤ eps bounds every neighbour pair): kept as an adjacency bit matrix
 * for elements up to 32768 points (128 MB), recomputed in a second pass
 * above that. */
#define BITSET_MAX 32768

/* Large elements of many coordinates: no single sweep key bounds the
 * neighbourhoods well (isotropic clusters in 20 dimensions), so the points
 * are split into balls around farthest-point-sampled centres, and only the
 * pairs of balls whose gap (centre distance minus both radii) is at most
 * eps are measured, block by block. The adjacency and everything after it
 * are those of the windowed path. */
#define PARTITION_MIN 2048
#define PARTITION_GROUPS 48

static int cluster_dbscan_adjacency (const Block *b, guint64 *adj, int *count, double eps, int min_samples,
                                     const gint32 *idx, int *label, int *wlo, int *whi);

static int
cluster_dbscan_partitioned (const Block *b0, double eps, int min_samples, const gint32 *idx, int *label)
{
  int n = b0->n, d = b0->d, P = MIN (PARTITION_GROUPS, MAX (2, n / 256)), words = (n + 63) / 64;
  double eps2 = eps * eps;
  g_autofree double *mind = g_new (double, n);
  g_autofree int *group = g_new (int, n);
  g_autofree int *centre = g_new (int, P);
  g_autofree double *radius = g_new0 (double, P);
  g_autofree int *start = g_new0 (int, P + 1);
  g_autofree int *perm = g_new (int, n);
  g_autofree double *acc = g_new (double, n);
  g_autofree double *nrm = g_new (double, n);
  g_autofree double *D = g_new (double, (gsize) ROWS_PER_BLOCK * n);
  g_autofree guint64 *adj = g_new0 (guint64, (gsize) n * words);
  g_autofree int *count = g_new0 (int, n);
  g_autofree int *wlo = g_new0 (int, n);
  g_autofree int *whi = g_new (int, n);
  Block b = { 0 };
  int c = 0, result;

  /* farthest-point sampling; each point keeps its nearest centre */
  for (int p = 0; p < n; p++)
    mind[p] = INFINITY;
  for (int k = 0; k < P; k++)
    {
      double far = -1;
      centre[k] = c;
      block_sqdist (b0, c, 0, n, acc);
      for (int p = 0; p < n; p++)
        {
          if (acc[p] < mind[p])
            {
              mind[p] = acc[p];
              group[p] = k;
            }
          if (mind[p] > far)
            {
              far = mind[p];
              c = p;
            }
        }
    }
  for (int p = 0; p < n; p++)
    {
      radius[group[p]] = MAX (radius[group[p]], sqrt (mind[p]));
      start[group[p] + 1]++;
    }
  for (int k = 0; k < P; k++)
    start[k + 1] += start[k];
  {
    g_autofree int *fill = g_memdup2 (start, sizeof (int) * (P + 1));
    for (int p = 0; p < n; p++)
      perm[fill[group[p]]++] = p;
  }
  /* the points regrouped: positions of a ball are contiguous */
  b.n = n;
  b.d = d;
  b.C = g_new (double, (gsize) n * d);
  b.key = g_new0 (double, n);
  b.local = g_new (int, n);
  for (int q = 0; q < n; q++)
    {
      b.local[q] = b0->local[perm[q]];
      for (int k = 0; k < d; k++)
        b.C[(gsize) k * n + q] = b0->C[(gsize) k * n + perm[q]];
    }
  block_norms (&b, nrm);
  for (int a = 0; a < P; a++)
    for (int p0 = start[a]; p0 < start[a + 1]; p0 += ROWS_PER_BLOCK)
      {
        int np = MIN (ROWS_PER_BLOCK, start[a + 1] - p0);
        for (int g2 = 0; g2 < P; g2++)
          {
            int j0 = start[g2], nj = start[g2 + 1] - start[g2];
            double cd;
            if (nj == 0)
              continue;
            block_sqdist (b0, centre[a], centre[g2], centre[g2] + 1, &cd);
            if (sqrt (cd) - radius[a] - radius[g2] > eps * (1 + 1e-9))
              continue;
            block_rows (&b, nrm, p0, np, j0, nj, eps2, D);
            for (int i = 0; i < np; i++)
              count[p0 + i] += row_bits (D + (gsize) i * nj, j0, nj, eps2, adj + (gsize) (p0 + i) * words);
          }
      }
  for (int p = 0; p < n; p++)
    {
      whi[p] = n;
      if (!(adj[(gsize) p * words + (p >> 6)] >> (p & 63) & 1))
        {
          adj[(gsize) p * words + (p >> 6)] |= G_GUINT64_CONSTANT (1) << (p & 63);
          count[p]++;
        }
    }
  result = cluster_dbscan_adjacency (&b, adj, count, eps, min_samples, idx, label, wlo, whi);
  mapper_block_clear (&b);
  return result;
}

/* From an adjacency bit matrix (rows' set bits within [wlo, whi), the
 * point itself included) and the neighbour counts: core points, their
 * components breadth-first, border points to their nearest core. */
static int
cluster_dbscan_adjacency (const Block *b, guint64 *adj, int *count, double eps, int min_samples,
                          const gint32 *idx, int *label, int *wlo, int *whi)
{
  int n = b->n, words = (n + 63) / 64;
  g_autofree gboolean *core = g_new (gboolean, n);
  g_autofree int *parent = g_new (int, n);
  g_autofree int *best_core = g_new (int, n);
  g_autofree double *best_d = g_new (double, n);

  for (int p = 0; p < n; p++)
    {
      core[p] = count[p] >= min_samples;
      parent[p] = p;
      best_core[p] = -1;
      best_d[p] = INFINITY;
    }
  {
      /* components of the core points by a breadth-first search over the
       * adjacency rows masked with the cores not yet reached: each row is
       * read once, whatever the number of neighbours */
      g_autofree guint64 *unvisited = g_new0 (guint64, words);
      g_autofree guint64 *coremask = g_new0 (guint64, words);
      g_autofree int *queue = g_new (int, n);
      for (int p = 0; p < n; p++)
        if (core[p])
          {
            unvisited[p >> 6] |= G_GUINT64_CONSTANT (1) << (p & 63);
            coremask[p >> 6] |= G_GUINT64_CONSTANT (1) << (p & 63);
          }
      for (int p = 0; p < n; p++)
        {
          int head = 0, tail = 0;
          if (!(unvisited[p >> 6] >> (p & 63) & 1))
            continue;
          unvisited[p >> 6] &= ~(G_GUINT64_CONSTANT (1) << (p & 63));
          queue[tail++] = p;
          while (head < tail)
            {
              int u = queue[head++];
              const guint64 *bits = adj + (gsize) u * words;
              parent[u] = p;
              for (int w = wlo[u] >> 6; w <= (whi[u] - 1) >> 6 && w < words; w++)
                {
                  guint64 m = bits[w] & unvisited[w];
                  unvisited[w] &= ~m;
                  while (m)
                    {
                      queue[tail++] = w * 64 + __builtin_ctzll (m);
                      m &= m - 1;
                    }
                }
            }
        }
      for (int p = 0; p < n; p++)
        {
          const guint64 *bits = adj + (gsize) p * words;
          if (core[p])
            continue;
          for (int w = wlo[p] >> 6; w <= (whi[p] - 1) >> 6 && w < words; w++)
            {
              guint64 m = bits[w] & coremask[w];
              while (m)
                {
                  border_candidate (b, idx, p, w * 64 + __builtin_ctzll (m), best_core, best_d);
                  m &= m - 1;
                }
            }
        }
    }
  return label_components (b, parent, core, best_core, label);
}

int
mapper_cluster_dbscan (const Block *b, double eps, int min_samples, const gint32 *idx, int *label)
{
  int n = b->n, words = (n + 63) / 64;
  gboolean bitset = n <= BITSET_MAX;
  double eps2 = eps * eps, win = eps * (1 + 1e-9) + 1e-12 * b->key_scale;
  g_autofree double *nrm = g_new (double, n);
  g_autofree double *D = g_new (double, (gsize) ROWS_PER_BLOCK * n);
  g_autofree guint64 *adj = bitset ? g_new0 (guint64, (gsize) n * words) : NULL;
  g_autofree int *wlo = g_new (int, n);
  g_autofree int *whi = g_new (int, n);
  g_autofree int *count = g_new0 (int, n);
  g_autofree gboolean *core = g_new (gboolean, n);
  g_autofree int *parent = g_new (int, n);
  g_autofree int *best_core = g_new (int, n);
  g_autofree double *best_d = g_new (double, n);

  if (n >= PARTITION_MIN && n <= BITSET_MAX && b->d >= 4)
    return cluster_dbscan_partitioned (b, eps, min_samples, idx, label);
  block_norms (b, nrm);
  for (int p = 0; p < n; p++)
    {
      parent[p] = p;
      best_core[p] = -1;
      best_d[p] = INFINITY;
    }
  for (int pass = 0; pass < (bitset ? 1 : 2); pass++)
    {
      int lo = 0, hi = 0;
      for (int p0 = 0; p0 < n; p0 += ROWS_PER_BLOCK)
        {
          int np = MIN (ROWS_PER_BLOCK, n - p0), nj;
          while (b->key[p0] - b->key[lo] > win)
            lo++;
          while (hi < n && b->key[hi] - b->key[p0 + np - 1] <= win)
            hi++;
          nj = hi - lo;
          block_rows (b, nrm, p0, np, lo, nj, eps2, D);
          for (int i = 0; i < np; i++)
            {
              int p = p0 + i, c = 0;
              const double *row = D + (gsize) i * nj;
              if (pass == 0)
                {
                  guint64 *bits = bitset ? adj + (gsize) p * words : NULL;
                  if (bits)
                    c = row_bits (row, lo, nj, eps2, bits);
                  else
                    for (int j = 0; j < nj; j++)
                      c += row[j] <= eps2;
                  if (!(row[p - lo] <= eps2))
                    {
                      /* itself, always (a distance of 0 rounded above eps² = 0) */
                      c++;
                      if (bits)
                        bits[p >> 6] |= G_GUINT64_CONSTANT (1) << (p & 63);
                    }
                  count[p] = c;
                  wlo[p] = lo;
                  whi[p] = hi;
                  continue;
                }
              for (int j = 0; j < nj; j++)
                {
                  int q = lo + j;
                  if (q == p || row[j] > eps2)
                    continue;
                  if (core[p] && core[q] && q > p)
                    mapper_uf_union (parent, p, q);
                  else if (!core[p] && core[q])
                    border_candidate (b, idx, p, q, best_core, best_d);
                }
            }
        }
      if (pass == 0)
        for (int p = 0; p < n; p++)
          core[p] = count[p] >= min_samples;
    }
  if (bitset)
    return cluster_dbscan_adjacency (b, adj, count, eps, min_samples, idx, label, wlo, whi);
  return label_components (b, parent, core, best_core, label);
}

/* Prim's minimum spanning tree on the complete graph: heights[p] is the
 * length of the edge joining p (p ≠ first) to the tree, via[p] its other end;
 * *diameter the largest distance between two of the points (every point's
 * distances to all are computed once on the way). */
static void
mst_heights (const Block *b, double *height, int *via, double *diameter)
{
  double far = 0;
  int n = b->n;
  g_autofree double *best = g_new (double, n);
  g_autofree gboolean *done = g_new0 (gboolean, n);
  g_autofree double *acc = g_new (double, n);
  int u = 0;

  for (int p = 0; p < n; p++)
    {
      best[p] = INFINITY;
      via[p] = -1;
    }
  height[0] = 0;
  for (int step = 0; step < n; step++)
    {
      int next = -1;
      double nb = INFINITY;
      done[u] = TRUE;
      block_sqdist (b, u, 0, n, acc);
      for (int p = 0; p < n; p++)
        {
          far = MAX (far, acc[p]);
          if (done[p])
            continue;
          if (acc[p] < best[p])
            {
              best[p] = acc[p];
              via[p] = u;
            }
          if (best[p] < nb)
            {
              nb = best[p];
              next = p;
            }
        }
      if (next < 0)
        break;
      height[next] = sqrt (best[next]);
      u = next;
    }
  *diameter = sqrt (far);
}

/* Single linkage with the histogram cut (docs/mapper.md): the merge heights
 * binned over [0, the element's diameter], cut at the lower edge of the
 * first empty bin above the fullest one. */
int
mapper_cluster_single_linkage (const Block *b, int bins, int *label)
{
  int n = b->n;
  g_autofree double *height = g_new (double, n);
  g_autofree int *via = g_new (int, n);
  g_autofree int *parent = g_new (int, n);
  g_autofree int *hist = g_new0 (int, bins);
  double diameter = 0, cut = INFINITY, width;
  int mode = 0;

  for (int p = 0; p < n; p++)
    parent[p] = p;
  if (n > 1)
    {
      mst_heights (b, height, via, &diameter);
      width = diameter / bins;
      if (width > 0)
        {
          for (int p = 0; p < n; p++)
            if (via[p] >= 0)
              hist[MIN (bins - 1, (int) floor (height[p] / width))]++;
          for (int k = 1; k < bins; k++)
            if (hist[k] > hist[mode])
              mode = k;
          for (int k = mode + 1; k < bins; k++)
            if (hist[k] == 0)
              {
                cut = k * width;
                break;
              }
        }
      for (int p = 0; p < n; p++)
        if (via[p] >= 0 && height[p] <= cut)
          mapper_uf_union (parent, p, via[p]);
    }
  return label_components (b, parent, NULL, NULL, label);
}

/* Distance of each point to its k-th nearest point (itself the first). */
void
mapper_kdist_element (const Block *b, int k, const gboolean *take, double *out, int *n_out)
{
  int n = b->n;
  g_autofree double *acc = g_new (double, n);
  g_autofree double *best = g_new (double, k);

  *n_out = 0;
  if (n < k)
    return;
  for (int p = 0; p < n; p++)
    {
      if (!take[b->local[p]])
        continue;
      for (int t = 0; t < k; t++)
        best[t] = INFINITY;
      block_sqdist (b, p, 0, n, acc);
      for (int j = 0; j < n; j++)
        {
          double v = acc[j];
          int q;
          if (v >= best[k - 1])
            continue;
          for (q = k - 1; q > 0 && best[q - 1] > v; q--)
            best[q] = best[q - 1];
          best[q] = v;
        }
      out[(*n_out)++] = sqrt (best[k - 1]);
    }
}

double
mapper_knee (double *v, gint64 m)
{
  gint64 best = 0;
  double bv = -INFINITY;

  qsort (v, m, sizeof (double), cs_mapper_cmp_double);
  if (m < 3 || !(v[m - 1] > v[0]))
    return v[m - 1];
  for (gint64 i = 0; i < m; i++)
    {
      double x = (double) i / (double) (m - 1);
      double y = (v[i] - v[0]) / (v[m - 1] - v[0]);
      if (x - y > bv)
        {
          bv = x - y;
          best = i;
        }
    }
  return v[best];
}
