#define G_LOG_DOMAIN "conceptscope-cli"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "cs-cli-commands.h"
#include "cs-model.h"
#include "cs-patch.h"
#include "cs-tokenizer.h"

static JsonNode *
result_json (const CsPatchResult *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "target");
  json_builder_add_string_value (b, cs_patch_target_name (r->target));
  json_builder_set_member_name (b, "metric");
  json_builder_add_string_value (b, r->metric == CS_PATCH_PROB ? "prob" : "logit_diff");
  json_builder_set_member_name (b, "direction");
  json_builder_add_string_value (b, r->noising ? "noising" : "denoising");
  json_builder_set_member_name (b, "answer_id");
  json_builder_add_int_value (b, r->answer_id);
  json_builder_set_member_name (b, "wrong_id");
  json_builder_add_int_value (b, r->wrong_id);
  json_builder_set_member_name (b, "clean_metric");
  json_builder_add_double_value (b, r->clean_metric);
  json_builder_set_member_name (b, "corrupted_metric");
  json_builder_add_double_value (b, r->corrupted_metric);
  json_builder_set_member_name (b, "tokens");
  json_builder_begin_array (b);
  for (int t = 0; t < r->n_tokens; t++)
    json_builder_add_string_value (b, r->corrupted_tokens[t]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "columns");
  json_builder_begin_array (b);
  for (int c = 0; c < r->n_cols; c++)
    json_builder_add_string_value (b, r->col_labels[c]);
  json_builder_end_array (b);
  for (int k = 0; k < 2; k++)
    {
      json_builder_set_member_name (b, k ? "raw" : "values");
      json_builder_begin_array (b);
      for (int l = 0; l < r->n_layers; l++)
        {
          json_builder_begin_array (b);
          for (int c = 0; c < r->n_cols; c++)
            {
              double v = (k ? r->raw : r->values)[(gsize) l * r->n_cols + c];
              if (isfinite (v))
                json_builder_add_double_value (b, v);
              else
                json_builder_add_null_value (b);   /* a position without a counterpart */
            }
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
    }
  json_builder_set_member_name (b, "patched_runs");
  json_builder_add_int_value (b, r->n_runs);
  json_builder_set_member_name (b, "seconds");
  json_builder_add_double_value (b, r->seconds);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

int
cs_cli_patch (int argc, char **argv)
{
  g_autofree char *clean = NULL, *corrupted = NULL, *answer = NULL, *wrong = NULL, *target_s = NULL;
  g_autofree char *metric_s = NULL, *output = NULL, *device_s = NULL;
  gboolean json = FALSE, noising = FALSE, last = FALSE;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "clean", 0, 0, G_OPTION_ARG_STRING, &clean, "The prompt that shows the behaviour", "TEXT" },
    { "corrupted", 0, 0, G_OPTION_ARG_STRING, &corrupted, "The same prompt with a change that removes it (as many tokens)", "TEXT" },
    { "answer", 0, 0, G_OPTION_ARG_STRING, &answer, "The clean prompt's answer: one token (a leading space is tried first)", "TOK" },
    { "wrong", 0, 0, G_OPTION_ARG_STRING, &wrong, "The corrupted prompt's answer, for the logit difference", "TOK" },
    { "target", 0, 0, G_OPTION_ARG_STRING, &target_s, "resid_pre (default), resid_post, attn_out, mlp_out (layer × position) or heads (layer × head)", "T" },
    { "metric", 0, 0, G_OPTION_ARG_STRING, &metric_s, "logit-diff (default) or prob", "M" },
    { "noising", 0, 0, G_OPTION_ARG_NONE, &noising, "Put the corrupted activation into the clean run (default: the clean one into the corrupted run)", NULL },
    { "last", 0, 0, G_OPTION_ARG_NONE, &last, "heads: patch at the last position only (default: every position)", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Save into this workspace (/patching)", "WS.h5" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    CS_CLI_DEVICE_OPTION (device_s),
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (
    "[MODEL] --clean TEXT --corrupted TEXT --answer TOK --wrong TOK — activation patching: where a behaviour lives");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsPatchResult) r = NULL;
  CsTokenizer *tok = NULL;
  CsPatchParams p;

  cs_patch_params_init (&p);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!cs_cli_device ("patch", device_s, &p.device))
    return 2;
  if (!clean || !corrupted || !answer || (rest && g_strv_length (rest) > 1) ||
      (target_s && !cs_patch_target_parse (target_s, &p.target)) ||
      (metric_s && !g_str_equal (metric_s, "logit-diff") && !g_str_equal (metric_s, "prob")))
    {
      fprintf (stderr, "conceptscope-cli patch: give [MODEL] --clean TEXT --corrupted TEXT --answer TOK [--wrong TOK]; "
                       "--target is resid_pre, resid_post, attn_out, mlp_out or heads; --metric logit-diff or prob\n");
      return 2;
    }
  p.metric = metric_s && g_str_equal (metric_s, "prob") ? CS_PATCH_PROB : CS_PATCH_LOGIT_DIFF;
  if (p.metric == CS_PATCH_LOGIT_DIFF && !wrong)
    {
      fprintf (stderr, "conceptscope-cli patch: the logit difference needs --wrong TOK (or use --metric prob)\n");
      return 2;
    }
  p.clean = clean;
  p.corrupted = corrupted;
  p.answer = answer;
  p.wrong = wrong;
  p.noising = noising;
  p.heads_last = last;
  model = cs_cli_open_model (rest, NULL, &tok, &error);
  if (!model)
    return cs_cli_fail (g_steal_pointer (&error));
  r = cs_patch_run (model, tok, &p, isatty (STDERR_FILENO) ? cs_cli_progress : NULL, (gpointer) "patching",
                    cs_cli_cancellable (), &error);
  cs_cli_progress_done ();
  cs_tokenizer_free (tok);
  if (!r)
    return cs_cli_fail_or_cancel (g_steal_pointer (&error));
  if (output && !cs_patch_result_save (r, output, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (json)
    {
      g_autoptr(JsonNode) node = result_json (r);
      cs_cli_print_json (node);
      return 0;
    }
  printf ("%s patching of %s, %s: clean %.4f, corrupted %.4f (%d patched runs, %.2f s)\n",
          r->noising ? "noising" : "denoising", cs_patch_target_name (r->target),
          r->metric == CS_PATCH_PROB ? "p(answer)" : "logit difference", r->clean_metric, r->corrupted_metric,
          r->n_runs, r->seconds);
  printf ("%-7s", "layer");
  for (int c = 0; c < r->n_cols; c++)
    printf (" %8.8s", r->col_labels[c]);
  printf ("\n");
  for (int l = 0; l < r->n_layers; l++)
    {
      printf ("%-7d", l);
      for (int c = 0; c < r->n_cols; c++)
        printf (" %8.3f", r->values[(gsize) l * r->n_cols + c]);
      printf ("\n");
    }
  if (output)
    printf ("wrote %s\n", output);
  return 0;
}
