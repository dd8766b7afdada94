#define G_LOG_DOMAIN "conceptscope"

/* What the Geometry page's views show: the geometry drawn (shared with the
 * undo history by reference), the planes projected for the projection
 * view and Figure 2, the category table's heatmap, validation and
 * orthogonality figures. */

#include <glib/gi18n.h>
#include <math.h>

#include "cs-geometry-page-private.h"
#include "cs-ui.h"

/* ---- the geometry drawn, shared with the undo history ---- */

static void
geo_box_clear (gpointer p)
{
  GeoBox *b = p;
  for (guint i = 0; b->train && i < b->g->categories->items->len; i++)
    g_free (b->train[i]);
  g_free (b->train);
  cs_geometry_free (b->g);
}

GeoBox *
geo_box_new (CsGeometry *g)
{
  GeoBox *b = g_rc_box_new0 (GeoBox);
  b->g = g;
  b->train = g_new0 (guint8 *, MAX (1, g->categories->items->len));
  for (guint i = 0; i < g->categories->items->len; i++)
    b->train[i] = cs_geometry_train_mask (g, i);
  return b;
}

void
geo_box_release (GeoBox *box)
{
  if (box)
    g_rc_box_release_full (box, geo_box_clear);
}

CsGeometry *
geometry_of (CsGeometryPage *self)
{
  return self->geo_box ? self->geo_box->g : NULL;
}

/* Takes box's reference (NULL: none); the session follows. */
void
geometry_page_set_box (CsGeometryPage *self, GeoBox *box)
{
  GeoBox *old = self->geo_box;
  self->geo_box = box;
  if (self->session)
    cs_session_set_geometry (self->session, box ? box->g : NULL);
  geo_box_release (old);
}

/* ---- what the views show ---- */

/* More categories than bars and a legend can show (the whole WordNet): the
 * orthogonality tab draws their distribution (the paper's Figure 5)
 * instead, and the legend lists only the categories shown. */
#define MANY_CATEGORIES 40

typedef struct
{
  CsGeometryPlane plane;
  GeoBox         *box;   /* keeps the arrays the plane points to */
} PlaneData;

static void
plane_data_free (gpointer p)
{
  PlaneData *d = p;
  cs_geometry_plane_clear (&d->plane);
  geo_box_release (d->box);
  g_free (d);
}

static PlaneData *
plane_data_new (CsGeometryPage *self, CsProjection *proj, CsAxis ax, CsAxis ay, const char *y_suffix,
                gboolean keep_hidden)
{
  PlaneData *d = g_new0 (PlaneData, 1);
  d->box = g_rc_box_acquire (self->geo_box);
  /* hundreds of greyed entries would bury the legend */
  keep_hidden = keep_hidden && d->box->g->categories->items->len <= MANY_CATEGORIES;
  cs_geometry_plane_init (&d->plane, d->box->g, proj, ax, ay, y_suffix, self->visible, keep_hidden, d->box->train);
  d->plane.figure.held_out_only = gtk_check_button_get_active (self->held_out_check);
  return d;
}

static void
draw_validation (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  CsGeometryTable *t = data;
  CsValidationFigure fig = cs_geometry_table_validation (t, _("Category vectors on held-out tokens"));
  if (fig.n > 0)
    cs_figure_draw_validation (cr, 0, 0, w, h, s, &fig);
}

static void
draw_orthogonality (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  CsGeometryTable *t = data;
  CsOrthogonalityFigure fig = cs_geometry_table_orthogonality (t, _("Children vs their parent"));
  cs_figure_draw_orthogonality (cr, 0, 0, w, h, s, &fig);
}

typedef struct
{
  PlaneData *panel[3];
} Figure2Data;

static void
figure2_free (gpointer p)
{
  Figure2Data *d = p;
  for (int k = 0; k < 3; k++)
    if (d->panel[k])
      plane_data_free (d->panel[k]);
  g_free (d);
}

static void
draw_figure2 (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  Figure2Data *d = data;
  static const char *titles[] = { "animal ⊃ mammal", "hierarchy ⊥", "mammal, bird, fish" };
  if (!d->panel[0])
    {
      cairo_move_to (cr, 20, h / 2);
      cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
      cairo_show_text (cr, _("Figure 2 needs the categories animal, mammal, bird and fish"));
      return;
    }
  for (int k = 0; k < 3; k++)
    {
      CsProjectionFigure fig = d->panel[k]->plane.figure;
      fig.title = titles[k];
      cs_figure_draw_projection (cr, k * w / 3, 0, w / 3, h, s, &fig);
    }
}

