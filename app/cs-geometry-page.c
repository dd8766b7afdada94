#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>
#include <math.h>

#include "cs-ui.h"
#include "cs-history.h"
#include "cs-backend.h"
#include "cs-build-config.h"
#include "cs-categories.h"
#include "cs-figure.h"
#include "cs-geometry-figure.h"
#include "cs-export-dialog.h"
#include "cs-geometry-page.h"
#include "cs-tokenizer.h"
#include "cs-wordnet.h"
#include "cs-workspace.h"

struct _CsGeometryPage
{
  AdwBin           parent_instance;

  CsFigureCloudCache *cloud_cache;   /* the projection's data layer while panning and hovering */

  GtkWidget       *categories_box;
  GtkDropDown     *x_drop, *xm_drop, *y_drop, *ym_drop;
  GtkCheckButton  *orth_check;
  GtkCheckButton  *held_out_check;
  GtkStack        *stack;
  GtkDrawingArea  *projection_area, *cosine_area, *validation_area, *orth_area, *fig2_area;
  GtkWidget       *status_box;
  GtkSpinner      *spinner;
  GtkProgressBar  *progress_bar;
  gint             progress_permille;   /* written by the worker threads: whitening 0–500, estimation 500–1000 */
  guint            progress_source;
  int              shown_phase;         /* what the status line says: 0 none, 1 whitening, 2 estimating */
  gint64           phase_t0;            /* when the main loop first saw that phase */
  int              phase_p0;
  GtkLabel        *status_label;
  GtkWidget       *cancel_button;

  CsModel         *model;
  CsTokenizer     *tok;
  CsGeometrySpace *space;
  CsGeometry      *geometry;      /* geo_box's: shared with the undo history */
  struct GeoBox   *geo_box;
  CsHistory       *history;
  GtkWidget       *undo_button, *redo_button;
  CsProjection    *proj;
  CsProjection    *fig2[3];       /* the paper's Figure 2, when the categories exist */
  CsAxis           fig2_ax[3], fig2_ay[3];
  /* projected in the background with the geometry (the vocabulary pass is
   * seconds at 128k × 4096): taken when the page asks for these planes */
  CsProjection    *pre_fig2[3];
  CsProjection    *pre_proj;
  CsAxis           pre_ax, pre_ay;
  CsAxis           ax, ay;
  gboolean         orthogonalise;
  gboolean        *visible;
  GCancellable    *cancellable;
  char            *error;
  gboolean         updating;
  gboolean         new_model;     /* the next computed geometry starts a new history */

  gboolean         fixed_range;
  double           range[4];
  gint64           hover;         /* token id + 1 */
  gint64           picked;        /* token id + 1, chosen by a click */
  double           drag_range[4];
  GtkSearchEntry  *search;
  GtkLabel        *selection_label;
  GtkTextView     *selection_view;
  GArray          *selection;     /* gint32 */
  GArray          *marked;        /* gint32: tokens marked from the Mapper page */
  char            *workspace_path;
  GtkEntry        *hierarchy_entry, *extra_name, *extra_words;
  GtkSpinButton   *fraction_spin, *seed_spin, *min_spin;
  char            *hierarchy;
  char            *json_path;
  gboolean         selecting;
  double           sel[4];        /* widget coordinates of the rubber band */
};

G_DEFINE_FINAL_TYPE (CsGeometryPage, cs_geometry_page, ADW_TYPE_BIN)

enum
{
  SELECTION_CHANGED,
  GEOMETRY_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- undo: the geometry is shared between the page and the states in its
 * history (a reference-counted box), the view's state is copied ---- */

typedef struct GeoBox
{
  CsGeometry *g;
  guint8    **train;   /* per category: which of its tokens trained the vector */
} GeoBox;

static void
geo_box_clear (gpointer p)
{
  GeoBox *b = p;
  for (guint i = 0; b->train && i < b->g->categories->items->len; i++)
    g_free (b->train[i]);
  g_free (b->train);
  cs_geometry_free (b->g);
}

static GeoBox *
geo_box_new (CsGeometry *g)
{
  GeoBox *b = g_rc_box_new0 (GeoBox);
  b->g = g;
  b->train = g_new0 (guint8 *, MAX (1, g->categories->items->len));
  for (guint i = 0; i < g->categories->items->len; i++)
    b->train[i] = cs_geometry_train_mask (g, i);
  return b;
}

/* Takes box's reference (NULL: no geometry). */
static void
set_geometry (CsGeometryPage *self, GeoBox *box)
{
  if (self->geo_box)
    g_rc_box_release_full (self->geo_box, geo_box_clear);
  self->geo_box = box;
  self->geometry = box ? box->g : NULL;
}

typedef struct
{
  GeoBox   *box;
  gboolean *visible;
  CsAxis    ax, ay;
  gboolean  orthogonalise;
  char     *hierarchy, *json_path, *workspace_path;
} GeoState;

static void
geo_state_free (gpointer p)
{
  GeoState *st = p;
  if (st->box)
    g_rc_box_release_full (st->box, geo_box_clear);
  g_free (st->visible);
  g_free (st->hierarchy);
  g_free (st->json_path);
  g_free (st->workspace_path);
  g_free (st);
}

static GeoState *
capture_state (CsGeometryPage *self)
{
  GeoState *st = g_new0 (GeoState, 1);
  st->box = g_rc_box_acquire (self->geo_box);
  st->visible = g_memdup2 (self->visible, self->geometry->categories->items->len * sizeof (gboolean));
  st->ax = self->ax;
  st->ay = self->ay;
  st->orthogonalise = self->orthogonalise;
  st->hierarchy = g_strdup (self->hierarchy);
  st->json_path = g_strdup (self->json_path);
  st->workspace_path = g_strdup (self->workspace_path);
  return st;
}

static void
update_undo_buttons (CsGeometryPage *self)
{
  cs_ui_update_undo (self->undo_button, self->redo_button, self->history);
}

/* Records the page's state as it is before a change named label. */
static void
remember (CsGeometryPage *self, const char *label)
{
  if (!self->geometry)
    return;
  cs_history_push (self->history, label, capture_state (self));
  update_undo_buttons (self);
}

static void forget_history (CsGeometryPage *self);

/* ---- the figures' data, shared by the screen and export ---- */

typedef struct
{
  CsGeometryPage *self;
  GArray         *groups;
  GArray         *arrows;
  GPtrArray      *strings;
  char           *xl, *yl;
} ProjectionData;

static void
projection_data_init (ProjectionData *d, CsGeometryPage *self)
{
  CsGeometry *g = self->geometry;
  d->self = self;
  d->groups = g_array_new (FALSE, TRUE, sizeof (CsFigureGroup));
  d->arrows = g_array_new (FALSE, TRUE, sizeof (CsFigureArrow));
  d->strings = g_ptr_array_new_with_free_func (g_free);
  /* hidden categories stay in the legend, greyed, so a click brings them back */
  for (guint i = 0; i < g->categories->items->len; i++)
    {
      CsCategory *c = cs_category_set_get (g->categories, i);
      if (!g->vectors[i].estimated)
        continue;
      char *name = g_markup_printf_escaped ("%s (%u)", c->name, c->tokens->len);
      CsFigureGroup grp = { name, (const gint32 *) c->tokens->data, c->tokens->len, i, !self->visible[i],
                            self->geo_box->train[i] };
      g_ptr_array_add (d->strings, name);
      g_array_append_val (d->groups, grp);
    }
  cs_geometry_axis_arrows (g, self->proj, self->ax, d->arrows, d->strings);
  cs_geometry_axis_arrows (g, self->proj, self->ay, d->arrows, d->strings);
  d->xl = cs_geometry_axis_markup (g, self->ax);
  {
    g_autofree char *y = cs_geometry_axis_markup (g, self->ay);
    d->yl = self->orthogonalise ? g_strdup_printf ("%s %s", y, _("(orthogonalised)")) : g_strdup (y);
  }
}

static void
projection_data_clear (ProjectionData *d)
{
  g_array_unref (d->groups);
  g_array_unref (d->arrows);
  g_ptr_array_unref (d->strings);
  g_free (d->xl);
  g_free (d->yl);
}

static CsProjectionFigure
projection_figure (ProjectionData *d, gboolean interactive)
{
  CsGeometryPage *self = d->self;
  CsProjectionFigure fig = { 0 };
  fig.n_points = self->proj->vocab;
  fig.x = self->proj->x;
  fig.y = self->proj->y;
  fig.groups = (CsFigureGroup *) d->groups->data;
  fig.n_groups = d->groups->len;
  fig.arrows = (CsFigureArrow *) d->arrows->data;
  fig.n_arrows = d->arrows->len;
  fig.x_label = d->xl;
  fig.y_label = d->yl;
  if (interactive)
    {
      fig.fixed_range = self->fixed_range;
      memcpy (fig.range, self->range, sizeof fig.range);
      fig.highlight = self->hover ? self->hover : self->picked;
    }
  if (self->marked && self->marked->len)
    {
      fig.marked = (const gint32 *) self->marked->data;
      fig.n_marked = self->marked->len;
    }
  fig.held_out_only = gtk_check_button_get_active (self->held_out_check);
  return fig;
}

static void
draw_projection (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  ProjectionData *d = data;
  CsProjectionFigure fig = projection_figure (d, FALSE);
  cs_figure_draw_projection (cr, 0, 0, w, h, s, &fig);
}

typedef struct
{
  GPtrArray *names;
  GArray    *a, *b, *c;
} TableData;

static void
table_clear (TableData *t)
{
  g_ptr_array_unref (t->names);
  g_array_unref (t->a);
  g_array_unref (t->b);
  if (t->c)
    g_array_unref (t->c);
}

/* Reliable (or shown) categories, for the heatmap and validation plot. */
static void
cosine_table (CsGeometryPage *self, TableData *t)
{
  CsGeometry *g = self->geometry;
  guint n = g->categories->items->len;
  g_autofree guint *idx = g_new (guint, n);
  guint m = 0;
  t->names = g_ptr_array_new_with_free_func (g_free);
  t->a = g_array_new (FALSE, FALSE, sizeof (double));
  t->b = g_array_new (FALSE, FALSE, sizeof (double));
  t->c = NULL;
  for (guint i = 0; i < n; i++)
    if (self->visible[i] && g->vectors[i].estimated)
      idx[m++] = i;
  for (guint i = 0; i < m; i++)
    {
      CsCategoryVector *v = &g->vectors[idx[i]];
      CsStat st[4] = { v->train, v->test, v->random, v->shuffled_test };
      g_ptr_array_add (t->names, g_markup_escape_text (cs_category_set_get (g->categories, idx[i])->name, -1));
      for (guint j = 0; j < m; j++)
        g_array_append_val (t->a, g->cos[idx[i] * n + idx[j]]);
      for (int k = 0; k < 4; k++)
        {
          g_array_append_val (t->b, st[k].mean);
          if (!t->c)
            t->c = g_array_new (FALSE, FALSE, sizeof (double));
          g_array_append_val (t->c, st[k].std);
        }
    }
  g_ptr_array_add (t->names, NULL);
}

static void
draw_cosines (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  CsGeometryPage *self = data;
  TableData t;
  cosine_table (self, &t);
  CsHeatmapFigure fig = { t.names->len - 1, (const char * const *) t.names->pdata, (double *) t.a->data,
                          "cos(ℓ̄<sub>w</sub>, ℓ̄<sub>z</sub>)" };
  cs_figure_draw_heatmap (cr, 0, 0, w, h, s, &fig);
  table_clear (&t);
}

static void
on_cosine_motion (GtkEventControllerMotion *m, double x, double y, CsGeometryPage *self)
{
  TableData t;
  CsFigureStyle st = cs_ui_screen_style ();
  guint row, col;
  g_autofree char *tip = NULL;
  if (!self->geometry)
    return;
  cosine_table (self, &t);
  CsHeatmapFigure fig = { t.names->len - 1, (const char * const *) t.names->pdata, (double *) t.a->data,
                          "cos(ℓ̄<sub>w</sub>, ℓ̄<sub>z</sub>)" };
  if (cs_figure_heatmap_cell_at (0, 0, gtk_widget_get_width (GTK_WIDGET (self->cosine_area)),
                                 gtk_widget_get_height (GTK_WIDGET (self->cosine_area)), &st, &fig, x, y, &row, &col))
    tip = g_strdup_printf ("cos(ℓ̄ %s, ℓ̄ %s) = %.3f", fig.names[row], fig.names[col], fig.matrix[row * fig.n + col]);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->cosine_area), tip);
  table_clear (&t);
}

