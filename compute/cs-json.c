#include "cs-json.h"
#include "cs-error.h"
#include <math.h>
#include <string.h>

static JsonNode *
value (JsonObject *o, const char *name, GType type)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == type ? n : NULL;
}

JsonObject *
cs_json_root_object (JsonParser *parser)
{
  JsonNode *root = json_parser_get_root (parser);
  return root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}

const char *
cs_json_string (JsonObject *o, const char *name, const char *dflt)
{
  JsonNode *n = value (o, name, G_TYPE_STRING);
  return n ? json_node_get_string (n) : dflt;
}

gint64
cs_json_int (JsonObject *o, const char *name, gint64 dflt)
{
  JsonNode *n = value (o, name, G_TYPE_INT64);
  return n ? json_node_get_int (n) : dflt;
}

double
cs_json_double (JsonObject *o, const char *name, double dflt)
{
  JsonNode *n = value (o, name, G_TYPE_DOUBLE);
  if (n)
    return json_node_get_double (n);
  n = value (o, name, G_TYPE_INT64);
  return n ? (double) json_node_get_int (n) : dflt;
}

gboolean
cs_json_bool (JsonObject *o, const char *name, gboolean dflt)
{
  JsonNode *n = value (o, name, G_TYPE_BOOLEAN);
  return n ? json_node_get_boolean (n) : dflt;
}

JsonObject *
cs_json_object (JsonObject *o, const char *name)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

JsonArray *
cs_json_array (JsonObject *o, const char *name)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

/* json-glib escapes some control characters and leaves others raw; only
 * string literals can hold them (its own whitespace is space and newline),
 * so each raw one met inside a literal becomes \u00XX. */
char *
cs_json_to_data (JsonNode *root, gboolean pretty, gsize *len)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *raw = NULL;
  GString *out;
  gsize n = 0;
  gboolean in_string = FALSE;

  json_generator_set_pretty (gen, pretty);
  json_generator_set_root (gen, root);
  raw = json_generator_to_data (gen, &n);
  out = g_string_sized_new (n + 16);
  for (gsize i = 0; i < n; i++)
    {
      guchar c = (guchar) raw[i];
      if (in_string && c == '\\' && i + 1 < n)
        {
          g_string_append_c (out, (char) c);
          c = (guchar) raw[++i];
          g_string_append_c (out, (char) c);   /* an escape's second character never opens or closes */
          continue;
        }
      if (c == '"')
        in_string = !in_string;
      if (in_string && c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  if (len)
    *len = out->len;
  return g_string_free (out, FALSE);
}

static gboolean
check_depth (const char *data, gsize len, GError **error)
{
  int depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > CS_JSON_MAX_DEPTH)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                           "the JSON is nested more than %d levels deep (at byte %" G_GSIZE_FORMAT "); "
                           "no file of this kind needs that", CS_JSON_MAX_DEPTH, i);
              return FALSE;
            }
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

gboolean
cs_json_parse (JsonParser *parser, const char *data, gssize len, GError **error)
{
  gsize n = len < 0 ? strlen (data) : (gsize) len;
  if (!check_depth (data, n, error))
    return FALSE;
  return json_parser_load_from_data (parser, data, (gssize) n, error);
}

gboolean
cs_json_parse_file (JsonParser *parser, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, error))
    return FALSE;
  return cs_json_parse (parser, data, (gssize) len, error);
}

gboolean
cs_whole_number (double d, gint64 lo, gint64 hi, gint64 *out)
{
  /* compared as doubles first: only then is the conversion defined */
  if (!isfinite (d) || d != floor (d) || d < (double) lo || d > (double) hi || d >= 9223372036854775808.0)
    return FALSE;
  *out = (gint64) d;
  return *out >= lo && *out <= hi;
}

gboolean
cs_json_h5_write (CsH5Writer *w, const char *dataset, JsonNode *root, GError **error)
{
  g_autofree char *text = cs_json_to_data (root, FALSE, NULL);
  const char *ps[1] = { text };
  return cs_h5_writer_add_strings (w, dataset, ps, 1, error);
}

JsonObject *
cs_json_h5_read (CsH5Reader *rd, JsonParser *parser, const char *dataset, const char *path, const char *what,
                 const char *pronoun, const char *command, const char *label, GError **error)
{
  g_auto(GStrv) ps = NULL;
  if (!cs_h5_reader_has (rd, dataset))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s holds no %s (make %s with conceptscope-cli %s … --output %s)",
                   path, what, pronoun, command, path);
      return NULL;
    }
  ps = cs_h5_reader_strings (rd, dataset, error);
  if (!ps || !ps[0] || !cs_json_parse (parser, ps[0], -1, error) || !cs_json_root_object (parser))
    {
      if (error && !*error)
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the %s parameters are unreadable", path, label);
      return NULL;
    }
  return cs_json_root_object (parser);
}
