#define G_LOG_DOMAIN "cs-steer"

#include "cs-steer.h"
#include "cs-steer-private.h"
#include "cs-error.h"
#include "cs-forward.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ effects */

void
cs_steer_effects_free (CsSteerEffects *e)
{
  if (!e)
    return;
  g_free (e->row_layers);
  if (e->col_labels)
    for (int c = 0; c < e->n_cols; c++)
      g_free (e->col_labels[c]);
  g_free (e->col_labels);
  g_free (e->col_kind);
  g_free (e->col_index);
  g_free (e->col_layer);
  g_free (e->values);
  g_free (e->resid_delta);
  g_free (e);
}

/* Cov^(1/2) = (Cov^(−1/2))^(−1), by a Cholesky factorisation of the
 * symmetric positive definite Cov^(−1/2). */
static double *
cov_sqrt (CsGeometrySpace *space, GError **error)
{
  int d = space->d;
  double *m = g_memdup2 (space->inv_sqrt, sizeof (double) * d * d);
  if (LAPACKE_dpotrf (LAPACK_ROW_MAJOR, 'L', d, m, d) != 0 || LAPACKE_dpotri (LAPACK_ROW_MAJOR, 'L', d, m, d) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "the whitening matrix cannot be inverted");
      g_free (m);
      return NULL;
    }
  for (int i = 0; i < d; i++)
    for (int j = i + 1; j < d; j++)
      m[(gsize) i * d + j] = m[(gsize) j * d + i];
  return m;
}

static int
estimated_category (CsGeometry *geo, const char *name, GError **error)
{
  int c = cs_category_set_find (geo->categories, name);
  if (c < 0)
    {
      g_autoptr(GString) all = g_string_new (NULL);
      for (guint k = 0; k < geo->categories->items->len; k++)
        if (geo->vectors[k].estimated)
          g_string_append_printf (all, "%s%s", all->len ? ", " : "", cs_category_set_get (geo->categories, k)->name);
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "no category '%s' (there are: %s)", name, all->str);
      return -1;
    }
  if (!geo->vectors[c].estimated)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "the category '%s' has too few tokens for a vector", name);
      return -1;
    }
  return c;
}

double *
cs_steer_concept_vector (CsGeometrySpace *space, CsGeometry *geo, const char *spec, char **name, int *plus,
                         int *minus, GError **error)
{
  int a = -1, b = -1, d = space->d;
  g_autofree double *S = NULL, *l = NULL;
  double *out;

  if (geo->d != d)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the concept vectors have %d dimensions, the whitening %d",
                   geo->d, d);
      return NULL;
    }
  if (cs_category_set_find (geo->categories, spec) >= 0)
    a = estimated_category (geo, spec, error);
  else
    {
      /* "a-b": the first split whose sides both name categories */
      for (const char *dash = strchr (spec, '-'); dash && a < 0; dash = strchr (dash + 1, '-'))
        {
          g_autofree char *left = g_strndup (spec, dash - spec);
          if (cs_category_set_find (geo->categories, left) >= 0 && cs_category_set_find (geo->categories, dash + 1) >= 0)
            {
              if ((a = estimated_category (geo, left, error)) < 0 || (b = estimated_category (geo, dash + 1, error)) < 0)
                return NULL;
            }
        }
      if (a < 0)
        estimated_category (geo, spec, error);
    }
  if (a < 0)
    return NULL;
  l = g_memdup2 (geo->vectors[a].lbar, sizeof (double) * d);
  if (b >= 0)
    for (int k = 0; k < d; k++)
      l[k] -= geo->vectors[b].lbar[k];
  if (!(S = cov_sqrt (space, error)))
    return NULL;
  out = g_new (double, d);
  cblas_dgemv (CblasRowMajor, CblasNoTrans, d, d, 1.0, S, d, l, 1, 0.0, out, 1);
  if (name)
    *name = b >= 0 ? g_strdup_printf ("ℓ̄_%s − ℓ̄_%s", cs_category_set_get (geo->categories, a)->name,
                                      cs_category_set_get (geo->categories, b)->name)
                   : g_strdup_printf ("ℓ̄_%s", cs_category_set_get (geo->categories, a)->name);
  if (plus)
    *plus = a;
  if (minus)
    *minus = b;
  return out;
}

