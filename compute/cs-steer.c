#define G_LOG_DOMAIN "cs-steer"

#include "cs-steer.h"
#include "cs-error.h"
#include "cs-json.h"
#include "cs-forward.h"
#include "cs-gpu.h"
#include "cs-hdf5.h"
#include "cs-paths.h"

#include <hdf5.h>

#include <cblas.h>
#include <json-glib/json-glib.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Prompts per forward call: runs that capture every layer keep their
 * activations, so they go by 32; sweeps keep one layer's stream and
 * last-position logits and go by 128, which also converts 16-bit weights a
 * quarter as often. */
#define BATCH 32
#define SWEEP_BATCH 128

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

static GArray *
encode (CsModel *model, CsTokenizer *tok, const char *text, GError **error)
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

/* ------------------------------------------------------------------ vectors */

void
cs_steer_vectors_free (CsSteerVectors *v)
{
  if (!v)
    return;
  g_free (v->vectors);
  g_free (v->differences);
  g_free (v->norms);
  g_free (v->resid_norms);
  g_free (v);
}

static char **
all_layer_hooks (int n_layers)
{
  char **hooks = g_new0 (char *, n_layers + 1);
  for (int l = 0; l < n_layers; l++)
    hooks[l] = g_strdup_printf ("resid_post.%d", l);
  return hooks;
}

CsSteerVectors *
cs_steer_compute (CsModel *model, CsTokenizer *tok, CsSteerDataset *ds, double held_out, CsSteerPosition position,
                  CsDevice device, CsProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                  GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int L = cfg->n_layers, d = cfg->hidden;
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();      /* positive, negative, positive, … */
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autofree int *pos_index = NULL;
  g_auto(GStrv) hooks = all_layer_hooks (L);
  CsSteerVectors *v;
  int n_pairs;

  if (position == CS_STEER_POSITION_ANSWER && !ds->ab)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                   "the answer position needs A/B items; plain pairs use the last token");
      return NULL;
    }
  for (guint i = 0; i < ds->pairs->len; i++)
    if (!cs_steer_is_held_out (i, held_out))
      {
        CsSteerPair *p = ds->pairs->pdata[i];
        g_ptr_array_add (texts, p->positive);
        g_ptr_array_add (texts, p->negative);
      }
  n_pairs = (int) texts->len / 2;
  if (n_pairs == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "no pairs are left to compute the vector from (all %u held out)",
                   ds->pairs->len);
      return NULL;
    }
  for (guint k = 0; k < texts->len; k++)
    {
      GArray *a = encode (model, tok, texts->pdata[k], error);
      if (!a)
        return NULL;
      g_ptr_array_add (ids, a);
    }
  /* the position: the last token; with A/B items the answer letter is the
   * last token of "question (X" too, as those texts end at the letter */
  pos_index = g_new (int, texts->len);
  for (guint k = 0; k < texts->len; k++)
    pos_index[k] = (int) ((GArray *) ids->pdata[k])->len - 1;

  v = g_new0 (CsSteerVectors, 1);
  v->n_layers = L;
  v->d = d;
  v->n_pairs = n_pairs;
  v->vectors = g_new0 (float, (gsize) L * d);
  v->differences = g_new (float, (gsize) L * n_pairs * d);
  v->norms = g_new0 (double, L);
  v->resid_norms = g_new0 (double, L);
  for (guint b0 = 0; b0 < texts->len; b0 += BATCH)
    {
      int nb = (int) MIN ((guint) BATCH, texts->len - b0);
      g_autofree const gint32 **bids = g_new (const gint32 *, nb);
      g_autofree int *blen = g_new (int, nb);
      CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
      g_autoptr(CsForwardResult) r = NULL;

      for (int b = 0; b < nb; b++)
        {
          GArray *a = ids->pdata[b0 + b];
          bids[b] = (const gint32 *) a->data;
          blen[b] = (int) a->len;
        }
      opt.capture = (const char * const *) hooks;
      opt.logits = CS_LOGITS_NONE;
      opt.device = device;
      r = cs_forward_run (model, bids, blen, nb, &opt, cancellable, error);
      if (!r)
        {
          cs_steer_vectors_free (v);
          return NULL;
        }
      for (int l = 0; l < L; l++)
        {
          const float *cap = cs_forward_result_get_capture (r, hooks[l]);
          for (int b = 0; b < nb; b++)
            {
              guint k = b0 + b;
              const float *row = cap + ((gsize) b * r->seq + pos_index[k]) * d;
              float *diff = v->differences + ((gsize) l * n_pairs + k / 2) * d;
              double nn = 0;
              for (int j = 0; j < d; j++)
                nn += (double) row[j] * row[j];
              v->resid_norms[l] += sqrt (nn) / texts->len;
              /* positive first, then negative: the pair's difference */
              if (k % 2 == 0)
                memcpy (diff, row, sizeof (float) * d);
              else
                for (int j = 0; j < d; j++)
                  diff[j] -= row[j];
            }
        }
      if (progress)
        progress ((double) (b0 + nb) / texts->len, progress_data);
    }
  for (int l = 0; l < L; l++)
    {
      float *vec = v->vectors + (gsize) l * d;
      double nn = 0;
      for (int p = 0; p < n_pairs; p++)
        {
          const float *diff = v->differences + ((gsize) l * n_pairs + p) * d;
          for (int j = 0; j < d; j++)
            vec[j] += diff[j] / n_pairs;
        }
      for (int j = 0; j < d; j++)
        nn += (double) vec[j] * vec[j];
      v->norms[l] = sqrt (nn);
    }
  return v;
}

/* ------------------------------------------------------------------ prompts */

void
cs_steer_prompts_free (CsSteerPrompts *p)
{
  if (!p)
    return;
  for (int i = 0; i < p->n; i++)
    g_free (p->ids[i]);
  g_free (p->ids);
  g_free (p->lengths);
  g_free (p->letter_match);
  g_free (p->letter_other);
  g_free (p);
}

/* The id of a letter as the answer's next token: the last token of
 * "question (X", checked to follow the tokens of "question (". */
static gint32
letter_token (CsModel *model, CsTokenizer *tok, const char *question, char letter, GArray *prefix, GError **error)
{
  g_autofree char *text = g_strdup_printf ("%s (%c", question, letter);
  g_autoptr(GArray) a = encode (model, tok, text, error);
  if (!a)
    return -1;
  if (a->len != prefix->len + 1 || memcmp (a->data, prefix->data, sizeof (gint32) * prefix->len) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "the answer letter %c is not one token after \"… (\" with this tokenizer", letter);
      return -1;
    }
  return g_array_index (a, gint32, a->len - 1);
}

CsSteerPrompts *
cs_steer_prompts_new (CsModel *model, CsTokenizer *tok, CsSteerDataset *ds, double held_out, gboolean held_out_only,
                      GError **error)
{
  g_autoptr(CsSteerPrompts) p = g_new0 (CsSteerPrompts, 1);
  GPtrArray *ids = g_ptr_array_new ();
  GArray *lengths = g_array_new (FALSE, FALSE, sizeof (int));
  GArray *lm = g_array_new (FALSE, FALSE, sizeof (gint32)), *lo = g_array_new (FALSE, FALSE, sizeof (gint32));
  gboolean ok = TRUE;

  p->ab = ds->ab;
  for (guint i = 0; i < ds->pairs->len && ok; i++)
    {
      CsSteerPair *q = ds->pairs->pdata[i];
      g_autoptr(GArray) a = NULL;
      int len;
      if (held_out_only && held_out > 0 && !cs_steer_is_held_out (i, held_out))
        continue;
      if (ds->ab)
        {
          g_autofree char *text = g_strdup_printf ("%s (", q->question);
          gint32 m, o;
          a = encode (model, tok, text, error);
          if (!a || (m = letter_token (model, tok, q->question, q->matching, a, error)) < 0 ||
              (o = letter_token (model, tok, q->question, q->not_matching, a, error)) < 0)
            {
              ok = FALSE;
              break;
            }
          g_array_append_val (lm, m);
          g_array_append_val (lo, o);
        }
      else if (!(a = encode (model, tok, q->negative, error)))
        {
          ok = FALSE;
          break;
        }
      len = (int) a->len;
      g_ptr_array_add (ids, g_memdup2 (a->data, sizeof (gint32) * a->len));
      g_array_append_val (lengths, len);
    }
  p->n = (int) ids->len;
  p->ids = (gint32 **) g_ptr_array_free (ids, FALSE);
  p->lengths = (int *) g_array_free (lengths, FALSE);
  p->letter_match = (gint32 *) g_array_free (lm, FALSE);
  p->letter_other = (gint32 *) g_array_free (lo, FALSE);
  if (!ok)
    return NULL;
  if (p->n == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "no prompts to measure (no held-out pairs; lower --held-out "
                   "or use all pairs)");
      return NULL;
    }
  return g_steal_pointer (&p);
}

static void
softmax_row (const float *logits, int V, double *p)
{
  double mx = -INFINITY, s = 0;
  for (int j = 0; j < V; j++)
    mx = MAX (mx, logits[j]);
  for (int j = 0; j < V; j++)
    s += (p[j] = exp ((double) logits[j] - mx));
  for (int j = 0; j < V; j++)
    p[j] /= s;
}

void
cs_steer_behaviour (const CsSteerPrompts *p, const float *logits, int V, const gint32 *targets, int n_targets,
                    double *out)
{
  g_autofree double *prob = g_new (double, V);
  for (int i = 0; i < p->n; i++)
    {
      softmax_row (logits + (gsize) i * V, V, prob);
      if (p->ab)
        {
          double a = prob[p->letter_match[i]], b = prob[p->letter_other[i]];
          out[i] = a + b > 0 ? a / (a + b) : 0.5;
        }
      else
        {
          double s = 0;
          for (int t = 0; t < n_targets; t++)
            s += prob[targets[t]];
          out[i] = s;
        }
    }
}

