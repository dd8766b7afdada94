/* Generation on the CPU with the key-value cache (cs_steer_generate) against
 * the same greedy loop running the whole sequence each step through
 * cs_forward_run, on one model folder, in one process: PROMPT random ids,
 * NEW tokens, both must produce the same ids; then five prompts (as the
 * Steering page continues one prompt under five multipliers) in one cached
 * batch against five cached runs one after another, the same ids again.
 * Prints one JSON object. Usage: bench-generate MODEL PROMPT_LENGTH NEW_TOKENS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs-backend.h"
#include "cs-forward.h"
#include "cs-model.h"
#include "cs-steer.h"

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(GRand) r = g_rand_new_with_seed (5);
  g_autofree gint32 *seq = NULL, *cached = NULL;
  int plen, ntok, V, same = 1;
  gint64 t0;
  double t_cached, t_whole;

  if (argc < 4)
    {
      fprintf (stderr, "usage: bench-generate MODEL PROMPT_LENGTH NEW_TOKENS\n");
      return 2;
    }
  cs_backend_init ();
  model = cs_model_open (argv[1], &error);
  if (!model)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  plen = atoi (argv[2]);
  ntok = atoi (argv[3]);
  V = cs_model_get_config (model)->vocab;
  seq = g_new (gint32, plen + ntok);
  for (int i = 0; i < plen; i++)
    seq[i] = g_rand_int_range (r, 0, V);
  {
    const gint32 *rows[1] = { seq };
    t0 = g_get_monotonic_time ();
    cached = cs_steer_generate (model, rows, &plen, 1, -1, NULL, NULL, 0, ntok, 0, 0, CS_DEVICE_CPU, NULL, &error);
    t_cached = (g_get_monotonic_time () - t0) / 1e6;
    if (!cached)
      {
        fprintf (stderr, "%s\n", error->message);
        return 1;
      }
  }
  t0 = g_get_monotonic_time ();
  for (int t = 0; t < ntok; t++)
    {
      CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
      const gint32 *rows[1] = { seq };
      int len = plen + t, best = 0;
      g_autoptr(CsForwardResult) res = NULL;
      opt.logits = CS_LOGITS_LAST;
      opt.device = CS_DEVICE_CPU;
      res = cs_forward_run (model, rows, &len, 1, &opt, NULL, &error);
      if (!res)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      for (int k = 1; k < V; k++)
        if (res->logits[k] > res->logits[best])
          best = k;
      seq[plen + t] = best;
      same &= best == cached[t];
    }
  t_whole = (g_get_monotonic_time () - t0) / 1e6;
  {
    enum { K = 5 };
    const gint32 *rows[K];
    int lens[K];
    g_autofree gint32 *batched = NULL;
    double t_batch, t_each = 0;
    g_autofree gint32 *prompts = g_new (gint32, (gsize) K * plen);
    for (int k = 0; k < K; k++)
      {
        for (int i = 0; i < plen; i++)
          prompts[(gsize) k * plen + i] = g_rand_int_range (r, 0, V);
        rows[k] = prompts + (gsize) k * plen;
        lens[k] = plen;
      }
    t0 = g_get_monotonic_time ();
    batched = cs_steer_generate (model, rows, lens, K, -1, NULL, NULL, 0, ntok, 0, 0, CS_DEVICE_CPU, NULL, &error);
    t_batch = (g_get_monotonic_time () - t0) / 1e6;
    if (!batched)
      {
        fprintf (stderr, "%s\n", error->message);
        return 1;
      }
    for (int k = 0; k < K; k++)
      {
        g_autofree gint32 *one = NULL;
        t0 = g_get_monotonic_time ();
        one = cs_steer_generate (model, rows + k, lens + k, 1, -1, NULL, NULL, 0, ntok, 0, 0, CS_DEVICE_CPU, NULL,
                                 &error);
        t_each += (g_get_monotonic_time () - t0) / 1e6;
        same &= one && memcmp (one, batched + (gsize) k * ntok, sizeof (gint32) * ntok) == 0;
      }
    printf ("{\"prompt\": %d, \"new_tokens\": %d, \"cached_s\": %.4f, \"whole_sequence_s\": %.4f, "
            "\"ratio\": %.2f, \"five_batched_s\": %.4f, \"five_one_by_one_s\": %.4f, \"batch_ratio\": %.2f, "
            "\"same_ids\": %s, \"threads\": %d}\n", plen, ntok, t_cached, t_whole, t_whole / t_cached, t_batch,
            t_each, t_each / t_batch, same ? "true" : "false", cs_backend_get_threads ());
  }
  return same ? 0 : 1;
}