static void
draw_validation (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  CsGeometryPage *self = data;
  TableData t;
  cosine_table (self, &t);
  CsValidationFigure fig = { t.names->len - 1, (const char * const *) t.names->pdata, (double *) t.b->data,
                             t.c ? (double *) t.c->data : NULL, _("Category vectors on held-out tokens") };
  if (fig.n > 0)
    cs_figure_draw_validation (cr, 0, 0, w, h, s, &fig);
  table_clear (&t);
}

static void
draw_orthogonality (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  CsGeometryPage *self = data;
  CsGeometry *g = self->geometry;
  guint n = g->categories->items->len;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) plain = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) diff = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < n; i++)
    {
      CsCategory *c = cs_category_set_get (g->categories, i);
      if (c->parent < 0 || !self->visible[i] || !g->vectors[i].estimated || !g->vectors[c->parent].estimated)
        continue;
      g_ptr_array_add (names, g_markup_escape_text (c->name, -1));
      g_array_append_val (plain, g->cos[i * n + c->parent]);
      g_array_append_val (diff, g->vectors[i].cos_parent);
    }
  g_ptr_array_add (names, NULL);
  CsOrthogonalityFigure fig = { plain->len, (const char * const *) names->pdata, (double *) plain->data,
                                (double *) diff->data, _("Children vs their parent") };
  cs_figure_draw_orthogonality (cr, 0, 0, w, h, s, &fig);
}

static void
draw_figure2 (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  CsGeometryPage *self = data;
  CsGeometry *g = self->geometry;
  static const char *titles[] = { "animal ⊃ mammal", "hierarchy ⊥", "mammal, bird, fish" };

  if (!self->fig2[0])
    {
      cairo_move_to (cr, 20, h / 2);
      cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
      cairo_show_text (cr, _("Figure 2 needs the categories animal, mammal, bird and fish"));
      return;
    }
  for (int k = 0; k < 3; k++)
    {
      g_autoptr(GArray) groups = g_array_new (FALSE, TRUE, sizeof (CsFigureGroup));
      g_autoptr(GArray) arrows = g_array_new (FALSE, TRUE, sizeof (CsFigureArrow));
      g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *xl = cs_geometry_axis_markup (g, self->fig2_ax[k]);
      g_autofree char *yl = cs_geometry_axis_markup (g, self->fig2_ay[k]);
      CsProjectionFigure fig = { 0 };
      for (guint i = 0; i < g->categories->items->len; i++)
        {
          CsCategory *c = cs_category_set_get (g->categories, i);
          if (!self->visible[i] || !g->vectors[i].estimated)
            continue;
          char *name = g_markup_printf_escaped ("%s (%u)", c->name, c->tokens->len);
          CsFigureGroup grp = { name, (const gint32 *) c->tokens->data, c->tokens->len, i, FALSE,
                                self->geo_box->train[i] };
          g_ptr_array_add (strings, name);
          g_array_append_val (groups, grp);
        }
      cs_geometry_axis_arrows (g, self->fig2[k], self->fig2_ax[k], arrows, strings);
      cs_geometry_axis_arrows (g, self->fig2[k], self->fig2_ay[k], arrows, strings);
      fig.n_points = self->fig2[k]->vocab;
      fig.x = self->fig2[k]->x;
      fig.y = self->fig2[k]->y;
      fig.groups = (CsFigureGroup *) groups->data;
      fig.n_groups = groups->len;
      fig.arrows = (CsFigureArrow *) arrows->data;
      fig.n_arrows = arrows->len;
      fig.x_label = xl;
      fig.y_label = yl;
      fig.title = titles[k];
      fig.held_out_only = gtk_check_button_get_active (self->held_out_check);
      cs_figure_draw_projection (cr, k * w / 3, 0, w / 3, h, s, &fig);
    }
}

/* The paper's Figure 2 planes: ℓ̄_animal × ℓ̄_mammal, ℓ̄_animal × ℓ̄_bird − ℓ̄_mammal,
 * ℓ̄_bird − ℓ̄_mammal × ℓ̄_fish − ℓ̄_mammal; FALSE when a category is missing. */
static gboolean
figure2_axes (CsCategorySet *c, CsAxis *ax, CsAxis *ay)
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

/* The axes a new geometry opens with: Figure 2's first panel, or for another
 * hierarchy its root and first reliable child. */
static gboolean
default_axes (CsGeometry *g, CsAxis *ax, CsAxis *ay)
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

static gboolean
same_axis (CsAxis a, CsAxis b)
{
  return a.plus == b.plus && a.minus == b.minus;
}

static void
forget_projected (CsGeometryPage *self)
{
  for (int k = 0; k < 3; k++)
    g_clear_pointer (&self->pre_fig2[k], cs_projection_free);
  g_clear_pointer (&self->pre_proj, cs_projection_free);
}

static void
compute_figure2 (CsGeometryPage *self)
{
  for (int k = 0; k < 3; k++)
    g_clear_pointer (&self->fig2[k], cs_projection_free);
  if (!figure2_axes (self->geometry->categories, self->fig2_ax, self->fig2_ay))
    return;
  if (self->pre_fig2[0])
    {
      for (int k = 0; k < 3; k++)
        self->fig2[k] = g_steal_pointer (&self->pre_fig2[k]);
      return;
    }
  for (int k = 0; k < 3; k++)
    if (!(self->fig2[k] = cs_geometry_project (self->space, self->geometry, self->fig2_ax[k], self->fig2_ay[k],
                                               TRUE, NULL)))
      {
        for (int j = 0; j < 3; j++)
          g_clear_pointer (&self->fig2[j], cs_projection_free);
        return;
      }
}

static void
area_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CsGeometryPage *self = user_data;
  CsFigureStyle s = cs_ui_screen_style ();

  s.width = width;
  s.height = height;
  cs_figure_paint_background (cr, width, height, &s);
  if (!self->geometry || !self->proj)
    return;
  if (area == self->projection_area)
    {
      ProjectionData d;
      projection_data_init (&d, self);
      CsProjectionFigure fig = projection_figure (&d, TRUE);
      fig.cloud_cache = self->cloud_cache;
      cs_figure_draw_projection (cr, 0, 0, width, height, &s, &fig);
      projection_data_clear (&d);
      if (self->selecting)
        {
          cairo_rectangle (cr, MIN (self->sel[0], self->sel[2]), MIN (self->sel[1], self->sel[3]),
                           fabs (self->sel[2] - self->sel[0]), fabs (self->sel[3] - self->sel[1]));
          cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.15);
          cairo_fill_preserve (cr);
          cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.9);
          cairo_set_line_width (cr, 1);
          cairo_stroke (cr);
        }
    }
  else if (area == self->cosine_area)
    draw_cosines (cr, width, height, &s, self);
  else if (area == self->validation_area)
    draw_validation (cr, width, height, &s, self);
  else if (area == self->fig2_area)
    {
      s.font_size *= 0.85;
      draw_figure2 (cr, width, height, &s, self);
    }
  else
    draw_orthogonality (cr, width, height, &s, self);
}

static void
redraw (CsGeometryPage *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->projection_area));
  gtk_widget_queue_draw (GTK_WIDGET (self->cosine_area));
  gtk_widget_queue_draw (GTK_WIDGET (self->validation_area));
  gtk_widget_queue_draw (GTK_WIDGET (self->orth_area));
  gtk_widget_queue_draw (GTK_WIDGET (self->fig2_area));
}

/* ---- axes ---- */

static gboolean
reproject (CsGeometryPage *self, GError **error)
{
  CsProjection *p;
  if (self->pre_proj && self->orthogonalise && same_axis (self->ax, self->pre_ax) && same_axis (self->ay, self->pre_ay))
    p = g_steal_pointer (&self->pre_proj);
  else
    p = cs_geometry_project (self->space, self->geometry, self->ax, self->ay, self->orthogonalise, error);
  forget_projected (self);
  if (!p)
    return FALSE;
  g_clear_pointer (&self->proj, cs_projection_free);
  self->proj = p;
  self->fixed_range = FALSE;
  self->hover = 0;
  self->picked = 0;
  redraw (self);
  return TRUE;
}

