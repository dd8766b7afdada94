#define G_LOG_DOMAIN "conceptscope-cli"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "cs-error.h"

#include "cs-cli-commands.h"
#include "cs-fv.h"
#include "cs-steer.h"
#include "cs-workspace.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

static void
add_ids (JsonBuilder *b, const char *name, GPtrArray *list)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    {
      GArray *a = g_ptr_array_index (list, i);
      json_builder_begin_array (b);
      for (guint t = 0; t < a->len; t++)
        json_builder_add_int_value (b, g_array_index (a, gint32, t));
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
}

static void
add_doubles (JsonBuilder *b, const char *name, const double *v, int n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    json_builder_add_double_value (b, v[i]);
  json_builder_end_array (b);
}

static JsonNode *
result_json (const CsFvResult *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  cs_fv_result_add_summary (r, b);
  json_builder_set_member_name (b, "seconds");
  json_builder_add_double_value (b, r->seconds);
  add_doubles (b, "layer_prob", r->layer_prob, r->n_layers);
  add_doubles (b, "layer_acc", r->layer_acc, r->n_layers);
  json_builder_set_member_name (b, "aie");
  json_builder_begin_array (b);
  for (int l = 0; l < r->n_layers; l++)
    {
      json_builder_begin_array (b);
      for (int h = 0; h < r->n_heads; h++)
        json_builder_add_double_value (b, r->aie[(gsize) l * r->n_heads + h]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "heads");
  json_builder_begin_array (b);
  for (int k = 0; k < r->k; k++)
    {
      json_builder_begin_array (b);
      json_builder_add_int_value (b, r->top_layer[k]);
      json_builder_add_int_value (b, r->top_head[k]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "vector");
  json_builder_begin_array (b);
  for (int j = 0; j < r->hidden; j++)
    json_builder_add_double_value (b, r->vector[j]);
  json_builder_end_array (b);
  if (r->clean_ids)
    {
      add_ids (b, "clean_ids", r->clean_ids);
      add_ids (b, "shuffled_ids", r->shuffled_ids);
      add_ids (b, "eval_ids", r->eval_ids);
      json_builder_set_member_name (b, "answers");
      json_builder_begin_array (b);
      for (int p = 0; p < r->n_prompts; p++)
        json_builder_add_int_value (b, r->answers[p]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "eval_answers");
      json_builder_begin_array (b);
      for (int e = 0; e < r->n_eval; e++)
        json_builder_add_int_value (b, r->eval_answers[e]);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static double
cosine_f (const float *a, const double *b, const float *bf, int d)
{
  double ab = 0, aa = 0, bb = 0;
  for (int j = 0; j < d; j++)
    {
      double y = b ? b[j] : bf[j];
      ab += a[j] * y;
      aa += (double) a[j] * a[j];
      bb += y * y;
    }
  return aa > 0 && bb > 0 ? ab / sqrt (aa * bb) : NAN;
}

typedef struct
{
  GPtrArray *names;   /* char * */
  GArray    *cos;     /* double */
} Cosines;

/* The vector against what a workspace holds: each estimated category's
 * concept direction in the residual stream (Cov^½ ℓ̄, as concept steering
 * adds it) and each layer's steering vector. */
static gboolean
workspace_cosines (const CsFvResult *r, const char *path, Cosines *c, GError **error)
{
  g_autoptr(CsWorkspace) ws = cs_workspace_load (path, error);
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsGeometrySpace) space = NULL;
  g_autoptr(CsSteerReport) rep = NULL;

  if (!ws)
    return FALSE;
  if (ws->geometry)
    {
      CsCategorySet *cats = ws->geometry->categories;
      if (!(space = cs_cli_workspace_space (ws, &model, error)))
        return FALSE;
      if (space->d != r->hidden)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%s belongs to a model of hidden size %d, not %d", path,
                       space->d, r->hidden);
          return FALSE;
        }
      for (guint i = 0; i < cats->items->len; i++)
        {
          CsCategory *cat = cs_category_set_get (cats, i);
          g_autofree double *v = NULL;
          double x;
          if (!ws->geometry->vectors[i].estimated || !cat->reliable)
            continue;
          if (!(v = cs_steer_concept_vector (space, ws->geometry, cat->name, NULL, NULL, NULL, NULL)))
            continue;
          x = cosine_f (r->vector, v, NULL, r->hidden);
          g_ptr_array_add (c->names, g_strdup_printf ("concept %s", cat->name));
          g_array_append_val (c->cos, x);
        }
    }
  if ((rep = cs_steer_report_load (path, NULL)) && rep->d == r->hidden)
    for (int l = 0; l < rep->n_layers; l++)
      {
        double x = cosine_f (r->vector, NULL, rep->vectors + (gsize) l * rep->d, r->hidden);
        g_ptr_array_add (c->names, g_strdup_printf ("steering vector, layer %d", l));
        g_array_append_val (c->cos, x);
      }
  if (c->names->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s holds neither concept vectors nor steering vectors", path);
      return FALSE;
    }
  return TRUE;
}

int
cs_cli_fv (int argc, char **argv)
{
  g_autofree char *task_s = NULL, *output = NULL, *device_s = NULL, *workspace = NULL;
  Cosines cos = { g_ptr_array_new_with_free_func (g_free), g_array_new (FALSE, FALSE, sizeof (double)) };
  gboolean json = FALSE;
  CsFvParams p;
  int shots, prompts, heads, n_eval, seed;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "task", 0, 0, G_OPTION_ARG_STRING, &task_s, "antonym, hypernym, plural (shipped, from WordNet) or a JSON file {\"pairs\": [[x, y], …]}", "TASK" },
    { "shots", 0, 0, G_OPTION_ARG_INT, &shots, "Demonstrations per in-context prompt (10)", "N" },
    { "prompts", 0, 0, G_OPTION_ARG_INT, &prompts, "In-context prompts (25)", "N" },
    { "heads", 0, 0, G_OPTION_ARG_INT, &heads, "Heads summed into the vector (10)", "K" },
    { "eval", 0, 0, G_OPTION_ARG_INT, &n_eval, "Held-out zero-shot queries (50)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed of the prompts and the split (0)", "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Save into this workspace (/function_vector)", "WS.h5" },
    { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, &workspace, "Compare the vector with this workspace's concept vectors (Cov^½ ℓ̄) and steering vectors", "WS.h5" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON (with the prompts' token ids)", NULL },
    CS_CLI_DEVICE_OPTION (device_s),
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[MODEL] --task TASK — a function vector: the heads that carry a task, their sum, and what it does");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsFvTask) task = NULL;
  g_autoptr(CsFvResult) r = NULL;
  CsTokenizer *tok = NULL;

  cs_fv_params_init (&p);
  shots = p.shots;
  prompts = p.n_prompts;
  heads = p.heads;
  n_eval = p.n_eval;
  seed = (int) p.seed;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!cs_cli_device ("fv", device_s, &p.device))
    return 2;
  if (!task_s || (rest && g_strv_length (rest) > 1) || shots < 1 || prompts < 1 || prompts > 1024 || heads < 1 ||
      n_eval < 1 || seed < 0)
    {
      fprintf (stderr, "conceptscope-cli fv: give [MODEL] --task antonym|hypernym|plural|FILE.json; --shots, --prompts "
                       "(at most 1024), --heads and --eval are positive\n");
      return 2;
    }
  p.shots = shots;
  p.n_prompts = prompts;
  p.heads = heads;
  p.n_eval = n_eval;
  p.seed = (guint) seed;
  if (!(task = cs_fv_task_load (task_s, &error)))
    return cs_cli_fail (g_steal_pointer (&error));
  model = cs_cli_open_model (rest, NULL, &tok, &error);
  if (!model)
    return cs_cli_fail (g_steal_pointer (&error));
  r = cs_fv_run (model, tok, task, &p, isatty (STDERR_FILENO) ? cs_cli_progress : NULL, (gpointer) "function vector",
                 cs_cli_cancellable (), &error);
  cs_cli_progress_done ();
  cs_tokenizer_free (tok);
  if (!r)
    return cs_cli_fail_or_cancel (g_steal_pointer (&error));
  if (output && !cs_fv_result_save (r, output, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (workspace && !workspace_cosines (r, workspace, &cos, &error))
    {
      g_ptr_array_unref (cos.names);
      g_array_unref (cos.cos);
      return cs_cli_fail (g_steal_pointer (&error));
    }
  if (json)
    {
      g_autoptr(JsonNode) node = result_json (r);
      JsonObject *o = json_node_get_object (node);
      if (workspace)
        {
          JsonObject *co = json_object_new ();
          for (guint i = 0; i < cos.names->len; i++)
            json_object_set_double_member (co, g_ptr_array_index (cos.names, i), g_array_index (cos.cos, double, i));
          json_object_set_object_member (o, "cosines", co);
        }
      cs_cli_print_json (node);
      g_ptr_array_unref (cos.names);
      g_array_unref (cos.cos);
      return 0;
    }
  printf ("task %s: %d prompts of %d demonstrations, %d zero-shot queries (%.1f s)\n", r->task, r->n_prompts, r->shots,
          r->n_eval, r->seconds);
  printf ("in context: p(answer) %.3f, top-1 %.2f; shuffled answers: %.3f, %.2f\n", r->icl_prob, r->icl_acc,
          r->shuffled_prob, r->shuffled_acc);
  printf ("heads (layer.head, average indirect effect):");
  for (int k = 0; k < r->k; k++)
    printf (" %d.%d %+.4f", r->top_layer[k], r->top_head[k],
            r->aie[(gsize) r->top_layer[k] * r->n_heads + r->top_head[k]]);
  printf ("\nzero-shot: p(answer) %.4f, top-1 %.2f; with the vector after layer L:\n", r->zs_prob, r->zs_acc);
  for (int l = 0; l < r->n_layers; l++)
    printf ("  layer %d: p %.4f, top-1 %.2f%s\n", l, r->layer_prob[l], r->layer_acc[l],
            l == r->best_layer ? "  (best)" : "");
  for (guint i = 0; i < cos.names->len; i++)
    printf ("cos with %s: %+.3f\n", (const char *) g_ptr_array_index (cos.names, i), g_array_index (cos.cos, double, i));
  g_ptr_array_unref (cos.names);
  g_array_unref (cos.cos);
  if (output)
    printf ("wrote %s\n", output);
  return 0;
}
