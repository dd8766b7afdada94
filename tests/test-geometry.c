/* The geometry engine: a case computed on paper, Ledoit–Wolf against a
 * direct evaluation of its closed form, WordNet categories against the
 * sample model's documented counts, the sample model's hierarchy against
 * what the paper reports, workspaces round-tripping, figures rendered and
 * inspected, and bad input. */
#include <cairo.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cs-categories.h"
#include "cs-error.h"
#include "cs-figure.h"
#include "cs-geometry-figure.h"
#include "cs-geometry.h"
#include "cs-model.h"
#include "cs-tokenizer.h"
#include "cs-wordnet.h"
#include "cs-workspace.h"

/* Category rows (2,1), (2,−1), (4,1), (4,−1): μ = (3,0), covariance I, so
 * Ledoit–Wolf leaves it alone, pinv(Σ)μ ∝ (1,0), ℓ̄ = (3,0); the tokens
 * project to 2/3, 2/3, 4/3, 4/3 (mean 1). */
static void
test_paper_example (void)
{
  double X[8] = { 2, 1, 2, -1, 4, 1, 4, -1 }, lbar[2], cov[4];
  g_autoptr(GError) error = NULL;

  g_assert_cmpfloat (fabs (cs_ledoit_wolf (X, 4, 2, cov)), <, 1e-15);
  g_assert_cmpfloat (fabs (cov[0] - 1), <, 1e-15);
  g_assert_cmpfloat (fabs (cov[1]), <, 1e-15);
  g_assert_true (cs_geometry_estimate_vector (X, 4, 2, lbar, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (fabs (lbar[0] - 3), <, 1e-12);
  g_assert_cmpfloat (fabs (lbar[1]), <, 1e-12);
  double p0 = (X[0] * lbar[0] + X[1] * lbar[1]) / 9.0;
  g_assert_cmpfloat (fabs (p0 - 2.0 / 3), <, 1e-12);
}

/* Ledoit–Wolf's closed form (Ledoit & Wolf 2004, as sklearn computes it),
 * evaluated with plain loops on a small matrix. */
static void
test_ledoit_wolf (void)
{
  const int n = 7, d = 3;
  double X[21], xc[21], mu[3] = { 0 }, S[9] = { 0 }, cov[9];
  GRand *r = g_rand_new_with_seed (5);
  for (int i = 0; i < n * d; i++)
    X[i] = g_rand_double_range (r, -2, 2) * (1 + i % 3);
  g_rand_free (r);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      mu[j] += X[i * d + j] / n;
  for (int i = 0; i < n * d; i++)
    xc[i] = X[i] - mu[i % d];
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++)
      for (int i = 0; i < n; i++)
        S[a * d + b] += xc[i * d + a] * xc[i * d + b] / n;
  double m = (S[0] + S[4] + S[8]) / d, d2 = 0, b2 = 0;
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++)
      d2 += pow (S[a * d + b] - (a == b ? m : 0), 2) / d;
  for (int i = 0; i < n; i++)
    {
      double t = 0;
      for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++)
          t += pow (xc[i * d + a] * xc[i * d + b] - S[a * d + b], 2);
      b2 += t / d / ((double) n * n);
    }
  double want = MIN (b2, d2) / d2;
  double got = cs_ledoit_wolf (X, n, d, cov);
  g_test_message ("Ledoit-Wolf shrinkage %.12f (closed form %.12f)", got, want);
  g_assert_cmpfloat (fabs (got - want), <, 1e-12);
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++)
      g_assert_cmpfloat (fabs (cov[a * d + b] - ((1 - want) * S[a * d + b] + (a == b ? want * m : 0))), <, 1e-12);
}

static CsWordNet *
wordnet (void)
{
  g_autoptr(GError) error = NULL;
  CsWordNet *wn = cs_wordnet_open (NULL, &error);
  g_assert_no_error (error);
  return wn;
}

static CsModel *
sample_model (CsTokenizer **tok)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "sample-model", NULL);
  g_autofree char *tp = g_build_filename (dir, "tokenizer.json", NULL);
  g_autoptr(GError) error = NULL;
  CsModel *m = cs_model_open (dir, &error);
  g_assert_no_error (error);
  *tok = cs_tokenizer_load (tp, &error);
  g_assert_no_error (error);
  return m;
}

/* data/sample-model/README.md documents these counts (an independent NumPy
 * implementation, single-token hyponyms as Ġword and ĠWord). */
static void
test_wordnet_counts (void)
{
  g_autoptr(CsWordNet) wn = wordnet ();
  CsTokenizer *tok = NULL;
  g_autoptr(CsModel) m = sample_model (&tok);
  g_autoptr(GError) error = NULL;
  static const struct { const char *name; guint n; } want[] = {
    { "animal", 279 }, { "mammal", 102 }, { "bird", 53 }, { "fish", 39 }, { "reptile", 12 },
    { "amphibian", 3 }, { "insect", 26 },
  };
  g_autoptr(CsCategorySet) s = cs_category_set_from_wordnet (wn, "animal", tok, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cs_vocab_style (tok), ==, CS_VOCAB_BYTE_LEVEL);
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      int k = cs_category_set_find (s, want[i].name);
      g_assert_cmpint (k, >=, 0);
      g_assert_cmpuint (cs_category_set_get (s, k)->tokens->len, ==, want[i].n);
      g_assert_cmpint (cs_category_set_get (s, k)->reliable, ==, want[i].n >= 10);
      g_assert_cmpint (cs_category_set_get (s, k)->parent, ==, i == 0 ? -1 : 0);
    }
  g_autoptr(CsCategorySet) p = cs_category_set_from_wordnet (wn, "plant", tok, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cs_category_set_get (p, 0)->tokens->len, ==, 212);
  g_autofree char *name = cs_wordnet_synset_name (wn, cs_wordnet_lookup (wn, "amphibian.n.03", NULL));
  g_assert_cmpstr (name, ==, "amphibian.n.03");
  cs_tokenizer_free (tok);
}

/* What the paper reports for Gemma, and the sample model's README for it. */
static void
test_sample_hierarchy (void)
{
  g_autoptr(CsWordNet) wn = wordnet ();
  CsTokenizer *tok = NULL;
  g_autoptr(CsModel) m = sample_model (&tok);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsGeometrySpace) space = cs_geometry_space_new (cs_model_get_unembedding (m), CS_DEVICE_CPU, NULL, &error);
  g_assert_no_error (error);
  for (int h = 0; h < 2; h++)
    {
      CsCategorySet *s = cs_category_set_from_wordnet (wn, h ? "plant" : "animal", tok, NULL, &error);
      g_assert_no_error (error);
      g_autoptr(CsGeometry) g = cs_geometry_estimate (space, s, 0.7, 0, NULL, &error);
      g_assert_no_error (error);
      CsCategoryVector *root = &g->vectors[0];
      g_test_message ("%s: train %.3f, held-out %.3f, random %.3f, shuffled held-out %.3f", h ? "plant" : "animal",
                      root->train.mean, root->test.mean, root->random.mean, root->shuffled_test.mean);
      g_assert_cmpfloat (fabs (root->train.mean - 1), <, 1e-9);      /* by construction */
      g_assert_cmpfloat (root->test.mean, >, 0.6);
      g_assert_cmpfloat (fabs (root->random.mean), <, 0.1);
      g_assert_cmpfloat (fabs (root->shuffled_test.mean), <, 0.3);
      for (guint i = 1; i < s->items->len; i++)
        if (cs_category_set_get (s, i)->reliable)
          {
            g_test_message ("  %s: |cos(l_c - l_p, l_p)| = %.3f", cs_category_set_get (s, i)->name,
                            fabs (g->vectors[i].cos_parent));
            g_assert_cmpfloat (fabs (g->vectors[i].cos_parent), <, 0.15);
            g_assert_cmpfloat (g->vectors[i].test.mean, >, 0.25);
          }
      /* the same seed gives the same split */
      CsCategorySet *s2 = cs_category_set_from_wordnet (wn, h ? "plant" : "animal", tok, NULL, &error);
      g_autoptr(CsGeometry) g2 = cs_geometry_estimate (space, s2, 0.7, 0, NULL, &error);
      g_assert_cmpmem (g->vectors[1].lbar, sizeof (double) * g->d, g2->vectors[1].lbar, sizeof (double) * g->d);
    }
  cs_tokenizer_free (tok);
}

