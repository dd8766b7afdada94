#define G_LOG_DOMAIN "conceptscope-cli"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs-cli-commands.h"
#include "cs-figure.h"
#include "cs-geometry-figure.h"
#include "cs-geometry.h"
#include "cs-steer-figure.h"
#include "cs-patch-figure.h"
#include "cs-model.h"
#include "cs-tokenizer.h"
#include "cs-workspace.h"

typedef struct
{
  CsWorkspace     *ws;
  CsModel         *model;
  CsGeometrySpace *space;
  gboolean         show_unreliable;
  gboolean         held_out_only;
  /* projection panels */
  guint            n_panels;
  CsProjection    *proj[3];
  CsAxis           ax[3], ay[3];
  CsGeometryPlane  plane[3];
  char            *title[3];
  GArray          *label_ids;      /* gint32 */
  GPtrArray       *label_texts;    /* char*, markup */
} FigureData;

static void
draw_projections (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  FigureData *d = user_data;
  double pw = w / d->n_panels;

  for (guint k = 0; k < d->n_panels; k++)
    {
      CsProjectionFigure fig = d->plane[k].figure;
      fig.title = d->title[k];
      fig.held_out_only = d->held_out_only;
      if (d->label_ids)
        {
          fig.label_ids = (const gint32 *) d->label_ids->data;
          fig.label_texts = (const char * const *) d->label_texts->pdata;
          fig.n_labels = d->label_ids->len;
        }
      cs_figure_draw_projection (cr, k * pw, 0, pw, h, s, &fig);
    }
}

typedef struct
{
  CsSteerReport     *report;
  CsSteerFigureKind  kind;
} SteerDraw;

static void
draw_steering (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  SteerDraw *d = user_data;
  cs_steer_figure_draw (cr, 0, 0, w, h, s, d->report, d->kind);
}

typedef struct
{
  CsPatchResult *result;
  const char    *title;
} PatchDraw;

static void
draw_patching (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  PatchDraw *d = user_data;
  cs_patch_figure_draw (cr, 0, 0, w, h, s, d->result, d->title);
}

typedef struct
{
  CsFvResult     *result;
  CsFvFigureKind  kind;
  const char     *title;
} FvDraw;

static void
draw_fv (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  FvDraw *d = user_data;
  cs_fv_figure_draw (cr, 0, 0, w, h, s, d->result, d->kind, d->title);
}

static void
draw_heatmap (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  cs_figure_draw_heatmap (cr, 0, 0, w, h, s, user_data);
}

static void
draw_validation (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  cs_figure_draw_validation (cr, 0, 0, w, h, s, user_data);
}

static void
draw_orthogonality (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  cs_figure_draw_orthogonality (cr, 0, 0, w, h, s, user_data);
}

static int
find_category (CsGeometry *g, const char *name, GError **error)
{
  int i = cs_category_set_find (g->categories, name);
  if (i < 0)
    {
      g_autoptr(GString) names = g_string_new (NULL);
      for (guint k = 0; k < g->categories->items->len; k++)
        g_string_append_printf (names, "%s%s", k ? ", " : "", cs_category_set_get (g->categories, k)->name);
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "the workspace has no category '%s' (it has: %s)", name, names->str);
    }
  return i;
}

/* Words to write next to their dot, found by the vocabulary's conventions. */
static gboolean
find_labels (FigureData *d, const char *words, GError **error)
{
  g_autofree char *tp = g_build_filename (d->ws->model_path, "tokenizer.json", NULL);
  g_autoptr(CsTokenizer) tok = cs_tokenizer_load (tp, error);
  g_auto(GStrv) list = g_strsplit (words, ",", -1);

  if (!tok)
    return FALSE;
  d->label_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  d->label_texts = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; list[i]; i++)
    {
      const char *w = g_strstrip (list[i]);
      const char *prefixes[] = { "\xc4\xa0", "\xe2\x96\x81", "" };
      gint32 id = -1;
      for (guint k = 0; k < G_N_ELEMENTS (prefixes) && id < 0; k++)
        {
          g_autofree char *t = g_strconcat (prefixes[k], w, NULL);
          id = cs_tokenizer_token_to_id (tok, t);
        }
      if (!*w)
        continue;
      if (id < 0 || id >= d->ws->vocab)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--label: '%s' is not one token of this model", w);
          return FALSE;
        }
      g_array_append_val (d->label_ids, id);
      g_ptr_array_add (d->label_texts, g_markup_escape_text (w, -1));
    }
  g_ptr_array_add (d->label_texts, NULL);
  return TRUE;
}

