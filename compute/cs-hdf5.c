#define G_LOG_DOMAIN "cs-hdf5"

#include "cs-hdf5.h"
#include "cs-error.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <string.h>
#include <hdf5.h>

#include "cs-hdf5-private.h"

struct _CsH5Writer
{
  char  *path;
  char  *tmp_path;
  hid_t  file;
  int    lock_fd;   /* the lock beside the file, held until commit or free; −1: none */
};

/* Writers of one file take turns: an update reads the file, adds to it and
 * renames the result over it, so two at once (two `mapper --workspace`, or
 * the application and the command line) each kept only their own change.
 * The lock is a hidden file beside it (.NAME.lock, holding the writer's
 * pid), locked with flock; a writer waits up to ten seconds for another,
 * then says which process holds it. */
static char *
lock_path_of (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  return g_strdup_printf ("%s/.%s.lock", dir, base);
}

static int
take_lock (const char *path, GError **error)
{
  g_autofree char *lock = lock_path_of (path);

  for (int tries = 0;; tries++)
    {
      struct stat held, now;
      int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        return -1;   /* a folder we may not write a lock into: the write itself will say what is wrong */
      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        {
          /* the holder before us removes the file as it lets go: ours must
           * still be the one at that path, else take the new one */
          if (fstat (fd, &held) == 0 && stat (lock, &now) == 0 && held.st_ino == now.st_ino &&
              held.st_dev == now.st_dev)
            {
              char pid[32];
              int n = g_snprintf (pid, sizeof pid, "%d\n", (int) getpid ());
              if (ftruncate (fd, 0) != 0 || pwrite (fd, pid, (size_t) n, 0) != n)
                { /* the pid is only for another writer's message */ }
              return fd;
            }
          close (fd);
          continue;
        }
      if (errno != EWOULDBLOCK || tries >= 100)
        {
          char pid[32] = "";
          ssize_t n = pread (fd, pid, sizeof pid - 1, 0);
          if (n > 0)
            pid[n] = '\0';
          g_strstrip (pid);
          g_set_error (error, CS_ERROR, CS_ERROR_IO,
                       "%s is being written by another process%s%s%s; nothing was saved: try again when it is done",
                       path, *pid ? " (pid " : "", pid, *pid ? ")" : "");
          close (fd);
          return -2;
        }
      close (fd);
      g_usleep (100000);
    }
}

/* Removes the lock file while still holding it (so nothing is left beside
 * the file), then lets go. */
static void
release_lock (const char *path, int fd)
{
  g_autofree char *lock = NULL;
  if (fd < 0)
    return;
  lock = lock_path_of (path);
  g_unlink (lock);
  close (fd);
}

static void
drop_lock (CsH5Writer *self)
{
  release_lock (self->path, self->lock_fd);
  self->lock_fd = -1;
}

/* HDF5 1.10 leaves a file whose close failed (a full disk) half-closed in
 * its table, and its exit handler then crashes closing it again: the
 * original was kept and the message given, but the process died at exit.
 * Every file ConceptScope opens is closed explicitly, so the handler is not
 * needed; this runs before any HDF5 call. */
__attribute__ ((constructor)) static void
no_hdf5_exit_handler (void)
{
  H5dont_atexit ();
}

/* A small file may declare a huge dataset (chunks never written read as
 * fill values): what it asks for is checked against the machine's memory
 * before anything is allocated. */
static gboolean
fits_in_memory (gsize bytes, const char *path, const char *name, GError **error)
{
  double phys = (double) sysconf (_SC_PHYS_PAGES) * (double) sysconf (_SC_PAGESIZE);
  if (phys > 0 && (double) bytes > 0.75 * phys)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY,
                   "%s: dataset '%s' would take %.3g GB in memory, more than this machine can give it (%.3g GB)",
                   path, name, bytes / 1e9, phys / 1e9);
      return FALSE;
    }
  return TRUE;
}

/* What a dataset declares against what the file stores for it: without
 * compression every value takes its type's size in the file, so a dataset
 * of 10⁸ × 10⁴ in a 23 KB file (its chunks never written, read back as fill
 * values) is refused before any allocation; compressed data may expand at
 * most 1,000 times. */
