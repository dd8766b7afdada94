#define G_LOG_DOMAIN "cs-safetensors"

#include "cs-json.h"
#include "cs-safetensors.h"
#include "cs-error.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* A header larger than this is not a safetensors file we should trust. */
#define MAX_HEADER_BYTES (100 * 1024 * 1024)

struct _CsSafetensors
{
  gatomicrefcount ref_count;
  char           *path;
  GMappedFile    *mapped;
  const guint8   *bytes;
  gsize           size;
  gsize           data_start;
  GPtrArray      *tensors;     /* CsTensor* */
  GHashTable     *by_name;     /* name → CsTensor* */
  GHashTable     *metadata;    /* char* → char* */
};

static const struct { const char *name; CsDType dtype; gsize size; } dtypes[] = {
  { "F32", CS_DTYPE_F32, 4 },
  { "F16", CS_DTYPE_F16, 2 },
  { "BF16", CS_DTYPE_BF16, 2 },
  { "F64", CS_DTYPE_F64, 8 },
  { "I64", CS_DTYPE_I64, 8 },
  { "I32", CS_DTYPE_I32, 4 },
  { "I16", CS_DTYPE_I16, 2 },
  { "I8", CS_DTYPE_I8, 1 },
  { "U8", CS_DTYPE_U8, 1 },
  { "BOOL", CS_DTYPE_BOOL, 1 },
};

const char *
cs_dtype_to_string (CsDType dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (dtypes[i].dtype == dtype)
      return dtypes[i].name;
  return "?";
}

gsize
cs_dtype_size (CsDType dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (dtypes[i].dtype == dtype)
      return dtypes[i].size;
  return 0;
}

gboolean
cs_dtype_is_float (CsDType dtype)
{
  return dtype == CS_DTYPE_F32 || dtype == CS_DTYPE_F16 ||
         dtype == CS_DTYPE_BF16 || dtype == CS_DTYPE_F64;
}

static gboolean
dtype_from_string (const char *s, CsDType *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (g_strcmp0 (dtypes[i].name, s) == 0)
      {
        *out = dtypes[i].dtype;
        return TRUE;
      }
  return FALSE;
}

gint64
cs_tensor_numel (const CsTensor *t)
{
  gint64 n = 1;
  for (guint i = 0; i < t->ndim; i++)
    n *= t->shape[i];
  return n;
}

char *
cs_tensor_describe (const CsTensor *t)
{
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "%s [", cs_dtype_to_string (t->dtype));
  for (guint i = 0; i < t->ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", t->shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

float
cs_f16_to_f32 (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1f;
  guint32 mant = h & 0x3ff;
  guint32 bits;
  union { guint32 u; float f; } v;

  if (exp == 0)
    {
      if (mant == 0)
        bits = sign;
      else
        {
          /* subnormal: value = mant × 2^-24 */
          v.f = (float) mant * (1.0f / 16777216.0f);
          v.u |= sign;
          return v.f;
        }
    }
  else if (exp == 31)
    bits = sign | 0x7f800000u | (mant << 13);
  else
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  v.u = bits;
  return v.f;
}

float
cs_bf16_to_f32 (guint16 h)
{
  union { guint32 u; float f; } v;
  v.u = (guint32) h << 16;
  return v.f;
}

guint16
cs_f32_to_bf16 (float f)
{
  union { guint32 u; float f; } v = { .f = f };
  if ((v.u & 0x7fffffffu) > 0x7f800000u)
    return (guint16) ((v.u >> 16) | 0x40);
  /* round to nearest even, as PyTorch does */
  guint32 rounding = 0x7fff + ((v.u >> 16) & 1);
  return (guint16) ((v.u + rounding) >> 16);
}

guint16
cs_f32_to_f16 (float f)
{
  union { guint32 u; float f; } v = { .f = f };
  guint32 sign = (v.u >> 16) & 0x8000;
  gint32 exp = (gint32) ((v.u >> 23) & 0xff) - 127 + 15;
  guint32 mant = v.u & 0x7fffff;

  if (((v.u >> 23) & 0xff) == 0xff)
    return (guint16) (sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 31)
    return (guint16) (sign | 0x7c00);
  if (exp <= 0)
    {
      if (exp < -10)
        return (guint16) sign;
      mant |= 0x800000;
      guint32 shift = (guint32) (14 - exp);
      guint32 half = 1u << (shift - 1);
      guint32 r = mant >> shift;
      guint32 rem = mant & ((1u << shift) - 1);
      if (rem > half || (rem == half && (r & 1)))
        r++;
      return (guint16) (sign | r);
    }
  guint32 r = ((guint32) exp << 10) | (mant >> 13);
  guint32 rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1)))
    r++;
  return (guint16) (sign | r);
}

