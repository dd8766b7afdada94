#define G_LOG_DOMAIN "conceptscope-cli"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs-categories.h"
#include "cs-cli-commands.h"
#include "cs-error.h"
#include "cs-model.h"
#include "cs-sae.h"
#include "cs-steer.h"
#include "cs-tokenizer.h"
#include "cs-wordnet.h"
#include "cs-workspace.h"

/* A dataset path, or the name of one shipped in data/steering. */
static char *
resolve_dataset (const char *arg)
{
  char *shipped = g_file_test (arg, G_FILE_TEST_EXISTS) ? NULL : cs_steer_shipped_dataset (arg);
  return shipped ? shipped : g_strdup (arg);
}

int
cs_cli_steer (int argc, char **argv)
{
  g_autofree char *dataset = NULL, *layers_s = NULL, *position_s = NULL, *mult_s = NULL, *sae_dir = NULL;
  g_autofree char *saes_dir = NULL;
  g_auto(GStrv) variants = NULL;
  g_autoptr(CsSaeSet) saes = NULL;
  g_autofree char *concept = NULL;
  g_autofree char *targets = NULL, *workspace = NULL, *output = NULL, *device_s = NULL, *gen_prompt = NULL, *gen_file = NULL;
  CsSteerRun dflt;   /* the engine's defaults: the one place they are set */
  cs_steer_run_init (&dflt);
  double held_out = dflt.held_out, eff_mult = dflt.effects_multiplier, temperature = dflt.temperature;
  int eff_layer = dflt.effects_layer, top_k = dflt.top_k, gen_tokens = dflt.gen_tokens, seed = (int) dflt.seed;
  gboolean json = FALSE, normalise = dflt.normalise;
  int steer_from = dflt.steer_from;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "dataset", 'd', 0, G_OPTION_ARG_FILENAME, &dataset, "Pairs (JSON), or a shipped set: animal-vs-plant, mammal-vs-bird, animal-or-plant-ab", "FILE" },
    { "layers", 'l', 0, G_OPTION_ARG_STRING, &layers_s, "Layers to sweep: all (default), 0-3 or 1,2", "L" },
    { "position", 0, 0, G_OPTION_ARG_STRING, &position_s, "last (default) or answer (A/B items)", "P" },
    { "multipliers", 'm', 0, G_OPTION_ARG_STRING, &mult_s, "Multipliers (" CS_STEER_DEFAULT_MULTIPLIERS ")", "M1,M2" },
    { "held-out", 0, 0, G_OPTION_ARG_DOUBLE, &held_out, "Share of pairs kept out of the vector and measured (0.5)", "F" },
    { "targets", 't', 0, G_OPTION_ARG_STRING, &targets, "Plain pairs: the category whose tokens' probability is the behaviour (from --workspace, else WordNet)", "CATEGORY" },
    { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, &workspace, "Concept vectors for the effects and cosines", "WS.h5" },
    { "concept", 0, 0, G_OPTION_ARG_STRING, &concept, "Steer with a concept of --workspace instead of the pairs' vector: NAME (Cov^½ ℓ̄_NAME) or A-B (Cov^½ (ℓ̄_A − ℓ̄_B)); the pairs give the prompts", "SPEC" },
    { "sae", 0, 0, G_OPTION_ARG_FILENAME, &sae_dir, "An SAELens folder: SAE features downstream and the vector's decomposition", "DIR" },
    { "saes", 0, 0, G_OPTION_ARG_FILENAME, &saes_dir, "A folder of SAEs for several layers (a SAELens release, a Gemma Scope tree): SAE features at every later layer that has one", "DIR" },
    { "sae-variant", 0, 0, G_OPTION_ARG_STRING_ARRAY, &variants, "With --saes: the SAE of layer L (repeatable; default: the first width, the L0 nearest 100)", "L=VARIANT" },
    { "effects-layer", 0, 0, G_OPTION_ARG_INT, &eff_layer, "Layer for the downstream effects (default: the earliest swept layer moving the behaviour ≥ 90 % as much as the best)", "L" },
    { "effects-multiplier", 0, 0, G_OPTION_ARG_DOUBLE, &eff_mult, "Multiplier for them (default: the largest)", "M" },
    { "from", 0, 0, G_OPTION_ARG_INT, &steer_from, "Add the vector from this token position on (0: every position)", "N" },
    { "normalise", 0, 0, G_OPTION_ARG_NONE, &normalise, "Scale each layer's vector to that layer's mean residual norm (multiplier 1 = one typical norm)", NULL },
    { "top-k", 'k', 0, G_OPTION_ARG_INT, &top_k, "Features of each kind in the effects (8)", "K" },
    { "generate", 'g', 0, G_OPTION_ARG_STRING, &gen_prompt, "Continue this prompt under each multiplier at the effects layer", "PROMPT" },
    { "text-file", 'f', 0, G_OPTION_ARG_FILENAME, &gen_file, "Read the prompt to continue from FILE ('-': standard input)", "FILE" },
    { "tokens", 0, 0, G_OPTION_ARG_INT, &gen_tokens, "New tokens per continuation (20)", "N" },
    { "temperature", 0, 0, G_OPTION_ARG_DOUBLE, &temperature, "0 (default): the most probable token; above 0: sampling", "T" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Sampling seed (0)", "S" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "HDF5 file (a workspace gets a /steering group)", "OUT.h5" },
    CS_CLI_DEVICE_OPTION (device_s),
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[MODEL] --dataset FILE --output OUT.h5 — steering vectors from contrastive pairs, swept over layers and multipliers");
  g_autoptr(GError) error = NULL;
  g_autofree char *model_path = NULL, *ds_path = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsTokenizer) tok = NULL;
  g_autoptr(CsSteerDataset) ds = NULL;
  g_autoptr(CsWorkspace) ws = NULL;
  g_autoptr(CsModel) ws_model = NULL;
  g_autoptr(CsGeometrySpace) space = NULL;
  g_autoptr(CsSae) sae = NULL;
  g_autoptr(GArray) layers = NULL;
  g_autoptr(GArray) mults = NULL;
  g_autoptr(GArray) target_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(CsSteerReport) rep = NULL;
  CsSteerPosition position = dflt.position;
  CsDevice device = dflt.device;
  const CsModelConfig *cfg;
  int n_prompts;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!dataset || !output)
    {
      fprintf (stderr, "conceptscope-cli steer: give MODEL --dataset FILE --output OUT.h5\n");
      return 2;
    }
  if (gen_prompt && gen_file)
    {
      fprintf (stderr, "conceptscope-cli steer: give --generate PROMPT or --text-file FILE, not both\n");
      return 2;
    }
  if (gen_file && !(gen_prompt = cs_cli_read_text (gen_file, &error)))
    return cs_cli_fail (g_steal_pointer (&error));
  if (position_s && !g_str_equal (position_s, "last") && !g_str_equal (position_s, "answer"))
    {
      fprintf (stderr, "conceptscope-cli steer: --position is last or answer\n");
      return 2;
    }
  if (position_s && g_str_equal (position_s, "answer"))
    position = CS_STEER_POSITION_ANSWER;
  if (concept && !workspace)
    {
      fprintf (stderr, "conceptscope-cli steer: --concept names concept vectors of a workspace: give --workspace WS.h5\n");
      return 2;
    }
  if (!(held_out >= 0 && held_out < 1))
    {
      fprintf (stderr, "conceptscope-cli steer: --held-out is a share in [0, 1)\n");
      return 2;
    }
  if (device_s)
    {
      if (!cs_cli_device ("steer", device_s, &device))
        return 2;
    }
  model = cs_cli_open_model (rest, &model_path, NULL, &error);
  if (!model)
    return cs_cli_fail (g_steal_pointer (&error));
  cfg = cs_model_get_config (model);
  if (sae_dir)
    {
      sae = cs_sae_load (sae_dir, &error);
      if (!sae)
        return cs_cli_fail (g_steal_pointer (&error));
      if (sae->d_in != cfg->hidden)
        {
          fprintf (stderr, "conceptscope-cli steer: the SAE reads %d-dimensional activations, but %s has hidden size %d\n",
                   sae->d_in, cs_model_get_name (model), cfg->hidden);
          return 1;
        }
      if (sae->hook_layer < 0 || sae->hook_layer >= cfg->n_layers)
        {
          fprintf (stderr, "conceptscope-cli steer: the SAE's cfg.json does not name a layer of this model\n");
          return 1;
        }
    }
  if (saes_dir)
    {
      if (sae_dir)
        {
          fprintf (stderr, "conceptscope-cli steer: give --sae or --saes, not both\n");
          return 2;
        }
      if (!(saes = cs_sae_set_open (saes_dir, cfg->hidden, cfg->n_layers, (const char * const *) variants, &error)))
        return cs_cli_fail (g_steal_pointer (&error));
      for (guint i = 0; i < saes->chosen->len; i++)
        {
          CsSaeSetMember *m = g_ptr_array_index (saes->chosen, i);
          fprintf (stderr, "SAE at layer %d: %s (%s, %d features)\n", m->layer, m->variant, m->hook, m->d_sae);
        }
      for (guint i = 0; i < saes->skipped->len; i++)
        fprintf (stderr, "skipped %s\n", (const char *) saes->skipped->pdata[i]);
    }
  /* the SAE fits the model before its tokenizer is needed */
  tok = cs_cli_load_tokenizer (model_path, NULL, &error);
  if (!tok)
    return cs_cli_fail (g_steal_pointer (&error));
  ds_path = resolve_dataset (dataset);
  ds = cs_steer_dataset_load (ds_path, &error);
  if (!ds)
    return cs_cli_fail (g_steal_pointer (&error));
  if (!(layers = cs_steer_parse_layers (layers_s, cfg->n_layers, &error)) ||
      !(mults = cs_steer_parse_multipliers (mult_s ? mult_s : CS_STEER_DEFAULT_MULTIPLIERS, &error)))
    {
      g_prefix_error (&error, "--");
      return cs_cli_fail (g_steal_pointer (&error));
    }
  if (workspace)
    {
      ws = cs_workspace_load (workspace, &error);
      if (!ws)
        return cs_cli_fail (g_steal_pointer (&error));
      if (!ws->geometry)
        {
          fprintf (stderr, "conceptscope-cli steer: %s holds no concept vectors (make them with conceptscope-cli geometry)\n",
                   workspace);
          return 1;
        }
      space = cs_cli_workspace_space (ws, &ws_model, &error);
      if (!space)
        return cs_cli_fail (g_steal_pointer (&error));
      if (space->d != cfg->hidden)
        {
          fprintf (stderr, "conceptscope-cli steer: the workspace's model has hidden size %d, this one %d\n",
                   space->d, cfg->hidden);
          return 1;
        }
    }
  if (!ds->ab)
    {
      if (!targets)
        {
          fprintf (stderr, "conceptscope-cli steer: plain pairs are measured by the probability of a category's tokens: "
                           "give --targets CATEGORY (for example animal)\n");
          return 2;
        }
      g_array_unref (target_ids);
      target_ids = cs_steer_target_tokens (targets, ws ? ws->geometry : NULL, tok, &error);
      if (!target_ids)
        return cs_cli_fail (g_steal_pointer (&error));
    }

  {
    CsSteerRun run;
    cs_steer_run_init (&run);
    run.model = model;
    run.tok = tok;
    run.dataset = ds;
    run.dataset_name = ds_path;
    run.held_out = held_out;
    run.position = position;
    run.layers = (const int *) layers->data;
    run.n_layers = (int) layers->len;
    run.multipliers = (const double *) mults->data;
    run.n_mult = (int) mults->len;
    run.targets = (const gint32 *) target_ids->data;
    run.n_targets = (int) target_ids->len;
    run.targets_name = targets;
    run.space = space;
    run.geometry = ws ? ws->geometry : NULL;
    run.sae = sae;
    run.saes = saes;
    run.effects_layer = eff_layer;
    run.effects_multiplier = eff_mult;
    run.top_k = top_k;
    run.device = device;
    run.steer_from = steer_from;
    run.normalise = normalise;
    run.gen_prompt = gen_prompt;
    run.gen_tokens = gen_tokens;
    run.temperature = temperature;
    run.seed = (guint) seed;
    run.concept = concept;
    if (device == CS_DEVICE_CPU || !cs_backend_gpu_name (NULL))
      cs_cli_progress_hint ("on the CPU; a GPU runs such a sweep many times faster");
    rep = cs_steer_run (&run, cs_cli_progress, "steering", cs_cli_cancellable (), &error);
    cs_cli_progress_done ();
    if (!rep)
      return cs_cli_fail_or_cancel (g_steal_pointer (&error));
  }
  n_prompts = 0;
  for (guint i = 0; i < ds->pairs->len; i++)
    n_prompts += held_out > 0 ? cs_steer_is_held_out (i, held_out) : 1;
  if (!cs_steer_report_save (rep, output, &error))
    return cs_cli_fail (g_steal_pointer (&error));

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      const CsSteerSweep *sw = rep->sweep;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "dataset");
      json_builder_add_string_value (b, ds_path);
      json_builder_set_member_name (b, "ab");
      json_builder_add_boolean_value (b, ds->ab);
      json_builder_set_member_name (b, "pairs");
      json_builder_add_int_value (b, rep->n_pairs);
      json_builder_set_member_name (b, "prompts");
      json_builder_add_int_value (b, n_prompts);
      json_builder_set_member_name (b, "vector_norms");
      json_builder_begin_array (b);
      for (int l = 0; l < rep->n_layers; l++)
        json_builder_add_double_value (b, rep->norms[l]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "layers");
      json_builder_begin_array (b);
      for (int a = 0; a < sw->n_layers; a++)
        json_builder_add_int_value (b, sw->layers[a]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "multipliers");
      json_builder_begin_array (b);
      for (int m = 0; m < sw->n_mult; m++)
        json_builder_add_double_value (b, sw->multipliers[m]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "behaviour");
      json_builder_begin_array (b);
      for (int a = 0; a < sw->n_layers; a++)
        {
          json_builder_begin_array (b);
          for (int m = 0; m < sw->n_mult; m++)
            json_builder_add_double_value (b, sw->behaviour[a * sw->n_mult + m]);
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "best_layer");
      json_builder_add_int_value (b, cs_steer_sweep_best_layer (sw));
      json_builder_set_member_name (b, "sweep_seconds");
      json_builder_add_double_value (b, sw->seconds);
      json_builder_set_member_name (b, "sweep_tokens_per_second");
      json_builder_add_double_value (b, sw->tokens / MAX (1e-9, sw->seconds));
      json_builder_set_member_name (b, "effects");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "layer");
      json_builder_add_int_value (b, rep->effects->steer_layer);
      json_builder_set_member_name (b, "multiplier");
      json_builder_add_double_value (b, rep->effects->multiplier);
      json_builder_set_member_name (b, "rows");
      json_builder_begin_array (b);
      for (int r = 0; r < rep->effects->n_rows; r++)
        json_builder_add_int_value (b, rep->effects->row_layers[r]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "features");
      json_builder_begin_array (b);
      for (int c = 0; c < rep->effects->n_cols; c++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "label");
          json_builder_add_string_value (b, rep->effects->col_labels[c]);
          json_builder_set_member_name (b, "kind");
          json_builder_add_string_value (b, rep->effects->col_kind[c] == 0 ? "concept" :
                                            rep->effects->col_kind[c] == 1 ? "sae" : "token");
          json_builder_set_member_name (b, "index");
          json_builder_add_int_value (b, rep->effects->col_index[c]);
          if (rep->effects->col_kind[c] == 1)
            {
              json_builder_set_member_name (b, "layer");
              json_builder_add_int_value (b, rep->effects->col_layer ? rep->effects->col_layer[c] : rep->sae_layer);
            }
          json_builder_set_member_name (b, "change");
          json_builder_begin_array (b);
          for (int r = 0; r < rep->effects->n_rows; r++)
            {
              double val = rep->effects->values[r * rep->effects->n_cols + c];
              if (isfinite (val))
                json_builder_add_double_value (b, val);
              else
                json_builder_add_null_value (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      if (rep->svd)   /* none for a concept: it has no pairs' differences */
        {
          json_builder_set_member_name (b, "singular_values");
          json_builder_begin_array (b);
          for (int i = 0; i < rep->svd->n_values; i++)
            json_builder_add_double_value (b, rep->svd->values[i]);
          json_builder_end_array (b);
        }
      if (rep->n_concepts)
        {
          json_builder_set_member_name (b, "concept_cosines");
          json_builder_begin_object (b);
          for (int c = 0; c < rep->n_concepts; c++)
            {
              json_builder_set_member_name (b, rep->concept_names[c]);
              json_builder_begin_array (b);
              for (int l = 0; l < rep->n_layers; l++)
                {
                  double val = rep->concept_cos[l * rep->n_concepts + c];
                  if (isfinite (val))
                    json_builder_add_double_value (b, val);
                  else
                    json_builder_add_null_value (b);
                }
              json_builder_end_array (b);
            }
          json_builder_end_object (b);
        }
      if (rep->sae_k > 0)
        {
          /* every row: the vector at its layer, then its effect propagated to later layers */
          json_builder_set_member_name (b, "sae_decomposition");
          json_builder_begin_array (b);
          for (int row = 0; row < rep->sae_n; row++)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "layer");
              json_builder_add_int_value (b, rep->sae_layers[row]);
              json_builder_set_member_name (b, "of");
              json_builder_add_string_value (b, row == 0 ? "vector" : "propagated change");
              for (int part = 0; part < 2; part++)
                {
                  json_builder_set_member_name (b, part ? "decoder_cosine" : "encoder");
                  json_builder_begin_array (b);
                  for (int i = 0; i < 2 * rep->sae_k; i++)
                    {
                      gsize at = (gsize) row * 2 * rep->sae_k + i;
                      json_builder_begin_object (b);
                      json_builder_set_member_name (b, "feature");
                      json_builder_add_int_value (b, part ? rep->sae_dec_idx[at] : rep->sae_enc_idx[at]);
                      json_builder_set_member_name (b, "value");
                      json_builder_add_double_value (b, part ? rep->sae_dec_val[at] : rep->sae_enc_val[at]);
                      json_builder_end_object (b);
                    }
                  json_builder_end_array (b);
                }
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
        }
      if (rep->sae_k > 0)
        {
          json_builder_set_member_name (b, "sae_features");
          json_builder_begin_array (b);
          for (int i = 0; i < 2 * rep->sae_k; i++)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "feature");
              json_builder_add_int_value (b, rep->sae_enc_idx[i]);
              json_builder_set_member_name (b, "encoder");
              json_builder_add_double_value (b, rep->sae_enc_val[i]);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
        }
      if (rep->gen_prompt)
        {
          json_builder_set_member_name (b, "generations");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "prompt");
          json_builder_add_string_value (b, rep->gen_prompt);
          json_builder_set_member_name (b, "layer");
          json_builder_add_int_value (b, rep->gen_layer);
          json_builder_set_member_name (b, "continuations");
          json_builder_begin_array (b);
          for (int m = 0; m < rep->gen_n; m++)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "multiplier");
              json_builder_add_double_value (b, rep->gen_mult[m]);
              json_builder_set_member_name (b, "text");
              json_builder_add_string_value (b, rep->gen_texts[m]);
              json_builder_set_member_name (b, "ids");
              json_builder_begin_array (b);
              for (int t = 0; t < rep->gen_tokens && rep->gen_ids[(gsize) m * rep->gen_tokens + t] >= 0; t++)
                json_builder_add_int_value (b, rep->gen_ids[(gsize) m * rep->gen_tokens + t]);
              json_builder_end_array (b);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      if (rep->concept)
        {
          json_builder_set_member_name (b, "concept");
          json_builder_add_string_value (b, rep->concept);
        }
      if (rep->hier_n > 0)
        {
          json_builder_set_member_name (b, "hierarchy");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "layer");
          json_builder_add_int_value (b, rep->hier_layer);
          json_builder_set_member_name (b, "categories");
          json_builder_begin_array (b);
          for (int k = 0; k < rep->hier_n; k++)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "name");
              json_builder_add_string_value (b, rep->hier_names[k]);
              json_builder_set_member_name (b, "role");
              json_builder_add_string_value (b, rep->hier_roles[k]);
              json_builder_set_member_name (b, "log_mass_change");
              json_builder_begin_array (b);
              for (int m = 0; m < sw->n_mult; m++)
                json_builder_add_double_value (b, rep->hier_change[k * sw->n_mult + m]);
              json_builder_end_array (b);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      cs_cli_print_json (json_builder_get_root (b));
    }
  else
    {
      const CsSteerSweep *sw = rep->sweep;
      if (rep->concept)
        printf ("%s: steering with %s (Cov^½ applied), %d held-out prompts measured (%s)\n", ds_path, rep->concept,
                n_prompts, ds->ab ? "p(matching letter) / (p(A) + p(B))" : "probability of a target token");
      else
        printf ("%s: %d pairs for the vector, %d held-out prompts measured (%s)\n", ds_path, rep->n_pairs, n_prompts,
                ds->ab ? "p(matching letter) / (p(A) + p(B))" : "probability of a target token");
      printf ("%-8s", "layer");
      for (int m = 0; m < sw->n_mult; m++)
        printf (" %9g", sw->multipliers[m]);
      printf ("   ‖v‖\n");
      for (int a = 0; a < sw->n_layers; a++)
        {
          printf ("%-8d", sw->layers[a]);
          for (int m = 0; m < sw->n_mult; m++)
            printf (" %9.4f", sw->behaviour[a * sw->n_mult + m]);
          printf ("   %.3g\n", rep->norms[sw->layers[a]]);
        }
      {
        /* three significant figures: a large model on the CPU runs below one token a second */
        double tps = sw->tokens / MAX (1e-9, sw->seconds);
        printf ("moves most at layer %d; %.*f tokens/s over the sweep\n", cs_steer_sweep_best_layer (sw),
                tps >= 100 ? 0 : tps >= 10 ? 1 : tps >= 1 ? 2 : 3, tps);
      }
      printf ("downstream of %g × v at layer %d, each feature's largest change:", rep->effects->multiplier,
              rep->effects->steer_layer);
      for (int c = 0; c < MIN (6, rep->effects->n_cols); c++)
        {
          const CsSteerEffects *e = rep->effects;
          int br = 0;
          double bv = 0;
          for (int r = 0; r < e->n_rows; r++)
            {
              double val = e->values[r * e->n_cols + c];
              if (isfinite (val) && fabs (val) > fabs (bv))
                {
                  bv = val;
                  br = r;
                }
            }
          printf ("%s %s at layer %d %+.3g", c ? "," : "", e->col_labels[c], e->row_layers[br], bv);
        }
      printf ("\n");
      if (rep->hier_n > 0)
        {
          printf ("hierarchy check at layer %d: change of log(category mass) from multiplier 0\n", rep->hier_layer);
          printf ("%-24s", "category");
          for (int m = 0; m < sw->n_mult; m++)
            printf (" %9g", sw->multipliers[m]);
          printf ("\n");
          for (int k = 0; k < rep->hier_n; k++)
            {
              g_autofree char *label = g_strdup_printf ("%s (%s)", rep->hier_names[k], rep->hier_roles[k]);
              printf ("%-24s", label);
              for (int m = 0; m < sw->n_mult; m++)
                printf (" %+9.3f", rep->hier_change[k * sw->n_mult + m]);
              printf ("\n");
            }
        }
      if (rep->gen_prompt)
        {
          printf ("\"%s\" continued with m × v at layer %d:\n", rep->gen_prompt, rep->gen_layer);
          for (int m = 0; m < rep->gen_n; m++)
            printf ("  %+6g  …%s\n", rep->gen_mult[m], rep->gen_texts[m]);
        }
      printf ("wrote %s\n", output);
    }
  return 0;
}