static gboolean
stored_as_declared (hid_t dset, gsize n, const char *path, const char *name, GError **error)
{
  hid_t type = H5Dget_type (dset), dcpl = H5Dget_create_plist (dset);
  gsize elem = type >= 0 ? H5Tget_size (type) : 0;
  int filters = dcpl >= 0 ? H5Pget_nfilters (dcpl) : 0;
  hsize_t stored = H5Dget_storage_size (dset);
  double need = (double) n * (double) elem;

  if (type >= 0)
    H5Tclose (type);
  if (dcpl >= 0)
    H5Pclose (dcpl);
  if (n == 0 || elem == 0)
    return TRUE;
  if ((filters <= 0 && (double) stored < need) || (filters > 0 && (double) stored * 1000.0 < need))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: dataset '%s' declares %" G_GSIZE_FORMAT " values (%.3g MB) but the file stores %.3g MB "
                   "of them", path, name, n, need / 1e6, stored / 1e6);
      return FALSE;
    }
  return TRUE;
}

static void
quiet_hdf5 (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      /* Errors come back as GErrors; HDF5's own stack dumps only confuse. */
      H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
      g_once_init_leave (&once, 1);
    }
}

CsH5Writer *
cs_h5_writer_new (const char  *path,
                  GError     **error)
{
  CsH5Writer *self;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);

  int lock_fd;

  quiet_hdf5 ();
  if ((lock_fd = take_lock (path, error)) == -2)
    return NULL;
  self = g_new0 (CsH5Writer, 1);
  self->lock_fd = lock_fd;
  self->path = g_strdup (path);
  self->tmp_path = g_strdup_printf ("%s/.%s.%08x.tmp", dir, base, g_random_int ());
  self->file = H5Fcreate (self->tmp_path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (self->file < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot create the file (is the folder writable?)", path);
      drop_lock (self);
      g_free (self->path);
      g_free (self->tmp_path);
      g_free (self);
      return NULL;
    }
  return self;
}

CsH5Writer *
cs_h5_writer_new_update (const char  *path,
                         const char  *replace,
                         GError     **error)
{
  CsH5Writer *self;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autoptr(GFile) src = g_file_new_for_path (path);
  g_autoptr(GFile) dst = NULL;
  GError *local = NULL;

  int lock_fd;

  quiet_hdf5 ();
  /* the lock before the read: what is read is what the update replaces */
  if ((lock_fd = take_lock (path, error)) == -2)
    return NULL;
  if (H5Fis_hdf5 (path) <= 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: not an HDF5 file (or not readable)", path);
      release_lock (path, lock_fd);
      return NULL;
    }
  self = g_new0 (CsH5Writer, 1);
  self->lock_fd = lock_fd;
  self->path = g_strdup (path);
  self->tmp_path = g_strdup_printf ("%s/.%s.%08x.tmp", dir, base, g_random_int ());
  dst = g_file_new_for_path (self->tmp_path);
  if (!g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &local))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot copy it to update it: %s", path, local->message);
      g_error_free (local);
      g_unlink (self->tmp_path);
      goto fail;
    }
  self->file = H5Fopen (self->tmp_path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (self->file < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot open a copy for writing", path);
      g_unlink (self->tmp_path);
      goto fail;
    }
  if (replace && H5Lexists (self->file, replace, H5P_DEFAULT) > 0 &&
      H5Ldelete (self->file, replace, H5P_DEFAULT) < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot replace '%s'", path, replace);
      H5Fclose (self->file);
      g_unlink (self->tmp_path);
      goto fail;
    }
  return self;

fail:
  drop_lock (self);
  g_free (self->path);
  g_free (self->tmp_path);
  g_free (self);
  return NULL;
}

