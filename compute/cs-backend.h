#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CS_DEVICE_AUTO,
  CS_DEVICE_CPU,
  CS_DEVICE_CUDA,
} CsDevice;

/* A one-line description of the compute backend in use, for status lines. */
char     *cs_backend_describe    (void);
int       cs_backend_get_threads (void);
void      cs_backend_init        (void);

G_END_DECLS