/* ‖a − b‖ / ‖b‖ */
static double
rel_diff (const double *a, const double *b, int d)
{
  double num = 0, den = 0;
  for (int j = 0; j < d; j++)
    {
      num += (a[j] - b[j]) * (a[j] - b[j]);
      den += b[j] * b[j];
    }
  return sqrt (num / den);
}

/* The fast estimator (n × n Gram matrix) against the d × d
 * eigendecomposition it replaces, on rows X [n, d]. */
static void
check_fast_equals_reference (const double *X, int n, int d, double shrink, const char *what)
{
  g_autofree double *fast = g_new (double, d);
  g_autofree double *ref = g_new (double, d);
  g_autoptr(GError) error = NULL;
  double r;

  g_assert_true (cs_geometry_estimate_vector_shrunk (X, n, d, shrink, fast, &error));
  g_assert_no_error (error);
  g_assert_true (cs_geometry_estimate_vector_reference (X, n, d, shrink, ref, &error));
  g_assert_no_error (error);
  r = rel_diff (fast, ref, d);
  g_test_message ("%s (n %d, d %d, shrinkage %s): relative difference %.2e", what, n, d,
                  shrink < 0 ? "Ledoit-Wolf" : shrink == 0 ? "0" : "1", r);
  g_assert_cmpfloat (r, <, 1e-10);
}

/* Rows with a planted mean direction plus Gaussian noise; `rank` > 0 puts
 * the noise in a rank-`rank` subspace; `dups` > 1 repeats each row. */
static double *
synthetic_rows (int n, int d, int rank, int dups, guint32 seed)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (seed);
  double *X = g_new (double, (gsize) n * d);
  g_autofree double *basis = rank > 0 ? g_new (double, (gsize) rank * d) : NULL;

  for (int k = 0; rank > 0 && k < rank * d; k++)
    basis[k] = g_rand_double_range (r, -1, 1);
  for (int i = 0; i < n; i++)
    {
      double *x = X + (gsize) i * d;
      if (dups > 1 && i % dups)
        {
          memcpy (x, X + (gsize) (i - i % dups) * d, sizeof (double) * d);
          continue;
        }
      for (int j = 0; j < d; j++)
        x[j] = (j < 8 ? 1.5 : 0) + (rank > 0 ? 0 : g_rand_double_range (r, -1, 1) * (1 + j % 7));
      for (int k = 0; k < rank; k++)
        {
          double c = g_rand_double_range (r, -1, 1);
          for (int j = 0; j < d; j++)
            x[j] += c * basis[(gsize) k * d + j];
        }
    }
  return X;
}

/* Every category of the sample model's animal and plant hierarchies, all
 * their tokens, with Ledoit–Wolf, no shrinkage and full shrinkage. */
static void
test_estimator_sample (void)
{
  g_autoptr(CsWordNet) wn = wordnet ();
  CsTokenizer *tok = NULL;
  g_autoptr(CsModel) m = sample_model (&tok);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsGeometrySpace) space = cs_geometry_space_new (cs_model_get_unembedding (m), CS_DEVICE_CPU, NULL, &error);
  g_assert_no_error (error);
  for (int h = 0; h < 2; h++)
    {
      g_autoptr(CsCategorySet) s = cs_category_set_from_wordnet (wn, h ? "plant" : "animal", tok, NULL, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < s->items->len; i++)
        {
          const CsCategory *c = cs_category_set_get (s, i);
          int n = (int) c->tokens->len;
          if (n < 2)
            continue;
          g_autofree double *X = g_new (double, (gsize) n * space->d);
          cs_geometry_g_rows (space, (const gint32 *) c->tokens->data, n, X);
          for (int k = 0; k < 3; k++)
            check_fast_equals_reference (X, n, space->d, k == 0 ? -1 : k == 1 ? 0 : 1, c->name);
        }
    }
  cs_tokenizer_free (tok);
}

/* Synthetic rows: n from 2 up to and beyond d, rank-deficient centred rows,
 * duplicated tokens; at the paper's d = 4096 for the sizes categories have. */
static void
test_estimator_synthetic (void)
{
  static const struct { int n, d, rank, dups; double shrink; const char *what; } cases[] = {
    { 2, 512, 0, 1, -1, "two tokens" },
    { 3, 512, 0, 1, 0, "three tokens" },
    { 60, 512, 0, 1, -1, "60 tokens" },
    { 60, 512, 0, 1, 0, "60 tokens" },
    { 60, 512, 0, 1, 1, "60 tokens" },
    { 511, 512, 0, 1, -1, "n = d - 1" },
    { 512, 512, 0, 1, 0, "n = d" },
    { 700, 512, 0, 1, -1, "n > d" },
    { 2000, 512, 0, 1, 0, "n > d" },
    { 80, 512, 5, 1, -1, "rank-5 centred rows" },
    { 80, 512, 5, 1, 0, "rank-5 centred rows" },
    { 90, 512, 0, 3, -1, "each token three times" },
    { 90, 512, 0, 3, 0, "each token three times" },
    { 2, 4096, 0, 1, -1, "two tokens" },
    { 300, 4096, 0, 1, -1, "300 tokens" },
    { 300, 4096, 0, 1, 0, "300 tokens" },
    { 2000, 4096, 0, 1, 1, "2000 tokens" },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree double *X = synthetic_rows (cases[c].n, cases[c].d, cases[c].rank, cases[c].dups, 11 + c);
      check_fast_equals_reference (X, cases[c].n, cases[c].d, cases[c].shrink, cases[c].what);
    }
}

static gboolean
has_colour (cairo_surface_t *img, guint palette_index)
{
  double r, g, b;
  int w = cairo_image_surface_get_width (img), h = cairo_image_surface_get_height (img);
  int stride = cairo_image_surface_get_stride (img);
  unsigned char *px = cairo_image_surface_get_data (img);
  cs_figure_palette (palette_index, &r, &g, &b);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint32 p = *(guint32 *) (px + (gsize) y * stride + 4 * x);
        int R = (p >> 16) & 0xff, G = (p >> 8) & 0xff, B = p & 0xff;
        if (abs (R - (int) (r * 255)) < 12 && abs (G - (int) (g * 255)) < 12 && abs (B - (int) (b * 255)) < 12)
          return TRUE;
      }
  return FALSE;
}