static int
drop_index (GtkDropDown *d, gboolean with_none)
{
  guint sel = gtk_drop_down_get_selected (d);
  if (sel == GTK_INVALID_LIST_POSITION)
    return -1;
  return with_none ? (int) sel - 1 : (int) sel;
}

static void
on_axes_changed (CsGeometryPage *self)
{
  g_autoptr(GError) error = NULL;
  CsAxis ax, ay;
  if (self->updating || !self->geometry)
    return;
  ax = (CsAxis) { drop_index (self->x_drop, FALSE), drop_index (self->xm_drop, TRUE) };
  ay = (CsAxis) { drop_index (self->y_drop, FALSE), drop_index (self->ym_drop, TRUE) };
  if (ax.plus < 0 || ay.plus < 0)
    return;
  CsAxis oldx = self->ax, oldy = self->ay;
  gboolean old_orth = self->orthogonalise;
  GeoState *before = capture_state (self);
  self->ax = ax;
  self->ay = ay;
  self->orthogonalise = gtk_check_button_get_active (self->orth_check);
  if (!reproject (self, &error))
    {
      geo_state_free (before);
      self->ax = oldx;
      self->ay = oldy;
      self->orthogonalise = old_orth;
      gtk_label_set_text (self->status_label, error->message);
      gtk_widget_set_visible (self->status_box, TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
      gtk_widget_set_visible (self->cancel_button, FALSE);
    }
  else
    {
      gtk_widget_set_visible (self->status_box, FALSE);
      cs_history_push (self->history, _("changing the axes"), before);
      update_undo_buttons (self);
    }
}

static void
select_axes_widgets (CsGeometryPage *self)
{
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->x_drop, (guint) self->ax.plus);
  gtk_drop_down_set_selected (self->xm_drop, (guint) (self->ax.minus + 1));
  gtk_drop_down_set_selected (self->y_drop, (guint) self->ay.plus);
  gtk_drop_down_set_selected (self->ym_drop, (guint) (self->ay.minus + 1));
  gtk_check_button_set_active (self->orth_check, self->orthogonalise);
  self->updating = FALSE;
}

gboolean
cs_geometry_page_set_axes (CsGeometryPage *self, const char *x, const char *xm, const char *y, const char *ym,
                           gboolean orthogonalise, GError **error)
{
  CsCategorySet *c;
  g_return_val_if_fail (CS_IS_GEOMETRY_PAGE (self), FALSE);
  if (!self->geometry)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "the geometry is not computed yet");
      return FALSE;
    }
  c = self->geometry->categories;
  CsAxis ax = { cs_category_set_find (c, x), xm ? cs_category_set_find (c, xm) : -1 };
  CsAxis ay = { cs_category_set_find (c, y), ym ? cs_category_set_find (c, ym) : -1 };
  if (ax.plus < 0 || ay.plus < 0 || (xm && ax.minus < 0) || (ym && ay.minus < 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "unknown category in the axes");
      return FALSE;
    }
  self->ax = ax;
  self->ay = ay;
  self->orthogonalise = orthogonalise;
  select_axes_widgets (self);
  return reproject (self, error);
}

/* ---- categories ---- */

static void
on_category_toggled (GtkCheckButton *button, CsGeometryPage *self)
{
  guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "index"));
  if (self->geometry && i < self->geometry->categories->items->len)
    {
      const char *name = cs_category_set_get (self->geometry->categories, i)->name;
      g_autofree char *label = gtk_check_button_get_active (button) ? g_strdup_printf (_("showing %s"), name)
                                                                     : g_strdup_printf (_("hiding %s"), name);
      remember (self, label);
      self->visible[i] = gtk_check_button_get_active (button);
      redraw (self);
    }
}

void
cs_geometry_page_set_category_visible (CsGeometryPage *self, const char *name, gboolean visible)
{
  GtkWidget *child;
  int i = self->geometry ? cs_category_set_find (self->geometry->categories, name) : -1;
  if (i < 0)
    return;
  for (child = gtk_widget_get_first_child (self->categories_box); child; child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_CHECK_BUTTON (child) &&
        GPOINTER_TO_INT (g_object_get_data (G_OBJECT (child), "index")) == i)
      gtk_check_button_set_active (GTK_CHECK_BUTTON (child), visible);
}

gboolean
cs_geometry_page_get_category_visible (CsGeometryPage *self, const char *name)
{
  int i = self->geometry ? cs_category_set_find (self->geometry->categories, name) : -1;
  return i >= 0 && self->visible[i];
}

static void compute_figure2 (CsGeometryPage *self);

static void
fill_sidebar (CsGeometryPage *self)
{
  compute_figure2 (self);
  CsCategorySet *c = self->geometry->categories;
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) minus = gtk_string_list_new (NULL);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->categories_box)))
    gtk_box_remove (GTK_BOX (self->categories_box), child);
  gtk_string_list_append (minus, "—");
  for (guint i = 0; i < c->items->len; i++)
    {
      CsCategory *cat = cs_category_set_get (c, i);
      g_autofree char *label = cat->reliable ?
        g_strdup_printf ("%s%s (%u)", cat->parent >= 0 ? "    " : "", cat->name, cat->tokens->len) :
        g_strdup_printf (_("%s%s (%u, unreliable)"), cat->parent >= 0 ? "    " : "", cat->name, cat->tokens->len);
      GtkWidget *check = gtk_check_button_new_with_label (label);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check), self->visible[i]);
      g_object_set_data (G_OBJECT (check), "index", GUINT_TO_POINTER (i));
      if (!cat->reliable)
        gtk_widget_set_tooltip_text (check, _("Too few tokens for a reliable vector; hidden unless checked"));
      g_signal_connect (check, "toggled", G_CALLBACK (on_category_toggled), self);
      gtk_box_append (GTK_BOX (self->categories_box), check);
      gtk_string_list_append (names, cat->name);
      gtk_string_list_append (minus, cat->name);
    }
  self->updating = TRUE;
  gtk_drop_down_set_model (self->x_drop, G_LIST_MODEL (names));
  gtk_drop_down_set_model (self->y_drop, G_LIST_MODEL (names));
  gtk_drop_down_set_model (self->xm_drop, G_LIST_MODEL (minus));
  gtk_drop_down_set_model (self->ym_drop, G_LIST_MODEL (minus));
  self->updating = FALSE;
}

/* ---- background computation ---- */

typedef struct
{
  CsGeometrySpace *space;
  CsGeometry      *geometry;
  CsTokenizer     *tok;
  CsProjection    *planes[4];   /* Figure 2's three (when has_fig2), then the default axes' */
  int              n_planes;
  gboolean         has_fig2;
  CsAxis           ax[4], ay[4];
} Computed;

static void
computed_free (gpointer p)
{
  Computed *c = p;
  for (int k = 0; k < c->n_planes; k++)
    cs_projection_free (c->planes[k]);
  cs_geometry_space_free (c->space);
  cs_geometry_free (c->geometry);
  if (c->tok)
    cs_tokenizer_free (c->tok);
  g_free (c);
}

typedef struct
{
  CsModel *model;
  char    *hierarchy;
  double   train_fraction;
  guint    seed;
  int      min_tokens;
  char    *extra_name;
  char    *extra_words;
  char    *json;         /* the user's categories instead of WordNet */
  char    *description;  /* where the categories come from, once they are shown */
  CsGeometrySpace *space; /* the whitening already shown for this model, or NULL */
  char    *cache_key;    /* the model's path and identity, for the whitening cache */
} Params;

static void
params_free (gpointer p)
{
  Params *q = p;
  g_object_unref (q->model);
  g_free (q->hierarchy);
  g_free (q->extra_name);
  g_free (q->extra_words);
  g_free (q->json);
  g_free (q->description);
  cs_geometry_space_free (q->space);
  g_free (q->cache_key);
  g_free (q);
}

static void
estimate_progress (double fraction, gpointer data)
{
  CsGeometryPage *self = data;
  /* the whitening is the first half of the work */
  g_atomic_int_set (&self->progress_permille, 500 + (int) (fraction * 500));
}

typedef struct
{
  CsModel         *model;
  const char      *key;
  GCancellable    *cancellable;
  CsGeometrySpace *space;
  GError          *error;
  CsGeometryPage  *page;   /* for the progress; outlives the job (the task holds it) */
} SpaceJob;

static void
cancel_too (GCancellable *cancellable, gpointer other)
{
  g_cancellable_cancel (other);
}

static void
whitening_progress (double fraction, gpointer data)
{
  CsGeometryPage *self = data;
  /* the first half of the bar; at least 1 ‰, which ends the pulsing */
  g_atomic_int_set (&self->progress_permille, MAX (1, MIN (499, (int) (fraction * 500))));
}

static gpointer
space_thread (gpointer data)
{
  SpaceJob *j = data;
  j->space = cs_geometry_space_new_cached_with_progress (cs_model_get_unembedding (j->model), j->key, CS_DEVICE_AUTO,
                                                         NULL, whitening_progress, j->page, j->cancellable,
                                                         &j->error);
  return NULL;
}

