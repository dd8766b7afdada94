#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CS_DTYPE_F32,
  CS_DTYPE_F16,
  CS_DTYPE_BF16,
  CS_DTYPE_F64,
  CS_DTYPE_I64,
  CS_DTYPE_I32,
  CS_DTYPE_I16,
  CS_DTYPE_I8,
  CS_DTYPE_U8,
  CS_DTYPE_BOOL,
} CsDType;

#define CS_TENSOR_MAX_DIMS 8

/* A view of one tensor inside a mapped safetensors file: data points into the
 * mapping and stays valid while the owning CsSafetensors is alive. */
typedef struct
{
  char       *name;
  CsDType     dtype;
  guint       ndim;
  gint64      shape[CS_TENSOR_MAX_DIMS];
  const void *data;
  gsize       nbytes;
  gsize       offset;          /* of the data, relative to the start of the data block */
} CsTensor;

typedef struct _CsSafetensors CsSafetensors;

CsSafetensors  *cs_safetensors_open          (const char           *path,
                                              GError              **error);
CsSafetensors  *cs_safetensors_ref           (CsSafetensors        *self);
void            cs_safetensors_unref         (CsSafetensors        *self);
const char     *cs_safetensors_get_path      (CsSafetensors        *self);
guint           cs_safetensors_get_n_tensors (CsSafetensors        *self);
const CsTensor *cs_safetensors_get_nth       (CsSafetensors        *self,
                                              guint                 i);
const CsTensor *cs_safetensors_lookup        (CsSafetensors        *self,
                                              const char           *name);
const char     *cs_safetensors_get_metadata  (CsSafetensors        *self,
                                              const char           *key);
gsize           cs_safetensors_get_file_size (CsSafetensors        *self);

const char     *cs_dtype_to_string           (CsDType               dtype);
gsize           cs_dtype_size                (CsDType               dtype);
gboolean        cs_dtype_is_float            (CsDType               dtype);
gint64          cs_tensor_numel              (const CsTensor       *tensor);
char           *cs_tensor_describe           (const CsTensor       *tensor);

/* Converts elements [first, first + n) of a floating-point tensor to float32. */
void            cs_tensor_read_f32           (const CsTensor       *tensor,
                                              gsize                 first,
                                              gsize                 n,
                                              float                *out);
gboolean        cs_tensor_is_f32_aligned     (const CsTensor       *tensor);

float           cs_f16_to_f32                (guint16               h);
float           cs_bf16_to_f32               (guint16               h);
guint16         cs_f32_to_bf16               (float                 f);
guint16         cs_f32_to_f16                (float                 f);

/* Writes a safetensors file atomically. Tensors' data must be set. */
gboolean        cs_safetensors_write         (const char           *path,
                                              const CsTensor       *tensors,
                                              guint                 n_tensors,
                                              GHashTable           *metadata,
                                              GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSafetensors, cs_safetensors_unref)

G_END_DECLS
