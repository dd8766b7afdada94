#define G_LOG_DOMAIN "cs-npz"

#include "cs-npz.h"
#include "cs-error.h"

#include <gio/gio.h>
#include <string.h>

/* A NumPy .npz file is a zip archive of .npy files (np.savez stores them,
 * np.savez_compressed deflates them; NumPy writes zip64 fields). Only what
 * NumPy writes is read: the central directory, methods 0 and 8, zip64
 * sizes and offsets, little-endian float and integer arrays in C order. */

struct _CsNpz
{
  GMappedFile *map;
  const guint8 *data;
  gsize         size;
  char         *path;
  GPtrArray    *names;       /* char*, without ".npy" */
  GArray       *entries;     /* Entry */
};

typedef struct
{
  guint16 method;
  guint64 csize, usize, offset;
} Entry;

static guint16 rd16 (const guint8 *p) { return (guint16) (p[0] | p[1] << 8); }
static guint32 rd32 (const guint8 *p) { return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24; }
static guint64 rd64 (const guint8 *p) { return (guint64) rd32 (p) | (guint64) rd32 (p + 4) << 32; }

void
cs_npz_free (CsNpz *z)
{
  if (!z)
    return;
  if (z->map)
    g_mapped_file_unref (z->map);
  g_free (z->path);
  g_ptr_array_unref (z->names);
  g_array_unref (z->entries);
  g_free (z);
}

static gboolean
bad (CsNpz *z, GError **error, const char *what)
{
  g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: not a readable .npz archive (%s)", z->path, what);
  return FALSE;
}

static gboolean
read_directory (CsNpz *z, GError **error)
{
  const guint8 *d = z->data;
  gsize n = z->size, eocd = 0;
  guint64 count, cd_off, cd_size;
  gboolean found = FALSE;

  if (n < 22)
    return bad (z, error, "too short");
  for (gsize i = n - 22 + 1; i-- > 0 && i + 65557 >= n;)
    if (rd32 (d + i) == 0x06054b50)
      {
        eocd = i;
        found = TRUE;
        break;
      }
  if (!found)
    return bad (z, error, "no end of central directory");
  count = rd16 (d + eocd + 10);
  cd_size = rd32 (d + eocd + 12);
  cd_off = rd32 (d + eocd + 16);
  if ((count == 0xffff || cd_off == 0xffffffff || cd_size == 0xffffffff) && eocd >= 20 &&
      rd32 (d + eocd - 20) == 0x07064b50)
    {
      guint64 z64 = rd64 (d + eocd - 20 + 8);
      if (z64 + 56 > n || rd32 (d + z64) != 0x06064b50)
        return bad (z, error, "broken zip64 end record");
      count = rd64 (d + z64 + 32);
      cd_size = rd64 (d + z64 + 40);
      cd_off = rd64 (d + z64 + 48);
    }
  if (cd_off > n || cd_size > n - cd_off)
    return bad (z, error, "central directory outside the file");
  for (guint64 k = 0, p = cd_off; k < count; k++)
    {
      Entry e = { 0 };
      guint16 name_len, extra_len, comment_len;
      char *name;
      if (p + 46 > n || rd32 (d + p) != 0x02014b50)
        return bad (z, error, "broken central directory");
      e.method = rd16 (d + p + 10);
      e.csize = rd32 (d + p + 20);
      e.usize = rd32 (d + p + 24);
      name_len = rd16 (d + p + 28);
      extra_len = rd16 (d + p + 30);
      comment_len = rd16 (d + p + 32);
      e.offset = rd32 (d + p + 42);
      if (p + 46 + name_len + extra_len > n)
        return bad (z, error, "broken central directory");
      /* zip64 extra: the fields that are 0xffffffff, in this order */
      for (guint64 x = p + 46 + name_len; x + 4 <= p + 46 + name_len + extra_len;)
        {
          guint16 id = rd16 (d + x), len = rd16 (d + x + 2);
          const guint8 *q = d + x + 4, *end = q + len;
          if (id == 0x0001)
            {
              if (e.usize == 0xffffffff && q + 8 <= end)
                e.usize = rd64 (q), q += 8;
              if (e.csize == 0xffffffff && q + 8 <= end)
                e.csize = rd64 (q), q += 8;
              if (e.offset == 0xffffffff && q + 8 <= end)
                e.offset = rd64 (q);
            }
          x += 4 + len;
        }
      name = g_strndup ((const char *) d + p + 46, name_len);
      if (g_str_has_suffix (name, ".npy"))
        name[strlen (name) - 4] = 0;
      g_ptr_array_add (z->names, name);
      g_array_append_val (z->entries, e);
      p += 46 + name_len + extra_len + comment_len;
    }
  return TRUE;
}