static gboolean
add_dataset (CsH5Writer *self, const char *name, int rank, const gsize *dims,
             hid_t type, const void *data, GError **error)
{
  hsize_t hd[8];
  hid_t space, dset, lcpl;
  herr_t st;

  g_return_val_if_fail (rank >= 1 && rank <= 8, FALSE);
  for (int i = 0; i < rank; i++)
    hd[i] = dims[i];
  space = H5Screate_simple (rank, hd, NULL);
  lcpl = H5Pcreate (H5P_LINK_CREATE);
  H5Pset_create_intermediate_group (lcpl, 1);
  dset = H5Dcreate2 (self->file, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose (lcpl);
  if (dset < 0)
    {
      H5Sclose (space);
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot create dataset '%s'", self->path, name);
      return FALSE;
    }
  st = H5Dwrite (dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  H5Dclose (dset);
  H5Sclose (space);
  if (st < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: writing dataset '%s' failed (disk full?)", self->path, name);
      return FALSE;
    }
  return TRUE;
}

gboolean
cs_h5_writer_add_f32 (CsH5Writer *self, const char *name, int rank, const gsize *dims,
                      const float *data, GError **error)
{
  return add_dataset (self, name, rank, dims, H5T_NATIVE_FLOAT, data, error);
}

gboolean
cs_h5_writer_add_i32 (CsH5Writer *self, const char *name, int rank, const gsize *dims,
                      const gint32 *data, GError **error)
{
  return add_dataset (self, name, rank, dims, H5T_NATIVE_INT32, data, error);
}

gboolean
cs_h5_writer_add_f64 (CsH5Writer *self, const char *name, int rank, const gsize *dims,
                      const double *data, GError **error)
{
  return add_dataset (self, name, rank, dims, H5T_NATIVE_DOUBLE, data, error);
}

gboolean
cs_h5_writer_add_strings (CsH5Writer *self, const char *name, const char * const *strings, gsize n,
                          GError **error)
{
  hid_t type = H5Tcopy (H5T_C_S1);
  gboolean ok;
  gsize dims[1] = { n };

  H5Tset_size (type, H5T_VARIABLE);
  H5Tset_cset (type, H5T_CSET_UTF8);
  ok = add_dataset (self, name, 1, dims, type, strings, error);
  H5Tclose (type);
  return ok;
}

gboolean
cs_h5_writer_set_attr_double (CsH5Writer *self, const char *key, double value, GError **error)
{
  hid_t space = H5Screate (H5S_SCALAR);
  hid_t attr = H5Acreate2 (self->file, key, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t st = attr >= 0 ? H5Awrite (attr, H5T_NATIVE_DOUBLE, &value) : -1;
  if (attr >= 0)
    H5Aclose (attr);
  H5Sclose (space);
  if (st < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot write attribute '%s'", self->path, key);
      return FALSE;
    }
  return TRUE;
}

gboolean
cs_h5_writer_set_attr (CsH5Writer *self, const char *key, const char *value, GError **error)
{
  hid_t type = H5Tcopy (H5T_C_S1);
  hid_t space = H5Screate (H5S_SCALAR);
  hid_t attr;
  herr_t st = -1;

  H5Tset_size (type, strlen (value) + 1);
  H5Tset_cset (type, H5T_CSET_UTF8);
  attr = H5Acreate2 (self->file, key, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr >= 0)
    {
      st = H5Awrite (attr, type, value);
      H5Aclose (attr);
    }
  H5Sclose (space);
  H5Tclose (type);
  if (st < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot write attribute '%s'", self->path, key);
      return FALSE;
    }
  return TRUE;
}

gboolean
cs_h5_writer_commit (CsH5Writer *self, GError **error)
{
  herr_t st = H5Fclose (self->file);
  self->file = -1;
  if (st < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: closing the file failed (disk full?)", self->path);
      return FALSE;
    }
  if (g_rename (self->tmp_path, self->path) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot replace the file: %s",
                   self->path, g_strerror (errno));
      return FALSE;
    }
  g_clear_pointer (&self->tmp_path, g_free);
  drop_lock (self);
  return TRUE;
}

void
cs_h5_writer_free (CsH5Writer *self)
{
  if (!self)
    return;
  if (self->file >= 0)
    H5Fclose (self->file);
  if (self->tmp_path)
    g_unlink (self->tmp_path);
  drop_lock (self);
  g_free (self->tmp_path);
  g_free (self->path);
  g_free (self);
}

float *
cs_h5_read_f32 (const char  *path,
                const char  *dataset,
                int         *rank_out,
                gsize       *dims_out,
                GError     **error)
{
  hid_t file, dset, space;
  hsize_t dims[8];
  int rank;
  gsize n = 1;
  float *data = NULL;

  quiet_hdf5 ();
  if (!cs_h5_check_user_file (path, error))
    return NULL;
  file = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot open the HDF5 file", path);
      return NULL;
    }
  dset = H5Lexists (file, dataset, H5P_DEFAULT) > 0 ? H5Dopen2 (file, dataset, H5P_DEFAULT) : -1;
  if (dset < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s: no dataset '%s'", path, dataset);
      H5Fclose (file);
      return NULL;
    }
  space = H5Dget_space (dset);
  rank = H5Sget_simple_extent_ndims (space);
  if (rank < 0 || rank > 8)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: dataset '%s' has an unsupported shape", path, dataset);
      goto out;
    }
  H5Sget_simple_extent_dims (space, dims, NULL);
  for (int i = 0; i < rank; i++)
    {
      if (dims[i] && n > G_MAXSIZE / sizeof (float) / dims[i])
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: dataset '%s' claims an impossible size", path, dataset);
          goto out;
        }
      n *= dims[i];
    }
  if (!stored_as_declared (dset, n, path, dataset, error) || !fits_in_memory (n * sizeof (float), path, dataset, error))
    goto out;
  {
    hid_t type = H5Dget_type (dset);
    H5T_class_t cls = H5Tget_class (type);
    H5Tclose (type);
    if (cls != H5T_FLOAT && cls != H5T_INTEGER)
      {
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: dataset '%s' is not numeric", path, dataset);
        goto out;
      }
  }
  data = g_try_malloc (MAX (n, 1) * sizeof (float));
  if (!data || H5Dread (dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: reading dataset '%s' failed", path, dataset);
      g_clear_pointer (&data, g_free);
      goto out;
    }
  if (rank_out)
    *rank_out = rank;
  if (dims_out)
    for (int i = 0; i < rank; i++)
      dims_out[i] = dims[i];
out:
  H5Sclose (space);
  H5Dclose (dset);
  H5Fclose (file);
  return data;
}