static double *concept_readouts (CsGeometrySpace *space, CsGeometry *geo, GError **error);

double *
cs_steer_concept_directions (CsGeometrySpace *space, CsGeometry *geo, GError **error)
{
  return concept_readouts (space, geo, error);
}

/* u_c = Cov^(1/2) ℓ̄_c / ‖ℓ̄_c‖: then ⟨ℓ̄_c/‖ℓ̄_c‖, Cov^(1/2) λ⟩ = u_c · λ. */
static double *
concept_readouts (CsGeometrySpace *space, CsGeometry *geo, GError **error)
{
  int d = space->d, n = (int) geo->categories->items->len;
  g_autofree double *S = cov_sqrt (space, error);
  double *u;
  if (!S)
    return NULL;
  u = g_new0 (double, (gsize) n * d);
  for (int c = 0; c < n; c++)
    {
      if (!geo->vectors[c].estimated || !(geo->vectors[c].norm > 0))
        continue;
      cblas_dgemv (CblasRowMajor, CblasNoTrans, d, d, 1.0 / geo->vectors[c].norm, S, d, geo->vectors[c].lbar, 1, 0.0,
                   u + (gsize) c * d, 1);
    }
  return u;
}

typedef struct
{
  double best;
  int    kind, index;
  int    layer;    /* an SAE latent's layer, else -1 */
} Candidate;

static int
cmp_candidate (const void *a, const void *b)
{
  const Candidate *x = a, *y = b;
  if (x->best != y->best)
    return x->best > y->best ? -1 : 1;
  return x->index - y->index;
}

/* "SAE 123 ' dog' ' cat'" for each latent: the two tokens its decoder row
 * raises most through the unembedding, all latents in one pass over it. */
void
steer_sae_labels (CsModel *model, CsTokenizer *tok, CsSae *sae, const int *latents, int n, char **out)
{
  steer_sae_labels_at (model, tok, sae, -1, latents, n, out);
}

/* The same, named "L2/123 ' dog' ' cat'" when layer ≥ 0 (an SAE of a set). */
void
steer_sae_labels_at (CsModel *model, CsTokenizer *tok, CsSae *sae, int layer, const int *latents, int n, char **out)
{
  const CsTensor *U = cs_model_get_unembedding (model);
  int d = sae->d_in, V = (int) U->shape[0];
  g_autofree float *row = g_new (float, d);
  g_autofree float *best = g_new (float, 2 * MAX (1, n));
  g_autofree gint32 *id = g_new (gint32, 2 * MAX (1, n));

  for (int i = 0; i < 2 * n; i++)
    {
      best[i] = -INFINITY;
      id[i] = -1;
    }
  for (int t = 0; tok && t < V; t++)
    {
      cs_tensor_read_f32 (U, (gsize) t * d, d, row);
      for (int i = 0; i < n; i++)
        {
          const float *w = sae->W_dec + (gsize) latents[i] * d;
          float s2 = 0;
          for (int j = 0; j < d; j++)
            s2 += row[j] * w[j];
          if (s2 > best[2 * i])
            {
              best[2 * i + 1] = best[2 * i];
              id[2 * i + 1] = id[2 * i];
              best[2 * i] = s2;
              id[2 * i] = t;
            }
          else if (s2 > best[2 * i + 1])
            {
              best[2 * i + 1] = s2;
              id[2 * i + 1] = t;
            }
        }
    }
  for (int i = 0; i < n; i++)
    {
      g_autofree char *a = id[2 * i] >= 0 ? cs_tokenizer_id_to_text (tok, id[2 * i]) : NULL;
      g_autofree char *b = id[2 * i + 1] >= 0 ? cs_tokenizer_id_to_text (tok, id[2 * i + 1]) : NULL;
      g_autofree char *name = layer >= 0 ? g_strdup_printf ("L%d/%d", layer, latents[i])
                                         : g_strdup_printf ("SAE %d", latents[i]);
      out[i] = a && b ? g_strdup_printf ("%s '%s' '%s'", name, a, b) : g_strdup (name);
    }
}