/* Workspace round trip, then the figures drawn from it. */
static void
test_workspace_and_figures (void)
{
  g_autoptr(CsWordNet) wn = wordnet ();
  CsTokenizer *tok = NULL;
  g_autoptr(CsModel) m = sample_model (&tok);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsGeometrySpace) space = cs_geometry_space_new (cs_model_get_unembedding (m), CS_DEVICE_CPU, NULL, &error);
  CsCategorySet *s = cs_category_set_from_wordnet (wn, "animal", tok, NULL, &error);
  g_autoptr(CsGeometry) g = cs_geometry_estimate (space, s, 0.7, 3, NULL, &error);
  g_autofree char *dir = g_dir_make_tmp ("cs-ws-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ws.h5", NULL);
  g_assert_no_error (error);
  g_assert_true (cs_workspace_save (path, m, space, g, "animal", &error));
  g_assert_no_error (error);
  g_autoptr(CsWorkspace) ws = cs_workspace_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ws->model_identity, ==, cs_model_get_identity (m));
  g_assert_cmpmem (ws->inv_sqrt, sizeof (double) * space->d * space->d, space->inv_sqrt,
                   sizeof (double) * space->d * space->d);
  guint n = g->categories->items->len;
  g_assert_cmpuint (ws->geometry->categories->items->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpstr (cs_category_set_get (ws->geometry->categories, i)->name, ==,
                       cs_category_set_get (g->categories, i)->name);
      g_assert_cmpmem (ws->geometry->vectors[i].lbar, sizeof (double) * g->d, g->vectors[i].lbar,
                       sizeof (double) * g->d);
      g_assert_cmpfloat (ws->geometry->vectors[i].test.mean, ==, g->vectors[i].test.mean);
    }

  /* training marks: as many as the split's training tokens, and exactly the
   * tokens whose projections average 1 (the estimator's own property) and
   * whose mean and std equal the stored training statistics; the unmarked
   * ones give the held-out statistics; the workspace read back marks the
   * same tokens */
  {
    g_autofree float *proj = g_new (float, space->vocab);
    for (guint i = 0; i < n; i++)
      {
        const CsCategoryVector *v = &g->vectors[i];
        const CsCategory *c = cs_category_set_get (g->categories, i);
        g_autofree guint8 *mask = cs_geometry_train_mask (g, i);
        g_autofree guint8 *back = cs_geometry_train_mask (ws->geometry, i);
        g_autofree double *unit = g_new (double, g->d);
        double nn = 0, sum[2] = { 0, 0 }, sq[2] = { 0, 0 };
        int count[2] = { 0, 0 };
        if (!v->estimated)
          continue;
        g_assert_cmpmem (mask, c->tokens->len, back, c->tokens->len);
        for (int j = 0; j < g->d; j++)
          nn += v->lbar[j] * v->lbar[j];
        for (int j = 0; j < g->d; j++)
          unit[j] = v->lbar[j] / nn;
        cs_geometry_project_all (space, unit, proj);
        for (guint k = 0; k < c->tokens->len; k++)
          {
            double x = proj[g_array_index (c->tokens, gint32, k)];
            int t = mask[k] ? 0 : 1;
            sum[t] += x;
            sq[t] += x * x;
            count[t]++;
          }
        g_assert_cmpint (count[0], ==, v->n_train);
        g_assert_cmpint (count[1], ==, v->n_test);
        g_assert_cmpfloat (fabs (sum[0] / count[0] - 1), <, 1e-5);
        g_assert_cmpfloat (fabs (sum[0] / count[0] - v->train.mean), <, 1e-5);
        if (count[1] > 1)
          {
            double m = sum[1] / count[1], sd = sqrt ((sq[1] - count[1] * m * m) / (count[1] - 1));
            g_assert_cmpfloat (fabs (m - v->test.mean), <, 1e-5);
            g_assert_cmpfloat (fabs (sd - v->test.std), <, 1e-4);
          }
      }
  }

  /* projection onto (animal, mammal): drawn, non-blank, category colours present */
  CsAxis ax = { 0, -1 }, ay = { 1, -1 };
  g_autoptr(CsProjection) p = cs_geometry_project (space, ws->geometry, ax, ay, TRUE, &error);
  g_assert_no_error (error);
  /* animal's ℓ̄ lies on the x axis, at its norm */
  g_assert_cmpfloat (fabs (p->cat_x[0] - g->vectors[0].norm), <, 1e-9);
  g_assert_cmpfloat (fabs (p->cat_y[0]), <, 1e-9);
  CsFigureGroup groups[2] = {
    { "animal", (gint32 *) cs_category_set_get (g->categories, 0)->tokens->data,
      cs_category_set_get (g->categories, 0)->tokens->len, 0 },
    { "mammal", (gint32 *) cs_category_set_get (g->categories, 1)->tokens->data,
      cs_category_set_get (g->categories, 1)->tokens->len, 1 },
  };
  CsFigureArrow arrows[1] = { { 0, 0, p->cat_x[1], p->cat_y[1], 1, "ℓ̄<sub>mammal</sub>" } };
  CsProjectionFigure fig = { p->vocab, p->x, p->y, groups, 2, arrows, 1, "ℓ̄<sub>animal</sub>",
                             "ℓ̄<sub>mammal</sub>", "test", NULL, NULL, 0 };
  CsFigureStyle st = { 0 };
  cs_figure_style_preset ("square", &st);
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 600, 600);
  cairo_t *cr = cairo_create (img);
  cs_figure_paint_background (cr, 600, 600, &st);
  cs_figure_draw_projection (cr, 0, 0, 600, 600, &st, &fig);
  cairo_destroy (cr);
  cairo_surface_flush (img);
  g_assert_true (has_colour (img, 0));
  g_assert_true (has_colour (img, 1));
  g_assert_false (has_colour (img, 4));      /* a colour no group uses */
  {
    g_autofree char *out = g_build_filename (g_getenv ("CS_TEST_OUTPUT"), "projection.png", NULL);
    g_mkdir_with_parents (g_getenv ("CS_TEST_OUTPUT"), 0755);
    cairo_surface_write_to_png (img, out);
  }
  cairo_surface_destroy (img);
  g_unlink (path);
  g_rmdir (dir);
  cs_tokenizer_free (tok);
}

/* Hit-testing a heatmap: each cell's centre maps back to its row and column. */
static void
test_heatmap_cells (void)
{
  const char *names[] = { "a", "bb", "ccc", NULL };
  double m[9] = { 1, 0.5, 0, 0.5, 1, -0.5, 0, -0.5, 1 };
  CsHeatmapFigure fig = { 3, names, m, "t" };
  CsFigureStyle st = { 0 };
  guint row, col, hits = 0;
  cs_figure_style_preset ("square", &st);
  for (double y = 0; y < 600; y += 3)
    for (double x = 0; x < 600; x += 3)
      if (cs_figure_heatmap_cell_at (0, 0, 600, 600, &st, &fig, x, y, &row, &col))
        {
          g_assert_cmpuint (row, <, 3);
          g_assert_cmpuint (col, <, 3);
          hits++;
        }
  g_assert_cmpuint (hits, >, 1000);
  g_assert_false (cs_figure_heatmap_cell_at (0, 0, 600, 600, &st, &fig, 1, 1, &row, &col));
}

