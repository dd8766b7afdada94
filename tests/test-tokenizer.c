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

/* The tokenizer.json is refused with a message holding fragment. */
static void
expect_refused (const char *json, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTokenizer) t = cs_tokenizer_parse (json, -1, "tokenizer.json", &error);
  g_assert_null (t);
  g_assert_nonnull (error);
  if (!strstr (error->message, fragment))
    g_error ("message '%s' lacks '%s'", error->message, fragment);
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
    expect_refused (bad[i].json, bad[i].fragment);
}

/* Every non-ASCII character as a \\uXXXX escape (a surrogate pair above
 * U+FFFF), as some JSON writers put them. */
static char *
escape_non_ascii (const char *json)
{
  GString *out = g_string_new (NULL);
  for (const char *p = json; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (c < 0x80)
        g_string_append_c (out, (char) c);
      else if (c < 0x10000)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_printf (out, "\\u%04x\\u%04x", 0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff));
    }
  return g_string_free (out, FALSE);
}

static GArray *
encode_all (CsTokenizer *tok, JsonArray *cases)
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (gint32));
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      const char *text = json_object_get_string_member (json_array_get_object_element (cases, i), "text");
      g_autoptr(GArray) ids = cs_tokenizer_encode (tok, text, TRUE, NULL);
      g_array_append_vals (all, ids->data, ids->len);
      g_array_append_val (all, i);
    }
  return all;
}

/* The vocabulary and merges are read without a JSON tree; the file's outline
 * must not matter: merges before the vocabulary, every character escaped,
 * a second "model" member (json-glib's path: the last one counts), a
 * vocabulary entry twice. Each variant encodes the reference cases exactly
 * as the file itself does. */
static void
test_outline (void)
{
  g_autofree char *tpath = tok_path ("gpt2-tokenizer.json");
  g_autofree char *cpath = tok_path ("gpt2-cases.json");
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) cparser = json_parser_new ();
  g_autoptr(CsTokenizer) ref = cs_tokenizer_load (tpath, &error);
  g_autoptr(GArray) want = NULL;
  JsonArray *cases;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (tpath, &text, NULL, &error));
  g_assert_true (json_parser_load_from_file (cparser, cpath, &error));
  cases = json_node_get_array (json_parser_get_root (cparser));
  want = encode_all (ref, cases);

  /* merges first, then the rest of the model */
  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *model = json_object_get_object_member (root, "model");
  g_autoptr(JsonObject) reordered = json_object_new ();
  json_object_set_member (reordered, "merges", json_node_copy (json_object_get_member (model, "merges")));
  g_autoptr(GList) members = json_object_get_members (model);
  for (GList *l = members; l; l = l->next)
    if (!g_str_equal (l->data, "merges"))
      json_object_set_member (reordered, l->data, json_node_copy (json_object_get_member (model, l->data)));
  json_object_set_object_member (root, "model", json_object_ref (reordered));
  g_autofree char *merges_first = json_to_string (json_parser_get_root (parser), FALSE);
  g_assert_nonnull (strstr (merges_first, "\"merges\"") );
  g_assert_true (strstr (merges_first, "\"merges\"") < strstr (merges_first, "\"vocab\""));

  g_autofree char *escaped = escape_non_ascii (text);
  g_assert_nonnull (strstr (escaped, "\\u0120"));   /* Ġ */
  /* a decoy model in front: json-glib keeps the last */
  g_autofree char *two_models = g_strconcat ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"z\": 0}},", text + 1, NULL);

  const char *variants[] = { merges_first, escaped, two_models };
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    {
      g_autoptr(CsTokenizer) tok = cs_tokenizer_parse (variants[v], -1, "variant", &error);
      g_assert_no_error (error);
      g_autoptr(GArray) got = encode_all (tok, cases);
      g_assert_cmpuint (got->len, ==, want->len);
      g_assert_cmpmem (got->data, got->len * sizeof (gint32), want->data, want->len * sizeof (gint32));
    }

  /* astral characters by surrogate pair; a lone surrogate and a token listed twice are refused */
  {
    const char *json = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\\ud83d\\ude00\": 0, \"\\u2581\": 1}, "
                       "\"merges\": []}, \"pre_tokenizer\": {\"type\": \"Metaspace\"}}";
    g_autoptr(CsTokenizer) tok = cs_tokenizer_parse (json, -1, "astral", &error);
    g_assert_no_error (error);
    g_assert_cmpint (cs_tokenizer_token_to_id (tok, "\xf0\x9f\x98\x80"), ==, 0);
    g_assert_cmpint (cs_tokenizer_token_to_id (tok, "\xe2\x96\x81"), ==, 1);
  }
  static const struct { const char *json, *fragment; } bad[] = {
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\\ud83d\": 0}}, \"pre_tokenizer\": {\"type\": \"Metaspace\"}}",
      "not valid JSON" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"a\": 1}}, \"pre_tokenizer\": {\"type\": \"Metaspace\"}}",
      "lists token 'a' twice" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [[\"a\"]]}, \"pre_tokenizer\": {\"type\": \"Metaspace\"}}",
      "merge 0 is malformed" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a b\", \"ab\"]}, "
      "\"pre_tokenizer\": {\"type\": \"Metaspace\"}}", "merge 1 is malformed" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1.5}}, \"pre_tokenizer\": {\"type\": \"Metaspace\"}}",
      "token 'a' has no valid id" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"pre_tokenizer\": {\"type\": \"Metaspace\", "
      "\"prepend_scheme\": \"sometimes\"}}", "prepend_scheme 'sometimes'" },
    /* the file ends right after "model": (the outline reader read one byte past it: found by fuzzing) */
    { "{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\"\t\n:", "not valid JSON" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    expect_refused (bad[i].json, bad[i].fragment);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/tokenizer/gpt2-cases", "gpt2", run_cases);
  g_test_add_data_func ("/tokenizer/spm-cases", "spm-style", run_cases);
  g_test_add_func ("/tokenizer/special", test_special_tokens);
  g_test_add_func ("/tokenizer/bad", test_bad_tokenizers);
  g_test_add_func ("/tokenizer/outline", test_outline);
  return g_test_run ();
}