CsSteerEffects *
cs_steer_effects (CsModel *model, CsTokenizer *tok, CsSteerVectors *v, CsSteerPrompts *prompts, int layer,
                  double multiplier, CsGeometrySpace *space, CsGeometry *geometry, CsSae *sae, int sae_layer,
                  int top_k, CsDevice device, GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  g_autofree CsSae **by_layer = g_new0 (CsSae *, MAX (1, cfg->n_layers));
  if (sae && sae->d_in != cfg->hidden)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the SAE reads %d-dimensional activations, the model's are %d",
                   sae->d_in, cfg->hidden);
      return NULL;
    }
  if (sae && sae_layer >= 0 && sae_layer < cfg->n_layers)
    by_layer[sae_layer] = sae;
  return cs_steer_effects_set (model, tok, v, prompts, layer, multiplier, space, geometry,
                               (CsSae * const *) by_layer, FALSE, top_k, device, cancellable, error);
}

CsSteerEffects *
cs_steer_effects_set (CsModel *model, CsTokenizer *tok, CsSteerVectors *v, CsSteerPrompts *prompts, int layer,
                      double multiplier, CsGeometrySpace *space, CsGeometry *geometry, CsSae * const *by_layer,
                      gboolean layer_labels, int top_k, CsDevice device, GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int L = cfg->n_layers, d = cfg->hidden, V = cfg->vocab;
  int rows = L - layer, n_prompts = MIN (prompts->n, BATCH);
  int n_cat = geometry ? (int) geometry->categories->items->len : 0;
  g_auto(GStrv) hooks = steer_all_layer_hooks (L);
  g_autoptr(CsForwardResult) base = NULL;
  g_autoptr(CsForwardResult) steered = NULL;
  g_autofree float *l0 = NULL, *l1 = NULL;
  g_autofree double *readout = NULL;
  /* per row: concept Δ [n_cat], SAE Δ [d_sae], token Δ [V] */
  g_autofree double *dc = g_new0 (double, (gsize) rows * MAX (1, n_cat));
  g_autofree double **ds = g_new0 (double *, MAX (1, rows));   /* per row with an SAE: [its d_sae] */
  g_autofree double *dt = g_new0 (double, (gsize) rows * V);
  g_autofree double *dh = g_new0 (double, (gsize) rows * d);   /* the stream's mean change */
  CsSteerPrompts sub = *prompts;
  CsSteerEffects *e;
  GArray *cands;

  if (layer < 0 || layer >= L)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "layer %d is out of range: this model's layers are 0 to %d",
                   layer, L - 1);
      return NULL;
    }
  for (int l = 0; l < L; l++)
    if (by_layer[l] && by_layer[l]->d_in != d)
      {
        g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the SAE reads %d-dimensional activations, the model's are %d",
                     by_layer[l]->d_in, d);
        return NULL;
      }
  if (geometry && space && !(readout = concept_readouts (space, geometry, error)))
    return NULL;
  sub.n = n_prompts;
  l0 = steer_run_prompts (model, &sub, -1, 0, NULL, (const char * const *) hooks, &base, device, cancellable, error);
  if (!l0)
    return NULL;
  l1 = steer_run_prompts (model, &sub, layer, multiplier, v->vectors + (gsize) layer * d, (const char * const *) hooks,
                    &steered, device, cancellable, error);
  if (!l1)
    return NULL;
  {
    g_autofree float *h0 = g_new (float, (gsize) n_prompts * d), *h1 = g_new (float, (gsize) n_prompts * d);
    g_autofree float *n0 = g_new (float, (gsize) n_prompts * d), *n1 = g_new (float, (gsize) n_prompts * d);
    g_autofree float *z0 = g_new (float, (gsize) n_prompts * V), *z1 = g_new (float, (gsize) n_prompts * V);
    g_autofree double *p0 = g_new (double, V), *p1 = g_new (double, V);
    for (int r = 0; r < rows; r++)
      {
        int l = layer + r;
        const float *c0 = cs_forward_result_get_capture (base, hooks[l]);
        const float *c1 = cs_forward_result_get_capture (steered, hooks[l]);
        for (int i = 0; i < n_prompts; i++)
          {
            gsize last = (gsize) i * base->seq + sub.lengths[i] - 1;
            memcpy (h0 + (gsize) i * d, c0 + last * d, sizeof (float) * d);
            memcpy (h1 + (gsize) i * d, c1 + last * d, sizeof (float) * d);
          }
        for (int i = 0; i < n_prompts; i++)
          for (int j = 0; j < d; j++)
            dh[(gsize) r * d + j] += ((double) h1[(gsize) i * d + j] - h0[(gsize) i * d + j]) / n_prompts;
        cs_forward_unembed (model, h0, n_prompts, n0, z0);
        cs_forward_unembed (model, h1, n_prompts, n1, z1);
        for (int i = 0; i < n_prompts; i++)
          {
            steer_softmax_row (z0 + (gsize) i * V, V, p0);
            steer_softmax_row (z1 + (gsize) i * V, V, p1);
            for (int t = 0; t < V; t++)
              dt[(gsize) r * V + t] += (p1[t] - p0[t]) / n_prompts;
            for (int c = 0; c < n_cat && readout; c++)
              {
                double a = 0, b = 0;
                const double *u = readout + (gsize) c * d;
                for (int j = 0; j < d; j++)
                  {
                    a += u[j] * n0[(gsize) i * d + j];
                    b += u[j] * n1[(gsize) i * d + j];
                  }
                dc[(gsize) r * n_cat + c] += (b - a) / n_prompts;
              }
          }
        if (by_layer[l])
          {
            CsSae *sae = by_layer[l];
            int m = sae->d_sae;
            g_autofree float *f0 = g_new (float, (gsize) n_prompts * m), *f1 = g_new (float, (gsize) n_prompts * m);
            cs_sae_encode (sae, h0, n_prompts, f0);
            cs_sae_encode (sae, h1, n_prompts, f1);
            ds[r] = g_new0 (double, m);
            for (int i = 0; i < n_prompts; i++)
              for (int k = 0; k < m; k++)
                ds[r][k] += ((double) f1[(gsize) i * m + k] - f0[(gsize) i * m + k]) / n_prompts;
          }
      }
  }
  /* columns: the top_k of each kind by the largest |change| over the rows */
  cands = g_array_new (FALSE, FALSE, sizeof (Candidate));
  e = g_new0 (CsSteerEffects, 1);
  for (int kind = 0; kind < 3; kind++)
    {
      /* SAE latents: the top_k of each layer with an SAE, by their change at that layer */
      for (int r = 0; kind == 1 && r < rows; r++)
        {
          int m = ds[r] ? by_layer[layer + r]->d_sae : 0;
          g_autofree Candidate *all = g_new (Candidate, MAX (1, m));
          for (int f = 0; f < m; f++)
            all[f] = (Candidate) { fabs (ds[r][f]), 1, f, layer + r };
          qsort (all, m, sizeof (Candidate), cmp_candidate);
          g_array_append_vals (cands, all, MIN (m, top_k));
        }
      if (kind == 1)
        continue;
      {
        int n = kind == 0 ? (readout ? n_cat : 0) : V;
        const double *src = kind == 0 ? dc : dt;
        int stride = kind == 0 ? n_cat : V;
        g_autofree Candidate *all = g_new (Candidate, MAX (1, n));
        int m = 0;
        for (int f = 0; f < n; f++)
          {
            double best = 0;
            if (kind == 0 && !geometry->vectors[f].estimated)
              continue;
            for (int r = 0; r < rows; r++)
              best = MAX (best, fabs (src[(gsize) r * stride + f]));
            all[m++] = (Candidate) { best, kind, f, -1 };
          }
        qsort (all, m, sizeof (Candidate), cmp_candidate);
        g_array_append_vals (cands, all, MIN (m, kind == 0 ? MAX (top_k, m) : top_k));
      }
    }
  e->n_rows = rows;
  e->n_cols = (int) cands->len;
  e->steer_layer = layer;
  e->multiplier = multiplier;
  e->resid_delta = g_new (float, (gsize) rows * d);
  for (gsize i = 0; i < (gsize) rows * d; i++)
    e->resid_delta[i] = (float) dh[i];
  e->row_layers = g_new (int, rows);
  e->col_labels = g_new0 (char *, e->n_cols + 1);
  e->col_kind = g_new (int, e->n_cols);
  e->col_index = g_new (int, e->n_cols);
  e->col_layer = g_new (int, MAX (1, e->n_cols));
  e->values = g_new (double, (gsize) rows * MAX (1, e->n_cols));
  for (int r = 0; r < rows; r++)
    e->row_layers[r] = layer + r;
  for (int c = 0; c < e->n_cols; c++)
    {
      Candidate *k = &g_array_index (cands, Candidate, c);
      e->col_kind[c] = k->kind;
      e->col_index[c] = k->index;
      e->col_layer[c] = k->layer;
      if (k->kind == 0)
        e->col_labels[c] = g_strdup_printf ("ℓ̄ %s", cs_category_set_get (geometry->categories, k->index)->name);
      else if (k->kind == 2)
        {
          g_autofree char *t = tok ? cs_tokenizer_id_to_text (tok, k->index) : g_strdup_printf ("%d", k->index);
          e->col_labels[c] = g_strdup_printf ("p('%s')", t);
        }
      for (int r = 0; r < rows; r++)
        {
          double val;
          if (k->kind == 0)
            val = dc[(gsize) r * n_cat + k->index];
          else if (k->kind == 1)
            val = layer + r == k->layer ? ds[r][k->index] : NAN;   /* a latent exists at its own layer only */
          else
            val = dt[(gsize) r * V + k->index];
          e->values[(gsize) r * e->n_cols + c] = val;
        }
    }
  /* the SAE latents' labels, a layer's together: one pass over the unembedding each */
  for (int r = 0; r < rows; r++)
    {
      g_autofree int *latents = g_new (int, MAX (1, e->n_cols));
      g_autofree int *cols = g_new (int, MAX (1, e->n_cols));
      g_autofree char **labels = g_new0 (char *, MAX (1, e->n_cols));
      int m = 0;
      for (int c = 0; c < e->n_cols; c++)
        if (e->col_kind[c] == 1 && e->col_layer[c] == layer + r)
          {
            latents[m] = e->col_index[c];
            cols[m++] = c;
          }
      if (m)
        steer_sae_labels_at (model, tok, by_layer[layer + r], layer_labels ? layer + r : -1, latents, m, labels);
      for (int i = 0; i < m; i++)
        e->col_labels[cols[i]] = labels[i];
    }
  for (int r = 0; r < rows; r++)
    g_free (ds[r]);
  g_array_free (cands, TRUE);
  return e;
}