/* -------------------------------------------------------------------- sweep */

void
cs_steer_sweep_free (CsSteerSweep *s)
{
  if (!s)
    return;
  g_free (s->layers);
  g_free (s->multipliers);
  g_free (s->behaviour);
  g_free (s->behaviour_sd);
  g_free (s);
}

/* Steering for a forward run: m × vec at resid_post.layer from position
 * `from` on; nothing when layer < 0 or m is 0. */
static void
set_steering (CsForwardOptions *opt, int layer, double m, const float *vec, int from)
{
  if (layer < 0 || m == 0)
    return;
  opt->steer_layer = layer;
  opt->steer_multiplier = (float) m;
  opt->steer_vector = vec;
  opt->steer_from = from;
}

/* One run of all prompts with one steering setting, capturing the hooks:
 * last-position logits. */
static float *
run_prompts (CsModel *model, CsSteerPrompts *p, int layer, double mult, const float *vec,
             const char * const *capture, CsForwardResult **captured, CsDevice device, GCancellable *cancellable,
             GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  float *logits = g_new (float, (gsize) p->n * cfg->vocab);

  for (int b0 = 0; b0 < p->n; b0 += BATCH)
    {
      int nb = MIN (BATCH, p->n - b0);
      CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
      g_autoptr(CsForwardResult) r = NULL;
      opt.logits = CS_LOGITS_LAST;
      opt.device = device;
      opt.capture = capture;
      set_steering (&opt, layer, mult, vec, p->steer_from);
      r = cs_forward_run (model, (const gint32 * const *) p->ids + b0, p->lengths + b0, nb, &opt, cancellable, error);
      if (!r)
        {
          g_free (logits);
          return NULL;
        }
      memcpy (logits + (gsize) b0 * cfg->vocab, r->logits, sizeof (float) * nb * cfg->vocab);
      if (captured)
        {
          /* callers asking for captures pass one batch only */
          g_assert (p->n <= BATCH);
          *captured = g_steal_pointer (&r);
        }
    }
  return logits;
}

CsSteerSweep *
cs_steer_sweep (CsModel *model, CsSteerVectors *v, CsSteerPrompts *prompts, const int *layers, int n_layers,
                const double *multipliers, int n_mult, const gint32 *targets, int n_targets, CsDevice device,
                CsProgressFunc progress, gpointer progress_data, GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  g_autoptr(CsSteerSweep) s = g_new0 (CsSteerSweep, 1);
  g_autofree double *per = NULL;
  g_autofree int *order = NULL;
  gint64 t0 = g_get_monotonic_time ();
  gint64 tokens = 0;

  if (!prompts->ab && n_targets < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "plain pairs are measured by the probability of target tokens: "
                   "give the targets (a category)");
      return NULL;
    }
  for (int i = 0; i < prompts->n; i++)
    tokens += prompts->lengths[i];
  for (int a = 0; a < n_layers; a++)
    if (layers[a] < 0 || layers[a] >= cfg->n_layers)
      {
        g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "layer %d is out of range: this model's layers are 0 to %d",
                     layers[a], cfg->n_layers - 1);
        return NULL;
      }
  s->n_layers = n_layers;
  s->n_mult = n_mult;
  s->layers = g_memdup2 (layers, sizeof (int) * n_layers);
  s->multipliers = g_memdup2 (multipliers, sizeof (double) * n_mult);
  s->behaviour = g_new (double, n_layers * n_mult);
  s->behaviour_sd = g_new (double, n_layers * n_mult);
  /* the layers in ascending order: each batch's stream is carried from one
   * sweep layer to the next, and every steered run resumes from it */
  order = g_new (int, n_layers);
  for (int a = 0; a < n_layers; a++)
    order[a] = a;
  for (int i = 1; i < n_layers; i++)
    for (int j = i; j > 0 && layers[order[j - 1]] > layers[order[j]]; j--)
      {
        int t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
  per = g_new (double, (gsize) n_layers * n_mult * prompts->n);
  for (int b0 = 0; b0 < prompts->n; b0 += SWEEP_BATCH)
    {
      CsSteerPrompts sub = *prompts;
      g_autoptr(CsForwardResult) cur = NULL;
      g_autofree float *plain = NULL;   /* the unsteered last-position logits */
      int nb = MIN (SWEEP_BATCH, prompts->n - b0), cur_layer = -1;
      const gint32 * const *ids = (const gint32 * const *) prompts->ids + b0;

      sub.n = nb;
      sub.ids = prompts->ids + b0;
      sub.lengths = prompts->lengths + b0;
      if (prompts->ab)
        {
          sub.letter_match = prompts->letter_match + b0;
          sub.letter_other = prompts->letter_other + b0;
        }
      for (int oi = 0; oi < n_layers; oi++)
        {
          int a = order[oi], L = layers[a];
          char name[32];
          const char *caps[2] = { name, NULL };
          const float *stream;

          g_snprintf (name, sizeof name, "resid_post.%d", L);
          if (!cur || cur_layer != L)
            {
              /* the unsteered stream at L: from the embedding the first
               * time (with the unsteered logits), then from the last layer */
              CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
              CsForwardResult *next;
              opt.device = device;
              opt.capture = caps;
              opt.logits = cur ? CS_LOGITS_NONE : CS_LOGITS_LAST;
              if (cur)
                {
                  g_autofree char *prev = g_strdup_printf ("resid_post.%d", cur_layer);
                  opt.stop_layer = L;
                  opt.resume_layer = cur_layer;
                  opt.resume_from = cs_forward_result_get_capture (cur, prev);
                }
              next = cs_forward_run (model, ids, sub.lengths, nb, &opt, cancellable, error);
              if (!next)
                return NULL;
              if (!cur)
                plain = g_steal_pointer (&next->logits);
              cs_forward_result_free (cur);
              cur = next;
              cur_layer = L;
            }
          stream = cs_forward_result_get_capture (cur, name);
          for (int m = 0; m < n_mult; m++)
            {
              double *out = per + ((gsize) a * n_mult + m) * prompts->n + b0;
              if (multipliers[m] == 0)
                cs_steer_behaviour (&sub, plain, cfg->vocab, targets, n_targets, out);
              else
                {
                  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
                  g_autoptr(CsForwardResult) r = NULL;
                  opt.device = device;
                  opt.logits = CS_LOGITS_LAST;
                  opt.resume_layer = L;
                  opt.resume_from = stream;
                  set_steering (&opt, L, multipliers[m], v->vectors + (gsize) L * v->d, prompts->steer_from);
                  r = cs_forward_run (model, ids, sub.lengths, nb, &opt, cancellable, error);
                  if (!r)
                    return NULL;
                  cs_steer_behaviour (&sub, r->logits, cfg->vocab, targets, n_targets, out);
                }
              if (progress)
                progress ((double) (b0 * n_layers * n_mult + nb * (oi * n_mult + m + 1)) /
                          ((double) prompts->n * n_layers * n_mult), progress_data);
            }
        }
    }
  for (int k = 0; k < n_layers * n_mult; k++)
    {
      const double *v_k = per + (gsize) k * prompts->n;
      double mean = 0, var = 0;
      for (int i = 0; i < prompts->n; i++)
        mean += v_k[i] / prompts->n;
      for (int i = 0; i < prompts->n; i++)
        var += (v_k[i] - mean) * (v_k[i] - mean) / MAX (1, prompts->n - 1);
      s->behaviour[k] = mean;
      s->behaviour_sd[k] = sqrt (var);
    }
  s->tokens = tokens * n_layers * n_mult;
  s->seconds = (g_get_monotonic_time () - t0) / 1e6;
  return g_steal_pointer (&s);
}

/* ------------------------------------------------------------------ effects */

void
cs_steer_effects_free (CsSteerEffects *e)
{
  if (!e)
    return;
  g_free (e->row_layers);
  if (e->col_labels)
    for (int c = 0; c < e->n_cols; c++)
      g_free (e->col_labels[c]);
  g_free (e->col_labels);
  g_free (e->col_kind);
  g_free (e->col_index);
  g_free (e->values);
  g_free (e);
}

/* Cov^(1/2) = (Cov^(−1/2))^(−1), by a Cholesky factorisation of the
 * symmetric positive definite Cov^(−1/2). */
static double *
cov_sqrt (CsGeometrySpace *space, GError **error)
{
  int d = space->d;
  double *m = g_memdup2 (space->inv_sqrt, sizeof (double) * d * d);
  if (LAPACKE_dpotrf (LAPACK_ROW_MAJOR, 'L', d, m, d) != 0 || LAPACKE_dpotri (LAPACK_ROW_MAJOR, 'L', d, m, d) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "the whitening matrix cannot be inverted");
      g_free (m);
      return NULL;
    }
  for (int i = 0; i < d; i++)
    for (int j = i + 1; j < d; j++)
      m[(gsize) i * d + j] = m[(gsize) j * d + i];
  return m;
}

/* u_c = Cov^(1/2) ℓ̄_c / ‖ℓ̄_c‖: then ⟨ℓ̄_c/‖ℓ̄_c‖, Cov^(1/2) λ⟩ = u_c · λ. */
static double *
concept_readouts (CsGeometrySpace *space, CsGeometry *geo, GError **error)
{
  int d = space->d, n = (int) geo->categories->items->len;
  g_autofree double *S = cov_sqrt (space, error);
  double *u;
  if (!S)
    return NULL;
  u = g_new0 (double, (gsize) n * d);
  for (int c = 0; c < n; c++)
    {
      if (!geo->vectors[c].estimated || !(geo->vectors[c].norm > 0))
        continue;
      cblas_dgemv (CblasRowMajor, CblasNoTrans, d, d, 1.0 / geo->vectors[c].norm, S, d, geo->vectors[c].lbar, 1, 0.0,
                   u + (gsize) c * d, 1);
    }
  return u;
}

