#define G_LOG_DOMAIN "cs-paths"

#include "cs-paths.h"
#include "cs-build-config.h"

static gboolean
has_sample (const char *dir)
{
  g_autofree char *p = g_build_filename (dir, "sample-model", "config.json", NULL);
  return g_file_test (p, G_FILE_TEST_EXISTS);
}

const char *
cs_paths_get_datadir (void)
{
  static char *datadir;
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("CONCEPTSCOPE_DATADIR");
      if (env && *env)
        datadir = g_strdup (env);
      else if (has_sample (CS_PKGDATADIR))
        datadir = g_strdup (CS_PKGDATADIR);
      else
        datadir = g_strdup (CS_SOURCE_DATADIR);
      g_once_init_leave (&once, 1);
    }
  return datadir;
}

char *
cs_paths_get_sample_model (void)
{
  return g_build_filename (cs_paths_get_datadir (), "sample-model", NULL);
}