typedef struct
{
  const CsSteerEffects *e;
  CsSteerColumnOrder    order;
} SortCtx;

static double
column_peak (const CsSteerEffects *e, int c)
{
  double best = 0;
  for (int r = 0; r < e->n_rows; r++)
    if (isfinite (e->values[r * e->n_cols + c]))
      best = MAX (best, fabs (e->values[r * e->n_cols + c]));
  return best;
}

static int
cmp_columns (gconstpointer a, gconstpointer b, gpointer data)
{
  const SortCtx *ctx = data;
  int x = *(const int *) a, y = *(const int *) b;
  double px = column_peak (ctx->e, x), py = column_peak (ctx->e, y);
  /* by kind: concepts, SAE latents, tokens, each by its largest change (the
   * order cs_steer_effects makes) */
  if (ctx->order == CS_STEER_SORT_KIND && ctx->e->col_kind[x] != ctx->e->col_kind[y])
    return ctx->e->col_kind[x] - ctx->e->col_kind[y];
  /* SAE latents in blocks by their layer */
  if (ctx->order == CS_STEER_SORT_KIND && ctx->e->col_kind[x] == 1 && ctx->e->col_layer &&
      ctx->e->col_layer[x] != ctx->e->col_layer[y])
    return ctx->e->col_layer[x] - ctx->e->col_layer[y];
  if (px != py)
    return px > py ? -1 : 1;
  return ctx->e->col_index[x] - ctx->e->col_index[y];
}