typedef struct
{
  double best;
  int    kind, index;
} Candidate;

static int
cmp_candidate (const void *a, const void *b)
{
  const Candidate *x = a, *y = b;
  if (x->best != y->best)
    return x->best > y->best ? -1 : 1;
  return x->index - y->index;
}

/* "SAE 123 ' dog' ' cat'" for each latent: the two tokens its decoder row
 * raises most through the unembedding, all latents in one pass over it. */
static void
sae_labels (CsModel *model, CsTokenizer *tok, CsSae *sae, const int *latents, int n, char **out)
{
  const CsTensor *U = cs_model_get_unembedding (model);
  int d = sae->d_in, V = (int) U->shape[0];
  g_autofree float *row = g_new (float, d);
  g_autofree float *best = g_new (float, 2 * MAX (1, n));
  g_autofree gint32 *id = g_new (gint32, 2 * MAX (1, n));

  for (int i = 0; i < 2 * n; i++)
    {
      best[i] = -INFINITY;
      id[i] = -1;
    }
  for (int t = 0; tok && t < V; t++)
    {
      cs_tensor_read_f32 (U, (gsize) t * d, d, row);
      for (int i = 0; i < n; i++)
        {
          const float *w = sae->W_dec + (gsize) latents[i] * d;
          float s2 = 0;
          for (int j = 0; j < d; j++)
            s2 += row[j] * w[j];
          if (s2 > best[2 * i])
            {
              best[2 * i + 1] = best[2 * i];
              id[2 * i + 1] = id[2 * i];
              best[2 * i] = s2;
              id[2 * i] = t;
            }
          else if (s2 > best[2 * i + 1])
            {
              best[2 * i + 1] = s2;
              id[2 * i + 1] = t;
            }
        }
    }
  for (int i = 0; i < n; i++)
    {
      g_autofree char *a = id[2 * i] >= 0 ? cs_tokenizer_id_to_text (tok, id[2 * i]) : NULL;
      g_autofree char *b = id[2 * i + 1] >= 0 ? cs_tokenizer_id_to_text (tok, id[2 * i + 1]) : NULL;
      out[i] = a && b ? g_strdup_printf ("SAE %d '%s' '%s'", latents[i], a, b) : g_strdup_printf ("SAE %d", latents[i]);
    }
}

CsSteerEffects *
cs_steer_effects (CsModel *model, CsTokenizer *tok, CsSteerVectors *v, CsSteerPrompts *prompts, int layer,
                  double multiplier, CsGeometrySpace *space, CsGeometry *geometry, CsSae *sae, int sae_layer,
                  int top_k, CsDevice device, GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int L = cfg->n_layers, d = cfg->hidden, V = cfg->vocab;
  int rows = L - layer, n_prompts = MIN (prompts->n, BATCH);
  int n_cat = geometry ? (int) geometry->categories->items->len : 0;
  int d_sae = sae ? sae->d_sae : 0;
  g_auto(GStrv) hooks = all_layer_hooks (L);
  g_autoptr(CsForwardResult) base = NULL;
  g_autoptr(CsForwardResult) steered = NULL;
  g_autofree float *l0 = NULL, *l1 = NULL;
  g_autofree double *readout = NULL;
  /* per row: concept Δ [n_cat], SAE Δ [d_sae], token Δ [V] */
  g_autofree double *dc = g_new0 (double, (gsize) rows * MAX (1, n_cat));
  g_autofree double *ds = g_new0 (double, (gsize) rows * MAX (1, d_sae));
  g_autofree double *dt = g_new0 (double, (gsize) rows * V);
  CsSteerPrompts sub = *prompts;
  CsSteerEffects *e;
  GArray *cands;

  if (layer < 0 || layer >= L)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "layer %d is out of range: this model's layers are 0 to %d",
                   layer, L - 1);
      return NULL;
    }
  if (sae && sae->d_in != d)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the SAE reads %d-dimensional activations, the model's are %d",
                   sae->d_in, d);
      return NULL;
    }
  if (geometry && space && !(readout = concept_readouts (space, geometry, error)))
    return NULL;
  sub.n = n_prompts;
  l0 = run_prompts (model, &sub, -1, 0, NULL, (const char * const *) hooks, &base, device, cancellable, error);
  if (!l0)
    return NULL;
  l1 = run_prompts (model, &sub, layer, multiplier, v->vectors + (gsize) layer * d, (const char * const *) hooks,
                    &steered, device, cancellable, error);
  if (!l1)
    return NULL;
  {
    g_autofree float *h0 = g_new (float, (gsize) n_prompts * d), *h1 = g_new (float, (gsize) n_prompts * d);
    g_autofree float *n0 = g_new (float, (gsize) n_prompts * d), *n1 = g_new (float, (gsize) n_prompts * d);
    g_autofree float *z0 = g_new (float, (gsize) n_prompts * V), *z1 = g_new (float, (gsize) n_prompts * V);
    g_autofree float *f0 = sae ? g_new (float, (gsize) n_prompts * d_sae) : NULL;
    g_autofree float *f1 = sae ? g_new (float, (gsize) n_prompts * d_sae) : NULL;
    g_autofree double *p0 = g_new (double, V), *p1 = g_new (double, V);
    for (int r = 0; r < rows; r++)
      {
        int l = layer + r;
        const float *c0 = cs_forward_result_get_capture (base, hooks[l]);
        const float *c1 = cs_forward_result_get_capture (steered, hooks[l]);
        for (int i = 0; i < n_prompts; i++)
          {
            gsize last = (gsize) i * base->seq + sub.lengths[i] - 1;
            memcpy (h0 + (gsize) i * d, c0 + last * d, sizeof (float) * d);
            memcpy (h1 + (gsize) i * d, c1 + last * d, sizeof (float) * d);
          }
        cs_forward_unembed (model, h0, n_prompts, n0, z0);
        cs_forward_unembed (model, h1, n_prompts, n1, z1);
        for (int i = 0; i < n_prompts; i++)
          {
            softmax_row (z0 + (gsize) i * V, V, p0);
            softmax_row (z1 + (gsize) i * V, V, p1);
            for (int t = 0; t < V; t++)
              dt[(gsize) r * V + t] += (p1[t] - p0[t]) / n_prompts;
            for (int c = 0; c < n_cat && readout; c++)
              {
                double a = 0, b = 0;
                const double *u = readout + (gsize) c * d;
                for (int j = 0; j < d; j++)
                  {
                    a += u[j] * n0[(gsize) i * d + j];
                    b += u[j] * n1[(gsize) i * d + j];
                  }
                dc[(gsize) r * n_cat + c] += (b - a) / n_prompts;
              }
          }
        if (sae && l == sae_layer)
          {
            cs_sae_encode (sae, h0, n_prompts, f0);
            cs_sae_encode (sae, h1, n_prompts, f1);
            for (int i = 0; i < n_prompts; i++)
              for (int k = 0; k < d_sae; k++)
                ds[(gsize) r * d_sae + k] += ((double) f1[(gsize) i * d_sae + k] - f0[(gsize) i * d_sae + k]) / n_prompts;
          }
      }
  }
  /* columns: the top_k of each kind by the largest |change| over the rows */
  cands = g_array_new (FALSE, FALSE, sizeof (Candidate));
  e = g_new0 (CsSteerEffects, 1);
  for (int kind = 0; kind < 3; kind++)
    {
      int n = kind == 0 ? (readout ? n_cat : 0) : kind == 1 ? (sae && sae_layer >= layer && sae_layer < L ? d_sae : 0) : V;
      const double *src = kind == 0 ? dc : kind == 1 ? ds : dt;
      int stride = kind == 0 ? n_cat : kind == 1 ? d_sae : V;
      g_autofree Candidate *all = g_new (Candidate, MAX (1, n));
      int m = 0;
      for (int f = 0; f < n; f++)
        {
          double best = 0;
          if (kind == 0 && !geometry->vectors[f].estimated)
            continue;
          for (int r = 0; r < rows; r++)
            best = MAX (best, fabs (src[(gsize) r * stride + f]));
          all[m++] = (Candidate) { best, kind, f };
        }
      qsort (all, m, sizeof (Candidate), cmp_candidate);
      g_array_append_vals (cands, all, MIN (m, kind == 0 ? MAX (top_k, m) : top_k));
    }
  e->n_rows = rows;
  e->n_cols = (int) cands->len;
  e->steer_layer = layer;
  e->multiplier = multiplier;
  e->row_layers = g_new (int, rows);
  e->col_labels = g_new0 (char *, e->n_cols + 1);
  e->col_kind = g_new (int, e->n_cols);
  e->col_index = g_new (int, e->n_cols);
  e->values = g_new (double, (gsize) rows * MAX (1, e->n_cols));
  for (int r = 0; r < rows; r++)
    e->row_layers[r] = layer + r;
  for (int c = 0; c < e->n_cols; c++)
    {
      Candidate *k = &g_array_index (cands, Candidate, c);
      e->col_kind[c] = k->kind;
      e->col_index[c] = k->index;
      if (k->kind == 0)
        e->col_labels[c] = g_strdup_printf ("ℓ̄ %s", cs_category_set_get (geometry->categories, k->index)->name);
      else if (k->kind == 2)
        {
          g_autofree char *t = tok ? cs_tokenizer_id_to_text (tok, k->index) : g_strdup_printf ("%d", k->index);
          e->col_labels[c] = g_strdup_printf ("p('%s')", t);
        }
      for (int r = 0; r < rows; r++)
        {
          double val;
          if (k->kind == 0)
            val = dc[(gsize) r * n_cat + k->index];
          else if (k->kind == 1)
            val = layer + r == sae_layer ? ds[(gsize) r * d_sae + k->index] : NAN;
          else
            val = dt[(gsize) r * V + k->index];
          e->values[(gsize) r * e->n_cols + c] = val;
        }
    }
  {
    /* the SAE latents' labels, together: one pass over the unembedding */
    g_autofree int *latents = g_new (int, MAX (1, e->n_cols));
    g_autofree int *cols = g_new (int, MAX (1, e->n_cols));
    g_autofree char **labels = g_new0 (char *, MAX (1, e->n_cols));
    int m = 0;
    for (int c = 0; c < e->n_cols; c++)
      if (e->col_kind[c] == 1)
        {
          latents[m] = e->col_index[c];
          cols[m++] = c;
        }
    if (m)
      sae_labels (model, tok, sae, latents, m, labels);
    for (int i = 0; i < m; i++)
      e->col_labels[cols[i]] = labels[i];
  }
  g_array_free (cands, TRUE);
  return e;
}

