/* An HDF5 file handed to the program: as a workspace, as points, and the
 * list of its datasets. */
#include "fuzz-common.h"
#include "cs-hdf5.h"
#include "cs-points.h"
#include "cs-workspace.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = fuzz_write_temp (data, size, ".h5");
  if (!path)
    return 0;
  {
    g_autoptr(CsWorkspace) ws = cs_workspace_load (path, NULL);
    g_auto(GStrv) names = cs_h5_list_datasets (path, 1, NULL);
    for (guint i = 0; names && names[i] && i < 4; i++)
      {
        g_autoptr(CsPoints) p = cs_points_from_h5 (path, names[i], NULL);
      }
  }
  g_unlink (path);
  return 0;
}
