#pragma once

#include <glib.h>

#include "cs-backend.h"
#include "cs-model.h"
#include "cuda/cs-cuda-api.h"

G_BEGIN_DECLS

typedef struct _CsGpuModel CsGpuModel;

/* The CUDA module, loaded once on first use. NULL when there is no usable
 * GPU; reason then says why (no module built, no driver, no device). */
const CsCudaVTable *cs_gpu_get            (const char **reason);
gboolean     cs_gpu_available             (void);
const char  *cs_gpu_device_name           (void);

/* The model's weights on the GPU, uploaded once and kept with the model. */
CsGpuModel  *cs_gpu_model_for             (CsModel     *model,
                                           GError     **error);

/* Whether work asked for on `device` runs on the GPU. With CS_DEVICE_AUTO
 * and no GPU, FALSE; with CS_DEVICE_CUDA and no GPU, an error. The first
 * fallback is reported once on stderr with its reason. */
gboolean     cs_gpu_should_use            (CsDevice     device,
                                           GError     **error);

CsCudaModel *cs_gpu_model_handle          (CsGpuModel  *gm);

G_END_DECLS