static void
draw_histograms (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  CsGeometryWordNet *wn = data;
  CsHistogramsFigure fig = wn->histograms;
  fig.title = _("Child − parent against the parent, over every parent–child pair");
  cs_figure_draw_histograms (cr, 0, 0, w, h, s, &fig);
}

/* The whole-WordNet table of the geometry drawn, made once per geometry
 * (the differences' cosines are a matrix product; the view keeps its zoom
 * while only the axes or the categories shown change). */
static void
refresh_wordnet (CsGeometryPage *self)
{
  CsGeometry *g = geometry_of (self);
  gboolean want = g && g->wordnet_distance && g->categories->items->len > 1;

  if (self->wordnet && (!want || self->wordnet->geometry != g))
    {
      g_clear_pointer (&self->wordnet, cs_geometry_wordnet_free);
      cs_wordnet_view_set_wordnet (self->wordnet_view, NULL);
    }
  if (want && !self->wordnet)
    {
      g_autofree char *text = NULL;
      self->wordnet = cs_geometry_wordnet_new (g);
      cs_wordnet_view_set_wordnet (self->wordnet_view, self->wordnet);
      text = g_strdup_printf (_("%u synsets; scroll to zoom, double-click a synset for its block, right-click for the "
                                "whole table, click to select"), g->categories->items->len);
      gtk_label_set_text (self->wordnet_label, text);
    }
  if (!want)
    gtk_label_set_text (self->wordnet_label, _("Compute with “Every WordNet synset” (or a WordNet hierarchy) to see "
                                               "the WordNet distances beside the cosines"));
}

/* Gives every view the figure of what is drawn now (after a change of the
 * geometry, the categories shown, the axes, the marked tokens). */
void
cs_geometry_page_refresh_figures (CsGeometryPage *self)
{
  if (!geometry_of (self) || !self->proj)
    {
      cs_projection_view_set_figure (self->projection_view, NULL, NULL, NULL);
      cs_heatmap_view_set_figure (self->cosine_view, NULL, NULL, NULL);
      cs_figure_view_set_draw_func (self->validation_view, NULL, NULL, NULL);
      cs_figure_view_set_draw_func (self->orth_view, NULL, NULL, NULL);
      cs_figure_view_set_draw_func (self->fig2_view, NULL, NULL, NULL);
      cs_simplex_view_set_figure (self->simplex_view, NULL, NULL, NULL, FALSE);
      refresh_wordnet (self);
      return;
    }
  refresh_wordnet (self);
  {
    /* hidden categories stay in the legend, greyed, so a click brings them back */
    PlaneData *d = plane_data_new (self, self->proj, self->ax, self->ay,
                                   self->orthogonalise ? _("(orthogonalised)") : NULL, TRUE);
    const GArray *marked = cs_session_get_marked (self->session);
    if (marked->len)
      {
        /* a copy: the session's may change before the next frame */
        gint32 *ids = g_memdup2 (marked->data, marked->len * sizeof (gint32));
        g_ptr_array_add (d->plane.strings, ids);
        d->plane.figure.marked = ids;
        d->plane.figure.n_marked = marked->len;
      }
    cs_projection_view_set_figure (self->projection_view, &d->plane.figure, d, plane_data_free);
  }
  {
    CsGeometryTable *t = cs_geometry_table_new (geometry_of (self), self->visible);
    CsHeatmapFigure fig = cs_geometry_table_heatmap (t, "cos(ℓ̄<sub>w</sub>, ℓ̄<sub>z</sub>)");
    cs_heatmap_view_set_figure (self->cosine_view, &fig, t, (GDestroyNotify) cs_geometry_table_free);
    /* one table for the three views */
    cs_figure_view_set_draw_func (self->validation_view, draw_validation, cs_geometry_table_ref (t),
                                  (GDestroyNotify) cs_geometry_table_free);
    if (self->wordnet && geometry_of (self)->categories->items->len > MANY_CATEGORIES)
      cs_figure_view_set_draw_func (self->orth_view, draw_histograms, cs_geometry_wordnet_ref (self->wordnet),
                                    (GDestroyNotify) cs_geometry_wordnet_free);
    else
      cs_figure_view_set_draw_func (self->orth_view, draw_orthogonality, cs_geometry_table_ref (t),
                                    (GDestroyNotify) cs_geometry_table_free);
  }
  {
    Figure2Data *d = g_new0 (Figure2Data, 1);
    for (int k = 0; self->fig2[0] && k < 3; k++)
      d->panel[k] = plane_data_new (self, self->fig2[k], self->fig2_ax[k], self->fig2_ay[k], NULL, FALSE);
    cs_figure_view_set_draw_func (self->fig2_view, draw_figure2, d, figure2_free);
  }
  cs_geometry_page_refresh_simplex (self);
}