static void
compute_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Params *prm = task_data;
  CsModel *model = prm->model;
  CsCategoryOptions co = CS_CATEGORY_OPTIONS_INIT;
  GError *error = NULL;
  Computed *c = g_new0 (Computed, 1);
  g_autoptr(CsWordNet) wn = NULL;
  CsCategorySet *cats = NULL;
  const char *tp = cs_model_get_tokenizer_path (model);

  co.min_tokens = prm->min_tokens;
  if (!tp)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                               _("The model has no tokenizer.json, so its tokens cannot be matched to words"));
      computed_free (c);
      return;
    }
  /* the whitening (read from the cache, or computed) beside the tokenizer
   * and the categories, which do not need it */
  /* its own cancellable, so that a failure here stops it without marking
   * the task cancelled (which would hide the failure's message) */
  g_autoptr(GCancellable) own = g_cancellable_new ();
  gulong chained = cancellable ? g_cancellable_connect (cancellable, G_CALLBACK (cancel_too), own, NULL) : 0;
  SpaceJob job = { model, prm->cache_key, own, NULL, NULL, g_task_get_source_object (task) };
  GThread *space = prm->space ? NULL : g_thread_new ("whitening", space_thread, &job);
  if (!(c->tok = cs_model_open_tokenizer (model, &error)) ||
      (prm->json ? !(cats = cs_category_set_from_json (prm->json, c->tok, &co, &error))
                 : (!(wn = cs_wordnet_open (NULL, &error)) ||
                    !(cats = cs_category_set_from_wordnet (wn, prm->hierarchy, c->tok, &co, &error)))))
    {
      if (space)
        {
          g_cancellable_cancel (own);
          g_thread_join (space);
          cs_geometry_space_free (job.space);
          g_clear_error (&job.error);
        }
      if (chained)
        g_cancellable_disconnect (cancellable, chained);
      g_task_return_error (task, error);
      computed_free (c);
      return;
    }
  if (space)
    {
      g_thread_join (space);
      c->space = job.space;
      error = job.error;
    }
  else
    c->space = g_steal_pointer (&prm->space);
  if (chained)
    g_cancellable_disconnect (cancellable, chained);
  if (!c->space)
    {
      cs_category_set_free (cats);
      g_task_return_error (task, error);
      computed_free (c);
      return;
    }
  if (prm->extra_name && *prm->extra_name && prm->extra_words)
    {
      g_auto(GStrv) words = g_strsplit_set (prm->extra_words, ",;\n", -1);
      for (guint i = 0; words[i]; i++)
        g_strstrip (words[i]);
      int existing = cs_category_set_find (cats, prm->extra_name);
      if (existing >= 0)
        {
          /* editing a category: its words are replaced */
          CsCategory *old = cs_category_set_get (cats, existing);
          g_autoptr(CsCategorySet) tmp = cs_category_set_new (cats->min_tokens);
          CsCategory *fresh = cs_category_set_add_words (tmp, c->tok, prm->extra_name, -1,
                                                         (const char * const *) words, FALSE);
          g_array_set_size (old->tokens, 0);
          g_array_append_vals (old->tokens, fresh->tokens->data, fresh->tokens->len);
          old->reliable = (int) old->tokens->len >= MAX (cats->min_tokens, 2);
        }
      else
        cs_category_set_add_words (cats, c->tok, prm->extra_name, 0, (const char * const *) words, FALSE);
    }
  g_atomic_int_set (&((CsGeometryPage *) g_task_get_source_object (task))->progress_permille, 500);
  if (!(c->geometry = cs_geometry_estimate_with_progress (c->space, cats, prm->train_fraction, prm->seed,
                                                          estimate_progress, g_task_get_source_object (task),
                                                          cancellable, &error)))
    {
      g_task_return_error (task, error);
      computed_free (c);
      return;
    }
  /* the planes the page opens with, here rather than on the main loop; if
   * they cannot be made the page makes them (and says why) */
  {
    int n = figure2_axes (c->geometry->categories, c->ax, c->ay) ? 3 : 0;
    gboolean fig2 = n == 3;
    if (default_axes (c->geometry, &c->ax[n], &c->ay[n]))
      n++;
    if (n > 0 && cs_geometry_project_many (c->space, c->geometry, c->ax, c->ay, n, TRUE, c->planes, NULL))
      {
        c->n_planes = n;
        c->has_fig2 = fig2;
      }
  }
  g_task_return_pointer (task, c, computed_free);
}

static gboolean
update_progress (gpointer data)
{
  CsGeometryPage *self = data;
  int p = g_atomic_int_get (&self->progress_permille);
  if (!self->cancellable)
    {
      self->progress_source = 0;
      return G_SOURCE_REMOVE;
    }
  if (p > 0)
    {
      /* the phase's own fraction and, once a few seconds show the pace, the
       * time left at that pace */
      int phase = p < 500 ? 1 : 2, end = phase == 1 ? 500 : 1000;
      gint64 now = g_get_monotonic_time ();
      double f, elapsed;
      g_autofree char *left = NULL;
      g_autofree char *text = NULL;
      if (phase != self->shown_phase)
        {
          self->shown_phase = phase;
          self->phase_t0 = now;
          self->phase_p0 = p;
        }
      f = (double) (p - self->phase_p0) / MAX (1, end - self->phase_p0);
      elapsed = (now - self->phase_t0) / 1e6;
      if (elapsed > 3 && f > 0.01 && f < 1)
        {
          double s = elapsed * (1 - f) / f;
          left = s < 90 ? g_strdup_printf (g_dngettext (NULL, "about %d second left", "about %d seconds left",
                                                        (int) ceil (s)), (int) ceil (s))
                        : g_strdup_printf (g_dngettext (NULL, "about %d minute left", "about %d minutes left",
                                                        (int) ceil (s / 60)), (int) ceil (s / 60));
        }
      gtk_progress_bar_set_fraction (self->progress_bar, p / 1000.0);
      if (phase == 1)
        text = left ? g_strdup_printf (_("Whitening the unembedding: %d %% (%s)…"), p / 5, left)
                    : g_strdup_printf (_("Whitening the unembedding: %d %%…"), p / 5);
      else
        text = left ? g_strdup_printf (_("Estimating the categories: %d %% (%s)…"), (p - 500) / 5, left)
                    : g_strdup_printf (_("Estimating the categories: %d %%…"), (p - 500) / 5);
      gtk_label_set_text (self->status_label, text);
    }
  else
    gtk_progress_bar_pulse (self->progress_bar);   /* reading the tokenizer and the whitening's cache */
  return G_SOURCE_CONTINUE;
}

static void
set_busy (CsGeometryPage *self, const char *message)
{
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), message != NULL && self->cancellable != NULL);
  if (self->cancellable && !self->progress_source)
    self->progress_source = g_timeout_add (100, update_progress, self);
  gtk_widget_set_visible (self->status_box, message != NULL);
  gtk_spinner_set_spinning (self->spinner, message != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_widget_set_visible (self->cancel_button, TRUE);
  if (message)
    gtk_label_set_text (self->status_label, message);
}

static void
compute_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(CsGeometryPage) self = user_data;
  g_autoptr(GError) error = NULL;
  Computed *c = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_task_get_cancellable (G_TASK (result)) != self->cancellable)
    {
      if (c)
        computed_free (c);
      return;   /* superseded by a newer model */
    }
  g_clear_object (&self->cancellable);
  if (!c)
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      set_busy (self, error->message);
      /* the panel shows the parameters of what is drawn again */
      if (self->geometry)
        {
          self->updating = TRUE;
          gtk_spin_button_set_value (self->fraction_spin, self->geometry->train_fraction);
          gtk_spin_button_set_value (self->seed_spin, self->geometry->seed);
          gtk_spin_button_set_value (self->min_spin, self->geometry->categories->min_tokens);
          if (self->hierarchy && g_str_has_prefix (self->hierarchy, "WordNet "))
            {
              /* "WordNet animal" or, from the command line, "WordNet animal (/usr/share/wordnet)" */
              g_autofree char *root = g_strdup (self->hierarchy + strlen ("WordNet "));
              char *space = strchr (root, ' ');
              if (space)
                *space = '\0';
              gtk_editable_set_text (GTK_EDITABLE (self->hierarchy_entry), root);
            }
          self->updating = FALSE;
        }
      gtk_spinner_set_spinning (self->spinner, FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
      gtk_widget_set_visible (self->cancel_button, FALSE);
      return;
    }
  if (self->new_model)
    forget_history (self);
  else
    remember (self, _("recomputing the categories"));
  self->new_model = FALSE;
  {
    Params *prm = g_task_get_task_data (G_TASK (result));
    g_free (self->hierarchy);
    self->hierarchy = g_steal_pointer (&prm->description);
  }
  cs_geometry_space_free (self->space);
  if (self->tok)
    cs_tokenizer_free (self->tok);
  self->space = g_steal_pointer (&c->space);
  set_geometry (self, geo_box_new (g_steal_pointer (&c->geometry)));
  self->tok = g_steal_pointer (&c->tok);
  forget_projected (self);
  {
    int k = 0;
    for (; c->has_fig2 && k < 3; k++)
      self->pre_fig2[k] = g_steal_pointer (&c->planes[k]);
    if (k < c->n_planes)
      {
        self->pre_proj = g_steal_pointer (&c->planes[k]);
        self->pre_ax = c->ax[k];
        self->pre_ay = c->ay[k];
      }
  }
  computed_free (c);
  g_free (self->visible);
  self->visible = g_new0 (gboolean, self->geometry->categories->items->len);
  for (guint i = 0; i < self->geometry->categories->items->len; i++)
    self->visible[i] = cs_category_set_get (self->geometry->categories, i)->reliable;
  fill_sidebar (self);
  set_busy (self, NULL);
  g_clear_pointer (&self->workspace_path, g_free);
  if (self->marked)
    g_array_set_size (self->marked, 0);
  g_signal_emit (self, signals[GEOMETRY_CHANGED], 0);
  /* the axes the background work already projected (default_axes) */
  {
    CsCategorySet *cs = self->geometry->categories;
    CsAxis ax, ay;
    if (!default_axes (self->geometry, &ax, &ay) ||
        !cs_geometry_page_set_axes (self, cs_category_set_get (cs, ax.plus)->name, NULL,
                                    cs_category_set_get (cs, ay.plus)->name, NULL, TRUE, &error))
      set_busy (self, error ? error->message : _("Too few categories with enough tokens to draw"));
  }
}

void
cs_geometry_page_compute (CsGeometryPage *self, const char *hierarchy, double train_fraction, guint seed,
                          int min_tokens, const char *extra_name, const char *extra_words)
{
  g_autoptr(GTask) task = NULL;
  Params *prm;

  g_return_if_fail (CS_IS_GEOMETRY_PAGE (self));
  if (!self->model)
    return;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->error, g_free);
  self->cancellable = g_cancellable_new ();
  prm = g_new0 (Params, 1);
  prm->model = g_object_ref (self->model);
  prm->hierarchy = g_strdup (hierarchy && *hierarchy ? hierarchy : "animal");
  /* the page's description changes when the new categories are shown, not
   * before: a cancelled or failed run leaves what is drawn described */
  prm->description = self->json_path ? g_strdup_printf ("categories from %s", self->json_path)
                                     : g_strdup_printf ("WordNet %s", prm->hierarchy);
  prm->train_fraction = train_fraction;
  prm->seed = seed;
  prm->min_tokens = min_tokens;
  prm->extra_name = g_strdup (extra_name);
  prm->extra_words = g_strdup (extra_words);
  prm->json = g_strdup (self->json_path);
  /* the same model's whitening does not change: only the categories are new */
  if (self->space && !self->new_model && self->space->unembedding == cs_model_get_unembedding (self->model))
    prm->space = cs_geometry_space_ref (self->space);
  prm->cache_key = cs_model_get_cache_key (self->model);
  task = g_task_new (self, self->cancellable, compute_done, g_object_ref (self));
  g_atomic_int_set (&self->progress_permille, prm->space ? 500 : 0);
  g_task_set_task_data (task, prm, params_free);
  self->shown_phase = 0;
  g_task_run_in_thread (task, compute_thread);
  /* with the whitening reused there is none to wait for */
  set_busy (self, prm->space ? _("Estimating the categories…")
                             : _("Whitening the unembedding and estimating the categories…"));
}

