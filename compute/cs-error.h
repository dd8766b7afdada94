#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CS_ERROR (cs_error_quark ())

typedef enum
{
  CS_ERROR_FAILED,
  CS_ERROR_IO,
  CS_ERROR_FORMAT,
  CS_ERROR_UNSUPPORTED,
  CS_ERROR_MISMATCH,
  CS_ERROR_MISSING,
  CS_ERROR_RANGE,
  CS_ERROR_CANCELLED,
  CS_ERROR_NO_MEMORY,
} CsError;

GQuark cs_error_quark (void);

G_END_DECLS
