#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes an HDF5 file atomically: datasets go to a temporary file beside the
 * target, renamed over it on commit; freeing an uncommitted writer removes
 * the temporary file and leaves any existing file untouched. */
typedef struct _CsH5Writer CsH5Writer;

CsH5Writer *cs_h5_writer_new        (const char    *path,
                                     GError       **error);
gboolean    cs_h5_writer_add_f32    (CsH5Writer    *self,
                                     const char    *name,
                                     int            rank,
                                     const gsize   *dims,
                                     const float   *data,
                                     GError       **error);
gboolean    cs_h5_writer_add_i32    (CsH5Writer    *self,
                                     const char    *name,
                                     int            rank,
                                     const gsize   *dims,
                                     const gint32  *data,
                                     GError       **error);
gboolean    cs_h5_writer_set_attr   (CsH5Writer    *self,
                                     const char    *key,
                                     const char    *value,
                                     GError       **error);
gboolean    cs_h5_writer_commit     (CsH5Writer    *self,
                                     GError       **error);
void        cs_h5_writer_free       (CsH5Writer    *self);

/* Reads a float dataset (any float/int type, converted to float32). dims
 * receives up to 8 dimensions; rank may be NULL. */
float      *cs_h5_read_f32          (const char    *path,
                                     const char    *dataset,
                                     int           *rank,
                                     gsize         *dims,
                                     GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsH5Writer, cs_h5_writer_free)

G_END_DECLS
