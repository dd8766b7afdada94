#define G_LOG_DOMAIN "cs-sae"

#include "cs-json.h"
#include "cs-sae-train.h"
#include "cs-backend.h"
#include "cs-error.h"
#include "cs-forward.h"
#include "cs-gpu.h"
#include "cs-hdf5.h"

#include <cblas.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define CHUNK_ROWS 16384

double
cs_sae_loss_grad (CsSae *s, const float *x, int B, double l1, CsSaeGrad *g, double *mse_out, double *l0_out)
{
  int d = s->d_in, m = s->d_sae;
  g_autofree float *xc = g_new (float, (gsize) B * d);
  g_autofree float *pre = g_new (float, (gsize) B * m);
  g_autofree float *e = g_new (float, (gsize) B * d);
  g_autofree double *dnorm = g_new (double, m);
  double mse = 0, pen = 0, l0 = 0;

  cs_backend_init ();
  for (int k = 0; k < m; k++)
    {
      double q = 0;
      for (int j = 0; j < d; j++)
        q += (double) s->W_dec[(gsize) k * d + j] * s->W_dec[(gsize) k * d + j];
      dnorm[k] = sqrt (q);
    }
  for (int b = 0; b < B; b++)
    for (int j = 0; j < d; j++)
      xc[(gsize) b * d + j] = x[(gsize) b * d + j] - (s->apply_b_dec_to_input ? s->b_dec[j] : 0.0f);
  for (int b = 0; b < B; b++)
    memcpy (pre + (gsize) b * m, s->b_enc, sizeof (float) * m);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, B, m, d, 1.0f, xc, d, s->W_enc, m, 1.0f, pre, m);
  /* f = relu(pre), kept in pre */
  for (gsize i = 0; i < (gsize) B * m; i++)
    if (pre[i] < 0)
      pre[i] = 0;
  for (int b = 0; b < B; b++)
    memcpy (e + (gsize) b * d, s->b_dec, sizeof (float) * d);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, m, 1.0f, pre, m, s->W_dec, d, 1.0f, e, d);
  for (gsize i = 0; i < (gsize) B * d; i++)
    {
      e[i] -= x[i];
      mse += (double) e[i] * e[i];
    }
  for (int b = 0; b < B; b++)
    for (int k = 0; k < m; k++)
      {
        float f = pre[(gsize) b * m + k];
        pen += f * dnorm[k];
        l0 += f > 0;
      }
  mse /= B;
  pen *= l1 / B;
  if (mse_out)
    *mse_out = mse;
  if (l0_out)
    *l0_out = l0 / B;
  if (g)
    {
      g_autofree float *df = g_new (float, (gsize) B * m);
      g_autofree float *dxc = g_new (float, (gsize) B * d);
      g_autofree double *fsum = g_new0 (double, m);
      float scale = 2.0f / B;
      /* dL/dx̂ = 2e/B: e becomes that */
      for (gsize i = 0; i < (gsize) B * d; i++)
        e[i] *= scale;
      /* W_dec: fᵀ (2e/B) + l1/B Σ_b f_bk · W_dec,k / ‖W_dec,k‖ */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, m, d, B, 1.0f, pre, m, e, d, 0.0f, g->W_dec, d);
      for (int b = 0; b < B; b++)
        for (int k = 0; k < m; k++)
          fsum[k] += pre[(gsize) b * m + k];
      for (int k = 0; k < m; k++)
        if (dnorm[k] > 0 && fsum[k] > 0)
          {
            float c = (float) (l1 / B * fsum[k] / dnorm[k]);
            for (int j = 0; j < d; j++)
              g->W_dec[(gsize) k * d + j] += c * s->W_dec[(gsize) k * d + j];
          }
      /* b_dec from the output */
      for (int j = 0; j < d; j++)
        g->b_dec[j] = 0;
      for (int b = 0; b < B; b++)
        for (int j = 0; j < d; j++)
          g->b_dec[j] += e[(gsize) b * d + j];
      /* df = (2e/B) W_decᵀ + l1/B ‖W_dec,k‖, through the ReLU */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, B, m, d, 1.0f, e, d, s->W_dec, d, 0.0f, df, m);
      for (int b = 0; b < B; b++)
        for (int k = 0; k < m; k++)
          {
            gsize i = (gsize) b * m + k;
            df[i] = pre[i] > 0 ? df[i] + (float) (l1 / B * dnorm[k]) : 0.0f;
          }
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, d, m, B, 1.0f, xc, d, df, m, 0.0f, g->W_enc, m);
      for (int k = 0; k < m; k++)
        g->b_enc[k] = 0;
      for (int b = 0; b < B; b++)
        for (int k = 0; k < m; k++)
          g->b_enc[k] += df[(gsize) b * m + k];
      if (s->apply_b_dec_to_input)
        {
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, B, d, m, 1.0f, df, m, s->W_enc, m, 0.0f, dxc, d);
          for (int b = 0; b < B; b++)
            for (int j = 0; j < d; j++)
              g->b_dec[j] -= dxc[(gsize) b * d + j];
        }
    }
  return mse + pen;
}

