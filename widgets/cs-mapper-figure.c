#define G_LOG_DOMAIN "cs-figure"

#include "cs-mapper-figure.h"

#include <math.h>
#include <string.h>

void
cs_mapper_figure_init (CsMapperFigure *mf, const CsMapperGraph *g, const double *point_values,
                       const char *value_label, const int *point_group, guint n_groups,
                       const char * const *group_names)
{
  int n = g->n_nodes;

  memset (mf, 0, sizeof *mf);
  mf->size = g_new (int, MAX (1, n));
  mf->edges = g_new (int, MAX (1, g->n_edges * 2));
  mf->weights = g_new (double, MAX (1, g->n_edges));
  for (int v = 0; v < n; v++)
    mf->size[v] = g->nodes[v].n_members;
  for (int e = 0; e < g->n_edges; e++)
    {
      mf->edges[e * 2] = g->edges[e].source;
      mf->edges[e * 2 + 1] = g->edges[e].target;
      mf->weights[e] = g->edges[e].weight;
    }
  mf->fig.n_nodes = n;
  mf->fig.x = g->x;
  mf->fig.y = g->y;
  mf->fig.size = mf->size;
  mf->fig.n_edges = g->n_edges;
  mf->fig.edges = mf->edges;
  mf->fig.edge_weight = mf->weights;
  mf->fig.hover = -1;
  if (point_group && n_groups > 0)
    {
      mf->fractions = g_new0 (double, MAX (1, (gsize) n * n_groups));
      for (int v = 0; v < n; v++)
        {
          const CsMapperNode *node = &g->nodes[v];
          for (int t = 0; t < node->n_members; t++)
            {
              int k = point_group[node->members[t]];
              if (k >= 0 && k < (int) n_groups)
                mf->fractions[(gsize) v * n_groups + k] += 1.0 / node->n_members;
            }
        }
      mf->fig.n_groups = n_groups;
      mf->fig.group_names = group_names;
      mf->fig.fractions = mf->fractions;
    }
  else if (point_values)
    {
      mf->values = g_new (double, MAX (1, n));
      cs_mapper_node_means (g, point_values, mf->values);
      mf->fig.values = mf->values;
      mf->fig.value_label = value_label;
    }
  mf->caption = g_strdup_printf ("%d nodes · %d edges · %d component%s · cycle rank %d · %" G_GINT64_FORMAT
                                 " of %" G_GINT64_FORMAT " points in nodes",
                                 g->n_nodes, g->n_edges, g->n_components, g->n_components == 1 ? "" : "s",
                                 g->cycle_rank, g->n_covered, g->n_points);
  mf->fig.caption = mf->caption;
}

void
cs_mapper_figure_clear (CsMapperFigure *mf)
{
  g_free (mf->size);
  g_free (mf->edges);
  g_free (mf->weights);
  g_free (mf->values);
  g_free (mf->fractions);
  g_free (mf->caption);
  memset (mf, 0, sizeof *mf);
}

char *
cs_mapper_lens_markup (const char *lens)
{
  if (!lens)
    return g_strdup ("");
  if (g_str_has_prefix (lens, "vector:"))
    return g_markup_printf_escaped ("g·ℓ̄<sub>%s</sub>", lens + 7);
  if (g_str_has_prefix (lens, "pca"))
    return g_markup_printf_escaped ("PC %s", lens + 3);
  if (g_str_equal (lens, "l2"))
    return g_strdup ("‖x‖");
  return g_markup_escape_text (lens, -1);
}

char *
cs_mapper_title_markup (const char * const *lens_names, int n_lenses)
{
  g_autofree char *a = cs_mapper_lens_markup (lens_names ? lens_names[0] : NULL);
  g_autofree char *b = n_lenses > 1 ? cs_mapper_lens_markup (lens_names[1]) : NULL;
  return b ? g_strdup_printf ("Mapper graph · %s × %s", a, b) : g_strdup_printf ("Mapper graph · %s", a);
}
