#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* NumPy .npz archives (np.savez, np.savez_compressed), read-only. */
typedef struct _CsNpz CsNpz;

CsNpz    *cs_npz_open     (const char  *path,
                           GError     **error);
void      cs_npz_free     (CsNpz       *npz);
gboolean  cs_npz_has      (CsNpz       *npz,
                           const char  *name);
/* An array (float16/32/64 or int32/64, C order) as float32; rank ≤ 4. */
float    *cs_npz_read_f32 (CsNpz       *npz,
                           const char  *name,
                           int         *rank,
                           gint64      *dims,
                           GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsNpz, cs_npz_free)

G_END_DECLS
