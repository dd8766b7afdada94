#define G_LOG_DOMAIN "conceptscope-cli"

#include <stdio.h>
#include <string.h>

#include "cs-cli-commands.h"
#include "cs-json.h"
#include "cs-forward.h"
#include "cs-model.h"
#include "cs-hdf5.h"
#include "cs-sae.h"
#include "cs-sae-train.h"
#include "cs-sae-card.h"
#include "cs-sae-card-figure.h"
#include "cs-sae-flow-figure.h"
#include "cs-sae-set.h"
#include "cs-steer.h"
#include "cs-workspace.h"
#include "cs-figure.h"

#include <math.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include "cs-tokenizer.h"

/* "blocks.L.hook_resid_post" → "resid_post.L" (likewise resid_pre). */
static char *
hook_to_capture (const CsSae *sae, GError **error)
{
  const char *h = sae->hook_name;
  gboolean pre;
  int layer;

  if (cs_sae_hook_parse (h, &pre, &layer))
    return g_strdup_printf ("%s.%d", pre ? "resid_pre" : "resid_post", layer);
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


/* ---- feature cards ---- */

static void
draw_card (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  cs_sae_card_figure_draw (cr, 0, 0, w, h, s, data);
}

/* The SAE's layer: its hook's, or --layer. */
static int
sae_layer (const CsSae *sae, int asked, GError **error)
{
  g_autofree char *cap = NULL;
  int l;
  if (asked >= 0)
    return asked;
  if (!(cap = hook_to_capture (sae, error)))
    return -1;
  if ((l = cs_sae_resid_layer (sae)) < 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "the SAE reads the embeddings (resid_pre.0)");
  return l;
}

static int
sae_card_or_scan (int argc, char **argv, gboolean card)
{
  g_autofree char *sae_dir = NULL, *corpus = NULL, *output = NULL, *device_s = NULL, *workspace = NULL;
  g_autofree char *saes_dir = NULL;
  g_auto(GStrv) variants = NULL;
  int latent = -1, layer = -1;
  gint64 max_tokens = 0;
  double max_tokens_d = 0;
  gboolean no_cache = FALSE, json = FALSE;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "sae", 's', 0, G_OPTION_ARG_FILENAME, &sae_dir, "SAELens folder or Gemma Scope params.npz", "DIR" },
    { "saes", 0, 0, G_OPTION_ARG_FILENAME, &saes_dir, "scan: a folder of SAEs for several layers (one group /L{layer}/ each)", "DIR" },
    { "sae-variant", 0, 0, G_OPTION_ARG_STRING_ARRAY, &variants, "scan --saes: the SAE of layer L (repeatable)", "L=VARIANT" },
    { "latent", 'l', 0, G_OPTION_ARG_INT, &latent, "card: the latent", "N" },
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus, "A text file, scanned line by line (streamed)", "FILE" },
    { "layer", 0, 0, G_OPTION_ARG_INT, &layer, "The resid_post layer it reads (default: its hook's)", "L" },
    { "max-tokens", 0, 0, G_OPTION_ARG_DOUBLE, &max_tokens_d, "Stop after this many tokens (all)", "N" },
    { "no-cache", 0, 0, G_OPTION_ARG_NONE, &no_cache, "Scan again instead of reading the user's cache", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, card ? "card.png, .svg, .pdf or .json" : "cards.h5", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "card: print the card as JSON", NULL },
    { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, &workspace, "card: its decoder row's cosine with this workspace's concept directions (Cov^½ ℓ̄)", "WS.h5" },
    CS_CLI_DEVICE_OPTION (device_s),
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (card ? "[MODEL] --sae DIR --latent N --corpus FILE — a feature card"
                                                             : "[MODEL] --sae DIR --corpus FILE --output cards.h5 — every latent's cards");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsSae) sae = NULL;
  g_autoptr(CsSaeScan) scan = NULL;
  CsTokenizer *tok = NULL;
  CsDevice device;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!cs_cli_device ("sae", device_s, &device))
    return 2;
  max_tokens = (gint64) max_tokens_d;
  if (!card && saes_dir && !sae_dir && corpus && output)
    {
      /* a whole set: each chosen SAE scanned at its layer, into one file */
      g_autoptr(CsSaeSet) set = NULL;
      g_autoptr(GPtrArray) scans = g_ptr_array_new_with_free_func ((GDestroyNotify) cs_sae_scan_free);
      const CsModelConfig *cfg;
      if (!(model = cs_cli_open_model (rest, NULL, &tok, &error)))
        return cs_cli_fail (g_steal_pointer (&error));
      cfg = cs_model_get_config (model);
      if (!(set = cs_sae_set_open (saes_dir, cfg->hidden, cfg->n_layers, (const char * const *) variants, &error)))
        {
          cs_tokenizer_free (tok);
          return cs_cli_fail (g_steal_pointer (&error));
        }
      for (guint i = 0; i < set->chosen->len; i++)
        {
          CsSaeSetMember *m = g_ptr_array_index (set->chosen, i);
          CsSaeScan *one = cs_sae_scan_run (model, tok, m->sae, m->path, m->layer, corpus, max_tokens, !no_cache,
                                            isatty (STDERR_FILENO) ? cs_cli_progress : NULL, (gpointer) "scanning",
                                            cs_cli_cancellable (), &error);
          cs_cli_progress_done ();
          if (!one)
            {
              cs_tokenizer_free (tok);
              return cs_cli_fail_or_cancel (g_steal_pointer (&error));
            }
          fprintf (stderr, "layer %d: %s %" G_GINT64_FORMAT " tokens\n", m->layer,
                   one->from_cache ? "read from the cache:" : "scanned", one->n_tokens);
          g_ptr_array_add (scans, one);
        }
      cs_tokenizer_free (tok);
      if (!cs_sae_scans_save ((CsSaeScan * const *) scans->pdata, (int) scans->len, output, &error))
        return cs_cli_fail (g_steal_pointer (&error));
      printf ("wrote %s\n", output);
      return 0;
    }
  if (!sae_dir || !corpus || (rest && g_strv_length (rest) > 1) || (card && latent < 0) || (!card && !output))
    {
      fprintf (stderr, card ? "conceptscope-cli sae card: give [MODEL] --sae DIR --latent N --corpus FILE\n"
                            : "conceptscope-cli sae scan: give [MODEL] --sae DIR --corpus FILE --output cards.h5\n");
      return 2;
    }
  if (!(sae = cs_sae_load (sae_dir, &error)))
    return cs_cli_fail (g_steal_pointer (&error));
  if (card && latent >= sae->d_sae)
    {
      fprintf (stderr, "conceptscope-cli sae card: the SAE has latents 0 to %d\n", sae->d_sae - 1);
      return 2;
    }
  if ((layer = sae_layer (sae, layer, &error)) < 0)
    return cs_cli_fail (g_steal_pointer (&error));
  model = cs_cli_open_model (rest, NULL, &tok, &error);
  if (!model)
    return cs_cli_fail (g_steal_pointer (&error));
  scan = cs_sae_scan_run (model, tok, sae, sae_dir, layer, corpus, max_tokens, !no_cache,
                          isatty (STDERR_FILENO) ? cs_cli_progress : NULL, (gpointer) "scanning",
                          cs_cli_cancellable (), &error);
  cs_cli_progress_done ();
  if (!scan)
    {
      cs_tokenizer_free (tok);
      return cs_cli_fail_or_cancel (g_steal_pointer (&error));
    }
  fprintf (stderr, "%s %" G_GINT64_FORMAT " tokens of %s at resid_post.%d\n",
           scan->from_cache ? "read from the cache: the scan of" : "scanned", scan->n_tokens, corpus, layer);
  if (!card)
    {
      cs_tokenizer_free (tok);
      if (!cs_sae_scan_save (scan, output, &error))
        return cs_cli_fail (g_steal_pointer (&error));
      printf ("wrote %s\n", output);
      return 0;
    }
  {
    g_autoptr(CsSaeCard) cd = cs_sae_card_new (model, tok, sae, scan, latent, 10);
    g_autofree char *title = g_strdup_printf ("L%d/%d", layer, latent);
    g_autoptr(JsonNode) node = NULL;
    CsSaeCardFigure fig;
    cs_tokenizer_free (tok);
    if (workspace)
      {
        /* the decoder row against the concept directions of a workspace */
        g_autoptr(CsWorkspace) ws = cs_workspace_load (workspace, &error);
        g_autoptr(CsModel) wmodel = NULL;
        g_autoptr(CsGeometrySpace) space = NULL;
        if (ws && !ws->geometry)
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s holds no concept vectors", workspace);
        if (!ws || !ws->geometry || !(space = cs_cli_workspace_space (ws, &wmodel, &error)) ||
            !cs_sae_card_add_concepts (cd, sae, space, ws->geometry, &error))
          return cs_cli_fail (g_steal_pointer (&error));
      }
    cs_sae_card_figure_init (&fig, cd, title);
    node = cs_sae_card_to_json (cd);
    if (output && g_str_has_suffix (output, ".json"))
      {
        g_autofree char *text = cs_json_to_data (node, TRUE, NULL);
        if (!g_file_set_contents (output, text, -1, &error))
          return cs_cli_fail (g_steal_pointer (&error));
      }
    else if (output)
      {
        CsFigureStyle style;
        cs_figure_style_from ("slide", "light", 0, &style, NULL);
        if (!cs_figure_export (output, &style, 2, draw_card, &fig, &error))
          return cs_cli_fail (g_steal_pointer (&error));
      }
    if (json)
      cs_cli_print_json (node);
    else if (output)
      printf ("wrote %s\n", output);
    return 0;
  }
}