void
cs_geometry_page_compute_json (CsGeometryPage *self, const char *path, double train_fraction, guint seed,
                               int min_tokens)
{
  g_free (self->json_path);
  self->json_path = g_strdup (path);
  cs_geometry_page_compute (self, NULL, train_fraction, seed, min_tokens, NULL, NULL);
}

static void
json_chosen (GtkWidget *owner, const char *path)
{
  CsGeometryPage *self = CS_GEOMETRY_PAGE (owner);
  cs_geometry_page_compute_json (self, path, gtk_spin_button_get_value (self->fraction_spin),
                                 (guint) gtk_spin_button_get_value_as_int (self->seed_spin),
                                 gtk_spin_button_get_value_as_int (self->min_spin));
}

static void
load_json_clicked (CsGeometryPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Load Categories"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL,
                     _("Category lists (JSON)"), "*.json", json_chosen);
}

void
cs_geometry_page_set_model (CsGeometryPage *self, CsModel *model)
{
  g_return_if_fail (CS_IS_GEOMETRY_PAGE (self));
  g_set_object (&self->model, model);
  self->new_model = TRUE;   /* the history ends with the model its states came from */
  cs_geometry_page_compute (self, "animal", 0.7, 0, 10, NULL, NULL);
}

static void
recompute_clicked (CsGeometryPage *self)
{
  g_clear_pointer (&self->json_path, g_free);    /* the WordNet root field rules again */
  cs_geometry_page_compute (self, gtk_editable_get_text (GTK_EDITABLE (self->hierarchy_entry)),
                            gtk_spin_button_get_value (self->fraction_spin),
                            (guint) gtk_spin_button_get_value_as_int (self->seed_spin),
                            gtk_spin_button_get_value_as_int (self->min_spin),
                            gtk_editable_get_text (GTK_EDITABLE (self->extra_name)),
                            gtk_editable_get_text (GTK_EDITABLE (self->extra_words)));
}

void
cs_geometry_page_cancel (CsGeometryPage *self)
{
  g_return_if_fail (CS_IS_GEOMETRY_PAGE (self));
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

static void
cancel_clicked (CsGeometryPage *self)
{
  cs_geometry_page_cancel (self);
}

gboolean
cs_geometry_page_get_busy (CsGeometryPage *self)
{
  return self->cancellable != NULL;
}

const char *
cs_geometry_page_get_error (CsGeometryPage *self)
{
  return self->error;
}

CsGeometry *
cs_geometry_page_get_geometry (CsGeometryPage *self)
{
  return self->geometry;
}

/* ---- zoom, pan, hover ---- */

static char *describe_token (CsGeometryPage *self, gint64 id);

static gboolean
current_frame (CsGeometryPage *self, CsFigureFrame *f)
{
  ProjectionData d;
  CsFigureStyle s = cs_ui_screen_style ();
  int w = gtk_widget_get_width (GTK_WIDGET (self->projection_area));
  int h = gtk_widget_get_height (GTK_WIDGET (self->projection_area));
  if (!self->proj || w <= 0 || h <= 0)
    return FALSE;
  projection_data_init (&d, self);
  CsProjectionFigure fig = projection_figure (&d, TRUE);
  cs_figure_projection_frame (0, 0, w, h, &s, &fig, f);
  projection_data_clear (&d);
  return TRUE;
}

void
cs_geometry_page_zoom (CsGeometryPage *self, double factor, double fx, double fy)
{
  CsFigureFrame f;
  if (!current_frame (self, &f))
    return;
  double cx = f.xmin + fx * (f.xmax - f.xmin), cy = f.ymax - fy * (f.ymax - f.ymin);
  self->range[0] = cx - (cx - f.xmin) / factor;
  self->range[1] = cx + (f.xmax - cx) / factor;
  self->range[2] = cy - (cy - f.ymin) / factor;
  self->range[3] = cy + (f.ymax - cy) / factor;
  self->fixed_range = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self->projection_area));
}

void
cs_geometry_page_reset_view (CsGeometryPage *self)
{
  self->fixed_range = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self->projection_area));
}

static gboolean
on_scroll (GtkEventControllerScroll *c, double dx, double dy, CsGeometryPage *self)
{
  CsFigureFrame f;
  double px, py;
  if (!current_frame (self, &f))
    return FALSE;
  GdkEvent *ev = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (c));
  if (!ev || !gdk_event_get_position (ev, &px, &py))
    px = f.x0 + f.w / 2, py = f.y0 + f.h / 2;
  cs_geometry_page_zoom (self, dy < 0 ? 1.25 : 0.8, CLAMP ((px - f.x0) / f.w, 0, 1), CLAMP ((py - f.y0) / f.h, 0, 1));
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *g, double x, double y, CsGeometryPage *self)
{
  CsFigureFrame f;
  if (current_frame (self, &f))
    {
      self->drag_range[0] = f.xmin;
      self->drag_range[1] = f.xmax;
      self->drag_range[2] = f.ymin;
      self->drag_range[3] = f.ymax;
    }
}

static void
on_drag_update (GtkGestureDrag *g, double ox, double oy, CsGeometryPage *self)
{
  CsFigureFrame f;
  if (!current_frame (self, &f) || f.w <= 0 || f.h <= 0)
    return;
  double sx = (self->drag_range[1] - self->drag_range[0]) / f.w, sy = (self->drag_range[3] - self->drag_range[2]) / f.h;
  self->range[0] = self->drag_range[0] - ox * sx;
  self->range[1] = self->drag_range[1] - ox * sx;
  self->range[2] = self->drag_range[2] + oy * sy;
  self->range[3] = self->drag_range[3] + oy * sy;
  self->fixed_range = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self->projection_area));
}

gboolean
cs_geometry_page_token_position (CsGeometryPage *self, gint64 id, double *x, double *y)
{
  CsFigureFrame f;
  graphene_point_t in, out;
  if (!current_frame (self, &f) || id < 0 || id >= self->proj->vocab)
    return FALSE;
  in.x = (float) (f.x0 + (self->proj->x[id] - f.xmin) / (f.xmax - f.xmin) * f.w);
  in.y = (float) (f.y0 + f.h - (self->proj->y[id] - f.ymin) / (f.ymax - f.ymin) * f.h);
  if (!gtk_widget_compute_point (GTK_WIDGET (self->projection_area), GTK_WIDGET (self), &in, &out))
    return FALSE;
  *x = out.x;
  *y = out.y;
  return TRUE;
}

gboolean
cs_geometry_page_to_projection (CsGeometryPage *self, double x, double y, double *ax, double *ay)
{
  graphene_point_t in = GRAPHENE_POINT_INIT ((float) x, (float) y), out;
  if (!gtk_widget_compute_point (GTK_WIDGET (self), GTK_WIDGET (self->projection_area), &in, &out))
    return FALSE;
  *ax = out.x;
  *ay = out.y;
  return TRUE;
}

gint64
cs_geometry_page_token_at (CsGeometryPage *self, double x, double y)
{
  CsFigureFrame f;
  gint64 best = -1;
  double best_d = 8 * 8;   /* pixels² */
  if (!current_frame (self, &f))
    return -1;
  double sx = f.w / (f.xmax - f.xmin), sy = f.h / (f.ymax - f.ymin);
  for (gint64 i = 0; i < self->proj->vocab; i++)
    {
      double px = f.x0 + (self->proj->x[i] - f.xmin) * sx - x, py = f.y0 + f.h - (self->proj->y[i] - f.ymin) * sy - y;
      double dd = px * px + py * py;
      if (dd < best_d)
        {
          best_d = dd;
          best = i;
        }
    }
  return best;
}

static void
on_motion (GtkEventControllerMotion *m, double x, double y, CsGeometryPage *self)
{
  gint64 id = cs_geometry_page_token_at (self, x, y);
  if (id + 1 == self->hover)
    return;
  self->hover = id + 1;
  if (id >= 0)
    {
      g_autofree char *tip = describe_token (self, id);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->projection_area), tip);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->projection_area), NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self->projection_area));
}

/* ---- workspaces ---- */

gboolean
cs_geometry_page_save_workspace (CsGeometryPage *self, const char *path, GError **error)
{
  g_autoptr(GHashTable) view = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GString) hidden = g_string_new (NULL);
  CsCategorySet *c;

  if (!self->geometry || !self->model)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to save yet"));
      return FALSE;
    }
  c = self->geometry->categories;
  g_hash_table_insert (view, "x", g_strdup (cs_category_set_get (c, self->ax.plus)->name));
  g_hash_table_insert (view, "x_minus", g_strdup (self->ax.minus >= 0 ? cs_category_set_get (c, self->ax.minus)->name : ""));
  g_hash_table_insert (view, "y", g_strdup (cs_category_set_get (c, self->ay.plus)->name));
  g_hash_table_insert (view, "y_minus", g_strdup (self->ay.minus >= 0 ? cs_category_set_get (c, self->ay.minus)->name : ""));
  g_hash_table_insert (view, "orthogonal", g_strdup (self->orthogonalise ? "1" : "0"));
  for (guint i = 0; i < c->items->len; i++)
    if (!self->visible[i])
      g_string_append_printf (hidden, "%s%s", hidden->len ? "\n" : "", cs_category_set_get (c, i)->name);
  g_hash_table_insert (view, "hidden", g_strdup (hidden->str));
  if (!cs_workspace_save_with_view (path, self->model, self->space, self->geometry,
                                    self->hierarchy ? self->hierarchy : "WordNet animal", view, error))
    return FALSE;
  g_free (self->workspace_path);
  self->workspace_path = g_strdup (path);
  return TRUE;
}

