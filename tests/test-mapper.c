/* The Mapper engine on shapes whose answer is known by their topology (a
 * circle has one loop, a figure eight two, a line none, two far blobs are two
 * components), the single-linkage histogram cut against a hand-worked
 * example, the lenses against brute-force formulas, order independence, the
 * degenerate inputs, and the graph's round trips through JSON and HDF5. */
#include <glib/gstdio.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <string.h>

#include "cs-error.h"
#include "cs-hdf5.h"
#include "cs-mapper.h"

static double
gauss (GRand *r)
{
  double u = g_rand_double_range (r, 1e-12, 1), v = g_rand_double (r);
  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

/* Points of a curve (x(t), y(t)) in 2-D: t uniform at random with Gaussian
 * noise, or (noise < 0) evenly spaced t with a small jitter and no noise.
 * The single-linkage cut needs the second: random spacing along a curve has
 * an exponential tail of gaps, and the first empty histogram bin then cuts
 * off the stray points, as that rule is meant to. */
static double *
curve (int n, int kind, double noise, guint seed)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (seed);
  double *X = g_new (double, n * 2);
  for (int i = 0; i < n; i++)
    {
      double t = noise < 0 ? 2 * G_PI * (i + 0.3 * g_rand_double (r)) / n : 2 * G_PI * g_rand_double (r), x, y;
      if (kind == 0)        /* circle */
        {
          x = cos (t);
          y = sin (t);
        }
      else if (kind == 1)   /* figure eight (lemniscate of Gerono): crosses itself at the origin */
        {
          x = cos (t);
          y = sin (2 * t) / 2;
        }
      else                  /* a segment */
        {
          x = t / G_PI - 1;
          y = 0.2 * x;
        }
      X[i * 2] = x + MAX (noise, 0) * gauss (r);
      X[i * 2 + 1] = y + MAX (noise, 0) * gauss (r);
    }
  return X;
}

static CsMapperGraph *
build_x_lens (const double *X, int n, int d, const CsMapperParams *p)
{
  g_autoptr(GError) error = NULL;
  g_autofree double *lens = g_new (double, n);
  CsLensSpec spec;
  CsMapperGraph *g;

  g_assert_true (cs_lens_parse ("column:0", &spec, &error));
  g_assert_true (cs_lens_compute (&spec, X, n, d, NULL, lens, NULL, &error));
  g = cs_mapper_build (X, n, d, lens, p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g);
  return g;
}