static double
gauss (GRand *r)
{
  double u = g_rand_double_range (r, 1e-12, 1), v = g_rand_double (r);
  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

CsSae *
cs_sae_new_init (int d_in, int d_sae, const float *mean, guint seed)
{
  CsSae *s = g_new0 (CsSae, 1);
  g_autoptr(GRand) r = g_rand_new_with_seed (seed);
  s->d_in = d_in;
  s->d_sae = d_sae;
  s->hook_layer = -1;
  s->apply_b_dec_to_input = TRUE;
  s->W_enc = g_new (float, (gsize) d_in * d_sae);
  s->W_dec = g_new (float, (gsize) d_sae * d_in);
  s->b_enc = g_new0 (float, d_sae);
  s->b_dec = g_new0 (float, d_in);
  if (mean)
    memcpy (s->b_dec, mean, sizeof (float) * d_in);
  for (int k = 0; k < d_sae; k++)
    {
      double n = 0;
      float *row = s->W_dec + (gsize) k * d_in;
      for (int j = 0; j < d_in; j++)
        {
          row[j] = (float) gauss (r);
          n += (double) row[j] * row[j];
        }
      /* unit rows scaled to 0.1, as SAELens's default decoder init norm */
      for (int j = 0; j < d_in; j++)
        {
          row[j] = (float) (row[j] / sqrt (n) * 0.1);
          s->W_enc[(gsize) j * d_sae + k] = row[j];
        }
    }
  return s;
}

typedef struct
{
  float *m, *v;
  gsize  n;
} AdamSlot;

static void
adam_step (AdamSlot *a, float *w, const float *g, double lr, gint64 t)
{
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  double c1 = 1 - pow (b1, (double) t), c2 = 1 - pow (b2, (double) t);
#pragma omp parallel for schedule(static)
  for (gsize i = 0; i < a->n; i++)
    {
      a->m[i] = (float) (b1 * a->m[i] + (1 - b1) * g[i]);
      a->v[i] = (float) (b2 * a->v[i] + (1 - b2) * (double) g[i] * g[i]);
      w[i] -= (float) (lr * (a->m[i] / c1) / (sqrt (a->v[i] / c2) + eps));
    }
}

/* gpu_failed: set when the error came from the GPU (an automatic choice
 * then trains again on the CPU). */
static CsSae *
train_h5 (const char *path, const char *dataset, const CsSaeTrainOptions *o, CsSaeTrainFunc report,
          gpointer report_data, GCancellable *cancellable, gboolean *gpu_failed, GError **error)
{
  g_autoptr(CsH5Reader) r = cs_h5_reader_open (path, error);
  g_autoptr(CsSae) s = NULL;
  g_autoptr(GRand) rand = NULL;
  gsize dims[8], n, d;
  int rank;
  g_autofree float *chunk = NULL, *batch = NULL, *mean = NULL;
  g_autofree double *sum = NULL, *sum2 = NULL;
  g_autofree gsize *order = NULL;
  g_autofree int *perm = NULL;
  const CsCudaVTable *gpu = NULL;
  CsCudaSae *gs = NULL;
  char gerr[512] = "";
  const char *backend = "CPU";
  g_autoptr(GError) dev_error = NULL;
  CsSaeGrad g = { 0 };
  AdamSlot slots[4];
  float *params[4];
  float *grads[4];
  double var_total = 0;
  gsize n_chunks;
  gint64 step = 0, steps;
  gboolean ok = FALSE;

  if (!r || !cs_h5_reader_shape (r, dataset, &rank, dims, error))
    return NULL;
  if (rank != 2 || dims[0] < 2 || dims[1] < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s:%s must be a [rows, d_in] matrix with at least two rows",
                   path, dataset);
      return NULL;
    }
  if (o->d_sae < 1 || o->batch < 1 || o->epochs < 1 || !(o->lr > 0) || !(o->l1 >= 0))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "d_sae, batch and epochs must be positive, lr > 0, l1 ≥ 0");
      return NULL;
    }
  n = dims[0];
  d = dims[1];
  chunk = g_new (float, (gsize) MIN (n, CHUNK_ROWS) * d);
  batch = g_new (float, (gsize) o->batch * d);
  /* the mean and variance, in one streaming pass */
  sum = g_new0 (double, d);
  sum2 = g_new0 (double, d);
  for (gsize c0 = 0; c0 < n; c0 += CHUNK_ROWS)
    {
      gsize cn = MIN (CHUNK_ROWS, n - c0);
      if (!cs_h5_reader_rows_f32 (r, dataset, c0, cn, chunk, error))
        return NULL;
      for (gsize i = 0; i < cn; i++)
        for (gsize j = 0; j < d; j++)
          {
            double v = chunk[i * d + j];
            if (!isfinite (v))
              {
                g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%s:%s: row %zu has a value that is not finite", path,
                             dataset, c0 + i);
                return NULL;
              }
            sum[j] += v;
            sum2[j] += v * v;
          }
    }
  mean = g_new (float, d);
  for (gsize j = 0; j < d; j++)
    {
      mean[j] = (float) (sum[j] / n);
      var_total += sum2[j] / n - (sum[j] / n) * (sum[j] / n);
    }
  s = cs_sae_new_init ((int) d, o->d_sae, mean, o->seed);
  if (cs_gpu_should_use (o->device, &dev_error))
    {
      gpu = cs_gpu_get (NULL);
      gs = gpu->sae_new ((int) d, o->d_sae, (int) MIN (n, CHUNK_ROWS), o->batch, s->apply_b_dec_to_input, s->W_enc,
                         s->W_dec, s->b_enc, s->b_dec, gerr, sizeof gerr);
      if (!gs)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "SAE training on the GPU: %s", gerr);
          *gpu_failed = TRUE;
          return NULL;
        }
      backend = cs_gpu_device_name ();
    }
  else if (dev_error)
    {
      g_propagate_error (error, g_steal_pointer (&dev_error));
      return NULL;
    }
  rand = g_rand_new_with_seed (o->seed + 1);
  memset (slots, 0, sizeof slots);
  if (!gs)
    {
      /* the gradient and Adam's moments live where the steps run */
      g.W_enc = g_new (float, d * o->d_sae);
      g.W_dec = g_new (float, d * o->d_sae);
      g.b_enc = g_new (float, o->d_sae);
      g.b_dec = g_new (float, d);
      params[0] = s->W_enc; grads[0] = g.W_enc; slots[0].n = d * o->d_sae;
      params[1] = s->W_dec; grads[1] = g.W_dec; slots[1].n = d * o->d_sae;
      params[2] = s->b_enc; grads[2] = g.b_enc; slots[2].n = o->d_sae;
      params[3] = s->b_dec; grads[3] = g.b_dec; slots[3].n = d;
      for (int k = 0; k < 4; k++)
        {
          slots[k].m = g_new0 (float, slots[k].n);
          slots[k].v = g_new0 (float, slots[k].n);
        }
    }
  n_chunks = (n + CHUNK_ROWS - 1) / CHUNK_ROWS;
  order = g_new (gsize, n_chunks);
  perm = g_new (int, CHUNK_ROWS);
  steps = (gint64) o->epochs * (gint64) ((n + o->batch - 1) / o->batch);
  for (int epoch = 0; epoch < o->epochs; epoch++)
    {
      CsSaeTrainStatus st = { epoch + 1, o->epochs, 0, steps, 0, 0, 0, 0, backend };
      double sl = 0, sm = 0, s0 = 0;
      gint64 k_steps = 0;
      for (gsize c = 0; c < n_chunks; c++)
        order[c] = c;
      for (gsize c = n_chunks; c-- > 1;)
        {
          gsize j = (gsize) g_rand_int_range (rand, 0, (gint32) (c + 1)), t = order[c];
          order[c] = order[j];
          order[j] = t;
        }
      for (gsize ci = 0; ci < n_chunks; ci++)
        {
          gsize c0 = order[ci] * CHUNK_ROWS, cn = MIN (CHUNK_ROWS, n - c0);
          if (!cs_h5_reader_rows_f32 (r, dataset, c0, cn, chunk, error))
            goto fail;
          if (gs && gpu->sae_upload (gs, chunk, (int) cn, gerr, sizeof gerr) != 0)
            goto gpu_fail;
          for (int i = 0; i < (int) cn; i++)
            perm[i] = i;
          for (int i = (int) cn; i-- > 1;)
            {
              int j = g_rand_int_range (rand, 0, i + 1), t = perm[i];
              perm[i] = perm[j];
              perm[j] = t;
            }
          for (gsize b0 = 0; b0 < cn; b0 += o->batch)
            {
              int B = (int) MIN ((gsize) o->batch, cn - b0);
              double mse, l0, loss;
              if (g_cancellable_set_error_if_cancelled (cancellable, error))
                goto fail;
              step++;
              if (gs)
                {
                  CsCudaSaeStep gst = { perm + b0, B, (float) o->l1, (float) o->lr, step, 0, 0, 0, { NULL } };
                  if (gpu->sae_step (gs, &gst, gerr, sizeof gerr) != 0)
                    goto gpu_fail;
                  loss = gst.loss;
                  mse = gst.mse;
                  l0 = gst.l0;
                }
              else
                {
                  for (int b = 0; b < B; b++)
                    memcpy (batch + (gsize) b * d, chunk + (gsize) perm[b0 + b] * d, sizeof (float) * d);
                  loss = cs_sae_loss_grad (s, batch, B, o->l1, &g, &mse, &l0);
                  for (int k = 0; k < 4; k++)
                    adam_step (&slots[k], params[k], grads[k], o->lr, step);
                }
              sl += loss;
              sm += mse;
              s0 += l0;
              k_steps++;
              if (report && (step % 50 == 0 || step == steps))
                {
                  st.step = step;
                  st.loss = sl / k_steps;
                  st.mse = sm / k_steps;
                  st.l0 = s0 / k_steps;
                  st.fvu = var_total > 0 ? st.mse / var_total : 0;
                  report (&st, report_data);
                }
            }
        }
    }
  if (gs && gpu->sae_download (gs, s->W_enc, s->W_dec, s->b_enc, s->b_dec, gerr, sizeof gerr) != 0)
    goto gpu_fail;
  ok = TRUE;
  goto fail;