struct _CsH5Reader
{
  char  *path;
  hid_t  file;
};


static CsH5Reader *
reader_open (const char *path, gboolean probe, GError **error)
{
  CsH5Reader *self;
  hid_t file;

  quiet_hdf5 ();
  if (probe ? !cs_h5_check_user_file (path, error) : (!g_file_test (path, G_FILE_TEST_IS_REGULAR) || H5Fis_hdf5 (path) <= 0))
    {
      if (!probe)
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: not an HDF5 file", path);
      return NULL;
    }
  if ((file = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: not an HDF5 file", path);
      return NULL;
    }
  self = g_new0 (CsH5Reader, 1);
  self->path = g_strdup (path);
  self->file = file;
  return self;
}

CsH5Reader *
cs_h5_reader_open (const char *path, GError **error)
{
  return reader_open (path, TRUE, error);
}

CsH5Reader *
cs_h5_reader_open_own (const char *path, GError **error)
{
  return reader_open (path, FALSE, error);
}

void
cs_h5_reader_free (CsH5Reader *self)
{
  if (!self)
    return;
  H5Fclose (self->file);
  g_free (self->path);
  g_free (self);
}

gboolean
cs_h5_reader_has (CsH5Reader *self, const char *name)
{
  /* H5Lexists needs every intermediate group to exist */
  g_auto(GStrv) parts = g_strsplit (name, "/", -1);
  g_autoptr(GString) sofar = g_string_new (NULL);
  for (guint i = 0; parts[i]; i++)
    {
      if (!*parts[i])
        continue;
      if (sofar->len)
        g_string_append_c (sofar, '/');
      g_string_append (sofar, parts[i]);
      if (H5Lexists (self->file, sofar->str, H5P_DEFAULT) <= 0)
        return FALSE;
    }
  return TRUE;
}

static void *
read_numeric (CsH5Reader *self, const char *name, hid_t mem_type, gsize elem, int *rank_out, gsize *dims_out,
              gsize *n_out, GError **error)
{
  hid_t dset, space;
  hsize_t dims[8];
  int rank;
  gsize n = 1;
  void *data = NULL;

  if (!cs_h5_reader_has (self, name) || (dset = H5Dopen2 (self->file, name, H5P_DEFAULT)) < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s: no dataset '%s'", self->path, name);
      return NULL;
    }
  space = H5Dget_space (dset);
  rank = H5Sget_simple_extent_ndims (space);
  if (rank < 0 || rank > 8)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: dataset '%s' has an unsupported shape", self->path, name);
      goto out;
    }
  H5Sget_simple_extent_dims (space, dims, NULL);
  for (int i = 0; i < rank; i++)
    {
      if (dims[i] && n > G_MAXSIZE / elem / dims[i])
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: dataset '%s' claims an impossible size", self->path,
                       name);
          goto out;
        }
      n *= dims[i];
    }
  if (!stored_as_declared (dset, n, self->path, name, error) || !fits_in_memory (n * elem, self->path, name, error))
    goto out;
  data = g_try_malloc (MAX (n, 1) * elem);
  if (!data || H5Dread (dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: dataset '%s' cannot be read as numbers", self->path, name);
      g_clear_pointer (&data, g_free);
      goto out;
    }
  if (rank_out)
    *rank_out = rank;
  if (dims_out)
    for (int i = 0; i < rank; i++)
      dims_out[i] = dims[i];
  if (n_out)
    *n_out = n;
out:
  H5Sclose (space);
  H5Dclose (dset);
  return data;
}

