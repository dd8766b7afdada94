#define G_LOG_DOMAIN "conceptscope-cli"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs-categories.h"
#include "cs-cli-commands.h"

#include <unistd.h>
#include "cs-geometry.h"
#include "cs-geometry-run.h"
#include "cs-model.h"
#include "cs-tokenizer.h"
#include "cs-wordnet.h"
#include "cs-workspace.h"

static void
add_number (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_stat (JsonBuilder *b, const char *name, CsStat s)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  add_number (b, "mean", s.mean);
  add_number (b, "std", s.std);
  json_builder_end_object (b);
}

JsonNode *
cs_cli_geometry_json (CsGeometry *g, const char *hierarchy, int n_floored)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  CsCategorySet *cats = g->categories;
  guint n = cats->items->len;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "hierarchy");
  json_builder_add_string_value (b, hierarchy ? hierarchy : "");
  add_number (b, "train_fraction", g->train_fraction);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, g->seed);
  json_builder_set_member_name (b, "min_tokens");
  json_builder_add_int_value (b, cats->min_tokens);
  json_builder_set_member_name (b, "whitening_floored_eigenvalues");
  json_builder_add_int_value (b, n_floored);
  json_builder_set_member_name (b, "categories");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    {
      CsCategory *c = cs_category_set_get (cats, i);
      CsCategoryVector *v = &g->vectors[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, c->name);
      json_builder_set_member_name (b, "synset");
      json_builder_add_string_value (b, c->source);
      json_builder_set_member_name (b, "parent");
      if (c->parent >= 0)
        json_builder_add_string_value (b, cs_category_set_get (cats, c->parent)->name);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "tokens");
      json_builder_add_int_value (b, c->tokens->len);
      json_builder_set_member_name (b, "reliable");
      json_builder_add_boolean_value (b, c->reliable);
      json_builder_set_member_name (b, "estimated");
      json_builder_add_boolean_value (b, v->estimated);
      json_builder_set_member_name (b, "n_train");
      json_builder_add_int_value (b, v->n_train);
      json_builder_set_member_name (b, "n_test");
      json_builder_add_int_value (b, v->n_test);
      add_number (b, "norm", v->norm);
      add_stat (b, "train", v->train);
      add_stat (b, "test", v->test);
      add_stat (b, "random", v->random);
      json_builder_set_member_name (b, "shuffled");
      json_builder_begin_object (b);
      add_stat (b, "train", v->shuffled_train);
      add_stat (b, "test", v->shuffled_test);
      add_stat (b, "random", v->shuffled_random);
      json_builder_end_object (b);
      add_number (b, "cos_child_minus_parent_parent", v->cos_parent);
      add_number (b, "cos_child_minus_parent_parent_minus_grandparent", v->cos_grandparent);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "cosine_order");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    json_builder_add_string_value (b, cs_category_set_get (cats, i)->name);
  json_builder_end_array (b);
  for (int k = 0; k < 2; k++)
    {
      json_builder_set_member_name (b, k ? "cosine_shuffled" : "cosine");
      json_builder_begin_array (b);
      for (guint i = 0; i < n; i++)
        {
          json_builder_begin_array (b);
          for (guint j = 0; j < n; j++)
            {
              double c = (k ? g->cos_shuffled : g->cos)[i * n + j];
              if (isfinite (c))
                json_builder_add_double_value (b, c);
              else
                json_builder_add_null_value (b);
            }
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

typedef struct
{
  gboolean estimating;
} RunProgress;

/* The run's two halves as the CLI's two progress lines. */
static void
run_progress (double fraction, gpointer data)
{
  RunProgress *rp = data;
  if (fraction < 0.5)
    cs_cli_progress (fraction * 2, "whitening");
  else
    {
      if (!rp->estimating)
        {
          cs_cli_progress_done ();
          rp->estimating = TRUE;
        }
      cs_cli_progress ((fraction - 0.5) * 2, "estimating the categories");
    }
}

int
cs_cli_geometry (int argc, char **argv)
{
  CsGeometryParams params;
  g_autofree char *wordnet = NULL, *hierarchy = NULL, *categories = NULL, *output = NULL, *device_s = NULL;
  g_autofree char *pos_s = NULL;
  double train_fraction;
  int seed, min_tokens, depth;
  gboolean json = FALSE, plurals = FALSE, no_cache = FALSE, wordnet_all = FALSE;
  const char *whitening_from = "computed";
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "wordnet", 0, 0, G_OPTION_ARG_FILENAME, &wordnet, "WordNet 3.0 database folder (data.noun …)", "DIR" },
    { "hierarchy", 0, 0, G_OPTION_ARG_STRING, &hierarchy, "animal (default), plant, or a root synset such as bird.n.01", "H" },
    { "depth", 0, 0, G_OPTION_ARG_INT, &depth, "Levels below a root synset that become categories (1)", "N" },
    { "categories", 0, 0, G_OPTION_ARG_FILENAME, &categories, "Your own categories (JSON) instead of WordNet", "FILE" },
    { "wordnet-all", 0, 0, G_OPTION_ARG_NONE, &wordnet_all, "Every WordNet noun synset with --min-tokens tokens or more (default: 50 for 256,000 tokens, in proportion to the vocabulary, within 10 … 50)", NULL },
    { "pos", 0, 0, G_OPTION_ARG_STRING, &pos_s, "--wordnet-all: noun (default), verb or both", "POS" },
    { "train-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &train_fraction, "Fraction of each category's tokens used to estimate (0.7)", "F" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed of the train/test split and baselines (0)", "N" },
    { "min-tokens", 0, 0, G_OPTION_ARG_INT, &min_tokens, "Categories with fewer tokens are flagged unreliable (10)", "N" },
    { "plurals", 0, 0, G_OPTION_ARG_NONE, &plurals, "Also match simple plural forms", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The workspace file to write", "WORKSPACE.h5" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    { "no-cache", 0, 0, G_OPTION_ARG_NONE, &no_cache, "Whiten again instead of reading the whitening from the user's cache (shared with the application)", NULL },
    CS_CLI_DEVICE_OPTION (device_s),
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[MODEL] --output WORKSPACE.h5 — category vectors (Park et al. 2024)");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsGeometrySpace) space = NULL;
  g_autoptr(CsGeometryRun) run = NULL;
  g_autofree char *path = NULL;
  RunProgress rp = { FALSE };

  /* the options start from the engine's defaults */
  cs_geometry_params_init (&params);
  train_fraction = params.train_fraction;
  seed = (int) params.seed;
  min_tokens = -1;   /* not given: the engine's default, or the whole-WordNet mode's */
  depth = params.categories.depth;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!cs_cli_device ("geometry", device_s, &params.device))
    return 2;
  if (!output || (rest && g_strv_length (rest) > 1) || (!!hierarchy + !!categories + !!wordnet_all) > 1)
    {
      fprintf (stderr, "conceptscope-cli geometry: give [MODEL] --output WORKSPACE.h5, and one of --hierarchy, "
                       "--categories or --wordnet-all\n");
      return 2;
    }
  if (pos_s)
    {
      params.categories.pos = cs_wordnet_pos_parse (pos_s);
      if (!params.categories.pos || !wordnet_all)
        {
          fprintf (stderr, "conceptscope-cli geometry: --pos is noun, verb or both, with --wordnet-all\n");
          return 2;
        }
    }
  if (hierarchy)
    params.hierarchy = hierarchy;
  params.wordnet_dir = wordnet;
  params.categories_json = categories;
  params.train_fraction = train_fraction;
  params.seed = (guint) seed;
  if (min_tokens >= 0)
    params.categories.min_tokens = min_tokens;
  params.categories.plurals = plurals;
  params.categories.depth = depth;
  params.use_cache = !no_cache;

  model = cs_cli_open_model (rest, &path, NULL, &error);
  if (!model)
    return cs_cli_fail (g_steal_pointer (&error));
  params.wordnet_all = wordnet_all;
  if (wordnet_all && min_tokens < 0)
    {
      /* not given: in proportion to the vocabulary, and said */
      params.categories.min_tokens = cs_geometry_wordnet_all_min_tokens (cs_model_get_config (model)->vocab);
      if (!json)
        fprintf (stderr, "every WordNet %s synset with %d or more tokens (for a vocabulary of %" G_GINT64_FORMAT
                 "; --min-tokens sets another)\n",
                 params.categories.pos == CS_WORDNET_VERBS  ? "verb"
                 : params.categories.pos == CS_WORDNET_BOTH ? "noun and verb" : "noun",
                 params.categories.min_tokens, (gint64) cs_model_get_config (model)->vocab);
    }

  /* A workspace made from the same weights keeps the whitening. */
  {
    g_autoptr(CsWorkspace) old = g_file_test (output, G_FILE_TEST_EXISTS) ? cs_workspace_load (output, NULL) : NULL;
    const CsTensor *u = cs_model_get_unembedding (model);
    if (old && g_strcmp0 (old->model_identity, cs_model_get_identity (model)) == 0 &&
        old->d == (int) u->shape[1])
      {
        space = cs_geometry_space_new_from (u, old->mean, old->inv_sqrt, old->n_floored);
        whitening_from = "workspace";
        if (!json)
          fprintf (stderr, "reusing the whitening cached in %s\n", output);
      }
  }
  if (!space && isatty (STDERR_FILENO))
    {
      const CsTensor *u = cs_model_get_unembedding (model);
      fprintf (stderr, "whitening the %" G_GINT64_FORMAT " × %" G_GINT64_FORMAT " unembedding (or reading it from the cache)…\n",
               u->shape[0], u->shape[1]);
    }
  run = cs_geometry_run (model, &params, space, run_progress, &rp, cs_cli_cancellable (), &error);
  cs_cli_progress_done ();
  if (!run)
    return cs_cli_fail_or_cancel (g_steal_pointer (&error));
  if (!space && run->whitening_cached)
    {
      whitening_from = "cache";
      if (!json)
        fprintf (stderr, "reusing the whitening from the cache (--no-cache computes it again)\n");
    }
  if (run->space->n_floored > 0)
    fprintf (stderr, "note: %d eigenvalue%s of the unembedding's covariance were tiny and raised to the floor\n",
             run->space->n_floored, run->space->n_floored == 1 ? "" : "s");
  if (!cs_workspace_save (output, model, run->space, run->geometry, run->description, &error))
    return cs_cli_fail (g_steal_pointer (&error));

  if (json)
    {
      g_autoptr(JsonNode) root = cs_cli_geometry_json (run->geometry, run->description, run->space->n_floored);
      JsonObject *o = json_node_get_object (root), *secs = json_object_new ();
      json_object_set_string_member (o, "whitening_from", whitening_from);
      json_object_set_double_member (secs, "whitening", run->whitening_seconds);
      json_object_set_double_member (secs, "estimation", run->estimation_seconds);
      json_object_set_object_member (o, "seconds", secs);
      cs_cli_print_json (root);
    }
  else
    {
      CsGeometry *geometry = run->geometry;
      CsCategorySet *c = geometry->categories;
      printf ("%-18s %7s %8s %7s %14s %14s %14s %9s\n", "category", "tokens", "reliable", "norm",
              "train", "held-out", "random", "cos(c-p,p)");
      for (guint i = 0; i < c->items->len; i++)
        {
          CsCategory *cat = cs_category_set_get (c, i);
          CsCategoryVector *v = &geometry->vectors[i];
          printf ("%-18s %7u %8s %7.3f %6.3f ± %5.3f %6.3f ± %5.3f %6.3f ± %5.3f %9.3f\n", cat->name,
                  cat->tokens->len, cat->reliable ? "yes" : "NO", v->norm, v->train.mean, v->train.std,
                  v->test.mean, v->test.std, v->random.mean, v->random.std, v->cos_parent);
        }
      printf ("wrote %s\n", output);
    }
  return 0;
}
