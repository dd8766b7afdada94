#define G_LOG_DOMAIN "cs-steer"

#include "cs-steer.h"
#include "cs-steer-private.h"
#include "cs-error.h"
#include "cs-wordnet.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- the run */

typedef struct
{
  CsProgressFunc func;
  gpointer       data;
  double         start, span;
} Stage;

static void
stage_progress (double f, gpointer data)
{
  Stage *st = data;
  if (st->func)
    st->func (st->start + st->span * f, st->data);
}

static int
effects_layer_default (const CsSteerSweep *sw)
{
  int layer = cs_steer_sweep_best_layer (sw);
  double best = -INFINITY;
  for (int a = 0; a < sw->n_layers; a++)
    best = MAX (best, steer_sweep_change (sw, a));
  for (int a = 0; a < sw->n_layers; a++)
    if (steer_sweep_change (sw, a) >= 0.9 * best && sw->layers[a] < layer)
      layer = sw->layers[a];
  return layer;
}

gboolean
cs_steer_report_continue (CsSteerReport *rep, CsModel *model, CsTokenizer *tok, const char *prompt, int layer,
                          const double *multipliers, int n_mult, int n_tokens, double temperature, guint seed,
                          int steer_from, CsDevice device, CsProgressFunc progress, gpointer progress_data,
                          GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  g_autoptr(GArray) ids = NULL;
  g_auto(GStrv) texts = NULL;
  g_autofree gint32 *all = NULL;
  int n_tok = n_tokens > 0 ? n_tokens : 20;

  if (layer < 0 || layer >= rep->n_layers || rep->d != cfg->hidden)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "continuing at layer %d: the vectors are for %d layers of width "
                   "%d, the model has %d of %d", layer, rep->n_layers, rep->d, cfg->n_layers, cfg->hidden);
      return FALSE;
    }
  ids = cs_tokenizer_encode (tok, prompt, TRUE, error);
  if (!ids)
    return FALSE;
  if (ids->len == 0 || (int) ids->len >= cfg->max_positions)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the prompt to continue has %u tokens: it needs 1 to %d",
                   ids->len, cfg->max_positions - 1);
      return FALSE;
    }
  texts = g_new0 (char *, n_mult + 1);
  {
    /* the prompt once per multiplier, all in one batch */
    g_autofree const gint32 **rows = g_new (const gint32 *, n_mult);
    g_autofree int *lens = g_new (int, n_mult);
    for (int m = 0; m < n_mult; m++)
      {
        rows[m] = (const gint32 *) ids->data;
        lens[m] = (int) ids->len;
      }
    all = cs_steer_generate (model, rows, lens, n_mult, layer, multipliers, rep->vectors + (gsize) layer * rep->d,
                             steer_from, n_tok, temperature, seed, device, cancellable, error);
    if (!all)
      return FALSE;
  }
  for (int m = 0; m < n_mult; m++)
    {
      const gint32 *new_ids = all + (gsize) m * n_tok;
      int k = 0;
      while (k < n_tok && new_ids[k] >= 0)
        k++;
      texts[m] = cs_tokenizer_decode (tok, new_ids, k, TRUE);
    }
  if (progress)
    progress (1.0, progress_data);
  {
    CsSteerReport fresh = { 0 };
    fresh.gen_prompt = g_strdup (prompt);
    fresh.gen_layer = layer;
    fresh.gen_n = n_mult;
    fresh.gen_mult = g_memdup2 (multipliers, sizeof (double) * n_mult);
    fresh.gen_tokens = n_tok;
    fresh.gen_ids = g_steal_pointer (&all);
    fresh.gen_texts = g_steal_pointer (&texts);
    cs_steer_report_take_generations (rep, &fresh);
  }
  return TRUE;
}

void
cs_steer_report_take_generations (CsSteerReport *dst, CsSteerReport *src)
{
  g_free (dst->gen_prompt);
  g_free (dst->gen_mult);
  g_free (dst->gen_ids);
  g_strfreev (dst->gen_texts);
  dst->gen_prompt = g_steal_pointer (&src->gen_prompt);
  dst->gen_mult = g_steal_pointer (&src->gen_mult);
  dst->gen_ids = g_steal_pointer (&src->gen_ids);
  dst->gen_texts = g_steal_pointer (&src->gen_texts);
  dst->gen_n = src->gen_n;
  dst->gen_layer = src->gen_layer;
  dst->gen_tokens = src->gen_tokens;
  src->gen_n = 0;
}

