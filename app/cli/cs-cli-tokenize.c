#define G_LOG_DOMAIN "conceptscope-cli"

#include <stdio.h>

#include "cs-cli-commands.h"
#include "cs-json.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

CsTokenizer *
cs_cli_load_tokenizer (const char *model_path, const char *tokenizer_file, GError **error)
{
  g_autofree char *path = NULL;

  if (tokenizer_file)
    return cs_tokenizer_load (tokenizer_file, error);
  path = g_build_filename (model_path, "tokenizer.json", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "%s has no tokenizer.json; pass --tokenizer FILE or give token ids", model_path);
      return NULL;
    }
  {
    /* a model's own tokenizer is checked against its vocabulary */
    g_autofree char *cfg_path = g_build_filename (model_path, "config.json", NULL);
    g_autoptr(CsModelConfig) cfg = cs_model_config_load (cfg_path, error);
    g_autoptr(CsTokenizer) tok = NULL;
    if (!cfg || !(tok = cs_tokenizer_load (path, error)) || !cs_tokenizer_check_vocab (tok, cfg->vocab, path, error))
      return NULL;
    return g_steal_pointer (&tok);
  }
}

static JsonNode *
encoding_json (CsTokenizer *tok, GArray *ids, gboolean with_text)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ids");
  json_builder_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    json_builder_add_int_value (b, g_array_index (ids, gint32, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "tokens");
  json_builder_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    json_builder_add_string_value (b, cs_tokenizer_id_to_token (tok, g_array_index (ids, gint32, i)));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "text");
  json_builder_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    {
      g_autofree char *t = cs_tokenizer_id_to_text (tok, g_array_index (ids, gint32, i));
      json_builder_add_string_value (b, t);
    }
  json_builder_end_array (b);
  if (with_text)
    {
      g_autofree char *all = cs_tokenizer_decode (tok, (const gint32 *) ids->data, ids->len, FALSE);
      json_builder_set_member_name (b, "decoded");
      json_builder_add_string_value (b, all);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* "15496, 995" → ids, each checked against the vocabulary. */
static GArray *
parse_decode_ids (CsTokenizer *tok, const char *spec, GError **error)
{
  g_auto(GStrv) parts = g_strsplit_set (spec, ", \t\n", -1);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  gint32 V = cs_tokenizer_get_vocab_size (tok);

  for (guint i = 0; parts[i]; i++)
    {
      gint64 v;
      if (!*parts[i])
        continue;
      if (!g_ascii_string_to_signed (parts[i], 10, 0, V - 1, &v, NULL))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "--decode: '%s' is not a token id of this tokenizer (0 to %d)", parts[i], V - 1);
          g_array_unref (ids);
          return NULL;
        }
      gint32 id = (gint32) v;
      g_array_append_val (ids, id);
    }
  return ids;
}

int
cs_cli_tokenize (int argc, char **argv)
{
  gboolean json = FALSE, no_special = FALSE, lines = FALSE;
  char *tokenizer_file = NULL;
  g_autofree char *text_file = NULL, *decode = NULL, *file_text = NULL;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "tokenizer", 't', 0, G_OPTION_ARG_FILENAME, &tokenizer_file, "A tokenizer.json instead of a model folder", "FILE" },
    { "text-file", 'f', 0, G_OPTION_ARG_FILENAME, &text_file, "Read the text from FILE ('-': standard input)", "FILE" },
    { "lines", 0, 0, G_OPTION_ARG_NONE, &lines, "Each line is a text of its own: one JSON object per line (ids, tokens, text)", NULL },
    { "decode", 0, 0, G_OPTION_ARG_STRING, &decode, "Token ids to text instead ('-': the ids from standard input)", "ID,ID,…" },
    { "no-special", 0, 0, G_OPTION_ARG_NONE, &no_special, "Do not add the post-processor's special tokens (BOS); with --decode, leave them out", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx =
    g_option_context_new ("(MODEL | --tokenizer FILE) (TEXT | --text-file FILE | --decode IDS) — text to token ids and back");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTokenizer) tok = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autofree char *model_path = NULL;
  const char *text;
  guint n_rest, n_text;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  n_rest = rest ? g_strv_length (rest) : 0;
  /* the operands: the model (unless --tokenizer) and the text (unless it
   * comes from a file or ids are decoded) */
  n_text = (text_file || decode) ? 0 : 1;
  if (n_rest < n_text || n_rest > n_text + (tokenizer_file ? 0u : 1u) || (text_file && decode) ||
      (lines && decode))
    {
      fprintf (stderr, "conceptscope-cli tokenize: give %s(TEXT | --text-file FILE [--lines] | --decode IDS)\n",
               tokenizer_file ? "" : "[MODEL] ");
      g_free (tokenizer_file);
      return 2;
    }
  if (!tokenizer_file)
    model_path = cs_cli_resolve_model (n_rest > n_text ? rest[0] : NULL);
  tok = cs_cli_load_tokenizer (model_path, tokenizer_file, &error);
  g_free (tokenizer_file);
  if (!tok)
    return cs_cli_fail (g_steal_pointer (&error));

  if (decode)
    {
      g_autofree char *out = NULL;
      if (g_str_equal (decode, "-"))
        {
          g_free (decode);
          if (!(decode = cs_cli_read_text ("-", &error)))
            return cs_cli_fail (g_steal_pointer (&error));
        }
      ids = parse_decode_ids (tok, decode, &error);
      if (!ids)
        return cs_cli_fail (g_steal_pointer (&error));
      out = cs_tokenizer_decode (tok, (const gint32 *) ids->data, ids->len, no_special);
      if (json)
        {
          g_autoptr(JsonNode) root = encoding_json (tok, ids, TRUE);
          cs_cli_print_json (root);
        }
      else
        printf ("%s\n", out);
      return 0;
    }

  if (text_file)
    {
      file_text = cs_cli_read_text (text_file, &error);
      if (!file_text)
        return cs_cli_fail (g_steal_pointer (&error));
      text = file_text;
    }
  else
    text = rest[n_rest - 1];

  if (lines)
    {
      /* JSON Lines, the tokenizer loaded once for all of them */
      g_auto(GStrv) each = cs_cli_split_lines (text);
      for (guint i = 0; each[i]; i++)
        {
          g_autoptr(GArray) line_ids = cs_tokenizer_encode (tok, each[i], !no_special, &error);
          if (!line_ids)
            {
              g_prefix_error (&error, "line %u: ", i + 1);
              return cs_cli_fail (g_steal_pointer (&error));
            }
          g_autoptr(JsonNode) root = encoding_json (tok, line_ids, FALSE);
          g_autofree char *out = cs_json_to_data (root, FALSE, NULL);
          fputs (out, stdout);
          fputc ('\n', stdout);
        }
      return 0;
    }

  ids = cs_tokenizer_encode (tok, text, !no_special, &error);
  if (!ids)
    return cs_cli_fail (g_steal_pointer (&error));

  if (json)
    {
      g_autoptr(JsonNode) root = encoding_json (tok, ids, FALSE);
      cs_cli_print_json (root);
    }
  else
    for (guint i = 0; i < ids->len; i++)
      {
        gint32 id = g_array_index (ids, gint32, i);
        g_autofree char *t = cs_tokenizer_id_to_text (tok, id);
        g_autofree char *esc = g_strescape (t, NULL);
        printf ("%8d  \"%s\"\n", id, esc);
      }
  return 0;
}
