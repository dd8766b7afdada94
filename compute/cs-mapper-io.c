#define G_LOG_DOMAIN "cs-mapper"

#include "cs-mapper.h"
#include "cs-mapper-private.h"
#include "cs-error.h"
#include "cs-json.h"
#include "cs-hdf5.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ values */

void
cs_mapper_node_means (const CsMapperGraph *g, const double *values, double *out)
{
  for (int v = 0; v < g->n_nodes; v++)
    {
      double s = 0;
      for (int t = 0; t < g->nodes[v].n_members; t++)
        s += values[g->nodes[v].members[t]];
      out[v] = g->nodes[v].n_members ? s / g->nodes[v].n_members : NAN;
    }
}

void
cs_mapper_nodes_with (const CsMapperGraph *g, const gint32 *points, int n, gboolean *out)
{
  g_autoptr(GHashTable) set = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (int i = 0; i < n; i++)
    g_hash_table_add (set, GINT_TO_POINTER (points[i] + 1));
  for (int v = 0; v < g->n_nodes; v++)
    {
      out[v] = FALSE;
      for (int t = 0; t < g->nodes[v].n_members && !out[v]; t++)
        out[v] = g_hash_table_contains (set, GINT_TO_POINTER (g->nodes[v].members[t] + 1));
    }
}

/* -------------------------------------------------------------------- save */

static JsonNode *
params_to_json (const CsMapperGraph *g, const char * const *lens_names)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const CsMapperParams *p = &g->params;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "lenses");
  json_builder_begin_array (b);
  for (int l = 0; l < p->n_lenses; l++)
    json_builder_add_string_value (b, lens_names && lens_names[l] ? lens_names[l] : "");
  json_builder_end_array (b);
  json_builder_set_member_name (b, "intervals");
  json_builder_add_int_value (b, p->intervals);
  json_builder_set_member_name (b, "overlap");
  json_builder_add_double_value (b, p->overlap);
  json_builder_set_member_name (b, "cover");
  json_builder_add_string_value (b, cs_mapper_cover_name (p->cover));
  json_builder_set_member_name (b, "cluster");
  json_builder_add_string_value (b, cs_mapper_cluster_name (p->cluster));
  if (p->cluster == CS_CLUSTER_DBSCAN)
    {
      json_builder_set_member_name (b, "eps");
      json_builder_add_double_value (b, g->eps);
      json_builder_set_member_name (b, "eps_automatic");
      json_builder_add_boolean_value (b, !(p->eps > 0));
      json_builder_set_member_name (b, "min_samples");
      json_builder_add_int_value (b, p->min_samples);
    }
  else
    {
      json_builder_set_member_name (b, "bins");
      json_builder_add_int_value (b, p->bins);
    }
  json_builder_set_member_name (b, "min_intersection");
  json_builder_add_int_value (b, p->min_intersection);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
