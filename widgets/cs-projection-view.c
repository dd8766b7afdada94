#define G_LOG_DOMAIN "cs-figure"

#include <math.h>

#include "cs-projection-view.h"

struct _CsProjectionView
{
  CsFigureView        parent_instance;

  CsProjectionFigure  fig;
  gboolean            has_fig;
  CsFigureCloudCache *cloud_cache;   /* the data layer while panning and hovering */
  CsProjectionDescribeFunc describe;
  gpointer            describe_data;

  gboolean            fixed_range;
  double              range[4];
  double              drag_range[4];
  gint64              hover;         /* token id + 1 */
  gint64              picked;        /* token id + 1 */
  gboolean            selecting;
  double              sel[4];        /* the rubber band */
  GArray             *selection;     /* gint32 */
  /* the frame as last laid out (the legend's place is measured): valid
   * until the figure, the view's range, the size or the text size change */
  gboolean            frame_valid;
  int                 frame_w, frame_h;
  double              frame_font;
  CsFigureFrame       frame;
};

G_DEFINE_FINAL_TYPE (CsProjectionView, cs_projection_view, CS_TYPE_FIGURE_VIEW)

enum
{
  TOKEN_ACTIVATED,
  LEGEND_ACTIVATED,
  SELECTION_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
cs_projection_view_new (void)
{
  return g_object_new (CS_TYPE_PROJECTION_VIEW, NULL);
}

void
cs_projection_view_set_figure (CsProjectionView *self, const CsProjectionFigure *fig, gpointer owner,
                               GDestroyNotify release)
{
  g_return_if_fail (CS_IS_PROJECTION_VIEW (self));
  self->has_fig = fig != NULL;
  self->fig = fig ? *fig : (CsProjectionFigure) { 0 };
  cs_figure_view_set_owner (CS_FIGURE_VIEW (self), owner, release);
  self->frame_valid = FALSE;
  if (!fig)
    {
      self->hover = self->picked = 0;
      gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
    }
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self));
}

void
cs_projection_view_set_describe_func (CsProjectionView *self, CsProjectionDescribeFunc describe, gpointer data)
{
  g_return_if_fail (CS_IS_PROJECTION_VIEW (self));
  self->describe = describe;
  self->describe_data = data;
}

/* The figure as the screen shows it: zoomed, with the hovered (or picked)
 * token ringed and the cloud's raster reused. */
static CsProjectionFigure
screen_figure (CsProjectionView *self)
{
  CsProjectionFigure f = self->fig;
  f.fixed_range = self->fixed_range;
  memcpy (f.range, self->range, sizeof f.range);
  f.highlight = self->hover ? self->hover : self->picked;
  f.cloud_cache = self->cloud_cache;
  return f;
}

gboolean
cs_projection_view_get_frame (CsProjectionView *self, CsFigureFrame *frame)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  CsFigureStyle s;
  CsProjectionFigure f;

  g_return_val_if_fail (CS_IS_PROJECTION_VIEW (self), FALSE);
  if (!self->has_fig || w <= 0 || h <= 0)
    return FALSE;
  s = cs_figure_view_get_style (CS_FIGURE_VIEW (self));
  if (!(self->frame_valid && self->frame_w == w && self->frame_h == h && self->frame_font == s.font_size))
    {
      f = screen_figure (self);
      cs_figure_projection_frame (0, 0, w, h, &s, &f, &self->frame);
      self->frame_valid = TRUE;
      self->frame_w = w;
      self->frame_h = h;
      self->frame_font = s.font_size;
    }
  *frame = self->frame;
  return TRUE;
}

static void
changed (CsProjectionView *self)
{
  self->frame_valid = FALSE;
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self));
}