typedef struct
{
  const CsSteerEffects *e;
  CsSteerColumnOrder    order;
} SortCtx;

static double
column_peak (const CsSteerEffects *e, int c)
{
  double best = 0;
  for (int r = 0; r < e->n_rows; r++)
    if (isfinite (e->values[r * e->n_cols + c]))
      best = MAX (best, fabs (e->values[r * e->n_cols + c]));
  return best;
}

static int
cmp_columns (gconstpointer a, gconstpointer b, gpointer data)
{
  const SortCtx *ctx = data;
  int x = *(const int *) a, y = *(const int *) b;
  double px = column_peak (ctx->e, x), py = column_peak (ctx->e, y);
  /* by kind: concepts, SAE latents, tokens, each by its largest change (the
   * order cs_steer_effects makes) */
  if (ctx->order == CS_STEER_SORT_KIND && ctx->e->col_kind[x] != ctx->e->col_kind[y])
    return ctx->e->col_kind[x] - ctx->e->col_kind[y];
  if (px != py)
    return px > py ? -1 : 1;
  return ctx->e->col_index[x] - ctx->e->col_index[y];
}

void
cs_steer_effects_sort (CsSteerEffects *e, CsSteerColumnOrder order, gboolean layers_ascending)
{
  int R = e->n_rows, C = e->n_cols;
  g_autofree int *perm = g_new (int, MAX (1, C));
  g_autofree double *vals = g_memdup2 (e->values, sizeof (double) * R * MAX (1, C));
  g_autofree int *kind = g_memdup2 (e->col_kind, sizeof (int) * MAX (1, C));
  g_autofree int *index = g_memdup2 (e->col_index, sizeof (int) * MAX (1, C));
  g_autofree char **labels = g_memdup2 (e->col_labels, sizeof (char *) * (C + 1));
  g_autofree int *rows = g_memdup2 (e->row_layers, sizeof (int) * MAX (1, R));
  g_autofree int *rperm = g_new (int, MAX (1, R));
  SortCtx ctx = { e, order };

  for (int c = 0; c < C; c++)
    perm[c] = c;
  /* the rank order within a kind is the original order */
  g_qsort_with_data (perm, C, sizeof (int), cmp_columns, &ctx);
  for (int r = 0; r < R; r++)
    rperm[r] = r;
  for (int i = 0; i < R; i++)
    for (int j = i + 1; j < R; j++)
      if (layers_ascending ? rows[rperm[j]] < rows[rperm[i]] : rows[rperm[j]] > rows[rperm[i]])
        {
          int t = rperm[i];
          rperm[i] = rperm[j];
          rperm[j] = t;
        }
  for (int c = 0; c < C; c++)
    {
      e->col_kind[c] = kind[perm[c]];
      e->col_index[c] = index[perm[c]];
      e->col_labels[c] = labels[perm[c]];
    }
  for (int r = 0; r < R; r++)
    {
      e->row_layers[r] = rows[rperm[r]];
      for (int c = 0; c < C; c++)
        e->values[r * C + c] = vals[rperm[r] * C + perm[c]];
    }
}

/* ---------------------------------------------------------------------- SVD */

void
cs_steer_svd_free (CsSteerSvd *s)
{
  if (!s)
    return;
  g_free (s->values);
  g_free (s->explained);
  g_free (s->top);
  g_free (s->bottom);
  g_free (s);
}

typedef struct
{
  float  v;
  gint32 id;
} TokVal;

static int
cmp_tokval_desc (const void *a, const void *b)
{
  const TokVal *x = a, *y = b;
  if (x->v != y->v)
    return x->v > y->v ? -1 : 1;
  return x->id - y->id;
}

CsSteerSvd *
cs_steer_svd (CsModel *model, CsSteerVectors *v, int layer, int k, int n_tokens, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int n = v->n_pairs, d = v->d, r = MIN (n, d), V = cfg->vocab;
  g_autofree double *A = g_new (double, (gsize) n * d);
  g_autofree double *S = g_new (double, r);
  g_autofree double *Vt = g_new (double, (gsize) r * d);
  g_autofree double *superb = g_new (double, MAX (1, r));
  CsSteerSvd *s;
  double total = 0;

  if (layer < 0 || layer >= v->n_layers)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "layer %d is out of range: this model's layers are 0 to %d",
                   layer, v->n_layers - 1);
      return NULL;
    }
  for (gsize i = 0; i < (gsize) n * d; i++)
    A[i] = v->differences[(gsize) layer * n * d + i];
  if (LAPACKE_dgesvd (LAPACK_ROW_MAJOR, 'N', 'S', n, d, A, d, S, NULL, 1, Vt, d, superb) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "the SVD did not converge");
      return NULL;
    }
  k = MIN (k, r);
  s = g_new0 (CsSteerSvd, 1);
  s->n_values = r;
  s->k = k;
  s->n_tokens = n_tokens;
  s->values = g_memdup2 (S, sizeof (double) * r);
  s->explained = g_new (double, r);
  for (int i = 0; i < r; i++)
    total += S[i] * S[i];
  for (int i = 0; i < r; i++)
    s->explained[i] = total > 0 ? S[i] * S[i] / total : 0;
  s->top = g_new (gint32, MAX (1, k * n_tokens));
  s->bottom = g_new (gint32, MAX (1, k * n_tokens));
  {
    g_autofree float *vec = g_new (float, (gsize) MAX (1, k) * d);
    g_autofree float *logits = g_new (float, (gsize) MAX (1, k) * V);
    g_autofree TokVal *tv = g_new (TokVal, V);
    const CsTensor *U = cs_model_get_unembedding (model);
    g_autofree float *row = g_new (float, d);
    for (int i = 0; i < k; i++)
      {
        double dot = 0;
        const float *mean = v->vectors + (gsize) layer * d;
        for (int j = 0; j < d; j++)
          dot += Vt[(gsize) i * d + j] * mean[j];
        for (int j = 0; j < d; j++)
          vec[(gsize) i * d + j] = (float) (dot < 0 ? -Vt[(gsize) i * d + j] : Vt[(gsize) i * d + j]);
      }
    /* logits of the direction itself: U · v (no norm: a direction, not a state) */
    for (int t = 0; t < V; t++)
      {
        cs_tensor_read_f32 (U, (gsize) t * d, d, row);
        for (int i = 0; i < k; i++)
          {
            float s2 = 0;
            for (int j = 0; j < d; j++)
              s2 += row[j] * vec[(gsize) i * d + j];
            logits[(gsize) i * V + t] = s2;
          }
      }
    for (int i = 0; i < k; i++)
      {
        for (int t = 0; t < V; t++)
          tv[t] = (TokVal) { logits[(gsize) i * V + t], t };
        qsort (tv, V, sizeof (TokVal), cmp_tokval_desc);
        for (int t = 0; t < n_tokens && t < V; t++)
          {
            s->top[i * n_tokens + t] = tv[t].id;
            s->bottom[i * n_tokens + t] = tv[V - 1 - t].id;
          }
      }
  }
  return s;
}

/* ------------------------------------------------------- concepts and SAEs */

gboolean
cs_steer_concept_cosines (CsModel *model, CsSteerVectors *v, int layer, CsGeometrySpace *space, CsGeometry *geo,
                          double *out, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int d = v->d, n = (int) geo->categories->items->len;
  g_autofree double *S = NULL;
  g_autofree double *x = g_new (double, d), *w = g_new (double, d);
  g_autofree float *gain = g_new (float, d);
  double mean = 0, nw = 0;

  if (layer < 0 || layer >= v->n_layers)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "layer %d is out of range", layer);
      return FALSE;
    }
  if (space->d != d)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the geometry's space has %d dimensions, the model %d", space->d, d);
      return FALSE;
    }
  if (!(S = cov_sqrt (space, error)))
    return FALSE;
  cs_tensor_read_f32 (cs_model_get_final_norm_w (model), 0, d, gain);
  for (int j = 0; j < d; j++)
    mean += v->vectors[(gsize) layer * d + j] / d;
  for (int j = 0; j < d; j++)
    {
      double g = gain[j];
      if (cfg->arch == CS_ARCH_GEMMA || cfg->arch == CS_ARCH_GEMMA2)
        g += 1;
      x[j] = g * (v->vectors[(gsize) layer * d + j] - (cfg->arch == CS_ARCH_GPT2 ? mean : 0));
    }
  cblas_dgemv (CblasRowMajor, CblasNoTrans, d, d, 1.0, S, d, x, 1, 0.0, w, 1);
  for (int j = 0; j < d; j++)
    nw += w[j] * w[j];
  nw = sqrt (nw);
  for (int c = 0; c < n; c++)
    {
      double dot = 0;
      if (!geo->vectors[c].estimated || !(geo->vectors[c].norm > 0) || !(nw > 0))
        {
          out[c] = NAN;
          continue;
        }
      for (int j = 0; j < d; j++)
        dot += w[j] * geo->vectors[c].lbar[j];
      out[c] = dot / (nw * geo->vectors[c].norm);
    }
  return TRUE;
}

