/* A safetensors file: the header, then every tensor read as float32. */
#include "fuzz-common.h"
#include "cs-safetensors.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = fuzz_write_temp (data, size, ".safetensors");
  g_autoptr(GError) error = NULL;
  CsSafetensors *st;

  if (!path)
    return 0;
  st = cs_safetensors_open (path, &error);
  for (guint i = 0; st && i < cs_safetensors_get_n_tensors (st); i++)
    {
      const CsTensor *t = cs_safetensors_get_nth (st, i);
      gint64 n = cs_tensor_numel (t);
      if (cs_dtype_is_float (t->dtype) && n > 0 && n < (1 << 20))
        {
          g_autofree float *out = g_new (float, n);
          cs_tensor_read_f32 (t, 0, (gsize) n, out);
        }
    }
  if (st)
    cs_safetensors_unref (st);
  g_unlink (path);
  return 0;
}