void
cs_projection_view_zoom (CsProjectionView *self, double factor, double fx, double fy)
{
  CsFigureFrame f;
  g_return_if_fail (CS_IS_PROJECTION_VIEW (self));
  if (!cs_projection_view_get_frame (self, &f))
    return;
  double cx = f.xmin + fx * (f.xmax - f.xmin), cy = f.ymax - fy * (f.ymax - f.ymin);
  self->range[0] = cx - (cx - f.xmin) / factor;
  self->range[1] = cx + (f.xmax - cx) / factor;
  self->range[2] = cy - (cy - f.ymin) / factor;
  self->range[3] = cy + (f.ymax - cy) / factor;
  self->fixed_range = TRUE;
  changed (self);
}

void
cs_projection_view_reset_view (CsProjectionView *self)
{
  g_return_if_fail (CS_IS_PROJECTION_VIEW (self));
  self->fixed_range = FALSE;
  self->hover = 0;
  self->picked = 0;
  changed (self);
}

gint64
cs_projection_view_token_at (CsProjectionView *self, double x, double y)
{
  CsFigureFrame f;
  gint64 best = -1;
  double best_d = 8 * 8;   /* pixels² */
  g_return_val_if_fail (CS_IS_PROJECTION_VIEW (self), -1);
  if (!cs_projection_view_get_frame (self, &f))
    return -1;
  double sx = f.w / (f.xmax - f.xmin), sy = f.h / (f.ymax - f.ymin);
  for (gint64 i = 0; i < self->fig.n_points; i++)
    {
      double px = f.x0 + (self->fig.x[i] - f.xmin) * sx - x, py = f.y0 + f.h - (self->fig.y[i] - f.ymin) * sy - y;
      double dd = px * px + py * py;
      if (dd < best_d)
        {
          best_d = dd;
          best = i;
        }
    }
  return best;
}

gboolean
cs_projection_view_token_position (CsProjectionView *self, gint64 id, double *x, double *y)
{
  CsFigureFrame f;
  g_return_val_if_fail (CS_IS_PROJECTION_VIEW (self), FALSE);
  if (!cs_projection_view_get_frame (self, &f) || id < 0 || id >= self->fig.n_points)
    return FALSE;
  *x = f.x0 + (self->fig.x[id] - f.xmin) / (f.xmax - f.xmin) * f.w;
  *y = f.y0 + f.h - (self->fig.y[id] - f.ymin) / (f.ymax - f.ymin) * f.h;
  return TRUE;
}

void
cs_projection_view_center_on (CsProjectionView *self, gint64 id)
{
  CsFigureFrame f;
  g_return_if_fail (CS_IS_PROJECTION_VIEW (self));
  if (id < 0 || id >= self->fig.n_points)
    return;
  self->hover = id + 1;
  if (cs_projection_view_get_frame (self, &f))
    {
      double hw = (f.xmax - f.xmin) / 2, hh = (f.ymax - f.ymin) / 2;
      self->range[0] = self->fig.x[id] - hw;
      self->range[1] = self->fig.x[id] + hw;
      self->range[2] = self->fig.y[id] - hh;
      self->range[3] = self->fig.y[id] + hh;
      self->fixed_range = TRUE;
    }
  changed (self);
}

guint
cs_projection_view_select_rect (CsProjectionView *self, double x0, double y0, double x1, double y1)
{
  CsFigureFrame f;
  g_return_val_if_fail (CS_IS_PROJECTION_VIEW (self), 0);
  g_array_set_size (self->selection, 0);
  if (cs_projection_view_get_frame (self, &f))
    {
      double ax = f.xmin + (MIN (x0, x1) - f.x0) / f.w * (f.xmax - f.xmin);
      double bx = f.xmin + (MAX (x0, x1) - f.x0) / f.w * (f.xmax - f.xmin);
      double ay = f.ymax - (MAX (y0, y1) - f.y0) / f.h * (f.ymax - f.ymin);
      double by = f.ymax - (MIN (y0, y1) - f.y0) / f.h * (f.ymax - f.ymin);
      for (gint64 i = 0; i < self->fig.n_points; i++)
        if (self->fig.x[i] >= ax && self->fig.x[i] <= bx && self->fig.y[i] >= ay && self->fig.y[i] <= by)
          {
            gint32 id = (gint32) i;
            g_array_append_val (self->selection, id);
          }
    }
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
  return self->selection->len;
}

