#define G_LOG_DOMAIN "cs-steer"

#include "cs-steer.h"
#include "cs-steer-private.h"
#include "cs-error.h"
#include "cs-forward.h"

#include <math.h>
#include <string.h>

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

char **
steer_all_layer_hooks (int n_layers)
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
  g_auto(GStrv) hooks = steer_all_layer_hooks (L);
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
      GArray *a = steer_encode (model, tok, texts->pdata[k], error);
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
  g_autoptr(GArray) a = steer_encode (model, tok, text, error);
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
          a = steer_encode (model, tok, text, error);
          if (!a || (m = letter_token (model, tok, q->question, q->matching, a, error)) < 0 ||
              (o = letter_token (model, tok, q->question, q->not_matching, a, error)) < 0)
            {
              ok = FALSE;
              break;
            }
          g_array_append_val (lm, m);
          g_array_append_val (lo, o);
        }
      else if (!(a = steer_encode (model, tok, q->negative, error)))
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

void
steer_softmax_row (const float *logits, int V, double *p)
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
      steer_softmax_row (logits + (gsize) i * V, V, prob);
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
float *
steer_run_prompts (CsModel *model, CsSteerPrompts *p, int layer, double mult, const float *vec,
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
