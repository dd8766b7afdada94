#pragma once

/* Reading members of JSON a user wrote: each getter gives the default when
 * the member is missing or of another type, so a wrong file gets the
 * caller's clear message instead of tripping json-glib's assertions (its
 * *_with_default getters assert on a list or object where a value belongs).
 * NULL objects are allowed and give the default. */

#include <json-glib/json-glib.h>

#include "cs-hdf5.h"

G_BEGIN_DECLS

JsonObject *cs_json_root_object (JsonParser *parser);
const char *cs_json_string      (JsonObject *o, const char *name, const char *dflt);
gint64      cs_json_int         (JsonObject *o, const char *name, gint64 dflt);
double      cs_json_double      (JsonObject *o, const char *name, double dflt);
gboolean    cs_json_bool        (JsonObject *o, const char *name, gboolean dflt);
JsonObject *cs_json_object      (JsonObject *o, const char *name);
JsonArray  *cs_json_array       (JsonObject *o, const char *name);

/* A number read from a user's file as an integer in [lo, hi]: FALSE when it
 * is not finite, not whole or outside (converting such a double to an
 * integer type is undefined behaviour in C: 4e32 as a tensor dimension). */
gboolean    cs_whole_number     (double      d,
                                 gint64      lo,
                                 gint64      hi,
                                 gint64     *out);

/* The deepest nesting of arrays and objects any JSON the program reads may
 * have. json-glib parses recursively, so a file nested 100,000 levels deep
 * (a config.json, a safetensors header, a tokenizer.json) overflowed the
 * stack; real files nest a dozen levels. */
#define CS_JSON_MAX_DEPTH 512

/* Parses JSON text (len −1: NUL-terminated) into parser after checking its
 * nesting, without recursion: deeper than CS_JSON_MAX_DEPTH is refused with
 * a message (CS_ERROR_FORMAT). */
gboolean    cs_json_parse       (JsonParser *parser,
                                 const char *data,
                                 gssize      len,
                                 GError    **error);
/* The same for a file. */
gboolean    cs_json_parse_file  (JsonParser *parser,
                                 const char *path,
                                 GError    **error);

/* JSON text of a node, every control character (U+0000–U+001F) inside a
 * string escaped: json-glib 1.6 writes some of them raw (U+001F among
 * them), which no JSON parser accepts. Everything the program writes as
 * JSON goes through here. len may be NULL. */
char       *cs_json_to_data     (JsonNode   *root,
                                 gboolean    pretty,
                                 gsize      *len);

/* A workspace group's parameters: a JSON object stored as a one-string
 * dataset (dataset such as "/patching/parameters"). cs_json_h5_read gives
 * the object (owned by parser), or NULL: CS_ERROR_MISSING "PATH holds no
 * WHAT (make PRONOUN with conceptscope-cli COMMAND … --output PATH)" when
 * absent, CS_ERROR_FORMAT "PATH: the LABEL parameters are unreadable". */
gboolean    cs_json_h5_write    (CsH5Writer *writer,
                                 const char *dataset,
                                 JsonNode   *root,
                                 GError    **error);
JsonObject *cs_json_h5_read     (CsH5Reader *reader,
                                 JsonParser *parser,
                                 const char *dataset,
                                 const char *path,
                                 const char *what,
                                 const char *pronoun,
                                 const char *command,
                                 const char *label,
                                 GError    **error);

G_END_DECLS