void
cs_steer_effects_sort (CsSteerEffects *e, CsSteerColumnOrder order, gboolean layers_ascending)
{
  int R = e->n_rows, C = e->n_cols;
  g_autofree int *perm = g_new (int, MAX (1, C));
  g_autofree double *vals = g_memdup2 (e->values, sizeof (double) * R * MAX (1, C));
  g_autofree int *kind = g_memdup2 (e->col_kind, sizeof (int) * MAX (1, C));
  g_autofree int *index = g_memdup2 (e->col_index, sizeof (int) * MAX (1, C));
  g_autofree int *lay = e->col_layer ? g_memdup2 (e->col_layer, sizeof (int) * MAX (1, C)) : NULL;
  g_autofree char **labels = g_memdup2 (e->col_labels, sizeof (char *) * (C + 1));
  g_autofree int *rows = g_memdup2 (e->row_layers, sizeof (int) * MAX (1, R));
  g_autofree int *rperm = g_new (int, MAX (1, R));
  SortCtx ctx = { e, order };

  for (int c = 0; c < C; c++)
    perm[c] = c;
  /* the rank order within a kind is the original order */
  g_qsort_with_data (perm, C, sizeof (int), cmp_columns, &ctx);
  for (int r = 0; r < R; r++)
    rperm[r] = r;
  for (int i = 0; i < R; i++)
    for (int j = i + 1; j < R; j++)
      if (layers_ascending ? rows[rperm[j]] < rows[rperm[i]] : rows[rperm[j]] > rows[rperm[i]])
        {
          int t = rperm[i];
          rperm[i] = rperm[j];
          rperm[j] = t;
        }
  for (int c = 0; c < C; c++)
    {
      e->col_kind[c] = kind[perm[c]];
      e->col_index[c] = index[perm[c]];
      if (lay)
        e->col_layer[c] = lay[perm[c]];
      e->col_labels[c] = labels[perm[c]];
    }
  for (int r = 0; r < R; r++)
    {
      e->row_layers[r] = rows[rperm[r]];
      for (int c = 0; c < C; c++)
        e->values[r * C + c] = vals[rperm[r] * C + perm[c]];
    }
}