CsNpz *
cs_npz_open (const char *path, GError **error)
{
  CsNpz *z = g_new0 (CsNpz, 1);
  z->path = g_strdup (path);
  z->names = g_ptr_array_new_with_free_func (g_free);
  z->entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  z->map = g_mapped_file_new (path, FALSE, error);
  if (!z->map)
    {
      cs_npz_free (z);
      return NULL;
    }
  z->data = (const guint8 *) g_mapped_file_get_contents (z->map);
  z->size = g_mapped_file_get_length (z->map);
  if (!read_directory (z, error))
    {
      cs_npz_free (z);
      return NULL;
    }
  return z;
}

gboolean
cs_npz_has (CsNpz *z, const char *name)
{
  for (guint i = 0; i < z->names->len; i++)
    if (g_str_equal (z->names->pdata[i], name))
      return TRUE;
  return FALSE;
}

/* The .npy member's bytes (inflated when deflated). */
static GBytes *
member_bytes (CsNpz *z, guint i, GError **error)
{
  Entry *e = &g_array_index (z->entries, Entry, i);
  const guint8 *d = z->data;
  guint64 lo = e->offset, start;
  if (lo + 30 > z->size || rd32 (d + lo) != 0x04034b50)
    {
      bad (z, error, "broken local header");
      return NULL;
    }
  start = lo + 30 + rd16 (d + lo + 26) + rd16 (d + lo + 28);
  if (start > z->size || e->csize > z->size - start)
    {
      bad (z, error, "member outside the file");
      return NULL;
    }
  if (e->method == 0)
    return g_bytes_new_static (d + start, e->csize);
  if (e->method == 8)
    {
      g_autoptr(GZlibDecompressor) dec = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
      guint8 *out;
      gsize in_done = 0, out_done = 0;
      if (e->usize > G_MAXSIZE / 2)
        {
          bad (z, error, "member too large");
          return NULL;
        }
      out = g_try_malloc (MAX (1, e->usize));
      if (!out)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "%s: not enough memory to inflate a member", z->path);
          return NULL;
        }
      while (out_done < e->usize)
        {
          gsize r = 0, w = 0;
          GConverterResult res = g_converter_convert (G_CONVERTER (dec), d + start + in_done, e->csize - in_done,
                                                      out + out_done, e->usize - out_done,
                                                      G_CONVERTER_INPUT_AT_END, &r, &w, error);
          in_done += r;
          out_done += w;
          if (res == G_CONVERTER_ERROR)
            {
              g_free (out);
              g_prefix_error (error, "%s: ", z->path);
              return NULL;
            }
          if (res == G_CONVERTER_FINISHED || (r == 0 && w == 0))
            break;
        }
      if (out_done != e->usize)
        {
          g_free (out);
          bad (z, error, "a member inflates to the wrong size");
          return NULL;
        }
      return g_bytes_new_take (out, e->usize);
    }
  bad (z, error, "a member is compressed with a method other than deflate");
  return NULL;
}