static void
test_bad_input (void)
{
  g_autoptr(GError) error = NULL;
  double X[2] = { 1, 2 }, lbar[2];
  g_autofree char *dir = g_dir_make_tmp ("cs-geo-XXXXXX", NULL);
  g_autofree char *json = g_build_filename (dir, "cats.json", NULL);
  CsTokenizer *tok = NULL;
  g_autoptr(CsModel) m = sample_model (&tok);

  /* fewer than two tokens */
  g_assert_false (cs_geometry_estimate_vector (X, 1, 2, lbar, &error));
  g_assert_nonnull (strstr (error->message, "at least two"));
  g_clear_error (&error);

  /* a missing WordNet says how to get one */
  g_assert_null (cs_wordnet_open ("/nonexistent", &error));
  g_assert_nonnull (strstr (error->message, "apt-get install wordnet-base"));
  g_clear_error (&error);

  /* the user's categories: unknown tokens, unknown parents, cycles */
  g_assert_true (g_file_set_contents (json, "{\"a\": {\"parent\": null, \"tokens\": [\"\xc4\xa0" "dog\", \"nope!\"]}}", -1, NULL));
  g_assert_null (cs_category_set_from_json (json, tok, NULL, &error));
  g_assert_nonnull (strstr (error->message, "'nope!' is not a token"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (json, "{\"a\": {\"parent\": \"zzz\", \"words\": [\"dog\"]}}", -1, NULL));
  g_assert_null (cs_category_set_from_json (json, tok, NULL, &error));
  g_assert_nonnull (strstr (error->message, "unknown parent 'zzz'"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (json, "{\"a\": {\"parent\": \"b\", \"words\": [\"dog\"]}, "
                                            "\"b\": {\"parent\": \"a\", \"words\": [\"cat\"]}}", -1, NULL));
  g_assert_null (cs_category_set_from_json (json, tok, NULL, &error));
  g_assert_nonnull (strstr (error->message, "cycle"));
  g_clear_error (&error);

  /* a good one, child listed before its parent: reordered */
  g_assert_true (g_file_set_contents (json, "{\"pets\": {\"parent\": \"beasts\", \"words\": [\"dog\", \"cat\"]}, "
                                            "\"beasts\": {\"parent\": null, \"words\": [\"dog\", \"cat\", \"horse\", \"cow\"]}}",
                                      -1, NULL));
  g_autoptr(CsCategorySet) s = cs_category_set_from_json (json, tok, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cs_category_set_get (s, 0)->name, ==, "beasts");
  g_assert_cmpint (cs_category_set_get (s, 1)->parent, ==, 0);
  g_assert_cmpuint (cs_category_set_get (s, 1)->tokens->len, >=, 2);
  g_assert_false (cs_category_set_get (s, 1)->reliable);

  /* a degenerate space: every row equal gives a zero covariance, floored */
  {
    float rows[4 * 3] = { 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3 };
    CsTensor t = { (char *) "u", CS_DTYPE_F32, 2, { 4, 3 }, rows, sizeof rows, 0 };
    g_autoptr(CsGeometrySpace) sp = cs_geometry_space_new (&t, CS_DEVICE_CPU, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (sp->n_floored, ==, 3);
    CsCategorySet *cs = cs_category_set_new (1);
    CsCategory *c = cs_category_set_add (cs, "all", "user", -1);
    gint32 ids[3] = { 0, 1, 2 };
    g_array_append_vals (c->tokens, ids, 3);
    g_assert_null (cs_geometry_estimate (sp, cs, 1.0, 0, NULL, &error));
    g_assert_nonnull (strstr (error->message, "no direction"));
  }
  cs_tokenizer_free (tok);
  g_unlink (json);
  g_rmdir (dir);
}

/* A title wider than the plot it heads stays inside the figure (it had run
 * off the right edge of the SVD figure): nothing is drawn past the width. */
static void
test_title_inside (void)
{
  const char *labels[2] = { "σ1 (14 %): +boss,murderer,firearm / −evergreen,cedar,cypress", "σ2" };
  const double values[2] = { 31, 22 };
  CsBarsFigure fig = { 2, labels, values, "singular value",
                       "animal-vs-plant · singular values of the 102 differences at layer 1" };
  /* a slide's width, and the paper-column preset's 252 × 200 points */
  const double sizes[2][3] = { { 640, 360, 15 }, { 252, 200, 9 } };

  for (int k = 0; k < 2; k++)
    {
      CsFigureStyle st = { sizes[k][0], sizes[k][1], sizes[k][2], CS_THEME_TRANSPARENT };
      cairo_surface_t *rec = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, NULL);
      cairo_t *cr = cairo_create (rec);
      double ix, iy, iw, ih;

      cs_figure_draw_bars (cr, 0, 0, sizes[k][0], sizes[k][1], &st, &fig);
      cairo_destroy (cr);
      cairo_recording_surface_ink_extents (rec, &ix, &iy, &iw, &ih);
      g_test_message ("ink from (%.1f, %.1f) to (%.1f, %.1f) in a %.0f × %.0f figure", ix, iy, ix + iw, iy + ih,
                      sizes[k][0], sizes[k][1]);
      g_assert_cmpfloat (ix, >=, -0.5);
      g_assert_cmpfloat (iy, >=, -0.5);
      g_assert_cmpfloat (ix + iw, <=, sizes[k][0] + 0.5);
      g_assert_cmpfloat (iy + ih, <=, sizes[k][1] + 0.5);
      cairo_surface_destroy (rec);
    }
}

/* The whitening cache: computed and stored the first time, read back the
 * same to the bit the second, computed again when the file is damaged or
 * belongs to another key. */
static void
test_space_cache (void)
{
  CsTokenizer *tok = NULL;
  g_autoptr(CsModel) m = sample_model (&tok);
  const CsTensor *u = cs_model_get_unembedding (m);
  g_autoptr(GError) error = NULL;
  gboolean cached = TRUE;
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "conceptscope", "whitening", NULL);
  CsGeometrySpace *a, *b, *c;
  g_autoptr(GDir) listing = NULL;
  g_autofree char *file = NULL;
  int d = (int) u->shape[1];

  cs_tokenizer_free (tok);
  a = cs_geometry_space_new_cached (u, "sample|1", CS_DEVICE_CPU, &cached, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (cached);
  b = cs_geometry_space_new_cached (u, "sample|1", CS_DEVICE_CPU, &cached, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (cached);
  g_assert_cmpmem (a->mean, sizeof (double) * d, b->mean, sizeof (double) * d);
  g_assert_cmpmem (a->inv_sqrt, sizeof (double) * d * d, b->inv_sqrt, sizeof (double) * d * d);
  g_assert_cmpint (a->n_floored, ==, b->n_floored);
  cs_geometry_space_free (b);
  /* another key: not this file */
  b = cs_geometry_space_new_cached (u, "sample|2", CS_DEVICE_CPU, &cached, NULL, &error);
  g_assert_false (cached);
  cs_geometry_space_free (b);
  /* a damaged file is computed again */
  listing = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (listing);
  for (const char *n; (n = g_dir_read_name (listing));)
    {
      g_autofree char *path = g_build_filename (dir, n, NULL);
      g_assert_true (g_file_set_contents (path, "not HDF5", -1, NULL));
    }
  c = cs_geometry_space_new_cached (u, "sample|1", CS_DEVICE_CPU, &cached, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (cached);
  g_assert_cmpmem (a->inv_sqrt, sizeof (double) * d * d, c->inv_sqrt, sizeof (double) * d * d);
  cs_geometry_space_free (c);
  cs_geometry_space_free (a);
  /* the cache keeps the eight models used last */
  for (int k = 0; k < 10; k++)
    {
      g_autofree char *key = g_strdup_printf ("model %d", k);
      cs_geometry_space_free (cs_geometry_space_new_cached (u, key, CS_DEVICE_CPU, NULL, NULL, &error));
      g_assert_no_error (error);
    }
  {
    g_autoptr(GDir) again = g_dir_open (dir, 0, NULL);
    int n = 0;
    while (g_dir_read_name (again))
      n++;
    g_assert_cmpint (n, ==, 8);
  }
  cs_geometry_space_free (cs_geometry_space_new_cached (u, "model 9", CS_DEVICE_CPU, &cached, NULL, &error));
  g_assert_true (cached);   /* the one stored last is among them */
}

/* The interactive view's cached data layer (cloud, zero lines, dots) must
 * draw what a fresh drawing draws: panned by whole pixels (reused), after a
 * group is hidden, after the points change in place (both drawn again), and
 * zoomed (drawn again). Compared pixel by pixel with the uncached drawing:
 * compositing the dots onto the cloud first could round by a unit or two,
 * and a point within rounding error of a pixel edge could bin to the
 * neighbour once the range has moved (none here; a few pixels allowed); a
 * stale layer (a hidden group's dots) differs in a thousand. */
static int
pixels_differing (cairo_surface_t *a, cairo_surface_t *b, int by_more_than)
{
  int w = cairo_image_surface_get_width (a), h = cairo_image_surface_get_height (a), count = 0;
  int sa = cairo_image_surface_get_stride (a), sb = cairo_image_surface_get_stride (b);
  const guint8 *pa = cairo_image_surface_get_data (a), *pb = cairo_image_surface_get_data (b);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int worst = 0;
        for (int k = 0; k < 4; k++)
          worst = MAX (worst, abs ((int) pa[y * sa + 4 * x + k] - (int) pb[y * sb + 4 * x + k]));
        count += worst > by_more_than;

      }
  return count;
}

static void
render (cairo_surface_t *surf, const CsProjectionFigure *fig, const CsFigureStyle *st)
{
  cairo_t *cr = cairo_create (surf);
  cs_figure_paint_background (cr, st->width, st->height, st);
  cs_figure_draw_projection (cr, 0, 0, st->width, st->height, st, fig);
  cairo_destroy (cr);
  cairo_surface_flush (surf);
}

static void
test_cloud_cache (void)
{
  const gint64 n = 60000;
  g_autoptr(GRand) r = g_rand_new_with_seed (11);
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  gint32 ids[300];
  guint8 train[300];
  for (gint64 i = 0; i < n; i++)
    {
      x[i] = (float) (g_rand_double_range (r, -3, 3) * g_rand_double (r));
      y[i] = (float) (g_rand_double_range (r, -3, 3) * g_rand_double (r));
    }
  for (int i = 0; i < 300; i++)
    {
      ids[i] = g_rand_int_range (r, 0, (gint32) n);
      train[i] = i % 3 == 0;
    }
  CsFigureGroup groups[3] = { { "a", ids, 100, 0, FALSE, train }, { "b", ids + 100, 100, 1, FALSE, NULL },
                              { "c", ids + 200, 100, 2, FALSE, train + 200 } };
  CsFigureStyle st = { 640, 400, 11, CS_THEME_LIGHT };
  CsProjectionFigure fig = { n, x, y, groups, 3, NULL, 0, "x", "y", NULL };
  g_autoptr(CsFigureCloudCache) cache = cs_figure_cloud_cache_new ();
  cairo_surface_t *fresh = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 640, 400);
  cairo_surface_t *cached = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 640, 400);
  CsFigureFrame frame;
  guint rasterised, reused;

  fig.fixed_range = TRUE;
  fig.range[0] = -2; fig.range[1] = 2; fig.range[2] = -1.5; fig.range[3] = 1.5;
  cs_figure_projection_frame (0, 0, 640, 400, &st, &fig, &frame);
  double px = (fig.range[1] - fig.range[0]) / ceil (frame.w);   /* data units per layer pixel */
  double py = (fig.range[3] - fig.range[2]) / ceil (frame.h);

  for (int step = 0; step < 6; step++)
    {
      /* steps 0-2: panning by whole pixels; 3: a group hidden; 4: the
       * points moved in place; 5: zoomed in */
      if (step == 3)
        groups[1].hidden = TRUE;
      if (step == 4)
        for (gint64 i = 0; i < n; i++)
          x[i] = -x[i];
      if (step == 5)
        {
          fig.range[0] += 0.5; fig.range[1] -= 0.5; fig.range[2] += 0.4; fig.range[3] -= 0.4;
        }
      else if (step > 0)
        {
          fig.range[0] += 7 * px; fig.range[1] += 7 * px; fig.range[2] -= 5 * py; fig.range[3] -= 5 * py;
        }
      fig.cloud_cache = NULL;
      render (fresh, &fig, &st);
      fig.cloud_cache = cache;
      render (cached, &fig, &st);
      cs_figure_cloud_cache_stats (cache, &rasterised, &reused);
      int diff = pixels_differing (fresh, cached, 3);

      g_test_message ("step %d: drawn %u, reused %u, %d pixels differ by more than 3", step, rasterised, reused, diff);
      g_assert_cmpint (diff, <=, step == 0 ? 0 : 5);
      g_assert_cmpuint (rasterised, ==, step < 3 ? 1 : step - 1);
      g_assert_cmpuint (reused, ==, step < 3 ? step : 2);
    }
  /* and what is compared is not empty: the hidden group's dots differ */
  groups[1].hidden = FALSE;
  fig.cloud_cache = NULL;
  render (cached, &fig, &st);
  g_test_message ("the hidden group's dots: %d pixels", pixels_differing (fresh, cached, 3));
  g_assert_cmpint (pixels_differing (fresh, cached, 3), >, 500);
  cairo_surface_destroy (fresh);
  cairo_surface_destroy (cached);
}

/* The WordNet reader on a hand-made database in WordNet's format (two
 * senses of "bat", a hyponym chain with an instance hyponym, a lemma with an
 * underscore), and on damaged files. */
static void
test_wordnet_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cs-wn-XXXXXX", NULL);
  g_autofree char *data = g_build_filename (dir, "data.noun", NULL);
  g_autofree char *index = g_build_filename (dir, "index.noun", NULL);
  /* offsets are the lines' byte positions, as in WordNet */
  g_autoptr(GString) d = g_string_new ("  1 This software and database is being provided\n");
  gint64 off[4];
  const char *lines[4] = {
    "%08d 03 n 01 animal 0 002 ~ %08d n 0000 ~i %08d n 0000 | a living organism\n",
    "%08d 05 n 02 bat 0 chiropteran 0 001 @ %08d n 0000 | nocturnal mouselike mammal\n",
    "%08d 05 n 01 Flying_Fox 0 000 | a large fruit bat\n",
    "%08d 06 n 01 bat 1 000 | a club used for hitting a ball\n",
  };
  for (int pass = 0; pass < 2; pass++)
    {
      g_string_truncate (d, strlen ("  1 This software and database is being provided\n"));
      for (int k = 0; k < 4; k++)
        {
          off[k] = (gint64) d->len;
          if (k == 0)
            g_string_append_printf (d, lines[k], (int) off[0], pass ? (int) off[1] : 0, pass ? (int) off[2] : 0);
          else if (k == 1)
            g_string_append_printf (d, lines[k], (int) off[1], (int) off[0]);
          else
            g_string_append_printf (d, lines[k], (int) off[k]);
        }
    }
  g_autofree char *ix = g_strdup_printf ("  1 header\nanimal n 1 1 ~ 1 0 %08d  \nbat n 2 1 @ 2 0 %08d %08d  \n"
                                         "chiropteran n 1 1 @ 1 0 %08d  \nflying_fox n 1 0 1 0 %08d  \n",
                                         (int) off[0], (int) off[1], (int) off[3], (int) off[1], (int) off[2]);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (data, d->str, -1, &error));
  g_assert_true (g_file_set_contents (index, ix, -1, &error));
  {
    g_autoptr(CsWordNet) wn = cs_wordnet_open (dir, &error);
    g_assert_no_error (error);
    g_assert_cmpint (cs_wordnet_lookup (wn, "bat", &error), ==, off[1]);
    g_assert_cmpint (cs_wordnet_lookup (wn, "bat.n.02", &error), ==, off[3]);
    g_assert_cmpint (cs_wordnet_lookup (wn, "Flying fox", &error), ==, off[2]);
    g_assert_no_error (error);
    g_assert_cmpint (cs_wordnet_lookup (wn, "bat.n.03", &error), ==, -1);
    g_assert_error (error, CS_ERROR, CS_ERROR_MISSING);
    g_clear_error (&error);
    g_autofree char *name = cs_wordnet_synset_name (wn, off[3]);
    g_assert_cmpstr (name, ==, "bat.n.02");
    const char * const *lemmas = cs_wordnet_lemmas (wn, off[1]);
    g_assert_cmpstr (lemmas[0], ==, "bat");
    g_assert_cmpstr (lemmas[1], ==, "chiropteran");
    g_assert_null (lemmas[2]);
    g_assert_null (cs_wordnet_lemmas (wn, off[1] + 1));
    g_autoptr(GArray) kids = cs_wordnet_hyponyms (wn, off[0]);
    g_assert_cmpuint (kids->len, ==, 2);
    g_assert_cmpint (g_array_index (kids, gint64, 0), ==, off[1]);
    g_assert_cmpint (g_array_index (kids, gint64, 1), ==, off[2]);
    g_autoptr(GPtrArray) all = cs_wordnet_closure_lemmas (wn, off[0], TRUE);
    g_assert_cmpuint (all->len, ==, 4);
    g_assert_cmpstr (g_ptr_array_index (all, 3), ==, "Flying_Fox");
  }
  /* damaged: a lemma cut off at the line's end, no synsets, offsets going back */
  const char *bad[] = { "00000000 03 n 01 animal", "  1 only a header\n",
                        "00000100 03 n 01 a 0 000 | x\n00000050 03 n 01 b 0 000 | y\n" };
  const char *want[] = { "not in WordNet's data format", "holds no synsets", "not in WordNet's data format" };
  for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      g_autoptr(GError) e = NULL;
      g_assert_true (g_file_set_contents (data, bad[k], -1, NULL));
      g_autoptr(CsWordNet) wn = cs_wordnet_open (dir, &e);
      g_assert_null (wn);
      g_assert_nonnull (e);
      g_assert_nonnull (strstr (e->message, want[k]));
    }
  g_unlink (data);
  g_unlink (index);
  g_rmdir (dir);
}