/* ---------------------------------------------------------------------- SVD */

void
cs_steer_svd_free (CsSteerSvd *s)
{
  if (!s)
    return;
  g_free (s->values);
  g_free (s->explained);
  g_free (s->top);
  g_free (s->bottom);
  g_free (s);
}

typedef struct
{
  float  v;
  gint32 id;
} TokVal;

static int
cmp_tokval_desc (const void *a, const void *b)
{
  const TokVal *x = a, *y = b;
  if (x->v != y->v)
    return x->v > y->v ? -1 : 1;
  return x->id - y->id;
}

CsSteerSvd *
cs_steer_svd (CsModel *model, CsSteerVectors *v, int layer, int k, int n_tokens, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int n = v->n_pairs, d = v->d, r = MIN (n, d), V = cfg->vocab;
  g_autofree double *A = g_new (double, (gsize) n * d);
  g_autofree double *S = g_new (double, r);
  g_autofree double *Vt = g_new (double, (gsize) r * d);
  g_autofree double *superb = g_new (double, MAX (1, r));
  CsSteerSvd *s;
  double total = 0;

  if (layer < 0 || layer >= v->n_layers)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "layer %d is out of range: this model's layers are 0 to %d",
                   layer, v->n_layers - 1);
      return NULL;
    }
  for (gsize i = 0; i < (gsize) n * d; i++)
    A[i] = v->differences[(gsize) layer * n * d + i];
  if (LAPACKE_dgesvd (LAPACK_ROW_MAJOR, 'N', 'S', n, d, A, d, S, NULL, 1, Vt, d, superb) != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FAILED, "the SVD did not converge");
      return NULL;
    }
  k = MIN (k, r);
  s = g_new0 (CsSteerSvd, 1);
  s->n_values = r;
  s->k = k;
  s->n_tokens = n_tokens;
  s->values = g_memdup2 (S, sizeof (double) * r);
  s->explained = g_new (double, r);
  for (int i = 0; i < r; i++)
    total += S[i] * S[i];
  for (int i = 0; i < r; i++)
    s->explained[i] = total > 0 ? S[i] * S[i] / total : 0;
  s->top = g_new (gint32, MAX (1, k * n_tokens));
  s->bottom = g_new (gint32, MAX (1, k * n_tokens));
  {
    g_autofree float *vec = g_new (float, (gsize) MAX (1, k) * d);
    g_autofree float *logits = g_new (float, (gsize) MAX (1, k) * V);
    g_autofree TokVal *tv = g_new (TokVal, V);
    const CsTensor *U = cs_model_get_unembedding (model);
    g_autofree float *row = g_new (float, d);
    for (int i = 0; i < k; i++)
      {
        double dot = 0;
        const float *mean = v->vectors + (gsize) layer * d;
        for (int j = 0; j < d; j++)
          dot += Vt[(gsize) i * d + j] * mean[j];
        for (int j = 0; j < d; j++)
          vec[(gsize) i * d + j] = (float) (dot < 0 ? -Vt[(gsize) i * d + j] : Vt[(gsize) i * d + j]);
      }
    /* logits of the direction itself: U · v (no norm: a direction, not a state) */
    for (int t = 0; t < V; t++)
      {
        cs_tensor_read_f32 (U, (gsize) t * d, d, row);
        for (int i = 0; i < k; i++)
          {
            float s2 = 0;
            for (int j = 0; j < d; j++)
              s2 += row[j] * vec[(gsize) i * d + j];
            logits[(gsize) i * V + t] = s2;
          }
      }
    for (int i = 0; i < k; i++)
      {
        for (int t = 0; t < V; t++)
          tv[t] = (TokVal) { logits[(gsize) i * V + t], t };
        qsort (tv, V, sizeof (TokVal), cmp_tokval_desc);
        for (int t = 0; t < n_tokens && t < V; t++)
          {
            s->top[i * n_tokens + t] = tv[t].id;
            s->bottom[i * n_tokens + t] = tv[V - 1 - t].id;
          }
      }
  }
  return s;
}