/* ---- the feature flow ---- */

typedef struct
{
  CsSaeFlow *flow;
  double     threshold;
} FlowDraw;

static void
draw_flow (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  FlowDraw *d = data;
  cs_sae_flow_figure_draw (cr, 0, 0, w, h, s, d->flow, d->threshold, NULL);
}

static int
sae_flow (int argc, char **argv)
{
  g_autofree char *saes_dir = NULL, *dataset = NULL, *output = NULL;
  g_auto(GStrv) variants = NULL;
  int layer = -1, top_k = 5, span = 2, n_prompts = 16;
  double multiplier = 4, threshold = 0.2;
  gboolean json = FALSE;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "saes", 0, 0, G_OPTION_ARG_FILENAME, &saes_dir, "A folder of SAEs for several layers", "DIR" },
    { "sae-variant", 0, 0, G_OPTION_ARG_STRING_ARRAY, &variants, "The SAE of layer L (repeatable)", "L=VARIANT" },
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "A contrastive dataset (shipped name or JSON): its vector and held-out prompts", "D" },
    { "layer", 'l', 0, G_OPTION_ARG_INT, &layer, "The steering layer", "L" },
    { "multiplier", 'm', 0, G_OPTION_ARG_DOUBLE, &multiplier, "The multiplier (4)", "M" },
    { "top-k", 'k', 0, G_OPTION_ARG_INT, &top_k, "Latents per layer (5)", "K" },
    { "span", 0, 0, G_OPTION_ARG_INT, &span, "Edges reach this many layers on (2)", "S" },
    { "prompts", 0, 0, G_OPTION_ARG_INT, &n_prompts, "Held-out prompts used (16)", "N" },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold, "Figure: edges under this fraction of the largest hidden (0.2)", "F" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The figure: .png, .svg or .pdf", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the flow as JSON (with the vector and the prompts' ids)", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[MODEL] --saes DIR --dataset D --layer L — the feature flow of a steering vector");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsSaeSet) set = NULL;
  g_autoptr(CsSteerDataset) ds = NULL;
  g_autoptr(CsSteerVectors) v = NULL;
  g_autoptr(CsSteerPrompts) prompts = NULL;
  g_autoptr(CsSaeFlow) flow = NULL;
  g_autofree char *ds_path = NULL;
  g_autofree CsSae **by_layer = NULL;
  const CsModelConfig *cfg;
  CsTokenizer *tok = NULL;
  int n;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!saes_dir || !dataset || layer < 0 || top_k < 1 || span < 1 || n_prompts < 1 || (rest && g_strv_length (rest) > 1))
    {
      fprintf (stderr, "conceptscope-cli sae flow: give [MODEL] --saes DIR --dataset D --layer L "
                       "(--top-k, --span, --prompts positive)\n");
      return 2;
    }
  if (!(model = cs_cli_open_model (rest, NULL, &tok, &error)))
    return cs_cli_fail (g_steal_pointer (&error));
  cfg = cs_model_get_config (model);
  if (layer >= cfg->n_layers)
    {
      fprintf (stderr, "conceptscope-cli sae flow: the model's layers are 0 to %d\n", cfg->n_layers - 1);
      cs_tokenizer_free (tok);
      return 2;
    }
  ds_path = g_file_test (dataset, G_FILE_TEST_EXISTS) ? g_strdup (dataset) : cs_steer_shipped_dataset (dataset);
  if (!ds_path)
    ds_path = g_strdup (dataset);
  if (!(set = cs_sae_set_open (saes_dir, cfg->hidden, cfg->n_layers, (const char * const *) variants, &error)) ||
      !(ds = cs_steer_dataset_load (ds_path, &error)) ||
      !(v = cs_steer_compute (model, tok, ds, 0.5, CS_STEER_POSITION_LAST, CS_DEVICE_CPU, NULL, NULL, NULL, &error)) ||
      !(prompts = cs_steer_prompts_new (model, tok, ds, 0.5, TRUE, &error)))
    {
      cs_tokenizer_free (tok);
      return cs_cli_fail (g_steal_pointer (&error));
    }
  by_layer = g_new0 (CsSae *, cfg->n_layers);
  for (int l = 0; l < cfg->n_layers; l++)
    by_layer[l] = cs_sae_set_at_layer (set, l);
  n = MIN (n_prompts, prompts->n);
  flow = cs_sae_flow (model, tok, v->vectors + (gsize) layer * v->d, layer, multiplier,
                      (const gint32 * const *) prompts->ids, prompts->lengths, n, (CsSae * const *) by_layer, top_k,
                      span, cs_cli_cancellable (), &error);
  cs_tokenizer_free (tok);
  if (!flow)
    return cs_cli_fail_or_cancel (g_steal_pointer (&error));
  if (output)
    {
      CsFigureStyle style;
      FlowDraw fd = { flow, threshold };
      cs_figure_style_from ("slide", "light", 0, &style, NULL);
      if (!cs_figure_export (output, &style, 2, draw_flow, &fd, &error))
        return cs_cli_fail (g_steal_pointer (&error));
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "layer");
      json_builder_add_int_value (b, layer);
      json_builder_set_member_name (b, "multiplier");
      json_builder_add_double_value (b, multiplier);
      json_builder_set_member_name (b, "nodes");
      json_builder_begin_array (b);
      for (int i = 0; i < flow->n_nodes; i++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "layer");
          json_builder_add_int_value (b, flow->node_layer[i]);
          json_builder_set_member_name (b, "latent");
          json_builder_add_int_value (b, flow->node_latent[i]);
          json_builder_set_member_name (b, "delta");
          json_builder_add_double_value (b, flow->node_delta[i]);
          json_builder_set_member_name (b, "label");
          json_builder_add_string_value (b, flow->node_labels[i]);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "edges");
      json_builder_begin_array (b);
      for (int e = 0; e < flow->n_edges; e++)
        {
          json_builder_begin_array (b);
          json_builder_add_int_value (b, flow->edge_from[e]);
          json_builder_add_int_value (b, flow->edge_to[e]);
          json_builder_add_double_value (b, flow->edge_weight[e]);
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "vector");
      json_builder_begin_array (b);
      for (int j = 0; j < v->d; j++)
        json_builder_add_double_value (b, v->vectors[(gsize) layer * v->d + j]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "prompts");
      json_builder_begin_array (b);
      for (int p = 0; p < n; p++)
        {
          json_builder_begin_array (b);
          for (int t = 0; t < prompts->lengths[p]; t++)
            json_builder_add_int_value (b, prompts->ids[p][t]);
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      node = json_builder_get_root (b);
      cs_cli_print_json (node);
      return 0;
    }
  printf ("the feature flow of the vector at layer %d (× %g) over %d prompts: %d latents, %d edges\n", layer,
          multiplier, n, flow->n_nodes, flow->n_edges);
  for (int e = 0; e < flow->n_edges; e++)
    if (fabs (flow->edge_weight[e]) > 0)
      printf ("  %s → %s: %+.4f\n", flow->node_labels[flow->edge_from[e]], flow->node_labels[flow->edge_to[e]],
              flow->edge_weight[e]);
  if (output)
    printf ("wrote %s\n", output);
  return 0;
}

int
cs_cli_sae (int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "train"))
    return sae_train (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "encode"))
    return cs_cli_sae_encode (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "card"))
    return sae_card_or_scan (argc - 1, argv + 1, TRUE);
  if (argc >= 2 && g_str_equal (argv[1], "scan"))
    return sae_card_or_scan (argc - 1, argv + 1, FALSE);
  if (argc >= 2 && g_str_equal (argv[1], "flow"))
    return sae_flow (argc - 1, argv + 1);
  fprintf (stderr, "Usage: conceptscope-cli sae train|encode|card|scan|flow [OPTIONS…]  ('conceptscope-cli sae card --help')\n");
  return 2;
}