static void
draw_wordnet_heatmaps (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  cs_figure_draw_wordnet_heatmaps (cr, 0, 0, w, h, s, user_data);
}

static void
draw_histograms (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  cs_figure_draw_histograms (cr, 0, 0, w, h, s, user_data);
}

static void
draw_simplex (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  cs_figure_draw_simplex (cr, 0, 0, w, h, s, user_data);
}

/* An axis "A" or "A-B" (the first '-' whose sides both name categories). */
static gboolean
parse_axis (CsGeometry *g, const char *text, CsAxis *axis, GError **error)
{
  if (cs_category_set_find (g->categories, text) >= 0)
    {
      *axis = (CsAxis) { cs_category_set_find (g->categories, text), -1 };
      return TRUE;
    }
  for (const char *dash = strchr (text, '-'); dash; dash = strchr (dash + 1, '-'))
    {
      g_autofree char *left = g_strndup (text, dash - text);
      if (cs_category_set_find (g->categories, left) >= 0 && cs_category_set_find (g->categories, dash + 1) >= 0)
        {
          *axis = (CsAxis) { cs_category_set_find (g->categories, left), cs_category_set_find (g->categories, dash + 1) };
          return TRUE;
        }
    }
  return find_category (g, text, error) >= 0;   /* says which names there are */
}

static gboolean
open_space (FigureData *d, GError **error)
{
  d->space = cs_cli_workspace_space (d->ws, &d->model, error);
  return d->space != NULL;
}

