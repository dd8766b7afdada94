/* A model's config.json. */
#include "fuzz-common.h"
#include "cs-model-config.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModelConfig) c = cs_model_config_parse ((const char *) data, (gssize) size, "fuzz", &error);
  return 0;
}
