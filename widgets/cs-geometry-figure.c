#define G_LOG_DOMAIN "cs-figure"

#include "cs-geometry-figure.h"

#include <math.h>

char *
cs_geometry_axis_markup (CsGeometry *g, CsAxis a)
{
  const char *p = cs_category_set_get (g->categories, a.plus)->name;
  if (a.minus < 0)
    return g_markup_printf_escaped ("ℓ̄<sub>%s</sub>", p);
  return g_markup_printf_escaped ("ℓ̄<sub>%s</sub> − ℓ̄<sub>%s</sub>", p,
                                  cs_category_set_get (g->categories, a.minus)->name);
}

static void
push (GArray *arrows, GPtrArray *strings, double x0, double y0, double x1, double y1, int colour, char *label)
{
  CsFigureArrow a = { x0, y0, x1, y1, (guint) colour, label };
  g_ptr_array_add (strings, label);
  g_array_append_val (arrows, a);
}

void
cs_geometry_axis_arrows (CsGeometry *g, CsProjection *p, CsAxis a, GArray *arrows, GPtrArray *strings)
{
  CsAxis single = { a.plus, -1 };
  if (a.minus >= 0)
    {
      CsAxis other = { a.minus, -1 };
      push (arrows, strings, p->cat_x[a.minus], p->cat_y[a.minus], p->cat_x[a.plus], p->cat_y[a.plus], a.plus,
            cs_geometry_axis_markup (g, a));
      push (arrows, strings, 0, 0, p->cat_x[a.minus], p->cat_y[a.minus], a.minus, cs_geometry_axis_markup (g, other));
    }
  push (arrows, strings, 0, 0, p->cat_x[a.plus], p->cat_y[a.plus], a.plus, cs_geometry_axis_markup (g, single));
}

gboolean *
cs_geometry_figure_shown (CsGeometry *g, gboolean show_unreliable)
{
  guint n = g->categories->items->len;
  gboolean *shown = g_new0 (gboolean, MAX (n, 1));
  guint count = 0;
  CsAxis ax, ay;
  for (guint i = 0; i < n; i++)
    {
      shown[i] = (cs_category_set_get (g->categories, i)->reliable || show_unreliable) && g->vectors[i].estimated;
      count += shown[i];
    }
  /* hundreds (the whole WordNet) are no picture: the default plane's x
   * category and its children */
  if (count > CS_GEOMETRY_FIGURE_SHOWN_MAX && cs_geometry_default_axes (g, &ax, &ay))
    for (guint i = 0; i < n; i++)
      shown[i] = shown[i] && ((int) i == ax.plus || cs_category_set_get (g->categories, i)->parent == ax.plus);
  return shown;
}

gboolean
cs_geometry_figure2_axes (CsCategorySet *c, CsAxis *ax, CsAxis *ay)
{
  int a = cs_category_set_find (c, "animal"), m = cs_category_set_find (c, "mammal"),
      b = cs_category_set_find (c, "bird"), f = cs_category_set_find (c, "fish");

  if (a < 0 || m < 0 || b < 0 || f < 0)
    return FALSE;
  ax[0] = (CsAxis) { a, -1 };
  ay[0] = (CsAxis) { m, -1 };
  ax[1] = (CsAxis) { a, -1 };
  ay[1] = (CsAxis) { b, m };
  ax[2] = (CsAxis) { b, m };
  ay[2] = (CsAxis) { f, m };
  return TRUE;
}

gboolean
cs_geometry_default_axes (CsGeometry *g, CsAxis *ax, CsAxis *ay)
{
  CsCategorySet *cs = g->categories;
  int a = cs_category_set_find (cs, "animal"), m = cs_category_set_find (cs, "mammal");

  if (a >= 0 && m >= 0 && g->vectors[a].estimated && g->vectors[m].estimated)
    {
      *ax = (CsAxis) { a, -1 };
      *ay = (CsAxis) { m, -1 };
      return TRUE;
    }
  for (guint i = 1; i < cs->items->len; i++)
    if (g->vectors[i].estimated && cs_category_set_get (cs, i)->reliable)
      {
        *ax = (CsAxis) { 0, -1 };
        *ay = (CsAxis) { (int) i, -1 };
        return TRUE;
      }
  return FALSE;
}

