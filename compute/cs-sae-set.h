#pragma once

#include <glib.h>

#include "cs-sae.h"

G_BEGIN_DECLS

/* SAEs for several layers of one model, from one folder: a SAELens release
 * (one sub-folder per hook, each with cfg.json and sae_weights.safetensors),
 * a Gemma Scope tree (layer_N/width_W/average_l0_K/params.npz), or any
 * folder whose sub-folders hold either. Each SAE's layer and hook come
 * from its cfg (hook_name blocks.L.hook_resid_post / hook_resid_pre, or
 * hook_layer) or, for Gemma Scope, from its path (the residual stream
 * after layer N). Where a layer has several (widths, L0s), one is chosen:
 * the one asked for, else the first width and the L0 nearest 100. SAEs
 * that do not fit the model are listed with the reason and skipped. */

typedef struct
{
  char  *path;       /* the SAE's folder (or params.npz) */
  char  *hook;       /* "resid_post.L" or "resid_pre.L" */
  int    layer;
  char  *variant;    /* "width_16k/average_l0_71" for Gemma Scope, else the sub-folder's name */
  int    d_sae;
  CsSae *sae;        /* loaded when chosen (cs_sae_set_open), else NULL */
} CsSaeSetMember;

typedef struct
{
  char      *root;
  GPtrArray *chosen;     /* CsSaeSetMember *, by layer (one per layer at most) */
  GPtrArray *others;     /* CsSaeSetMember *: alternatives not chosen (not loaded) */
  GPtrArray *skipped;    /* char *: "path: reason" */
} CsSaeSet;

/* Opens and loads the chosen SAEs of a folder for a model of d_model and
 * n_layers. choices (may be NULL): "L=variant" strings that pick a layer's
 * member by its variant. An error when no SAE fits. */
CsSaeSet *cs_sae_set_open     (const char         *dir,
                               int                 d_model,
                               int                 n_layers,
                               const char * const *choices,
                               GError            **error);
void      cs_sae_set_free     (CsSaeSet           *set);
/* The SAE for resid_post.layer, or NULL. */
CsSae    *cs_sae_set_at_layer (CsSaeSet           *set,
                               int                 layer);

/* "L=variant" of each chosen SAE: what cs_sae_set_open's choices take to
 * open the same set again (saved with a workspace). */
GStrv     cs_sae_set_choices  (const CsSaeSet     *set);
/* The variants at a layer, the chosen one first. */
GStrv     cs_sae_set_variants (const CsSaeSet     *set,
                               int                 layer);
/* The folder (or params.npz) of a variant at a layer, or NULL. */
const char *cs_sae_set_variant_path (const CsSaeSet *set,
                               int                 layer,
                               const char         *variant);
/* Puts an SAE loaded from that path (taken over) in place of the layer's
 * chosen one (which is freed and becomes an alternative): the loading can
 * run on another thread. */
gboolean  cs_sae_set_put      (CsSaeSet           *set,
                               int                 layer,
                               const char         *variant,
                               CsSae              *sae,
                               GError            **error);
/* Loads another variant for a layer in place of the chosen one (which is
 * freed and becomes an alternative). */
gboolean  cs_sae_set_choose   (CsSaeSet           *set,
                               int                 layer,
                               const char         *variant,
                               GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSaeSet, cs_sae_set_free)

G_END_DECLS
