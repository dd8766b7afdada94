#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes an HDF5 file atomically: datasets go to a temporary file beside the
 * target, renamed over it on commit; freeing an uncommitted writer removes
 * the temporary file and leaves any existing file untouched. */
typedef struct _CsH5Writer CsH5Writer;

CsH5Writer *cs_h5_writer_new        (const char    *path,
                                     GError       **error);
/* Whether path exists and is an HDF5 file (quietly: no library messages),
 * so that a save adds its group to a workspace and refuses to overwrite
 * anything else. */
gboolean    cs_h5_is_hdf5           (const char    *path);
/* A writer that puts the group `group` into path: a new file, or the HDF5
 * file there updated atomically (its group replaced, the others kept);
 * anything else at path is refused and left as it is. */
CsH5Writer *cs_h5_writer_for_group  (const char    *path,
                                     const char    *group,
                                     GError       **error);
/* Updates an existing file the same way: it is copied beside itself, the
 * link `replace` (a group or dataset, may be NULL) is removed from the copy,
 * datasets are added, and commit renames the copy over the original. */
CsH5Writer *cs_h5_writer_new_update (const char    *path,
                                     const char    *replace,
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
gboolean    cs_h5_writer_add_f64    (CsH5Writer    *self,
                                     const char    *name,
                                     int            rank,
                                     const gsize   *dims,
                                     const double  *data,
                                     GError       **error);
/* Variable-length UTF-8 strings (h5py reads them as str). */
gboolean    cs_h5_writer_add_strings (CsH5Writer   *self,
                                     const char    *name,
                                     const char * const *strings,
                                     gsize          n,
                                     GError       **error);
gboolean    cs_h5_writer_set_attr_double (CsH5Writer *self,
                                     const char    *key,
                                     double         value,
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

/* Reading a file written by the writer above (or by h5py). A user's file
 * is first walked in a child process: if that crashes the HDF5 library (a
 * damaged file), the file is refused as damaged (cs-hdf5.c says more). */
typedef struct _CsH5Reader CsH5Reader;

CsH5Reader *cs_h5_reader_open       (const char    *path,
                                     GError       **error);
/* The same for a file this program wrote itself into its own folders (the
 * whitening cache), atomically: no walk in a child process first, which
 * costs a fork (tens of milliseconds in the application). Never for a file
 * a user hands over. */
CsH5Reader *cs_h5_reader_open_own   (const char    *path,
                                     GError       **error);
void        cs_h5_reader_free       (CsH5Reader    *self);
gboolean    cs_h5_reader_has        (CsH5Reader    *self,
                                     const char    *name);
/* Any numeric dataset as float64 / int32; dims gets up to 8 dimensions. */
double     *cs_h5_reader_f64        (CsH5Reader    *self,
                                     const char    *name,
                                     int           *rank,
                                     gsize         *dims,
                                     GError       **error);
gint32     *cs_h5_reader_i32        (CsH5Reader    *self,
                                     const char    *name,
                                     gsize         *n,
                                     GError       **error);
GStrv       cs_h5_reader_strings    (CsH5Reader    *self,
                                     const char    *name,
                                     GError       **error);
char       *cs_h5_reader_attr       (CsH5Reader    *self,
                                     const char    *key);
gboolean    cs_h5_reader_attr_double (CsH5Reader   *self,
                                     const char    *key,
                                     double        *value);

/* The paths ("/group/name") of the file's numeric datasets of at least
 * min_rank axes, in the file's order; an empty list when there are none. */
GStrv       cs_h5_list_datasets     (const char    *path,
                                     int            min_rank,
                                     GError       **error);

/* Streaming: a dataset's shape, and rows [start, start + count) of it (the
 * first axis) as float32. */
gboolean    cs_h5_reader_shape      (CsH5Reader    *self,
                                     const char    *name,
                                     int           *rank,
                                     gsize         *dims,
                                     GError       **error);
gboolean    cs_h5_reader_rows_f32   (CsH5Reader    *self,
                                     const char    *name,
                                     gsize          start,
                                     gsize          count,
                                     float         *out,
                                     GError       **error);

/* A growing [rows, cols] float32 dataset written a batch of rows at a time
 * (for activations too large to hold): not atomic, meant for scratch files. */
typedef struct _CsH5Appender CsH5Appender;

CsH5Appender *cs_h5_appender_new    (const char    *path,
                                     const char    *name,
                                     gsize          cols,
                                     GError       **error);
gboolean    cs_h5_appender_add      (CsH5Appender  *self,
                                     const float   *rows,
                                     gsize          n,
                                     GError       **error);
gsize       cs_h5_appender_rows     (CsH5Appender  *self);
void        cs_h5_appender_close    (CsH5Appender  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsH5Writer, cs_h5_writer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsH5Appender, cs_h5_appender_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsH5Reader, cs_h5_reader_free)

G_END_DECLS