void
cs_geometry_plane_init (CsGeometryPlane *pl, CsGeometry *g, CsProjection *p, CsAxis ax, CsAxis ay,
                        const char *y_suffix, const gboolean *shown, gboolean keep_hidden, guint8 * const *train)
{
  CsProjectionFigure *fig = &pl->figure;
  char *xl, *yl;

  pl->groups = g_array_new (FALSE, TRUE, sizeof (CsFigureGroup));
  pl->arrows = g_array_new (FALSE, TRUE, sizeof (CsFigureArrow));
  pl->strings = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < g->categories->items->len; i++)
    {
      CsCategory *c = cs_category_set_get (g->categories, i);
      if (!g->vectors[i].estimated || (!shown[i] && !keep_hidden))
        continue;
      char *name = g_markup_printf_escaped ("%s (%u)", c->name, c->tokens->len);
      CsFigureGroup grp = { name, (const gint32 *) c->tokens->data, c->tokens->len, i, !shown[i],
                            train ? train[i] : NULL };
      g_ptr_array_add (pl->strings, name);
      g_array_append_val (pl->groups, grp);
    }
  cs_geometry_axis_arrows (g, p, ax, pl->arrows, pl->strings);
  if (ay.plus != ax.plus || ay.minus != ax.minus)
    cs_geometry_axis_arrows (g, p, ay, pl->arrows, pl->strings);
  /* two differences with one subtrahend (Figure 2's third panel) both draw
   * its ℓ̄: once is enough */
  for (guint a = 0; a < pl->arrows->len; a++)
    for (guint b = pl->arrows->len; b-- > a + 1;)
      {
        const CsFigureArrow *x = &g_array_index (pl->arrows, CsFigureArrow, a);
        const CsFigureArrow *y = &g_array_index (pl->arrows, CsFigureArrow, b);
        if (x->x0 == y->x0 && x->y0 == y->y0 && x->x1 == y->x1 && x->y1 == y->y1 && g_strcmp0 (x->label, y->label) == 0)
          g_array_remove_index (pl->arrows, b);
      }
  xl = cs_geometry_axis_markup (g, ax);
  yl = cs_geometry_axis_markup (g, ay);
  if (y_suffix)
    {
      char *with = g_strdup_printf ("%s %s", yl, y_suffix);
      g_free (yl);
      yl = with;
    }
  g_ptr_array_add (pl->strings, xl);
  g_ptr_array_add (pl->strings, yl);
  *fig = (CsProjectionFigure) { 0 };
  fig->n_points = p->vocab;
  fig->x = p->x;
  fig->y = p->y;
  fig->groups = (CsFigureGroup *) pl->groups->data;
  fig->n_groups = pl->groups->len;
  fig->arrows = (CsFigureArrow *) pl->arrows->data;
  fig->n_arrows = pl->arrows->len;
  fig->x_label = xl;
  fig->y_label = yl;
}

void
cs_geometry_plane_clear (CsGeometryPlane *pl)
{
  g_clear_pointer (&pl->groups, g_array_unref);
  g_clear_pointer (&pl->arrows, g_array_unref);
  g_clear_pointer (&pl->strings, g_ptr_array_unref);
}

