#define G_LOG_DOMAIN "conceptscope-cli"

#include <stdio.h>

#include "cs-cli-commands.h"
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
  return cs_tokenizer_load (path, error);
}

int
cs_cli_tokenize (int argc, char **argv)
{
  gboolean json = FALSE, no_special = FALSE;
  char *tokenizer_file = NULL;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "tokenizer", 't', 0, G_OPTION_ARG_FILENAME, &tokenizer_file, "A tokenizer.json instead of a model folder", "FILE" },
    { "no-special", 0, 0, G_OPTION_ARG_NONE, &no_special, "Do not add the post-processor's special tokens (BOS)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, "[MODEL] TEXT" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("(MODEL | --tokenizer FILE) TEXT — text to token ids");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTokenizer) tok = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autofree char *model_path = NULL;
  const char *text;
  guint n_rest;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  n_rest = rest ? g_strv_length (rest) : 0;
  if (n_rest < 1 || n_rest > (tokenizer_file ? 1u : 2u))
    {
      fprintf (stderr, "conceptscope-cli tokenize: give %sTEXT\n", tokenizer_file ? "" : "MODEL and ");
      return 2;
    }
  text = rest[n_rest - 1];
  if (!tokenizer_file)
    model_path = cs_cli_resolve_model (n_rest == 2 ? rest[0] : NULL);
  tok = cs_cli_load_tokenizer (model_path, tokenizer_file, &error);
  g_free (tokenizer_file);
  if (!tok)
    return cs_cli_fail (g_steal_pointer (&error));
  ids = cs_tokenizer_encode (tok, text, !no_special, &error);
  if (!ids)
    return cs_cli_fail (g_steal_pointer (&error));

  if (json)
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
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
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
