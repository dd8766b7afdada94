/* A tokenizer.json, then encoding and decoding with it. */
#include "fuzz-common.h"
#include "cs-tokenizer.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTokenizer) tok = cs_tokenizer_parse ((const char *) data, (gssize) size, "fuzz", &error);
  g_autoptr(GArray) ids = NULL;

  if (!tok)
    return 0;
  ids = cs_tokenizer_encode (tok, "A beaver is a kind of rodent.  Élan 42 — ☃\n", TRUE, NULL);
  if (ids)
    {
      g_autofree char *text = cs_tokenizer_decode (tok, (const gint32 *) ids->data, ids->len, FALSE);
      for (guint i = 0; i < ids->len; i++)
        {
          g_autofree char *t = cs_tokenizer_id_to_text (tok, g_array_index (ids, gint32, i));
        }
    }
  (void) cs_tokenizer_check_vocab (tok, 1000, "fuzz", NULL);
  return 0;
}