float *
cs_npz_read_f32 (CsNpz *z, const char *name, int *rank, gint64 *dims, GError **error)
{
  guint idx = G_MAXUINT;
  g_autoptr(GBytes) b = NULL;
  const guint8 *p;
  gsize len, hlen, elem = 0, count = 1;
  g_autofree char *header = NULL;
  const char *descr, *shape;
  char kind = 0;
  float *out;

  for (guint i = 0; i < z->names->len; i++)
    if (g_str_equal (z->names->pdata[i], name))
      idx = i;
  if (idx == G_MAXUINT)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s has no array '%s'", z->path, name);
      return NULL;
    }
  if (!(b = member_bytes (z, idx, error)))
    return NULL;
  p = g_bytes_get_data (b, &len);
  if (len < 10 || memcmp (p, "\x93NUMPY", 6) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' is not a .npy array", z->path, name);
      return NULL;
    }
  if (p[6] == 1)
    hlen = rd16 (p + 8), p += 10, len -= 10;
  else if (len >= 12)
    hlen = rd32 (p + 8), p += 12, len -= 12;
  else
    hlen = G_MAXSIZE;
  if (hlen > len)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' has a broken .npy header", z->path, name);
      return NULL;
    }
  header = g_strndup ((const char *) p, hlen);
  p += hlen;
  len -= hlen;
  descr = strstr (header, "'descr':");
  shape = strstr (header, "'shape':");
  if (!descr || !shape || strstr (header, "'fortran_order': True"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' is not a C-order array", z->path, name);
      return NULL;
    }
  descr = strchr (descr + 8, '\'');
  if (descr && (descr[1] == '<' || descr[1] == '|') && descr[2] && g_ascii_isdigit (descr[3]))
    {
      kind = descr[2];
      elem = (gsize) g_ascii_strtoull (descr + 3, NULL, 10);
    }
  if (!((kind == 'f' && (elem == 2 || elem == 4 || elem == 8)) || (kind == 'i' && (elem == 4 || elem == 8))))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "%s: '%s' has a dtype other than little-endian float or int",
                   z->path, name);
      return NULL;
    }
  *rank = 0;
  shape = strchr (shape, '(');
  while (shape && *shape && *shape != ')')
    {
      char *end;
      guint64 v;
      shape++;
      while (*shape == ' ')
        shape++;
      if (*shape == ')')
        break;
      v = g_ascii_strtoull (shape, &end, 10);
      if (end == shape || *rank >= 4)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' has an unreadable shape", z->path, name);
          return NULL;
        }
      dims[(*rank)++] = (gint64) v;
      count *= v;
      shape = end;
      while (*shape == ' ')
        shape++;
      if (*shape != ',')
        break;
    }
  if (count > len / elem)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' is shorter than its shape", z->path, name);
      return NULL;
    }
  out = g_try_new (float, MAX (1, count));
  if (!out)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "%s: not enough memory for '%s'", z->path, name);
      return NULL;
    }
  for (gsize i = 0; i < count; i++)
    {
      const guint8 *q = p + i * elem;
      if (kind == 'f' && elem == 4)
        {
          guint32 u = rd32 (q);
          memcpy (&out[i], &u, 4);
        }
      else if (kind == 'f' && elem == 8)
        {
          guint64 u = rd64 (q);
          double v;
          memcpy (&v, &u, 8);
          out[i] = (float) v;
        }
      else if (kind == 'f')
        {
          /* IEEE half */
          guint16 h = rd16 (q);
          guint32 sign = (guint32) (h & 0x8000) << 16, ex = (h >> 10) & 0x1f, man = h & 0x3ff, u;
          if (ex == 0)
            {
              float v = (float) man / 16777216.0f;   /* 2^-24 */
              out[i] = sign ? -v : v;
              continue;
            }
          u = ex == 31 ? sign | 0x7f800000 | man << 13 : sign | (ex + 112) << 23 | man << 13;
          memcpy (&out[i], &u, 4);
        }
      else if (elem == 4)
        out[i] = (float) (gint32) rd32 (q);
      else
        out[i] = (float) (gint64) rd64 (q);
    }
  return out;
}
