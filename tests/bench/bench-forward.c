/* Times ConceptScope's forward pass on a model folder: median of several
 * runs of batch × length random token ids, as the PyTorch peers of
 * run-cpu-bench.py and run-gpu-bench.py do. Prints one JSON object.
 * Options after the four positional arguments: --device cpu|cuda|auto,
 * --fast (tensor cores on the GPU), --logits all|last, --dump FILE (the last
 * run's logits as raw float32) and --ids FILE (raw int32 ids instead of random
 * ones): together they check that the peer computes the same function. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs-backend.h"
#include "cs-forward.h"
#include "cs-gpu.h"
#include "cs-model.h"
#include "bench-common.h"

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  int batch, len, reps;
  double times[64];
  CsDevice device = CS_DEVICE_CPU;
  const char *dump = NULL, *ids_file = NULL;

  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  if (argc < 5)
    {
      fprintf (stderr, "usage: bench-forward MODEL BATCH LENGTH REPEATS [--device D] [--fast] [--logits all|last]\n");
      return 2;
    }
  for (int i = 5; i < argc; i++)
    {
      gboolean ok = TRUE;
      if (g_str_equal (argv[i], "--device") && i + 1 < argc)
        opt.device = cs_device_from_string (argv[++i], &ok);
      else if (g_str_equal (argv[i], "--ids") && i + 1 < argc)
        ids_file = argv[++i];
      else if (g_str_equal (argv[i], "--dump") && i + 1 < argc)
        dump = argv[++i];
      else if (g_str_equal (argv[i], "--fast"))
        opt.fast = TRUE;
      else if (g_str_equal (argv[i], "--logits") && i + 1 < argc)
        opt.logits = g_str_equal (argv[++i], "last") ? CS_LOGITS_LAST : CS_LOGITS_ALL;
      else
        ok = FALSE;
      if (!ok)
        {
          fprintf (stderr, "bench-forward: bad option %s\n", argv[i]);
          return 2;
        }
    }
  batch = atoi (argv[2]);
  len = atoi (argv[3]);
  reps = CLAMP (atoi (argv[4]), 1, 64);
  model = cs_model_open (argv[1], &error);
  if (!model)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  int V = cs_model_get_config (model)->vocab;
  g_autofree gint32 *ids = g_new (gint32, (gsize) batch * len);
  g_autofree const gint32 **rows = g_new (const gint32 *, batch);
  g_autofree int *lengths = g_new (int, batch);
  GRand *rand = g_rand_new_with_seed (1234);
  for (gsize i = 0; i < (gsize) batch * len; i++)
    ids[i] = g_rand_int_range (rand, 0, V);
  g_rand_free (rand);
  if (ids_file)
    {
      g_autofree char *raw = NULL;
      gsize n = 0;
      if (!g_file_get_contents (ids_file, &raw, &n, &error) || n != (gsize) batch * len * sizeof (gint32))
        {
          fprintf (stderr, "%s: want %d × %d int32 ids\n", ids_file, batch, len);
          return 1;
        }
      memcpy (ids, raw, n);
    }
  for (int b = 0; b < batch; b++)
    {
      rows[b] = ids + (gsize) b * len;
      lengths[b] = len;
    }

  /* one warm-up run pages the weights in, as PyTorch's warm-up does */
  for (int r = -1; r < reps; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      CsForwardResult *res = cs_forward_run (model, rows, lengths, batch, &opt, NULL, &error);
      gint64 t1 = g_get_monotonic_time ();
      if (!res)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      device = res->device;
      if (dump && r == reps - 1 && res->logits)
        {
          gsize rows = opt.logits == CS_LOGITS_LAST ? (gsize) batch : (gsize) batch * len;
          if (!g_file_set_contents (dump, (const char *) res->logits, rows * res->vocab * sizeof (float), &error))
            {
              fprintf (stderr, "%s\n", error->message);
              return 1;
            }
        }
      cs_forward_result_free (res);
      if (r >= 0)
        times[r] = (t1 - t0) / 1e6;
    }
  qsort (times, reps, sizeof (double), compare_double);
  printf ("{\"seconds\": %.6f, \"tokens_per_s\": %.1f, \"peak_rss_mb\": %.1f, \"threads\": %d, "
          "\"device\": \"%s\", \"gpu\": \"%s\"}\n",
          times[reps / 2], batch * len / times[reps / 2], peak_rss_mb (), cs_backend_get_threads (),
          device == CS_DEVICE_CUDA ? "cuda" : "cpu",
          /* only ask when it ran there: loading the module would add to the RSS */
          device == CS_DEVICE_CUDA ? cs_gpu_device_name () : "");
  return 0;
}