gboolean
cs_tensor_is_f32_aligned (const CsTensor *t)
{
  return t->dtype == CS_DTYPE_F32 && ((guintptr) t->data % 4) == 0;
}

/* F16 → F32 eight at a time with the F16C instruction (every x86-64
 * processor since 2012; exact, subnormals and infinities included): the
 * scalar conversion above cost as much as the products for the sample
 * model's short prompts. Returns how many it converted (a multiple of 8;
 * 0 without F16C). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__ ((target ("avx,f16c"))) static gsize
f16_block_f16c (const guint8 *p, gsize n, float *out)
{
  gsize i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (out + i, _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (p + 2 * i))));
  return i;
}

static gsize
f16_block (const guint8 *p, gsize n, float *out)
{
  static int has = -1;
  if (has < 0)
    {
      __builtin_cpu_init ();
      has = __builtin_cpu_supports ("f16c") && __builtin_cpu_supports ("avx");
    }
  return has ? f16_block_f16c (p, n, out) : 0;
}
#else
static gsize
f16_block (const guint8 *p, gsize n, float *out)
{
  return 0;
}
#endif

void
cs_tensor_read_f32 (const CsTensor *t,
                    gsize           first,
                    gsize           n,
                    float          *out)
{
  const guint8 *base = t->data;

  switch (t->dtype)
    {
    case CS_DTYPE_F32:
      memcpy (out, base + first * 4, n * 4);
      break;
    case CS_DTYPE_F16:
      {
        const guint8 *p = base + first * 2;
        gsize i = f16_block (p, n, out);   /* the processor's own conversion, where it has one */
        for (; i < n; i++)
          {
            guint16 h;
            memcpy (&h, p + 2 * i, 2);
            out[i] = cs_f16_to_f32 (h);
          }
      }
      break;
    case CS_DTYPE_BF16:
      {
        const guint8 *p = base + first * 2;
        for (gsize i = 0; i < n; i++)
          {
            /* a bfloat16 is a float32's upper half: written inline so the
             * loop vectorises (the unembedding passes read 10⁸–10⁹ of them) */
            guint16 h;
            guint32 u;
            memcpy (&h, p + 2 * i, 2);
            u = (guint32) h << 16;
            memcpy (out + i, &u, 4);
          }
      }
      break;
    case CS_DTYPE_F64:
      {
        const guint8 *p = base + first * 8;
        for (gsize i = 0; i < n; i++)
          {
            double d;
            memcpy (&d, p + 8 * i, 8);
            out[i] = (float) d;
          }
      }
      break;
    case CS_DTYPE_I64:
      {
        const guint8 *p = base + first * 8;
        for (gsize i = 0; i < n; i++)
          {
            gint64 d;
            memcpy (&d, p + 8 * i, 8);
            out[i] = (float) d;
          }
      }
      break;
    case CS_DTYPE_I32:
    case CS_DTYPE_I16:
    case CS_DTYPE_I8:
    case CS_DTYPE_U8:
    case CS_DTYPE_BOOL:
    default:
      g_return_if_reached ();
    }
}

static void
tensor_free (gpointer p)
{
  CsTensor *t = p;
  g_free (t->name);
  g_free (t);
}

static int
compare_offsets (gconstpointer a, gconstpointer b)
{
  const CsTensor *ta = *(CsTensor **) a;
  const CsTensor *tb = *(CsTensor **) b;
  if (ta->offset != tb->offset)
    return ta->offset < tb->offset ? -1 : 1;
  return ta->nbytes < tb->nbytes ? -1 : ta->nbytes > tb->nbytes;
}

