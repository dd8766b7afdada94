#define G_LOG_DOMAIN "cs-forward"

/* The forward pass's hook points and patches: what a name means, the
 * captures and the interventions at each point, each head's share of the
 * attention output. cs-forward.c runs the layers and calls these. */

#include "cs-forward.h"
#include "cs-forward-private.h"
#include "cs-error.h"

#include <string.h>

gboolean
fwd_parse_hook (CsModel *model, const char *name, Hook *hook, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  static const struct { const char *prefix; HookKind kind; } points[] = {
    { "resid_pre.", HOOK_PRE }, { "resid_post.", HOOK_POST }, { "attn_z.", HOOK_ATTN_Z },
    { "head_result.", HOOK_HEAD_RESULT }, { "attn_out.", HOOK_ATTN_OUT }, { "mlp_out.", HOOK_MLP_OUT },
  };
  const char *num = NULL;
  char *end = NULL;
  gint64 layer;

  hook->width = cfg->hidden;
  if (g_str_equal (name, "final_norm"))
    {
      hook->kind = HOOK_FINAL;
      hook->layer = cfg->n_layers;
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (points) && !num; i++)
    if (g_str_has_prefix (name, points[i].prefix))
      {
        hook->kind = points[i].kind;
        num = name + strlen (points[i].prefix);
      }
  if (num)
    {
      if (hook->kind == HOOK_ATTN_Z)
        hook->width = cfg->n_heads * cfg->head_dim;
      else if (hook->kind == HOOK_HEAD_RESULT)
        hook->width = cfg->n_heads * cfg->hidden;
      layer = g_ascii_strtoll (num, &end, 10);
      if (*num && end && *end == '\0' && layer >= 0 && layer < cfg->n_layers)
        {
          hook->layer = (int) layer;
          return TRUE;
        }
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
                   "capture point '%s': the layer must be 0 to %d for this model", name, cfg->n_layers - 1);
      return FALSE;
    }
  g_set_error (error, CS_ERROR, CS_ERROR_RANGE,
               "unknown capture point '%s'; use resid_pre.L, resid_post.L, attn_z.L, head_result.L, attn_out.L, "
               "mlp_out.L (L = 0 to %d) or final_norm", name, cfg->n_layers - 1);
  return FALSE;
}

int
cs_forward_hook_width (CsModel *model, const char *name)
{
  Hook h;
  return fwd_parse_hook (model, name, &h, NULL) ? h.width : -1;
}

gboolean
cs_forward_check_capture_name (CsModel     *model,
                               const char  *name,
                               GError     **error)
{
  Hook h;
  return fwd_parse_hook (model, name, &h, error);
}

void
fwd_capture (Ctx *c, Hook *hooks, guint n_hooks, HookKind kind, int layer, const float *x)
{
  for (guint i = 0; i < n_hooks; i++)
    if (hooks[i].kind == kind && hooks[i].layer == layer)
      memcpy (hooks[i].data, x, (gsize) c->T * hooks[i].width * sizeof (float));
}

/* The patches at this point: rows (or one head's slice of them) replaced by
 * or added to the given values. */
void
fwd_apply_patches (Ctx *c, HookKind kind, int layer, float *x, int width)
{
  int hd = c->cfg->head_dim;
  for (int i = 0; i < c->n_patches; i++)
    {
      const Patch *pa = &c->patches[i];
      const CsForwardPatch *p = pa->p;
      int p0 = p->position >= 0 ? p->position : 0, p1 = p->position >= 0 ? p->position + 1 : c->lengths[p->prompt];
      int n = p->head >= 0 ? hd : width;
      if (pa->at.kind != kind || pa->at.layer != layer)
        continue;
      for (int pos = p0; pos < p1; pos++)
        {
          float *dst = x + (gsize) (c->offsets[p->prompt] + pos) * width + (p->head >= 0 ? p->head * hd : 0);
          const float *src = p->values + (gsize) (pos - p0) * n;
          if (p->add)
            for (int j = 0; j < n; j++)
              dst[j] += src[j];
          else
            memcpy (dst, src, sizeof (float) * n);
        }
    }
}

/* Each head's share of the attention output: z_h · W_O[h] (no bias), into
 * out [T, n_heads, hidden]; their sum plus the output bias is the output
 * projection. */
