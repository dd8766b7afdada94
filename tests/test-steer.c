/* The steering engine: datasets and their errors, the vector as the mean
 * difference of captured activations, the behaviour metrics on hand-made
 * logits, the SVD of differences with a known spectrum, the SAE
 * decomposition of a vector through a hand-made SAE, and on the sample
 * model the animal − plant vector at layer 2 raising the probability of
 * animal tokens for held-out plant prompts monotonically over −4 … 4. */
#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>
#include <string.h>

#include "cs-categories.h"
#include "cs-error.h"
#include "cs-forward.h"
#include "cs-geometry.h"
#include "cs-model.h"
#include "cs-paths.h"
#include "cs-steer.h"
#include "cs-wordnet.h"

static char *
write_tmp (const char *name, const char *text)
{
  char *path = g_build_filename (g_get_tmp_dir (), name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static CsModel *
sample_model (void)
{
  g_autofree char *path = cs_paths_get_sample_model ();
  g_autoptr(GError) error = NULL;
  CsModel *m = cs_model_open (path, &error);
  g_assert_no_error (error);
  return m;
}

static CsTokenizer *
sample_tokenizer (CsModel *m)
{
  g_autoptr(GError) error = NULL;
  CsTokenizer *t = cs_tokenizer_load (cs_model_get_tokenizer_path (m), &error);
  g_assert_no_error (error);
  return t;
}

static void
test_datasets (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *plain = write_tmp ("cs-steer-plain.json",
    "[{\"positive\": \"A dog is\", \"negative\": \"A tree is\"}, {\"positive\": \"x\", \"negative\": \"y\"}]");
  g_autofree char *ab = write_tmp ("cs-steer-ab.json",
    "[{\"question\": \"Is a dog an animal? (A) yes (B) no.\", \"answer_matching_behavior\": \"(A)\", "
    "\"answer_not_matching_behavior\": \"(B)\"}]");
  g_autofree char *empty = write_tmp ("cs-steer-empty.json", "[]");
  g_autofree char *mixed = write_tmp ("cs-steer-mixed.json",
    "[{\"positive\": \"a\", \"negative\": \"b\"}, {\"question\": \"q\", \"answer_matching_behavior\": \"(A)\", "
    "\"answer_not_matching_behavior\": \"(B)\"}]");
  g_autofree char *badans = write_tmp ("cs-steer-badans.json",
    "[{\"question\": \"q\", \"answer_matching_behavior\": \"yes\", \"answer_not_matching_behavior\": \"(B)\"}]");
  g_autofree char *notlist = write_tmp ("cs-steer-obj.json", "{\"positive\": \"a\"}");
  g_autoptr(CsSteerDataset) p = cs_steer_dataset_load (plain, &error);
  g_autoptr(CsSteerDataset) a = cs_steer_dataset_load (ab, &error);
  CsSteerPair *q;

  g_assert_no_error (error);
  g_assert_cmpuint (p->pairs->len, ==, 2);
  g_assert_false (p->ab);
  g_assert_cmpstr (((CsSteerPair *) p->pairs->pdata[0])->negative, ==, "A tree is");
  g_assert_true (a->ab);
  q = a->pairs->pdata[0];
  g_assert_cmpint (q->matching, ==, 'A');
  g_assert_cmpint (q->not_matching, ==, 'B');
  g_assert_cmpstr (q->positive, ==, "Is a dog an animal? (A) yes (B) no. (A");
  g_assert_cmpstr (q->negative, ==, "Is a dog an animal? (A) yes (B) no. (B");

  g_assert_null (cs_steer_dataset_load (empty, &error));
  g_assert_nonnull (strstr (error->message, "holds no pairs"));
  g_clear_error (&error);
  g_assert_null (cs_steer_dataset_load (mixed, &error));
  g_assert_nonnull (strstr (error->message, "mixed"));
  g_clear_error (&error);
  g_assert_null (cs_steer_dataset_load (badans, &error));
  g_assert_nonnull (strstr (error->message, "two different letters"));
  g_clear_error (&error);
  g_assert_null (cs_steer_dataset_load (notlist, &error));
  g_assert_nonnull (strstr (error->message, "JSON list"));
  g_clear_error (&error);
  /* the split: about the asked share, deterministic */
  {
    int held = 0;
    for (guint i = 0; i < 1000; i++)
      held += cs_steer_is_held_out (i, 0.3);
    g_assert_cmpint (ABS (held - 300), <=, 2);
    g_assert_false (cs_steer_is_held_out (5, 0));
  }
  g_unlink (plain);
  g_unlink (ab);
  g_unlink (empty);
  g_unlink (mixed);
  g_unlink (badans);
  g_unlink (notlist);
}

/* The vector equals the mean of (positive − negative) at the last token,
 * captured independently by single runs of the forward pass. */
static void
test_vector_is_mean_difference (void)
{
  g_autoptr(CsModel) m = sample_model ();
  g_autoptr(CsTokenizer) tok = sample_tokenizer (m);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_tmp ("cs-steer-two.json",
    "[{\"positive\": \"A dog is a kind of\", \"negative\": \"A tree is a kind of\"}, "
    "{\"positive\": \"A sparrow is\", \"negative\": \"An oak is\"}]");
  g_autoptr(CsSteerDataset) ds = cs_steer_dataset_load (path, &error);
  g_autoptr(CsSteerVectors) v = cs_steer_compute (m, tok, ds, 0, CS_STEER_POSITION_LAST, CS_DEVICE_CPU, NULL, NULL,
                                                  NULL, &error);
  const char *texts[4] = { "A dog is a kind of", "A tree is a kind of", "A sparrow is", "An oak is" };
  int d = cs_model_get_config (m)->hidden;
  g_autofree double *want = g_new0 (double, d);
  double worst = 0;

  g_assert_no_error (error);
  g_assert_cmpint (v->n_pairs, ==, 2);
  for (int k = 0; k < 4; k++)
    {
      g_autoptr(GArray) ids = cs_tokenizer_encode (tok, texts[k], TRUE, &error);
      const gint32 *pid = (const gint32 *) ids->data;
      int len = (int) ids->len;
      const char *cap[] = { "resid_post.2", NULL };
      CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
      g_autoptr(CsForwardResult) r = NULL;
      const float *h;
      opt.capture = cap;
      opt.logits = CS_LOGITS_NONE;
      opt.device = CS_DEVICE_CPU;
      r = cs_forward_run (m, &pid, &len, 1, &opt, NULL, &error);
      g_assert_no_error (error);
      h = cs_forward_result_get_capture (r, "resid_post.2") + (gsize) (len - 1) * d;
      for (int j = 0; j < d; j++)
        want[j] += (k % 2 ? -1.0 : 1.0) * h[j] / 2;
    }
  for (int j = 0; j < d; j++)
    worst = MAX (worst, fabs (want[j] - v->vectors[(gsize) 2 * d + j]));
  g_test_message ("vector vs single runs: max |diff| %.3g", worst);
  g_assert_cmpfloat (worst, <, 1e-4);
  g_unlink (path);
}

static void
test_ab_metric (void)
{
  /* two prompts over a 4-token vocabulary: letters A = 1, B = 2 */
  gint32 match[2] = { 1, 2 }, other[2] = { 2, 1 };
  CsSteerPrompts p = { 2, NULL, NULL, TRUE, match, other };
  float logits[8] = { 0, (float) log (3.0), 0, 5, 0, (float) log (3.0), 0, 5 };
  double out[2];
  gint32 targets[2] = { 0, 3 };

  cs_steer_behaviour (&p, logits, 4, NULL, 0, out);
  /* prompt 0: p(A)/(p(A)+p(B)) = 3/(3+1); prompt 1 matches B: 1/4 */
  g_assert_cmpfloat (fabs (out[0] - 0.75), <, 1e-6);
  g_assert_cmpfloat (fabs (out[1] - 0.25), <, 1e-6);
  p.ab = FALSE;
  cs_steer_behaviour (&p, logits, 4, targets, 2, out);
  /* mass on tokens 0 and 3: (1 + e^5) / (1 + 3 + 1 + e^5) */
  g_assert_cmpfloat (fabs (out[0] - (1 + exp (5)) / (5 + exp (5))), <, 1e-6);
}

/* Differences U diag(s) Vᵀ with s = 5, 3, 1, 0.5: the SVD returns s. */
static void
test_svd_known_spectrum (void)
{
  g_autoptr(CsModel) m = sample_model ();
  g_autoptr(GError) error = NULL;
  int d = cs_model_get_config (m)->hidden, n = 12, L = cs_model_get_config (m)->n_layers;
  const double s[4] = { 5, 3, 1, 0.5 };
  CsSteerVectors v = { 0 };
  g_autoptr(GRand) r = g_rand_new_with_seed (3);
  g_autofree double *U = g_new (double, n * 4), *W = g_new (double, d * 4);
  g_autoptr(CsSteerSvd) svd = NULL;

  /* orthonormal columns by Gram–Schmidt */
  for (int pass = 0; pass < 2; pass++)
    {
      double *M = pass ? W : U;
      int rows = pass ? d : n;
      for (int c = 0; c < 4; c++)
        {
          for (int i = 0; i < rows; i++)
            M[i * 4 + c] = g_rand_double_range (r, -1, 1);
          for (int b = 0; b < c; b++)
            {
              double dot = 0;
              for (int i = 0; i < rows; i++)
                dot += M[i * 4 + c] * M[i * 4 + b];
              for (int i = 0; i < rows; i++)
                M[i * 4 + c] -= dot * M[i * 4 + b];
            }
          {
            double nn = 0;
            for (int i = 0; i < rows; i++)
              nn += M[i * 4 + c] * M[i * 4 + c];
            for (int i = 0; i < rows; i++)
              M[i * 4 + c] /= sqrt (nn);
          }
        }
    }
  v.n_layers = L;
  v.d = d;
  v.n_pairs = n;
  v.differences = g_new0 (float, (gsize) L * n * d);
  v.vectors = g_new0 (float, (gsize) L * d);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      {
        double x = 0;
        for (int c = 0; c < 4; c++)
          x += U[i * 4 + c] * s[c] * W[j * 4 + c];
        v.differences[((gsize) 1 * n + i) * d + j] = (float) x;
        v.vectors[(gsize) 1 * d + j] += (float) (x / n);
      }
  svd = cs_steer_svd (m, &v, 1, 2, 5, &error);
  g_assert_no_error (error);
  for (int c = 0; c < 4; c++)
    g_assert_cmpfloat (fabs (svd->values[c] - s[c]), <, 1e-5);
  for (int c = 4; c < svd->n_values; c++)
    g_assert_cmpfloat (svd->values[c], <, 1e-5);
  g_assert_cmpfloat (fabs (svd->explained[0] - 25 / 35.25), <, 1e-6);
  g_assert_cmpint (svd->top[0], !=, svd->bottom[0]);
  g_assert_null (cs_steer_svd (m, &v, 9, 2, 5, &error));
  g_assert_nonnull (strstr (error->message, "out of range"));
  g_clear_error (&error);
  g_free (v.differences);
  g_free (v.vectors);
}

/* A hand-made SAE: W_enc = I, W_dec = I (d_in = d_sae = 16), no biases. The
 * vector 3 e_5 − 2 e_9 decomposes into feature 5 (+3, cosine 3/√13) and
 * feature 9 (−2, −2/√13); encode(decode(f)) = f for non-negative f. */
static void
test_sae_known_features (void)
{
  const int d = 16;
  CsSae sae = { d, d, NULL, -1, FALSE, g_new0 (float, d * d), g_new0 (float, d * d), g_new0 (float, d), g_new0 (float, d) };
  float v[16] = { 0 }, f[16] = { 0 }, x[16], back[16];
  int ei[4], di[4];
  double ev[4], dv[4];

  for (int i = 0; i < d; i++)
    sae.W_enc[i * d + i] = sae.W_dec[i * d + i] = 1;
  v[5] = 3;
  v[9] = -2;
  cs_steer_sae_decompose (&sae, v, 2, ei, ev, di, dv);
  g_assert_cmpint (ei[0], ==, 5);
  g_assert_cmpfloat (fabs (ev[0] - 3), <, 1e-9);
  g_assert_cmpint (ei[2], ==, 9);
  g_assert_cmpfloat (fabs (ev[2] + 2), <, 1e-9);
  g_assert_cmpint (di[0], ==, 5);
  g_assert_cmpfloat (fabs (dv[0] - 3 / sqrt (13)), <, 1e-6);
  g_assert_cmpint (di[2], ==, 9);
  g_assert_cmpfloat (fabs (dv[2] + 2 / sqrt (13)), <, 1e-6);
  f[2] = 1.5f;
  f[11] = 0.25f;
  cs_sae_decode (&sae, f, 1, NULL, x);
  cs_sae_encode (&sae, x, 1, back);
  for (int i = 0; i < d; i++)
    g_assert_cmpfloat (fabs (back[i] - f[i]), <, 1e-6);
  g_free (sae.W_enc);
  g_free (sae.W_dec);
  g_free (sae.b_enc);
  g_free (sae.b_dec);
}

typedef struct
{
  CsModel         *model;
  CsTokenizer     *tok;
  CsGeometrySpace *space;
  CsGeometry      *geometry;
} Sample;

static void
sample_geometry (Sample *s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsWordNet) wn = cs_wordnet_open (NULL, &error);
  CsCategorySet *cats;
  g_assert_no_error (error);
  s->model = sample_model ();
  s->tok = sample_tokenizer (s->model);
  s->space = cs_geometry_space_new (cs_model_get_unembedding (s->model), CS_DEVICE_CPU, NULL, &error);
  g_assert_no_error (error);
  cats = cs_category_set_from_wordnet (wn, "animal", s->tok, NULL, &error);
  g_assert_no_error (error);
  s->geometry = cs_geometry_estimate (s->space, cats, 0.7, 0, NULL, &error);
  g_assert_no_error (error);
}

static void
sample_clear (Sample *s)
{
  cs_geometry_free (s->geometry);
  cs_geometry_space_free (s->space);
  cs_tokenizer_free (s->tok);
  g_object_unref (s->model);
}

/* The case: prompts "A {word} is a kind of" from the shipped
 * animal-vs-plant set, vector from half of the pairs at the last token,
 * added at layer 2; the held-out plant prompts' probability of an animal
 * token rises monotonically over multipliers −4 … 4. */
static void
test_animal_minus_plant (void)
{
  Sample s = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "steering", "animal-vs-plant.json", NULL);
  g_autoptr(CsSteerDataset) ds = NULL;
  g_autoptr(CsSteerVectors) v = NULL;
  g_autoptr(CsSteerPrompts) prompts = NULL;
  g_autoptr(CsSteerSweep) sw = NULL;
  g_autoptr(CsSteerEffects) eff = NULL;
  const double mult[5] = { -4, -2, 0, 2, 4 };
  int layer = 2, animal;
  CsCategory *cat;
  g_autofree double *cosines = NULL;

  sample_geometry (&s);
  ds = cs_steer_dataset_load (path, &error);
  g_assert_no_error (error);
  v = cs_steer_compute (s.model, s.tok, ds, 0.5, CS_STEER_POSITION_LAST, CS_DEVICE_CPU, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  prompts = cs_steer_prompts_new (s.model, s.tok, ds, 0.5, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (v->n_pairs + prompts->n, ==, (int) ds->pairs->len);
  animal = cs_category_set_find (s.geometry->categories, "animal");
  cat = cs_category_set_get (s.geometry->categories, animal);
  sw = cs_steer_sweep (s.model, v, prompts, &layer, 1, mult, 5, (const gint32 *) cat->tokens->data,
                       (int) cat->tokens->len, CS_DEVICE_CPU, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("animal-token mass on %d held-out plant prompts, layer 2: %.4f %.4f %.4f %.4f %.4f "
                  "(an independent PyTorch run: 0.002 at -4, 0.031 at 0, 0.178 at +4)", prompts->n,
                  sw->behaviour[0], sw->behaviour[1], sw->behaviour[2], sw->behaviour[3], sw->behaviour[4]);
  for (int m = 1; m < 5; m++)
    g_assert_cmpfloat (sw->behaviour[m], >, sw->behaviour[m - 1]);
  /* the same order of magnitude as the independent run at the ends */
  g_assert_cmpfloat (sw->behaviour[0], <, 0.02);
  g_assert_cmpfloat (sw->behaviour[2], >, 0.005);
  g_assert_cmpfloat (sw->behaviour[2], <, 0.1);
  g_assert_cmpfloat (sw->behaviour[4], >, 0.08);

  /* downstream: the projection on ℓ̄_animal rises in the later layers, and
   * the vector points along ℓ̄_animal in the whitened space */
  eff = cs_steer_effects (s.model, s.tok, v, prompts, layer, 4, s.space, s.geometry, NULL, -1, 5, CS_DEVICE_CPU,
                          NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (eff->n_rows, ==, cs_model_get_config (s.model)->n_layers - layer);
  for (int c = 0; c < eff->n_cols; c++)
    if (eff->col_kind[c] == 0 && eff->col_index[c] == animal)
      {
        double last = eff->values[(gsize) (eff->n_rows - 1) * eff->n_cols + c];
        g_test_message ("change of the ℓ̄_animal read-out at the last layer: %+.3f", last);
        g_assert_cmpfloat (last, >, 0);
      }
  cosines = g_new (double, s.geometry->categories->items->len);
  g_assert_true (cs_steer_concept_cosines (s.model, v, layer, s.space, s.geometry, cosines, &error));
  g_test_message ("cos(v, ℓ̄_animal) = %.3f", cosines[animal]);
  g_assert_cmpfloat (cosines[animal], >, 0);

  /* bad input */
  {
    int bad = 9;
    g_assert_null (cs_steer_sweep (s.model, v, prompts, &bad, 1, mult, 5, (const gint32 *) cat->tokens->data,
                                   (int) cat->tokens->len, CS_DEVICE_CPU, NULL, NULL, NULL, &error));
    g_assert_nonnull (strstr (error->message, "layers are 0 to 3"));
    g_clear_error (&error);
    g_assert_null (cs_steer_sweep (s.model, v, prompts, &layer, 1, mult, 5, NULL, 0, CS_DEVICE_CPU, NULL, NULL,
                                   NULL, &error));
    g_assert_nonnull (strstr (error->message, "target"));
    g_clear_error (&error);
  }
  {
    CsSae small = { 64, 8, NULL, 1, FALSE, NULL, NULL, NULL, NULL };
    g_assert_null (cs_steer_effects (s.model, s.tok, v, prompts, layer, 4, NULL, NULL, &small, 1, 5, CS_DEVICE_CPU,
                                     NULL, &error));
    g_assert_nonnull (strstr (error->message, "64-dimensional"));
    g_clear_error (&error);
  }
  {
    GString *long_text = g_string_new ("A");
    g_autofree char *json = NULL;
    g_autofree char *lp = NULL;
    g_autoptr(CsSteerDataset) lds = NULL;
    for (int i = 0; i < 200; i++)
      g_string_append (long_text, " dog");
    json = g_strdup_printf ("[{\"positive\": \"%s\", \"negative\": \"A tree\"}]", long_text->str);
    g_string_free (long_text, TRUE);
    lp = write_tmp ("cs-steer-long.json", json);
    lds = cs_steer_dataset_load (lp, &error);
    g_assert_no_error (error);
    g_assert_null (cs_steer_compute (s.model, s.tok, lds, 0, CS_STEER_POSITION_LAST, CS_DEVICE_CPU, NULL, NULL, NULL,
                                     &error));
    g_assert_nonnull (strstr (error->message, "longer than the model's context of 128"));
    g_clear_error (&error);
    g_assert_null (cs_steer_compute (s.model, s.tok, lds, 0, CS_STEER_POSITION_ANSWER, CS_DEVICE_CPU, NULL, NULL,
                                     NULL, &error));
    g_assert_nonnull (strstr (error->message, "A/B"));
    g_clear_error (&error);
    g_unlink (lp);
  }
  sample_clear (&s);
}

/* A/B items: the letters are single tokens after "… (", and the metric is
 * p(matching) / (p(A) + p(B)) in [0, 1]. */
static void
test_ab_on_sample (void)
{
  Sample s = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "steering", "animal-or-plant-ab.json", NULL);
  g_autoptr(CsSteerDataset) ds = NULL;
  g_autoptr(CsSteerVectors) v = NULL;
  g_autoptr(CsSteerPrompts) prompts = NULL;
  g_autoptr(CsSteerSweep) sw = NULL;
  const double mult[3] = { -4, 0, 4 };
  int layer = 1;

  s.model = sample_model ();
  s.tok = sample_tokenizer (s.model);
  ds = cs_steer_dataset_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (ds->ab);
  v = cs_steer_compute (s.model, s.tok, ds, 0.5, CS_STEER_POSITION_ANSWER, CS_DEVICE_CPU, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  prompts = cs_steer_prompts_new (s.model, s.tok, ds, 0.5, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (prompts->ab);
  for (int i = 0; i < prompts->n; i++)
    g_assert_cmpint (prompts->letter_match[i], !=, prompts->letter_other[i]);
  sw = cs_steer_sweep (s.model, v, prompts, &layer, 1, mult, 3, NULL, 0, CS_DEVICE_CPU, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("A/B behaviour at layer 1: %.3f %.3f %.3f", sw->behaviour[0], sw->behaviour[1], sw->behaviour[2]);
  for (int m = 0; m < 3; m++)
    {
      g_assert_cmpfloat (sw->behaviour[m], >=, 0);
      g_assert_cmpfloat (sw->behaviour[m], <=, 1);
    }
  g_assert_cmpfloat (sw->behaviour[2], >, sw->behaviour[0]);
  cs_tokenizer_free (s.tok);
  g_object_unref (s.model);
}

/* Sorting the effects heatmap: columns by kind (then largest change) or by
 * largest change; rows by layer either way. */
static void
test_effects_sort (void)
{
  CsSteerEffects e = { 0 };
  int rows[2] = { 3, 4 }, kind[3] = { 2, 0, 1 }, index[3] = { 10, 11, 12 };
  char *labels[4] = { g_strdup ("tok"), g_strdup ("concept"), g_strdup ("sae"), NULL };
  double values[6] = { 0.1, 0.5, -0.9,
                       0.2, 0.3, 0.0 };
  e.n_rows = 2;
  e.n_cols = 3;
  e.row_layers = rows;
  e.col_kind = kind;
  e.col_index = index;
  e.col_labels = labels;
  e.values = values;
  cs_steer_effects_sort (&e, CS_STEER_SORT_CHANGE, TRUE);
  g_assert_cmpstr (e.col_labels[0], ==, "sae");
  g_assert_cmpstr (e.col_labels[1], ==, "concept");
  g_assert_cmpstr (e.col_labels[2], ==, "tok");
  g_assert_cmpfloat (e.values[0], ==, -0.9);
  cs_steer_effects_sort (&e, CS_STEER_SORT_KIND, FALSE);
  g_assert_cmpstr (e.col_labels[0], ==, "concept");
  g_assert_cmpstr (e.col_labels[1], ==, "sae");
  g_assert_cmpstr (e.col_labels[2], ==, "tok");
  g_assert_cmpint (e.row_layers[0], ==, 4);
  /* row 0 is now layer 4: concept 0.3, sae 0.0, tok 0.2 */
  g_assert_cmpfloat (e.values[0], ==, 0.3);
  g_assert_cmpfloat (e.values[1], ==, 0.0);
  g_assert_cmpfloat (e.values[2], ==, 0.2);
  for (int i = 0; i < 3; i++)
    g_free (labels[i]);
}

/* Steering that starts after every prompt's last token changes nothing;
 * normalised vectors have the layer's mean residual norm. */
/* A sweep on the CPU over plain pairs with target token ids; the other
 * fields at their defaults. */
static CsSteerRun
cpu_run (CsModel *m, CsTokenizer *tok, CsSteerDataset *ds, const int *layers, int n_layers, const double *mult,
         int n_mult, const gint32 *targets, int n_targets, int effects_layer)
{
  CsSteerRun run = { 0 };
  run.model = m;
  run.tok = tok;
  run.dataset = ds;
  run.held_out = 0.5;
  run.layers = layers;
  run.n_layers = n_layers;
  run.multipliers = mult;
  run.n_mult = n_mult;
  run.targets = targets;
  run.n_targets = n_targets;
  run.effects_layer = effects_layer;
  run.effects_multiplier = NAN;
  run.device = CS_DEVICE_CPU;
  return run;
}

static void
test_from_and_normalise (void)
{
  g_autoptr(CsModel) m = sample_model ();
  g_autoptr(CsTokenizer) tok = sample_tokenizer (m);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "steering", "mammal-vs-bird.json", NULL);
  g_autoptr(CsSteerDataset) ds = cs_steer_dataset_load (path, &error);
  g_autoptr(CsSteerVectors) v = cs_steer_compute (m, tok, ds, 0.5, CS_STEER_POSITION_LAST, CS_DEVICE_CPU, NULL, NULL,
                                                  NULL, &error);
  const int layers[2] = { 1, 2 };
  const double mult[3] = { -4, 0, 4 };
  const gint32 targets[3] = { 10, 20, 30 };
  CsSteerRun run = cpu_run (m, tok, ds, layers, 2, mult, 3, targets, 3, 1);
  g_autoptr(CsSteerReport) late = NULL;
  g_autoptr(CsSteerReport) norm = NULL;

  g_assert_no_error (error);
  run.steer_from = 1000;
  late = cs_steer_run (&run, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  for (int a = 0; a < 2; a++)
    for (int k = 0; k < 3; k++)
      g_assert_cmpfloat (late->sweep->behaviour[a * 3 + k], ==, late->sweep->behaviour[1]);
  run.steer_from = 0;
  run.normalise = TRUE;
  norm = cs_steer_run (&run, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  for (int l = 0; l < norm->n_layers; l++)
    {
      double nn = 0;
      for (int j = 0; j < norm->d; j++)
        nn += (double) norm->vectors[l * norm->d + j] * norm->vectors[l * norm->d + j];
      g_assert_cmpfloat (fabs (sqrt (nn) - v->resid_norms[l]) / v->resid_norms[l], <, 1e-5);
    }
  g_assert_cmpfloat (norm->sweep->behaviour[2], !=, norm->sweep->behaviour[1]);
}

/* A run's progress, its stages weighed by their forward passes, rises from
 * near 0 to exactly 1 without going back, through a sweep of 4 layers × 5
 * multipliers and a continuation. */
static void
record (double f, gpointer data)
{
  g_array_append_val ((GArray *) data, f);
}

static void
test_run_progress (void)
{
  g_autoptr(CsModel) m = sample_model ();
  g_autoptr(CsTokenizer) tok = sample_tokenizer (m);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "steering", "animal-vs-plant.json", NULL);
  g_autoptr(CsSteerDataset) ds = cs_steer_dataset_load (path, &error);
  const int layers[4] = { 0, 1, 2, 3 };
  const double mult[5] = { -8, -4, 0, 4, 8 };
  const gint32 targets[2] = { 10, 20 };
  CsSteerRun run = cpu_run (m, tok, ds, layers, 4, mult, 5, targets, 2, -1);
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(CsSteerReport) r = NULL;

  g_assert_no_error (error);
  run.gen_prompt = "A fern is a kind of";
  run.gen_tokens = 6;
  r = cs_steer_run (&run, record, seen, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (seen->len, >=, 10);
  g_assert_cmpfloat (g_array_index (seen, double, 0), <, 0.2);
  g_assert_cmpfloat (g_array_index (seen, double, seen->len - 1), ==, 1.0);
  for (guint i = 1; i < seen->len; i++)
    g_assert_cmpfloat (g_array_index (seen, double, i), >=, g_array_index (seen, double, i - 1) - 1e-12);
}

/* A set of SAEs, one per layer: its effects equal running each SAE alone
 * (the same latents, the same values at their layer, NaN elsewhere), and
 * a folder with misfits lists each with its reason; a layer's variant is
 * chosen as asked. */
static void
test_sae_set (void)
{
  g_autoptr(CsModel) m = sample_model ();
  g_autoptr(CsTokenizer) tok = sample_tokenizer (m);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "steering", "animal-vs-plant.json", NULL);
  g_autofree char *set_dir = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "sae-set", NULL);
  g_autoptr(CsSteerDataset) ds = cs_steer_dataset_load (path, &error);
  g_autoptr(CsSteerVectors) v = NULL;
  g_autoptr(CsSteerPrompts) prompts = NULL;
  g_autoptr(CsSaeSet) set = NULL;
  g_autoptr(CsSteerEffects) all = NULL;
  g_autofree CsSae **by_layer = NULL;
  const CsModelConfig *cfg = cs_model_get_config (m);
  int layer = 1, checked = 0;

  g_assert_no_error (error);
  set = cs_sae_set_open (set_dir, cfg->hidden, cfg->n_layers, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (set->chosen->len, ==, 4);
  g_assert_cmpuint (set->skipped->len, ==, 0);
  v = cs_steer_compute (m, tok, ds, 0.5, CS_STEER_POSITION_LAST, CS_DEVICE_CPU, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  prompts = cs_steer_prompts_new (m, tok, ds, 0.5, TRUE, &error);
  g_assert_no_error (error);
  by_layer = g_new0 (CsSae *, cfg->n_layers);
  for (int l = 0; l < cfg->n_layers; l++)
    by_layer[l] = cs_sae_set_at_layer (set, l);
  all = cs_steer_effects_set (m, tok, v, prompts, layer, 4, NULL, NULL, (CsSae * const *) by_layer, TRUE, 5,
                              CS_DEVICE_CPU, NULL, &error);
  g_assert_no_error (error);
  for (int l = layer; l < cfg->n_layers; l++)
    {
      g_autoptr(CsSteerEffects) one = cs_steer_effects (m, tok, v, prompts, layer, 4, NULL, NULL, by_layer[l], l, 5,
                                                        CS_DEVICE_CPU, NULL, &error);
      int n_sae = 0;
      g_assert_no_error (error);
      for (int c = 0; c < one->n_cols; c++)
        {
          int match = -1;
          if (one->col_kind[c] != 1)
            continue;
          n_sae++;
          for (int k = 0; k < all->n_cols; k++)
            if (all->col_kind[k] == 1 && all->col_layer[k] == l && all->col_index[k] == one->col_index[c])
              match = k;
          g_assert_cmpint (match, >=, 0);
          g_assert_true (g_str_has_prefix (all->col_labels[match], "L"));
          for (int r = 0; r < all->n_rows; r++)
            {
              double a = all->values[r * all->n_cols + match], b = one->values[r * one->n_cols + c];
              if (all->row_layers[r] == l)
                g_assert_cmpfloat (fabs (a - b), <, 1e-12);
              else
                g_assert_true (isnan (a) && isnan (b));
              checked++;
            }
        }
      g_assert_cmpint (n_sae, ==, 5);
    }
  g_test_message ("%d cells of the set's effects equal each SAE's alone", checked);

  /* the change the vector causes at each later layer (what the propagated
   * decomposition reads): the mean over the prompts, at the last token, of
   * resid_post steered − unsteered, from two runs made here */
  {
    int n = MIN (prompts->n, 32), L = cfg->n_layers, d = cfg->hidden;
    g_auto(GStrv) hooks = g_new0 (char *, L + 1);
    CsForwardOptions o0 = CS_FORWARD_OPTIONS_INIT, o1 = CS_FORWARD_OPTIONS_INIT;
    g_autoptr(CsForwardResult) r0 = NULL;
    g_autoptr(CsForwardResult) r1 = NULL;
    double worst = 0;
    for (int l = 0; l < L; l++)
      hooks[l] = g_strdup_printf ("resid_post.%d", l);
    o0.capture = o1.capture = (const char * const *) hooks;
    o0.device = o1.device = CS_DEVICE_CPU;
    o1.steer_layer = layer;
    o1.steer_multiplier = 4;
    o1.steer_vector = v->vectors + (gsize) layer * v->d;
    o1.steer_from = prompts->steer_from;
    r0 = cs_forward_run (m, (const gint32 * const *) prompts->ids, prompts->lengths, n, &o0, NULL, &error);
    g_assert_no_error (error);
    r1 = cs_forward_run (m, (const gint32 * const *) prompts->ids, prompts->lengths, n, &o1, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (all->resid_delta);
    for (int r = 0; r < all->n_rows; r++)
      {
        const float *c0 = cs_forward_result_get_capture (r0, hooks[layer + r]);
        const float *c1 = cs_forward_result_get_capture (r1, hooks[layer + r]);
        double scale = 0;
        for (int j = 0; j < d; j++)
          {
            double dh = 0;
            for (int i = 0; i < n; i++)
              {
                gsize last = ((gsize) i * r0->seq + prompts->lengths[i] - 1) * d + j;
                dh += ((double) c1[last] - c0[last]) / n;
              }
            worst = MAX (worst, fabs (dh - all->resid_delta[(gsize) r * d + j]));
            scale = MAX (scale, fabs (dh));
          }
        g_assert_cmpfloat (scale, >, 0.1);
      }
    g_assert_cmpfloat (worst, <, 1e-5);
    /* decomposed by the layer's SAE: the encoder's response W_encᵀΔh */
    for (int r = 1; r < all->n_rows; r++)
      {
        CsSae *sae = by_layer[layer + r];
        int enc[10], dec[10];
        double ev[10], dv[10];
        cs_steer_sae_decompose (sae, all->resid_delta + (gsize) r * d, 5, enc, ev, dec, dv);
        for (int i = 0; i < 10; i++)
          {
            double want = 0;
            for (int j = 0; j < d; j++)
              want += (double) sae->W_enc[(gsize) j * sae->d_sae + enc[i]] * all->resid_delta[(gsize) r * d + j];
            g_assert_cmpfloat (fabs (ev[i] - want), <, 1e-5 * MAX (1, fabs (want)));
          }
        for (int i = 1; i < 5; i++)
          g_assert_cmpfloat (ev[i], <=, ev[i - 1]);
      }
    g_test_message ("the stream's mean change at layers %d–%d equals two runs made here (%.1e)", layer, L - 1, worst);
  }

  /* misfits: another width, an attention hook, a wrong d_in, a layer the model has not */
  {
    g_autofree char *tmp = g_dir_make_tmp ("cs-sae-set-XXXXXX", NULL);
    g_autofree char *w0 = g_build_filename (set_dir, "resid_post.0", "sae_weights.safetensors", NULL);
    const struct { const char *name, *cfg; } folders[] = {
      { "a-res0", "{\"d_in\": 256, \"d_sae\": 1024, \"hook_name\": \"blocks.0.hook_resid_post\", \"hook_layer\": 0}" },
      { "b-res0-wide", "{\"d_in\": 256, \"d_sae\": 1024, \"hook_name\": \"blocks.0.hook_resid_post\", \"hook_layer\": 0}" },
      { "c-attn", "{\"d_in\": 256, \"d_sae\": 1024, \"hook_name\": \"blocks.1.attn.hook_z\", \"hook_layer\": 1}" },
      { "d-gpt2", "{\"d_in\": 768, \"d_sae\": 1024, \"hook_name\": \"blocks.2.hook_resid_post\", \"hook_layer\": 2}" },
      { "e-deep", "{\"d_in\": 256, \"d_sae\": 1024, \"hook_name\": \"blocks.9.hook_resid_post\", \"hook_layer\": 9}" },
      { "f-pre", "{\"d_in\": 256, \"d_sae\": 1024, \"hook_name\": \"blocks.3.hook_resid_pre\", \"hook_layer\": 3}" },
    };
    const char *choose[] = { "0=b-res0-wide", NULL };
    g_autoptr(CsSaeSet) mixed = NULL;
    gboolean said_attn = FALSE, said_din = FALSE, said_layer = FALSE;
    for (guint i = 0; i < G_N_ELEMENTS (folders); i++)
      {
        g_autofree char *dir = g_build_filename (tmp, folders[i].name, NULL);
        g_autofree char *cfgp = g_build_filename (dir, "cfg.json", NULL);
        g_autofree char *wp = g_build_filename (dir, "sae_weights.safetensors", NULL);
        g_autofree char *cfgtext = NULL;
        g_mkdir (dir, 0755);
        /* the weights of resid_post.0 with the cfg.json above (its sizes read from the cfg, as SAELens does) */
        cfgtext = g_strdup_printf ("{\"architecture\": \"standard\", \"apply_b_dec_to_input\": true, "
                                   "\"normalize_activations\": \"none\", %s", folders[i].cfg + 1);
        g_assert_true (g_file_set_contents (cfgp, cfgtext, -1, NULL));
        g_assert_cmpint (symlink (w0, wp), ==, 0);
      }
    mixed = cs_sae_set_open (tmp, cfg->hidden, cfg->n_layers, choose, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < mixed->skipped->len; i++)
      {
        const char *why = mixed->skipped->pdata[i];
        g_test_message ("skipped %s", why);
        said_attn = said_attn || (g_str_has_prefix (why, "c-attn") && strstr (why, "not the residual stream"));
        said_din = said_din || (g_str_has_prefix (why, "d-gpt2") && strstr (why, "d_in 768"));
        said_layer = said_layer || (g_str_has_prefix (why, "e-deep") && strstr (why, "layers 0 to 3"));
      }
    g_assert_true (said_attn && said_din && said_layer);
    g_assert_cmpuint (mixed->skipped->len, ==, 3);
    /* layer 0: the one asked for, the other an alternative; resid_pre.3 reads what layer 2 leaves */
    g_assert_cmpuint (mixed->chosen->len, ==, 2);
    g_assert_cmpstr (((CsSaeSetMember *) mixed->chosen->pdata[0])->variant, ==, "b-res0-wide");
    g_assert_cmpint (((CsSaeSetMember *) mixed->chosen->pdata[1])->layer, ==, 2);
    g_assert_cmpstr (((CsSaeSetMember *) mixed->chosen->pdata[1])->hook, ==, "resid_pre.3");
    g_assert_cmpuint (mixed->others->len, ==, 1);
    g_assert_cmpstr (((CsSaeSetMember *) mixed->others->pdata[0])->variant, ==, "a-res0");
    /* choosing the other variant in place, and the choices that reopen the same set */
    {
      g_auto(GStrv) variants = cs_sae_set_variants (mixed, 0);
      g_auto(GStrv) choices = NULL;
      g_autoptr(CsSaeSet) again = NULL;
      g_assert_cmpuint (g_strv_length (variants), ==, 2);
      g_assert_cmpstr (variants[0], ==, "b-res0-wide");
      g_assert_true (cs_sae_set_choose (mixed, 0, "a-res0", &error));
      g_assert_no_error (error);
      g_assert_cmpstr (((CsSaeSetMember *) mixed->chosen->pdata[0])->variant, ==, "a-res0");
      g_assert_nonnull (((CsSaeSetMember *) mixed->chosen->pdata[0])->sae);
      g_assert_cmpint (((CsSaeSetMember *) mixed->chosen->pdata[1])->layer, ==, 2);
      g_assert_null (((CsSaeSetMember *) mixed->others->pdata[0])->sae);
      g_assert_false (cs_sae_set_choose (mixed, 0, "no-such", &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      choices = cs_sae_set_choices (mixed);
      g_assert_cmpstr (choices[0], ==, "0=a-res0");
      again = cs_sae_set_open (tmp, cfg->hidden, cfg->n_layers, (const char * const *) choices, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (((CsSaeSetMember *) again->chosen->pdata[0])->variant, ==, "a-res0");
    }
    for (guint i = 0; i < G_N_ELEMENTS (folders); i++)
      {
        g_autofree char *dir = g_build_filename (tmp, folders[i].name, NULL);
        g_autofree char *cfgp = g_build_filename (dir, "cfg.json", NULL);
        g_autofree char *wp = g_build_filename (dir, "sae_weights.safetensors", NULL);
        g_unlink (cfgp);
        g_unlink (wp);
        g_rmdir (dir);
      }
    g_rmdir (tmp);
    /* nothing that fits: an error naming the reasons */
    g_assert_null (cs_sae_set_open (set_dir, 768, 12, NULL, &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "d_in 256"));
    g_clear_error (&error);
  }
}

/* The SAE decomposition's features are labelled by the two tokens their
 * decoder rows raise most through the unembedding: checked against a full
 * ranking of every token's score for each feature. */
static void
test_sae_labels (void)
{
  g_autoptr(CsModel) m = sample_model ();
  g_autoptr(CsTokenizer) tok = sample_tokenizer (m);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "steering", "animal-vs-plant.json", NULL);
  g_autofree char *sae_dir = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "sae-set", "resid_post.1", NULL);
  g_autoptr(CsSteerDataset) ds = cs_steer_dataset_load (path, &error);
  g_autoptr(CsSae) sae = cs_sae_load (sae_dir, &error);
  const int layers[1] = { 1 };
  const double mult[2] = { 0, 4 };
  const gint32 targets[2] = { 10, 20 };
  CsSteerRun run = cpu_run (m, tok, ds, layers, 1, mult, 2, targets, 2, -1);
  g_autoptr(CsSteerReport) r = NULL;
  const CsTensor *U = cs_model_get_unembedding (m);
  int V = (int) U->shape[0], d = (int) U->shape[1];
  g_autofree float *row = g_new (float, d);
  g_autofree double *score = g_new (double, V);

  g_assert_no_error (error);
  run.sae = sae;
  r = cs_steer_run (&run, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->sae_k, ==, 5);
  g_assert_nonnull (r->sae_enc_labels);
  g_assert_nonnull (r->sae_dec_labels);
  for (int i = 0; i < 20; i++)
    {
      int f = i < 10 ? r->sae_enc_idx[i] : r->sae_dec_idx[i - 10];
      const char *label = i < 10 ? r->sae_enc_labels[i] : r->sae_dec_labels[i - 10];
      int first = -1, second = -1;
      for (int t = 0; t < V; t++)
        {
          double s2 = 0;
          cs_tensor_read_f32 (U, (gsize) t * d, d, row);
          for (int j = 0; j < d; j++)
            s2 += (double) row[j] * sae->W_dec[(gsize) f * d + j];
          score[t] = s2;
        }
      for (int t = 0; t < V; t++)
        if (first < 0 || score[t] > score[first])
          first = t;
      for (int t = 0; t < V; t++)
        if (t != first && (second < 0 || score[t] > score[second]))
          second = t;
      {
        g_autofree char *a = cs_tokenizer_id_to_text (tok, first);
        g_autofree char *b = cs_tokenizer_id_to_text (tok, second);
        g_autofree char *want = g_strdup_printf ("SAE %d '%s' '%s'", f, a, b);
        g_assert_cmpstr (label, ==, want);
      }
    }
  /* and back from a workspace */
  {
    g_autofree char *dir = g_dir_make_tmp ("cs-steer-XXXXXX", NULL);
    g_autofree char *ws = g_build_filename (dir, "ws.h5", NULL);
    g_autoptr(CsSteerReport) back = NULL;
    g_assert_true (cs_steer_report_save (r, ws, &error));
    g_assert_no_error (error);
    back = cs_steer_report_load (ws, &error);
    g_assert_no_error (error);
    for (int i = 0; i < 10; i++)
      {
        g_assert_cmpstr (back->sae_enc_labels[i], ==, r->sae_enc_labels[i]);
        g_assert_cmpstr (back->sae_dec_labels[i], ==, r->sae_dec_labels[i]);
      }
    g_unlink (ws);
    g_rmdir (dir);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/steer/datasets", test_datasets);
  g_test_add_func ("/steer/vector-is-mean-difference", test_vector_is_mean_difference);
  g_test_add_func ("/steer/ab-metric", test_ab_metric);
  g_test_add_func ("/steer/svd-known-spectrum", test_svd_known_spectrum);
  g_test_add_func ("/steer/sae-known-features", test_sae_known_features);
  g_test_add_func ("/steer/animal-minus-plant", test_animal_minus_plant);
  g_test_add_func ("/steer/ab-on-sample", test_ab_on_sample);
  g_test_add_func ("/steer/effects-sort", test_effects_sort);
  g_test_add_func ("/steer/from-and-normalise", test_from_and_normalise);
  g_test_add_func ("/steer/sae-labels", test_sae_labels);
  g_test_add_func ("/steer/sae-set", test_sae_set);
  g_test_add_func ("/steer/run-progress", test_run_progress);
  return g_test_run ();
}