gboolean
cs_geometry_page_open_workspace (CsGeometryPage *self, CsModel *model, const char *path, GError **error)
{
  g_autoptr(CsWorkspace) ws = cs_workspace_load (path, error);
  const CsTensor *u = cs_model_get_unembedding (model);
  const char *tp = cs_model_get_tokenizer_path (model);
  CsTokenizer *tok;

  if (!ws)
    return FALSE;
  if (!ws->geometry)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", _("The workspace holds no categories"));
      return FALSE;
    }
  if ((int) u->shape[1] != ws->d || u->shape[0] != ws->vocab)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The workspace was made from a model of another shape than %s"), cs_model_get_name (model));
      return FALSE;
    }
  if (!tp || !(tok = cs_model_open_tokenizer (model, error)))
    {
      if (error && !*error)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                     _("The model has no tokenizer.json, so its tokens cannot be matched to words"));
      return FALSE;
    }
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  set_busy (self, NULL);
  if (self->model == model && !self->new_model)
    remember (self, _("opening the workspace"));
  else
    forget_history (self);
  self->new_model = FALSE;
  g_set_object (&self->model, model);
  g_clear_pointer (&self->tok, cs_tokenizer_free);
  self->tok = tok;
  cs_geometry_space_free (self->space);
  self->space = cs_geometry_space_new_from (u, ws->mean, ws->inv_sqrt, ws->n_floored);
  set_geometry (self, geo_box_new (g_steal_pointer (&ws->geometry)));
  g_free (self->visible);
  self->visible = g_new0 (gboolean, self->geometry->categories->items->len);
  {
    const char *hidden = g_hash_table_lookup (ws->view, "hidden");
    g_auto(GStrv) names = hidden && *hidden ? g_strsplit (hidden, "\n", -1) : NULL;
    for (guint i = 0; i < self->geometry->categories->items->len; i++)
      {
        CsCategory *c = cs_category_set_get (self->geometry->categories, i);
        self->visible[i] = names ? !g_strv_contains ((const char * const *) names, c->name) : c->reliable;
      }
  }
  fill_sidebar (self);
  {
    const char *x = g_hash_table_lookup (ws->view, "x"), *xm = g_hash_table_lookup (ws->view, "x_minus");
    const char *y = g_hash_table_lookup (ws->view, "y"), *ym = g_hash_table_lookup (ws->view, "y_minus");
    const char *o = g_hash_table_lookup (ws->view, "orthogonal");
    g_autoptr(GError) local = NULL;
    if (!x || !y || !cs_geometry_page_set_axes (self, x, xm && *xm ? xm : NULL, y, ym && *ym ? ym : NULL,
                                                g_strcmp0 (o, "0") != 0, &local))
      {
        /* a workspace from the command line has no view: the paper's first panel if it can */
        guint n = self->geometry->categories->items->len;
        const char *a = cs_category_set_get (self->geometry->categories, 0)->name;
        const char *b = cs_category_set_get (self->geometry->categories, MIN (1u, n - 1))->name;
        g_clear_error (&local);
        if (!cs_geometry_page_set_axes (self, a, NULL, b, NULL, TRUE, &local) &&
            !cs_geometry_page_set_axes (self, a, NULL, a, NULL, FALSE, NULL))
          set_busy (self, local->message);
      }
  }
  g_free (self->workspace_path);
  self->workspace_path = g_strdup (path);
  if (self->marked)
    g_array_set_size (self->marked, 0);
  g_signal_emit (self, signals[GEOMETRY_CHANGED], 0);
  return TRUE;
}

/* ---- undo and redo ---- */

static void
forget_history (CsGeometryPage *self)
{
  cs_history_clear (self->history);
  update_undo_buttons (self);
}

/* Shows st (taken over): its geometry, categories shown, axes and origin. */
static void
restore_state (CsGeometryPage *self, GeoState *st)
{
  gboolean other_geometry = st->box != self->geo_box;
  g_autoptr(GError) error = NULL;

  set_geometry (self, g_steal_pointer (&st->box));
  g_free (self->visible);
  self->visible = g_steal_pointer (&st->visible);
  self->ax = st->ax;
  self->ay = st->ay;
  self->orthogonalise = st->orthogonalise;
  g_free (self->hierarchy);
  self->hierarchy = g_steal_pointer (&st->hierarchy);
  g_free (self->json_path);
  self->json_path = g_steal_pointer (&st->json_path);
  g_free (self->workspace_path);
  self->workspace_path = g_steal_pointer (&st->workspace_path);
  geo_state_free (st);
  fill_sidebar (self);
  select_axes_widgets (self);
  if (!reproject (self, &error))
    set_busy (self, error->message);
  else
    gtk_widget_set_visible (self->status_box, FALSE);
  if (other_geometry)
    {
      if (self->marked)
        g_array_set_size (self->marked, 0);
      g_signal_emit (self, signals[GEOMETRY_CHANGED], 0);
    }
  update_undo_buttons (self);
}

static gboolean
history_step (CsGeometryPage *self, gboolean undo)
{
  if (!self->geometry || self->cancellable ||
      !(undo ? cs_history_undo_label (self->history) : cs_history_redo_label (self->history)))
    return FALSE;
  restore_state (self, undo ? cs_history_undo (self->history, capture_state (self))
                            : cs_history_redo (self->history, capture_state (self)));
  return TRUE;
}

gboolean
cs_geometry_page_undo (CsGeometryPage *self)
{
  g_return_val_if_fail (CS_IS_GEOMETRY_PAGE (self), FALSE);
  return history_step (self, TRUE);
}

gboolean
cs_geometry_page_redo (CsGeometryPage *self)
{
  g_return_val_if_fail (CS_IS_GEOMETRY_PAGE (self), FALSE);
  return history_step (self, FALSE);
}

const char *
cs_geometry_page_get_undo_label (CsGeometryPage *self)
{
  return cs_history_undo_label (self->history);
}

/* ---- search and selection ---- */

gint64
cs_geometry_page_find_token (CsGeometryPage *self, const char *text)
{
  const char *prefixes[] = { "\xc4\xa0", "\xe2\x96\x81", "" };
  gint32 id = -1;
  CsFigureFrame f;

  if (!self->proj || !self->tok || !text || !*text)
    return -1;
  for (guint k = 0; k < G_N_ELEMENTS (prefixes) && id < 0; k++)
    {
      g_autofree char *t = g_strconcat (prefixes[k], text, NULL);
      id = cs_tokenizer_token_to_id (self->tok, t);
    }
  if (id < 0 || id >= self->proj->vocab)
    return -1;
  self->hover = id + 1;
  if (current_frame (self, &f))
    {
      double hw = (f.xmax - f.xmin) / 2, hh = (f.ymax - f.ymin) / 2;
      self->range[0] = self->proj->x[id] - hw;
      self->range[1] = self->proj->x[id] + hw;
      self->range[2] = self->proj->y[id] - hh;
      self->range[3] = self->proj->y[id] + hh;
      self->fixed_range = TRUE;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->projection_area));
  return id;
}

static void
on_search (GtkSearchEntry *entry, CsGeometryPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  gint64 id = cs_geometry_page_find_token (self, text);
  if (*text && id < 0)
    gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
}

char *
cs_geometry_page_dup_selection_text (CsGeometryPage *self)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; self->selection && i < self->selection->len; i++)
    {
      g_autofree char *t = cs_tokenizer_id_to_text (self->tok, g_array_index (self->selection, gint32, i));
      g_string_append_printf (s, "%s\n", t);
    }
  return g_string_free (s, FALSE);
}

guint
cs_geometry_page_select_rect (CsGeometryPage *self, double x0, double y0, double x1, double y1)
{
  CsFigureFrame f;
  g_autofree char *text = NULL;
  g_autofree char *label = NULL;

  if (!self->selection)
    self->selection = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_array_set_size (self->selection, 0);
  if (!current_frame (self, &f))
    return 0;
  double ax = f.xmin + (MIN (x0, x1) - f.x0) / f.w * (f.xmax - f.xmin);
  double bx = f.xmin + (MAX (x0, x1) - f.x0) / f.w * (f.xmax - f.xmin);
  double ay = f.ymax - (MAX (y0, y1) - f.y0) / f.h * (f.ymax - f.ymin);
  double by = f.ymax - (MIN (y0, y1) - f.y0) / f.h * (f.ymax - f.ymin);
  for (gint64 i = 0; i < self->proj->vocab; i++)
    if (self->proj->x[i] >= ax && self->proj->x[i] <= bx && self->proj->y[i] >= ay && self->proj->y[i] <= by)
      {
        gint32 id = (gint32) i;
        g_array_append_val (self->selection, id);
      }
  text = cs_geometry_page_dup_selection_text (self);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->selection_view), text, -1);
  label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u token selected", "%u tokens selected",
                                        self->selection->len), self->selection->len);
  gtk_label_set_text (self->selection_label, label);
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
  return self->selection->len;
}

static void
on_select_begin (GtkGestureDrag *g, double x, double y, CsGeometryPage *self)
{
  self->selecting = TRUE;
  self->sel[0] = self->sel[2] = x;
  self->sel[1] = self->sel[3] = y;
}

static void
on_select_update (GtkGestureDrag *g, double ox, double oy, CsGeometryPage *self)
{
  self->sel[2] = self->sel[0] + ox;
  self->sel[3] = self->sel[1] + oy;
  gtk_widget_queue_draw (GTK_WIDGET (self->projection_area));
}

static void
on_select_end (GtkGestureDrag *g, double ox, double oy, CsGeometryPage *self)
{
  self->selecting = FALSE;
  cs_geometry_page_select_rect (self, self->sel[0], self->sel[1], self->sel[0] + ox, self->sel[1] + oy);
  gtk_widget_queue_draw (GTK_WIDGET (self->projection_area));
}

static void
copy_selection_clicked (CsGeometryPage *self)
{
  g_autofree char *text = cs_geometry_page_dup_selection_text (self);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
}

/* ---- legend ---- */

static int
legend_group_at (CsGeometryPage *self, double x, double y, guint *category)
{
  ProjectionData d;
  CsFigureStyle st = cs_ui_screen_style ();
  int w = gtk_widget_get_width (GTK_WIDGET (self->projection_area));
  int h = gtk_widget_get_height (GTK_WIDGET (self->projection_area));
  int hit;
  if (!self->proj || w <= 0 || h <= 0)
    return -1;
  projection_data_init (&d, self);
  CsProjectionFigure fig = projection_figure (&d, TRUE);
  hit = cs_figure_projection_legend_at (0, 0, w, h, &st, &fig, x, y);
  if (hit >= 0 && category)
    *category = g_array_index (d.groups, CsFigureGroup, hit).colour;   /* the category's index */
  projection_data_clear (&d);
  return hit;
}

