#pragma once

#include "cs-geometry.h"
#include "cs-model.h"

G_BEGIN_DECLS

#define CS_WORKSPACE_VERSION 1

/* A workspace file (HDF5; layout in docs/workspace.md): the model it was made
 * from, the whitening (mean and Cov^(−1/2), keyed by the model's identity so
 * a second run skips it), the categories with their tokens, the vectors and
 * every statistic, and the parameters. */
typedef struct
{
  char         *model_path;
  char         *model_identity;
  char         *hierarchy;        /* how the categories were made */
  int           d;
  gint64        vocab;
  double       *mean;             /* [d] */
  double       *inv_sqrt;         /* [d, d] */
  int           n_floored;
  CsGeometry   *geometry;         /* NULL when only the whitening was saved */
  GHashTable   *view;             /* key → value of the "view_*" attributes */
} CsWorkspace;

gboolean     cs_workspace_save   (const char        *path,
                                  CsModel           *model,
                                  CsGeometrySpace   *space,
                                  CsGeometry        *geometry,
                                  const char        *hierarchy,
                                  GError           **error);
/* The same, with string attributes of the application's view (axes, hidden
 * categories) stored as root attributes "view_<key>". */
gboolean     cs_workspace_save_with_view (const char   *path,
                                  CsModel           *model,
                                  CsGeometrySpace   *space,
                                  CsGeometry        *geometry,
                                  const char        *hierarchy,
                                  GHashTable        *view,
                                  GError           **error);
CsWorkspace *cs_workspace_load   (const char        *path,
                                  GError           **error);
void         cs_workspace_free   (CsWorkspace       *ws);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsWorkspace, cs_workspace_free)

G_END_DECLS
