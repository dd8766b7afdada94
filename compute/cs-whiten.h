#pragma once

#include <gio/gio.h>

#include "cs-backend.h"
#include "cs-safetensors.h"

G_BEGIN_DECLS

/* Eigenvalues below this fraction of the largest are raised to it instead of
 * being divided by (a vocabulary with duplicated or unused rows has them). */
#define CS_WHITEN_FLOOR_REL 1e-10

/* The causal inner product of Park et al. (2024), as their code computes it:
 * C = γ − mean(γ) over the unembedding's rows, Cov = CᵀC / V accumulated in
 * float64, its eigendecomposition, and g = C · Cov^(−1/2). */
typedef struct
{
  gint64   rows;
  int      cols;
  float   *g;             /* [rows, cols] */
  double  *mean;          /* [cols] */
  double  *eigenvalues;   /* [cols], ascending, as computed (before the floor) */
  double  *inv_sqrt;      /* [cols, cols], symmetric: Cov^(−1/2) with the floor applied */
  int      n_floored;     /* eigenvalues raised to the floor */
  double   floor;         /* the floor's value */
  CsDevice device;        /* where it ran */
} CsWhitening;

/* unembedding: a 2-D F32/F16/BF16 tensor [rows, cols]. */
CsWhitening *cs_whiten             (const CsTensor  *unembedding,
                                    CsDevice         device,
                                    GCancellable    *cancellable,
                                    GError         **error);
/* The same without forming g (g stays NULL): mean and Cov^(−1/2) are all a
 * category vector or a projection needs, since any row of g is
 * (γ_y − mean)·Cov^(−1/2). Memory: two d × d matrices and one block of rows. */
CsWhitening *cs_whiten_transform   (const CsTensor  *unembedding,
                                    CsDevice         device,
                                    GCancellable    *cancellable,
                                    GError         **error);
/* The same, reporting progress: the fraction of the work done, counted in
 * rows read for the mean and the covariance (most of the time) and then the
 * eigendecomposition and the product, weighed by their operation counts. */
CsWhitening *cs_whiten_transform_with_progress (const CsTensor  *unembedding,
                                                CsDevice         device,
                                                CsProgressFunc   progress,
                                                gpointer         progress_data,
                                                GCancellable    *cancellable,
                                                GError         **error);
void         cs_whitening_free     (CsWhitening     *w);
/* A cancelled whitening returns at once and leaves a large
 * eigendecomposition to finish in its own thread (LAPACK cannot be
 * interrupted); a program waits for those before it exits, since the
 * libraries' teardown must not run under them. */
void         cs_whiten_wait_abandoned (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsWhitening, cs_whitening_free)

G_END_DECLS
