#define G_LOG_DOMAIN "cs-steer"

#include "cs-steer.h"
#include "cs-steer-private.h"
#include "cs-error.h"
#include "cs-json.h"
#include "cs-paths.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>

/* ---------------------------------------------------------------- datasets */

static void
pair_free (gpointer p)
{
  CsSteerPair *q = p;
  g_free (q->positive);
  g_free (q->negative);
  g_free (q->question);
  g_free (q);
}

void
cs_steer_dataset_free (CsSteerDataset *ds)
{
  if (!ds)
    return;
  g_ptr_array_unref (ds->pairs);
  g_free (ds);
}

/* "(A)" → 'A'; 0 when the answer is not a single letter in parentheses. */
static char
answer_letter (const char *s)
{
  while (s && g_ascii_isspace (*s))
    s++;
  if (!s || s[0] != '(' || !g_ascii_isalpha (s[1]) || s[2] != ')')
    return 0;
  return s[1];
}

CsSteerDataset *
cs_steer_dataset_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  return cs_steer_dataset_parse (text, (gssize) len, path, error);
}

CsSteerDataset *
cs_steer_dataset_parse (const char *json, gssize len, const char *path, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CsSteerDataset) ds = NULL;
  JsonArray *items;
  JsonNode *root;

  if (!cs_json_parse (parser, json, len, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: a steering dataset is a JSON list of {\"positive\", \"negative\"} pairs or of CAA's "
                   "{\"question\", \"answer_matching_behavior\", \"answer_not_matching_behavior\"} items", path);
      return NULL;
    }
  items = json_node_get_array (root);
  ds = g_new0 (CsSteerDataset, 1);
  ds->pairs = g_ptr_array_new_with_free_func (pair_free);
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonNode *n = json_array_get_element (items, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      CsSteerPair *p;
      const char *pos, *neg, *q, *am, *an;
      if (!o)
        goto bad;
      pos = cs_json_string (o, "positive", NULL);
      neg = cs_json_string (o, "negative", NULL);
      q = cs_json_string (o, "question", NULL);
      am = cs_json_string (o, "answer_matching_behavior", NULL);
      an = cs_json_string (o, "answer_not_matching_behavior", NULL);
      p = g_new0 (CsSteerPair, 1);
      if (pos && neg && !q)
        {
          if (i > 0 && ds->ab)
            goto mixed;
          p->positive = g_strdup (pos);
          p->negative = g_strdup (neg);
        }
      else if (q && am && an)
        {
          if (i > 0 && !ds->ab)
            goto mixed;
          ds->ab = TRUE;
          p->matching = answer_letter (am);
          p->not_matching = answer_letter (an);
          if (!p->matching || !p->not_matching || p->matching == p->not_matching)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                           "%s, item %u: the answers must be two different letters like \"(A)\" and \"(B)\" "
                           "(got \"%s\" and \"%s\")", path, i + 1, am, an);
              pair_free (p);
              return NULL;
            }
          p->question = g_strdup (q);
          /* CAA: the question followed by the answer, up to its letter */
          p->positive = g_strdup_printf ("%s (%c", q, p->matching);
          p->negative = g_strdup_printf ("%s (%c", q, p->not_matching);
        }
      else
        {
          pair_free (p);
          goto bad;
        }
      if (!*p->positive || !*p->negative)
        {
          pair_free (p);
          goto bad;
        }
      g_ptr_array_add (ds->pairs, p);
      continue;
mixed:
      pair_free (p);
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s, item %u: plain pairs and A/B items are mixed", path, i + 1);
      return NULL;
bad:
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s, item %u: expected {\"positive\": text, \"negative\": text} or {\"question\", "
                   "\"answer_matching_behavior\", \"answer_not_matching_behavior\"} with non-empty texts", path, i + 1);
      return NULL;
    }
  if (ds->pairs->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s holds no pairs", path);
      return NULL;
    }
  return g_steal_pointer (&ds);
}

char *
cs_steer_shipped_dataset (const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s%s", name, g_str_has_suffix (name, ".json") ? "" : ".json");
  char *p = g_build_filename (cs_paths_get_datadir (), "steering", file, NULL);
  if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
    return p;
  g_free (p);
  return NULL;
}

GArray *
cs_steer_parse_layers (const char *spec, int n_layers, GError **error)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (int));
  g_auto(GStrv) parts = NULL;
  g_autofree char *all = g_strstrip (g_strdup (spec ? spec : ""));

  if (!*all || g_str_equal (all, "all"))
    {
      for (int l = 0; l < n_layers; l++)
        g_array_append_val (a, l);
      return a;
    }
  parts = g_strsplit (all, ",", -1);
  for (guint i = 0; parts[i]; i++)
    {
      char *part = g_strstrip (parts[i]), *end = NULL;
      long lo, hi;
      if (!*part)
        continue;
      lo = hi = strtol (part, &end, 10);
      if (end != part && *end == '-')
        {
          char *from = end + 1;
          hi = strtol (from, &end, 10);
          if (end == from)
            end = from - 1;
        }
      if (end == part || *end)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "layers are 'all', a range like 0-3 or a list like 1,2 (got '%s')", spec);
          g_array_free (a, TRUE);
          return NULL;
        }
      if (lo < 0 || hi >= n_layers || lo > hi)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "layers %s: this model's layers are 0 to %d", spec,
                       n_layers - 1);
          g_array_free (a, TRUE);
          return NULL;
        }
      for (long l = lo; l <= hi; l++)
        {
          int li = (int) l;
          g_array_append_val (a, li);
        }
    }
  if (a->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "give at least one layer");
      g_array_free (a, TRUE);
      return NULL;
    }
  return a;
}

GArray *
cs_steer_parse_multipliers (const char *spec, GError **error)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (double));
  g_auto(GStrv) parts = g_strsplit (spec ? spec : "", ",", -1);
  for (guint i = 0; parts[i]; i++)
    {
      char *part = g_strstrip (parts[i]), *end;
      double m;
      if (!*part)
        continue;
      m = g_ascii_strtod (part, &end);
      if (end == part || *end || !isfinite (m))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "multipliers are numbers like -8,-4,0,4,8 (got '%s')",
                       spec ? spec : "");
          g_array_free (a, TRUE);
          return NULL;
        }
      g_array_append_val (a, m);
    }
  if (a->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "give at least one multiplier");
      g_array_free (a, TRUE);
      return NULL;
    }
  return a;
}

gboolean
cs_steer_is_held_out (guint i, double held_out)
{
  double x = fmod ((double) i * 0.6180339887498949, 1.0);
  return x < held_out;
}

GArray *
steer_encode (CsModel *model, CsTokenizer *tok, const char *text, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  GArray *ids = cs_tokenizer_encode (tok, text, TRUE, error);
  if (!ids)
    return NULL;
  if ((int) ids->len > cfg->max_positions)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the prompt \"%.40s…\" has %u tokens, longer than the model's "
                   "context of %d", text, ids->len, cfg->max_positions);
      g_array_unref (ids);
      return NULL;
    }
  if (ids->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "a prompt is empty after tokenisation");
      g_array_unref (ids);
      return NULL;
    }
  return ids;
}