/* ------------------------------------------------------- concepts and SAEs */

gboolean
cs_steer_concept_cosines (CsModel *model, CsSteerVectors *v, int layer, CsGeometrySpace *space, CsGeometry *geo,
                          double *out, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int d = v->d, n = (int) geo->categories->items->len;
  g_autofree double *S = NULL;
  g_autofree double *x = g_new (double, d), *w = g_new (double, d);
  g_autofree float *gain = g_new (float, d);
  double mean = 0, nw = 0;

  if (layer < 0 || layer >= v->n_layers)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "layer %d is out of range", layer);
      return FALSE;
    }
  if (space->d != d)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the geometry's space has %d dimensions, the model %d", space->d, d);
      return FALSE;
    }
  if (!(S = cov_sqrt (space, error)))
    return FALSE;
  cs_tensor_read_f32 (cs_model_get_final_norm_w (model), 0, d, gain);
  for (int j = 0; j < d; j++)
    mean += v->vectors[(gsize) layer * d + j] / d;
  for (int j = 0; j < d; j++)
    {
      double g = gain[j];
      if (cfg->arch == CS_ARCH_GEMMA || cfg->arch == CS_ARCH_GEMMA2)
        g += 1;
      x[j] = g * (v->vectors[(gsize) layer * d + j] - (cfg->arch == CS_ARCH_GPT2 ? mean : 0));
    }
  cblas_dgemv (CblasRowMajor, CblasNoTrans, d, d, 1.0, S, d, x, 1, 0.0, w, 1);
  for (int j = 0; j < d; j++)
    nw += w[j] * w[j];
  nw = sqrt (nw);
  for (int c = 0; c < n; c++)
    {
      double dot = 0;
      if (!geo->vectors[c].estimated || !(geo->vectors[c].norm > 0) || !(nw > 0))
        {
          out[c] = NAN;
          continue;
        }
      for (int j = 0; j < d; j++)
        dot += w[j] * geo->vectors[c].lbar[j];
      out[c] = dot / (nw * geo->vectors[c].norm);
    }
  return TRUE;
}

