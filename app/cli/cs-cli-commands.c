#define G_LOG_DOMAIN "conceptscope-cli"

#include <stdio.h>

#include "cs-json.h"
#include "cs-cli-commands.h"

#include <string.h>
#include <unistd.h>
#include "cs-paths.h"
#include "cs-workspace.h"

const CsCliCommand cs_cli_commands[] = {
  { "info", "Describe a model: architecture, sizes, dtype, parameter count", cs_cli_info },
  { "tokenize", "Turn text into token ids with the model's tokenizer", cs_cli_tokenize },
  { "run", "Show the next-token distribution for a prompt", cs_cli_run },
  { "forward", "Run prompts and save logits and residual-stream activations to HDF5", cs_cli_forward },
  { "geometry", "Category vectors, validation and hierarchy of a model's concepts (to a workspace)", cs_cli_geometry },
  { "figure", "Draw a workspace's figures: projection, heatmap, validation, orthogonality, park-fig2, steering-*, svd, sae-decomposition", cs_cli_figure },
  { "sae", "SAEs: train one on a model's activations (sae train), or encode a prompt (sae encode)", cs_cli_sae },
  { "sae-encode", "SAE features of each token of a prompt (SAELens folder), with L0 and reconstruction error", cs_cli_sae_encode },
  { "mapper", "Mapper graph of points (HDF5, CSV or a workspace's categories) to JSON, the workspace and a figure", cs_cli_mapper },
  { "steer", "Steering vectors from contrastive pairs, swept over layers and multipliers, with effects downstream", cs_cli_steer },
  { NULL, NULL, NULL },
};

int
cs_cli_fail (GError *error)
{
  fprintf (stderr, "conceptscope-cli: %s\n", error ? error->message : "failed");
  g_clear_error (&error);
  return 1;
}

char *
cs_cli_resolve_model (const char *arg)
{
  if (!arg || g_str_equal (arg, "-"))
    return cs_paths_get_sample_model ();
  return g_strdup (arg);
}

void
cs_cli_print_json (JsonNode *node)
{
  g_autofree char *text = cs_json_to_data (node, TRUE, NULL);
  printf ("%s\n", text);
}

static gint progress_shown = -1;   /* the percentage on the line, −1: none */

void
cs_cli_progress (double fraction, gpointer label)
{
  int pct = (int) CLAMP (fraction * 100, 0, 100);
  if (!isatty (STDERR_FILENO) || g_atomic_int_get (&progress_shown) == pct)
    return;
  g_atomic_int_set (&progress_shown, pct);
  fprintf (stderr, "\r%s %3d %%", (const char *) label, pct);
  fflush (stderr);
}

void
cs_cli_progress_done (void)
{
  if (g_atomic_int_get (&progress_shown) >= 0)
    fprintf (stderr, "\n");
  g_atomic_int_set (&progress_shown, -1);
}

CsGeometrySpace *
cs_cli_workspace_space (CsWorkspace *ws, CsModel **model, GError **error)
{
  const CsTensor *u;
  if (!ws->model_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the workspace does not say which model it was made from");
      return NULL;
    }
  *model = cs_model_open (ws->model_path, error);
  if (!*model)
    {
      g_prefix_error (error, "this needs the workspace's model: ");
      return NULL;
    }
  u = cs_model_get_unembedding (*model);
  if ((int) u->shape[1] != ws->d || u->shape[0] != ws->vocab)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s no longer matches the workspace (its unembedding changed shape)", ws->model_path);
      return NULL;
    }
  return cs_geometry_space_new_from (u, ws->mean, ws->inv_sqrt, ws->n_floored);
}

char *
cs_cli_read_text (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  const char *name = g_str_equal (path, "-") ? "standard input" : path;
  gsize len = 0;

  if (g_str_equal (path, "-"))
    {
      GString *s = g_string_new (NULL);
      char buf[65536];
      size_t n;
      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
        g_string_append_len (s, buf, (gssize) n);
      if (ferror (stdin))
        {
          g_string_free (s, TRUE);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "reading standard input failed");
          return NULL;
        }
      len = s->len;
      text = g_string_free (s, FALSE);
    }
  else if (!g_file_get_contents (path, &text, &len, error))
    return NULL;

  const char *nul = memchr (text, '\0', len);
  const char *end = NULL;
  if (nul || !g_utf8_validate_len (text, len, &end))
    {
      const char *at = nul ? nul : end;
      int line = 1;
      for (const char *p = text; p < at; p++)
        line += *p == '\n';
      if (nul)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "%s: line %d holds a NUL character (U+0000), which is not text", name, line);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "%s: line %d is not valid UTF-8 (byte %" G_GSIZE_FORMAT ")", name, line,
                     (gsize) (at - text));
      return NULL;
    }
  return g_steal_pointer (&text);
}

char **
cs_cli_split_lines (const char *text)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new ();
  const char *p = text;

  while (*p)
    {
      const char *nl = strchr (p, '\n');
      gsize n = nl ? (gsize) (nl - p) : strlen (p);
      if (n > 0 && p[n - 1] == '\r')
        n--;
      g_ptr_array_add (lines, g_strndup (p, n));
      if (!nl)
        break;
      p = nl + 1;
    }
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&lines), FALSE);
}

gboolean
cs_cli_text_option (const char *cmd, const char *arg_name, char **arg, const char *file,
                    gboolean required, GError **error)
{
  if (*arg && file)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: give %s or --text-file, not both", cmd, arg_name);
      return FALSE;
    }
  if (file)
    {
      *arg = cs_cli_read_text (file, error);
      return *arg != NULL;
    }
  if (!*arg && required)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: give %s TEXT or --text-file FILE ('-': standard input)", cmd, arg_name);
      return FALSE;
    }
  return TRUE;
}
