#pragma once

#include <gio/gio.h>

#include "cs-backend.h"
#include "cs-model.h"
#include "cs-sae.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* Training a standard (ReLU) SAE as SAELens's standard training does it:
 * loss = mean over the batch of ‖x − x̂‖² + l1 · Σ_k f_k ‖W_dec[k]‖ (the L1
 * penalty weighted by the decoder rows' norms, so shrinking W_dec cannot
 * dodge it), Adam (β 0.9, 0.999), b_dec started at the data's mean,
 * W_dec rows random unit vectors and W_enc = W_decᵀ, b_enc 0,
 * apply_b_dec_to_input on. */

typedef struct
{
  int    d_sae;
  double l1;
  double lr;
  int    batch;
  int    epochs;
  guint  seed;
  /* AUTO: the GPU when there is one (the same steps on cuBLAS; the CPU
   * path is the reference it is tested against), else the CPU. */
  CsDevice device;
} CsSaeTrainOptions;

#define CS_SAE_TRAIN_OPTIONS_INIT { 1024, 5.0, 1e-3, 256, 5, 0, CS_DEVICE_AUTO }

typedef struct
{
  float *W_enc, *W_dec, *b_enc, *b_dec;   /* same shapes as the SAE's */
} CsSaeGrad;

/* Loss of a batch x [B, d_in], its parts, and (when g is not NULL) its
 * gradient; mse is the mean squared reconstruction error summed over d_in,
 * l0 the mean number of active features. */
double   cs_sae_loss_grad   (CsSae            *sae,
                             const float      *x,
                             int               B,
                             double            l1,
                             CsSaeGrad        *g,
                             double           *mse,
                             double           *l0);
CsSae   *cs_sae_new_init    (int               d_in,
                             int               d_sae,
                             const float      *mean,
                             guint             seed);

typedef struct
{
  int    epoch, epochs;
  gint64 step, steps;
  double loss, mse, l0, fvu;     /* running means over the last epoch's steps */
  const char *backend;           /* where it runs: the GPU's name or "CPU" */
} CsSaeTrainStatus;

typedef void (*CsSaeTrainFunc) (const CsSaeTrainStatus *status, gpointer data);

/* Trains on rows of a [n, d_in] float dataset of an HDF5 file, read in
 * chunks (memory stays bounded whatever n is), shuffled within a chunk and
 * in chunk order each epoch. */
CsSae   *cs_sae_train_h5    (const char              *path,
                             const char              *dataset,
                             const CsSaeTrainOptions *options,
                             CsSaeTrainFunc           report,
                             gpointer                 report_data,
                             GCancellable            *cancellable,
                             GError                 **error);

/* Runs the prompts of a text file (one per line, each cut to the context)
 * through the model in batches and appends every token's activation at the
 * hook ("resid_post.L") to a [rows, d] dataset "/acts" of a scratch HDF5
 * file, until max_tokens; *n_rows receives the count. */
gboolean cs_sae_collect     (CsModel          *model,
                             CsTokenizer      *tok,
                             const char       *text_path,
                             const char       *capture,
                             gint64            max_tokens,
                             const char       *out_h5,
                             gint64           *n_rows,
                             CsProgressFunc    progress,
                             gpointer          progress_data,
                             GCancellable     *cancellable,
                             GError          **error);

/* An SAELens folder: cfg.json and sae_weights.safetensors (float32). */
gboolean cs_sae_save        (CsSae            *sae,
                             const char       *folder,
                             const char       *model_name,
                             GError          **error);

G_END_DECLS
