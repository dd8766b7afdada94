#include "cs-json.h"

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