static char *
describe_token (CsGeometryPage *self, gint64 id)
{
  g_autofree char *text = cs_tokenizer_id_to_text (self->tok, (gint32) id);
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "“%s”  (%.2f, %.2f)", text, self->proj->x[id], self->proj->y[id]);
  for (guint c = 0; c < self->geometry->categories->items->len; c++)
    {
      CsCategory *cat = cs_category_set_get (self->geometry->categories, c);
      for (guint k = 0; k < cat->tokens->len; k++)
        if (g_array_index (cat->tokens, gint32, k) == id)
          {
            /* a training token projects near 1 by construction: say which it is */
            if (!self->geometry->vectors[c].estimated)
              g_string_append_printf (s, "\n%s", cat->name);
            else if (self->geo_box->train[c][k])
              g_string_append_printf (s, _("\n%s (training token)"), cat->name);
            else
              g_string_append_printf (s, _("\n%s (held-out token)"), cat->name);
            break;
          }
    }
  return g_string_free (s, FALSE);
}

gint64
cs_geometry_page_get_picked (CsGeometryPage *self)
{
  return self->picked - 1;
}

gboolean
cs_geometry_page_click (CsGeometryPage *self, double x, double y)
{
  guint category;
  if (legend_group_at (self, x, y, &category) < 0)
    {
      /* a click on a token selects it: it keeps its ring and is described beside the plot */
      gint64 id = cs_geometry_page_token_at (self, x, y);
      self->picked = id + 1;
      if (id >= 0)
        {
          g_autofree char *d = describe_token (self, id);
          gtk_label_set_text (self->selection_label, d);
        }
      gtk_widget_queue_draw (GTK_WIDGET (self->projection_area));
      return FALSE;
    }
  cs_geometry_page_set_category_visible (self, cs_category_set_get (self->geometry->categories, category)->name,
                                         !self->visible[category]);
  return TRUE;
}

gboolean
cs_geometry_page_legend_position (CsGeometryPage *self, const char *name, double *x, double *y)
{
  ProjectionData d;
  CsFigureStyle st = cs_ui_screen_style ();
  int w = gtk_widget_get_width (GTK_WIDGET (self->projection_area));
  int h = gtk_widget_get_height (GTK_WIDGET (self->projection_area));
  gboolean ok = FALSE;
  int c = self->geometry ? cs_category_set_find (self->geometry->categories, name) : -1;
  if (!self->proj || c < 0 || w <= 0)
    return FALSE;
  projection_data_init (&d, self);
  CsProjectionFigure fig = projection_figure (&d, TRUE);
  for (guint i = 0; i < d.groups->len; i++)
    if (g_array_index (d.groups, CsFigureGroup, i).colour == (guint) c)
      ok = cs_figure_projection_legend_entry (0, 0, w, h, &st, &fig, i, x, y);
  projection_data_clear (&d);
  return ok;
}

static void
on_click (GtkGestureClick *g, int n_press, double x, double y, CsGeometryPage *self)
{
  cs_geometry_page_click (self, x, y);
}

/* ---- export ---- */

gboolean
cs_geometry_page_export (CsGeometryPage *self, const char *path, const char *preset, const char *theme, double scale,
                         double font_size, GError **error)
{
  CsFigureStyle s = { 0 };
  const char *view = gtk_stack_get_visible_child_name (self->stack);
  gboolean ok;

  if (!self->geometry || !self->proj)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "%s", _("Nothing to export yet"));
      return FALSE;
    }
  if (!cs_figure_style_from (preset, theme, font_size, &s, error))
    return FALSE;
  if (g_strcmp0 (view, "projection") == 0)
    {
      ProjectionData d;
      projection_data_init (&d, self);
      ok = cs_figure_export (path, &s, scale, draw_projection, &d, error);
      projection_data_clear (&d);
    }
  else if (g_strcmp0 (view, "cosines") == 0)
    ok = cs_figure_export (path, &s, scale, draw_cosines, self, error);
  else if (g_strcmp0 (view, "validation") == 0)
    ok = cs_figure_export (path, &s, scale, draw_validation, self, error);
  else if (g_strcmp0 (view, "figure2") == 0)
    {
      /* three panels side by side: three times as wide as the preset */
      s.width = s.height * 3;
      ok = cs_figure_export (path, &s, scale, draw_figure2, self, error);
    }
  else
    ok = cs_figure_export (path, &s, scale, draw_orthogonality, self, error);
  return ok;
}

void
cs_geometry_page_show_view (CsGeometryPage *self, const char *name)
{
  gtk_stack_set_visible_child_name (self->stack, name);
}

static gboolean
export_figure (gpointer owner, const char *path, const char *preset, const char *theme, double scale,
               double font_size, GError **error)
{
  return cs_geometry_page_export (CS_GEOMETRY_PAGE (owner), path, preset, theme, scale, font_size, error);
}

static void
export_failed (gpointer owner, const char *message)
{
  CsGeometryPage *self = owner;
  gtk_label_set_text (self->status_label, message);
  gtk_widget_set_visible (self->status_box, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_widget_set_visible (self->cancel_button, FALSE);
}

static void
export_clicked (CsGeometryPage *self)
{
  if (!self->proj)
    return;
  cs_export_dialog_present (GTK_WIDGET (self), G_OBJECT (self), gtk_stack_get_visible_child_name (self->stack),
                            export_figure, export_failed);
}

static void
copy_clicked (CsGeometryPage *self)
{
  g_autofree char *tmp = g_build_filename (g_get_tmp_dir (), "conceptscope-figure.png", NULL);
  g_autoptr(GError) error = NULL;
  if (cs_geometry_page_export (self, tmp, "slide", "light", 2, 0, &error))
    {
      g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (tmp, NULL);
      if (texture)
        gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (self)), texture);
    }
}

/* ---- construction ---- */

static GtkDrawingArea *
add_view (CsGeometryPage *self, const char *name, const char *title)
{
  GtkWidget *area = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (area, TRUE);
  gtk_widget_set_vexpand (area, TRUE);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), area_draw, self, NULL);
  gtk_stack_add_titled (self->stack, area, name, title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (area), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  return GTK_DRAWING_AREA (area);
}

static gboolean
shortcut_find (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  CsGeometryPage *self = CS_GEOMETRY_PAGE (widget);
  gtk_widget_grab_focus (GTK_WIDGET (self->search));
  return TRUE;
}

static gboolean
shortcut_export (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  export_clicked (CS_GEOMETRY_PAGE (widget));
  return TRUE;
}

static gboolean
shortcut_reset (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  cs_geometry_page_reset_view (CS_GEOMETRY_PAGE (widget));
  return TRUE;
}

static gboolean
shortcut_copy (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  copy_clicked (CS_GEOMETRY_PAGE (widget));
  return TRUE;
}

static gboolean
shortcut_zoom_in (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  cs_geometry_page_zoom (CS_GEOMETRY_PAGE (widget), 1.25, 0.5, 0.5);
  return TRUE;
}

static gboolean
shortcut_zoom_out (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  cs_geometry_page_zoom (CS_GEOMETRY_PAGE (widget), 0.8, 0.5, 0.5);
  return TRUE;
}

static void
add_shortcuts (CsGeometryPage *self)
{
  /* managed by the window, so they work wherever the focus is while the page is shown */
  GtkEventController *c = gtk_shortcut_controller_new ();
  const struct { guint key; GdkModifierType mods; GtkShortcutFunc func; } keys[] = {
    { GDK_KEY_f, GDK_CONTROL_MASK, shortcut_find },
    { GDK_KEY_e, GDK_CONTROL_MASK, shortcut_export },
    { GDK_KEY_0, GDK_CONTROL_MASK, shortcut_reset },
    { GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK, shortcut_copy },
    { GDK_KEY_plus, GDK_CONTROL_MASK, shortcut_zoom_in },
    { GDK_KEY_equal, GDK_CONTROL_MASK, shortcut_zoom_in },
    { GDK_KEY_minus, GDK_CONTROL_MASK, shortcut_zoom_out },
  };
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (c), GTK_SHORTCUT_SCOPE_MANAGED);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (c),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (keys[i].key, keys[i].mods),
                                                            gtk_callback_action_new (keys[i].func, NULL, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), c);
}