double *
cs_h5_reader_f64 (CsH5Reader *self, const char *name, int *rank, gsize *dims, GError **error)
{
  return read_numeric (self, name, H5T_NATIVE_DOUBLE, sizeof (double), rank, dims, NULL, error);
}

gint32 *
cs_h5_reader_i32 (CsH5Reader *self, const char *name, gsize *n, GError **error)
{
  return read_numeric (self, name, H5T_NATIVE_INT32, sizeof (gint32), NULL, NULL, n, error);
}

/* Little-endian unsigned integer of 2, 4 or 8 bytes, as HDF5 stores them. */
static guint64
le_uint (const guint8 *p, int size)
{
  guint64 v = 0;
  for (int i = size - 1; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* HDF5 1.10 trusts a variable-length string's global-heap entry when it
 * reads it: a damaged file whose heap object claims more bytes than the
 * collection holds makes H5Dread copy past its buffers and crash. Before a
 * contiguous variable-length string dataset is read, every element's heap
 * reference is checked against the file itself (the collection's "GCOL"
 * signature, its size within the file, an object with that index whose size
 * is the string's length and lies inside the collection). FALSE: damaged. */
static gboolean
vlen_strings_intact (CsH5Reader *self, hid_t dset, hsize_t n)
{
  hid_t fcpl = H5Fget_create_plist (self->file), dcpl = H5Dget_create_plist (dset);
  size_t sa = 0, ss = 0;
  hsize_t user_block = 0;
  H5D_layout_t layout = H5Pget_layout (dcpl);
  haddr_t offset = H5Dget_offset (dset);
  gboolean ok = FALSE;
  int fd = -1;
  goffset file_size;
  gsize elem;
  g_autofree guint8 *refs = NULL;
  g_autoptr(GHashTable) checked =
    g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  GStatBuf st;

  H5Pget_sizes (fcpl, &sa, &ss);
  H5Pget_userblock (fcpl, &user_block);
  H5Pclose (fcpl);
  H5Pclose (dcpl);
  if (layout != H5D_CONTIGUOUS || n == 0)
    return TRUE; /* compact data lives in the object header; chunked: not what we write, left to HDF5 */
  if (offset == HADDR_UNDEF)
    return TRUE; /* never written: HDF5 gives empty strings */
  if ((sa != 2 && sa != 4 && sa != 8) || (ss != 2 && ss != 4 && ss != 8) || g_stat (self->path, &st) != 0)
    return FALSE;
  file_size = st.st_size;
  elem = 4 + sa + 4;
  if (n > (hsize_t) (file_size / elem) || (goffset) offset > file_size - (goffset) (n * elem))
    return FALSE;
  if ((fd = g_open (self->path, O_RDONLY, 0)) < 0)
    return FALSE;
  refs = g_malloc (n * elem);
  if (pread (fd, refs, n * elem, (off_t) offset) != (ssize_t) (n * elem))
    goto out;
  for (hsize_t i = 0; i < n; i++)
    {
      const guint8 *r = refs + i * elem;
      guint64 len = le_uint (r, 4), addr = le_uint (r + 4, sa), index = le_uint (r + 4 + sa, 4);
      guint8 head[24];
      guint64 coll_size, pos;
      g_autofree guint8 *coll = NULL;
      gboolean found = FALSE;

      if (addr == 0 && len == 0)
        continue; /* a null string */
      addr += user_block;
      if (addr + 8 + ss > (guint64) file_size || pread (fd, head, 8 + ss, (off_t) addr) != (ssize_t) (8 + ss) ||
          memcmp (head, "GCOL", 4) != 0)
        goto out;
      coll_size = le_uint (head + 8, ss);
      if (coll_size < 8 + ss || coll_size > (guint64) file_size || addr > (guint64) file_size - coll_size)
        goto out;
      /* each collection is walked once; its objects' (index → size) kept */
      {
        gint64 key = (gint64) addr;
        GHashTable *objs = g_hash_table_lookup (checked, &key);
        if (!objs)
          {
            coll = g_try_malloc (coll_size);
            if (!coll || pread (fd, coll, coll_size, (off_t) addr) != (ssize_t) coll_size)
              goto out;
            objs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
            gint64 *k = g_new (gint64, 1);
            *k = key;
            g_hash_table_insert (checked, k, objs);
            /* objects: index (2), references (2), reserved (4), size (ss), data padded to 8 */
            for (pos = 8 + ss; pos + 8 + ss <= coll_size;)
              {
                guint64 idx = le_uint (coll + pos, 2), size = le_uint (coll + pos + 8, ss);
                if (idx == 0)
                  break; /* free space: the rest of the collection */
                if (size > coll_size - pos - 8 - ss)
                  goto out;
                gint64 *ki = g_new (gint64, 1);
                guint64 *vs = g_new (guint64, 1);
                *ki = (gint64) idx;
                *vs = size;
                g_hash_table_insert (objs, ki, vs);
                pos += 8 + ss + ((size + 7) & ~(guint64) 7);
              }
          }
        gint64 ik = (gint64) index;
        guint64 *size = g_hash_table_lookup (objs, &ik);
        found = size && *size == len;
      }
      if (!found)
        goto out;
    }
  ok = TRUE;
out:
  close (fd);
  return ok;
}

GStrv
cs_h5_reader_strings (CsH5Reader *self, const char *name, GError **error)
{
  hid_t dset, space, type;
  hsize_t n = 0;
  char **buf;
  GStrv out = NULL;

  if (!cs_h5_reader_has (self, name) || (dset = H5Dopen2 (self->file, name, H5P_DEFAULT)) < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s: no dataset '%s'", self->path, name);
      return NULL;
    }
  space = H5Dget_space (dset);
  if (H5Sget_simple_extent_ndims (space) != 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' is not a list of strings", self->path, name);
      H5Sclose (space);
      H5Dclose (dset);
      return NULL;
    }
  H5Sget_simple_extent_dims (space, &n, NULL);
  {
    hid_t ftype = H5Dget_type (dset);
    gboolean vlen = ftype >= 0 && H5Tis_variable_str (ftype) > 0;
    if (ftype >= 0)
      H5Tclose (ftype);
    if (n > G_MAXSIZE / sizeof (char *) - 1 || (vlen && !vlen_strings_intact (self, dset, n)))
      {
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' is damaged (its strings point outside the file's "
                     "string heap); the file cannot be read", self->path, name);
        H5Sclose (space);
        H5Dclose (dset);
        return NULL;
      }
  }
  type = H5Tcopy (H5T_C_S1);
  H5Tset_size (type, H5T_VARIABLE);
  H5Tset_cset (type, H5T_CSET_UTF8);
  buf = g_new0 (char *, n + 1);
  if (H5Dread (dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
    {
      out = g_new0 (char *, n + 1);
      for (hsize_t i = 0; i < n; i++)
        out[i] = g_strdup (buf[i] ? buf[i] : "");
      H5Dvlen_reclaim (type, space, H5P_DEFAULT, buf);
    }
  else
    g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' is not a list of strings", self->path, name);
  g_free (buf);
  H5Tclose (type);
  H5Sclose (space);
  H5Dclose (dset);
  return out;
}

char *
cs_h5_reader_attr (CsH5Reader *self, const char *key)
{
  hid_t attr, type, mem;
  char *out = NULL;

  if (H5Aexists (self->file, key) <= 0 || (attr = H5Aopen (self->file, key, H5P_DEFAULT)) < 0)
    return NULL;
  type = H5Aget_type (attr);
  if (H5Tget_class (type) == H5T_STRING)
    {
      if (H5Tis_variable_str (type) > 0)
        {
          /* Not read: a variable-length string lives in the global heap,
           * and HDF5 1.10 copies past its buffers (or crashes) on a damaged
           * one; for datasets the heap is checked first (vlen_strings_intact),
           * but an attribute's heap reference cannot be reached through the
           * API. ConceptScope writes its attributes as fixed-length strings;
           * h5py's default variable-length ones read as missing. Found by
           * make fuzz (tests/fuzz/crashes/hdf5). */
        }
      else
        {
          gsize size = H5Tget_size (type);
          out = g_malloc0 (size + 1);
          mem = H5Tcopy (H5T_C_S1);
          H5Tset_size (mem, size);
          H5Tset_cset (mem, H5Tget_cset (type));
          if (H5Aread (attr, mem, out) < 0)
            g_clear_pointer (&out, g_free);
          H5Tclose (mem);
        }
    }
  H5Tclose (type);
  H5Aclose (attr);
  return out;
}

gboolean
cs_h5_reader_attr_double (CsH5Reader *self, const char *key, double *value)
{
  hid_t attr;
  gboolean ok;

  if (H5Aexists (self->file, key) <= 0 || (attr = H5Aopen (self->file, key, H5P_DEFAULT)) < 0)
    return FALSE;
  ok = H5Aread (attr, H5T_NATIVE_DOUBLE, value) >= 0;
  H5Aclose (attr);
  return ok;
}

/* ------------------------------------------------- rows: streaming in and out */

gboolean
cs_h5_reader_shape (CsH5Reader *self, const char *name, int *rank, gsize *dims, GError **error)
{
  hid_t dset, space;
  hsize_t hd[8];
  int r;
  if (!cs_h5_reader_has (self, name) || (dset = H5Dopen2 (self->file, name, H5P_DEFAULT)) < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s: no dataset '%s'", self->path, name);
      return FALSE;
    }
  space = H5Dget_space (dset);
  r = H5Sget_simple_extent_ndims (space);
  if (r < 1 || r > 8)
    {
      H5Sclose (space);
      H5Dclose (dset);
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: dataset '%s' has an unsupported shape", self->path, name);
      return FALSE;
    }
  H5Sget_simple_extent_dims (space, hd, NULL);
  for (int i = 0; i < r; i++)
    dims[i] = hd[i];
  *rank = r;
  H5Sclose (space);
  H5Dclose (dset);
  return TRUE;
}

gboolean
cs_h5_reader_rows_f32 (CsH5Reader *self, const char *name, gsize start, gsize count, float *out, GError **error)
{
  hid_t dset, space, mem;
  hsize_t hd[8], off[8] = { 0 }, cnt[8];
  int r;
  herr_t st;

  if (!cs_h5_reader_has (self, name) || (dset = H5Dopen2 (self->file, name, H5P_DEFAULT)) < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s: no dataset '%s'", self->path, name);
      return FALSE;
    }
  space = H5Dget_space (dset);
  r = H5Sget_simple_extent_ndims (space);
  H5Sget_simple_extent_dims (space, hd, NULL);
  if (r < 1 || r > 8 || start + count > hd[0])
    {
      H5Sclose (space);
      H5Dclose (dset);
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%s: rows %zu to %zu of '%s' do not exist", self->path, start,
                   start + count, name);
      return FALSE;
    }
  for (int i = 0; i < r; i++)
    cnt[i] = hd[i];
  off[0] = start;
  cnt[0] = count;
  H5Sselect_hyperslab (space, H5S_SELECT_SET, off, NULL, cnt, NULL);
  mem = H5Screate_simple (r, cnt, NULL);
  st = H5Dread (dset, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, out);
  H5Sclose (mem);
  H5Sclose (space);
  H5Dclose (dset);
  if (st < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' cannot be read as numbers", self->path, name);
      return FALSE;
    }
  return TRUE;
}

struct _CsH5Appender
{
  char  *path;
  hid_t  file, dset;
  gsize  cols, rows;
};

CsH5Appender *
cs_h5_appender_new (const char *path, const char *name, gsize cols, GError **error)
{
  CsH5Appender *a = g_new0 (CsH5Appender, 1);
  hsize_t dims[2] = { 0, cols }, maxd[2] = { H5S_UNLIMITED, cols }, chunk[2] = { MAX (1, 65536 / MAX (cols, 1)), cols };
  hid_t space, dcpl;

  quiet_hdf5 ();
  a->path = g_strdup (path);
  a->cols = cols;
  a->file = H5Fcreate (path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (a->file < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot create the file", path);
      g_free (a->path);
      g_free (a);
      return NULL;
    }
  space = H5Screate_simple (2, dims, maxd);
  dcpl = H5Pcreate (H5P_DATASET_CREATE);
  H5Pset_chunk (dcpl, 2, chunk);
  a->dset = H5Dcreate2 (a->file, name, H5T_NATIVE_FLOAT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose (dcpl);
  H5Sclose (space);
  if (a->dset < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot create dataset '%s'", path, name);
      H5Fclose (a->file);
      g_free (a->path);
      g_free (a);
      return NULL;
    }
  return a;
}

gboolean
cs_h5_appender_add (CsH5Appender *a, const float *rows, gsize n, GError **error)
{
  hsize_t size[2] = { a->rows + n, a->cols }, off[2] = { a->rows, 0 }, cnt[2] = { n, a->cols };
  hid_t fs, ms;
  herr_t st;
  if (n == 0)
    return TRUE;
  if (H5Dset_extent (a->dset, size) < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot grow the dataset (disk full?)", a->path);
      return FALSE;
    }
  fs = H5Dget_space (a->dset);
  H5Sselect_hyperslab (fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
  ms = H5Screate_simple (2, cnt, NULL);
  st = H5Dwrite (a->dset, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, rows);
  H5Sclose (ms);
  H5Sclose (fs);
  if (st < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: writing rows failed (disk full?)", a->path);
      return FALSE;
    }
  a->rows += n;
  return TRUE;
}

gsize
cs_h5_appender_rows (CsH5Appender *a)
{
  return a->rows;
}

void
cs_h5_appender_close (CsH5Appender *a)
{
  if (!a)
    return;
  H5Dclose (a->dset);
  H5Fclose (a->file);
  g_free (a->path);
  g_free (a);
}

typedef struct
{
  int        min_rank;
  GPtrArray *names;
} ListData;

static herr_t
list_visit (hid_t group, const char *name, const H5L_info_t *info, void *data)
{
  ListData *d = data;
  hid_t dset, space, type;
  if (info->type != H5L_TYPE_HARD || (dset = H5Dopen2 (group, name, H5P_DEFAULT)) < 0)
    return 0;   /* a group, or a link elsewhere */
  space = H5Dget_space (dset);
  type = H5Dget_type (dset);
  if (H5Sget_simple_extent_ndims (space) >= d->min_rank &&
      (H5Tget_class (type) == H5T_FLOAT || H5Tget_class (type) == H5T_INTEGER))
    g_ptr_array_add (d->names, g_strconcat ("/", name, NULL));
  H5Tclose (type);
  H5Sclose (space);
  H5Dclose (dset);
  return 0;
}

GStrv
cs_h5_list_datasets (const char *path, int min_rank, GError **error)
{
  g_autoptr(CsH5Reader) r = cs_h5_reader_open (path, error);
  ListData d = { min_rank, NULL };
  if (!r)
    return NULL;
  d.names = g_ptr_array_new_with_free_func (g_free);
  /* creation order where the file tracks it, else by name */
  if (H5Lvisit (r->file, H5_INDEX_CRT_ORDER, H5_ITER_INC, list_visit, &d) < 0 &&
      (g_ptr_array_set_size (d.names, 0), H5Lvisit (r->file, H5_INDEX_NAME, H5_ITER_INC, list_visit, &d) < 0))
    {
      g_ptr_array_free (d.names, TRUE);
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: its contents cannot be listed", path);
      return NULL;
    }
  g_ptr_array_add (d.names, NULL);
  return (GStrv) g_ptr_array_free (d.names, FALSE);
}

gboolean
cs_h5_is_hdf5 (const char *path)
{
  H5E_auto2_t func;
  void *data;
  htri_t ok;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;
  H5Eget_auto2 (H5E_DEFAULT, &func, &data);
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  ok = H5Fis_hdf5 (path);
  H5Eset_auto2 (H5E_DEFAULT, func, data);
  return ok > 0;
}

CsH5Writer *
cs_h5_writer_for_group (const char *path, const char *group, GError **error)
{
  if (!cs_h5_is_hdf5 (path))
    {
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s exists and is not an HDF5 file: choose another name (it is left as it is)", path);
          return NULL;
        }
      return cs_h5_writer_new (path, error);
    }
  return cs_h5_writer_new_update (path, group, error);
}
