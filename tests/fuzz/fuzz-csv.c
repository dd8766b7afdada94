/* A CSV of points (header, label column, numbers). */
#include "fuzz-common.h"
#include "cs-points.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = fuzz_write_temp (data, size, ".csv");
  if (!path)
    return 0;
  {
    g_autoptr(CsPoints) p = cs_points_from_csv (path, NULL);
  }
  g_unlink (path);
  return 0;
}