void
cs_geometry_simplex_init (CsGeometrySimplex *sx, CsGeometry *g, CsProjection3 *p, const CsAxis *axes,
                          const gboolean *shown)
{
  CsSimplexFigure *fig = &sx->figure;

  *fig = (CsSimplexFigure) { 0 };
  sx->groups = g_array_new (FALSE, TRUE, sizeof (CsFigureGroup));
  sx->strings = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < g->categories->items->len; i++)
    {
      CsCategory *c = cs_category_set_get (g->categories, i);
      if (!g->vectors[i].estimated || !shown[i])
        continue;
      char *name = g_markup_printf_escaped ("%s (%u)", c->name, c->tokens->len);
      CsFigureGroup grp = { name, (const gint32 *) c->tokens->data, c->tokens->len, i, FALSE, NULL };
      g_ptr_array_add (sx->strings, name);
      g_array_append_val (sx->groups, grp);
    }
  for (int k = 0; k < 3; k++)
    {
      char *label = cs_geometry_axis_markup (g, axes[k]);
      g_ptr_array_add (sx->strings, label);
      fig->axis_label[k] = label;
      if (axes[k].minus < 0 && fig->n_vertices < 4)
        {
          int c = axes[k].plus;
          char *vl = g_markup_printf_escaped ("ℓ̄<sub>%s</sub>", cs_category_set_get (g->categories, c)->name);
          g_ptr_array_add (sx->strings, vl);
          for (int j = 0; j < 3; j++)
            fig->vertex[fig->n_vertices][j] = p->cat[j][c];
          fig->vertex_colour[fig->n_vertices] = (guint) c;
          fig->vertex_label[fig->n_vertices] = vl;
          fig->n_vertices++;
        }
    }
  fig->n_points = p->vocab;
  fig->x = p->xyz[0];
  fig->y = p->xyz[1];
  fig->z = p->xyz[2];
  fig->groups = (CsFigureGroup *) sx->groups->data;
  fig->n_groups = sx->groups->len;
  fig->azimuth = 35;
  fig->elevation = 25;
  fig->zoom = 1;
}

void
cs_geometry_simplex_clear (CsGeometrySimplex *sx)
{
  g_clear_pointer (&sx->groups, g_array_unref);
  g_clear_pointer (&sx->strings, g_ptr_array_unref);
}

