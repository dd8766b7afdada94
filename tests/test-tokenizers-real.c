/* Real vocabularies against Hugging Face's Rust `tokenizers` (the library
 * transformers runs): GPT-2, Llama 3, Llama 2, Mistral, and Mistral's newer
 * Metaspace form (split off and on), each rebuilt as a tokenizer.json from
 * the vocabularies npm packages ship, encoding 3,268 varied lines (glosses,
 * licences, code, numbers, whitespace runs, scripts, emoji, the characters on
 * which regex engines' white space differs, a 20 KB line). The fixtures come
 * from tests/tokenizers/make-fixtures.mjs; one differing id is a failure. */
#include <gio/gio.h>
#include <string.h>

#include "cs-tokenizer.h"

static char *
fixture (const char *file)
{
  return g_build_filename (g_getenv ("CS_TEST_DATA"), "tokenizers-real", file, NULL);
}

static GBytes *
read_gz (const char *file)
{
  g_autofree char *path = fixture (file);
  g_autoptr(GFile) f = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) raw = G_INPUT_STREAM (g_file_read (f, NULL, &error));
  g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_assert_no_error (error);
  in = g_converter_input_stream_new (raw, G_CONVERTER (z));
  g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static char **
corpus_lines (void)
{
  g_autofree char *path = fixture ("corpus.txt");
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpint (text[len - 1], ==, '\n');
  text[len - 1] = '\0';
  return g_strsplit (text, "\n", -1);
}

static void
run_real (gconstpointer data)
{
  const char *name = data;
  g_autofree char *tfile = g_strdup_printf ("%s-tokenizer.json.gz", name);
  g_autofree char *ifile = g_strdup_printf ("%s-ids.txt.gz", name);
  g_autoptr(GBytes) json = read_gz (tfile);
  g_autoptr(GBytes) ids = read_gz (ifile);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTokenizer) tok = cs_tokenizer_parse (g_bytes_get_data (json, NULL), (gssize) g_bytes_get_size (json),
                                                   tfile, &error);
  g_auto(GStrv) lines = corpus_lines ();
  g_autofree char *ids_text = g_strndup (g_bytes_get_data (ids, NULL), g_bytes_get_size (ids));
  g_auto(GStrv) want_lines = NULL;
  guint n = g_strv_length (lines), failures = 0;
  gsize total = 0;

  g_assert_no_error (error);
  g_assert_nonnull (tok);
  g_assert_cmpuint (n, >, 3000);
  g_strchomp (ids_text);
  want_lines = g_strsplit (ids_text, "\n", -1);
  g_assert_cmpuint (g_strv_length (want_lines), ==, n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GArray) got = cs_tokenizer_encode (tok, lines[i], TRUE, &error);
      g_auto(GStrv) want = g_strsplit (want_lines[i], " ", -1);
      guint wn = g_strv_length (want);
      gboolean same;

      g_assert_no_error (error);
      same = got->len == wn;
      for (guint k = 0; same && k < wn; k++)
        same = g_array_index (got, gint32, k) == (gint32) g_ascii_strtoll (want[k], NULL, 10);
      total += wn;
      if (!same)
        {
          g_autoptr(GString) s = g_string_new (NULL);
          for (guint k = 0; k < got->len && k < 40; k++)
            g_string_append_printf (s, "%d ", g_array_index (got, gint32, k));
          if (failures < 10)
            g_test_message ("%s line %u '%.80s': got [%s] want [%.200s]", name, i + 1, lines[i], s->str, want_lines[i]);
          failures++;
        }
    }
  g_test_message ("%s: %u of %u lines differ (%" G_GSIZE_FORMAT " ids)", name, failures, n, total);
  g_assert_cmpuint (failures, ==, 0);
}

int
main (int argc, char **argv)
{
  static const char *names[] = { "gpt2", "llama3", "llama2", "mistral", "mistral-metaspace", "mistral-metaspace-split" };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_strdup_printf ("/tokenizer/real/%s", names[i]);
      g_test_add_data_func (path, names[i], run_real);
    }
  return g_test_run ();
}
