#define G_LOG_DOMAIN "cs-steer"

#include "cs-steer.h"
#include "cs-steer-private.h"
#include "cs-error.h"
#include "cs-forward.h"
#include "cs-gpu.h"

#include <math.h>
#include <string.h>

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
