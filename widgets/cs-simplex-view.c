#define G_LOG_DOMAIN "cs-figure"

#include <math.h>

#include "cs-simplex-view.h"

#define DEGREES_PER_PIXEL 0.4

struct _CsSimplexView
{
  CsFigureView          parent_instance;

  CsSimplexFigure       fig;
  gboolean              has_fig;
  CsSimplexDescribeFunc describe;
  gpointer              describe_data;
  double                drag_az, drag_el;
  gint64                hover;   /* token + 1 */
};

G_DEFINE_FINAL_TYPE (CsSimplexView, cs_simplex_view, CS_TYPE_FIGURE_VIEW)

enum
{
  TOKEN_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
cs_simplex_view_new (void)
{
  return g_object_new (CS_TYPE_SIMPLEX_VIEW, NULL);
}

void
cs_simplex_view_set_figure (CsSimplexView *self, const CsSimplexFigure *fig, gpointer owner, GDestroyNotify release,
                            gboolean keep_view)
{
  double az = self->fig.azimuth, el = self->fig.elevation, zoom = self->fig.zoom;
  gboolean had = self->has_fig;
  g_return_if_fail (CS_IS_SIMPLEX_VIEW (self));
  self->has_fig = fig != NULL;
  self->fig = fig ? *fig : (CsSimplexFigure) { 0 };
  if (fig && keep_view && had)
    {
      self->fig.azimuth = az;
      self->fig.elevation = el;
      self->fig.zoom = zoom;
    }
  self->hover = 0;
  cs_figure_view_set_owner (CS_FIGURE_VIEW (self), owner, release);
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self));
}

void
cs_simplex_view_set_describe_func (CsSimplexView *self, CsSimplexDescribeFunc describe, gpointer data)
{
  g_return_if_fail (CS_IS_SIMPLEX_VIEW (self));
  self->describe = describe;
  self->describe_data = data;
}

void
cs_simplex_view_get_rotation (CsSimplexView *self, double *azimuth, double *elevation, double *zoom)
{
  g_return_if_fail (CS_IS_SIMPLEX_VIEW (self));
  *azimuth = self->fig.azimuth;
  *elevation = self->fig.elevation;
  *zoom = self->fig.zoom > 0 ? self->fig.zoom : 1;
}

void
cs_simplex_view_set_rotation (CsSimplexView *self, double azimuth, double elevation, double zoom)
{
  g_return_if_fail (CS_IS_SIMPLEX_VIEW (self));
  self->fig.azimuth = fmod (azimuth, 360);
  self->fig.elevation = CLAMP (elevation, -89, 89);
  self->fig.zoom = CLAMP (zoom, 0.1, 50);
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self));
}

void
cs_simplex_view_drag (CsSimplexView *self, double dx, double dy)
{
  g_return_if_fail (CS_IS_SIMPLEX_VIEW (self));
  cs_simplex_view_set_rotation (self, self->fig.azimuth + dx * DEGREES_PER_PIXEL,
                                self->fig.elevation + dy * DEGREES_PER_PIXEL, self->fig.zoom > 0 ? self->fig.zoom : 1);
}

gint64
cs_simplex_view_token_at (CsSimplexView *self, double x, double y)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  guint group, index;
  g_return_val_if_fail (CS_IS_SIMPLEX_VIEW (self), -1);
  if (!self->has_fig || w <= 0 || h <= 0)
    return -1;
  CsFigureStyle s = cs_figure_view_get_style (CS_FIGURE_VIEW (self));
  if (!cs_figure_simplex_point_at (0, 0, w, h, &s, &self->fig, x, y, &group, &index))
    return -1;
  return self->fig.groups[group].ids[index];
}

gboolean
cs_simplex_view_position (CsSimplexView *self, const double p[3], double *x, double *y)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  g_return_val_if_fail (CS_IS_SIMPLEX_VIEW (self), FALSE);
  if (!self->has_fig || w <= 0 || h <= 0)
    return FALSE;
  CsFigureStyle s = cs_figure_view_get_style (CS_FIGURE_VIEW (self));
  cs_figure_simplex_point (0, 0, w, h, &s, &self->fig, p, x, y, NULL);
  return TRUE;
}

/* ---- input ---- */

static void
on_drag_begin (GtkGestureDrag *g, double x, double y, CsSimplexView *self)
{
  self->drag_az = self->fig.azimuth;
  self->drag_el = self->fig.elevation;
}

static void
on_drag_update (GtkGestureDrag *g, double ox, double oy, CsSimplexView *self)
{
  cs_simplex_view_set_rotation (self, self->drag_az + ox * DEGREES_PER_PIXEL, self->drag_el + oy * DEGREES_PER_PIXEL,
                                self->fig.zoom > 0 ? self->fig.zoom : 1);
}

static gboolean
on_scroll (GtkEventControllerScroll *c, double dx, double dy, CsSimplexView *self)
{
  double zoom = self->fig.zoom > 0 ? self->fig.zoom : 1;
  if (!self->has_fig)
    return FALSE;
  cs_simplex_view_set_rotation (self, self->fig.azimuth, self->fig.elevation, dy < 0 ? zoom * 1.15 : zoom / 1.15);
  return TRUE;
}

static void
on_motion (GtkEventControllerMotion *m, double x, double y, CsSimplexView *self)
{
  gint64 id = cs_simplex_view_token_at (self, x, y);
  g_autofree char *tip = NULL;
  if (id + 1 == self->hover)
    return;
  self->hover = id + 1;
  if (id >= 0 && self->describe)
    tip = self->describe (id, self->describe_data);
  gtk_widget_set_tooltip_markup (GTK_WIDGET (self), tip);
}

static void
on_click (GtkGestureClick *g, int n_press, double x, double y, CsSimplexView *self)
{
  g_signal_emit (self, signals[TOKEN_ACTIVATED], 0, cs_simplex_view_token_at (self, x, y));
}

/* ---- drawing ---- */

static void
cs_simplex_view_draw (CsFigureView *view, cairo_t *cr, double w, double h, const CsFigureStyle *s, gboolean on_screen)
{
  cs_figure_draw_simplex (cr, 0, 0, w, h, s, &CS_SIMPLEX_VIEW (view)->fig);
}

static gboolean
cs_simplex_view_has_figure (CsFigureView *view)
{
  return CS_SIMPLEX_VIEW (view)->has_fig;
}

static void
cs_simplex_view_dispose (GObject *object)
{
  CsSimplexView *self = CS_SIMPLEX_VIEW (object);
  self->has_fig = FALSE;   /* the owner goes with CsFigureView's dispose */
  G_OBJECT_CLASS (cs_simplex_view_parent_class)->dispose (object);
}

static void
cs_simplex_view_class_init (CsSimplexViewClass *klass)
{
  CsFigureViewClass *view_class = CS_FIGURE_VIEW_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cs_simplex_view_dispose;
  view_class->draw = cs_simplex_view_draw;
  view_class->has_figure = cs_simplex_view_has_figure;
  /* a click on a category point (its token id) or beside every one (-1) */
  signals[TOKEN_ACTIVATED] = g_signal_new ("token-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                           NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void
cs_simplex_view_init (CsSimplexView *self)
{
  GtkEventController *scroll, *motion;
  GtkGesture *drag, *click;

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}
