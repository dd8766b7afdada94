/* Any JSON the program reads, and the getters that read members of it. */
#include "fuzz-common.h"
#include "cs-json.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *o;

  if (!cs_json_parse (parser, (const char *) data, (gssize) size, &error))
    return 0;
  o = cs_json_root_object (parser);
  (void) cs_json_string (o, "name", NULL);
  (void) cs_json_int (o, "n", 0);
  (void) cs_json_double (o, "x", 0);
  (void) cs_json_array (o, "list");
  (void) cs_json_object (o, "child");
  {
    g_autofree char *out = json_parser_get_root (parser) ? cs_json_to_data (json_parser_get_root (parser), FALSE, NULL)
                                                          : NULL;
  }
  return 0;
}