static void
check_topology (int kind, CsClusterKind cluster, double noise, const char *lens, int components, int cycle_rank)
{
  int n = kind == 1 ? 6000 : 3000;
  g_autofree double *X = curve (n, kind, noise, 7 + kind);
  g_autofree double *lv = g_new (double, n);
  g_autoptr(GError) error = NULL;
  CsLensSpec spec;
  CsMapperParams p;
  g_autoptr(CsMapperGraph) g = NULL;

  cs_mapper_params_init (&p);
  p.intervals = 12;
  p.overlap = 0.3;
  p.cluster = cluster;
  p.eps = 0.08;
  p.min_samples = 3;
  g_assert_true (cs_lens_parse (lens, &spec, &error));
  g_assert_true (cs_lens_compute (&spec, X, n, 2, NULL, lv, NULL, &error));
  g = cs_mapper_build (X, n, 2, lv, &p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("kind %d, noise %g, lens %s, %s: %d nodes, %d edges, %d components, cycle rank %d", kind, noise, lens,
                  cs_mapper_cluster_name (cluster), g->n_nodes, g->n_edges, g->n_components, g->cycle_rank);
  g_assert_cmpint (g->n_components, ==, components);
  g_assert_cmpint (g->cycle_rank, ==, cycle_rank);
  g_assert_cmpint (g->cycle_rank, ==, g->n_edges - g->n_nodes + g->n_components);
  g_assert_cmpint (g->n_nodes, >=, 12);
}

/* Uniformly random points along the curves with Gaussian noise: their merge
 * heights have a tail (a point that noise put off the curve joins late), and
 * single linkage must not make such a stray point a cluster of its own
 * (binned over [min, max height] it did: the noisy circle fell into two
 * components); with evenly spaced points as well. */
static void
test_circle (void)
{
  check_topology (0, CS_CLUSTER_DBSCAN, 0.01, "column:0", 1, 1);
  check_topology (0, CS_CLUSTER_DBSCAN, 0.03, "pca1", 1, 1);
  check_topology (0, CS_CLUSTER_SINGLE_LINKAGE, 0.03, "pca1", 1, 1);
  check_topology (0, CS_CLUSTER_SINGLE_LINKAGE, 0.01, "column:0", 1, 1);
  check_topology (0, CS_CLUSTER_SINGLE_LINKAGE, -1, "column:0", 1, 1);
}

static void
test_figure_eight (void)
{
  check_topology (1, CS_CLUSTER_DBSCAN, 0.01, "column:0", 1, 2);
  check_topology (1, CS_CLUSTER_SINGLE_LINKAGE, 0.01, "column:0", 1, 2);
  check_topology (1, CS_CLUSTER_SINGLE_LINKAGE, -1, "column:0", 1, 2);
}

static void
test_line (void)
{
  check_topology (2, CS_CLUSTER_DBSCAN, 0.01, "column:0", 1, 0);
  check_topology (2, CS_CLUSTER_SINGLE_LINKAGE, 0.01, "column:0", 1, 0);
  check_topology (2, CS_CLUSTER_SINGLE_LINKAGE, -1, "column:0", 1, 0);
}

/* Two Gaussian blobs in 5-D, far apart along the second coordinate, with a
 * lens along the first: every interval holds a piece of each, and the graph
 * falls into two components (no loop); the automatic eps finds them as well,
 * and so does single linkage. */
static void
test_two_blobs (void)
{
  const int n = 2000, d = 5;
  g_autoptr(GRand) r = g_rand_new_with_seed (3);
  g_autofree double *X = g_new (double, n * d);
  CsMapperParams p;

  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      X[i * d + k] = gauss (r) + (k == 1 ? (i % 2 ? 30 : -30) : 0);
  cs_mapper_params_init (&p);
  p.intervals = 6;
  p.overlap = 0.4;
  p.cover = CS_COVER_BALANCED;
  for (int run = 0; run < 3; run++)
    {
      g_autoptr(CsMapperGraph) g = NULL;
      p.eps = run == 1 ? 0 : 2.5;
      p.cluster = run == 2 ? CS_CLUSTER_SINGLE_LINKAGE : CS_CLUSTER_DBSCAN;
      g = build_x_lens (X, n, d, &p);
      g_test_message ("blobs (%s, eps %g): %d nodes, %d components, cycle rank %d", cs_mapper_cluster_name (p.cluster),
                      g->eps, g->n_nodes, g->n_components, g->cycle_rank);
      g_assert_cmpint (g->n_components, ==, 2);
      g_assert_cmpint (g->cycle_rank, ==, 0);
      g_assert_cmpint (g->n_nodes, ==, 12);
      if (p.cluster == CS_CLUSTER_DBSCAN)
        g_assert_cmpfloat (g->eps, >, 0);
      for (int v = 0; v < g->n_nodes; v++)
        {
          /* no node mixes the blobs */
          int parity = g->nodes[v].members[0] % 2;
          for (int t = 0; t < g->nodes[v].n_members; t++)
            g_assert_cmpint (g->nodes[v].members[t] % 2, ==, parity);
        }
    }
  p.cluster = CS_CLUSTER_DBSCAN;
  /* balanced intervals hold about the same number of points */
  {
    g_autoptr(CsMapperGraph) g = NULL;
    p.eps = 100;   /* one cluster per interval */
    p.intervals = 5;
    p.overlap = 0;
    g = build_x_lens (X, n, d, &p);
    g_assert_cmpint (g->n_nodes, ==, 5);
    for (int v = 0; v < 5; v++)
      g_assert_cmpint (ABS (g->nodes[v].n_members - n / 5), <=, 1);
  }
}

/* The hand-worked single-linkage cuts of docs/mapper.md. 1-D points 0, 1,
 * 2, 10, 11: merge heights 1, 1, 1, 8, diameter 11; ten bins of 1.1 over
 * [0, 11]; bin 0 holds the three 1s and is the fullest, bin 1 ([1.1, 2.2))
 * is empty: the cut is 1.1, the clusters {0, 1, 2} and {10, 11}. Points 0,
 * 1, 2, 3 (heights 1, 1, 1, diameter 3, four bins of 0.75): the 1s are in bin
 * 1, bins 2 and 3 are empty, the cut 1.5 leaves one cluster. The outlier:
 * points 0, 1, …, 9 and 10.8 (heights nine 1s and 1.8, diameter 10.8, ten
 * bins of 1.08): the 1s fill bin 0, the 1.8 is in bin 1, bin 2 is the first
 * empty one, the cut 2.16 keeps the outlier (binned over [1, 1.8] it was cut
 * off at 1.08); at 13 instead (height 4, bins of 1.3) bin 1 is empty and
 * the point is its own cluster. */
static void
test_histogram_cut (void)
{
  double X[] = { 10, 0, 11, 2, 1 };
  double Y[] = { 0, 1, 2, 3 };
  CsMapperParams p;
  g_autoptr(CsMapperGraph) g = NULL;
  g_autoptr(CsMapperGraph) h = NULL;
  g_autoptr(GError) error = NULL;

  cs_mapper_params_init (&p);
  p.cluster = CS_CLUSTER_SINGLE_LINKAGE;
  p.intervals = 1;
  p.bins = 10;
  g = cs_mapper_build (X, 5, 1, X, &p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g->n_nodes, ==, 2);
  /* the first node is the cluster of point 0 (value 10) */
  g_assert_cmpint (g->nodes[0].n_members, ==, 2);
  g_assert_cmpint (g->nodes[0].members[0], ==, 0);
  g_assert_cmpint (g->nodes[0].members[1], ==, 2);
  g_assert_cmpint (g->nodes[1].n_members, ==, 3);
  g_assert_cmpint (g->nodes[1].members[0], ==, 1);
  g_assert_cmpint (g->nodes[1].members[1], ==, 3);
  g_assert_cmpint (g->nodes[1].members[2], ==, 4);
  g_assert_cmpint (g->n_components, ==, 2);

  p.bins = 4;
  h = cs_mapper_build (Y, 4, 1, Y, &p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (h->n_nodes, ==, 1);
  g_assert_cmpint (h->nodes[0].n_members, ==, 4);

  p.bins = 10;
  for (int far = 0; far < 2; far++)
    {
      double Z[11];
      g_autoptr(CsMapperGraph) k = NULL;
      for (int i = 0; i < 10; i++)
        Z[i] = i;
      Z[10] = far ? 13 : 10.8;
      k = cs_mapper_build (Z, 11, 1, Z, &p, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (k->n_nodes, ==, far ? 2 : 1);
      g_assert_cmpint (k->nodes[0].n_members, ==, far ? 10 : 11);
    }
}

static int
cmp_int (gconstpointer a, gconstpointer b)
{
  return *(const int *) a - *(const int *) b;
}

/* A node's members as the original indices, sorted and written as text. */
static char *
node_key (const CsMapperNode *node, const int *to_original)
{
  g_autoptr(GArray) a = g_array_new (FALSE, FALSE, sizeof (int));
  GString *s = g_string_new (NULL);
  for (int t = 0; t < node->n_members; t++)
    {
      int o = to_original ? to_original[node->members[t]] : node->members[t];
      g_array_append_val (a, o);
    }
  g_array_sort (a, cmp_int);
  for (guint i = 0; i < a->len; i++)
    g_string_append_printf (s, "%d,", g_array_index (a, int, i));
  return g_string_free (s, FALSE);
}

static GHashTable *
graph_signature (const CsMapperGraph *g, const int *to_original)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  for (int v = 0; v < g->n_nodes; v++)
    {
      char *k = node_key (&g->nodes[v], to_original);
      g_ptr_array_add (keys, g_strdup (k));
      g_hash_table_add (set, k);
    }
  for (int e = 0; e < g->n_edges; e++)
    {
      const char *a = keys->pdata[g->edges[e].source], *b = keys->pdata[g->edges[e].target];
      g_hash_table_add (set, g_strdup_printf ("edge %s | %s | %d", strcmp (a, b) < 0 ? a : b,
                                              strcmp (a, b) < 0 ? b : a, g->edges[e].shared));
    }
  return set;
}

static void
test_order_independence (void)
{
  const int n = 1500;
  g_autofree double *X = curve (n, 1, 0.02, 11);
  g_autofree double *Y = g_new (double, n * 2);
  g_autofree int *perm = g_new (int, n);
  g_autoptr(GRand) r = g_rand_new_with_seed (5);

  for (int i = 0; i < n; i++)
    perm[i] = i;
  for (int i = n - 1; i > 0; i--)
    {
      int j = g_rand_int_range (r, 0, i + 1), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
  for (int i = 0; i < n; i++)
    memcpy (Y + i * 2, X + perm[i] * 2, sizeof (double) * 2);
  for (int c = 0; c < 2; c++)
    for (int cover = 0; cover < 2; cover++)
      {
        CsMapperParams p;
        g_autoptr(CsMapperGraph) a = NULL;
        g_autoptr(CsMapperGraph) b = NULL;
        g_autoptr(GHashTable) sa = NULL;
        g_autoptr(GHashTable) sb = NULL;
        GHashTableIter it;
        gpointer key;

        cs_mapper_params_init (&p);
        p.intervals = 9;
        p.overlap = 0.35;
        p.min_samples = 4;
        p.cover = cover ? CS_COVER_BALANCED : CS_COVER_UNIFORM;
        p.cluster = c ? CS_CLUSTER_SINGLE_LINKAGE : CS_CLUSTER_DBSCAN;
        a = build_x_lens (X, n, 2, &p);
        b = build_x_lens (Y, n, 2, &p);
        sa = graph_signature (a, NULL);
        sb = graph_signature (b, perm);
        g_assert_cmpint (a->n_nodes, ==, b->n_nodes);
        g_assert_cmpint (a->n_edges, ==, b->n_edges);
        g_assert_cmpuint (g_hash_table_size (sa), ==, g_hash_table_size (sb));
        g_hash_table_iter_init (&it, sa);
        while (g_hash_table_iter_next (&it, &key, NULL))
          g_assert_true (g_hash_table_contains (sb, key));
      }
}

/* DBSCAN written out the slow way: core points, components of cores within
 * eps, border points to their nearest core. Node member sets as keys. */
static GHashTable *
brute_dbscan (const double *X, int n, int d, double eps, int ms)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree double *D = g_new (double, (gsize) n * n);
  g_autofree gboolean *core = g_new (gboolean, n);
  g_autofree int *lab = g_new (int, n);
  g_autofree int *stack = g_new (int, n);
  int k = 0;

  for (int i = 0; i < n; i++)
    {
      int c = 0;
      for (int j = 0; j < n; j++)
        {
          double s = 0;
          for (int q = 0; q < d; q++)
            s += (X[i * d + q] - X[j * d + q]) * (X[i * d + q] - X[j * d + q]);
          D[(gsize) i * n + j] = sqrt (s);
          c += D[(gsize) i * n + j] <= eps;
        }
      core[i] = c >= ms;
      lab[i] = -1;
    }
  for (int i = 0; i < n; i++)
    {
      int top = 0;
      if (!core[i] || lab[i] >= 0)
        continue;
      lab[i] = k;
      stack[top++] = i;
      while (top)
        {
          int u = stack[--top];
          for (int v = 0; v < n; v++)
            if (core[v] && lab[v] < 0 && D[(gsize) u * n + v] <= eps)
              {
                lab[v] = k;
                stack[top++] = v;
              }
        }
      k++;
    }
  for (int i = 0; i < n; i++)
    if (!core[i])
      {
        double best = INFINITY;
        for (int j = 0; j < n; j++)
          if (core[j] && D[(gsize) i * n + j] <= eps && D[(gsize) i * n + j] < best)
            {
              best = D[(gsize) i * n + j];
              lab[i] = lab[j];
            }
      }
  for (int c = 0; c < k; c++)
    {
      GString *key = g_string_new (NULL);
      for (int i = 0; i < n; i++)
        if (lab[i] == c)
          g_string_append_printf (key, "%d,", i);
      g_hash_table_add (set, g_string_free (key, FALSE));
    }
  return set;
}

/* Every neighbour search (direct sums for small elements, blocked GEMM over
 * a sweep window with an exact re-check near eps, and GEMM over pairs of
 * balls for large elements) against the brute force. */
static void
test_dbscan_brute (void)
{
  /* direct sums, windowed GEMM, and balls (above 2048 points) */
  const int sizes[3] = { 500, 1600, 3000 };
  for (int t = 0; t < 3; t++)
    {
      const int n = sizes[t], d = 8;
      g_autoptr(GRand) r = g_rand_new_with_seed (13 + t);
      g_autofree double *X = g_new (double, n * d);
      g_autofree double *lens = g_new0 (double, n);
      g_autoptr(GHashTable) want = NULL;
      g_autoptr(CsMapperGraph) g = NULL;
      g_autoptr(GError) error = NULL;
      CsMapperParams p;

      for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++)
          /* three blobs and a sprinkle of uniform noise */
          X[i * d + k] = i % 10 == 9 ? g_rand_double_range (r, -12, 12) : gauss (r) + 6.0 * ((i % 3) - 1) * (k < 2);
      cs_mapper_params_init (&p);
      p.intervals = 1;
      p.eps = 2.6;
      p.min_samples = 6;
      g = cs_mapper_build (X, n, d, lens, &p, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      want = brute_dbscan (X, n, d, p.eps, p.min_samples);
      g_test_message ("n = %d: %d clusters, brute force %u", n, g->n_nodes, g_hash_table_size (want));
      g_assert_cmpuint ((guint) g->n_nodes, ==, g_hash_table_size (want));
      g_assert_cmpint (g->n_nodes, >=, 3);
      /* equal counts and every node one of the brute force's clusters */
      for (int v = 0; v < g->n_nodes; v++)
        {
          g_autofree char *k = node_key (&g->nodes[v], NULL);
          g_assert_true (g_hash_table_contains (want, k));
        }
    }
}

static void
test_degenerate (void)
{
  CsMapperParams p;
  g_autoptr(GError) error = NULL;
  double same[60], few[6] = { 0, 0, 1, 1, 2, 2 };
  double lens_same[30], gap[40], gap_lens[40];

  cs_mapper_params_init (&p);
  /* identical points: one node with all of them, for both clusterings and
   * with the automatic eps (which is then 0) */
  for (int i = 0; i < 30; i++)
    {
      same[i * 2] = 1.5;
      same[i * 2 + 1] = -2;
      lens_same[i] = 1.5;
    }
  for (int c = 0; c < 2; c++)
    {
      g_autoptr(CsMapperGraph) g = NULL;
      p.cluster = c ? CS_CLUSTER_SINGLE_LINKAGE : CS_CLUSTER_DBSCAN;
      g = cs_mapper_build (same, 30, 2, lens_same, &p, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g->n_nodes, ==, 1);
      g_assert_cmpint (g->nodes[0].n_members, ==, 30);
      g_assert_cmpint (g->cycle_rank, ==, 0);
    }
  /* fewer points than min_samples: no core points, no nodes, all noise */
  {
    g_autoptr(CsMapperGraph) g = NULL;
    p.cluster = CS_CLUSTER_DBSCAN;
    p.eps = 5;
    p.min_samples = 5;
    g = cs_mapper_build (few, 3, 2, few, &p, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g->n_nodes, ==, 0);
    g_assert_cmpint (g->n_edges, ==, 0);
    g_assert_cmpint (g->n_components, ==, 0);
    g_assert_cmpint (g->n_covered, ==, 0);
  }
  /* … and without eps the message says what to do */
  {
    CsMapperGraph *g;
    p.eps = 0;
    g = cs_mapper_build (few, 3, 2, few, &p, NULL, NULL, NULL, &error);
    g_assert_null (g);
    g_assert_error (error, CS_ERROR, CS_ERROR_RANGE);
    g_assert_nonnull (strstr (error->message, "give eps"));
    g_clear_error (&error);
  }
  /* empty cover elements: lens values at both ends of a long range */
  {
    g_autoptr(CsMapperGraph) g = NULL;
    for (int i = 0; i < 40; i++)
      {
        gap[i] = gap_lens[i] = (i < 20 ? 0 : 100) + 0.01 * i;
      }
    p.eps = 1;
    p.min_samples = 2;
    p.intervals = 50;
    g = cs_mapper_build (gap, 40, 1, gap_lens, &p, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g->n_nodes, ==, 2);
    g_assert_cmpint (g->n_components, ==, 2);
  }
  /* bad parameters and values get messages */
  {
    double nan_lens[3] = { 0, NAN, 1 };
    p.intervals = 0;
    g_assert_null (cs_mapper_build (few, 3, 2, few, &p, NULL, NULL, NULL, &error));
    g_assert_nonnull (strstr (error->message, "intervals"));
    g_clear_error (&error);
    p.intervals = 5;
    p.overlap = 1;
    g_assert_null (cs_mapper_build (few, 3, 2, few, &p, NULL, NULL, NULL, &error));
    g_assert_nonnull (strstr (error->message, "overlap"));
    g_clear_error (&error);
    p.overlap = 0.2;
    g_assert_null (cs_mapper_build (few, 3, 2, nan_lens, &p, NULL, NULL, NULL, &error));
    g_assert_nonnull (strstr (error->message, "point 1"));
    g_clear_error (&error);
  }
}

/* The uniform cover's interval length follows L = R / (n − (n − 1) f). With
 * values 0 … 10, n = 4 and f = 0.5, L = 10 / 2.5 = 4 and the step is 2:
 * [0, 4], [2, 6], [4, 8], [6, 10]; with a huge eps each interval is one node. */
static void
test_uniform_cover (void)
{
  double X[11];
  CsMapperParams p;
  g_autoptr(CsMapperGraph) g = NULL;
  g_autoptr(GError) error = NULL;
  int expect[4][2] = { { 0, 4 }, { 2, 6 }, { 4, 8 }, { 6, 10 } };

  for (int i = 0; i <= 10; i++)
    X[i] = i;
  cs_mapper_params_init (&p);
  p.intervals = 4;
  p.overlap = 0.5;
  p.eps = 100;
  p.min_samples = 1;
  g = cs_mapper_build (X, 11, 1, X, &p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g->n_nodes, ==, 4);
  for (int v = 0; v < 4; v++)
    {
      g_assert_cmpint (g->nodes[v].n_members, ==, expect[v][1] - expect[v][0] + 1);
      g_assert_cmpint (g->nodes[v].members[0], ==, expect[v][0]);
    }
  /* closed intervals: neighbours share 3 points of 5 + 5 − 3 (Jaccard 3/7),
   * [0, 4] and [4, 8] (and [2, 6], [6, 10]) share their end point (1/9) */
  g_assert_cmpint (g->n_edges, ==, 5);
  for (int e = 0; e < 5; e++)
    {
      const CsMapperEdge *ed = &g->edges[e];
      if (ed->target - ed->source == 1)
        {
          g_assert_cmpint (ed->shared, ==, 3);
          g_assert_cmpfloat (fabs (ed->weight - 3.0 / 7.0), <, 1e-15);
        }
      else
        {
          g_assert_cmpint (ed->target - ed->source, ==, 2);
          g_assert_cmpint (ed->shared, ==, 1);
          g_assert_cmpfloat (fabs (ed->weight - 1.0 / 9.0), <, 1e-15);
        }
    }
  g_assert_cmpint (g->cycle_rank, ==, 2);
  {
    g_autoptr(CsMapperGraph) h = NULL;
    p.min_intersection = 2;
    h = cs_mapper_build (X, 11, 1, X, &p, NULL, NULL, NULL, &error);
    g_assert_cmpint (h->n_edges, ==, 3);
    g_assert_cmpint (h->cycle_rank, ==, 0);
  }
  /* min_intersection above the overlap removes the edges */
  {
    g_autoptr(CsMapperGraph) h = NULL;
    p.min_intersection = 4;
    h = cs_mapper_build (X, 11, 1, X, &p, NULL, NULL, NULL, &error);
    g_assert_cmpint (h->n_edges, ==, 0);
    g_assert_cmpint (h->n_components, ==, 4);
  }
}

/* A 2-D cover (two lenses): a noisy circle with lenses x and y, 8 × 8
 * intervals, is still one loop. */
static void
test_two_lenses (void)
{
  const int n = 4000;
  g_autofree double *X = curve (n, 0, 0.01, 21);
  CsMapperParams p;
  g_autoptr(CsMapperGraph) g = NULL;
  g_autoptr(GError) error = NULL;

  cs_mapper_params_init (&p);
  p.n_lenses = 2;
  p.intervals = 8;
  p.overlap = 0.4;
  p.eps = 0.1;
  p.min_samples = 3;
  g = cs_mapper_build (X, n, 2, X, &p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("2-D cover: %d nodes, %d edges, cycle rank %d", g->n_nodes, g->n_edges, g->cycle_rank);
  g_assert_cmpint (g->n_components, ==, 1);
  /* overlapping squares make triangles, but no loop other than the circle's
   * survives as a hole: the 1-skeleton's cycle rank counts those triangles,
   * so it is at least 1 */
  g_assert_cmpint (g->cycle_rank, >=, 1);
  for (int v = 0; v < g->n_nodes; v++)
    {
      /* every node's points sit in its element's square */
      g_assert_cmpint (g->nodes[v].element[0], <, 8);
      g_assert_cmpint (g->nodes[v].element[1], <, 8);
    }
}

static void
test_lenses (void)
{
  const int n = 300, d = 3;
  g_autoptr(GRand) r = g_rand_new_with_seed (9);
  g_autofree double *X = g_new (double, n * d);
  g_autofree double *out = g_new (double, n);
  g_autoptr(GError) error = NULL;
  CsLensSpec spec;
  double v[3] = { 1, 2, 2 };

  for (int i = 0; i < n; i++)
    {
      /* variance 9 along (1, 1, 0)/√2, 1 along the others */
      double a = 3 * gauss (r), b = gauss (r), c = gauss (r);
      X[i * d] = (a + b) / sqrt (2) + 4;
      X[i * d + 1] = (a - b) / sqrt (2) - 1;
      X[i * d + 2] = c;
    }
  /* knn:3 and eccentricity against brute force */
  g_assert_true (cs_lens_parse ("knn:3", &spec, &error));
  g_assert_true (cs_lens_compute (&spec, X, n, d, NULL, out, NULL, &error));
  for (int i = 0; i < n; i++)
    {
      double best[3] = { INFINITY, INFINITY, INFINITY };
      for (int j = 0; j < n; j++)
        {
          double s = 0;
          if (j == i)
            continue;
          for (int k = 0; k < d; k++)
            s += (X[i * d + k] - X[j * d + k]) * (X[i * d + k] - X[j * d + k]);
          s = sqrt (s);
          if (s < best[2])
            {
              best[2] = s;
              for (int q = 2; q > 0 && best[q] < best[q - 1]; q--)
                {
                  double t = best[q];
                  best[q] = best[q - 1];
                  best[q - 1] = t;
                }
            }
        }
      g_assert_cmpfloat (fabs (out[i] - best[2]), <, 1e-9);
    }
  g_assert_true (cs_lens_parse ("eccentricity", &spec, &error));
  g_assert_true (cs_lens_compute (&spec, X, n, d, NULL, out, NULL, &error));
  for (int i = 0; i < n; i += 17)
    {
      double s = 0;
      for (int j = 0; j < n; j++)
        for (int k = 0; k < d; k++)
          s += (X[i * d + k] - X[j * d + k]) * (X[i * d + k] - X[j * d + k]);
      g_assert_cmpfloat (fabs (out[i] - sqrt (s / n)), <, 1e-9);
    }
  /* density: the Gaussian kernel mean with Scott's bandwidth */
  g_assert_true (cs_lens_parse ("density", &spec, &error));
  g_assert_true (cs_lens_compute (&spec, X, n, d, NULL, out, NULL, &error));
  {
    double sig = 0, h;
    for (int k = 0; k < d; k++)
      {
        double m = 0, s = 0;
        for (int i = 0; i < n; i++)
          m += X[i * d + k] / n;
        for (int i = 0; i < n; i++)
          s += (X[i * d + k] - m) * (X[i * d + k] - m);
        sig += sqrt (s / (n - 1)) / d;
      }
    h = pow (n, -1.0 / (d + 4)) * sig;
    for (int i = 0; i < n; i += 23)
      {
        double s = 0;
        for (int j = 0; j < n; j++)
          {
            double q = 0;
            for (int k = 0; k < d; k++)
              q += (X[i * d + k] - X[j * d + k]) * (X[i * d + k] - X[j * d + k]);
            s += exp (-q / (2 * h * h));
          }
        g_assert_cmpfloat (fabs (out[i] - s / n), <, 1e-9);
      }
  }
  /* pca1 is the (1, 1, 0)/√2 direction, sign so its largest loading is + */
  g_assert_true (cs_lens_parse ("pca1", &spec, &error));
  g_assert_true (cs_lens_compute (&spec, X, n, d, NULL, out, NULL, &error));
  {
    double corr = 0, var = 0, m = 0;
    for (int i = 0; i < n; i++)
      m += out[i] / n;
    g_assert_cmpfloat (fabs (m), <, 1e-9);
    for (int i = 0; i < n; i++)
      {
        double a = (X[i * d] + X[i * d + 1]) / sqrt (2);
        corr += out[i] * a;
        var += out[i] * out[i];
      }
    g_assert_cmpfloat (corr, >, 0);
    g_assert_cmpfloat (var / (n - 1), >, 6);
    g_assert_cmpfloat (var / (n - 1), <, 12);
  }
  /* vector: x·v/‖v‖² */
  g_assert_true (cs_lens_parse ("vector:animal", &spec, &error));
  g_assert_cmpstr (spec.name, ==, "animal");
  g_assert_true (cs_lens_compute (&spec, X, n, d, v, out, NULL, &error));
  g_assert_cmpfloat (fabs (out[5] - (X[15] + 2 * X[16] + 2 * X[17]) / 9), <, 1e-12);
  cs_lens_clear (&spec);
  /* bad lenses and bad columns */
  g_assert_false (cs_lens_parse ("pca", &spec, &error));
  g_assert_nonnull (strstr (error->message, "lenses:"));
  g_clear_error (&error);
  g_assert_true (cs_lens_parse ("column:3", &spec, &error));
  g_assert_false (cs_lens_compute (&spec, X, n, d, NULL, out, NULL, &error));
  g_assert_nonnull (strstr (error->message, "only 3 columns"));
  g_clear_error (&error);
}

static void
test_layout_and_files (void)
{
  const int n = 2000;
  g_autofree double *X = curve (n, 1, 0.01, 31);
  CsMapperParams p;
  g_autoptr(CsMapperGraph) g = NULL;
  g_autoptr(CsMapperGraph) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree double *x0 = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cs-mapper-XXXXXX", NULL);
  g_autofree char *jp = g_build_filename (dir, "graph.json", NULL);
  g_autofree char *hp = g_build_filename (dir, "ws.h5", NULL);
  const char *lens_names[] = { "column:0", NULL };
  g_auto(GStrv) names = NULL;
  g_autofree gint32 *ids = NULL;
  g_autofree char *points = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o;

  cs_mapper_params_init (&p);
  p.intervals = 12;
  p.eps = 0.08;
  g = build_x_lens (X, n, 2, &p);
  cs_mapper_layout (g, 42);
  x0 = g_memdup2 (g->x, sizeof (double) * g->n_nodes);
  cs_mapper_layout (g, 42);
  for (int v = 0; v < g->n_nodes; v++)
    {
      g_assert_cmpfloat (g->x[v], ==, x0[v]);
      g_assert_cmpfloat (g->x[v], >=, 0);
      g_assert_cmpfloat (g->x[v], <=, 1);
      g_assert_cmpfloat (g->y[v], >=, 0);
      g_assert_cmpfloat (g->y[v], <=, 1);
    }
  /* joined nodes end nearer each other than the average pair */
  {
    double de = 0, da = 0;
    for (int e = 0; e < g->n_edges; e++)
      de += hypot (g->x[g->edges[e].source] - g->x[g->edges[e].target],
                   g->y[g->edges[e].source] - g->y[g->edges[e].target]) / g->n_edges;
    for (int a = 0; a < g->n_nodes; a++)
      for (int b = a + 1; b < g->n_nodes; b++)
        da += hypot (g->x[a] - g->x[b], g->y[a] - g->y[b]) / (g->n_nodes * (g->n_nodes - 1) / 2.0);
    g_assert_cmpfloat (de, <, 0.5 * da);
  }

  g_assert_true (cs_mapper_graph_save_json (g, lens_names, NULL, jp, &error));
  g_assert_true (json_parser_load_from_file (parser, jp, &error));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (o, "components"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (o, "cycle_rank"), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "nodes")), ==, (guint) g->n_nodes);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "edges")), ==, (guint) g->n_edges);

  /* HDF5: into an existing file, twice (the second replaces the first), and
   * the file's other datasets stay */
  {
    g_autoptr(CsH5Writer) w = cs_h5_writer_new (hp, &error);
    gsize dims[1] = { 3 };
    double keep[3] = { 1, 2, 3 };
    g_assert_true (cs_h5_writer_add_f64 (w, "/keep", 1, dims, keep, &error));
    g_assert_true (cs_h5_writer_commit (w, &error));
  }
  g_assert_true (cs_mapper_graph_save_h5 (g, lens_names, NULL, "curve", hp, &error));
  g_assert_true (cs_mapper_graph_save_h5 (g, lens_names, NULL, "curve", hp, &error));
  back = cs_mapper_graph_load_h5 (hp, &names, &ids, &points, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (names[0], ==, "column:0");
  g_assert_cmpstr (points, ==, "curve");
  g_assert_null (ids);
  g_assert_cmpint (back->n_nodes, ==, g->n_nodes);
  g_assert_cmpint (back->n_edges, ==, g->n_edges);
  g_assert_cmpint (back->cycle_rank, ==, g->cycle_rank);
  g_assert_cmpfloat (back->eps, ==, g->eps);
  for (int v = 0; v < g->n_nodes; v++)
    {
      g_assert_cmpint (back->nodes[v].n_members, ==, g->nodes[v].n_members);
      g_assert_cmpint (memcmp (back->nodes[v].members, g->nodes[v].members, sizeof (gint32) * g->nodes[v].n_members), ==, 0);
      g_assert_cmpfloat (back->x[v], ==, g->x[v]);
    }
  {
    g_autoptr(CsH5Reader) r = cs_h5_reader_open (hp, &error);
    g_assert_true (cs_h5_reader_has (r, "/keep"));
  }
  /* a file without a graph says so */
  {
    g_autofree char *empty = g_build_filename (dir, "empty.h5", NULL);
    g_autoptr(CsH5Writer) w = cs_h5_writer_new (empty, &error);
    gsize dims[1] = { 1 };
    double one = 1;
    g_assert_true (cs_h5_writer_add_f64 (w, "/x", 1, dims, &one, &error));
    g_assert_true (cs_h5_writer_commit (w, &error));
    g_assert_null (cs_mapper_graph_load_h5 (empty, NULL, NULL, NULL, &error));
    g_assert_nonnull (strstr (error->message, "no Mapper graph"));
    g_clear_error (&error);
    g_unlink (empty);
  }
  g_unlink (jp);
  g_unlink (hp);
  g_rmdir (dir);
}

