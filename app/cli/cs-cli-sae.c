#define G_LOG_DOMAIN "conceptscope-cli"

#include <stdio.h>
#include <string.h>

#include "cs-cli-commands.h"
#include "cs-forward.h"
#include "cs-model.h"
#include "cs-hdf5.h"
#include "cs-sae.h"
#include "cs-sae-train.h"

#include <glib/gstdio.h>
#include "cs-tokenizer.h"

/* "blocks.L.hook_resid_post" → "resid_post.L" (likewise resid_pre). */
static char *
hook_to_capture (const CsSae *sae, GError **error)
{
  const char *h = sae->hook_name;
  int layer;
  char kind[32];

  if (h && sscanf (h, "blocks.%d.hook_%31s", &layer, kind) == 2
      && (strcmp (kind, "resid_post") == 0 || strcmp (kind, "resid_pre") == 0))
    return g_strdup_printf ("%s.%d", kind, layer);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "the SAE reads hook '%s'; only blocks.L.hook_resid_post and blocks.L.hook_resid_pre "
               "are supported (give --hook to choose one)", h ? h : "(none)");
  return NULL;
}

typedef struct
{
  int   id;
  float v;
} Feat;

static int
compare_feat (const void *a, const void *b)
{
  const Feat *x = a, *y = b;
  return x->v < y->v ? 1 : x->v > y->v ? -1 : x->id - y->id;
}

int
cs_cli_sae_encode (int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *prompt = NULL, *sae_dir = NULL, *hook = NULL, *text_file = NULL;
  int top_k = 5;
  g_auto(GStrv) rest = NULL;
  g_autofree char *device_s = NULL;
  GOptionEntry entries[] = {
    { "sae", 's', 0, G_OPTION_ARG_FILENAME, &sae_dir, "SAELens folder (cfg.json, sae_weights.safetensors)", "DIR" },
    { "prompt", 'p', 0, G_OPTION_ARG_STRING, &prompt, "The text to encode", "TEXT" },
    { "text-file", 'f', 0, G_OPTION_ARG_FILENAME, &text_file, "Read the text from FILE ('-': standard input)", "FILE" },
    { "hook", 0, 0, G_OPTION_ARG_STRING, &hook, "Where to read activations (default: the SAE's hook_name)", "resid_post.L" },
    { "top-k", 'k', 0, G_OPTION_ARG_INT, &top_k, "Features listed per token (5)", "K" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    CS_CLI_DEVICE_OPTION (device_s),
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx =
    g_option_context_new ("[MODEL] --sae DIR (--prompt TEXT | --text-file FILE) — SAE features of each token");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsTokenizer) tok = NULL;
  g_autoptr(CsSae) sae = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(CsForwardResult) res = NULL;
  g_autofree char *path = NULL, *capture = NULL;
  g_autofree float *f = NULL, *xr = NULL;
  g_autofree Feat *feats = NULL;
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  const float *x;
  const char *caps[2] = { NULL, NULL };
  int len, d, m;
  double err = 0, var = 0, l0 = 0;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!cs_cli_device ("sae encode", device_s, &opt.device))
    return 2;
  if (!prompt == !text_file || !sae_dir || (rest && g_strv_length (rest) > 1) || top_k < 1)
    {
      fprintf (stderr, "conceptscope-cli sae encode: give [MODEL] --sae DIR (--prompt TEXT | --text-file FILE) [--top-k K ≥ 1]\n");
      return 2;
    }
  if (text_file && !(prompt = cs_cli_read_text (text_file, &error)))
    return cs_cli_fail (g_steal_pointer (&error));
  sae = cs_sae_load (sae_dir, &error);
  if (!sae)
    return cs_cli_fail (g_steal_pointer (&error));
  if (sae->normalize_note)
    fprintf (stderr, "conceptscope-cli sae encode: note: %s\n", sae->normalize_note);
  model = cs_cli_open_model (rest, &path, NULL, &error);
  if (!model)
    return cs_cli_fail (g_steal_pointer (&error));
  d = cs_model_get_config (model)->hidden;
  if (sae->d_in != d)
    {
      fprintf (stderr, "conceptscope-cli sae encode: the SAE reads %d-dimensional activations, "
               "but %s has hidden size %d\n", sae->d_in, cs_model_get_name (model), d);
      return 1;
    }
  capture = hook ? g_strdup (hook) : hook_to_capture (sae, &error);
  if (!capture)
    return cs_cli_fail (g_steal_pointer (&error));
  if (!cs_forward_check_capture_name (model, capture, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  /* the model's shape is checked before its tokenizer is needed */
  tok = cs_cli_load_tokenizer (path, NULL, &error);
  if (!tok)
    return cs_cli_fail (g_steal_pointer (&error));
  ids = cs_tokenizer_encode (tok, prompt, TRUE, &error);
  if (!ids)
    return cs_cli_fail (g_steal_pointer (&error));
  if (ids->len == 0)
    {
      fprintf (stderr, "conceptscope-cli sae encode: the prompt gives no tokens\n");
      return 2;
    }
  len = (int) ids->len;
  caps[0] = capture;
  opt.capture = caps;
  opt.logits = CS_LOGITS_NONE;
  {
    const gint32 *rows[1] = { (const gint32 *) ids->data };
    res = cs_forward_run (model, rows, &len, 1, &opt, NULL, &error);
  }
  if (!res)
    return cs_cli_fail (g_steal_pointer (&error));
  x = cs_forward_result_get_capture (res, capture);

  m = sae->d_sae;
  f = g_new (float, (gsize) len * m);
  xr = g_new (float, (gsize) len * d);
  cs_sae_encode (sae, x, len, f);
  cs_sae_decode (sae, f, len, x, xr);
  /* Fraction of variance unexplained, as SAELens reports it: the
   * reconstruction's squared error over the squared deviation from the
   * mean activation of these tokens. */
  for (int j = 0; j < d; j++)
    {
      double mean = 0;
      for (int t = 0; t < len; t++)
        mean += x[(gsize) t * d + j];
      mean /= len;
      for (int t = 0; t < len; t++)
        {
          double e = x[(gsize) t * d + j] - xr[(gsize) t * d + j], v = x[(gsize) t * d + j] - mean;
          err += e * e;
          var += v * v;
        }
    }
  feats = g_new (Feat, m);
  top_k = MIN (top_k, m);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "hook");
  json_builder_add_string_value (b, capture);
  json_builder_set_member_name (b, "d_sae");
  json_builder_add_int_value (b, m);
  json_builder_set_member_name (b, "tokens");
  json_builder_begin_array (b);
  if (!json)
    printf ("%s, %d features, read at %s\n", sae_dir, m, capture);
  for (int t = 0; t < len; t++)
    {
      gint32 id = g_array_index (ids, gint32, t);
      g_autofree char *text = cs_tokenizer_id_to_text (tok, id);
      const float *ft = f + (gsize) t * m;
      int active = 0;

      for (int i = 0; i < m; i++)
        {
          feats[i].id = i;
          feats[i].v = ft[i];
          active += ft[i] > 0;
        }
      l0 += active;
      qsort (feats, m, sizeof (Feat), compare_feat);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, id);
      json_builder_set_member_name (b, "token");
      json_builder_add_string_value (b, text);
      json_builder_set_member_name (b, "l0");
      json_builder_add_int_value (b, active);
      json_builder_set_member_name (b, "top");
      json_builder_begin_array (b);
      if (!json)
        printf ("%3d %-16s L0 %4d  ", t, text, active);
      for (int k = 0; k < top_k && feats[k].v > 0; k++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "feature");
          json_builder_add_int_value (b, feats[k].id);
          json_builder_set_member_name (b, "activation");
          json_builder_add_double_value (b, feats[k].v);
          json_builder_end_object (b);
          if (!json)
            printf (" %5d:%.3f", feats[k].id, feats[k].v);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      if (!json)
        printf ("\n");
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "mean_l0");
  json_builder_add_double_value (b, l0 / len);
  json_builder_set_member_name (b, "fvu");
  json_builder_add_double_value (b, var > 0 ? err / var : 0.0);
  json_builder_end_object (b);
  if (json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      cs_cli_print_json (root);
    }
  else
    printf ("mean L0 %.1f, fraction of variance unexplained %.3f\n", l0 / len, var > 0 ? err / var : 0.0);
  return 0;
}