typedef struct
{
  double v;
  int    i;
} IdxVal;

static int
cmp_idxval_desc (const void *a, const void *b)
{
  const IdxVal *x = a, *y = b;
  if (x->v != y->v)
    return x->v > y->v ? -1 : 1;
  return x->i - y->i;
}

static void
top_both (IdxVal *iv, int n, int k, int *idx, double *val)
{
  qsort (iv, n, sizeof (IdxVal), cmp_idxval_desc);
  for (int t = 0; t < k; t++)
    {
      idx[t] = iv[MIN (t, n - 1)].i;
      val[t] = iv[MIN (t, n - 1)].v;
      idx[k + t] = iv[MAX (0, n - 1 - t)].i;
      val[k + t] = iv[MAX (0, n - 1 - t)].v;
    }
}

void
cs_steer_sae_decompose (CsSae *sae, const float *vector, int k, int *enc_idx, double *enc_val, int *dec_idx,
                        double *dec_val)
{
  int d = sae->d_in, m = sae->d_sae;
  g_autofree IdxVal *iv = g_new (IdxVal, m);
  double nv = 0;

  for (int j = 0; j < d; j++)
    nv += (double) vector[j] * vector[j];
  nv = sqrt (nv);
  for (int f = 0; f < m; f++)
    {
      double s = 0;
      for (int j = 0; j < d; j++)
        s += (double) sae->W_enc[(gsize) j * m + f] * vector[j];
      iv[f] = (IdxVal) { s, f };
    }
  top_both (iv, m, k, enc_idx, enc_val);
  for (int f = 0; f < m; f++)
    {
      double s = 0, nd = 0;
      const float *row = sae->W_dec + (gsize) f * d;
      for (int j = 0; j < d; j++)
        {
          s += (double) row[j] * vector[j];
          nd += (double) row[j] * row[j];
        }
      iv[f] = (IdxVal) { nd > 0 && nv > 0 ? s / (sqrt (nd) * nv) : 0, f };
    }
  top_both (iv, m, k, dec_idx, dec_val);
}

/* --------------------------------------------------------------- generate */

/* The next token from last-position logits z: the first of equal maxima at
 * temperature 0 (as argmax), else a draw from softmax(z / temperature). */
static int
next_token (const float *z, int V, double temperature, GRand *rand, double *prob)
{
  int best = 0;
  if (temperature == 0)
    {
      for (int k = 1; k < V; k++)
        if (z[k] > z[best])
          best = k;
    }
  else
    {
      double mx = -INFINITY, sum = 0, u;
      for (int k = 0; k < V; k++)
        mx = MAX (mx, z[k] / temperature);
      for (int k = 0; k < V; k++)
        sum += prob[k] = exp (z[k] / temperature - mx);
      u = g_rand_double (rand) * sum;
      for (best = 0; best < V - 1 && (u -= prob[best]) > 0; best++)
        ;
    }
  return best;
}

gint32 *
cs_steer_generate (CsModel *model, const gint32 * const *ids, const int *lengths, int n, int layer,
                   const double *multipliers, const float *vector, int steer_from, int n_tokens, double temperature,
                   guint seed, CsDevice device, GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int V = cfg->vocab, maxlen = 0, steps;
  gboolean gpu;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(CsForwardCache) kv = NULL;
  g_autofree double *prob = g_new (double, V);
  g_autofree gint32 *last = g_new (gint32, n);
  g_autofree const gint32 **rows = g_new (const gint32 *, n);
  g_autofree int *ones = g_new (int, n);
  g_autofree float *mults = g_new (float, n);
  g_autofree gint32 *out = NULL;

  if (n_tokens < 1 || !(temperature >= 0))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "generation wants at least one new token and a temperature ≥ 0");
      return NULL;
    }
  for (int b = 0; b < n; b++)
    {
      maxlen = MAX (maxlen, lengths[b]);
      ones[b] = 1;
      mults[b] = layer >= 0 && vector ? (float) multipliers[b] : 0.0f;
    }
  /* every sequence takes the same steps: until the longest fills the context */
  steps = MIN (n_tokens, cfg->max_positions - maxlen);
  out = g_new (gint32, (gsize) n * n_tokens);
  for (gsize i = 0; i < (gsize) n * n_tokens; i++)
    out[i] = -1;
  /* On the CPU all sequences go in one batch, each with its multiplier, and
   * the keys and values of earlier tokens are kept, so each step runs one
   * token per sequence. The GPU has neither: a sequence at a time, whole. */
  gpu = cs_gpu_should_use (device, NULL);
  if (steps > 0 && !gpu)
    kv = cs_forward_cache_new (model, n, maxlen + steps);
  for (int t = 0; t < steps; t++)
    for (int g = 0; g < (gpu ? n : 1); g++)
      {
        CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
        g_autoptr(CsForwardResult) r = NULL;
        int b0 = gpu ? g : 0, nb = gpu ? 1 : n;

        opt.logits = CS_LOGITS_LAST;
        opt.device = gpu ? device : CS_DEVICE_CPU;
        opt.cache = kv;
        if (layer >= 0 && vector)
          {
            opt.steer_layer = layer;
            opt.steer_vector = vector;
            opt.steer_from = steer_from;
            if (gpu)
              opt.steer_multiplier = mults[g];
            else
              opt.steer_multipliers = mults;
          }
        if (t == 0)
          r = cs_forward_run (model, ids + b0, lengths + b0, nb, &opt, cancellable, error);
        else if (!gpu)
          {
            for (int b = 0; b < n; b++)
              rows[b] = last + b;
            r = cs_forward_run (model, rows, ones, n, &opt, cancellable, error);
          }
        else
          {
            /* the prompt and the tokens so far, whole */
            g_autofree gint32 *whole = g_new (gint32, lengths[g] + t);
            const gint32 *row[1] = { whole };
            int len = lengths[g] + t;
            memcpy (whole, ids[g], sizeof (gint32) * lengths[g]);
            for (int k = 0; k < t; k++)
              whole[lengths[g] + k] = out[(gsize) g * n_tokens + k];
            r = cs_forward_run (model, row, &len, 1, &opt, cancellable, error);
          }
        if (!r)
          return NULL;
        for (int i = 0; i < nb; i++)
          {
            int b = b0 + i;
            last[b] = next_token (r->logits + (gsize) i * V, V, temperature, rand, prob);
            out[(gsize) b * n_tokens + t] = last[b];
          }
      }
  return g_steal_pointer (&out);
}

/* ------------------------------------------------------------------ reports */

/* How much the behaviour moves at swept layer a: behaviour at the largest
 * multiplier minus behaviour at the smallest. */
static double
sweep_change (const CsSteerSweep *s, int a)
{
  int lo = 0, hi = 0;
  for (int m = 1; m < s->n_mult; m++)
    {
      if (s->multipliers[m] < s->multipliers[lo])
        lo = m;
      if (s->multipliers[m] > s->multipliers[hi])
        hi = m;
    }
  return s->behaviour[a * s->n_mult + hi] - s->behaviour[a * s->n_mult + lo];
}

int
cs_steer_sweep_best_layer (const CsSteerSweep *s)
{
  int best = 0;
  for (int a = 1; a < s->n_layers; a++)
    if (sweep_change (s, a) > sweep_change (s, best))
      best = a;
  return s->n_layers ? s->layers[best] : -1;
}

void
cs_steer_report_free (CsSteerReport *r)
{
  if (!r)
    return;
  g_free (r->dataset);
  g_free (r->model_path);
  g_free (r->targets);
  g_free (r->position);
  g_free (r->vectors);
  g_free (r->norms);
  cs_steer_sweep_free (r->sweep);
  cs_steer_effects_free (r->effects);
  cs_steer_svd_free (r->svd);
  g_strfreev (r->svd_top);
  g_free (r->gen_prompt);
  g_free (r->gen_mult);
  g_free (r->gen_ids);
  g_strfreev (r->gen_texts);
  g_strfreev (r->svd_bottom);
  g_strfreev (r->concept_names);
  g_free (r->concept_cos);
  g_free (r->sae_enc_idx);
  g_free (r->sae_dec_idx);
  g_strfreev (r->sae_enc_labels);
  g_strfreev (r->sae_dec_labels);
  g_free (r->sae_enc_val);
  g_free (r->sae_dec_val);
  g_free (r);
}

static gboolean
is_hdf5 (const char *path)
{
  H5E_auto2_t func;
  void *data;
  htri_t ok;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;
  H5Eget_auto2 (H5E_DEFAULT, &func, &data);
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  ok = H5Fis_hdf5 (path);
  H5Eset_auto2 (H5E_DEFAULT, func, data);
  return ok > 0;
}

