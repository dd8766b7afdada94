/* Runs saved inputs through a fuzz target without libFuzzer: each argument
 * is a file or a folder of files. Used by the test suite over the corpus
 * (tests/fuzz/corpus/TARGET) and every input that once crashed. */
#include <stdio.h>

#include "fuzz-common.h"

static int
run_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, NULL))
    {
      fprintf (stderr, "cannot read %s\n", path);
      return 1;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  return 0;
}

int
main (int argc, char **argv)
{
  int runs = 0, failed = 0;
  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          g_autoptr(GDir) dir = g_dir_open (argv[i], 0, NULL);
          for (const char *n; dir && (n = g_dir_read_name (dir));)
            {
              g_autofree char *p = g_build_filename (argv[i], n, NULL);
              failed += run_file (p);
              runs++;
            }
        }
      else
        {
          failed += run_file (argv[i]);
          runs++;
        }
    }
  printf ("%d inputs run\n", runs);
  return failed || runs == 0 ? 1 : 0;
}
