#define G_LOG_DOMAIN "conceptscope-cli"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs-cli-commands.h"
#include "cs-figure.h"
#include "cs-geometry-figure.h"
#include "cs-geometry.h"
#include "cs-steer-figure.h"
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
  char            *xlabel[3], *ylabel[3], *title[3];
  GArray          *groups;         /* CsFigureGroup */
  GArray          *label_ids;      /* gint32 */
  GPtrArray       *label_texts;    /* char*, markup */
} FigureData;

static void
draw_projections (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer user_data)
{
  FigureData *d = user_data;
  CsGeometry *g = d->ws->geometry;
  double pw = w / d->n_panels;

  for (guint k = 0; k < d->n_panels; k++)
    {
      g_autoptr(GArray) arrows = g_array_new (FALSE, TRUE, sizeof (CsFigureArrow));
      g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
      CsProjectionFigure fig = { 0 };
      cs_geometry_axis_arrows (g, d->proj[k], d->ax[k], arrows, strings);
      if (d->ay[k].plus != d->ax[k].plus || d->ay[k].minus != d->ax[k].minus)
        cs_geometry_axis_arrows (g, d->proj[k], d->ay[k], arrows, strings);
      fig.n_points = d->proj[k]->vocab;
      fig.x = d->proj[k]->x;
      fig.y = d->proj[k]->y;
      fig.groups = (CsFigureGroup *) d->groups->data;
      fig.n_groups = d->groups->len;
      fig.arrows = (CsFigureArrow *) arrows->data;
      fig.n_arrows = arrows->len;
      fig.x_label = d->xlabel[k];
      fig.y_label = d->ylabel[k];
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

/* The categories drawn: reliable ones (or all), parents first. */
static guint
collect_shown (CsGeometry *g, gboolean show_unreliable, guint *idx)
{
  guint n = 0;
  for (guint i = 0; i < g->categories->items->len; i++)
    {
      CsCategory *c = cs_category_set_get (g->categories, i);
      if ((c->reliable || show_unreliable) && g->vectors[i].estimated)
        idx[n++] = i;
    }
  return n;
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
  g_autofree char *xs = NULL, *xm = NULL, *ys = NULL, *ym = NULL, *title = NULL, *labels = NULL;
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
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (
    "KIND — a figure from a workspace; KIND is projection, heatmap, validation, orthogonality, park-fig2, "
    "steering-behaviour, steering-heatmap, steering-effects, steering-concepts, svd or sae-decomposition");
  g_autoptr(GError) error = NULL;
  FigureData d = { 0 };
  CsFigureStyle style = { 0 };
  const char *kind;
  CsGeometry *g;
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
  d.ws = cs_workspace_load (workspace, &error);
  if (!d.ws)
    return cs_cli_fail (g_steal_pointer (&error));
  g = d.ws->geometry;
  if (!g)
    {
      fprintf (stderr, "conceptscope-cli figure: %s holds no categories\n", workspace);
      goto out;
    }

  if (g_str_equal (kind, "projection") || g_str_equal (kind, "park-fig2"))
    {
      guint n = g->categories->items->len;
      g_autofree guint *shown = g_new (guint, n);
      guint ns = collect_shown (g, show_unreliable, shown);

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
          int id[4];
          for (int k = 0; k < 4; k++)
            if ((id[k] = cs_category_set_find (g->categories, need[k])) < 0)
              {
                fprintf (stderr, "conceptscope-cli figure park-fig2: the workspace lacks '%s'; make it with "
                                 "conceptscope-cli geometry --hierarchy animal\n", need[k]);
                goto out;
              }
          d.n_panels = 3;
          d.ax[0] = (CsAxis) { id[0], -1 };
          d.ay[0] = (CsAxis) { id[1], -1 };
          d.ax[1] = (CsAxis) { id[0], -1 };
          d.ay[1] = (CsAxis) { id[2], id[1] };
          d.ax[2] = (CsAxis) { id[2], id[1] };
          d.ay[2] = (CsAxis) { id[3], id[1] };
          d.title[0] = g_strdup ("animal ⊃ mammal");
          d.title[1] = g_strdup ("hierarchy is orthogonal");
          d.title[2] = g_strdup ("mammal, bird, fish: a simplex");
          if (!preset)
            style.width = style.height * 3.0, style.font_size *= 0.9;
        }
      for (guint k = 0; k < d.n_panels; k++)
        {
          d.proj[k] = cs_geometry_project (d.space, g, d.ax[k], d.ay[k], !no_orth, &error);
          if (!d.proj[k])
            goto fail;
          d.xlabel[k] = cs_geometry_axis_markup (g, d.ax[k]);
          g_autofree char *yl = cs_geometry_axis_markup (g, d.ay[k]);
          d.ylabel[k] = no_orth ? g_strdup (yl) : g_strdup_printf ("%s (orthogonalised)", yl);
        }
      d.groups = g_array_new (FALSE, TRUE, sizeof (CsFigureGroup));
      d.held_out_only = held_out_only;
      for (guint i = 0; i < ns; i++)
        {
          CsCategory *c = cs_category_set_get (g->categories, shown[i]);
          CsFigureGroup grp = { g_markup_printf_escaped ("%s (%u)", c->name, c->tokens->len),
                                (const gint32 *) c->tokens->data, c->tokens->len, shown[i], FALSE,
                                cs_geometry_train_mask (g, shown[i]) };
          g_array_append_val (d.groups, grp);
        }
      if (!cs_figure_export (output, &style, scale, draw_projections, &d, &error))
        goto fail;
    }
  else if (g_str_equal (kind, "heatmap"))
    {
      guint n = g->categories->items->len;
      g_autofree guint *shown = g_new (guint, n);
      guint ns = collect_shown (g, show_unreliable, shown);
      g_autofree const char **names = g_new0 (const char *, ns + 1);
      g_autofree double *m = g_new (double, ns * ns);
      for (guint i = 0; i < ns; i++)
        {
          names[i] = cs_category_set_get (g->categories, shown[i])->name;
          for (guint j = 0; j < ns; j++)
            m[i * ns + j] = g->cos[shown[i] * n + shown[j]];
        }
      CsHeatmapFigure fig = { ns, names, m, title ? title : "cos(ℓ̄<sub>w</sub>, ℓ̄<sub>z</sub>)" };
      if (!preset)
        cs_figure_style_preset ("square", &style);
      if (!cs_figure_export (output, &style, scale, draw_heatmap, &fig, &error))
        goto fail;
    }
  else if (g_str_equal (kind, "validation"))
    {
      guint n = g->categories->items->len;
      g_autofree guint *shown = g_new (guint, n);
      guint ns = collect_shown (g, show_unreliable, shown);
      g_autofree const char **names = g_new0 (const char *, ns + 1);
      g_autofree double *mean = g_new (double, ns * 4);
      g_autofree double *sd = g_new (double, ns * 4);
      for (guint i = 0; i < ns; i++)
        {
          CsCategoryVector *v = &g->vectors[shown[i]];
          CsStat st[4] = { v->train, v->test, v->random, v->shuffled_test };
          names[i] = cs_category_set_get (g->categories, shown[i])->name;
          for (int k = 0; k < 4; k++)
            {
              mean[i * 4 + k] = st[k].mean;
              sd[i * 4 + k] = st[k].std;
            }
        }
      CsValidationFigure fig = { ns, names, mean, sd, title ? title : "Category vectors on held-out tokens" };
      if (!cs_figure_export (output, &style, scale, draw_validation, &fig, &error))
        goto fail;
    }
  else if (g_str_equal (kind, "orthogonality"))
    {
      guint n = g->categories->items->len;
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GArray) plain = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr(GArray) diff = g_array_new (FALSE, FALSE, sizeof (double));
      for (guint i = 0; i < n; i++)
        {
          CsCategory *c = cs_category_set_get (g->categories, i);
          CsCategoryVector *v = &g->vectors[i];
          if (c->parent < 0 || !v->estimated || !g->vectors[c->parent].estimated ||
              (!c->reliable && !show_unreliable))
            continue;
          double cp = g->cos[i * n + c->parent];
          g_ptr_array_add (names, g_markup_escape_text (c->name, -1));
          g_array_append_val (plain, cp);
          g_array_append_val (diff, v->cos_parent);
        }
      g_ptr_array_add (names, NULL);
      CsOrthogonalityFigure fig = { plain->len, (const char * const *) names->pdata, (double *) plain->data,
                                    (double *) diff->data,
                                    title ? title : "Children vs their parent: the difference is orthogonal" };
      if (!cs_figure_export (output, &style, scale, draw_orthogonality, &fig, &error))
        goto fail;
    }
  else
    {
      fprintf (stderr, "conceptscope-cli figure: unknown KIND '%s' (projection, heatmap, validation, "
                       "orthogonality, park-fig2)\n", kind);
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
      cs_projection_free (d.proj[k]);
      g_free (d.xlabel[k]);
      g_free (d.ylabel[k]);
      g_free (d.title[k]);
    }
  if (d.groups)
    {
      for (guint i = 0; i < d.groups->len; i++)
        {
          g_free ((char *) g_array_index (d.groups, CsFigureGroup, i).name);
          g_free ((guint8 *) g_array_index (d.groups, CsFigureGroup, i).train);
        }
      g_array_unref (d.groups);
    }
  if (d.label_ids)
    g_array_unref (d.label_ids);
  if (d.label_texts)
    g_ptr_array_unref (d.label_texts);
  cs_geometry_space_free (d.space);
  g_clear_object (&d.model);
  cs_workspace_free (d.ws);
  return rc;
}
