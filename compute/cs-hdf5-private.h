#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A user's HDF5 file may be opened in this process: regular, HDF5, and its
 * structure walked without a crash in a child process (cs-hdf5-probe.c). */
gboolean cs_h5_check_user_file (const char *path, GError **error);

G_END_DECLS
