#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where the embedded data lives: $CONCEPTSCOPE_DATADIR, the installed data
 * folder, or the source tree when running uninstalled. */
const char *cs_paths_get_datadir      (void);
char       *cs_paths_get_sample_model (void);

G_END_DECLS