cs_mapper_graph_to_json (const CsMapperGraph *g, const char * const *lens_names, const char * const *labels)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "parameters");
  json_builder_add_value (b, params_to_json (g, lens_names));
  json_builder_set_member_name (b, "n_points");
  json_builder_add_int_value (b, g->n_points);
  json_builder_set_member_name (b, "n_covered");
  json_builder_add_int_value (b, g->n_covered);
  json_builder_set_member_name (b, "n_nodes");
  json_builder_add_int_value (b, g->n_nodes);
  json_builder_set_member_name (b, "n_edges");
  json_builder_add_int_value (b, g->n_edges);
  json_builder_set_member_name (b, "components");
  json_builder_add_int_value (b, g->n_components);
  json_builder_set_member_name (b, "cycle_rank");
  json_builder_add_int_value (b, g->cycle_rank);
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (int v = 0; v < g->n_nodes; v++)
    {
      const CsMapperNode *node = &g->nodes[v];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, v);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, node->n_members);
      json_builder_set_member_name (b, "element");
      json_builder_begin_array (b);
      for (int l = 0; l < g->params.n_lenses; l++)
        json_builder_add_int_value (b, node->element[l]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "lens_mean");
      json_builder_begin_array (b);
      for (int l = 0; l < g->params.n_lenses; l++)
        json_builder_add_double_value (b, node->lens_mean[l]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "component");
      json_builder_add_int_value (b, g->component[v]);
      if (g->x)
        {
          json_builder_set_member_name (b, "x");
          json_builder_add_double_value (b, g->x[v]);
          json_builder_set_member_name (b, "y");
          json_builder_add_double_value (b, g->y[v]);
        }
      json_builder_set_member_name (b, "members");
      json_builder_begin_array (b);
      for (int t = 0; t < node->n_members; t++)
        json_builder_add_int_value (b, node->members[t]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "edges");
  json_builder_begin_array (b);
  for (int e = 0; e < g->n_edges; e++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "source");
      json_builder_add_int_value (b, g->edges[e].source);
      json_builder_set_member_name (b, "target");
      json_builder_add_int_value (b, g->edges[e].target);
      json_builder_set_member_name (b, "shared");
      json_builder_add_int_value (b, g->edges[e].shared);
      json_builder_set_member_name (b, "weight");
      json_builder_add_double_value (b, g->edges[e].weight);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  if (labels)
    {
      json_builder_set_member_name (b, "labels");
      json_builder_begin_array (b);
      for (gint64 i = 0; i < g->n_points; i++)
        json_builder_add_string_value (b, labels[i] ? labels[i] : "");
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
cs_mapper_graph_save_json (const CsMapperGraph *g, const char * const *lens_names, const char * const *labels,
                           const char *path, GError **error)
{
  g_autoptr(JsonNode) root = cs_mapper_graph_to_json (g, lens_names, labels);
  gsize len = 0;
  g_autofree char *text = cs_json_to_data (root, FALSE, &len);
  if (!g_file_set_contents (path, text, len, error))   /* writes a temporary file and renames it */
    return FALSE;
  return TRUE;
}

gboolean
cs_mapper_graph_save_h5 (const CsMapperGraph *g, const char * const *lens_names, const gint32 *point_ids,
                         const char *points, const char *path, GError **error)
{
  g_autoptr(CsH5Writer) w = cs_h5_writer_new_update (path, "/mapper", error);
  g_autofree gint32 *offsets = NULL, *members = NULL, *elements = NULL, *edges = NULL;
  g_autofree double *means = NULL, *weights = NULL, *layout = NULL;
  g_autoptr(JsonNode) params = NULL;
  g_autofree char *ptext = NULL;
  const char *ps[1];
  const char *names[3] = { NULL, NULL, NULL };
  gint64 total = 0;
  gsize dims[2];
  int nn = g->n_nodes, ne = g->n_edges;

  if (!w)
    return FALSE;
  for (int v = 0; v < nn; v++)
    total += g->nodes[v].n_members;
  if (total > G_MAXINT32)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the graph's memberships are too many to store (%" G_GINT64_FORMAT ")", total);
      return FALSE;
    }
  offsets = g_new (gint32, nn + 1);
  members = g_new (gint32, MAX (1, total));
  elements = g_new (gint32, MAX (1, nn * 2));
  means = g_new (double, MAX (1, nn * 2));
  layout = g_new (double, MAX (1, nn * 2));
  edges = g_new (gint32, MAX (1, ne * 3));
  weights = g_new (double, MAX (1, ne));
  offsets[0] = 0;
  for (int v = 0; v < nn; v++)
    {
      memcpy (members + offsets[v], g->nodes[v].members, sizeof (gint32) * g->nodes[v].n_members);
      offsets[v + 1] = offsets[v] + g->nodes[v].n_members;
      for (int l = 0; l < 2; l++)
        {
          elements[v * 2 + l] = g->nodes[v].element[l];
          means[v * 2 + l] = g->nodes[v].lens_mean[l];
        }
      layout[v * 2] = g->x ? g->x[v] : NAN;
      layout[v * 2 + 1] = g->y ? g->y[v] : NAN;
    }
  for (int e = 0; e < ne; e++)
    {
      edges[e * 3] = g->edges[e].source;
      edges[e * 3 + 1] = g->edges[e].target;
      edges[e * 3 + 2] = g->edges[e].shared;
      weights[e] = g->edges[e].weight;
    }
  params = params_to_json (g, lens_names);
  {
    JsonObject *o = json_node_get_object (params);
    json_object_set_int_member (o, "n_points", g->n_points);
    json_object_set_double_member (o, "lens_min_0", g->lens_min[0]);
    json_object_set_double_member (o, "lens_max_0", g->lens_max[0]);
    json_object_set_double_member (o, "lens_min_1", g->lens_min[1]);
    json_object_set_double_member (o, "lens_max_1", g->lens_max[1]);
    if (points)
      json_object_set_string_member (o, "points", points);
  }
  ptext = cs_json_to_data (params, FALSE, NULL);
  ps[0] = ptext;
  for (int l = 0; l < g->params.n_lenses; l++)
    names[l] = lens_names && lens_names[l] ? lens_names[l] : "";
  dims[0] = nn + 1;
  if (!cs_h5_writer_add_i32 (w, "/mapper/node_offsets", 1, dims, offsets, error))
    return FALSE;
  dims[0] = total;
  if (total && !cs_h5_writer_add_i32 (w, "/mapper/node_members", 1, dims, members, error))
    return FALSE;
  dims[0] = nn;
  dims[1] = 2;
  if (nn && (!cs_h5_writer_add_i32 (w, "/mapper/node_element", 2, dims, elements, error) ||
             !cs_h5_writer_add_f64 (w, "/mapper/node_lens_mean", 2, dims, means, error) ||
             !cs_h5_writer_add_f64 (w, "/mapper/layout", 2, dims, layout, error)))
    return FALSE;
  dims[0] = ne;
  dims[1] = 3;
  if (ne && !cs_h5_writer_add_i32 (w, "/mapper/edges", 2, dims, edges, error))
    return FALSE;
  dims[0] = ne;
  if (ne && !cs_h5_writer_add_f64 (w, "/mapper/edge_weight", 1, dims, weights, error))
    return FALSE;
  dims[0] = g->n_points;
  if (point_ids && !cs_h5_writer_add_i32 (w, "/mapper/point_ids", 1, dims, point_ids, error))
    return FALSE;
  if (!cs_h5_writer_add_strings (w, "/mapper/lenses", names, g->params.n_lenses, error) ||
      !cs_h5_writer_add_strings (w, "/mapper/parameters", ps, 1, error))
    return FALSE;
  return cs_h5_writer_commit (w, error);
}