/* Legends and arrow labels on slides: for every plane of Figure 2 and two
 * more, at every preset, as a whole figure and as one of three panels side
 * by side (Figure 2's layout), no legend box covers a drawn category point
 * (its marker's radius included), the legend stays inside the figure, and
 * every arrow label lies inside its plot, on no other label. Positions from the frame the
 * drawing uses. */
static void
test_figure_layout (void)
{
  g_autoptr(CsWordNet) wn = wordnet ();
  CsTokenizer *tok = NULL;
  g_autoptr(CsModel) m = sample_model (&tok);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsGeometrySpace) space = cs_geometry_space_new (cs_model_get_unembedding (m), CS_DEVICE_CPU, NULL, &error);
  CsCategorySet *set = cs_category_set_from_wordnet (wn, "animal", tok, NULL, &error);
  g_autoptr(CsGeometry) g = NULL;
  CsAxis ax[5], ay[5];
  const char *presets[] = { "slide", "square", "column" };
  g_autofree gboolean *shown = NULL;
  int checked = 0, outside = 0;

  g_assert_no_error (error);
  g = cs_geometry_estimate (space, set, 0.7, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (cs_geometry_figure2_axes (g->categories, ax, ay));
  ax[3] = (CsAxis) { cs_category_set_find (g->categories, "animal"), -1 };
  ay[3] = (CsAxis) { cs_category_set_find (g->categories, "bird"), -1 };
  ax[4] = (CsAxis) { cs_category_set_find (g->categories, "mammal"), -1 };
  ay[4] = (CsAxis) { cs_category_set_find (g->categories, "fish"), cs_category_set_find (g->categories, "insect") };
  shown = cs_geometry_figure_shown (g, FALSE);
  for (int k = 0; k < 5; k++)
    {
      g_autoptr(CsProjection) proj = cs_geometry_project (space, g, ax[k], ay[k], TRUE, &error);
      CsGeometryPlane plane;
      g_assert_no_error (error);
      cs_geometry_plane_init (&plane, g, proj, ax[k], ay[k], "(orthogonalised)", shown, FALSE, NULL);
      plane.figure.title = "a plane";
      for (guint p = 0; p < G_N_ELEMENTS (presets); p++)
        for (int panels = 1; panels <= 3; panels += 2)
          {
            CsFigureStyle st;
            CsFigureFrame fr;
            double box[4], w, h, rad;
            const CsProjectionFigure *fig = &plane.figure;
            g_assert_true (cs_figure_style_from (presets[p], "light", 0, &st, &error));
            w = st.width / panels;
            h = st.height;
            rad = st.font_size * 0.17;
            cs_figure_projection_frame (0, 0, w, h, &st, fig, &fr);
            g_assert_true (cs_figure_projection_legend_box (0, 0, w, h, &st, fig, box));
            g_assert_cmpfloat (box[0], >=, 0);
            g_assert_cmpfloat (box[1], >=, 0);
            g_assert_cmpfloat (box[0] + box[2], <=, w);
            g_assert_cmpfloat (box[1] + box[3], <=, h);
            outside += box[0] > fr.x0 + fr.w || box[1] > fr.y0 + fr.h;
            for (guint gi = 0; gi < fig->n_groups; gi++)
              for (guint t = 0; t < fig->groups[gi].n && !fig->groups[gi].hidden; t++)
                {
                  gint32 id = fig->groups[gi].ids[t];
                  double px = fr.x0 + (fig->x[id] - fr.xmin) / (fr.xmax - fr.xmin) * fr.w;
                  double py = fr.y0 + fr.h - (fig->y[id] - fr.ymin) / (fr.ymax - fr.ymin) * fr.h;
                  gboolean under = px + rad > box[0] && px - rad < box[0] + box[2] && py + rad > box[1] &&
                                   py - rad < box[1] + box[3];
                  if (under)
                    g_test_message ("plane %d, %s, %d panel(s): %s token %d under the legend", k, presets[p], panels,
                                    fig->groups[gi].name, id);
                  g_assert_false (under);
                }
            for (guint a = 0; a < fig->n_arrows; a++)
              {
                double lb[4], other[4];
                if (!cs_figure_projection_arrow_label_box (0, 0, w, h, &st, fig, a, lb))
                  continue;
                /* no two labels on top of each other (two arrows may end at one tip) */
                for (guint b = 0; b < a; b++)
                  if (cs_figure_projection_arrow_label_box (0, 0, w, h, &st, fig, b, other) &&
                      lb[0] < other[0] + other[2] && other[0] < lb[0] + lb[2] && lb[1] < other[1] + other[3] &&
                      other[1] < lb[1] + lb[3])
                    g_test_message ("plane %d, %s, %d panel(s): labels %u and %u overlap", k, presets[p], panels,
                                    a, b);
                for (guint b = 0; b < a; b++)
                  if (cs_figure_projection_arrow_label_box (0, 0, w, h, &st, fig, b, other))
                    g_assert_false (lb[0] < other[0] + other[2] && other[0] < lb[0] + lb[2] &&
                                    lb[1] < other[1] + other[3] && other[1] < lb[1] + lb[3]);
                g_assert_cmpfloat (lb[0], >=, fr.x0 - 1e-9);
                g_assert_cmpfloat (lb[1], >=, fr.y0 - 1e-9);
                g_assert_cmpfloat (lb[0] + lb[2], <=, fr.x0 + fr.w + 1e-9);
                g_assert_cmpfloat (lb[1] + lb[3], <=, fr.y0 + fr.h + 1e-9);
              }
            checked++;
          }
      cs_geometry_plane_clear (&plane);
    }
  g_test_message ("%d layouts checked, %d with the legend beside the plot", checked, outside);
  g_assert_cmpint (checked, ==, 30);
  cs_tokenizer_free (tok);
}