void
cs_geometry_page_forget_projected (CsGeometryPage *self)
{
  for (int k = 0; k < 3; k++)
    g_clear_pointer (&self->pre_fig2[k], cs_projection_free);
  g_clear_pointer (&self->pre_proj, cs_projection_free);
}

void
cs_geometry_page_compute_figure2 (CsGeometryPage *self)
{
  for (int k = 0; k < 3; k++)
    g_clear_pointer (&self->fig2[k], cs_projection_free);
  if (!cs_geometry_figure2_axes (geometry_of (self)->categories, self->fig2_ax, self->fig2_ay))
    return;
  if (self->pre_fig2[0])
    {
      for (int k = 0; k < 3; k++)
        self->fig2[k] = g_steal_pointer (&self->pre_fig2[k]);
      return;
    }
  for (int k = 0; k < 3; k++)
    if (!(self->fig2[k] = cs_geometry_project (cs_session_get_space (self->session), geometry_of (self),
                                               self->fig2_ax[k], self->fig2_ay[k], TRUE, NULL)))
      {
        for (int j = 0; j < 3; j++)
          g_clear_pointer (&self->fig2[j], cs_projection_free);
        return;
      }
}


/* ---- the 3-D view ---- */

typedef struct
{
  CsGeometrySimplex simplex;
  CsProjection3    *projection;
  GeoBox           *box;
} SimplexData;

static void
simplex_data_free (gpointer p)
{
  SimplexData *d = p;
  cs_geometry_simplex_clear (&d->simplex);
  cs_projection3_free (d->projection);
  geo_box_release (d->box);
  g_free (d);
}

static int
z_category (CsGeometryPage *self, GtkDropDown *drop, int offset)
{
  guint i = gtk_drop_down_get_selected (drop);
  return i == GTK_INVALID_LIST_POSITION ? -1 : (int) i - offset;
}

void
cs_geometry_page_refresh_simplex (CsGeometryPage *self)
{
  CsGeometry *g = geometry_of (self);
  CsGeometrySpace *space = self->session ? cs_session_get_space (self->session) : NULL;
  g_autoptr(GError) error = NULL;
  CsAxis axes[3];
  SimplexData *d;

  if (self->updating)
    return;
  if (!g || !space || !self->proj)
    {
      cs_simplex_view_set_figure (self->simplex_view, NULL, NULL, NULL, FALSE);
      refresh_wordnet (self);
      return;
    }
  refresh_wordnet (self);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "simplex") != 0)
    return;   /* projected when shown */
  axes[0] = self->ax;
  axes[1] = self->ay;
  axes[2] = (CsAxis) { z_category (self, self->z_drop, 0), z_category (self, self->zm_drop, 1) };
  if (axes[2].plus < 0)
    return;
  d = g_new0 (SimplexData, 1);
  d->projection = cs_geometry_project3 (space, g, axes, self->orthogonalise, &error);
  if (!d->projection)
    {
      g_free (d);
      cs_simplex_view_set_figure (self->simplex_view, NULL, NULL, NULL, FALSE);
      geometry_page_show_message (self, error->message);
      return;
    }
  d->box = g_rc_box_acquire (self->geo_box);
  cs_geometry_simplex_init (&d->simplex, g, d->projection, axes, self->visible);
  d->simplex.figure.title = self->orthogonalise ? _("three concept directions (orthogonalised)")
                                                : _("three concept directions");
  cs_simplex_view_set_figure (self->simplex_view, &d->simplex.figure, d, simplex_data_free, TRUE);
}
