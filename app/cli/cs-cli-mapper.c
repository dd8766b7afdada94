#define G_LOG_DOMAIN "conceptscope-cli"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs-json.h"
#include "cs-cli-commands.h"
#include "cs-error.h"
#include "cs-mapper-figure.h"
#include "cs-mapper-run.h"
#include "cs-model.h"
#include "cs-points.h"
#include "cs-tokenizer.h"
#include "cs-workspace.h"

typedef struct
{
  CsMapperFigure mf;
  const char    *title;
} DrawData;

static void
draw_graph (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  DrawData *d = data;
  d->mf.fig.title = d->title;
  cs_figure_draw_graph (cr, 0, 0, w, h, s, &d->mf.fig);
}

int
cs_cli_mapper (int argc, char **argv)
{
  g_autofree char *input = NULL, *workspace = NULL, *categories = NULL, *lens1 = NULL, *lens2 = NULL;
  g_autofree char *cover = NULL, *cluster = NULL, *output = NULL, *figure = NULL, *preset = NULL, *theme = NULL;
  g_autofree char *color_by = NULL, *title = NULL;
  CsMapperParams dflt;   /* the engine's defaults: the one place they are set */
  cs_mapper_params_init (&dflt);
  int intervals = dflt.intervals, min_samples = dflt.min_samples, bins = dflt.bins,
      min_intersection = dflt.min_intersection, seed = 0;
  double overlap = dflt.overlap, eps = dflt.eps, scale = 2;
  g_autofree char *eps_s = NULL;
  gboolean json = FALSE, no_save = FALSE;
  GOptionEntry entries[] = {
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input, "Points: FILE.h5:/dataset or FILE.csv", "FILE" },
    { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, &workspace, "Points: rows of g of a workspace's categories (the graph is saved in it)", "WS.h5" },
    { "categories", 'c', 0, G_OPTION_ARG_STRING, &categories, "With --workspace: the categories whose tokens are the points", "A,B" },
    { "lens", 0, 0, G_OPTION_ARG_STRING, &lens1, "pca1|pca2|l2|density|eccentricity|knn:K|vector:NAME|column:I", "LENS" },
    { "lens2", 0, 0, G_OPTION_ARG_STRING, &lens2, "A second lens (a 2-D cover)", "LENS" },
    { "intervals", 'n', 0, G_OPTION_ARG_INT, &intervals, "Intervals per lens (10)", "N" },
    { "overlap", 0, 0, G_OPTION_ARG_DOUBLE, &overlap, "Overlap fraction of neighbouring intervals (0.3)", "F" },
    { "cover", 0, 0, G_OPTION_ARG_STRING, &cover, "uniform (default) or balanced", "C" },
    { "cluster", 0, 0, G_OPTION_ARG_STRING, &cluster, "dbscan (default) or single-linkage", "C" },
    { "eps", 0, 0, G_OPTION_ARG_STRING, &eps_s, "DBSCAN radius, above 0 (default: from the k-distance knee)", "E" },
    { "min-samples", 0, 0, G_OPTION_ARG_INT, &min_samples, "DBSCAN: points within eps for a core point (5)", "M" },
    { "bins", 0, 0, G_OPTION_ARG_INT, &bins, "Single linkage: histogram bins for the cut (10)", "B" },
    { "min-intersection", 0, 0, G_OPTION_ARG_INT, &min_intersection, "Shared points for an edge (1)", "K" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Layout seed (0)", "S" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The graph as JSON", "GRAPH.json" },
    { "figure", 0, 0, G_OPTION_ARG_FILENAME, &figure, "The graph drawn: .png, .svg or .pdf", "FILE" },
    { "color-by", 0, 0, G_OPTION_ARG_STRING, &color_by, "Node colour: categories (pies), lens, lens2 or any lens spec", "WHAT" },
    { "preset", 0, 0, G_OPTION_ARG_STRING, &preset, "Figure: slide (default), square or column", "P" },
    { "theme", 0, 0, G_OPTION_ARG_STRING, &theme, "Figure: light (default), dark or transparent", "T" },
    { "scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "Figure: PNG pixels per point (2)", "S" },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Figure title", "TEXT" },
    { "no-save", 0, 0, G_OPTION_ARG_NONE, &no_save, "With --workspace: do not store the graph in it", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the summary as JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— a Mapper graph of points");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsWorkspace) ws = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autoptr(CsGeometrySpace) space = NULL;
  g_autoptr(CsPoints) pts = NULL;
  g_autoptr(CsMapperRun) run = NULL;
  CsMapperRunParams run_params;
  const CsMapperGraph *graph;
  const double *lens;
  const char *name1, *name2;
  g_autofree double *colour = NULL;
  g_autofree char *colour_name = NULL;
  const char *lens_names[3] = { NULL, NULL, NULL };
  CsMapperParams p;
  gint64 t0, t1;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "The cover, clustering and nerve are defined exactly in docs/mapper.md.\n"
    "Example: conceptscope-cli mapper --workspace ws.h5 --categories animal --lens vector:mammal\n"
    "         --lens2 vector:bird --intervals 8 --overlap 0.4 --output graph.json --figure graph.svg");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if ((!input == !workspace) || !lens1 || !output)
    {
      fprintf (stderr, "conceptscope-cli mapper: give one of --input FILE or --workspace WS.h5 --categories A,B; "
                       "and --lens and --output\n");
      return 2;
    }
  if (eps_s)
    {
      /* given, it is used: 0, a negative or a non-number is an error, not
       * a silent switch to the automatic radius */
      char *end = NULL;
      eps = g_ascii_strtod (eps_s, &end);
      if (!end || *end || !isfinite (eps) || !(eps > 0))
        {
          fprintf (stderr, "conceptscope-cli mapper: --eps is a radius above 0, not '%s' (leave it out for the "
                           "automatic one)\n", eps_s);
          return 2;
        }
    }
  cs_mapper_params_init (&p);
  p.n_lenses = lens2 ? 2 : 1;
  p.intervals = intervals;
  p.overlap = overlap;
  p.eps = eps;
  p.min_samples = min_samples;
  p.bins = bins;
  p.min_intersection = min_intersection;
  if (cover && !g_str_equal (cover, "uniform") && !g_str_equal (cover, "balanced"))
    {
      fprintf (stderr, "conceptscope-cli mapper: --cover is uniform or balanced\n");
      return 2;
    }
  p.cover = cover && g_str_equal (cover, "balanced") ? CS_COVER_BALANCED : CS_COVER_UNIFORM;
  if (cluster && !g_str_equal (cluster, "dbscan") && !g_str_equal (cluster, "single-linkage"))
    {
      fprintf (stderr, "conceptscope-cli mapper: --cluster is dbscan or single-linkage\n");
      return 2;
    }
  p.cluster = cluster && g_str_equal (cluster, "single-linkage") ? CS_CLUSTER_SINGLE_LINKAGE : CS_CLUSTER_DBSCAN;

  t0 = g_get_monotonic_time ();
  if (input)
    {
      const char *colon = strrchr (input, ':');
      if (g_str_has_suffix (input, ".csv") || g_str_has_suffix (input, ".CSV"))
        pts = cs_points_from_csv (input, &error);
      else if (colon && colon[1] == '/')
        {
          g_autofree char *file = g_strndup (input, colon - input);
          pts = cs_points_from_h5 (file, colon + 1, &error);
        }
      else
        {
          fprintf (stderr, "conceptscope-cli mapper: --input is FILE.h5:/dataset or FILE.csv, got '%s'\n", input);
          return 2;
        }
    }
  else
    {
      g_auto(GStrv) names = NULL;
      g_autoptr(GArray) idx = g_array_new (FALSE, FALSE, sizeof (int));
      g_autoptr(CsTokenizer) tok = NULL;
      if (!categories)
        {
          fprintf (stderr, "conceptscope-cli mapper: --workspace needs --categories A,B\n");
          return 2;
        }
      ws = cs_workspace_load (workspace, &error);
      if (!ws)
        return cs_cli_fail (g_steal_pointer (&error));
      if (!ws->geometry)
        {
          fprintf (stderr, "conceptscope-cli mapper: %s holds no categories (make them with conceptscope-cli geometry)\n",
                   workspace);
          return 1;
        }
      names = g_strsplit (categories, ",", -1);
      for (guint i = 0; names[i]; i++)
        {
          int c = cs_category_set_find (ws->geometry->categories, g_strstrip (names[i]));
          if (c < 0)
            {
              g_autoptr(GString) all = g_string_new (NULL);
              for (guint k = 0; k < ws->geometry->categories->items->len; k++)
                g_string_append_printf (all, "%s%s", k ? ", " : "", cs_category_set_get (ws->geometry->categories, k)->name);
              fprintf (stderr, "conceptscope-cli mapper: the workspace has no category '%s' (it has: %s)\n",
                       names[i], all->str);
              return 1;
            }
          g_array_append_val (idx, c);
        }
      space = cs_cli_workspace_space (ws, &model, &error);
      if (!space)
        return cs_cli_fail (g_steal_pointer (&error));
      tok = cs_cli_load_tokenizer (ws->model_path, NULL, NULL);
      pts = cs_points_from_geometry (space, ws->geometry, tok, (const int *) idx->data, (int) idx->len, &error);
    }
  if (!pts)
    return cs_cli_fail (g_steal_pointer (&error));

  if (!ws && ((lens1 && g_str_has_prefix (lens1, "vector:")) || (lens2 && g_str_has_prefix (lens2, "vector:"))))
    {
      fprintf (stderr, "conceptscope-cli mapper: vector lenses are concept vectors of a workspace: use --workspace "
                       "WS.h5 --categories …\n");
      return 1;
    }
  cs_mapper_run_params_init (&run_params);
  run_params.graph = p;
  run_params.lens[0] = lens1;
  run_params.lens[1] = lens2;
  run_params.seed = (guint) seed;
  run_params.geometry = ws ? ws->geometry : NULL;
  t1 = g_get_monotonic_time ();
  run = cs_mapper_run (pts->X, pts->n, pts->d, &run_params, cs_cli_progress, "building the graph",
                       cs_cli_cancellable (), &error);
  cs_cli_progress_done ();
  if (!run)
    return cs_cli_fail_or_cancel (g_steal_pointer (&error));
  graph = run->graph;
  lens = run->lens;
  name1 = run->lens_names[0];
  name2 = run->lens_names[1];
  lens_names[0] = name1;
  lens_names[1] = name2;

  {
    /* the graph, with what each point is: token ids and categories when the
     * points are tokens */
    g_autoptr(JsonNode) root = cs_mapper_graph_to_json (graph, lens_names, (const char * const *) pts->labels);
    JsonObject *o = json_node_get_object (root);
    g_autofree char *text = NULL;
    gsize len = 0;
    if (pts->token_ids)
      {
        JsonArray *a = json_array_sized_new ((guint) pts->n);
        for (gint64 i = 0; i < pts->n; i++)
          json_array_add_int_element (a, pts->token_ids[i]);
        json_object_set_array_member (o, "token_ids", a);
      }
    if (pts->group_names)
      {
        JsonArray *a = json_array_sized_new ((guint) pts->n), *names = json_array_new ();
        for (gint64 i = 0; i < pts->n; i++)
          json_array_add_int_element (a, pts->group[i]);
        for (guint k = 0; pts->group_names[k]; k++)
          json_array_add_string_element (names, pts->group_names[k]);
        json_object_set_array_member (o, "groups", a);
        json_object_set_array_member (o, "group_names", names);
      }
    text = cs_json_to_data (root, FALSE, &len);
    if (!g_file_set_contents (output, text, len, &error))
      return cs_cli_fail (g_steal_pointer (&error));
  }
  if (workspace && !no_save && !cs_mapper_graph_save_h5 (graph, lens_names, pts->token_ids, categories, workspace, &error))
    return cs_cli_fail (g_steal_pointer (&error));

  if (figure)
    {
      CsFigureStyle style = { 0 };
      DrawData d = { { { 0 } } };
      gboolean pies;
      if (!cs_figure_theme_parse (theme, &style.theme) || !cs_figure_style_preset (preset, &style))
        {
          fprintf (stderr, "conceptscope-cli mapper: --preset is slide, square or column; --theme light, dark or transparent\n");
          return 2;
        }
      pies = color_by ? g_str_equal (color_by, "categories") : (pts->group_names && g_strv_length (pts->group_names) > 1);
      if (pies && !pts->group_names)
        {
          fprintf (stderr, "conceptscope-cli mapper: --color-by categories needs points with categories: a "
                   "workspace's tokens, or a CSV whose label column names a few classes\n");
          return 2;
        }
      if (!pies)
        {
          if (!color_by || g_str_equal (color_by, "lens") || g_str_equal (color_by, "lens2"))
            {
              int l = color_by && g_str_equal (color_by, "lens2") && lens2 ? 1 : 0;
              colour = g_new (double, pts->n);
              for (gint64 i = 0; i < pts->n; i++)
                colour[i] = lens[i * p.n_lenses + l];
              g_autofree char *lm = cs_mapper_lens_markup (lens_names[l]);
              colour_name = g_strdup_printf ("mean %s", lm);
            }
          else
            {
              g_autofree char *nm = NULL;
              colour = g_new (double, pts->n);
              if (!cs_mapper_lens_values (color_by, pts->X, pts->n, pts->d, ws ? ws->geometry : NULL, colour, &nm,
                                          NULL, &error))
                return cs_cli_fail (g_steal_pointer (&error));
              g_autofree char *lm = cs_mapper_lens_markup (nm);
              colour_name = g_strdup_printf ("mean %s", lm);
            }
        }
      {
        g_autoptr(GPtrArray) gnames = g_ptr_array_new_with_free_func (g_free);
        if (pies)
          for (guint k = 0; pts->group_names[k]; k++)
            g_ptr_array_add (gnames, g_markup_escape_text (pts->group_names[k], -1));
        cs_mapper_figure_init (&d.mf, graph, colour, colour_name, pies ? pts->group : NULL, pies ? gnames->len : 0,
                               (const char * const *) gnames->pdata);
        g_autofree char *auto_title = cs_mapper_title_markup (lens_names, p.n_lenses);
        d.title = title ? title : auto_title;
        if (!cs_figure_export (figure, &style, scale, draw_graph, &d, &error))
          {
            cs_mapper_figure_clear (&d.mf);
            return cs_cli_fail (g_steal_pointer (&error));
          }
        cs_mapper_figure_clear (&d.mf);
      }
    }

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "points");
      json_builder_add_int_value (b, pts->n);
      json_builder_set_member_name (b, "dimensions");
      json_builder_add_int_value (b, pts->d);
      json_builder_set_member_name (b, "nodes");
      json_builder_add_int_value (b, graph->n_nodes);
      json_builder_set_member_name (b, "edges");
      json_builder_add_int_value (b, graph->n_edges);
      json_builder_set_member_name (b, "components");
      json_builder_add_int_value (b, graph->n_components);
      json_builder_set_member_name (b, "cycle_rank");
      json_builder_add_int_value (b, graph->cycle_rank);
      json_builder_set_member_name (b, "covered");
      json_builder_add_int_value (b, graph->n_covered);
      if (p.cluster == CS_CLUSTER_DBSCAN)
        {
          json_builder_set_member_name (b, "eps");
          json_builder_add_double_value (b, graph->eps);
        }
      json_builder_set_member_name (b, "lens_seconds");
      json_builder_add_double_value (b, (t1 - t0) / 1e6 + run->lens_seconds);
      json_builder_set_member_name (b, "graph_seconds");
      json_builder_add_double_value (b, run->graph_seconds);
      json_builder_set_member_name (b, "layout_seconds");
      json_builder_add_double_value (b, run->layout_seconds);
      json_builder_end_object (b);
      cs_cli_print_json (json_builder_get_root (b));
    }
  else
    {
      printf ("%" G_GINT64_FORMAT " points × %d; lens %s%s%s; %d intervals, overlap %g, %s cover; %s",
              pts->n, pts->d, name1, name2 ? " × " : "", name2 ? name2 : "", graph->params.intervals, overlap,
              cs_mapper_cover_name (p.cover), cs_mapper_cluster_name (p.cluster));
      if (p.cluster == CS_CLUSTER_DBSCAN)
        printf (" (eps %.4g%s, min-samples %d)", graph->eps, eps > 0 ? "" : " from the k-distance knee", min_samples);
      printf ("\n%d nodes, %d edges, %d component%s, cycle rank %d; %" G_GINT64_FORMAT " points in nodes; "
              "graph built in %.3f s\n",
              graph->n_nodes, graph->n_edges, graph->n_components, graph->n_components == 1 ? "" : "s",
              graph->cycle_rank, graph->n_covered, run->graph_seconds);
      printf ("graph: %s%s%s%s%s\n", output, figure ? ", figure: " : "", figure ? figure : "",
              workspace && !no_save ? ", stored in " : "", workspace && !no_save ? workspace : "");
    }
  return 0;
}