CsGeometryTable *
cs_geometry_table_new (CsGeometry *g, const gboolean *shown)
{
  CsGeometryTable *t = g_new0 (CsGeometryTable, 1);
  guint n = g->categories->items->len, m = 0, k = 0;
  g_autofree guint *idx = g_new (guint, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    if (shown[i] && g->vectors[i].estimated)
      idx[m++] = i;
  t->n = m;
  t->names = g_ptr_array_new_with_free_func (g_free);
  t->cos = g_new (double, MAX (m * m, 1));
  t->mean = g_new (double, MAX (m * 4, 1));
  t->std = g_new (double, MAX (m * 4, 1));
  for (guint i = 0; i < m; i++)
    {
      CsCategoryVector *v = &g->vectors[idx[i]];
      CsStat st[4] = { v->train, v->test, v->random, v->shuffled_test };
      g_ptr_array_add (t->names, g_markup_escape_text (cs_category_set_get (g->categories, idx[i])->name, -1));
      for (guint j = 0; j < m; j++)
        t->cos[i * m + j] = g->cos[idx[i] * n + idx[j]];
      for (int s = 0; s < 4; s++)
        {
          t->mean[i * 4 + s] = st[s].mean;
          t->std[i * 4 + s] = st[s].std;
        }
    }
  g_ptr_array_add (t->names, NULL);
  t->child_names = g_ptr_array_new_with_free_func (g_free);
  t->cos_plain = g_new (double, MAX (n, 1));
  t->cos_diff = g_new (double, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      CsCategory *c = cs_category_set_get (g->categories, i);
      if (c->parent < 0 || !shown[i] || !g->vectors[i].estimated || !g->vectors[c->parent].estimated)
        continue;
      g_ptr_array_add (t->child_names, g_markup_escape_text (c->name, -1));
      t->cos_plain[k] = g->cos[i * n + c->parent];
      t->cos_diff[k] = g->vectors[i].cos_parent;
      k++;
    }
  t->n_children = k;
  g_ptr_array_add (t->child_names, NULL);
  return t;
}

CsGeometryTable *
cs_geometry_table_ref (CsGeometryTable *t)
{
  g_atomic_int_inc (&t->extra_refs);
  return t;
}

void
cs_geometry_table_free (CsGeometryTable *t)
{
  if (!t)
    return;
  if (g_atomic_int_add (&t->extra_refs, -1) > 0)
    return;
  g_ptr_array_unref (t->names);
  g_ptr_array_unref (t->child_names);
  g_free (t->cos);
  g_free (t->mean);
  g_free (t->std);
  g_free (t->cos_plain);
  g_free (t->cos_diff);
  g_free (t);
}

CsHeatmapFigure
cs_geometry_table_heatmap (const CsGeometryTable *t, const char *title)
{
  return (CsHeatmapFigure) { t->n, (const char * const *) t->names->pdata, t->cos, title };
}

CsValidationFigure
cs_geometry_table_validation (const CsGeometryTable *t, const char *title)
{
  return (CsValidationFigure) { t->n, (const char * const *) t->names->pdata, t->mean, t->std, title };
}

CsOrthogonalityFigure
cs_geometry_table_orthogonality (const CsGeometryTable *t, const char *title)
{
  return (CsOrthogonalityFigure) { t->n_children, (const char * const *) t->child_names->pdata, t->cos_plain,
                                   t->cos_diff, title };
}

CsGeometryWordNet *
cs_geometry_wordnet_new (CsGeometry *g)
{
  CsGeometryWordNet *w = g_new0 (CsGeometryWordNet, 1);
  CsCategorySet *cats = g->categories;
  guint n = cats->items->len;

  w->geometry = cs_geometry_ref (g);
  w->names = g_ptr_array_new ();
  w->block_end = g_new (guint, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      g_ptr_array_add (w->names, cs_category_set_get (cats, i)->name);
      w->block_end[i] = i + 1;
    }
  g_ptr_array_add (w->names, NULL);
  /* a block ends where its descendants do: children come after their
   * parents, so walking backwards hands each end up the chain */
  for (guint i = n; i-- > 0;)
    {
      int p = cs_category_set_get (cats, i)->parent;
      if (p >= 0)
        w->block_end[p] = MAX (w->block_end[p], w->block_end[i]);
    }
  w->diff_cos = cs_geometry_diff_cosines (g);
  w->heatmaps = (CsWordNetHeatmapsFigure) {
    n, (const char * const *) w->names->pdata, w->block_end, g->wordnet_distance, g->cos, w->diff_cos,
    0, n, -1, NULL,
  };
  for (int k = 0; k < 2; k++)
    {
      w->pairs[k] = g_new (double, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        {
          double v = k ? g->vectors[i].cos_parent_shuffled : g->vectors[i].cos_parent;
          if (isfinite (v))
            w->pairs[k][w->n_pairs[k]++] = v;
        }
    }
  w->series[0] = "estimated ℓ̄";
  w->series[1] = "from the shuffled unembedding";
  w->histograms = (CsHistogramsFigure) {
    2, (const double * const *) w->pairs, w->n_pairs, w->series, -1, 1, 40,
    "cos(ℓ̄<sub>child</sub> − ℓ̄<sub>parent</sub>, ℓ̄<sub>parent</sub>)", NULL,
  };
  return w;
}

CsGeometryWordNet *
cs_geometry_wordnet_ref (CsGeometryWordNet *w)
{
  g_atomic_int_inc (&w->extra_refs);
  return w;
}

void
cs_geometry_wordnet_free (CsGeometryWordNet *w)
{
  if (!w || g_atomic_int_add (&w->extra_refs, -1) > 0)
    return;
  g_ptr_array_unref (w->names);
  g_free (w->block_end);
  g_free (w->diff_cos);
  g_free (w->pairs[0]);
  g_free (w->pairs[1]);
  cs_geometry_free (w->geometry);
  g_free (w);
}

gboolean
cs_geometry_wordnet_block (CsGeometryWordNet *w, const char *name, guint *first, guint *count)
{
  int i = cs_category_set_find (w->geometry->categories, name);
  if (i < 0)
    return FALSE;
  *first = (guint) i;
  *count = w->block_end[i] - (guint) i;
  return TRUE;
}
