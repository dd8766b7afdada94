#define G_LOG_DOMAIN "conceptscope-cli"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs-cli-commands.h"
#include "cs-forward.h"
#include "cs-hdf5.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

/* "1,2,3;4,5" → rows of ids. */
static GPtrArray *
parse_ids (const char *spec, GError **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_auto(GStrv) prompts = g_strsplit (spec, ";", -1);

  for (guint i = 0; prompts[i]; i++)
    {
      g_auto(GStrv) parts = g_strsplit (prompts[i], ",", -1);
      GArray *row = g_array_new (FALSE, FALSE, sizeof (gint32));
      g_ptr_array_add (rows, row);
      for (guint k = 0; parts[k]; k++)
        {
          char *s = g_strstrip (parts[k]), *end = NULL;
          gint64 v;
          if (!*s)
            continue;
          errno = 0;
          v = g_ascii_strtoll (s, &end, 10);
          if (errno || !end || *end || v < 0 || v > G_MAXINT32)
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--ids: '%s' in prompt %u is not a token id", s, i);
              return NULL;
            }
          gint32 id = (gint32) v;
          g_array_append_val (row, id);
        }
      if (row->len == 0)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--ids: prompt %u is empty", i);
          return NULL;
        }
    }
  return g_steal_pointer (&rows);
}

static float *
load_steer_vector (const char *spec, int hidden, GError **error)
{
  const char *colon = strrchr (spec, ':');
  g_autofree char *file = NULL;
  gsize dims[8];
  int rank = 0;
  float *v;

  if (!colon || colon == spec || !colon[1])
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--steer-vector wants FILE.h5:/dataset, got '%s'", spec);
      return NULL;
    }
  file = g_strndup (spec, colon - spec);
  v = cs_h5_read_f32 (file, colon + 1, &rank, dims, error);
  if (!v)
    return NULL;
  gsize n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  if (n != (gsize) hidden)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: dataset '%s' has %zu values but the model's hidden size is %d",
                   file, colon + 1, n, hidden);
      g_free (v);
      return NULL;
    }
  return v;
}