/* Whole WordNet: Figure 4's third table against cosines of the
 * differences computed here one pair at a time; each synset's block is its
 * descendants by the parent links; the rendered distance panel's cells,
 * found through cell_at, have the colour of 1/(d + 1). */
static void
test_wordnet_figures (void)
{
  g_autoptr(CsWordNet) wn = wordnet ();
  CsTokenizer *tok = NULL;
  g_autoptr(CsModel) m = sample_model (&tok);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsGeometrySpace) space = cs_geometry_space_new (cs_model_get_unembedding (m), CS_DEVICE_CPU, NULL, &error);
  CsCategoryOptions o = CS_CATEGORY_OPTIONS_INIT;
  CsCategorySet *set;
  g_autoptr(CsGeometry) g = NULL;
  g_autoptr(CsGeometryWordNet) w = NULL;
  g_autofree double *diff = NULL;
  guint n, first, count, checked = 0;
  int d;

  o.min_tokens = 25;
  set = cs_category_set_from_wordnet_all (wn, tok, &o, &error);
  g_assert_no_error (error);
  g = cs_geometry_estimate (space, set, 0.7, 0, NULL, &error);
  g_assert_no_error (error);
  cs_geometry_set_wordnet_distances (g, wn);
  n = g->categories->items->len;
  d = g->d;
  diff = cs_geometry_diff_cosines (g);
  for (guint a = 0; a < n; a++)
    for (guint b = 0; b < n; b++)
      {
        int pa = cs_category_set_get (g->categories, a)->parent, pb = cs_category_set_get (g->categories, b)->parent;
        double ab = 0, aa = 0, bb = 0;
        if (pa < 0 || pb < 0)
          {
            g_assert_true (isnan (diff[a * n + b]));
            continue;
          }
        for (int j = 0; j < d; j++)
          {
            double x = g->vectors[a].lbar[j] - g->vectors[pa].lbar[j], y = g->vectors[b].lbar[j] - g->vectors[pb].lbar[j];
            ab += x * y;
            aa += x * x;
            bb += y * y;
          }
        g_assert_cmpfloat (fabs (diff[a * n + b] - ab / sqrt (aa * bb)), <, 1e-10);
      }
  w = cs_geometry_wordnet_new (g);
  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      {
        gboolean below = FALSE;
        for (int p = cs_category_set_get (g->categories, j)->parent; p >= 0 && !below;
             p = cs_category_set_get (g->categories, p)->parent)
          below = p == (int) i;
        g_assert_cmpint (below, ==, j < w->block_end[i]);
      }
  g_assert_true (cs_geometry_wordnet_block (w, "animal", &first, &count));
  g_assert_cmpstr (cs_category_set_get (g->categories, first)->source, ==, "animal.n.01");
  g_assert_cmpuint (count, >, 5);
  g_assert_false (cs_geometry_wordnet_block (w, "unicorn", &first, &count));
  g_assert_cmpuint (w->n_pairs[0], ==, n - 1);

  {
    CsWordNetHeatmapsFigure fig = w->heatmaps;
    CsFigureStyle st;
    cairo_surface_t *surf;
    cairo_t *cr;
    g_assert_true (cs_figure_style_from ("slide", "light", 0, &st, &error));
    g_assert_true (cs_geometry_wordnet_block (w, "animal", &fig.first, &fig.count));
    surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) st.width * 2, (int) st.height);
    cr = cairo_create (surf);
    cairo_set_source_rgb (cr, 1, 1, 1);
    cairo_paint (cr);
    cs_figure_draw_wordnet_heatmaps (cr, 0, 0, st.width * 2, st.height, &st, &fig);
    cairo_surface_flush (surf);
    for (int py = 0; py < (int) st.height; py += 3)
      for (int px = 0; px < (int) st.width * 2; px += 3)
        {
          guint row, col;
          int panel;
          if (!cs_figure_wordnet_heatmaps_cell_at (0, 0, st.width * 2, st.height, &st, &fig, px + 0.5, py + 0.5,
                                                   &row, &col, &panel))
            continue;
          g_assert_cmpuint (row, >=, fig.first);
          g_assert_cmpuint (col, <, fig.first + fig.count);
          if (panel != 0)
            continue;
          /* a pixel well inside its cell: the colour of 1/(d + 1) */
          {
            double r, gg, b;
            guint r2, c2;
            int p2;
            gboolean inside = cs_figure_wordnet_heatmaps_cell_at (0, 0, st.width * 2, st.height, &st, &fig, px - 2.5,
                                                                  py - 2.5, &r2, &c2, &p2) &&
                              r2 == row && c2 == col &&
                              cs_figure_wordnet_heatmaps_cell_at (0, 0, st.width * 2, st.height, &st, &fig, px + 3.5,
                                                                  py + 3.5, &r2, &c2, &p2) &&
                              r2 == row && c2 == col;
            guint32 pix = ((guint32 *) (cairo_image_surface_get_data (surf) +
                                        py * cairo_image_surface_get_stride (surf)))[px];
            gint32 dist = g->wordnet_distance[row * n + col];
            if (!inside || (gint) row == fig.selected)
              continue;
            cs_figure_sequential (dist >= 0 ? 1.0 / (dist + 1) : 0, &r, &gg, &b);
            g_assert_cmpint (abs ((int) ((pix >> 16) & 255) - (int) lround (r * 255)), <=, 2);
            g_assert_cmpint (abs ((int) ((pix >> 8) & 255) - (int) lround (gg * 255)), <=, 2);
            g_assert_cmpint (abs ((int) (pix & 255) - (int) lround (b * 255)), <=, 2);
            checked++;
          }
        }
    g_test_message ("%u pixels of the distance panel checked", checked);
    g_assert_cmpuint (checked, >, 500);
    cairo_destroy (cr);
    cairo_surface_destroy (surf);
  }
  cs_tokenizer_free (tok);
}

