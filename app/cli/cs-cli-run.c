#define G_LOG_DOMAIN "conceptscope-cli"

#include <math.h>
#include <stdio.h>

#include "cs-cli-commands.h"
#include "cs-forward.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

typedef struct
{
  int    id;
  double p;
} Entry;

static int
compare_entry (const void *a, const void *b)
{
  const Entry *x = a, *y = b;
  return x->p < y->p ? 1 : x->p > y->p ? -1 : x->id - y->id;
}

int
cs_cli_run (int argc, char **argv)
{
  gboolean json = FALSE;
  char *prompt = NULL;
  int top_k = 10;
  g_auto(GStrv) rest = NULL;
  g_autofree char *device_s = NULL;
  gboolean fast = FALSE;
  g_autofree char *text_file = NULL;
  GOptionEntry entries[] = {
    { "prompt", 'p', 0, G_OPTION_ARG_STRING, &prompt, "The prompt", "TEXT" },
    { "text-file", 'f', 0, G_OPTION_ARG_FILENAME, &text_file, "Read the prompt from FILE ('-': standard input)", "FILE" },
    { "top-k", 'k', 0, G_OPTION_ARG_INT, &top_k, "How many next tokens to list (10)", "K" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    CS_CLI_DEVICE_OPTION (device_s),
    { "fast", 0, 0, G_OPTION_ARG_NONE, &fast, "GPU: TF32 / BF16 tensor cores instead of float32 products", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[MODEL] (--prompt TEXT | --text-file FILE) — the next-token distribution");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsTokenizer) tok = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(CsForwardResult) res = NULL;
  g_autofree char *path = NULL;
  g_autofree Entry *entries_sorted = NULL;
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  int len, V;
  double mx = -INFINITY, z = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!cs_cli_device ("run", device_s, &opt.device))
    return 2;
  opt.fast = fast;
  if (!prompt == !text_file || (rest && g_strv_length (rest) > 1) || top_k < 1)
    {
      fprintf (stderr, "conceptscope-cli run: give [MODEL] (--prompt TEXT | --text-file FILE) [--top-k K ≥ 1]\n");
      g_free (prompt);
      return 2;
    }
  if (text_file && !(prompt = cs_cli_read_text (text_file, &error)))
    return cs_cli_fail (g_steal_pointer (&error));
  model = cs_cli_open_model (rest, &path, &tok, &error);
  if (!model)
    return cs_cli_fail (g_steal_pointer (&error));
  ids = cs_tokenizer_encode (tok, prompt, TRUE, &error);
  g_free (prompt);
  if (!ids)
    return cs_cli_fail (g_steal_pointer (&error));
  if (ids->len == 0)
    {
      fprintf (stderr, "conceptscope-cli run: the prompt gives no tokens\n");
      return 2;
    }
  len = (int) ids->len;
  opt.logits = CS_LOGITS_LAST;
  {
    const gint32 *rows[1] = { (const gint32 *) ids->data };
    res = cs_forward_run (model, rows, &len, 1, &opt, NULL, &error);
  }
  if (!res)
    return cs_cli_fail (g_steal_pointer (&error));

  V = res->vocab;
  if (V <= 0)
    {
      fprintf (stderr, "conceptscope-cli run: the model has no vocabulary\n");
      return 1;
    }
  for (int v = 0; v < V; v++)
    mx = MAX (mx, res->logits[v]);
  entries_sorted = g_new (Entry, V);
  for (int v = 0; v < V; v++)
    {
      entries_sorted[v].id = v;
      entries_sorted[v].p = exp (res->logits[v] - mx);
      z += entries_sorted[v].p;
    }
  for (int v = 0; v < V; v++)
    entries_sorted[v].p /= z;
  qsort (entries_sorted, V, sizeof (Entry), compare_entry);
  top_k = MIN (top_k, V);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "prompt_ids");
      json_builder_begin_array (b);
      for (guint i = 0; i < ids->len; i++)
        json_builder_add_int_value (b, g_array_index (ids, gint32, i));
      json_builder_end_array (b);
      json_builder_set_member_name (b, "top");
      json_builder_begin_array (b);
      for (int i = 0; i < top_k; i++)
        {
          g_autofree char *t = cs_tokenizer_id_to_text (tok, entries_sorted[i].id);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "id");
          json_builder_add_int_value (b, entries_sorted[i].id);
          json_builder_set_member_name (b, "token");
          json_builder_add_string_value (b, t);
          json_builder_set_member_name (b, "probability");
          json_builder_add_double_value (b, entries_sorted[i].p);
          json_builder_set_member_name (b, "logit");
          json_builder_add_double_value (b, res->logits[entries_sorted[i].id]);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      cs_cli_print_json (root);
    }
  else
    for (int i = 0; i < top_k; i++)
      {
        g_autofree char *t = cs_tokenizer_id_to_text (tok, entries_sorted[i].id);
        g_autofree char *esc = g_strescape (t, NULL);
        printf ("%2d  %7.4f  %8d  \"%s\"\n", i + 1, entries_sorted[i].p, entries_sorted[i].id, esc);
      }
  return 0;
}
