/* Tokenizers against the ids that Hugging Face `tokenizers` gives for the same
 * strings (tests/data/reference/tokenizers). One differing id is a failure. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "cs-error.h"
#include "cs-tokenizer.h"

static char *
tok_path (const char *file)
{
  return g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", "tokenizers", file, NULL);
}

static void
run_cases (gconstpointer data)
{
  const char *name = data;
  g_autofree char *tfile = g_strdup_printf ("%s-tokenizer.json", name);
  g_autofree char *cfile = g_strdup_printf ("%s-cases.json", name);
  g_autofree char *tpath = tok_path (tfile);
  g_autofree char *cpath = tok_path (cfile);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTokenizer) tok = cs_tokenizer_load (tpath, &error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *cases;
  guint failures = 0;

  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_file (parser, cpath, &error));
  cases = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (cases), >=, 20);

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *text = json_object_get_string_member (c, "text");
      JsonArray *want = json_object_get_array_member (c, "ids");
      g_autoptr(GArray) got = cs_tokenizer_encode (tok, text, TRUE, &error);
      g_assert_no_error (error);
      gboolean same = got->len == json_array_get_length (want);
      for (guint k = 0; same && k < got->len; k++)
        same = g_array_index (got, gint32, k) == (gint32) json_array_get_int_element (want, k);
      if (!same)
        {
          g_autoptr(GString) s = g_string_new (NULL);
          for (guint k = 0; k < got->len; k++)
            g_string_append_printf (s, "%d ", g_array_index (got, gint32, k));
          g_test_message ("case %u %s: got [%s]", i, text, s->str);
          failures++;
          continue;
        }
      /* Decoding gives the text back (the SentencePiece decoder strips the
       * one ▁ that the normaliser prepended, and byte-fallback tokens
       * reassemble multi-byte characters). */
      g_autofree char *back = cs_tokenizer_decode (tok, (gint32 *) got->data, got->len, TRUE);
      g_assert_cmpstr (back, ==, text);
    }
  g_assert_cmpuint (failures, ==, 0);
}

static void
test_special_tokens (void)
{
  g_autofree char *tpath = tok_path ("gpt2-tokenizer.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTokenizer) tok = cs_tokenizer_load (tpath, &error);
  g_assert_no_error (error);

  /* <|endoftext|> in the text is the special token, not its characters. */
  g_autoptr(GArray) ids = cs_tokenizer_encode (tok, "Hello<|endoftext|> world", TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 3);
  g_assert_cmpint (g_array_index (ids, gint32, 0), ==, 15496);
  g_assert_cmpint (g_array_index (ids, gint32, 1), ==, 50256);
  g_assert_cmpint (g_array_index (ids, gint32, 2), ==, 995);
  g_assert_true (cs_tokenizer_is_special (tok, 50256));
  g_assert_cmpstr (cs_tokenizer_id_to_token (tok, 995), ==, "\xc4\xa0world");
  g_autofree char *text = cs_tokenizer_id_to_text (tok, 995);
  g_assert_cmpstr (text, ==, " world");
  g_assert_cmpint (cs_tokenizer_get_vocab_size (tok), ==, 50257);
}

static void
test_bad_tokenizers (void)
{
  static const struct { const char *json; const char *fragment; } bad[] = {
    { "{ nope", "not valid JSON" },
    { "[1, 2]", "no top-level object" },
    { "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", "the tokenizer model is WordPiece" },
    { "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", "the tokenizer model is Unigram" },
    { "{\"added_tokens_decoder\": {}, \"model_max_length\": 10}", "tokenizer_config.json" },
    { "{\"model\": {\"type\": \"BPE\"}}", "model.vocab is missing" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [[\"a\", \"b\"]]}, "
      "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}", "missing from the vocabulary" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}",
      "BertPreTokenizer pre-tokeniser is not supported" },
    /* wrong JSON types where values are expected: messages, never assertions */
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
      "token 'a' has no valid id" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [1]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
      "merge 0 is malformed" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"added_tokens\": [1], \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
      "added_tokens[0] is not" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
      "\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [1, {\"SpecialToken\": {\"id\": \"<s>\"}}], "
      "\"special_tokens\": {\"<s>\": {\"ids\": [\"q\"]}}}}", "non-integer id" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"pre_tokenizer\": {\"type\": \"Split\", "
      "\"pattern\": {\"Regex\": \"(\"}}}", "regex does not compile" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CsTokenizer) t = cs_tokenizer_parse (bad[i].json, -1, "tokenizer.json", &error);
      g_assert_null (t);
      g_assert_nonnull (error);
      if (!strstr (error->message, bad[i].fragment))
        g_error ("message '%s' lacks '%s'", error->message, bad[i].fragment);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/tokenizer/gpt2-cases", "gpt2", run_cases);
  g_test_add_data_func ("/tokenizer/spm-cases", "spm-style", run_cases);
  g_test_add_func ("/tokenizer/special", test_special_tokens);
  g_test_add_func ("/tokenizer/bad", test_bad_tokenizers);
  return g_test_run ();
}