const GArray *
cs_projection_view_get_selection (CsProjectionView *self)
{
  g_return_val_if_fail (CS_IS_PROJECTION_VIEW (self), NULL);
  return self->selection;
}

int
cs_projection_view_legend_at (CsProjectionView *self, double x, double y)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  g_return_val_if_fail (CS_IS_PROJECTION_VIEW (self), -1);
  if (!self->has_fig || w <= 0 || h <= 0)
    return -1;
  CsFigureStyle s = cs_figure_view_get_style (CS_FIGURE_VIEW (self));
  CsProjectionFigure f = screen_figure (self);
  return cs_figure_projection_legend_at (0, 0, w, h, &s, &f, x, y);
}

gboolean
cs_projection_view_legend_position (CsProjectionView *self, guint colour, double *x, double *y)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  g_return_val_if_fail (CS_IS_PROJECTION_VIEW (self), FALSE);
  if (!self->has_fig || w <= 0 || h <= 0)
    return FALSE;
  CsFigureStyle s = cs_figure_view_get_style (CS_FIGURE_VIEW (self));
  CsProjectionFigure f = screen_figure (self);
  for (guint i = 0; i < f.n_groups; i++)
    if (f.groups[i].colour == colour)
      return cs_figure_projection_legend_entry (0, 0, w, h, &s, &f, i, x, y);
  return FALSE;
}

gboolean
cs_projection_view_click (CsProjectionView *self, double x, double y)
{
  int hit = cs_projection_view_legend_at (self, x, y);
  if (hit >= 0)
    {
      g_signal_emit (self, signals[LEGEND_ACTIVATED], 0, self->fig.groups[hit].colour);
      return TRUE;
    }
  /* a click on a token picks it: it keeps its ring */
  gint64 id = cs_projection_view_token_at (self, x, y);
  self->picked = id + 1;
  changed (self);
  g_signal_emit (self, signals[TOKEN_ACTIVATED], 0, id);
  return FALSE;
}

gint64
cs_projection_view_get_picked (CsProjectionView *self)
{
  g_return_val_if_fail (CS_IS_PROJECTION_VIEW (self), -1);
  return self->picked - 1;
}

void
cs_projection_view_cloud_stats (CsProjectionView *self, guint *rasterised, guint *reused)
{
  cs_figure_cloud_cache_stats (self->cloud_cache, rasterised, reused);
}

/* ---- input ---- */

static gboolean
on_scroll (GtkEventControllerScroll *c, double dx, double dy, CsProjectionView *self)
{
  CsFigureFrame f;
  double px, py;
  if (!cs_projection_view_get_frame (self, &f))
    return FALSE;
  GdkEvent *ev = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (c));
  if (!ev || !gdk_event_get_position (ev, &px, &py))
    px = f.x0 + f.w / 2, py = f.y0 + f.h / 2;
  cs_projection_view_zoom (self, dy < 0 ? 1.25 : 0.8, CLAMP ((px - f.x0) / f.w, 0, 1),
                           CLAMP ((py - f.y0) / f.h, 0, 1));
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *g, double x, double y, CsProjectionView *self)
{
  CsFigureFrame f;
  if (cs_projection_view_get_frame (self, &f))
    {
      self->drag_range[0] = f.xmin;
      self->drag_range[1] = f.xmax;
      self->drag_range[2] = f.ymin;
      self->drag_range[3] = f.ymax;
    }
}

static void
on_drag_update (GtkGestureDrag *g, double ox, double oy, CsProjectionView *self)
{
  CsFigureFrame f;
  if (!cs_projection_view_get_frame (self, &f) || f.w <= 0 || f.h <= 0)
    return;
  double sx = (self->drag_range[1] - self->drag_range[0]) / f.w, sy = (self->drag_range[3] - self->drag_range[2]) / f.h;
  self->range[0] = self->drag_range[0] - ox * sx;
  self->range[1] = self->drag_range[1] - ox * sx;
  self->range[2] = self->drag_range[2] + oy * sy;
  self->range[3] = self->drag_range[3] + oy * sy;
  self->fixed_range = TRUE;
  changed (self);
}