/* ---- sae train ---- */

static void
train_report (const CsSaeTrainStatus *st, gpointer data)
{
  gint64 *last = data;
  if (*last == 0)
    fprintf (stderr, "training on %s\n", st->backend);
  /* about twenty lines over the run, and the end */
  if (st->step != st->steps && st->step - *last < MAX (1, st->steps / 20))
    return;
  *last = st->step;
  fprintf (stderr, "epoch %d/%d, step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT ": loss %.4f, MSE %.4f, FVU %.3f, L0 %.1f\n",
           st->epoch, st->epochs, st->step, st->steps, st->loss, st->mse, st->fvu, st->l0);
}

static int
sae_train (int argc, char **argv)
{
  g_autofree char *prompts = NULL, *acts = NULL, *hook = NULL, *output = NULL, *device_s = NULL;
  CsSaeTrainOptions o = CS_SAE_TRAIN_OPTIONS_INIT;
  int seed = 0;
  gint64 max_tokens = 2000000;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "prompts", 'p', 0, G_OPTION_ARG_FILENAME, &prompts, "A text file, one prompt per line: every token's activation is a row", "FILE.txt" },
    { "activations", 'a', 0, G_OPTION_ARG_STRING, &acts, "Or rows of an HDF5 dataset [rows, d_in] (no model needed)", "FILE.h5:/dataset" },
    { "hook", 0, 0, G_OPTION_ARG_STRING, &hook, "With --prompts: resid_post.L (default resid_post.1) or resid_pre.L", "HOOK" },
    { "d-sae", 0, 0, G_OPTION_ARG_INT, &o.d_sae, "Features (1024)", "N" },
    { "l1", 0, 0, G_OPTION_ARG_DOUBLE, &o.l1, "L1 coefficient (5)", "X" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.lr, "Adam learning rate (1e-3)", "X" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &o.epochs, "Passes over the rows (5)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &o.batch, "Rows per step (256)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Initialisation and shuffling seed (0)", "S" },
    CS_CLI_DEVICE_OPTION (device_s),
    { "max-tokens", 0, 0, G_OPTION_ARG_INT64, &max_tokens, "With --prompts: stop collecting after this many tokens (2,000,000)", "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The SAELens folder to write", "DIR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[MODEL] (--prompts FILE.txt | --activations FILE.h5:/ds) --output DIR — train an SAE");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSae) sae = NULL;
  g_autofree char *scratch_dir = NULL, *scratch = NULL, *h5 = NULL, *dataset = NULL, *model_name = NULL;
  g_autofree char *capture = NULL;
  gint64 last = 0, rows = 0, t0;
  double seconds;
  int layer = -1;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!output || (!prompts == !acts))
    {
      fprintf (stderr, "conceptscope-cli sae train: give --prompts FILE.txt or --activations FILE.h5:/dataset, and --output DIR\n");
      return 2;
    }
  o.seed = (guint) seed;
  if (!cs_cli_device ("sae train", device_s, &o.device))
    return 2;
  if (prompts)
    {
      g_autoptr(CsTokenizer) tok = NULL;
      g_autoptr(CsModel) model = cs_cli_open_model (rest, NULL, &tok, &error);
      char kind[32];
      if (!model)
        return cs_cli_fail (g_steal_pointer (&error));
      capture = g_strdup (hook ? hook : "resid_post.1");
      if (!cs_forward_check_capture_name (model, capture, &error))
        return cs_cli_fail (g_steal_pointer (&error));
      if (sscanf (capture, "%31[a-z_].%d", kind, &layer) != 2)
        layer = -1;
      scratch_dir = g_dir_make_tmp ("conceptscope-sae-XXXXXX", &error);
      if (!scratch_dir)
        return cs_cli_fail (g_steal_pointer (&error));
      scratch = g_build_filename (scratch_dir, "activations.h5", NULL);
      gboolean collected = cs_sae_collect (model, tok, prompts, capture, max_tokens, scratch, &rows, cs_cli_progress,
                                           "collecting activations", cs_cli_cancellable (), &error);
      cs_cli_progress_done ();
      if (!collected)
        {
          g_unlink (scratch);
          g_rmdir (scratch_dir);
          return cs_cli_fail_or_cancel (g_steal_pointer (&error));
        }
      fprintf (stderr, "collected %" G_GINT64_FORMAT " activations at %s\n", rows, capture);
      h5 = g_strdup (scratch);
      dataset = g_strdup ("/acts");
      model_name = g_strdup (cs_model_get_name (model));
    }
  else
    {
      const char *colon = strrchr (acts, ':');
      if (!colon || colon[1] != '/')
        {
          fprintf (stderr, "conceptscope-cli sae train: --activations is FILE.h5:/dataset\n");
          return 2;
        }
      h5 = g_strndup (acts, colon - acts);
      dataset = g_strdup (colon + 1);
    }
  t0 = g_get_monotonic_time ();
  sae = cs_sae_train_h5 (h5, dataset, &o, train_report, &last, cs_cli_cancellable (), &error);
  seconds = (g_get_monotonic_time () - t0) / 1e6;
  if (scratch)
    {
      g_unlink (scratch);
      g_rmdir (scratch_dir);
    }
  if (!sae)
    return cs_cli_fail (g_steal_pointer (&error));
  if (layer >= 0)
    {
      char kind[32] = "resid_post";
      sscanf (capture, "%31[a-z_]", kind);
      sae->hook_layer = layer;
      sae->hook_name = g_strdup_printf ("blocks.%d.hook_%s", layer, kind);
    }
  if (!cs_sae_save (sae, output, model_name, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  fprintf (stderr, "trained %" G_GINT64_FORMAT " steps in %.2f s (%.0f steps/s)\n", last, seconds,
           last / MAX (seconds, 1e-9));
  printf ("wrote %s (d_in %d, d_sae %d%s%s)\n", output, sae->d_in, sae->d_sae, sae->hook_name ? ", " : "",
          sae->hook_name ? sae->hook_name : "");
  return 0;
}

int
cs_cli_sae (int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "train"))
    return sae_train (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "encode"))
    return cs_cli_sae_encode (argc - 1, argv + 1);
  fprintf (stderr, "Usage: conceptscope-cli sae train|encode [OPTIONS…]  ('conceptscope-cli sae train --help')\n");
  return 2;
}