gboolean
cs_steer_report_save (const CsSteerReport *r, const char *path, GError **error)
{
  g_autoptr(CsH5Writer) w = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *params = NULL;
  const char *ps[1];
  gsize dims[2];

  if (g_file_test (path, G_FILE_TEST_EXISTS) && !is_hdf5 (path))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s exists and is not an HDF5 file: choose another name (it is left as it is)", path);
      return FALSE;
    }
  w = is_hdf5 (path) ? cs_h5_writer_new_update (path, "/steering", error) : cs_h5_writer_new (path, error);
  if (!w)
    return FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "dataset");
  json_builder_add_string_value (b, r->dataset ? r->dataset : "");
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, r->model_path ? r->model_path : "");
  json_builder_set_member_name (b, "targets");
  json_builder_add_string_value (b, r->targets ? r->targets : "");
  json_builder_set_member_name (b, "position");
  json_builder_add_string_value (b, r->position ? r->position : "last");
  json_builder_set_member_name (b, "held_out");
  json_builder_add_double_value (b, r->held_out);
  json_builder_set_member_name (b, "n_pairs");
  json_builder_add_int_value (b, r->n_pairs);
  json_builder_set_member_name (b, "svd_layer");
  json_builder_add_int_value (b, r->svd_layer);
  json_builder_set_member_name (b, "sae_layer");
  json_builder_add_int_value (b, r->sae_layer);
  if (r->gen_prompt)
    {
      json_builder_set_member_name (b, "generation_layer");
      json_builder_add_int_value (b, r->gen_layer);
    }
  if (r->svd)
    {
      json_builder_set_member_name (b, "svd_k");
      json_builder_add_int_value (b, r->svd->k);
      json_builder_set_member_name (b, "svd_tokens");
      json_builder_add_int_value (b, r->svd->n_tokens);
    }
  if (r->effects)
    {
      json_builder_set_member_name (b, "effects_layer");
      json_builder_add_int_value (b, r->effects->steer_layer);
      json_builder_set_member_name (b, "effects_multiplier");
      json_builder_add_double_value (b, r->effects->multiplier);
    }
  if (r->sweep)
    {
      json_builder_set_member_name (b, "sweep_seconds");
      json_builder_add_double_value (b, r->sweep->seconds);
      json_builder_set_member_name (b, "sweep_tokens");
      json_builder_add_int_value (b, r->sweep->tokens);
    }
  json_builder_end_object (b);
  {
    g_autoptr(JsonNode) root = json_builder_get_root (b);
    params = cs_json_to_data (root, FALSE, NULL);
  }
  ps[0] = params;
  if (!cs_h5_writer_add_strings (w, "/steering/parameters", ps, 1, error))
    return FALSE;
  dims[0] = r->n_layers;
  dims[1] = r->d;
  if (!cs_h5_writer_add_f32 (w, "/steering/vectors", 2, dims, r->vectors, error) ||
      !cs_h5_writer_add_f64 (w, "/steering/vector_norms", 1, dims, r->norms, error))
    return FALSE;
  if (r->sweep)
    {
      const CsSteerSweep *sw = r->sweep;
      gsize dl[1] = { sw->n_layers }, dm[1] = { sw->n_mult }, db[2] = { sw->n_layers, sw->n_mult };
      if (!cs_h5_writer_add_i32 (w, "/steering/sweep/layers", 1, dl, sw->layers, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sweep/multipliers", 1, dm, sw->multipliers, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sweep/behaviour", 2, db, sw->behaviour, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sweep/behaviour_sd", 2, db, sw->behaviour_sd, error))
        return FALSE;
    }
  if (r->effects && r->effects->n_cols > 0)
    {
      const CsSteerEffects *e = r->effects;
      gsize dr[1] = { e->n_rows }, dc[1] = { e->n_cols }, dv[2] = { e->n_rows, e->n_cols };
      if (!cs_h5_writer_add_i32 (w, "/steering/effects/row_layers", 1, dr, e->row_layers, error) ||
          !cs_h5_writer_add_i32 (w, "/steering/effects/col_kind", 1, dc, e->col_kind, error) ||
          !cs_h5_writer_add_i32 (w, "/steering/effects/col_index", 1, dc, e->col_index, error) ||
          !cs_h5_writer_add_strings (w, "/steering/effects/col_labels", (const char * const *) e->col_labels,
                                     e->n_cols, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/effects/values", 2, dv, e->values, error))
        return FALSE;
    }
  if (r->svd)
    {
      const CsSteerSvd *sv = r->svd;
      gsize dn[1] = { sv->n_values }, dt[1] = { (gsize) sv->k * sv->n_tokens };
      if (!cs_h5_writer_add_f64 (w, "/steering/svd/values", 1, dn, sv->values, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/svd/explained", 1, dn, sv->explained, error) ||
          (dt[0] && (!cs_h5_writer_add_strings (w, "/steering/svd/top_tokens", (const char * const *) r->svd_top, dt[0], error) ||
                     !cs_h5_writer_add_strings (w, "/steering/svd/bottom_tokens", (const char * const *) r->svd_bottom, dt[0], error))))
        return FALSE;
    }
  if (r->n_concepts > 0)
    {
      gsize dn[1] = { r->n_concepts }, dv[2] = { r->n_layers, r->n_concepts };
      if (!cs_h5_writer_add_strings (w, "/steering/concepts/names", (const char * const *) r->concept_names,
                                     dn[0], error) ||
          !cs_h5_writer_add_f64 (w, "/steering/concepts/cosine", 2, dv, r->concept_cos, error))
        return FALSE;
    }
  if (r->sae_k > 0)
    {
      gsize dk[1] = { (gsize) r->sae_k * 2 };
      if (!cs_h5_writer_add_i32 (w, "/steering/sae/encoder_features", 1, dk, r->sae_enc_idx, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sae/encoder_values", 1, dk, r->sae_enc_val, error) ||
          !cs_h5_writer_add_i32 (w, "/steering/sae/decoder_features", 1, dk, r->sae_dec_idx, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sae/decoder_cosines", 1, dk, r->sae_dec_val, error))
        return FALSE;
      if (r->sae_enc_labels && r->sae_dec_labels &&
          (!cs_h5_writer_add_strings (w, "/steering/sae/encoder_labels", (const char * const *) r->sae_enc_labels,
                                      dk[0], error) ||
           !cs_h5_writer_add_strings (w, "/steering/sae/decoder_labels", (const char * const *) r->sae_dec_labels,
                                      dk[0], error)))
        return FALSE;
    }
  if (r->gen_prompt && r->gen_n > 0)
    {
      gsize dg[1] = { (gsize) r->gen_n }, di[2] = { (gsize) r->gen_n, (gsize) r->gen_tokens };
      const char *pp[1] = { r->gen_prompt };
      if (!cs_h5_writer_add_strings (w, "/steering/generations/prompt", pp, 1, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/generations/multipliers", 1, dg, r->gen_mult, error) ||
          !cs_h5_writer_add_strings (w, "/steering/generations/texts", (const char * const *) r->gen_texts, dg[0],
                                     error) ||
          !cs_h5_writer_add_i32 (w, "/steering/generations/ids", 2, di, r->gen_ids, error))
        return FALSE;
    }
  return cs_h5_writer_commit (w, error);
}

CsSteerReport *
cs_steer_report_load (const char *path, GError **error)
{
  g_autoptr(CsH5Reader) rd = cs_h5_reader_open (path, error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CsSteerReport) r = NULL;
  g_auto(GStrv) ps = NULL;
  JsonObject *o;
  gsize dims[8], n = 0;
  int rank;

  if (!rd)
    return NULL;
  if (!cs_h5_reader_has (rd, "/steering/parameters"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s holds no steering results (make them with conceptscope-cli "
                   "steer … --output %s)", path, path);
      return NULL;
    }
  ps = cs_h5_reader_strings (rd, "/steering/parameters", error);
  if (!ps || !ps[0] || !cs_json_parse (parser, ps[0], -1, error) ||
      !cs_json_root_object (parser))
    {
      if (error && !*error)
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the steering parameters are unreadable", path);
      return NULL;
    }
  o = cs_json_root_object (parser);
  r = g_new0 (CsSteerReport, 1);
  r->dataset = g_strdup (cs_json_string (o, "dataset", ""));
  r->model_path = g_strdup (cs_json_string (o, "model", ""));
  r->targets = g_strdup (cs_json_string (o, "targets", ""));
  r->position = g_strdup (cs_json_string (o, "position", "last"));
  r->held_out = cs_json_double (o, "held_out", 0);
  r->n_pairs = (int) cs_json_int (o, "n_pairs", 0);
  r->svd_layer = (int) cs_json_int (o, "svd_layer", -1);
  r->sae_layer = (int) cs_json_int (o, "sae_layer", -1);
  {
    g_autofree double *vd = cs_h5_reader_f64 (rd, "/steering/vectors", &rank, dims, error);
    if (!vd || rank != 2)
      goto bad;
    r->n_layers = (int) dims[0];
    r->d = (int) dims[1];
    r->vectors = g_new (float, dims[0] * dims[1]);
    for (gsize i = 0; i < dims[0] * dims[1]; i++)
      r->vectors[i] = (float) vd[i];
    r->norms = cs_h5_reader_f64 (rd, "/steering/vector_norms", &rank, dims, error);
    if (!r->norms)
      goto bad;
  }
  if (cs_h5_reader_has (rd, "/steering/sweep/behaviour"))
    {
      CsSteerSweep *sw = g_new0 (CsSteerSweep, 1);
      gsize nl = 0;
      r->sweep = sw;
      sw->layers = cs_h5_reader_i32 (rd, "/steering/sweep/layers", &nl, error);
      sw->multipliers = cs_h5_reader_f64 (rd, "/steering/sweep/multipliers", &rank, dims, error);
      if (!sw->layers || !sw->multipliers)
        goto bad;
      sw->n_layers = (int) nl;
      sw->n_mult = (int) dims[0];
      sw->behaviour = cs_h5_reader_f64 (rd, "/steering/sweep/behaviour", &rank, dims, error);
      sw->behaviour_sd = cs_h5_reader_f64 (rd, "/steering/sweep/behaviour_sd", &rank, dims, error);
      if (!sw->behaviour || !sw->behaviour_sd || rank != 2 || (int) dims[0] != sw->n_layers ||
          (int) dims[1] != sw->n_mult)
        goto bad;
      sw->seconds = cs_json_double (o, "sweep_seconds", 0);
      sw->tokens = cs_json_int (o, "sweep_tokens", 0);
    }
  if (cs_h5_reader_has (rd, "/steering/effects/values"))
    {
      CsSteerEffects *e = g_new0 (CsSteerEffects, 1);
      gsize nr = 0, nc = 0;
      r->effects = e;
      e->row_layers = cs_h5_reader_i32 (rd, "/steering/effects/row_layers", &nr, error);
      e->col_kind = cs_h5_reader_i32 (rd, "/steering/effects/col_kind", &nc, error);
      e->col_index = cs_h5_reader_i32 (rd, "/steering/effects/col_index", &n, error);
      e->col_labels = cs_h5_reader_strings (rd, "/steering/effects/col_labels", error);
      e->values = cs_h5_reader_f64 (rd, "/steering/effects/values", &rank, dims, error);
      if (!e->row_layers || !e->col_kind || !e->col_index || !e->col_labels || !e->values || rank != 2 ||
          dims[0] != nr || dims[1] != nc || n != nc || g_strv_length (e->col_labels) != nc)
        goto bad;
      e->n_rows = (int) nr;
      e->n_cols = (int) nc;
      e->steer_layer = (int) cs_json_int (o, "effects_layer", e->row_layers[0]);
      e->multiplier = cs_json_double (o, "effects_multiplier", 0);
    }
  if (cs_h5_reader_has (rd, "/steering/svd/values"))
    {
      CsSteerSvd *sv = g_new0 (CsSteerSvd, 1);
      r->svd = sv;
      sv->values = cs_h5_reader_f64 (rd, "/steering/svd/values", &rank, dims, error);
      sv->explained = cs_h5_reader_f64 (rd, "/steering/svd/explained", &rank, dims, error);
      if (!sv->values || !sv->explained)
        goto bad;
      sv->n_values = (int) dims[0];
      sv->k = (int) cs_json_int (o, "svd_k", 0);
      sv->n_tokens = (int) cs_json_int (o, "svd_tokens", 0);
      if (cs_h5_reader_has (rd, "/steering/svd/top_tokens"))
        {
          r->svd_top = cs_h5_reader_strings (rd, "/steering/svd/top_tokens", error);
          r->svd_bottom = cs_h5_reader_strings (rd, "/steering/svd/bottom_tokens", error);
          if (!r->svd_top || !r->svd_bottom || g_strv_length (r->svd_top) != (guint) (sv->k * sv->n_tokens))
            goto bad;
        }
    }
  if (cs_h5_reader_has (rd, "/steering/concepts/names"))
    {
      r->concept_names = cs_h5_reader_strings (rd, "/steering/concepts/names", error);
      r->concept_cos = cs_h5_reader_f64 (rd, "/steering/concepts/cosine", &rank, dims, error);
      if (!r->concept_names || !r->concept_cos || rank != 2 || (int) dims[0] != r->n_layers ||
          dims[1] != g_strv_length (r->concept_names))
        goto bad;
      r->n_concepts = (int) dims[1];
    }
  if (cs_h5_reader_has (rd, "/steering/sae/encoder_features"))
    {
      gsize k2 = 0, k2b = 0;
      r->sae_enc_idx = cs_h5_reader_i32 (rd, "/steering/sae/encoder_features", &k2, error);
      r->sae_dec_idx = cs_h5_reader_i32 (rd, "/steering/sae/decoder_features", &k2b, error);
      r->sae_enc_val = cs_h5_reader_f64 (rd, "/steering/sae/encoder_values", &rank, dims, error);
      r->sae_dec_val = cs_h5_reader_f64 (rd, "/steering/sae/decoder_cosines", &rank, dims, error);
      if (!r->sae_enc_idx || !r->sae_dec_idx || !r->sae_enc_val || !r->sae_dec_val || k2 != k2b || k2 % 2)
        goto bad;
      r->sae_k = (int) k2 / 2;
      /* labels came later: a workspace without them draws feature numbers */
      if (cs_h5_reader_has (rd, "/steering/sae/encoder_labels") && cs_h5_reader_has (rd, "/steering/sae/decoder_labels"))
        {
          r->sae_enc_labels = cs_h5_reader_strings (rd, "/steering/sae/encoder_labels", error);
          r->sae_dec_labels = cs_h5_reader_strings (rd, "/steering/sae/decoder_labels", error);
          if (!r->sae_enc_labels || !r->sae_dec_labels || g_strv_length (r->sae_enc_labels) != k2 ||
              g_strv_length (r->sae_dec_labels) != k2)
            goto bad;
        }
    }
  if (cs_h5_reader_has (rd, "/steering/generations/texts"))
    {
      g_auto(GStrv) pp = cs_h5_reader_strings (rd, "/steering/generations/prompt", error);
      r->gen_texts = cs_h5_reader_strings (rd, "/steering/generations/texts", error);
      r->gen_mult = cs_h5_reader_f64 (rd, "/steering/generations/multipliers", &rank, dims, error);
      if (!pp || !pp[0] || !r->gen_texts || !r->gen_mult || rank != 1 || dims[0] != g_strv_length (r->gen_texts))
        goto bad;
      r->gen_prompt = g_strdup (pp[0]);
      r->gen_n = (int) dims[0];
      if (cs_h5_reader_has (rd, "/steering/generations/ids"))
        {
          gsize ni = 0;
          r->gen_ids = cs_h5_reader_i32 (rd, "/steering/generations/ids", &ni, error);
          if (!r->gen_ids || ni % MAX (1, r->gen_n))
            goto bad;
          r->gen_tokens = (int) (ni / MAX (1, r->gen_n));
        }
      r->gen_layer = (int) cs_json_int (o, "generation_layer", -1);
    }
  return g_steal_pointer (&r);

bad:
  if (error && !*error)
    g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the steering results are inconsistent", path);
  return NULL;
}

/* ---------------------------------------------------------------- the run */

typedef struct
{
  CsProgressFunc func;
  gpointer       data;
  double         start, span;
} Stage;

static void
stage_progress (double f, gpointer data)
{
  Stage *st = data;
  if (st->func)
    st->func (st->start + st->span * f, st->data);
}

static int
effects_layer_default (const CsSteerSweep *sw)
{
  int layer = cs_steer_sweep_best_layer (sw);
  double best = -INFINITY;
  for (int a = 0; a < sw->n_layers; a++)
    best = MAX (best, sweep_change (sw, a));
  for (int a = 0; a < sw->n_layers; a++)
    if (sweep_change (sw, a) >= 0.9 * best && sw->layers[a] < layer)
      layer = sw->layers[a];
  return layer;
}

gboolean
cs_steer_report_continue (CsSteerReport *rep, CsModel *model, CsTokenizer *tok, const char *prompt, int layer,
                          const double *multipliers, int n_mult, int n_tokens, double temperature, guint seed,
                          int steer_from, CsDevice device, CsProgressFunc progress, gpointer progress_data,
                          GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  g_autoptr(GArray) ids = NULL;
  g_auto(GStrv) texts = NULL;
  g_autofree gint32 *all = NULL;
  int n_tok = n_tokens > 0 ? n_tokens : 20;

  if (layer < 0 || layer >= rep->n_layers || rep->d != cfg->hidden)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "continuing at layer %d: the vectors are for %d layers of width "
                   "%d, the model has %d of %d", layer, rep->n_layers, rep->d, cfg->n_layers, cfg->hidden);
      return FALSE;
    }
  ids = cs_tokenizer_encode (tok, prompt, TRUE, error);
  if (!ids)
    return FALSE;
  if (ids->len == 0 || (int) ids->len >= cfg->max_positions)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the prompt to continue has %u tokens: it needs 1 to %d",
                   ids->len, cfg->max_positions - 1);
      return FALSE;
    }
  texts = g_new0 (char *, n_mult + 1);
  {
    /* the prompt once per multiplier, all in one batch */
    g_autofree const gint32 **rows = g_new (const gint32 *, n_mult);
    g_autofree int *lens = g_new (int, n_mult);
    for (int m = 0; m < n_mult; m++)
      {
        rows[m] = (const gint32 *) ids->data;
        lens[m] = (int) ids->len;
      }
    all = cs_steer_generate (model, rows, lens, n_mult, layer, multipliers, rep->vectors + (gsize) layer * rep->d,
                             steer_from, n_tok, temperature, seed, device, cancellable, error);
    if (!all)
      return FALSE;
  }
  for (int m = 0; m < n_mult; m++)
    {
      const gint32 *new_ids = all + (gsize) m * n_tok;
      int k = 0;
      while (k < n_tok && new_ids[k] >= 0)
        k++;
      texts[m] = cs_tokenizer_decode (tok, new_ids, k, TRUE);
    }
  if (progress)
    progress (1.0, progress_data);
  {
    CsSteerReport fresh = { 0 };
    fresh.gen_prompt = g_strdup (prompt);
    fresh.gen_layer = layer;
    fresh.gen_n = n_mult;
    fresh.gen_mult = g_memdup2 (multipliers, sizeof (double) * n_mult);
    fresh.gen_tokens = n_tok;
    fresh.gen_ids = g_steal_pointer (&all);
    fresh.gen_texts = g_steal_pointer (&texts);
    cs_steer_report_take_generations (rep, &fresh);
  }
  return TRUE;
}

void
cs_steer_report_take_generations (CsSteerReport *dst, CsSteerReport *src)
{
  g_free (dst->gen_prompt);
  g_free (dst->gen_mult);
  g_free (dst->gen_ids);
  g_strfreev (dst->gen_texts);
  dst->gen_prompt = g_steal_pointer (&src->gen_prompt);
  dst->gen_mult = g_steal_pointer (&src->gen_mult);
  dst->gen_ids = g_steal_pointer (&src->gen_ids);
  dst->gen_texts = g_steal_pointer (&src->gen_texts);
  dst->gen_n = src->gen_n;
  dst->gen_layer = src->gen_layer;
  dst->gen_tokens = src->gen_tokens;
  src->gen_n = 0;
}

CsSteerReport *
cs_steer_run (const CsSteerRun *o, CsProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
              GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (o->model);
  g_autoptr(CsSteerVectors) v = NULL;
  g_autoptr(CsSteerPrompts) prompts = NULL;
  g_autoptr(CsSteerReport) rep = g_new0 (CsSteerReport, 1);
  Stage st = { progress, progress_data, 0, 0.3 };
  double shares[3] = { 0.3, 0.55, 0.07 };   /* vectors, sweep, effects; the rest: generation */
  int eff_layer = o->effects_layer;
  double eff_mult = o->effects_multiplier;

  if (o->sae && o->sae->d_in != cfg->hidden)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "the SAE reads %d-dimensional activations, but %s has hidden size %d", o->sae->d_in,
                   cs_model_get_name (o->model), cfg->hidden);
      return NULL;
    }
  if (o->sae && (o->sae->hook_layer < 0 || o->sae->hook_layer >= cfg->n_layers))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the SAE's cfg.json does not name a layer of this model");
      return NULL;
    }
  if (o->n_layers < 1 || o->n_mult < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "give at least one layer and one multiplier");
      return NULL;
    }
  prompts = cs_steer_prompts_new (o->model, o->tok, o->dataset, o->held_out, TRUE, error);
  if (!prompts)
    return NULL;
  {
    /* The stages' shares of the bar from their forward passes, counted in
     * token-layers: the vectors (both sides of each training pair, every
     * layer), the sweep (each setting resumed at its layer), the effects
     * (the prompts steered and not), the continuations. Fixed shares had the
     * bar sit at 85 % through the effects, for minutes on a large model. */
    double L = cfg->n_layers, tp = 0, mean_len, w_vec, w_sweep = 0, w_eff, w_gen = 0, all;
    int n_train = MAX (1, (int) o->dataset->pairs->len - prompts->n);
    for (int i = 0; i < prompts->n; i++)
      tp += prompts->lengths[i];
    mean_len = prompts->n > 0 ? tp / prompts->n : 8;
    w_vec = 2.0 * n_train * mean_len * L;
    for (int a = 0; a < o->n_layers; a++)
      w_sweep += tp * (o->n_mult * (L - o->layers[a]) / MAX (1, o->n_layers) + L / MAX (1, o->n_layers));
    w_eff = 2 * tp * L;
    if (o->gen_prompt && *o->gen_prompt)
      w_gen = o->n_mult * (mean_len + (o->gen_tokens > 0 ? o->gen_tokens : 20)) * L;
    all = MAX (1e-9, w_vec + w_sweep + w_eff + w_gen);
    shares[0] = w_vec / all;
    shares[1] = w_sweep / all;
    shares[2] = w_eff / all;
  }
  st.span = shares[0];
  v = cs_steer_compute (o->model, o->tok, o->dataset, o->held_out, o->position, o->device, stage_progress, &st,
                        cancellable, error);
  if (!v)
    return NULL;
  if (o->steer_from < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the steering start position must be 0 or more");
      return NULL;
    }
  prompts->steer_from = o->steer_from;
  if (o->normalise)
    for (int l = 0; l < v->n_layers; l++)
      if (v->norms[l] > 0)
        {
          /* multiplier 1 is then one typical residual norm at that layer */
          float scale = (float) (v->resid_norms[l] / v->norms[l]);
          for (int j = 0; j < v->d; j++)
            v->vectors[(gsize) l * v->d + j] *= scale;
          v->norms[l] = v->resid_norms[l];
        }
  rep->dataset = g_strdup (o->dataset_name ? o->dataset_name : "");
  rep->model_path = g_strdup (cs_model_get_path (o->model));
  rep->targets = g_strdup (o->targets_name ? o->targets_name : "");
  rep->position = g_strdup (o->position == CS_STEER_POSITION_ANSWER ? "answer" : "last");
  rep->held_out = o->held_out;
  rep->n_layers = v->n_layers;
  rep->d = v->d;
  rep->n_pairs = v->n_pairs;
  rep->vectors = g_memdup2 (v->vectors, sizeof (float) * v->n_layers * v->d);
  rep->norms = g_memdup2 (v->norms, sizeof (double) * v->n_layers);
  st.start = shares[0];
  st.span = shares[1];
  rep->sweep = cs_steer_sweep (o->model, v, prompts, o->layers, o->n_layers, o->multipliers, o->n_mult, o->targets,
                               o->n_targets, o->device, stage_progress, &st, cancellable, error);
  if (!rep->sweep)
    return NULL;
  if (eff_layer < 0)
    eff_layer = effects_layer_default (rep->sweep);
  if (eff_layer >= cfg->n_layers)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "effects layer %d: this model's layers are 0 to %d", eff_layer,
                   cfg->n_layers - 1);
      return NULL;
    }
  if (isnan (eff_mult))
    {
      eff_mult = -INFINITY;
      for (int m = 0; m < o->n_mult; m++)
        eff_mult = MAX (eff_mult, o->multipliers[m]);
    }
  rep->effects = cs_steer_effects (o->model, o->tok, v, prompts, eff_layer, eff_mult, o->space, o->geometry, o->sae,
                                   o->sae ? o->sae->hook_layer : -1, o->top_k > 0 ? o->top_k : 8, o->device,
                                   cancellable, error);
  if (!rep->effects)
    return NULL;
  if (progress)
    progress (shares[0] + shares[1] + shares[2], progress_data);
  rep->svd_layer = eff_layer;
  rep->svd = cs_steer_svd (o->model, v, eff_layer, 3, 5, error);
  if (!rep->svd)
    return NULL;
  rep->svd_top = g_new0 (char *, rep->svd->k * rep->svd->n_tokens + 1);
  rep->svd_bottom = g_new0 (char *, rep->svd->k * rep->svd->n_tokens + 1);
  for (int i = 0; i < rep->svd->k * rep->svd->n_tokens; i++)
    {
      rep->svd_top[i] = cs_tokenizer_id_to_text (o->tok, rep->svd->top[i]);
      rep->svd_bottom[i] = cs_tokenizer_id_to_text (o->tok, rep->svd->bottom[i]);
    }
  if (o->geometry && o->space)
    {
      CsCategorySet *cs = o->geometry->categories;
      rep->n_concepts = (int) cs->items->len;
      rep->concept_names = g_new0 (char *, rep->n_concepts + 1);
      for (int c = 0; c < rep->n_concepts; c++)
        rep->concept_names[c] = g_strdup (cs_category_set_get (cs, c)->name);
      rep->concept_cos = g_new (double, rep->n_layers * rep->n_concepts);
      for (int l = 0; l < rep->n_layers; l++)
        if (!cs_steer_concept_cosines (o->model, v, l, o->space, o->geometry,
                                       rep->concept_cos + (gsize) l * rep->n_concepts, error))
          return NULL;
    }
  rep->sae_layer = o->sae ? o->sae->hook_layer : -1;
  if (o->sae)
    {
      rep->sae_k = 5;
      rep->sae_enc_idx = g_new (int, 10);
      rep->sae_dec_idx = g_new (int, 10);
      rep->sae_enc_val = g_new (double, 10);
      rep->sae_dec_val = g_new (double, 10);
      cs_steer_sae_decompose (o->sae, v->vectors + (gsize) o->sae->hook_layer * v->d, 5, rep->sae_enc_idx,
                              rep->sae_enc_val, rep->sae_dec_idx, rep->sae_dec_val);
      if (o->tok)
        {
          /* what each feature writes, in tokens: one pass over the unembedding for all twenty */
          int latents[20];
          char *labels[20];
          memcpy (latents, rep->sae_enc_idx, sizeof (int) * 10);
          memcpy (latents + 10, rep->sae_dec_idx, sizeof (int) * 10);
          sae_labels (o->model, o->tok, o->sae, latents, 20, labels);
          rep->sae_enc_labels = g_new0 (char *, 11);
          rep->sae_dec_labels = g_new0 (char *, 11);
          memcpy (rep->sae_enc_labels, labels, sizeof (char *) * 10);
          memcpy (rep->sae_dec_labels, labels + 10, sizeof (char *) * 10);
        }
    }
  if (o->gen_prompt && *o->gen_prompt)
    {
      Stage gs = { progress, progress_data, shares[0] + shares[1] + shares[2],
                   1 - (shares[0] + shares[1] + shares[2]) };
      if (!cs_steer_report_continue (rep, o->model, o->tok, o->gen_prompt, eff_layer, o->multipliers, o->n_mult,
                                     o->gen_tokens, o->temperature, o->seed, o->steer_from, o->device,
                                     stage_progress, &gs, cancellable, error))
        return NULL;
    }
  if (progress)
    progress (1.0, progress_data);
  return g_steal_pointer (&rep);
}