static void
on_motion (GtkEventControllerMotion *m, double x, double y, CsProjectionView *self)
{
  gint64 id = cs_projection_view_token_at (self, x, y);
  g_autofree char *tip = NULL;
  if (id + 1 == self->hover)
    return;
  self->hover = id + 1;
  if (id >= 0 && self->describe)
    tip = self->describe (id, self->describe_data);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), tip);
  changed (self);
}

static void
on_click (GtkGestureClick *g, int n_press, double x, double y, CsProjectionView *self)
{
  cs_projection_view_click (self, x, y);
}

static void
on_select_begin (GtkGestureDrag *g, double x, double y, CsProjectionView *self)
{
  self->selecting = TRUE;
  self->sel[0] = self->sel[2] = x;
  self->sel[1] = self->sel[3] = y;
}

static void
on_select_update (GtkGestureDrag *g, double ox, double oy, CsProjectionView *self)
{
  self->sel[2] = self->sel[0] + ox;
  self->sel[3] = self->sel[1] + oy;
  changed (self);
}

static void
on_select_end (GtkGestureDrag *g, double ox, double oy, CsProjectionView *self)
{
  self->selecting = FALSE;
  cs_projection_view_select_rect (self, self->sel[0], self->sel[1], self->sel[0] + ox, self->sel[1] + oy);
  changed (self);
}

/* ---- drawing ---- */

static void
cs_projection_view_draw (CsFigureView *view, cairo_t *cr, double w, double h, const CsFigureStyle *s,
                         gboolean on_screen)
{
  CsProjectionView *self = CS_PROJECTION_VIEW (view);
  if (!on_screen)
    {
      cs_figure_draw_projection (cr, 0, 0, w, h, s, &self->fig);
      return;
    }
  CsProjectionFigure f = screen_figure (self);
  cs_figure_draw_projection (cr, 0, 0, w, h, s, &f);
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

static gboolean
cs_projection_view_has_figure (CsFigureView *view)
{
  return CS_PROJECTION_VIEW (view)->has_fig;
}

static void
cs_projection_view_dispose (GObject *object)
{
  CsProjectionView *self = CS_PROJECTION_VIEW (object);
  self->has_fig = FALSE;   /* the owner goes with CsFigureView's dispose */
  G_OBJECT_CLASS (cs_projection_view_parent_class)->dispose (object);
}

static void
cs_projection_view_finalize (GObject *object)
{
  CsProjectionView *self = CS_PROJECTION_VIEW (object);
  g_clear_pointer (&self->cloud_cache, cs_figure_cloud_cache_free);
  g_clear_pointer (&self->selection, g_array_unref);
  G_OBJECT_CLASS (cs_projection_view_parent_class)->finalize (object);
}

static void
cs_projection_view_class_init (CsProjectionViewClass *klass)
{
  CsFigureViewClass *view_class = CS_FIGURE_VIEW_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cs_projection_view_dispose;
  G_OBJECT_CLASS (klass)->finalize = cs_projection_view_finalize;
  view_class->draw = cs_projection_view_draw;
  view_class->has_figure = cs_projection_view_has_figure;
  /* a click on a token (its id) or beside every token (-1) */
  signals[TOKEN_ACTIVATED] = g_signal_new ("token-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                           NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  /* a click on a legend entry: the group's colour */
  signals[LEGEND_ACTIVATED] = g_signal_new ("legend-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                            NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /* a rubber band selected tokens (cs_projection_view_get_selection) */
  signals[SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                             NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cs_projection_view_init (CsProjectionView *self)
{
  GtkEventController *scroll, *motion;
  GtkGesture *drag, *click;

  self->cloud_cache = cs_figure_cloud_cache_new ();
  self->selection = g_array_new (FALSE, FALSE, sizeof (gint32));
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
  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_SECONDARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_select_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_select_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_select_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}
