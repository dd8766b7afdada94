#define G_LOG_DOMAIN "cs-sae"

#include "cs-sae-flow.h"
#include "cs-error.h"
#include "cs-forward.h"
#include "cs-steer-private.h"

#include <math.h>
#include <string.h>

void
cs_sae_flow_free (CsSaeFlow *f)
{
  if (!f)
    return;
  g_free (f->node_layer);
  g_free (f->node_latent);
  g_free (f->node_delta);
  if (f->node_labels)
    g_strfreev (f->node_labels);
  g_free (f->edge_from);
  g_free (f->edge_to);
  g_free (f->edge_weight);
  g_free (f);
}

/* Each prompt's last row of a capture [n, seq, d], encoded: [n, d_sae]. */
static float *
encode_last (CsSae *sae, const float *cap, int seq, const int *lengths, int n)
{
  int d = sae->d_in;
  g_autofree float *x = g_new (float, (gsize) n * d);
  float *f = g_new (float, (gsize) n * sae->d_sae);
  for (int b = 0; b < n; b++)
    memcpy (x + (gsize) b * d, cap + ((gsize) b * seq + lengths[b] - 1) * d, sizeof (float) * d);
  cs_sae_encode (sae, x, n, f);
  return f;
}

typedef struct
{
  double mag;
  int    latent;
  double delta;
} Pick;

static int
compare_pick (gconstpointer a, gconstpointer b)
{
  const Pick *x = a, *y = b;
  if (x->mag != y->mag)
    return x->mag > y->mag ? -1 : 1;
  return x->latent - y->latent;
}