gpu_fail:
  g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "SAE training on the GPU: %s", gerr);
  *gpu_failed = TRUE;
fail:
  if (gs)
    gpu->sae_free (gs);
  for (int k = 0; k < 4; k++)
    {
      g_free (slots[k].m);
      g_free (slots[k].v);
    }
  g_free (g.W_enc);
  g_free (g.W_dec);
  g_free (g.b_enc);
  g_free (g.b_dec);
  return ok ? g_steal_pointer (&s) : NULL;
}

/* Runs the prompts of a text file (one per line) through the model and
 * appends every token's activation at the hook to a scratch HDF5 file. */
gboolean
cs_sae_collect (CsModel *model, CsTokenizer *tok, const char *text_path, const char *capture, gint64 max_tokens,
                const char *out_path, gint64 *n_rows, CsProgressFunc progress, gpointer progress_data,
                GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(CsH5Appender) app = NULL;
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  const char *caps[2] = { capture, NULL };
  gint64 total = 0;

  if (!g_file_get_contents (text_path, &text, NULL, error))
    return FALSE;
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s is not UTF-8 text", text_path);
      return FALSE;
    }
  app = cs_h5_appender_new (out_path, "acts", cfg->hidden, error);
  if (!app)
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] || batch->len; i++)
    {
      if (lines[i] && total < max_tokens)
        {
          char *l = g_strstrip (lines[i]);
          GArray *ids;
          if (!*l)
            continue;
          ids = cs_tokenizer_encode (tok, l, TRUE, error);
          if (!ids)
            return FALSE;
          if ((int) ids->len > cfg->max_positions)
            g_array_set_size (ids, cfg->max_positions);
          if (ids->len == 0)
            {
              g_array_unref (ids);
              continue;
            }
          total += ids->len;
          g_ptr_array_add (batch, ids);
          if (batch->len < 32)
            continue;
        }
      if (batch->len)
        {
          CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
          g_autoptr(CsForwardResult) r = NULL;
          g_autofree const gint32 **ids = g_new (const gint32 *, batch->len);
          g_autofree int *lens = g_new (int, batch->len);
          const float *cap;
          for (guint b = 0; b < batch->len; b++)
            {
              ids[b] = (const gint32 *) ((GArray *) batch->pdata[b])->data;
              lens[b] = (int) ((GArray *) batch->pdata[b])->len;
            }
          opt.capture = caps;
          opt.logits = CS_LOGITS_NONE;
          r = cs_forward_run (model, ids, lens, (int) batch->len, &opt, cancellable, error);
          if (!r)
            return FALSE;
          cap = cs_forward_result_get_capture (r, capture);
          for (guint b = 0; b < batch->len; b++)
            if (!cs_h5_appender_add (app, cap + (gsize) b * r->seq * cfg->hidden, lens[b], error))
              return FALSE;
          g_ptr_array_set_size (batch, 0);
          if (progress)
            progress (MIN (1.0, (double) total / MAX (1, MIN (max_tokens, (gint64) strlen (text) / 4))), progress_data);
        }
      if (!lines[i])
        break;
    }
  *n_rows = (gint64) cs_h5_appender_rows (app);
  return TRUE;
}