static gboolean
json_int (JsonNode *node, gint64 *out)
{
  if (!node || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType t = json_node_get_value_type (node);
  if (t == G_TYPE_INT64)
    *out = json_node_get_int (node);
  else if (t == G_TYPE_DOUBLE)
    {
      if (!cs_whole_number (json_node_get_double (node), G_MININT64, G_MAXINT64, out))
        return FALSE;
    }
  else
    return FALSE;
  return TRUE;
}

static gboolean
parse_header (CsSafetensors *self,
              const char    *json,
              gsize          len,
              GError       **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  const char *base = self->path;
  gsize data_size = self->size - self->data_start;

  if (!cs_json_parse (parser, json, (gssize) len, &local_error))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: the safetensors header is not valid JSON (%s)", base, local_error->message);
      return FALSE;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: the safetensors header is not a JSON object", base);
      return FALSE;
    }
  JsonObject *obj = json_node_get_object (root);
  g_autoptr(GList) members = json_object_get_members (obj);

  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (obj, name);

      if (g_str_equal (name, "__metadata__"))
        {
          if (JSON_NODE_HOLDS_OBJECT (node))
            {
              JsonObject *md = json_node_get_object (node);
              g_autoptr(GList) keys = json_object_get_members (md);
              for (GList *k = keys; k; k = k->next)
                {
                  JsonNode *v = json_object_get_member (md, k->data);
                  if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
                    g_hash_table_insert (self->metadata, g_strdup (k->data),
                                         g_strdup (json_node_get_string (v)));
                }
            }
          continue;
        }

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: header entry '%s' is not an object", base, name);
          return FALSE;
        }
      JsonObject *e = json_node_get_object (node);
      JsonNode *dtype_n = json_object_has_member (e, "dtype") ? json_object_get_member (e, "dtype") : NULL;
      const char *dtype_s = dtype_n && JSON_NODE_HOLDS_VALUE (dtype_n) &&
                            json_node_get_value_type (dtype_n) == G_TYPE_STRING ? json_node_get_string (dtype_n) : NULL;
      JsonNode *shape_n = json_object_get_member (e, "shape");
      JsonNode *offs_n = json_object_get_member (e, "data_offsets");
      CsTensor *t;
      gint64 begin, end, numel = 1;

      if (!dtype_s)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: tensor '%s' has no dtype", base, name);
          return FALSE;
        }
      t = g_new0 (CsTensor, 1);
      t->name = g_strdup (name);
      g_ptr_array_add (self->tensors, t);

      if (!dtype_from_string (dtype_s, &t->dtype))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                       "%s: tensor '%s' has dtype '%s', which ConceptScope does not read "
                       "(supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)",
                       base, name, dtype_s);
          return FALSE;
        }
      if (!shape_n || !JSON_NODE_HOLDS_ARRAY (shape_n) ||
          json_array_get_length (json_node_get_array (shape_n)) > CS_TENSOR_MAX_DIMS)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: tensor '%s' has a missing or invalid shape", base, name);
          return FALSE;
        }
      JsonArray *shape = json_node_get_array (shape_n);
      t->ndim = json_array_get_length (shape);
      for (guint i = 0; i < t->ndim; i++)
        {
          gint64 d;
          if (!json_int (json_array_get_element (shape, i), &d) || d < 0 || d > G_MAXINT32 * 16LL)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                           "%s: tensor '%s' has an invalid dimension in its shape", base, name);
              return FALSE;
            }
          t->shape[i] = d;
          if (d != 0 && numel > G_MAXINT64 / 16 / d)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                           "%s: tensor '%s' has an impossibly large shape", base, name);
              return FALSE;
            }
          numel *= d;
        }
      if (!offs_n || !JSON_NODE_HOLDS_ARRAY (offs_n) ||
          json_array_get_length (json_node_get_array (offs_n)) != 2 ||
          !json_int (json_array_get_element (json_node_get_array (offs_n), 0), &begin) ||
          !json_int (json_array_get_element (json_node_get_array (offs_n), 1), &end) ||
          begin < 0 || end < begin)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: tensor '%s' has invalid data_offsets", base, name);
          return FALSE;
        }
      if ((guint64) end > data_size)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: tensor '%s' needs bytes %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                       " of the data block, but the file holds only %" G_GSIZE_FORMAT
                       " bytes of data: the file is truncated or corrupt",
                       base, name, begin, end, data_size);
          return FALSE;
        }
      if ((guint64) (end - begin) != (guint64) numel * cs_dtype_size (t->dtype))
        {
          g_autofree char *desc = cs_tensor_describe (t);
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: tensor '%s' is %s (%" G_GINT64_FORMAT " bytes) but its data_offsets "
                       "span %" G_GINT64_FORMAT " bytes",
                       base, name, desc, numel * (gint64) cs_dtype_size (t->dtype), end - begin);
          return FALSE;
        }
      t->offset = (gsize) begin;
      t->nbytes = (gsize) (end - begin);
      t->data = self->bytes + self->data_start + begin;
      g_hash_table_insert (self->by_name, t->name, t);
    }

  /* Overlapping tensors mean the header lies about the layout. */
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  for (guint i = 0; i < self->tensors->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (self->tensors, i));
  g_ptr_array_sort (sorted, compare_offsets);
  for (guint i = 1; i < sorted->len; i++)
    {
      const CsTensor *a = g_ptr_array_index (sorted, i - 1);
      const CsTensor *b = g_ptr_array_index (sorted, i);
      if (b->nbytes > 0 && a->nbytes > 0 && b->offset < a->offset + a->nbytes)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                       "%s: tensors '%s' and '%s' overlap in the data block: the header is corrupt",
                       base, a->name, b->name);
          return FALSE;
        }
    }
  return TRUE;
}