CsMapperGraph *
cs_mapper_graph_load_h5 (const char *path, GStrv *lens_names, gint32 **point_ids, char **points, GError **error)
{
  g_autoptr(CsH5Reader) r = cs_h5_reader_open (path, error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) pstr = NULL;
  g_autofree gint32 *offsets = NULL, *elements = NULL, *edges = NULL;
  g_autofree double *means = NULL, *layout = NULL, *weights = NULL;
  gsize n_off = 0, n_el = 0, n_edges3 = 0, dims[8];
  int rank;
  JsonObject *o;
  CsMapperGraph *g;
  int nn;

  if (!r)
    return NULL;
  if (!cs_h5_reader_has (r, "/mapper/parameters"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s holds no Mapper graph", path);
      return NULL;
    }
  pstr = cs_h5_reader_strings (r, "/mapper/parameters", error);
  if (!pstr || !pstr[0] || !cs_json_parse (parser, pstr[0], -1, error) ||
      !cs_json_root_object (parser))
    {
      if (error && !*error)
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the Mapper parameters are unreadable", path);
      return NULL;
    }
  o = cs_json_root_object (parser);
  offsets = cs_h5_reader_i32 (r, "/mapper/node_offsets", &n_off, error);
  if (!offsets || n_off < 1)
    return NULL;
  nn = (int) n_off - 1;
  g = g_new0 (CsMapperGraph, 1);
  cs_mapper_params_init (&g->params);
  g->params.n_lenses = cs_json_array (o, "lenses") ?
                       (int) json_array_get_length (cs_json_array (o, "lenses")) : 1;
  g->params.intervals = (int) cs_json_int (o, "intervals", g->params.intervals);
  g->params.overlap = cs_json_double (o, "overlap", g->params.overlap);
  g->params.cover = g_strcmp0 (cs_json_string (o, "cover", ""), "balanced") == 0 ?
                    CS_COVER_BALANCED : CS_COVER_UNIFORM;
  g->params.cluster = g_strcmp0 (cs_json_string (o, "cluster", ""), "single-linkage") == 0 ?
                      CS_CLUSTER_SINGLE_LINKAGE : CS_CLUSTER_DBSCAN;
  g->eps = cs_json_double (o, "eps", 0);
  if (!cs_json_bool (o, "eps_automatic", TRUE))
    g->params.eps = g->eps;
  g->params.min_samples = (int) cs_json_int (o, "min_samples", g->params.min_samples);
  g->params.bins = (int) cs_json_int (o, "bins", g->params.bins);
  g->params.min_intersection = (int) cs_json_int (o, "min_intersection", g->params.min_intersection);
  g->n_points = cs_json_int (o, "n_points", 0);
  g->lens_min[0] = cs_json_double (o, "lens_min_0", 0);
  g->lens_max[0] = cs_json_double (o, "lens_max_0", 0);
  g->lens_min[1] = cs_json_double (o, "lens_min_1", 0);
  g->lens_max[1] = cs_json_double (o, "lens_max_1", 0);
  g->n_nodes = nn;
  g->nodes = g_new0 (CsMapperNode, MAX (1, nn));
  if (offsets[nn] > 0)
    {
      gsize nm = 0;
      g->storage = cs_h5_reader_i32 (r, "/mapper/node_members", &nm, error);
      if (!g->storage || (gsize) offsets[nn] != nm)
        goto bad;
    }
  else
    g->storage = g_new (gint32, 1);
  if (nn)
    {
      elements = cs_h5_reader_i32 (r, "/mapper/node_element", &n_el, error);
      means = cs_h5_reader_f64 (r, "/mapper/node_lens_mean", &rank, dims, error);
      layout = cs_h5_reader_f64 (r, "/mapper/layout", &rank, dims, error);
      if (!elements || !means || !layout || n_el != (gsize) nn * 2)
        goto bad;
    }
  for (int v = 0; v < nn; v++)
    {
      if (offsets[v] < 0 || offsets[v + 1] < offsets[v] || offsets[v + 1] > offsets[nn])
        goto bad;
      g->nodes[v].members = g->storage + offsets[v];
      g->nodes[v].n_members = offsets[v + 1] - offsets[v];
      for (int t = 0; t < g->nodes[v].n_members; t++)
        if (g->nodes[v].members[t] < 0 || g->nodes[v].members[t] >= g->n_points)
          goto bad;
      for (int l = 0; l < 2; l++)
        {
          g->nodes[v].element[l] = elements[v * 2 + l];
          g->nodes[v].lens_mean[l] = means[v * 2 + l];
        }
    }
  if (nn && isfinite (layout[0]))
    {
      g->x = g_new (double, nn);
      g->y = g_new (double, nn);
      for (int v = 0; v < nn; v++)
        {
          g->x[v] = layout[v * 2];
          g->y[v] = layout[v * 2 + 1];
        }
    }
  if (cs_h5_reader_has (r, "/mapper/edges"))
    {
      edges = cs_h5_reader_i32 (r, "/mapper/edges", &n_edges3, error);
      weights = cs_h5_reader_f64 (r, "/mapper/edge_weight", &rank, dims, error);
      if (!edges || !weights || n_edges3 % 3)
        goto bad;
      g->n_edges = (int) (n_edges3 / 3);
      g->edges = g_new (CsMapperEdge, g->n_edges);
      for (int e = 0; e < g->n_edges; e++)
        {
          g->edges[e].source = edges[e * 3];
          g->edges[e].target = edges[e * 3 + 1];
          g->edges[e].shared = edges[e * 3 + 2];
          g->edges[e].weight = weights[e];
          if (g->edges[e].source < 0 || g->edges[e].source >= nn || g->edges[e].target < 0 || g->edges[e].target >= nn)
            goto bad;
        }
    }
  {
    /* points covered */
    g_autofree gboolean *hit = g_new0 (gboolean, MAX (1, g->n_points));
    for (int v = 0; v < nn; v++)
      for (int t = 0; t < g->nodes[v].n_members; t++)
        hit[g->nodes[v].members[t]] = TRUE;
    for (gint64 i = 0; i < g->n_points; i++)
      g->n_covered += hit[i];
  }
  mapper_graph_finish (g);
  if (point_ids)
    {
      gsize np = 0;
      *point_ids = cs_h5_reader_has (r, "/mapper/point_ids") ? cs_h5_reader_i32 (r, "/mapper/point_ids", &np, NULL) : NULL;
      if (*point_ids && (gint64) np != g->n_points)
        g_clear_pointer (point_ids, g_free);
    }
  if (points)
    *points = g_strdup (cs_json_string (o, "points", ""));
  if (lens_names)
    *lens_names = cs_h5_reader_strings (r, "/mapper/lenses", NULL);
  return g;

bad:
  if (error && !*error)
    g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the Mapper graph stored there is inconsistent", path);
  else if (error)
    g_prefix_error (error, "%s: the Mapper graph: ", path);
  cs_mapper_graph_free (g);
  return NULL;
}