static gboolean
write_atomic (const char *path, const void *data, gsize len, GError **error)
{
  return g_file_set_contents (path, data, (gssize) len, error);
}

gboolean
cs_sae_save (CsSae *s, const char *folder, const char *model_name, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *cfg = NULL, *cfg_path = NULL, *w_path = NULL;
  GString *header = g_string_new ("{");
  const struct { const char *name; const float *data; gint64 d0, d1; } t[] = {
    { "W_enc", s->W_enc, s->d_in, s->d_sae },
    { "W_dec", s->W_dec, s->d_sae, s->d_in },
    { "b_enc", s->b_enc, s->d_sae, -1 },
    { "b_dec", s->b_dec, s->d_in, -1 },
    { "threshold", s->threshold, s->d_sae, -1 },
  };
  guint64 off = 0, hl;
  GByteArray *blob;
  gboolean ok;

  if (g_mkdir_with_parents (folder, 0755) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s: cannot create the folder", folder);
      g_string_free (header, TRUE);
      return FALSE;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "architecture");
  json_builder_add_string_value (b, s->threshold ? "jumprelu" : "standard");
  json_builder_set_member_name (b, "d_in");
  json_builder_add_int_value (b, s->d_in);
  json_builder_set_member_name (b, "d_sae");
  json_builder_add_int_value (b, s->d_sae);
  json_builder_set_member_name (b, "dtype");
  json_builder_add_string_value (b, "float32");
  json_builder_set_member_name (b, "model_name");
  json_builder_add_string_value (b, model_name ? model_name : "");
  json_builder_set_member_name (b, "hook_name");
  if (s->hook_name)
    json_builder_add_string_value (b, s->hook_name);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "hook_layer");
  json_builder_add_int_value (b, s->hook_layer);
  json_builder_set_member_name (b, "apply_b_dec_to_input");
  json_builder_add_boolean_value (b, s->apply_b_dec_to_input);
  json_builder_set_member_name (b, "normalize_activations");
  json_builder_add_string_value (b, "none");
  json_builder_end_object (b);
  {
    g_autoptr(JsonNode) root = json_builder_get_root (b);
    cfg = cs_json_to_data (root, TRUE, NULL);
  }

  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    {
      guint64 bytes = (guint64) t[i].d0 * (t[i].d1 > 0 ? t[i].d1 : 1) * 4;
      if (!t[i].data)
        continue;
      if (t[i].d1 > 0)
        g_string_append_printf (header, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                                "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                                header->len > 1 ? "," : "", t[i].name, t[i].d0, t[i].d1, off, off + bytes);
      else
        g_string_append_printf (header, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%" G_GINT64_FORMAT
                                "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                                header->len > 1 ? "," : "", t[i].name, t[i].d0, off, off + bytes);
      off += bytes;
    }
  g_string_append_c (header, '}');
  while (header->len % 8)
    g_string_append_c (header, ' ');
  hl = header->len;
  blob = g_byte_array_sized_new ((guint) (8 + hl + off));
  {
    guint8 le[8];
    for (int k = 0; k < 8; k++)
      le[k] = (guint8) (hl >> (8 * k));
    g_byte_array_append (blob, le, 8);
  }
  g_byte_array_append (blob, (const guint8 *) header->str, (guint) hl);
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    if (t[i].data)
      g_byte_array_append (blob, (const guint8 *) t[i].data, (guint) ((guint64) t[i].d0 * (t[i].d1 > 0 ? t[i].d1 : 1) * 4));
  g_string_free (header, TRUE);
  w_path = g_build_filename (folder, "sae_weights.safetensors", NULL);
  cfg_path = g_build_filename (folder, "cfg.json", NULL);
  ok = write_atomic (w_path, blob->data, blob->len, error) && write_atomic (cfg_path, cfg, strlen (cfg), error);
  g_byte_array_unref (blob);
  return ok;
}

CsSae *
cs_sae_train_h5 (const char *path, const char *dataset, const CsSaeTrainOptions *o, CsSaeTrainFunc report,
                 gpointer report_data, GCancellable *cancellable, GError **error)
{
  GError *local = NULL;
  gboolean gpu_failed = FALSE;
  CsSae *s = train_h5 (path, dataset, o, report, report_data, cancellable, &gpu_failed, &local);
  CsSaeTrainOptions cpu;

  if (s || !gpu_failed || o->device != CS_DEVICE_AUTO)
    {
      if (local)
        g_propagate_error (error, local);
      return s;
    }
  /* the GPU was chosen, not asked for: the same training on the CPU */
  g_printerr ("ConceptScope: %s; training on the CPU instead\n", local->message);
  g_clear_error (&local);
  cpu = *o;
  cpu.device = CS_DEVICE_CPU;
  return train_h5 (path, dataset, &cpu, report, report_data, cancellable, &gpu_failed, error);
}