int
cs_cli_figure (int argc, char **argv)
{
  g_autofree char *workspace = NULL, *output = NULL, *preset = NULL, *theme = NULL;
  g_autofree char *xs = NULL, *xm = NULL, *ys = NULL, *ym = NULL, *title = NULL, *labels = NULL, *axes_s = NULL;
  g_autofree char *block = NULL;
  double azimuth = 35, elevation = 25;
  gboolean no_orth = FALSE, show_unreliable = FALSE, held_out_only = FALSE;
  double font_size = 0, scale = 2;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, &workspace, "The workspace (from conceptscope-cli geometry)", "WS.h5" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The figure: .png, .svg or .pdf", "FILE" },
    { "preset", 0, 0, G_OPTION_ARG_STRING, &preset, "slide (16:9, default), square or column", "P" },
    { "theme", 0, 0, G_OPTION_ARG_STRING, &theme, "light (default), dark or transparent", "T" },
    { "font-size", 0, 0, G_OPTION_ARG_DOUBLE, &font_size, "Font size in points", "PT" },
    { "scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "PNG pixels per point (2)", "S" },
    { "x", 0, 0, G_OPTION_ARG_STRING, &xs, "projection: category along x", "CAT" },
    { "x-minus", 0, 0, G_OPTION_ARG_STRING, &xm, "projection: x = ℓ̄_x − ℓ̄_this", "CAT" },
    { "y", 0, 0, G_OPTION_ARG_STRING, &ys, "projection: category along y", "CAT" },
    { "y-minus", 0, 0, G_OPTION_ARG_STRING, &ym, "projection: y = ℓ̄_y − ℓ̄_this", "CAT" },
    { "no-orthogonal", 0, 0, G_OPTION_ARG_NONE, &no_orth, "projection: keep y as it is (no Gram–Schmidt)", NULL },
    { "show-unreliable", 0, 0, G_OPTION_ARG_NONE, &show_unreliable, "Draw categories with too few tokens too", NULL },
    { "held-out-only", 0, 0, G_OPTION_ARG_NONE, &held_out_only, "Leave out the tokens that trained the vectors (drawn as rings otherwise)", NULL },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "A title", "TEXT" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &labels, "projection: words to label, comma-separated", "W1,W2" },
    { "axes", 0, 0, G_OPTION_ARG_STRING, &axes_s, "simplex-3d: three axes, each a category or A-B (ℓ̄_A − ℓ̄_B); single categories are the simplex's vertices", "A,B,C" },
    { "azimuth", 0, 0, G_OPTION_ARG_DOUBLE, &azimuth, "simplex-3d: turn about the vertical axis, degrees (35)", "DEG" },
    { "block", 0, 0, G_OPTION_ARG_STRING, &block, "wordnet-heatmaps: show only this synset's block (its descendants), outlined", "CAT" },
    { "elevation", 0, 0, G_OPTION_ARG_DOUBLE, &elevation, "simplex-3d: tilt, degrees (25; 90 looks straight down)", "DEG" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (
    "KIND — a figure from a workspace; KIND is projection, simplex-3d, heatmap, validation, orthogonality, park-fig2, "
    "wordnet-heatmaps, orthogonality-all, patching, fv-heads, fv-layers, "
    "steering-behaviour, steering-heatmap, steering-effects, steering-concepts, svd, sae-decomposition, steering-samples, steering-hierarchy or steering-flow");
  g_autoptr(GError) error = NULL;
  FigureData d = { 0 };
  CsFigureStyle style = { 0 };
  const char *kind;
  CsGeometry *g = NULL;
  gboolean *shown = NULL;
  guint8 **train = NULL;
  int rc = 1;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (!rest || g_strv_length (rest) != 1 || !workspace || !output)
    {
      fprintf (stderr, "conceptscope-cli figure: give KIND --workspace WS.h5 --output FILE\n");
      return 2;
    }
  kind = rest[0];
  if (!cs_figure_theme_parse (theme, &style.theme) || !cs_figure_style_preset (preset, &style))
    {
      fprintf (stderr, "conceptscope-cli figure: --preset is slide, square or column; --theme light, dark or transparent\n");
      return 2;
    }
  if (font_size > 0)
    style.font_size = font_size;
  d.show_unreliable = show_unreliable;
  {
    CsSteerFigureKind sk;
    if (cs_steer_figure_parse (kind, &sk))
      {
        g_autoptr(CsSteerReport) rep = cs_steer_report_load (workspace, &error);
        SteerDraw sd = { NULL, sk };
        if (!rep || !cs_steer_figure_available (rep, sk, &error))
          return cs_cli_fail (g_steal_pointer (&error));
        sd.report = rep;
        if (!cs_figure_export (output, &style, scale, draw_steering, &sd, &error))
          return cs_cli_fail (g_steal_pointer (&error));
        return 0;
      }
  }
  if (g_str_equal (kind, "patching"))
    {
      g_autoptr(CsPatchResult) pr = cs_patch_result_load (workspace, &error);
      PatchDraw pd = { NULL, title };
      if (!pr)
        return cs_cli_fail (g_steal_pointer (&error));
      pd.result = pr;
      if (!cs_figure_export (output, &style, scale, draw_patching, &pd, &error))
        return cs_cli_fail (g_steal_pointer (&error));
      printf ("wrote %s\n", output);
      return 0;
    }
  if (g_str_equal (kind, "fv-heads") || g_str_equal (kind, "fv-layers"))
    {
      g_autoptr(CsFvResult) fr = cs_fv_result_load (workspace, &error);
      FvDraw fd = { NULL, g_str_equal (kind, "fv-heads") ? CS_FV_FIGURE_HEADS : CS_FV_FIGURE_LAYERS, title };
      if (!fr)
        return cs_cli_fail (g_steal_pointer (&error));
      fd.result = fr;
      if (!cs_figure_export (output, &style, scale, draw_fv, &fd, &error))
        return cs_cli_fail (g_steal_pointer (&error));
      printf ("wrote %s\n", output);
      return 0;
    }
  d.ws = cs_workspace_load (workspace, &error);
  if (!d.ws)
    return cs_cli_fail (g_steal_pointer (&error));
  g = d.ws->geometry;
  if (!g)
    {
      fprintf (stderr, "conceptscope-cli figure: %s holds no categories\n", workspace);
      goto out;
    }

  shown = cs_geometry_figure_shown (g, show_unreliable);
  if (g_str_equal (kind, "projection") || g_str_equal (kind, "park-fig2"))
    {
      guint n = g->categories->items->len;

      if (!open_space (&d, &error) || (labels && !find_labels (&d, labels, &error)))
        goto fail;
      if (g_str_equal (kind, "projection"))
        {
          if (!xs || !ys)
            {
              fprintf (stderr, "conceptscope-cli figure projection: give --x CAT and --y CAT\n");
              rc = 2;
              goto out;
            }
          d.n_panels = 1;
          if ((d.ax[0].plus = find_category (g, xs, &error)) < 0 ||
              (d.ay[0].plus = find_category (g, ys, &error)) < 0)
            goto fail;
          d.ax[0].minus = xm ? find_category (g, xm, &error) : -1;
          d.ay[0].minus = ym ? find_category (g, ym, &error) : -1;
          if (error)
            goto fail;
          d.title[0] = title ? g_markup_escape_text (title, -1) : NULL;
        }
      else
        {
          const char *need[] = { "animal", "mammal", "bird", "fish" };
          for (int k = 0; k < 4; k++)
            if (cs_category_set_find (g->categories, need[k]) < 0)
              {
                fprintf (stderr, "conceptscope-cli figure park-fig2: the workspace lacks '%s'; make it with "
                                 "conceptscope-cli geometry --hierarchy animal\n", need[k]);
                goto out;
              }
          d.n_panels = 3;
          cs_geometry_figure2_axes (g->categories, d.ax, d.ay);
          d.title[0] = g_strdup ("animal ⊃ mammal");
          d.title[1] = g_strdup ("hierarchy is orthogonal");
          d.title[2] = g_strdup ("mammal, bird, fish: a simplex");
          if (!preset)
            style.width = style.height * 3.0, style.font_size *= 0.9;
        }
      train = g_new0 (guint8 *, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        if (shown[i])
          train[i] = cs_geometry_train_mask (g, i);
      for (guint k = 0; k < d.n_panels; k++)
        {
          d.proj[k] = cs_geometry_project (d.space, g, d.ax[k], d.ay[k], !no_orth, &error);
          if (!d.proj[k])
            goto fail;
          cs_geometry_plane_init (&d.plane[k], g, d.proj[k], d.ax[k], d.ay[k], no_orth ? NULL : "(orthogonalised)",
                                  shown, FALSE, train);
        }
      d.held_out_only = held_out_only;
      if (!cs_figure_export (output, &style, scale, draw_projections, &d, &error))
        goto fail;
    }
  else if (g_str_equal (kind, "simplex-3d"))
    {
      g_auto(GStrv) names = axes_s ? g_strsplit (axes_s, ",", -1) : NULL;
      CsAxis axes[3];
      g_autoptr(CsProjection3) p3 = NULL;
      CsGeometrySimplex sx;
      if (!names || g_strv_length (names) != 3 || !isfinite (azimuth) || !isfinite (elevation))
        {
          fprintf (stderr, "conceptscope-cli figure simplex-3d: give --axes A,B,C (three categories, or A-B "
                           "differences) and finite --azimuth and --elevation\n");
          rc = 2;
          goto out;
        }
      for (int k = 0; k < 3; k++)
        if (!parse_axis (g, g_strstrip (names[k]), &axes[k], &error))
          goto fail;
      if (!open_space (&d, &error) || !(p3 = cs_geometry_project3 (d.space, g, axes, TRUE, &error)))
        goto fail;
      cs_geometry_simplex_init (&sx, g, p3, axes, shown);
      sx.figure.azimuth = azimuth;
      sx.figure.elevation = elevation;
      sx.figure.title = title ? title : "three concept directions (orthogonalised)";
      if (!cs_figure_export (output, &style, scale, draw_simplex, &sx.figure, &error))
        {
          cs_geometry_simplex_clear (&sx);
          goto fail;
        }
      cs_geometry_simplex_clear (&sx);
    }
  else if (g_str_equal (kind, "heatmap"))
    {
      g_autoptr(CsGeometryTable) t = cs_geometry_table_new (g, shown);
      CsHeatmapFigure fig = cs_geometry_table_heatmap (t, title ? title : "cos(ℓ̄<sub>w</sub>, ℓ̄<sub>z</sub>)");
      if (!preset)
        cs_figure_style_preset ("square", &style);
      if (!cs_figure_export (output, &style, scale, draw_heatmap, &fig, &error))
        goto fail;
    }
  else if (g_str_equal (kind, "validation"))
    {
      g_autoptr(CsGeometryTable) t = cs_geometry_table_new (g, shown);
      CsValidationFigure fig = cs_geometry_table_validation (t, title ? title : "Category vectors on held-out tokens");
      if (!cs_figure_export (output, &style, scale, draw_validation, &fig, &error))
        goto fail;
    }
  else if (g_str_equal (kind, "orthogonality"))
    {
      g_autoptr(CsGeometryTable) t = cs_geometry_table_new (g, shown);
      CsOrthogonalityFigure fig = cs_geometry_table_orthogonality (
        t, title ? title : "Children vs their parent: the difference is orthogonal");
      if (!cs_figure_export (output, &style, scale, draw_orthogonality, &fig, &error))
        goto fail;
    }
  else if (g_str_equal (kind, "wordnet-heatmaps") || g_str_equal (kind, "orthogonality-all"))
    {
      g_autoptr(CsGeometryWordNet) wn = cs_geometry_wordnet_new (g);
      if (g_str_equal (kind, "wordnet-heatmaps"))
        {
          CsWordNetHeatmapsFigure fig = wn->heatmaps;
          if (!g->wordnet_distance)
            {
              fprintf (stderr, "conceptscope-cli figure wordnet-heatmaps: %s holds no WordNet distances (its categories "
                               "are not WordNet synsets); make it with conceptscope-cli geometry --wordnet-all\n",
                       workspace);
              goto out;
            }
          if (block && !cs_geometry_wordnet_block (wn, block, &fig.first, &fig.count))
            {
              find_category (g, block, &error);
              goto fail;
            }
          if (block)
            fig.selected = (gint) fig.first;
          fig.title = title ? title : block ? g_strdup_printf ("the %s block: %u synsets", block, fig.count)
                                            : g_strdup_printf ("%u WordNet synsets in hierarchy order", fig.count);
          if (!preset)
            style.width = style.height * 2.6;
          if (!cs_figure_export (output, &style, scale, draw_wordnet_heatmaps, &fig, &error))
            {
              if (!title)
                g_free ((char *) fig.title);
              goto fail;
            }
          if (!title)
            g_free ((char *) fig.title);
        }
      else
        {
          CsHistogramsFigure fig = wn->histograms;
          fig.title = title ? title : "Child − parent against the parent, over every parent–child pair";
          if (wn->n_pairs[0] == 0)
            {
              fprintf (stderr, "conceptscope-cli figure orthogonality-all: %s has no estimated parent–child pair\n",
                       workspace);
              goto out;
            }
          if (!cs_figure_export (output, &style, scale, draw_histograms, &fig, &error))
            goto fail;
        }
    }
  else
    {
      fprintf (stderr, "conceptscope-cli figure: unknown KIND '%s' (projection, simplex-3d, heatmap, validation, "
                       "orthogonality, park-fig2, wordnet-heatmaps, orthogonality-all)\n", kind);
      rc = 2;
      goto out;
    }
  printf ("wrote %s\n", output);
  rc = 0;
  goto out;
fail:
  rc = cs_cli_fail (g_steal_pointer (&error));
out:
  for (guint k = 0; k < 3; k++)
    {
      cs_geometry_plane_clear (&d.plane[k]);
      cs_projection_free (d.proj[k]);
      g_free (d.title[k]);
    }
  for (guint i = 0; train && i < g->categories->items->len; i++)
    g_free (train[i]);
  g_free (train);
  g_free (shown);
  if (d.label_ids)
    g_array_unref (d.label_ids);
  if (d.label_texts)
    g_ptr_array_unref (d.label_texts);
  cs_geometry_space_free (d.space);
  g_clear_object (&d.model);
  cs_workspace_free (d.ws);
  return rc;
}
