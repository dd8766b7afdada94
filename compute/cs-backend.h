#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Long work reports how far it is, 0 … 1 (from a worker thread). */
typedef void (*CsProgressFunc) (double fraction, gpointer user_data);

typedef enum
{
  CS_DEVICE_AUTO,
  CS_DEVICE_CPU,
  CS_DEVICE_CUDA,
} CsDevice;

/* A one-line description of the compute backend that work asked for on
 * `device` runs on, for status lines: the GPU's name, or the CPU (the reason
 * there is no GPU comes from cs_gpu_get). May load the CUDA module: call it
 * off the main thread first. */
char     *cs_backend_describe    (CsDevice device);
int       cs_backend_get_threads (void);
void      cs_backend_init        (void);
/* For work in a background thread of an interactive program: its OpenMP
 * loops and BLAS use one core fewer than the machine has, so the thread
 * drawing the window always finds a free core. */
void      cs_backend_leave_one_core (void);
/* A buffer for a large result (logits, activations, a whitened matrix):
 * huge-page backed where the kernel allows and faulted in by all threads
 * at once, because a VM takes seconds to fault in gigabytes one 4 KiB page
 * at a time. Free with g_free. Returns NULL when memory is short. */
gpointer  cs_alloc_large         (gsize bytes);

G_END_DECLS