/* The 3-D view: every token's coordinates are its dot products with the
 * three axes' directions Gram–Schmidt'ed in order (computed here), the
 * categories' ℓ̄ likewise; the figure turns and tilts as documented (screen
 * differences between vertices ∝ the rotation computed here), and the
 * rendered vertices' markers sit where the figure says they are. */
static void
test_simplex_3d (void)
{
  g_autoptr(CsWordNet) wn = wordnet ();
  CsTokenizer *tok = NULL;
  g_autoptr(CsModel) m = sample_model (&tok);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsGeometrySpace) space = cs_geometry_space_new (cs_model_get_unembedding (m), CS_DEVICE_CPU, NULL, &error);
  CsCategorySet *set = cs_category_set_from_wordnet (wn, "animal", tok, NULL, &error);
  g_autoptr(CsGeometry) g = NULL;
  g_autoptr(CsProjection3) p = NULL;
  const char *names[3] = { "mammal", "bird", "fish" };
  CsAxis axes[3];
  int d;
  double *basis, worst = 0, scale = 0;

  g_assert_no_error (error);
  g = cs_geometry_estimate (space, set, 0.7, 0, NULL, &error);
  g_assert_no_error (error);
  d = g->d;
  for (int k = 0; k < 3; k++)
    axes[k] = (CsAxis) { cs_category_set_find (g->categories, names[k]), -1 };
  p = cs_geometry_project3 (space, g, axes, TRUE, &error);
  g_assert_no_error (error);
  /* the orthonormal basis, here: classical Gram–Schmidt in the given order */
  basis = g_new0 (double, 3 * d);
  for (int k = 0; k < 3; k++)
    {
      double *u = basis + k * d, nn = 0;
      memcpy (u, g->vectors[axes[k].plus].lbar, sizeof (double) * d);
      for (int i = 0; i < k; i++)
        {
          double dot = 0;
          for (int j = 0; j < d; j++)
            dot += g->vectors[axes[k].plus].lbar[j] * basis[i * d + j];
          for (int j = 0; j < d; j++)
            u[j] -= dot * basis[i * d + j];
        }
      for (int j = 0; j < d; j++)
        nn += u[j] * u[j];
      for (int j = 0; j < d; j++)
        u[j] /= sqrt (nn);
    }
  {
    gint32 ids[5] = { 0, 17, 400, 5000, (gint32) space->vocab - 1 };
    double *rows = g_new (double, 5 * d);
    cs_geometry_g_rows (space, ids, 5, rows);
    for (int t = 0; t < 5; t++)
      for (int k = 0; k < 3; k++)
        {
          double want = 0;
          for (int j = 0; j < d; j++)
            want += rows[t * d + j] * basis[k * d + j];
          worst = MAX (worst, fabs (p->xyz[k][ids[t]] - want) / MAX (1, fabs (want)));
        }
    g_free (rows);
  }
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < 3; k++)
      {
        double want = 0;
        for (int j = 0; j < d; j++)
          want += g->vectors[axes[c].plus].lbar[j] * basis[k * d + j];
        worst = MAX (worst, fabs (p->cat[k][axes[c].plus] - want) / MAX (1, fabs (want)));
      }
  g_test_message ("3-D coordinates against the dot products computed here: worst %.1e", worst);
  g_assert_cmpfloat (worst, <, 1e-5);
  /* ℓ̄_mammal lies on the first axis only, ℓ̄_bird in the first two */
  g_assert_cmpfloat (fabs (p->cat[1][axes[0].plus]) + fabs (p->cat[2][axes[0].plus]), <, 1e-9);
  g_assert_cmpfloat (fabs (p->cat[2][axes[1].plus]), <, 1e-9);

  {
    CsGeometrySimplex sx;
    g_autofree gboolean *shown = cs_geometry_figure_shown (g, FALSE);
    CsFigureStyle st;
    cairo_surface_t *surf;
    cairo_t *cr;
    double sx_[3], sy_[3], a = 50 * G_PI / 180, e = 30 * G_PI / 180;
    cs_geometry_simplex_init (&sx, g, p, axes, shown);
    g_assert_cmpuint (sx.figure.n_vertices, ==, 3);
    sx.figure.azimuth = 50;
    sx.figure.elevation = 30;
    sx.figure.n_points = 0;    /* the simplex alone, so its markers are what is drawn */
    sx.figure.n_groups = 0;
    g_assert_true (cs_figure_style_from ("square", "light", 0, &st, &error));
    for (int k = 0; k < 3; k++)
      cs_figure_simplex_point (0, 0, st.width, st.height, &st, &sx.figure, sx.figure.vertex[k], &sx_[k], &sy_[k], NULL);
    /* the turn and tilt: screen differences between vertices are the
     * rotation of their differences, times one scale */
    for (int i = 0; i < 3; i++)
      for (int j = i + 1; j < 3; j++)
        {
          const double *vi = sx.figure.vertex[i], *vj = sx.figure.vertex[j];
          double dx = vi[0] - vj[0], dy = vi[1] - vj[1], dz = vi[2] - vj[2];
          double x1 = dx * cos (a) - dy * sin (a), y1 = dx * sin (a) + dy * cos (a);
          double u = x1, w = dz * cos (e) + y1 * sin (e);
          double su = sx_[i] - sx_[j], sw = -(sy_[i] - sy_[j]);
          double k1 = su / u, k2 = sw / w;
          if (scale == 0)
            scale = k1;
          g_assert_cmpfloat (fabs (k1 - scale), <, 1e-6 * fabs (scale));
          g_assert_cmpfloat (fabs (k2 - scale), <, 1e-6 * fabs (scale));
        }
    g_assert_cmpfloat (scale, >, 0);
    /* each vertex's marker is drawn in its category's colour where the
     * figure places it */
    surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) st.width, (int) st.height);
    cr = cairo_create (surf);
    cs_figure_draw_simplex (cr, 0, 0, st.width, st.height, &st, &sx.figure);
    cairo_destroy (cr);
    cairo_surface_flush (surf);
    for (int k = 0; k < 3; k++)
      {
        double r, gg, b;
        guint32 px = ((guint32 *) (cairo_image_surface_get_data (surf) +
                                   (int) sy_[k] * cairo_image_surface_get_stride (surf)))[(int) sx_[k]];
        cs_figure_palette (sx.figure.vertex_colour[k], &r, &gg, &b);
        g_assert_cmpint (abs ((int) ((px >> 16) & 255) - (int) (r * 255)), <=, 3);
        g_assert_cmpint (abs ((int) ((px >> 8) & 255) - (int) (gg * 255)), <=, 3);
        g_assert_cmpint (abs ((int) (px & 255) - (int) (b * 255)), <=, 3);
      }
    cairo_surface_destroy (surf);
    cs_geometry_simplex_clear (&sx);
  }
  g_free (basis);
  cs_tokenizer_free (tok);
}