typedef struct
{
  double v;
  int    i;
} IdxVal;

static int
cmp_idxval_desc (const void *a, const void *b)
{
  const IdxVal *x = a, *y = b;
  if (x->v != y->v)
    return x->v > y->v ? -1 : 1;
  return x->i - y->i;
}

static void
top_both (IdxVal *iv, int n, int k, int *idx, double *val)
{
  qsort (iv, n, sizeof (IdxVal), cmp_idxval_desc);
  for (int t = 0; t < k; t++)
    {
      idx[t] = iv[MIN (t, n - 1)].i;
      val[t] = iv[MIN (t, n - 1)].v;
      idx[k + t] = iv[MAX (0, n - 1 - t)].i;
      val[k + t] = iv[MAX (0, n - 1 - t)].v;
    }
}

void
cs_steer_sae_decompose (CsSae *sae, const float *vector, int k, int *enc_idx, double *enc_val, int *dec_idx,
                        double *dec_val)
{
  int d = sae->d_in, m = sae->d_sae;
  g_autofree IdxVal *iv = g_new (IdxVal, m);
  double nv = 0;

  for (int j = 0; j < d; j++)
    nv += (double) vector[j] * vector[j];
  nv = sqrt (nv);
  for (int f = 0; f < m; f++)
    {
      double s = 0;
      for (int j = 0; j < d; j++)
        s += (double) sae->W_enc[(gsize) j * m + f] * vector[j];
      iv[f] = (IdxVal) { s, f };
    }
  top_both (iv, m, k, enc_idx, enc_val);
  for (int f = 0; f < m; f++)
    {
      double s = 0, nd = 0;
      const float *row = sae->W_dec + (gsize) f * d;
      for (int j = 0; j < d; j++)
        {
          s += (double) row[j] * vector[j];
          nd += (double) row[j] * row[j];
        }
      iv[f] = (IdxVal) { nd > 0 && nv > 0 ? s / (sqrt (nd) * nv) : 0, f };
    }
  top_both (iv, m, k, dec_idx, dec_val);
}
