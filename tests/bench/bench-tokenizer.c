/* Tokenizer load and encode times, for run-tokenizer-bench.mjs.
 *
 *   bench-tokenizer TOKENIZER.json[.gz] CORPUS.txt [REPEATS]
 *       loads the tokenizer and encodes every line (with special tokens),
 *       REPEATS times, each with a fresh tokenizer (a cold word cache, as a
 *       user's first pass over a corpus); prints the best load and encode
 *       times, the ids and a checksum of them as JSON.
 *   bench-tokenizer TOKENIZER.json[.gz] --long BYTES CORPUS.txt
 *       encodes one line of BYTES bytes made of the corpus's lines joined by
 *       spaces (a SentencePiece-style tokenizer takes it as one word).
 */
#include <gio/gio.h>
#include <string.h>

#include "cs-tokenizer.h"

static GBytes *
read_file (const char *path)
{
  g_autoptr(GFile) f = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) in = G_INPUT_STREAM (g_file_read (f, NULL, &error));
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  if (!in)
    g_error ("%s", error->message);
  if (g_str_has_suffix (path, ".gz"))
    {
      g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      GInputStream *c = g_converter_input_stream_new (in, G_CONVERTER (z));
      g_object_unref (in);
      in = c;
    }
  if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error) < 0)
    g_error ("%s", error->message);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) json = NULL;
  g_autofree char *corpus = NULL;
  double best_load = G_MAXDOUBLE, best_encode = G_MAXDOUBLE;
  guint64 n_ids = 0, checksum = 0;

  if (argc < 3)
    {
      g_printerr ("usage: bench-tokenizer TOKENIZER.json[.gz] CORPUS.txt [REPEATS]\n"
                  "       bench-tokenizer TOKENIZER.json[.gz] --long BYTES CORPUS.txt\n");
      return 2;
    }
  json = read_file (argv[1]);

  if (g_str_equal (argv[2], "--long") && argc >= 5)
    {
      gsize want = g_ascii_strtoull (argv[3], NULL, 10);
      g_auto(GStrv) lines = NULL;
      g_autoptr(GString) s = g_string_new (NULL);
      g_autoptr(CsTokenizer) tok = cs_tokenizer_parse (g_bytes_get_data (json, NULL), (gssize) g_bytes_get_size (json),
                                                       argv[1], &error);
      if (!tok || !g_file_get_contents (argv[4], &corpus, NULL, &error))
        g_error ("%s", error->message);
      lines = g_strsplit (corpus, "\n", -1);
      for (guint i = 0; s->len < want; i = lines[i + 1] ? i + 1 : 0)
        {
          if (!*lines[i] || strlen (lines[i]) > 2000)
            continue;
          if (s->len)
            g_string_append_c (s, ' ');
          g_string_append (s, lines[i]);
        }
      g_string_truncate (s, want);
      while (s->len && !g_utf8_validate (s->str, (gssize) s->len, NULL))
        g_string_truncate (s, s->len - 1);
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(GArray) ids = cs_tokenizer_encode (tok, s->str, TRUE, &error);
      double dt = (g_get_monotonic_time () - t0) / 1e6;
      g_print ("{\"bytes\": %" G_GSIZE_FORMAT ", \"encode_s\": %.6f, \"ids\": %u}\n", s->len, dt, ids->len);
      return 0;
    }

  if (!g_file_get_contents (argv[2], &corpus, NULL, &error))
    g_error ("%s", error->message);
  g_auto(GStrv) lines = g_strsplit (corpus, "\n", -1);
  guint n_lines = g_strv_length (lines);
  if (n_lines && !*lines[n_lines - 1])
    n_lines--;
  int repeats = argc > 3 ? atoi (argv[3]) : 3;

  for (int r = 0; r < repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(GBytes) again = read_file (argv[1]);
      g_autoptr(CsTokenizer) tok = cs_tokenizer_parse (g_bytes_get_data (again, NULL), (gssize) g_bytes_get_size (again),
                                                       argv[1], &error);
      gint64 t1 = g_get_monotonic_time ();
      if (!tok)
        g_error ("%s", error->message);
      n_ids = checksum = 0;
      for (guint i = 0; i < n_lines; i++)
        {
          g_autoptr(GArray) ids = cs_tokenizer_encode (tok, lines[i], TRUE, &error);
          for (guint k = 0; k < ids->len; k++)
            checksum = checksum * 31 + (guint64) g_array_index (ids, gint32, k);
          n_ids += ids->len;
        }
      gint64 t2 = g_get_monotonic_time ();
      best_load = MIN (best_load, (t1 - t0) / 1e6);
      best_encode = MIN (best_encode, (t2 - t1) / 1e6);
    }
  g_print ("{\"load_s\": %.6f, \"encode_s\": %.6f, \"lines\": %u, \"ids\": %" G_GUINT64_FORMAT
           ", \"checksum\": \"%" G_GUINT64_FORMAT "\"}\n", best_load, best_encode, n_lines, n_ids, checksum);
  return 0;
}
