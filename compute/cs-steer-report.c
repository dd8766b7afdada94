#define G_LOG_DOMAIN "cs-steer"

#include "cs-steer.h"
#include "cs-steer-private.h"
#include "cs-error.h"
#include "cs-json.h"
#include "cs-hdf5.h"

#include <hdf5.h>

#include <json-glib/json-glib.h>

/* ------------------------------------------------------------------ reports */

/* How much the behaviour moves at swept layer a: behaviour at the largest
 * multiplier minus behaviour at the smallest. */
double
steer_sweep_change (const CsSteerSweep *s, int a)
{
  int lo = 0, hi = 0;
  for (int m = 1; m < s->n_mult; m++)
    {
      if (s->multipliers[m] < s->multipliers[lo])
        lo = m;
      if (s->multipliers[m] > s->multipliers[hi])
        hi = m;
    }
  return s->behaviour[a * s->n_mult + hi] - s->behaviour[a * s->n_mult + lo];
}

int
cs_steer_sweep_best_layer (const CsSteerSweep *s)
{
  int best = 0;
  for (int a = 1; a < s->n_layers; a++)
    if (steer_sweep_change (s, a) > steer_sweep_change (s, best))
      best = a;
  return s->n_layers ? s->layers[best] : -1;
}

void
cs_steer_report_free (CsSteerReport *r)
{
  if (!r)
    return;
  g_free (r->dataset);
  g_free (r->model_path);
  g_free (r->targets);
  g_free (r->position);
  g_free (r->vectors);
  g_free (r->norms);
  cs_steer_sweep_free (r->sweep);
  cs_steer_effects_free (r->effects);
  cs_steer_svd_free (r->svd);
  g_strfreev (r->svd_top);
  g_free (r->gen_prompt);
  g_free (r->gen_mult);
  g_free (r->gen_ids);
  g_strfreev (r->gen_texts);
  g_strfreev (r->svd_bottom);
  g_strfreev (r->concept_names);
  g_free (r->concept_cos);
  g_free (r->sae_enc_idx);
  g_free (r->sae_layers);
  g_free (r->sae_dec_idx);
  g_strfreev (r->sae_enc_labels);
  g_strfreev (r->sae_dec_labels);
  g_free (r->sae_enc_val);
  g_free (r->sae_dec_val);
  g_free (r->concept);
  g_free (r->sae_set_root);
  g_strfreev (r->sae_set_choices);
  g_strfreev (r->hier_names);
  g_strfreev (r->hier_roles);
  g_free (r->hier_change);
  cs_sae_flow_free (r->flow);
  g_free (r);
}

