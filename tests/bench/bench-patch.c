/* Patching and function vectors run several times in one process, so that
 * the benchmark can tell the first run (weights read from the page cache
 * and converted for the first time) from the following, warm ones — the
 * state a PyTorch peer is timed in after its warm-up.
 *
 *   bench-patch patch MODEL CLEAN CORRUPTED ANSWER WRONG [REPEATS]
 *   bench-patch fv MODEL TASK [REPEATS]
 *
 * Prints {"seconds": [first, second, …]} (the engine's own time, as
 * `--json` reports it). */
#include <stdio.h>
#include <stdlib.h>

#include "cs-backend.h"
#include "cs-fv.h"
#include "cs-patch.h"

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsTokenizer) tok = NULL;
  gboolean fv = argc >= 4 && g_str_equal (argv[1], "fv");
  int repeats;

  cs_backend_setup_process (argv);   /* the programs' threads, BLAS kernels and malloc settings */
  if (!(fv || (argc >= 7 && g_str_equal (argv[1], "patch"))))
    {
      fprintf (stderr, "usage: bench-patch patch MODEL CLEAN CORRUPTED ANSWER WRONG [REPEATS] | fv MODEL TASK [REPEATS]\n");
      return 2;
    }
  repeats = atoi (fv ? (argc > 4 ? argv[4] : "3") : (argc > 7 ? argv[7] : "3"));
  if (!(model = cs_model_open (argv[2], &error)) || !(tok = cs_model_open_tokenizer (model, &error)))
    {
      fprintf (stderr, "bench-patch: %s\n", error->message);
      return 1;
    }
  printf ("{\"seconds\": [");
  for (int i = 0; i < MAX (1, repeats); i++)
    {
      double s;
      if (fv)
        {
          g_autoptr(CsFvTask) task = cs_fv_task_load (argv[3], &error);
          CsFvParams p;
          CsFvResult *r;
          cs_fv_params_init (&p);
          p.device = CS_DEVICE_CPU;
          if (!task || !(r = cs_fv_run (model, tok, task, &p, NULL, NULL, NULL, &error)))
            {
              fprintf (stderr, "bench-patch: %s\n", error->message);
              return 1;
            }
          s = r->seconds;
          cs_fv_result_free (r);
        }
      else
        {
          CsPatchParams p;
          CsPatchResult *r;
          cs_patch_params_init (&p);
          p.clean = argv[3];
          p.corrupted = argv[4];
          p.answer = argv[5];
          p.wrong = argv[6];
          p.device = CS_DEVICE_CPU;
          if (!(r = cs_patch_run (model, tok, &p, NULL, NULL, NULL, &error)))
            {
              fprintf (stderr, "bench-patch: %s\n", error->message);
              return 1;
            }
          s = r->seconds;
          cs_patch_result_free (r);
        }
      printf ("%s%.6f", i ? ", " : "", s);
      fflush (stdout);
    }
  printf ("]}\n");
  return 0;
}