int
cs_cli_forward (int argc, char **argv)
{
  char *ids_spec = NULL, *output = NULL, *capture = NULL, *steer_spec = NULL, *logits_mode = NULL;
  char **prompts = NULL;
  int steer_layer = -1, steer_from = 0;
  double steer_mult = 1.0;
  g_auto(GStrv) rest = NULL;
  g_autofree char *device_s = NULL;
  gboolean fast = FALSE, lines = FALSE;
  g_autofree char *text_file = NULL;
  GOptionEntry entries[] = {
    { "ids", 0, 0, G_OPTION_ARG_STRING, &ids_spec, "Token ids: prompts separated by ';', ids by ','", "\"1,2;3,4\"" },
    { "prompt", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &prompts, "A prompt (repeat for a batch)", "TEXT" },
    { "text-file", 'f', 0, G_OPTION_ARG_FILENAME, &text_file, "Read the prompt from FILE ('-': standard input)", "FILE" },
    { "lines", 0, 0, G_OPTION_ARG_NONE, &lines, "With --text-file: each line is a prompt of the batch", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The HDF5 file to write", "FILE.h5" },
    { "capture", 'c', 0, G_OPTION_ARG_STRING, &capture, "Hook points: resid_pre.L, resid_post.L, final_norm, attn_z.L, head_result.L, attn_out.L, mlp_out.L", "LIST" },
    { "logits", 0, 0, G_OPTION_ARG_STRING, &logits_mode, "all (default), last or none", "MODE" },
    { "steer-vector", 0, 0, G_OPTION_ARG_STRING, &steer_spec, "Steering vector", "FILE.h5:/dataset" },
    { "steer-layer", 0, 0, G_OPTION_ARG_INT, &steer_layer, "Add the vector to resid_post of this layer", "L" },
    { "steer-multiplier", 0, 0, G_OPTION_ARG_DOUBLE, &steer_mult, "Multiplier (1)", "M" },
    { "steer-from", 0, 0, G_OPTION_ARG_INT, &steer_from, "First position to steer (0: all)", "P" },
    CS_CLI_DEVICE_OPTION (device_s),
    { "fast", 0, 0, G_OPTION_ARG_NONE, &fast, "GPU: TF32 / BF16 tensor cores instead of float32 products", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[MODEL] (--ids IDS | --prompt TEXT… | --text-file FILE [--lines]) --output FILE.h5 — run the model and save logits and activations");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(CsForwardResult) res = NULL;
  g_autoptr(CsH5Writer) w = NULL;
  g_autofree char *path = NULL;
  g_autofree float *steer = NULL;
  g_auto(GStrv) caps = NULL;
  g_autofree const gint32 **row_ptrs = NULL;
  g_autofree int *lengths = NULL;
  g_autofree gint32 *padded = NULL;
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  const CsModelConfig *cfg;
  int batch, rc = 1;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!cs_cli_device ("forward", device_s, &opt.device))
    return 2;
  opt.fast = fast;
  if (!output || (!!ids_spec + !!prompts + !!text_file) != 1 || (rest && g_strv_length (rest) > 1) ||
      (lines && !text_file))
    {
      fprintf (stderr, "conceptscope-cli forward: give [MODEL], one of --ids, --prompt or --text-file [--lines], and --output FILE.h5\n");
      goto done_usage;
    }
  if (text_file)
    {
      g_autofree char *text = cs_cli_read_text (text_file, &error);
      if (!text)
        goto fail;
      if (lines)
        prompts = cs_cli_split_lines (text);
      else
        {
          prompts = g_new0 (char *, 2);
          prompts[0] = g_steal_pointer (&text);
        }
      if (!prompts[0])
        {
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s holds no lines", text_file);
          goto fail;
        }
    }
  if (logits_mode && !g_str_equal (logits_mode, "all") && !g_str_equal (logits_mode, "last") &&
      !g_str_equal (logits_mode, "none"))
    {
      fprintf (stderr, "conceptscope-cli forward: --logits is all, last or none\n");
      goto done_usage;
    }
  if (!isfinite (steer_mult))
    {
      fprintf (stderr, "conceptscope-cli forward: --steer-multiplier is a finite number, not %g\n", steer_mult);
      goto done_usage;
    }
  if ((steer_spec != NULL) != (steer_layer >= 0))
    {
      fprintf (stderr, "conceptscope-cli forward: --steer-vector and --steer-layer go together\n");
      goto done_usage;
    }

  model = cs_cli_open_model (rest, &path, NULL, &error);
  if (!model)
    goto fail;
  cfg = cs_model_get_config (model);

  if (ids_spec)
    rows = parse_ids (ids_spec, &error);
  else
    {
      g_autoptr(CsTokenizer) tok = cs_cli_load_tokenizer (path, NULL, &error);
      if (tok)
        {
          rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
          for (guint i = 0; prompts[i]; i++)
            {
              GArray *ids = cs_tokenizer_encode (tok, prompts[i], TRUE, &error);
              if (!ids)
                {
                  g_clear_pointer (&rows, g_ptr_array_unref);
                  break;
                }
              g_ptr_array_add (rows, ids);
            }
        }
    }
  if (!rows)
    goto fail;

  if (capture)
    {
      caps = g_strsplit (capture, ",", -1);
      for (guint i = 0; caps[i]; i++)
        {
          g_strstrip (caps[i]);
          if (!cs_forward_check_capture_name (model, caps[i], &error))
            goto fail;
        }
      opt.capture = (const char * const *) caps;
    }
  if (steer_spec)
    {
      steer = load_steer_vector (steer_spec, cfg->hidden, &error);
      if (!steer)
        goto fail;
      opt.steer_layer = steer_layer;
      opt.steer_multiplier = (float) steer_mult;
      opt.steer_vector = steer;
      opt.steer_from = steer_from;
    }
  opt.logits = !logits_mode || g_str_equal (logits_mode, "all") ? CS_LOGITS_ALL :
               g_str_equal (logits_mode, "last") ? CS_LOGITS_LAST : CS_LOGITS_NONE;

  batch = (int) rows->len;
  row_ptrs = g_new (const gint32 *, batch);
  lengths = g_new (int, batch);
  for (int b = 0; b < batch; b++)
    {
      GArray *r = g_ptr_array_index (rows, b);
      row_ptrs[b] = (const gint32 *) r->data;
      lengths[b] = (int) r->len;
    }
  opt.progress = cs_cli_progress;
  opt.progress_data = "forward pass";
  res = cs_forward_run (model, row_ptrs, lengths, batch, &opt, cs_cli_cancellable (), &error);
  cs_cli_progress_done ();
  if (!res)
    {
      rc = cs_cli_fail_or_cancel (g_steal_pointer (&error));
      goto done;
    }

  w = cs_h5_writer_new (output, &error);
  if (!w)
    goto fail;
  padded = g_new (gint32, (gsize) batch * res->seq);
  for (int b = 0; b < batch; b++)
    for (int i = 0; i < res->seq; i++)
      padded[(gsize) b * res->seq + i] = i < lengths[b] ? row_ptrs[b][i] : -1;
  {
    gsize d2[2] = { (gsize) batch, (gsize) res->seq };
    gsize d1[1] = { (gsize) batch };
    if (!cs_h5_writer_add_i32 (w, "input_ids", 2, d2, padded, &error) ||
        !cs_h5_writer_add_i32 (w, "lengths", 1, d1, lengths, &error))
      goto fail;
  }
  if (res->logits)
    {
      gsize d3[3] = { (gsize) batch, (gsize) res->seq, (gsize) res->vocab };
      gsize d2[2] = { (gsize) batch, (gsize) res->vocab };
      gboolean ok = opt.logits == CS_LOGITS_ALL ?
        cs_h5_writer_add_f32 (w, "logits", 3, d3, res->logits, &error) :
        cs_h5_writer_add_f32 (w, "logits", 2, d2, res->logits, &error);
      if (!ok)
        goto fail;
    }
  for (guint i = 0; i < res->capture_names->len; i++)
    {
      const char *name = g_ptr_array_index (res->capture_names, i);
      int width = cs_forward_hook_width (model, name), H = cfg->n_heads;
      /* per head: attn_z [batch, seq, heads, head_dim], head_result [batch, seq, heads, hidden] */
      gboolean per_head = g_str_has_prefix (name, "attn_z.") || g_str_has_prefix (name, "head_result.");
      gsize d4[4] = { (gsize) batch, (gsize) res->seq, (gsize) (per_head ? H : width),
                      (gsize) (per_head ? width / H : 1) };
      if (!cs_h5_writer_add_f32 (w, name, per_head ? 4 : 3, d4, g_ptr_array_index (res->captures, i), &error))
        goto fail;
    }
  if (!cs_h5_writer_set_attr (w, "model", cs_model_get_path (model), &error) ||
      !cs_h5_writer_set_attr (w, "architecture", cfg->architecture, &error) ||
      !cs_h5_writer_set_attr (w, "padding", "input_ids are -1 and activations/logits 0 past each prompt's length",
                              &error) ||
      !cs_h5_writer_commit (w, &error))
    goto fail;
  printf ("wrote %s: %d prompt%s, %d positions%s%s\n", output, batch, batch == 1 ? "" : "s", res->seq,
          res->capture_names->len ? ", captures: " : "", capture ? capture : "");
  rc = 0;
  goto done;

fail:
  rc = cs_cli_fail (g_steal_pointer (&error));
  goto done;
done_usage:
  rc = 2;
done:
  g_free (ids_spec);
  g_free (output);
  g_free (capture);
  g_free (steer_spec);
  g_free (logits_mode);
  g_strfreev (prompts);
  return rc;
}