gboolean
cs_steer_report_save (const CsSteerReport *r, const char *path, GError **error)
{
  g_autoptr(CsH5Writer) w = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gsize dims[2];

  if (!(w = cs_h5_writer_for_group (path, "/steering", error)))
    return FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "dataset");
  json_builder_add_string_value (b, r->dataset ? r->dataset : "");
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, r->model_path ? r->model_path : "");
  json_builder_set_member_name (b, "targets");
  json_builder_add_string_value (b, r->targets ? r->targets : "");
  json_builder_set_member_name (b, "position");
  json_builder_add_string_value (b, r->position ? r->position : "last");
  json_builder_set_member_name (b, "held_out");
  json_builder_add_double_value (b, r->held_out);
  json_builder_set_member_name (b, "n_pairs");
  json_builder_add_int_value (b, r->n_pairs);
  json_builder_set_member_name (b, "svd_layer");
  json_builder_add_int_value (b, r->svd_layer);
  json_builder_set_member_name (b, "sae_layer");
  json_builder_add_int_value (b, r->sae_layer);
  if (r->concept)
    {
      json_builder_set_member_name (b, "concept");
      json_builder_add_string_value (b, r->concept);
    }
  if (r->hier_n > 0)
    {
      json_builder_set_member_name (b, "hierarchy_layer");
      json_builder_add_int_value (b, r->hier_layer);
    }
  if (r->gen_prompt)
    {
      json_builder_set_member_name (b, "generation_layer");
      json_builder_add_int_value (b, r->gen_layer);
    }
  if (r->svd)
    {
      json_builder_set_member_name (b, "svd_k");
      json_builder_add_int_value (b, r->svd->k);
      json_builder_set_member_name (b, "svd_tokens");
      json_builder_add_int_value (b, r->svd->n_tokens);
    }
  if (r->effects)
    {
      json_builder_set_member_name (b, "effects_layer");
      json_builder_add_int_value (b, r->effects->steer_layer);
      json_builder_set_member_name (b, "effects_multiplier");
      json_builder_add_double_value (b, r->effects->multiplier);
    }
  if (r->sweep)
    {
      json_builder_set_member_name (b, "sweep_seconds");
      json_builder_add_double_value (b, r->sweep->seconds);
      json_builder_set_member_name (b, "sweep_tokens");
      json_builder_add_int_value (b, r->sweep->tokens);
    }
  json_builder_end_object (b);
  {
    g_autoptr(JsonNode) root = json_builder_get_root (b);
    if (!cs_json_h5_write (w, "/steering/parameters", root, error))
      return FALSE;
  }
  dims[0] = r->n_layers;
  dims[1] = r->d;
  if (!cs_h5_writer_add_f32 (w, "/steering/vectors", 2, dims, r->vectors, error) ||
      !cs_h5_writer_add_f64 (w, "/steering/vector_norms", 1, dims, r->norms, error))
    return FALSE;
  if (r->sweep)
    {
      const CsSteerSweep *sw = r->sweep;
      gsize dl[1] = { sw->n_layers }, dm[1] = { sw->n_mult }, db[2] = { sw->n_layers, sw->n_mult };
      if (!cs_h5_writer_add_i32 (w, "/steering/sweep/layers", 1, dl, sw->layers, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sweep/multipliers", 1, dm, sw->multipliers, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sweep/behaviour", 2, db, sw->behaviour, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sweep/behaviour_sd", 2, db, sw->behaviour_sd, error))
        return FALSE;
    }
  if (r->effects && r->effects->n_cols > 0)
    {
      const CsSteerEffects *e = r->effects;
      gsize dr[1] = { e->n_rows }, dc[1] = { e->n_cols }, dv[2] = { e->n_rows, e->n_cols };
      if (!cs_h5_writer_add_i32 (w, "/steering/effects/row_layers", 1, dr, e->row_layers, error) ||
          !cs_h5_writer_add_i32 (w, "/steering/effects/col_kind", 1, dc, e->col_kind, error) ||
          !cs_h5_writer_add_i32 (w, "/steering/effects/col_index", 1, dc, e->col_index, error) ||
          (e->col_layer && !cs_h5_writer_add_i32 (w, "/steering/effects/col_layer", 1, dc, e->col_layer, error)) ||
          !cs_h5_writer_add_strings (w, "/steering/effects/col_labels", (const char * const *) e->col_labels,
                                     e->n_cols, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/effects/values", 2, dv, e->values, error))
        return FALSE;
    }
  if (r->svd)
    {
      const CsSteerSvd *sv = r->svd;
      gsize dn[1] = { sv->n_values }, dt[1] = { (gsize) sv->k * sv->n_tokens };
      if (!cs_h5_writer_add_f64 (w, "/steering/svd/values", 1, dn, sv->values, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/svd/explained", 1, dn, sv->explained, error) ||
          (dt[0] && (!cs_h5_writer_add_strings (w, "/steering/svd/top_tokens", (const char * const *) r->svd_top, dt[0], error) ||
                     !cs_h5_writer_add_strings (w, "/steering/svd/bottom_tokens", (const char * const *) r->svd_bottom, dt[0], error))))
        return FALSE;
    }
  if (r->n_concepts > 0)
    {
      gsize dn[1] = { r->n_concepts }, dv[2] = { r->n_layers, r->n_concepts };
      if (!cs_h5_writer_add_strings (w, "/steering/concepts/names", (const char * const *) r->concept_names,
                                     dn[0], error) ||
          !cs_h5_writer_add_f64 (w, "/steering/concepts/cosine", 2, dv, r->concept_cos, error))
        return FALSE;
    }
  if (r->sae_k > 0)
    {
      gsize dk[1] = { (gsize) r->sae_k * 2 * r->sae_n }, dn[1] = { (gsize) r->sae_n };
      if (!cs_h5_writer_add_i32 (w, "/steering/sae/layers", 1, dn, r->sae_layers, error) ||
          !cs_h5_writer_add_i32 (w, "/steering/sae/encoder_features", 1, dk, r->sae_enc_idx, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sae/encoder_values", 1, dk, r->sae_enc_val, error) ||
          !cs_h5_writer_add_i32 (w, "/steering/sae/decoder_features", 1, dk, r->sae_dec_idx, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/sae/decoder_cosines", 1, dk, r->sae_dec_val, error))
        return FALSE;
      if (r->sae_enc_labels && r->sae_dec_labels &&
          (!cs_h5_writer_add_strings (w, "/steering/sae/encoder_labels", (const char * const *) r->sae_enc_labels,
                                      dk[0], error) ||
           !cs_h5_writer_add_strings (w, "/steering/sae/decoder_labels", (const char * const *) r->sae_dec_labels,
                                      dk[0], error)))
        return FALSE;
    }
  if (r->sae_set_root && r->sae_set_choices && r->sae_set_choices[0])
    {
      const char *root[1] = { r->sae_set_root };
      if (!cs_h5_writer_add_strings (w, "/steering/sae_set/root", root, 1, error) ||
          !cs_h5_writer_add_strings (w, "/steering/sae_set/choices", (const char * const *) r->sae_set_choices,
                                     g_strv_length (r->sae_set_choices), error))
        return FALSE;
    }
  if (r->hier_n > 0 && r->sweep)
    {
      gsize dn[1] = { (gsize) r->hier_n }, dv[2] = { (gsize) r->hier_n, (gsize) r->sweep->n_mult };
      if (!cs_h5_writer_add_strings (w, "/steering/hierarchy/names", (const char * const *) r->hier_names, dn[0],
                                     error) ||
          !cs_h5_writer_add_strings (w, "/steering/hierarchy/roles", (const char * const *) r->hier_roles, dn[0],
                                     error) ||
          !cs_h5_writer_add_f64 (w, "/steering/hierarchy/log_mass_change", 2, dv, r->hier_change, error))
        return FALSE;
    }
  if (r->flow && r->flow->n_nodes > 0)
    {
      CsSaeFlow *f = r->flow;
      gsize dn[1] = { (gsize) f->n_nodes }, de[2] = { (gsize) MAX (f->n_edges, 1), 2 },
            dw[1] = { (gsize) MAX (f->n_edges, 1) };
      g_autofree gint32 *edges = g_new0 (gint32, 2 * MAX (f->n_edges, 1));
      g_autofree double *weights = g_new0 (double, MAX (f->n_edges, 1));
      for (int e = 0; e < f->n_edges; e++)
        {
          edges[2 * e] = f->edge_from[e];
          edges[2 * e + 1] = f->edge_to[e];
          weights[e] = f->edge_weight[e];
        }
      if (f->n_edges == 0)
        edges[0] = edges[1] = -1;   /* none: one row of −1 */
      if (!cs_h5_writer_add_i32 (w, "/steering/flow/node_layer", 1, dn, f->node_layer, error) ||
          !cs_h5_writer_add_i32 (w, "/steering/flow/node_latent", 1, dn, f->node_latent, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/flow/node_delta", 1, dn, f->node_delta, error) ||
          !cs_h5_writer_add_strings (w, "/steering/flow/node_labels", (const char * const *) f->node_labels, dn[0],
                                     error) ||
          !cs_h5_writer_add_i32 (w, "/steering/flow/edges", 2, de, edges, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/flow/edge_weight", 1, dw, weights, error) ||
          !cs_h5_writer_set_attr_double (w, "flow_layer", f->steer_layer, error) ||
          !cs_h5_writer_set_attr_double (w, "flow_multiplier", f->multiplier, error))
        return FALSE;
    }
  if (r->gen_prompt && r->gen_n > 0)
    {
      gsize dg[1] = { (gsize) r->gen_n }, di[2] = { (gsize) r->gen_n, (gsize) r->gen_tokens };
      const char *pp[1] = { r->gen_prompt };
      if (!cs_h5_writer_add_strings (w, "/steering/generations/prompt", pp, 1, error) ||
          !cs_h5_writer_add_f64 (w, "/steering/generations/multipliers", 1, dg, r->gen_mult, error) ||
          !cs_h5_writer_add_strings (w, "/steering/generations/texts", (const char * const *) r->gen_texts, dg[0],
                                     error) ||
          !cs_h5_writer_add_i32 (w, "/steering/generations/ids", 2, di, r->gen_ids, error))
        return FALSE;
    }
  return cs_h5_writer_commit (w, error);
}

CsSteerReport *
cs_steer_report_load (const char *path, GError **error)
{
  g_autoptr(CsH5Reader) rd = cs_h5_reader_open (path, error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CsSteerReport) r = NULL;
  JsonObject *o;
  gsize dims[8], n = 0;
  int rank;

  if (!rd || !(o = cs_json_h5_read (rd, parser, "/steering/parameters", path, "steering results", "them", "steer",
                                     "steering", error)))
    return NULL;
  r = g_new0 (CsSteerReport, 1);
  r->dataset = g_strdup (cs_json_string (o, "dataset", ""));
  r->model_path = g_strdup (cs_json_string (o, "model", ""));
  r->targets = g_strdup (cs_json_string (o, "targets", ""));
  r->position = g_strdup (cs_json_string (o, "position", "last"));
  r->held_out = cs_json_double (o, "held_out", 0);
  r->n_pairs = (int) cs_json_int (o, "n_pairs", 0);
  r->svd_layer = (int) cs_json_int (o, "svd_layer", -1);
  r->sae_layer = (int) cs_json_int (o, "sae_layer", -1);
  if (cs_json_string (o, "concept", NULL))
    r->concept = g_strdup (cs_json_string (o, "concept", NULL));
  {
    g_autofree double *vd = cs_h5_reader_f64 (rd, "/steering/vectors", &rank, dims, error);
    if (!vd || rank != 2)
      goto bad;
    r->n_layers = (int) dims[0];
    r->d = (int) dims[1];
    r->vectors = g_new (float, dims[0] * dims[1]);
    for (gsize i = 0; i < dims[0] * dims[1]; i++)
      r->vectors[i] = (float) vd[i];
    r->norms = cs_h5_reader_f64 (rd, "/steering/vector_norms", &rank, dims, error);
    if (!r->norms)
      goto bad;
  }
  if (cs_h5_reader_has (rd, "/steering/sweep/behaviour"))
    {
      CsSteerSweep *sw = g_new0 (CsSteerSweep, 1);
      gsize nl = 0;
      r->sweep = sw;
      sw->layers = cs_h5_reader_i32 (rd, "/steering/sweep/layers", &nl, error);
      sw->multipliers = cs_h5_reader_f64 (rd, "/steering/sweep/multipliers", &rank, dims, error);
      if (!sw->layers || !sw->multipliers)
        goto bad;
      sw->n_layers = (int) nl;
      sw->n_mult = (int) dims[0];
      sw->behaviour = cs_h5_reader_f64 (rd, "/steering/sweep/behaviour", &rank, dims, error);
      sw->behaviour_sd = cs_h5_reader_f64 (rd, "/steering/sweep/behaviour_sd", &rank, dims, error);
      if (!sw->behaviour || !sw->behaviour_sd || rank != 2 || (int) dims[0] != sw->n_layers ||
          (int) dims[1] != sw->n_mult)
        goto bad;
      sw->seconds = cs_json_double (o, "sweep_seconds", 0);
      sw->tokens = cs_json_int (o, "sweep_tokens", 0);
    }
  if (cs_h5_reader_has (rd, "/steering/effects/values"))
    {
      CsSteerEffects *e = g_new0 (CsSteerEffects, 1);
      gsize nr = 0, nc = 0;
      r->effects = e;
      e->row_layers = cs_h5_reader_i32 (rd, "/steering/effects/row_layers", &nr, error);
      e->col_kind = cs_h5_reader_i32 (rd, "/steering/effects/col_kind", &nc, error);
      e->col_index = cs_h5_reader_i32 (rd, "/steering/effects/col_index", &n, error);
      e->col_labels = cs_h5_reader_strings (rd, "/steering/effects/col_labels", error);
      e->values = cs_h5_reader_f64 (rd, "/steering/effects/values", &rank, dims, error);
      if (!e->row_layers || !e->col_kind || !e->col_index || !e->col_labels || !e->values || rank != 2 ||
          dims[0] != nr || dims[1] != nc || n != nc || g_strv_length (e->col_labels) != nc)
        goto bad;
      e->n_rows = (int) nr;
      e->n_cols = (int) nc;
      /* each SAE latent's layer: older workspaces had one SAE, at sae_layer */
      if (cs_h5_reader_has (rd, "/steering/effects/col_layer"))
        {
          gsize nl = 0;
          e->col_layer = cs_h5_reader_i32 (rd, "/steering/effects/col_layer", &nl, error);
          if (!e->col_layer || nl != nc)
            goto bad;
        }
      else
        {
          e->col_layer = g_new (int, MAX (1, nc));
          for (gsize c = 0; c < nc; c++)
            e->col_layer[c] = e->col_kind[c] == 1 ? r->sae_layer : -1;
        }
      e->steer_layer = (int) cs_json_int (o, "effects_layer", e->row_layers[0]);
      e->multiplier = cs_json_double (o, "effects_multiplier", 0);
    }
  if (cs_h5_reader_has (rd, "/steering/svd/values"))
    {
      CsSteerSvd *sv = g_new0 (CsSteerSvd, 1);
      r->svd = sv;
      sv->values = cs_h5_reader_f64 (rd, "/steering/svd/values", &rank, dims, error);
      sv->explained = cs_h5_reader_f64 (rd, "/steering/svd/explained", &rank, dims, error);
      if (!sv->values || !sv->explained)
        goto bad;
      sv->n_values = (int) dims[0];
      sv->k = (int) cs_json_int (o, "svd_k", 0);
      sv->n_tokens = (int) cs_json_int (o, "svd_tokens", 0);
      if (cs_h5_reader_has (rd, "/steering/svd/top_tokens"))
        {
          r->svd_top = cs_h5_reader_strings (rd, "/steering/svd/top_tokens", error);
          r->svd_bottom = cs_h5_reader_strings (rd, "/steering/svd/bottom_tokens", error);
          if (!r->svd_top || !r->svd_bottom || g_strv_length (r->svd_top) != (guint) (sv->k * sv->n_tokens))
            goto bad;
        }
    }
  if (cs_h5_reader_has (rd, "/steering/concepts/names"))
    {
      r->concept_names = cs_h5_reader_strings (rd, "/steering/concepts/names", error);
      r->concept_cos = cs_h5_reader_f64 (rd, "/steering/concepts/cosine", &rank, dims, error);
      if (!r->concept_names || !r->concept_cos || rank != 2 || (int) dims[0] != r->n_layers ||
          dims[1] != g_strv_length (r->concept_names))
        goto bad;
      r->n_concepts = (int) dims[1];
    }
  if (cs_h5_reader_has (rd, "/steering/sae/encoder_features"))
    {
      gsize k2 = 0, k2b = 0;
      r->sae_enc_idx = cs_h5_reader_i32 (rd, "/steering/sae/encoder_features", &k2, error);
      r->sae_dec_idx = cs_h5_reader_i32 (rd, "/steering/sae/decoder_features", &k2b, error);
      r->sae_enc_val = cs_h5_reader_f64 (rd, "/steering/sae/encoder_values", &rank, dims, error);
      r->sae_dec_val = cs_h5_reader_f64 (rd, "/steering/sae/decoder_cosines", &rank, dims, error);
      if (!r->sae_enc_idx || !r->sae_dec_idx || !r->sae_enc_val || !r->sae_dec_val || k2 != k2b || k2 % 2)
        goto bad;
      /* the rows' layers (one row, the vector's, in older workspaces) */
      if (cs_h5_reader_has (rd, "/steering/sae/layers"))
        {
          gsize nl = 0;
          if (!(r->sae_layers = cs_h5_reader_i32 (rd, "/steering/sae/layers", &nl, error)) || nl == 0 ||
              k2 % (2 * nl) != 0)
            goto bad;
          r->sae_n = (int) nl;
        }
      else
        {
          r->sae_n = 1;
          r->sae_layers = g_new (int, 1);
          r->sae_layers[0] = r->sae_layer;
        }
      r->sae_k = (int) (k2 / 2 / r->sae_n);
      /* labels came later: a workspace without them draws feature numbers */
      if (cs_h5_reader_has (rd, "/steering/sae/encoder_labels") && cs_h5_reader_has (rd, "/steering/sae/decoder_labels"))
        {
          r->sae_enc_labels = cs_h5_reader_strings (rd, "/steering/sae/encoder_labels", error);
          r->sae_dec_labels = cs_h5_reader_strings (rd, "/steering/sae/decoder_labels", error);
          if (!r->sae_enc_labels || !r->sae_dec_labels || g_strv_length (r->sae_enc_labels) != k2 ||
              g_strv_length (r->sae_dec_labels) != k2)
            goto bad;
        }
    }
  if (cs_h5_reader_has (rd, "/steering/sae_set/root"))
    {
      g_auto(GStrv) root = cs_h5_reader_strings (rd, "/steering/sae_set/root", error);
      if (!root || !root[0] || !(r->sae_set_choices = cs_h5_reader_strings (rd, "/steering/sae_set/choices", error)))
        goto bad;
      r->sae_set_root = g_strdup (root[0]);
    }
  if (cs_h5_reader_has (rd, "/steering/hierarchy/log_mass_change"))
    {
      r->hier_names = cs_h5_reader_strings (rd, "/steering/hierarchy/names", error);
      r->hier_roles = cs_h5_reader_strings (rd, "/steering/hierarchy/roles", error);
      r->hier_change = cs_h5_reader_f64 (rd, "/steering/hierarchy/log_mass_change", &rank, dims, error);
      if (!r->hier_names || !r->hier_roles || !r->hier_change || rank != 2 || !r->sweep ||
          dims[0] != g_strv_length (r->hier_names) || dims[0] != g_strv_length (r->hier_roles) ||
          (int) dims[1] != r->sweep->n_mult)
        goto bad;
      r->hier_n = (int) dims[0];
      r->hier_layer = (int) cs_json_int (o, "hierarchy_layer", -1);
    }
  if (cs_h5_reader_has (rd, "/steering/flow/node_layer"))
    {
      CsSaeFlow *f = g_new0 (CsSaeFlow, 1);
      gsize nn = 0, n2 = 0, n3 = 0, ne = 0;
      g_autofree gint32 *edges = NULL;
      double v;
      r->flow = f;
      f->node_layer = cs_h5_reader_i32 (rd, "/steering/flow/node_layer", &nn, error);
      f->node_latent = cs_h5_reader_i32 (rd, "/steering/flow/node_latent", &n2, error);
      f->node_delta = cs_h5_reader_f64 (rd, "/steering/flow/node_delta", &rank, dims, error);
      f->node_labels = cs_h5_reader_strings (rd, "/steering/flow/node_labels", error);
      edges = cs_h5_reader_i32 (rd, "/steering/flow/edges", &n3, error);
      f->edge_weight = cs_h5_reader_f64 (rd, "/steering/flow/edge_weight", &rank, dims, error);
      ne = dims[0];
      if (!f->node_layer || !f->node_latent || !f->node_delta || !f->node_labels || !edges || !f->edge_weight ||
          nn != n2 || g_strv_length (f->node_labels) != nn || n3 != 2 * ne)
        goto bad;
      f->n_nodes = (int) nn;
      f->n_edges = edges[0] < 0 ? 0 : (int) ne;
      f->edge_from = g_new (int, MAX (1, ne));
      f->edge_to = g_new (int, MAX (1, ne));
      for (int e = 0; e < f->n_edges; e++)
        {
          f->edge_from[e] = edges[2 * e];
          f->edge_to[e] = edges[2 * e + 1];
          if (f->edge_from[e] < 0 || f->edge_from[e] >= f->n_nodes || f->edge_to[e] < 0 || f->edge_to[e] >= f->n_nodes)
            goto bad;
        }
      f->steer_layer = cs_h5_reader_attr_double (rd, "flow_layer", &v) ? (int) v : f->node_layer[0];
      f->multiplier = cs_h5_reader_attr_double (rd, "flow_multiplier", &v) ? v : 0;
    }
  if (cs_h5_reader_has (rd, "/steering/generations/texts"))
    {
      g_auto(GStrv) pp = cs_h5_reader_strings (rd, "/steering/generations/prompt", error);
      r->gen_texts = cs_h5_reader_strings (rd, "/steering/generations/texts", error);
      r->gen_mult = cs_h5_reader_f64 (rd, "/steering/generations/multipliers", &rank, dims, error);
      if (!pp || !pp[0] || !r->gen_texts || !r->gen_mult || rank != 1 || dims[0] != g_strv_length (r->gen_texts))
        goto bad;
      r->gen_prompt = g_strdup (pp[0]);
      r->gen_n = (int) dims[0];
      if (cs_h5_reader_has (rd, "/steering/generations/ids"))
        {
          gsize ni = 0;
          r->gen_ids = cs_h5_reader_i32 (rd, "/steering/generations/ids", &ni, error);
          if (!r->gen_ids || ni % MAX (1, r->gen_n))
            goto bad;
          r->gen_tokens = (int) (ni / MAX (1, r->gen_n));
        }
      r->gen_layer = (int) cs_json_int (o, "generation_layer", -1);
    }
  return g_steal_pointer (&r);

bad:
  if (error && !*error)
    g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the steering results are inconsistent", path);
  return NULL;
}