CsSaeFlow *
cs_sae_flow (CsModel *model, CsTokenizer *tok, const float *vector, int steer_layer, double multiplier,
             const gint32 * const *prompts, const int *lengths, int n, CsSae * const *by_layer, int top_k, int span,
             GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int L = cfg->n_layers, d = cfg->hidden;
  g_autoptr(GPtrArray) hooks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(CsForwardResult) base = NULL, steered = NULL;
  g_autoptr(GArray) nl = g_array_new (FALSE, FALSE, sizeof (int)), nk = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) nd = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ef = g_array_new (FALSE, FALSE, sizeof (int)), et = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) ew = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree float **steered_last = g_new0 (float *, L);   /* per layer with an SAE: [n, d_sae] */
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  CsSaeFlow *flow;
  int any = 0;

  if (steer_layer < 0 || steer_layer >= L || n < 1 || top_k < 1 || span < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the feature flow needs a layer of the model (0 to %d), prompts, "
                   "and at least one latent per layer", L - 1);
      return NULL;
    }
  for (int l = steer_layer; l < L; l++)
    {
      any += by_layer[l] != NULL;
      if (by_layer[l] && by_layer[l]->d_in != d)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the SAE at layer %d reads %d-dimensional activations, the "
                       "model's are %d", l, by_layer[l]->d_in, d);
          return NULL;
        }
    }
  if (!any)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "no SAE at layer %d or after it", steer_layer);
      return NULL;
    }
  for (int l = steer_layer; l < L; l++)
    g_ptr_array_add (hooks, g_strdup_printf ("resid_post.%d", l));
  g_ptr_array_add (hooks, NULL);
  opt.capture = (const char * const *) hooks->pdata;
  opt.logits = CS_LOGITS_NONE;
  opt.stop_layer = L - 1;
  opt.device = CS_DEVICE_CPU;
  if (!(base = cs_forward_run (model, prompts, lengths, n, &opt, cancellable, error)))
    return NULL;
  opt.steer_layer = steer_layer;
  opt.steer_multiplier = (float) multiplier;
  opt.steer_vector = vector;
  if (!(steered = cs_forward_run (model, prompts, lengths, n, &opt, cancellable, error)))
    return NULL;

  /* nodes: each layer's latents moved most */
  for (int l = steer_layer; l < L; l++)
    {
      CsSae *sae = by_layer[l];
      g_autofree float *f0 = NULL;
      g_autofree Pick *picks = NULL;
      int m;
      if (!sae)
        continue;
      m = sae->d_sae;
      f0 = encode_last (sae, base->captures->pdata[l - steer_layer], base->seq, lengths, n);
      steered_last[l] = encode_last (sae, steered->captures->pdata[l - steer_layer], steered->seq, lengths, n);
      picks = g_new (Pick, m);
      for (int k = 0; k < m; k++)
        {
          double delta = 0;
          for (int b = 0; b < n; b++)
            delta += ((double) steered_last[l][(gsize) b * m + k] - f0[(gsize) b * m + k]) / n;
          picks[k] = (Pick) { fabs (delta), k, delta };
        }
      qsort (picks, m, sizeof (Pick), (GCompareFunc) compare_pick);
      for (int i = 0; i < MIN (top_k, m); i++)
        {
          g_array_append_val (nl, l);
          g_array_append_val (nk, picks[i].latent);
          g_array_append_val (nd, picks[i].delta);
        }
    }

  /* edges: each source latent's contribution removed, one resumed batch each */
  for (guint i = 0; i < nl->len; i++)
    {
      int l = g_array_index (nl, int, i), k = g_array_index (nk, int, i), stop = MIN (l + span, L - 1);
      CsSae *sae = by_layer[l];
      const float *stream = steered->captures->pdata[l - steer_layer];
      g_autofree float *rows = NULL, *vals = NULL;
      g_autofree CsForwardPatch *patches = g_new0 (CsForwardPatch, n);
      g_autoptr(GPtrArray) caps = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(CsForwardResult) ab = NULL;
      CsForwardOptions po = CS_FORWARD_OPTIONS_INIT;
      gsize total = 0, at = 0;
      gboolean targets = FALSE;

      for (guint j = 0; j < nl->len; j++)
        targets = targets || (g_array_index (nl, int, j) > l && g_array_index (nl, int, j) <= stop);
      if (!targets)
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      for (int b = 0; b < n; b++)
        total += lengths[b];
      /* f_i at every position of the steered run, then − f_i · W_dec[i] */
      rows = g_new (float, total * d);
      for (int b = 0; b < n; b++)
        for (int t = 0; t < lengths[b]; t++, at++)
          memcpy (rows + at * d, stream + ((gsize) b * steered->seq + t) * d, sizeof (float) * d);
      {
        g_autofree float *f = g_new (float, total * sae->d_sae);
        cs_sae_encode (sae, rows, (int) total, f);
        vals = g_new (float, total * d);
        for (gsize r = 0; r < total; r++)
          for (int j = 0; j < d; j++)
            vals[r * d + j] = -f[r * sae->d_sae + k] * sae->W_dec[(gsize) k * d + j];
      }
      at = 0;
      for (int b = 0; b < n; b++)
        {
          patches[b] = (CsForwardPatch) { NULL, b, -1, -1, vals + at * d, TRUE };
          at += lengths[b];
        }
      {
        g_autofree char *hook = g_strdup_printf ("resid_post.%d", l);
        for (int b = 0; b < n; b++)
          patches[b].hook = hook;
        for (int l2 = l + 1; l2 <= stop; l2++)
          g_ptr_array_add (caps, g_strdup_printf ("resid_post.%d", l2));
        g_ptr_array_add (caps, NULL);
        po.capture = (const char * const *) caps->pdata;
        po.logits = CS_LOGITS_NONE;
        po.stop_layer = stop;
        po.device = CS_DEVICE_CPU;
        po.resume_layer = l;
        po.resume_from = stream;
        po.patches = patches;
        po.n_patches = n;
        if (stop == l || !(ab = cs_forward_run (model, prompts, lengths, n, &po, cancellable, error)))
          {
            if (stop == l)
              continue;
            return NULL;
          }
      }
      for (guint j = 0; j < nl->len; j++)
        {
          int l2 = g_array_index (nl, int, j), k2 = g_array_index (nk, int, j);
          g_autofree float *fa = NULL;
          double w = 0;
          int m2;
          if (l2 <= l || l2 > stop)
            continue;
          m2 = by_layer[l2]->d_sae;
          fa = encode_last (by_layer[l2], ab->captures->pdata[l2 - l - 1], ab->seq, lengths, n);
          for (int b = 0; b < n; b++)
            w += ((double) steered_last[l2][(gsize) b * m2 + k2] - fa[(gsize) b * m2 + k2]) / n;
          g_array_append_val (ef, i);
          g_array_append_val (et, j);
          g_array_append_val (ew, w);
        }
    }

  flow = g_new0 (CsSaeFlow, 1);
  flow->steer_layer = steer_layer;
  flow->multiplier = multiplier;
  flow->n_nodes = (int) nl->len;
  flow->node_layer = g_memdup2 (nl->data, sizeof (int) * MAX (1, nl->len));
  flow->node_latent = g_memdup2 (nk->data, sizeof (int) * MAX (1, nk->len));
  flow->node_delta = g_memdup2 (nd->data, sizeof (double) * MAX (1, nd->len));
  flow->node_labels = g_new0 (char *, nl->len + 1);
  for (int l = steer_layer; l < L; l++)
    {
      g_autofree int *latents = g_new (int, MAX (1, nl->len));
      g_autofree int *idx = g_new (int, MAX (1, nl->len));
      g_autofree char **labels = g_new0 (char *, MAX (1, nl->len));
      int m = 0;
      for (guint i = 0; i < nl->len; i++)
        if (g_array_index (nl, int, i) == l)
          {
            latents[m] = g_array_index (nk, int, i);
            idx[m++] = (int) i;
          }
      if (m)
        steer_sae_labels_at (model, tok, by_layer[l], l, latents, m, labels);
      for (int i = 0; i < m; i++)
        flow->node_labels[idx[i]] = labels[i];
    }
  flow->n_edges = (int) ef->len;
  flow->edge_from = g_memdup2 (ef->data, sizeof (int) * MAX (1, ef->len));
  flow->edge_to = g_memdup2 (et->data, sizeof (int) * MAX (1, et->len));
  flow->edge_weight = g_memdup2 (ew->data, sizeof (double) * MAX (1, ew->len));
  for (int l = 0; l < L; l++)
    g_free (steered_last[l]);
  return flow;
}
