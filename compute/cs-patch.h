#pragma once

#include <gio/gio.h>

#include "cs-backend.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* Activation patching: a clean and a corrupted prompt (of different
 * lengths, aligned on their last tokens); one run's activation put into the other run at one place (a
 * layer and a position, or a layer and a head), and how much of the clean
 * behaviour that gives, normalised so that 0 is the corrupted run and 1
 * the clean one. Every patched run of one layer goes through the forward
 * pass as one batch that resumes from the unpatched stream before the
 * layer (the layers below it are the same for all of them). */

typedef enum
{
  CS_PATCH_RESID_PRE,    /* the residual stream entering layer L, layer × position */
  CS_PATCH_RESID_POST,   /* leaving layer L */
  CS_PATCH_ATTN_OUT,     /* what layer L's attention adds */
  CS_PATCH_MLP_OUT,      /* what layer L's MLP adds */
  CS_PATCH_HEADS,        /* each head's output (its z), layer × head */
} CsPatchTarget;

typedef enum
{
  CS_PATCH_LOGIT_DIFF,   /* logit(answer) − logit(wrong) at the last position */
  CS_PATCH_PROB,         /* p(answer) at the last position */
} CsPatchMetric;

typedef struct
{
  const char    *clean;
  const char    *corrupted;
  const char    *answer;        /* one token of the vocabulary: as written, or with a leading space */
  const char    *wrong;         /* the same; needed for the logit difference */
  CsPatchTarget  target;
  CsPatchMetric  metric;
  gboolean       noising;       /* the corrupted activation into the clean run (default: denoising) */
  gboolean       heads_last;    /* heads: at the last position only (default: every position) */
  CsDevice       device;
} CsPatchParams;

void        cs_patch_params_init      (CsPatchParams *params);
/* "resid_pre", "resid_post", "attn_out", "mlp_out", "heads" */
gboolean    cs_patch_target_parse     (const char    *name,
                                       CsPatchTarget *target);
const char *cs_patch_target_name      (CsPatchTarget  target);

typedef struct
{
  char      *clean, *corrupted, *answer, *wrong;   /* as given */
  CsPatchTarget target;
  CsPatchMetric metric;
  gboolean   noising, heads_last;
  gint32     answer_id, wrong_id;                  /* the tokens the metric reads */
  int        n_tokens;                             /* of the run patched (the corrupted one, or clean when noising) */
  int        shift;                                /* its position t takes the other's t − shift (0: as long) */
  char     **clean_tokens, **corrupted_tokens;     /* NULL-terminated, as text */
  int        n_layers, n_cols;                     /* rows: layers; columns: positions or heads */
  char     **col_labels;                           /* [n_cols]: "3 ␣cat" or "H2" */
  double    *raw;                                  /* [n_layers, n_cols] the metric of each patched run */
  double    *values;                               /* [n_layers, n_cols] normalised: 0 corrupted, 1 clean; NAN at
                                                    * a position the other prompt has no counterpart of */
  double     clean_metric, corrupted_metric;
  double     seconds;
  int        n_runs;                               /* patched runs */
} CsPatchResult;

CsPatchResult *cs_patch_run         (CsModel             *model,
                                     CsTokenizer         *tokenizer,
                                     const CsPatchParams *params,
                                     CsProgressFunc       progress,
                                     gpointer             progress_data,
                                     GCancellable        *cancellable,
                                     GError             **error);
void           cs_patch_result_free (CsPatchResult       *result);
/* Into the workspace's /patching group (a new file, or an HDF5 file
 * updated in place atomically, its other groups kept). */
gboolean       cs_patch_result_save (const CsPatchResult *result,
                                     const char          *path,
                                     GError             **error);
CsPatchResult *cs_patch_result_load (const char          *path,
                                     GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsPatchResult, cs_patch_result_free)

G_END_DECLS