static void
cs_geometry_page_init (CsGeometryPage *self)
{
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *main = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *tabs;
  GtkWidget *button;
  GtkEventController *scroll, *motion;
  GtkGesture *drag;

  self->ax = self->ay = (CsAxis) { -1, -1 };
  self->orthogonalise = TRUE;
  self->cloud_cache = cs_figure_cloud_cache_new ();

  gtk_widget_set_margin_start (side, 12);
  gtk_widget_set_margin_end (side, 12);
  gtk_widget_set_margin_bottom (side, 12);
  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Find a token")));
  self->search = GTK_SEARCH_ENTRY (gtk_search_entry_new ());
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->search), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Find a token"), -1);
  g_signal_connect (self->search, "search-changed", G_CALLBACK (on_search), self);
  gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->search));
  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Categories")));
  self->categories_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_box_append (GTK_BOX (side), self->categories_box);
  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Axes")));
  {
    GtkWidget *grid = gtk_grid_new ();
    gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
    gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
    self->x_drop = GTK_DROP_DOWN (cs_ui_labelled (grid, 0, _("x: ℓ̄ of"), gtk_drop_down_new (NULL, NULL)));
    self->xm_drop = GTK_DROP_DOWN (cs_ui_labelled (grid, 1, _("minus ℓ̄ of"), gtk_drop_down_new (NULL, NULL)));
    self->y_drop = GTK_DROP_DOWN (cs_ui_labelled (grid, 2, _("y: ℓ̄ of"), gtk_drop_down_new (NULL, NULL)));
    self->ym_drop = GTK_DROP_DOWN (cs_ui_labelled (grid, 3, _("minus ℓ̄ of"), gtk_drop_down_new (NULL, NULL)));
    for (GtkDropDown *d = self->x_drop; d; d = d == self->x_drop ? self->xm_drop : d == self->xm_drop ? self->y_drop
                                                : d == self->y_drop ? self->ym_drop : NULL)
      g_signal_connect_swapped (d, "notify::selected", G_CALLBACK (on_axes_changed), self);
    gtk_box_append (GTK_BOX (side), grid);
  }
  self->orth_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("Orthogonalise y against x")));
  gtk_check_button_set_active (self->orth_check, TRUE);
  g_signal_connect_swapped (self->orth_check, "toggled", G_CALLBACK (on_axes_changed), self);
  gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->orth_check));
  self->held_out_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("Held-out tokens only")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->held_out_check),
                               _("Training tokens project near 1 by construction; drawn as rings, or left out here"));
  g_signal_connect_swapped (self->held_out_check, "toggled", G_CALLBACK (redraw), self);
  gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->held_out_check));
  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Categories and parameters")));
  {
    GtkWidget *grid = gtk_grid_new ();
    GtkWidget *button = gtk_button_new_with_mnemonic (_("_Recompute"));
    gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
    gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
    self->hierarchy_entry = GTK_ENTRY (cs_ui_labelled (grid, 0, _("WordNet root"), gtk_entry_new ()));
    gtk_editable_set_text (GTK_EDITABLE (self->hierarchy_entry), "animal");
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->hierarchy_entry), _("animal, plant, or a synset such as bird.n.01"));
    self->fraction_spin = GTK_SPIN_BUTTON (cs_ui_labelled (grid, 1, _("Train fraction"), gtk_spin_button_new_with_range (0.1, 1.0, 0.05)));
    gtk_spin_button_set_value (self->fraction_spin, 0.7);
    self->seed_spin = GTK_SPIN_BUTTON (cs_ui_labelled (grid, 2, _("Seed"), gtk_spin_button_new_with_range (0, 1000000, 1)));
    self->min_spin = GTK_SPIN_BUTTON (cs_ui_labelled (grid, 3, _("Minimum tokens"), gtk_spin_button_new_with_range (2, 10000, 1)));
    gtk_spin_button_set_value (self->min_spin, 10);
    self->extra_name = GTK_ENTRY (cs_ui_labelled (grid, 4, _("New category"), gtk_entry_new ()));
    gtk_entry_set_placeholder_text (self->extra_name, _("name"));
    self->extra_words = GTK_ENTRY (cs_ui_labelled (grid, 5, _("Its words"), gtk_entry_new ()));
    gtk_entry_set_placeholder_text (self->extra_words, _("dog, cat, horse, …"));
    gtk_grid_attach (GTK_GRID (grid), button, 1, 6, 1, 1);
    g_signal_connect_swapped (button, "clicked", G_CALLBACK (recompute_clicked), self);
    button = gtk_button_new_with_mnemonic (_("_Load Categories (JSON)…"));
    gtk_widget_set_tooltip_text (button, _("{\"name\": {\"parent\": \"other\" or null, \"words\": [...]}}"));
    gtk_grid_attach (GTK_GRID (grid), button, 0, 7, 2, 1);
    g_signal_connect_swapped (button, "clicked", G_CALLBACK (load_json_clicked), self);
    gtk_box_append (GTK_BOX (side), grid);
  }
  gtk_box_append (GTK_BOX (side), cs_ui_heading (_("Selection")));
  {
    GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");
    GtkWidget *sw = gtk_scrolled_window_new ();
    self->selection_label = GTK_LABEL (gtk_label_new (_("Right-drag on the projection to select tokens")));
    gtk_label_set_wrap (self->selection_label, TRUE);
    gtk_label_set_xalign (self->selection_label, 0);
    gtk_widget_set_hexpand (GTK_WIDGET (self->selection_label), TRUE);
    gtk_widget_set_tooltip_text (copy, _("Copy the selected tokens"));
    g_signal_connect_swapped (copy, "clicked", G_CALLBACK (copy_selection_clicked), self);
    gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->selection_label));
    gtk_box_append (GTK_BOX (row), copy);
    gtk_box_append (GTK_BOX (side), row);
    self->selection_view = GTK_TEXT_VIEW (gtk_text_view_new ());
    gtk_text_view_set_editable (self->selection_view, FALSE);
    gtk_text_view_set_monospace (self->selection_view, TRUE);
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), GTK_WIDGET (self->selection_view));
    gtk_widget_set_size_request (sw, -1, 140);
    gtk_box_append (GTK_BOX (side), sw);
  }
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), side);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_size_request (scroller, 260, -1);

  self->stack = GTK_STACK (gtk_stack_new ());
  tabs = cs_ui_tabs (self->stack);
  self->projection_area = add_view (self, "projection", _("Projection"));
  self->cosine_area = add_view (self, "cosines", _("Cosines"));
  self->validation_area = add_view (self, "validation", _("Validation"));
  self->orth_area = add_view (self, "orthogonality", _("Orthogonality"));
  self->fig2_area = add_view (self, "figure2", _("Figure 2"));

  gtk_widget_set_margin_start (bar, 6);
  gtk_widget_set_margin_end (bar, 6);
  gtk_widget_set_margin_top (bar, 6);
  gtk_widget_set_margin_bottom (bar, 6);
  gtk_box_append (GTK_BOX (bar), tabs);
  gtk_widget_set_hexpand (tabs, TRUE);
  self->history = cs_history_new (geo_state_free, 50);
  cs_ui_add_undo (GTK_BOX (bar), GTK_WIDGET (self), G_CALLBACK (cs_geometry_page_undo),
                  G_CALLBACK (cs_geometry_page_redo), &self->undo_button, &self->redo_button);
  update_undo_buttons (self);
  button = gtk_button_new_from_icon_name ("zoom-original-symbolic");
  gtk_widget_set_tooltip_text (button, _("Reset the view"));
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (cs_geometry_page_reset_view), self);
  gtk_box_append (GTK_BOX (bar), button);
  button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  gtk_widget_set_tooltip_text (button, _("Copy the figure"));
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (copy_clicked), self);
  gtk_box_append (GTK_BOX (bar), button);
  button = gtk_button_new_with_mnemonic (_("_Export…"));
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (export_clicked), self);
  gtk_box_append (GTK_BOX (bar), button);

  self->status_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_start (self->status_box, 12);
  gtk_widget_set_margin_bottom (self->status_box, 6);
  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  self->status_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->status_label, TRUE);
  gtk_label_set_xalign (self->status_label, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (self->status_label), TRUE);
  self->cancel_button = gtk_button_new_with_mnemonic (_("_Cancel"));
  g_signal_connect_swapped (self->cancel_button, "clicked", G_CALLBACK (cancel_clicked), self);
  self->progress_bar = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->progress_bar), GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (GTK_WIDGET (self->progress_bar), 160, -1);
  gtk_box_append (GTK_BOX (self->status_box), GTK_WIDGET (self->spinner));
  gtk_box_append (GTK_BOX (self->status_box), GTK_WIDGET (self->status_label));
  gtk_box_append (GTK_BOX (self->status_box), GTK_WIDGET (self->progress_bar));
  gtk_box_append (GTK_BOX (self->status_box), self->cancel_button);
  gtk_widget_set_visible (self->status_box, FALSE);

  gtk_box_append (GTK_BOX (main), bar);
  gtk_box_append (GTK_BOX (main), self->status_box);
  gtk_box_append (GTK_BOX (main), GTK_WIDGET (self->stack));
  gtk_paned_set_start_child (GTK_PANED (paned), scroller);
  gtk_paned_set_end_child (GTK_PANED (paned), main);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  adw_bin_set_child (ADW_BIN (self), paned);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self->projection_area), scroll);
  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self->projection_area), GTK_EVENT_CONTROLLER (drag));
  {
    GtkGesture *click = gtk_gesture_click_new ();
    g_signal_connect (click, "released", G_CALLBACK (on_click), self);
    gtk_widget_add_controller (GTK_WIDGET (self->projection_area), GTK_EVENT_CONTROLLER (click));
  }
  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_SECONDARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_select_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_select_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_select_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->projection_area), GTK_EVENT_CONTROLLER (drag));
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self->projection_area), motion);
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_cosine_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self->cosine_area), motion);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (redraw), self,
                           G_CONNECT_SWAPPED);
  add_shortcuts (self);
}

static void
cs_geometry_page_dispose (GObject *object)
{
  CsGeometryPage *self = CS_GEOMETRY_PAGE (object);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  g_clear_object (&self->model);
  g_clear_pointer (&self->proj, cs_projection_free);
  for (int k = 0; k < 3; k++)
    g_clear_pointer (&self->fig2[k], cs_projection_free);
  forget_projected (self);
  set_geometry (self, NULL);
  g_clear_pointer (&self->history, cs_history_free);
  g_clear_pointer (&self->space, cs_geometry_space_free);
  g_clear_pointer (&self->tok, cs_tokenizer_free);
  g_clear_pointer (&self->visible, g_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->selection, g_array_unref);
  g_clear_pointer (&self->marked, g_array_unref);
  g_clear_pointer (&self->workspace_path, g_free);
  g_clear_pointer (&self->hierarchy, g_free);
  g_clear_pointer (&self->json_path, g_free);
  g_clear_pointer (&self->cloud_cache, cs_figure_cloud_cache_free);
  G_OBJECT_CLASS (cs_geometry_page_parent_class)->dispose (object);
}

static void
cs_geometry_page_class_init (CsGeometryPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cs_geometry_page_dispose;
  /* the tokens selected on the projection changed (linked views follow) */
  signals[SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                             0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* new categories and vectors (computed or opened) */
  signals[GEOMETRY_CHANGED] = g_signal_new ("geometry-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                            0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

void
cs_geometry_page_set_marked (CsGeometryPage *self, const gint32 *ids, guint n)
{
  if (!self->marked)
    self->marked = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_array_set_size (self->marked, 0);
  if (n)
    g_array_append_vals (self->marked, ids, n);
  redraw (self);
}

const GArray *
cs_geometry_page_get_marked (CsGeometryPage *self)
{
  return self->marked;
}

const GArray *
cs_geometry_page_get_selection (CsGeometryPage *self)
{
  return self->selection;
}

CsGeometrySpace *
cs_geometry_page_get_space (CsGeometryPage *self)
{
  return self->space;
}

CsModel *
cs_geometry_page_get_model (CsGeometryPage *self)
{
  return self->model;
}

CsTokenizer *
cs_geometry_page_get_tokenizer (CsGeometryPage *self)
{
  return self->tok;
}

const char *
cs_geometry_page_get_workspace_path (CsGeometryPage *self)
{
  return self->workspace_path;
}