/* Whether category a is c or one of c's ancestors. */
static gboolean
is_ancestor (CsCategorySet *set, int a, int c)
{
  for (; c >= 0; c = cs_category_set_get (set, c)->parent)
    if (c == a)
      return TRUE;
  return FALSE;
}

/* The hierarchy check of a concept run (docs/steering.md): the child (the
 * concept's first category), up to four siblings, its parent and one
 * unrelated category (reliable ones: enough tokens), each a sweep at the layer over the multipliers and
 * 0; the change of log(mean mass) from multiplier 0. */
static gboolean
hierarchy_check (CsSteerReport *rep, const CsSteerRun *o, CsSteerVectors *v, CsSteerPrompts *prompts, int child,
                 int layer, GCancellable *cancellable, GError **error)
{
  CsCategorySet *set = o->geometry->categories;
  int parent = cs_category_set_get (set, child)->parent, n_sib = 0, zero = -1, nm = o->n_mult;
  g_autoptr(GArray) cats = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GPtrArray) roles = g_ptr_array_new ();
  g_autofree double *mults = g_new (double, o->n_mult + 1);

  g_array_append_val (cats, child);
  g_ptr_array_add (roles, "child");
  for (guint c = 0; c < set->items->len && n_sib < 4; c++)
    if ((int) c != child && parent >= 0 && cs_category_set_get (set, c)->parent == parent &&
        o->geometry->vectors[c].estimated && cs_category_set_get (set, c)->reliable)
      {
        int k = (int) c;
        g_array_append_val (cats, k);
        g_ptr_array_add (roles, "sibling");
        n_sib++;
      }
  if (parent >= 0)
    {
      g_array_append_val (cats, parent);
      g_ptr_array_add (roles, "parent");
    }
  for (guint c = 0; c < set->items->len; c++)
    if (o->geometry->vectors[c].estimated && cs_category_set_get (set, c)->reliable &&
        !is_ancestor (set, (int) c, child) &&
        !(parent >= 0 && is_ancestor (set, parent, (int) c)))
      {
        int k = (int) c;
        g_array_append_val (cats, k);
        g_ptr_array_add (roles, "unrelated");
        break;
      }
  memcpy (mults, o->multipliers, sizeof (double) * nm);
  for (int m = 0; m < nm; m++)
    if (mults[m] == 0)
      zero = m;
  if (zero < 0)
    mults[zero = nm++] = 0;   /* the unsteered run, not shown */
  rep->hier_n = (int) cats->len;
  rep->hier_layer = layer;
  rep->hier_names = g_new0 (char *, cats->len + 1);
  rep->hier_roles = g_new0 (char *, cats->len + 1);
  rep->hier_change = g_new (double, (gsize) cats->len * o->n_mult);
  for (guint k = 0; k < cats->len; k++)
    {
      CsCategory *cat = cs_category_set_get (set, g_array_index (cats, int, k));
      g_autoptr(CsSteerSweep) sw = NULL;
      rep->hier_names[k] = g_strdup (cat->name);
      rep->hier_roles[k] = g_strdup (roles->pdata[k]);
      sw = cs_steer_sweep (o->model, v, prompts, &layer, 1, mults, nm, (const gint32 *) cat->tokens->data,
                           (int) cat->tokens->len, o->device, NULL, NULL, cancellable, error);
      if (!sw)
        return FALSE;
      for (int m = 0; m < o->n_mult; m++)
        rep->hier_change[k * o->n_mult + m] = log (sw->behaviour[m]) - log (sw->behaviour[zero]);
    }
  return TRUE;
}

void
cs_steer_run_init (CsSteerRun *run)
{
  memset (run, 0, sizeof *run);
  run->held_out = 0.5;
  run->position = CS_STEER_POSITION_LAST;
  run->effects_layer = -1;
  run->effects_multiplier = NAN;
  run->top_k = 8;
  run->device = CS_DEVICE_AUTO;
  run->gen_tokens = 20;
}

GArray *
cs_steer_target_tokens (const char *name, CsGeometry *geometry, CsTokenizer *tok, GError **error)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  int c = geometry ? cs_category_set_find (geometry->categories, name) : -1;

  if (c >= 0)
    {
      CsCategory *cat = cs_category_set_get (geometry->categories, c);
      g_array_append_vals (ids, cat->tokens->data, cat->tokens->len);
    }
  else
    {
      g_autoptr(CsWordNet) wn = cs_wordnet_open (NULL, error);
      g_autoptr(CsCategorySet) set = NULL;
      CsCategory *cat;
      if (!wn || !(set = cs_category_set_from_wordnet (wn, name, tok, NULL, error)))
        return NULL;
      cat = cs_category_set_get (set, 0);
      g_array_append_vals (ids, cat->tokens->data, cat->tokens->len);
    }
  if (ids->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "the category '%s' has no tokens in this vocabulary", name);
      return NULL;
    }
  return g_steal_pointer (&ids);
}