/* PCA lenses of fewer points than dimensions (the n × n Gram path) equal
 * the projections on the covariance's eigenvectors as GSL computes them,
 * with the largest loading positive; and a single point of a million
 * columns gets its lens without a d × d matrix (that asked for 8 TB). */
static void
test_pca_gram (void)
{
  const int n = 40, d = 90;
  g_autofree double *X = g_new (double, (gsize) n * d);
  g_autoptr(GRand) r = g_rand_new_with_seed (17);
  gsl_matrix *cov = gsl_matrix_calloc (d, d), *evec = gsl_matrix_alloc (d, d);
  gsl_vector *eval = gsl_vector_alloc (d);
  gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc (d);
  double mu[90] = { 0 };
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      X[i * d + k] = g_rand_double_range (r, -1, 1) * (k < 3 ? 5 - k : 1);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      mu[k] += X[i * d + k] / n;
  for (int i = 0; i < n; i++)
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++)
        *gsl_matrix_ptr (cov, a, b) += (X[i * d + a] - mu[a]) * (X[i * d + b] - mu[b]);
  gsl_eigen_symmv (cov, eval, evec, ws);
  gsl_eigen_symmv_sort (eval, evec, GSL_EIGEN_SORT_VAL_DESC);
  for (int comp = 1; comp <= 2; comp++)
    {
      CsLensSpec spec;
      g_autofree double *got = g_new (double, n);
      g_autofree char *name = g_strdup_printf ("pca%d", comp);
      double big = 0, sign;
      g_assert_true (cs_lens_parse (name, &spec, &error));
      g_assert_true (cs_lens_compute (&spec, X, n, d, NULL, got, NULL, &error));
      g_assert_no_error (error);
      for (int k = 0; k < d; k++)
        if (fabs (gsl_matrix_get (evec, k, comp - 1)) > fabs (big))
          big = gsl_matrix_get (evec, k, comp - 1);
      sign = big < 0 ? -1 : 1;
      for (int i = 0; i < n; i++)
        {
          double want = 0;
          for (int k = 0; k < d; k++)
            want += (X[i * d + k] - mu[k]) * gsl_matrix_get (evec, k, comp - 1) * sign;
          g_assert_cmpfloat (fabs (got[i] - want), <, 1e-9 * (1 + fabs (want)));
        }
    }
  gsl_eigen_symmv_free (ws);
  gsl_vector_free (eval);
  gsl_matrix_free (evec);
  gsl_matrix_free (cov);

  {
    /* one point, 10⁶ columns: no spread, its lens is 0 (computed, where
     * the d × d covariance asked for 8 TB) */
    g_autofree double *wide = g_new0 (double, 1000000);
    double v = 1;
    CsLensSpec spec;
    g_assert_true (cs_lens_parse ("pca1", &spec, &error));
    g_assert_true (cs_lens_compute (&spec, wide, 1, 1000000, NULL, &v, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (v, ==, 0);
    /* two such points: one component, computed */
    g_autofree double *two = g_new0 (double, 2000000);
    double vals[2];
    two[5] = 1;
    g_assert_true (cs_lens_compute (&spec, two, 2, 1000000, NULL, vals, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (fabs (fabs (vals[0] - vals[1]) - 1), <, 1e-12);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mapper/circle", test_circle);
  g_test_add_func ("/mapper/figure-eight", test_figure_eight);
  g_test_add_func ("/mapper/line", test_line);
  g_test_add_func ("/mapper/two-blobs", test_two_blobs);
  g_test_add_func ("/mapper/histogram-cut", test_histogram_cut);
  g_test_add_func ("/mapper/uniform-cover", test_uniform_cover);
  g_test_add_func ("/mapper/two-lenses", test_two_lenses);
  g_test_add_func ("/mapper/order-independence", test_order_independence);
  g_test_add_func ("/mapper/dbscan-brute-force", test_dbscan_brute);
  g_test_add_func ("/mapper/degenerate", test_degenerate);
  g_test_add_func ("/mapper/lenses", test_lenses);
  g_test_add_func ("/mapper/pca-gram", test_pca_gram);
  g_test_add_func ("/mapper/layout-and-files", test_layout_and_files);
  return g_test_run ();
}