int
main (int argc, char **argv)
{
  /* the whitening cache in a folder of this run, not the user's */
  g_autofree char *cache = g_dir_make_tmp ("cs-cache-XXXXXX", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/geometry/space-cache", test_space_cache);
  g_test_add_func ("/geometry/title-inside", test_title_inside);
  g_test_add_func ("/geometry/paper-example", test_paper_example);
  g_test_add_func ("/geometry/ledoit-wolf", test_ledoit_wolf);
  g_test_add_func ("/geometry/estimator/sample", test_estimator_sample);
  g_test_add_func ("/geometry/estimator/synthetic", test_estimator_synthetic);
  g_test_add_func ("/geometry/wordnet-counts", test_wordnet_counts);
  g_test_add_func ("/geometry/wordnet-files", test_wordnet_files);
  g_test_add_func ("/geometry/wordnet-figures", test_wordnet_figures);
  g_test_add_func ("/geometry/sample-hierarchy", test_sample_hierarchy);
  g_test_add_func ("/geometry/workspace-figures", test_workspace_and_figures);
  g_test_add_func ("/geometry/heatmap-cells", test_heatmap_cells);
  g_test_add_func ("/geometry/figure-layout", test_figure_layout);
  g_test_add_func ("/geometry/simplex-3d", test_simplex_3d);
  g_test_add_func ("/geometry/cloud-cache", test_cloud_cache);
  g_test_add_func ("/geometry/bad-input", test_bad_input);
  {
    int rc = g_test_run ();
    g_autofree char *w = g_build_filename (cache, "conceptscope", "whitening", NULL);
    g_autofree char *cs = g_build_filename (cache, "conceptscope", NULL);
    g_autoptr(GDir) dir = g_dir_open (w, 0, NULL);
    for (const char *n; dir && (n = g_dir_read_name (dir));)
      {
        g_autofree char *path = g_build_filename (w, n, NULL);
        g_unlink (path);
      }
    g_rmdir (w);
    g_rmdir (cs);
    g_rmdir (cache);
    return rc;
  }
}