CsSteerReport *
cs_steer_run (const CsSteerRun *o, CsProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
              GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (o->model);
  g_autoptr(CsSteerVectors) v = NULL;
  g_autoptr(CsSteerPrompts) prompts = NULL;
  g_autoptr(CsSteerReport) rep = g_new0 (CsSteerReport, 1);
  Stage st = { progress, progress_data, 0, 0.3 };
  double shares[3] = { 0.3, 0.55, 0.07 };   /* vectors, sweep, effects; the rest: generation */
  int eff_layer = o->effects_layer, concept_child = -1;
  double eff_mult = o->effects_multiplier;

  if (o->sae && o->sae->d_in != cfg->hidden)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "the SAE reads %d-dimensional activations, but %s has hidden size %d", o->sae->d_in,
                   cs_model_get_name (o->model), cfg->hidden);
      return NULL;
    }
  if (o->sae && (o->sae->hook_layer < 0 || o->sae->hook_layer >= cfg->n_layers))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the SAE's cfg.json does not name a layer of this model");
      return NULL;
    }
  if (o->n_layers < 1 || o->n_mult < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "give at least one layer and one multiplier");
      return NULL;
    }
  prompts = cs_steer_prompts_new (o->model, o->tok, o->dataset, o->held_out, TRUE, error);
  if (!prompts)
    return NULL;
  {
    /* The stages' shares of the bar from their forward passes, counted in
     * token-layers: the vectors (both sides of each training pair, every
     * layer), the sweep (each setting resumed at its layer), the effects
     * (the prompts steered and not), the continuations. Fixed shares had the
     * bar sit at 85 % through the effects, for minutes on a large model. */
    double L = cfg->n_layers, tp = 0, mean_len, w_vec, w_sweep = 0, w_eff, w_gen = 0, all;
    int n_train = MAX (1, (int) o->dataset->pairs->len - prompts->n);
    for (int i = 0; i < prompts->n; i++)
      tp += prompts->lengths[i];
    mean_len = prompts->n > 0 ? tp / prompts->n : 8;
    w_vec = 2.0 * n_train * mean_len * L;
    for (int a = 0; a < o->n_layers; a++)
      w_sweep += tp * (o->n_mult * (L - o->layers[a]) / MAX (1, o->n_layers) + L / MAX (1, o->n_layers));
    w_eff = 2 * tp * L;
    if (o->gen_prompt && *o->gen_prompt)
      w_gen = o->n_mult * (mean_len + (o->gen_tokens > 0 ? o->gen_tokens : 20)) * L;
    all = MAX (1e-9, w_vec + w_sweep + w_eff + w_gen);
    shares[0] = w_vec / all;
    shares[1] = w_sweep / all;
    shares[2] = w_eff / all;
  }
  st.span = shares[0];
  v = cs_steer_compute (o->model, o->tok, o->dataset, o->held_out, o->position, o->device, stage_progress, &st,
                        cancellable, error);
  if (!v)
    return NULL;
  if (o->concept)
    {
      /* the concept's direction at every layer, in place of the dataset's
       * vectors (their residual norms stay, for normalise) */
      g_autofree double *c = NULL;
      double nn = 0;
      if (!o->geometry || !o->space)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_MISSING,
                       "steering with a concept needs the concept vectors and the whitening of a workspace");
          return NULL;
        }
      if (!(c = cs_steer_concept_vector (o->space, o->geometry, o->concept, &rep->concept, &concept_child, NULL,
                                         error)))
        return NULL;
      if (o->space->d != v->d)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the workspace's model has hidden size %d, this one %d",
                       o->space->d, v->d);
          return NULL;
        }
      for (int j = 0; j < v->d; j++)
        nn += c[j] * c[j];
      for (int l = 0; l < v->n_layers; l++)
        {
          for (int j = 0; j < v->d; j++)
            v->vectors[(gsize) l * v->d + j] = (float) c[j];
          v->norms[l] = sqrt (nn);
        }
    }
  if (o->steer_from < 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the steering start position must be 0 or more");
      return NULL;
    }
  prompts->steer_from = o->steer_from;
  if (o->normalise)
    for (int l = 0; l < v->n_layers; l++)
      if (v->norms[l] > 0)
        {
          /* multiplier 1 is then one typical residual norm at that layer */
          float scale = (float) (v->resid_norms[l] / v->norms[l]);
          for (int j = 0; j < v->d; j++)
            v->vectors[(gsize) l * v->d + j] *= scale;
          v->norms[l] = v->resid_norms[l];
        }
  rep->dataset = g_strdup (o->dataset_name ? o->dataset_name : "");
  rep->model_path = g_strdup (cs_model_get_path (o->model));
  rep->targets = g_strdup (o->targets_name ? o->targets_name : "");
  rep->position = g_strdup (o->position == CS_STEER_POSITION_ANSWER ? "answer" : "last");
  rep->held_out = o->held_out;
  rep->n_layers = v->n_layers;
  rep->d = v->d;
  rep->n_pairs = v->n_pairs;
  rep->vectors = g_memdup2 (v->vectors, sizeof (float) * v->n_layers * v->d);
  rep->norms = g_memdup2 (v->norms, sizeof (double) * v->n_layers);
  st.start = shares[0];
  st.span = shares[1];
  rep->sweep = cs_steer_sweep (o->model, v, prompts, o->layers, o->n_layers, o->multipliers, o->n_mult, o->targets,
                               o->n_targets, o->device, stage_progress, &st, cancellable, error);
  if (!rep->sweep)
    return NULL;
  if (eff_layer < 0)
    eff_layer = effects_layer_default (rep->sweep);
  if (eff_layer >= cfg->n_layers)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "effects layer %d: this model's layers are 0 to %d", eff_layer,
                   cfg->n_layers - 1);
      return NULL;
    }
  if (isnan (eff_mult))
    {
      eff_mult = -INFINITY;
      for (int m = 0; m < o->n_mult; m++)
        eff_mult = MAX (eff_mult, o->multipliers[m]);
    }
  if (o->saes)
    {
      g_autofree CsSae **by_layer = g_new0 (CsSae *, cfg->n_layers);
      for (int l = 0; l < cfg->n_layers; l++)
        by_layer[l] = cs_sae_set_at_layer (o->saes, l);
      rep->effects = cs_steer_effects_set (o->model, o->tok, v, prompts, eff_layer, eff_mult, o->space, o->geometry,
                                           (CsSae * const *) by_layer, TRUE, o->top_k > 0 ? o->top_k : 8, o->device,
                                           cancellable, error);
    }
  else
    rep->effects = cs_steer_effects (o->model, o->tok, v, prompts, eff_layer, eff_mult, o->space, o->geometry, o->sae,
                                     o->sae ? o->sae->hook_layer : -1, o->top_k > 0 ? o->top_k : 8, o->device,
                                     cancellable, error);
  if (!rep->effects)
    return NULL;
  if (o->saes)
    {
      /* the feature flow at the effects layer (steered at every position): over the first 16 held-out prompts */
      g_autofree CsSae **by_layer = g_new0 (CsSae *, cfg->n_layers);
      gboolean any = FALSE;
      for (int l = 0; l < cfg->n_layers; l++)
        {
          by_layer[l] = cs_sae_set_at_layer (o->saes, l);
          any = any || (by_layer[l] && l >= eff_layer);
        }
      if (any)
      rep->flow = cs_sae_flow (o->model, o->tok, v->vectors + (gsize) eff_layer * v->d, eff_layer, eff_mult,
                               (const gint32 * const *) prompts->ids, prompts->lengths, MIN (prompts->n, 16),
                               (CsSae * const *) by_layer, 5, 2, cancellable, error);
      if (any && !rep->flow)
        return NULL;
    }
  if (progress)
    progress (shares[0] + shares[1] + shares[2], progress_data);
  rep->svd_layer = eff_layer;
  if (o->saes)
    {
      rep->sae_set_root = g_strdup (o->saes->root);
      rep->sae_set_choices = cs_sae_set_choices (o->saes);
    }
  if (concept_child >= 0 && !hierarchy_check (rep, o, v, prompts, concept_child, eff_layer, cancellable, error))
    return NULL;
  if (!o->concept)
    {
      /* the pairs' differences: a concept vector is none of them */
      rep->svd = cs_steer_svd (o->model, v, eff_layer, 3, 5, error);
      if (!rep->svd)
        return NULL;
      rep->svd_top = g_new0 (char *, rep->svd->k * rep->svd->n_tokens + 1);
      rep->svd_bottom = g_new0 (char *, rep->svd->k * rep->svd->n_tokens + 1);
      for (int i = 0; i < rep->svd->k * rep->svd->n_tokens; i++)
        {
          rep->svd_top[i] = cs_tokenizer_id_to_text (o->tok, rep->svd->top[i]);
          rep->svd_bottom[i] = cs_tokenizer_id_to_text (o->tok, rep->svd->bottom[i]);
        }
    }
  if (o->geometry && o->space)
    {
      CsCategorySet *cs = o->geometry->categories;
      rep->n_concepts = (int) cs->items->len;
      rep->concept_names = g_new0 (char *, rep->n_concepts + 1);
      for (int c = 0; c < rep->n_concepts; c++)
        rep->concept_names[c] = g_strdup (cs_category_set_get (cs, c)->name);
      rep->concept_cos = g_new (double, rep->n_layers * rep->n_concepts);
      for (int l = 0; l < rep->n_layers; l++)
        if (!cs_steer_concept_cosines (o->model, v, l, o->space, o->geometry,
                                       rep->concept_cos + (gsize) l * rep->n_concepts, error))
          return NULL;
    }
  /* the decomposition: the single SAE at its layer, or the set's at the
   * effects layer and, propagated, at each later layer of the set */
  {
    CsSae *dsae = o->saes ? cs_sae_set_at_layer (o->saes, eff_layer) : o->sae;
    int dlayer = o->saes ? eff_layer : o->sae ? o->sae->hook_layer : -1;
    int k = 5, K = 2 * k;
    g_autoptr(GArray) at = g_array_new (FALSE, FALSE, sizeof (int));
    rep->sae_layer = dsae ? dlayer : -1;
    if (dsae)
      g_array_append_val (at, dlayer);
    for (int l = eff_layer + 1; o->saes && dsae && rep->effects->resid_delta && l < cfg->n_layers; l++)
      if (cs_sae_set_at_layer (o->saes, l))
        g_array_append_val (at, l);
    if (at->len > 0)
      {
        int n = (int) at->len;
        g_autofree char **labels = g_new0 (char *, (gsize) 2 * K + 1);
        rep->sae_k = k;
        rep->sae_n = n;
        rep->sae_layers = g_memdup2 (at->data, sizeof (int) * n);
        rep->sae_enc_idx = g_new (int, (gsize) n * K);
        rep->sae_dec_idx = g_new (int, (gsize) n * K);
        rep->sae_enc_val = g_new (double, (gsize) n * K);
        rep->sae_dec_val = g_new (double, (gsize) n * K);
        if (o->tok)
          {
            rep->sae_enc_labels = g_new0 (char *, (gsize) n * K + 1);
            rep->sae_dec_labels = g_new0 (char *, (gsize) n * K + 1);
          }
        for (int i = 0; i < n; i++)
          {
            int l = rep->sae_layers[i];
            CsSae *sae = i == 0 ? dsae : cs_sae_set_at_layer (o->saes, l);
            const float *vec = i == 0 ? v->vectors + (gsize) dlayer * v->d
                                      : rep->effects->resid_delta + (gsize) (l - eff_layer) * v->d;
            cs_steer_sae_decompose (sae, vec, k, rep->sae_enc_idx + (gsize) i * K, rep->sae_enc_val + (gsize) i * K,
                                    rep->sae_dec_idx + (gsize) i * K, rep->sae_dec_val + (gsize) i * K);
            if (o->tok)
              {
                /* what each feature writes, in tokens: one pass over the unembedding for all twenty */
                int latents[20];
                memcpy (latents, rep->sae_enc_idx + (gsize) i * K, sizeof (int) * K);
                memcpy (latents + K, rep->sae_dec_idx + (gsize) i * K, sizeof (int) * K);
                steer_sae_labels_at (o->model, o->tok, sae, o->saes ? l : -1, latents, 2 * K, labels);
                memcpy (rep->sae_enc_labels + (gsize) i * K, labels, sizeof (char *) * K);
                memcpy (rep->sae_dec_labels + (gsize) i * K, labels + K, sizeof (char *) * K);
              }
          }
      }
  }
  if (o->gen_prompt && *o->gen_prompt)
    {
      Stage gs = { progress, progress_data, shares[0] + shares[1] + shares[2],
                   1 - (shares[0] + shares[1] + shares[2]) };
      if (!cs_steer_report_continue (rep, o->model, o->tok, o->gen_prompt, eff_layer, o->multipliers, o->n_mult,
                                     o->gen_tokens, o->temperature, o->seed, o->steer_from, o->device,
                                     stage_progress, &gs, cancellable, error))
        return NULL;
    }
  if (progress)
    progress (1.0, progress_data);
  return g_steal_pointer (&rep);
}