void
fwd_head_results (Ctx *c, const CsLayerWeights *L, const float *z, int qd, gboolean in_out, float *out)
{
  int H = c->cfg->n_heads, hd = c->cfg->head_dim, d = c->cfg->hidden;
  gsize T = (gsize) c->T;
  g_autofree float *zh = g_new0 (float, T * qd);
  g_autofree float *y = g_new (float, T * d);
  for (int h = 0; h < H; h++)
    {
      memset (zh, 0, sizeof (float) * T * qd);
      for (gsize t = 0; t < T; t++)
        memcpy (zh + t * qd + (gsize) h * hd, z + t * qd + (gsize) h * hd, sizeof (float) * hd);
      fwd_linear (c, zh, c->T, qd, L->o_w, in_out, NULL, y, d);
      for (gsize t = 0; t < T; t++)
        memcpy (out + (t * H + h) * d, y + t * d, sizeof (float) * d);
    }
}

/* What a layer's attention (or MLP) block hands to the residual stream:
 * patched, captured. */
void
fwd_block_output (Ctx *c, Hook *hooks, guint n_hooks, HookKind kind, int layer, float *x)
{
  fwd_apply_patches (c, kind, layer, x, c->cfg->hidden);
  fwd_capture (c, hooks, n_hooks, kind, layer, x);
}

gboolean
fwd_wants (Hook *hooks, guint n_hooks, HookKind kind, int layer)
{
  for (guint i = 0; i < n_hooks; i++)
    if (hooks[i].kind == kind && hooks[i].layer == layer)
      return TRUE;
  return FALSE;
}

gboolean
fwd_parse_patches (Ctx *c, CsModel *model, const CsForwardOptions *opt, int batch, const int *lengths, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  if (opt->n_patches <= 0)
    return TRUE;
  c->patches = g_new0 (Patch, opt->n_patches);
  c->n_patches = opt->n_patches;
  for (int i = 0; i < opt->n_patches; i++)
    {
      const CsForwardPatch *p = &opt->patches[i];
      Patch *pa = &c->patches[i];
      pa->p = p;
      if (!p->hook || !fwd_parse_hook (model, p->hook, &pa->at, error))
        {
          if (!p->hook)
            g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "patch %d names no hook point", i);
          return FALSE;
        }
      if (pa->at.kind == HOOK_FINAL || pa->at.kind == HOOK_HEAD_RESULT)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "%s cannot be patched; patch a head through "
                       "attn_z.L (its result is z_h · W_O[h])", p->hook);
          return FALSE;
        }
      if (p->prompt < 0 || p->prompt >= batch || p->position < -1 || p->position >= lengths[p->prompt] ||
          !p->values || (p->head >= 0 && (pa->at.kind != HOOK_ATTN_Z || p->head >= cfg->n_heads)) || p->head < -1)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "patch %d at %s: prompt %d, position %d, head %d is not "
                       "in this batch (a head only for attn_z.L, 0 to %d)", i, p->hook, p->prompt, p->position,
                       p->head, cfg->n_heads - 1);
          return FALSE;
        }
      if ((opt->stop_layer >= 0 && pa->at.layer > opt->stop_layer) ||
          (opt->resume_layer >= 0 && (pa->at.layer < opt->resume_layer ||
                                      (pa->at.layer == opt->resume_layer && pa->at.kind != HOOK_POST))))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "patch %d at %s lies outside the layers this run "
                       "computes", i, p->hook);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
cs_forward_head_output (CsModel *model, int layer, int head, const float *z, float *out)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int qd = cfg->n_heads * cfg->head_dim;
  g_autofree float *row = NULL;
  Ctx c = { 0 };

  if (layer < 0 || layer >= cfg->n_layers || head < 0 || head >= cfg->n_heads)
    return FALSE;
  c.model = model;
  c.cfg = cfg;
  c.T = 1;
  c.convert = g_try_malloc (CONVERT_CHUNK_FLOATS * sizeof (float));
  row = g_new0 (float, qd);
  if (!c.convert)
    return FALSE;
  memcpy (row + (gsize) head * cfg->head_dim, z, sizeof (float) * cfg->head_dim);
  fwd_linear (&c, row, 1, qd, cs_model_get_layer (model, layer)->o_w, cfg->arch == CS_ARCH_GPT2, NULL, out, cfg->hidden);
  g_free (c.convert);
  return TRUE;
}