CsSafetensors *
cs_safetensors_open (const char  *path,
                     GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  CsSafetensors *self;
  guint64 header_len = 0;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_new0 (CsSafetensors, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->path = g_strdup (path);
  self->tensors = g_ptr_array_new_with_free_func (tensor_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  self->mapped = g_mapped_file_new (path, FALSE, &local_error);
  if (!self->mapped)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: %s", path, local_error->message);
      goto fail;
    }
  self->bytes = (const guint8 *) g_mapped_file_get_contents (self->mapped);
  self->size = g_mapped_file_get_length (self->mapped);

  if (self->size < 8)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: file is %" G_GSIZE_FORMAT " bytes long, too short for a safetensors header: "
                   "the file is truncated or not a safetensors file", path, self->size);
      goto fail;
    }
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | self->bytes[i];
  if (header_len > self->size - 8)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: the header claims %" G_GUINT64_FORMAT " bytes but the file holds only %"
                   G_GSIZE_FORMAT " after the length field: the file is truncated or not a safetensors file",
                   path, header_len, self->size - 8);
      goto fail;
    }
  if (header_len > MAX_HEADER_BYTES)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s: the header claims %" G_GUINT64_FORMAT " bytes, more than any safetensors "
                   "file has; this is not a safetensors file", path, header_len);
      goto fail;
    }
  self->data_start = 8 + header_len;
  if (!parse_header (self, (const char *) self->bytes + 8, header_len, error))
    goto fail;

  return self;

fail:
  cs_safetensors_unref (self);
  return NULL;
}

CsSafetensors *
cs_safetensors_ref (CsSafetensors *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
cs_safetensors_unref (CsSafetensors *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->tensors, g_ptr_array_unref);
  g_clear_pointer (&self->metadata, g_hash_table_unref);
  g_clear_pointer (&self->mapped, g_mapped_file_unref);
  g_free (self->path);
  g_free (self);
}

const char *
cs_safetensors_get_path (CsSafetensors *self)
{
  return self->path;
}

gsize
cs_safetensors_get_file_size (CsSafetensors *self)
{
  return self->size;
}

guint
cs_safetensors_get_n_tensors (CsSafetensors *self)
{
  return self->tensors->len;
}

const CsTensor *
cs_safetensors_get_nth (CsSafetensors *self,
                        guint          i)
{
  g_return_val_if_fail (i < self->tensors->len, NULL);
  return g_ptr_array_index (self->tensors, i);
}

const CsTensor *
cs_safetensors_lookup (CsSafetensors *self,
                       const char    *name)
{
  return g_hash_table_lookup (self->by_name, name);
}

const char *
cs_safetensors_get_metadata (CsSafetensors *self,
                             const char    *key)
{
  return g_hash_table_lookup (self->metadata, key);
}

gboolean
cs_safetensors_write (const char      *path,
                      const CsTensor  *tensors,
                      guint            n_tensors,
                      GHashTable      *metadata,
                      GError         **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GString) out = NULL;
  g_autofree char *header = NULL;
  gsize header_len, padded, offset = 0;
  guint8 lenbuf[8];

  json_builder_begin_object (b);
  if (metadata && g_hash_table_size (metadata) > 0)
    {
      GHashTableIter it;
      gpointer k, v;
      json_builder_set_member_name (b, "__metadata__");
      json_builder_begin_object (b);
      g_hash_table_iter_init (&it, metadata);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          json_builder_set_member_name (b, k);
          json_builder_add_string_value (b, v);
        }
      json_builder_end_object (b);
    }
  for (guint i = 0; i < n_tensors; i++)
    {
      const CsTensor *t = &tensors[i];
      json_builder_set_member_name (b, t->name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, cs_dtype_to_string (t->dtype));
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (guint d = 0; d < t->ndim; d++)
        json_builder_add_int_value (b, t->shape[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "data_offsets");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, (gint64) offset);
      json_builder_add_int_value (b, (gint64) (offset + t->nbytes));
      json_builder_end_array (b);
      json_builder_end_object (b);
      offset += t->nbytes;
    }
  json_builder_end_object (b);
  {
    g_autoptr(JsonNode) root = json_builder_get_root (b);
    header = cs_json_to_data (root, FALSE, &header_len);
  }

  /* Pad the header so tensor data starts 8-byte aligned, as safetensors does. */
  padded = (header_len + 7) & ~(gsize) 7;
  out = g_string_sized_new (8 + padded + offset);
  for (int i = 0; i < 8; i++)
    lenbuf[i] = (guint8) (((guint64) padded >> (8 * i)) & 0xff);
  g_string_append_len (out, (const char *) lenbuf, 8);
  g_string_append_len (out, header, (gssize) header_len);
  for (gsize i = header_len; i < padded; i++)
    g_string_append_c (out, ' ');
  for (guint i = 0; i < n_tensors; i++)
    g_string_append_len (out, tensors[i].data, (gssize) tensors[i].nbytes);

  return g_file_set_contents (path, out->str, (gssize) out->len, error);
}
