#define G_LOG_DOMAIN "cs-figure"

#include <math.h>
#include <string.h>

#include "cs-graph-view.h"

#define ZOOM_STEP 1.15

struct _CsGraphView
{
  CsFigureView        parent_instance;

  CsGraphFigure       fig;
  gboolean            has_fig;
  CsGraphDescribeFunc describe;
  gpointer            describe_data;

  int                 hover, selected;
  gboolean            fixed_view;
  double              view[4];
  double              drag_view[4];
  int                 drag_node;
  double              drag_x0, drag_y0;   /* the dragged node's position when the drag began */
  gboolean            drag_moved;
  double              pointer_x, pointer_y;
};

G_DEFINE_FINAL_TYPE (CsGraphView, cs_graph_view, CS_TYPE_FIGURE_VIEW)

enum
{
  NODE_ACTIVATED,
  NODE_MOVE_BEGIN,
  NODE_MOVED,
  NODE_MOVE_END,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
cs_graph_view_new (void)
{
  return g_object_new (CS_TYPE_GRAPH_VIEW, NULL);
}

static void
changed (CsGraphView *self)
{
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self));
}

void
cs_graph_view_set_figure (CsGraphView *self, const CsGraphFigure *fig, gpointer owner, GDestroyNotify release,
                          gboolean keep_view)
{
  g_return_if_fail (CS_IS_GRAPH_VIEW (self));
  self->has_fig = fig != NULL;
  self->fig = fig ? *fig : (CsGraphFigure) { 0 };
  self->fig.hover = -1;
  cs_figure_view_set_owner (CS_FIGURE_VIEW (self), owner, release);
  if (!fig || !keep_view)
    {
      self->fixed_view = FALSE;
      self->hover = self->selected = -1;
      gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
    }
  if (self->hover >= (int) self->fig.n_nodes)
    self->hover = -1;
  if (self->selected >= (int) self->fig.n_nodes)
    self->selected = -1;
  changed (self);
}

void
cs_graph_view_set_describe_func (CsGraphView *self, CsGraphDescribeFunc describe, gpointer data)
{
  g_return_if_fail (CS_IS_GRAPH_VIEW (self));
  self->describe = describe;
  self->describe_data = data;
}

void
cs_graph_view_set_selected (CsGraphView *self, int node)
{
  g_return_if_fail (CS_IS_GRAPH_VIEW (self));
  self->selected = node >= 0 && node < (int) self->fig.n_nodes ? node : -1;
  changed (self);
}

/* The figure as the screen shows it: zoomed, the hovered (or selected)
 * node ringed. */
static CsGraphFigure
screen_figure (CsGraphView *self)
{
  CsGraphFigure f = self->fig;
  f.hover = self->hover >= 0 ? self->hover : self->selected;
  f.fixed_view = self->fixed_view;
  memcpy (f.view, self->view, sizeof f.view);
  return f;
}

gboolean
cs_graph_view_get_frame (CsGraphView *self, CsFigureFrame *frame)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  g_return_val_if_fail (CS_IS_GRAPH_VIEW (self), FALSE);
  if (!self->has_fig || !self->fig.x || w <= 0 || h <= 0)
    return FALSE;
  CsFigureStyle s = cs_figure_view_get_style (CS_FIGURE_VIEW (self));
  CsGraphFigure f = screen_figure (self);
  cs_figure_graph_frame (0, 0, w, h, &s, &f, frame);
  return TRUE;
}

int
cs_graph_view_node_at (CsGraphView *self, double x, double y)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  g_return_val_if_fail (CS_IS_GRAPH_VIEW (self), -1);
  if (!self->has_fig || !self->fig.x || w <= 0 || h <= 0)
    return -1;
  CsFigureStyle s = cs_figure_view_get_style (CS_FIGURE_VIEW (self));
  CsGraphFigure f = screen_figure (self);
  return cs_figure_graph_node_at (0, 0, w, h, &s, &f, x, y);
}

gboolean
cs_graph_view_node_position (CsGraphView *self, int node, double *x, double *y)
{
  CsFigureFrame f;
  g_return_val_if_fail (CS_IS_GRAPH_VIEW (self), FALSE);
  if (node < 0 || node >= (int) self->fig.n_nodes || !cs_graph_view_get_frame (self, &f))
    return FALSE;
  *x = f.x0 + (self->fig.x[node] - f.xmin) / (f.xmax - f.xmin) * f.w;
  *y = f.y0 + f.h - (self->fig.y[node] - f.ymin) / (f.ymax - f.ymin) * f.h;
  return TRUE;
}

/* The range shown becomes explicit (zoom and pan change it from there). */
static gboolean
fix_view (CsGraphView *self, CsFigureFrame *f)
{
  if (!cs_graph_view_get_frame (self, f))
    return FALSE;
  self->view[0] = f->xmin;
  self->view[1] = f->xmax;
  self->view[2] = f->ymin;
  self->view[3] = f->ymax;
  self->fixed_view = TRUE;
  return TRUE;
}

void
cs_graph_view_reset_view (CsGraphView *self)
{
  g_return_if_fail (CS_IS_GRAPH_VIEW (self));
  self->fixed_view = FALSE;
  changed (self);
}

void
cs_graph_view_zoom (CsGraphView *self, double factor, double px, double py)
{
  CsFigureFrame f;
  g_return_if_fail (CS_IS_GRAPH_VIEW (self));
  if (!(factor > 0) || !fix_view (self, &f))
    return;
  double fx = self->view[0] + (px - f.x0) / f.w * (self->view[1] - self->view[0]);
  double fy = self->view[3] - (py - f.y0) / f.h * (self->view[3] - self->view[2]);
  self->view[0] = fx + (self->view[0] - fx) / factor;
  self->view[1] = fx + (self->view[1] - fx) / factor;
  self->view[2] = fy + (self->view[2] - fy) / factor;
  self->view[3] = fy + (self->view[3] - fy) / factor;
  changed (self);
}

/* ---- input ---- */

static void
drag_begin (CsGraphView *self, double x, double y)
{
  CsFigureFrame f;
  fix_view (self, &f);
  memcpy (self->drag_view, self->view, sizeof self->view);
  self->drag_moved = FALSE;
  self->drag_node = cs_graph_view_node_at (self, x, y);
  if (self->drag_node >= 0)
    {
      self->drag_x0 = self->fig.x[self->drag_node];
      self->drag_y0 = self->fig.y[self->drag_node];
      g_signal_emit (self, signals[NODE_MOVE_BEGIN], 0, self->drag_node);
    }
}

static void
drag_update (CsGraphView *self, double ox, double oy)
{
  CsFigureFrame f;
  if (!cs_graph_view_get_frame (self, &f) || f.w <= 0 || f.h <= 0)
    return;
  double sx = (self->drag_view[1] - self->drag_view[0]) / f.w, sy = (self->drag_view[3] - self->drag_view[2]) / f.h;
  if (self->drag_node >= 0)
    {
      self->drag_moved = self->drag_moved || ox != 0 || oy != 0;
      g_signal_emit (self, signals[NODE_MOVED], 0, self->drag_node, self->drag_x0 + ox * sx, self->drag_y0 - oy * sy);
    }
  else
    {
      self->view[0] = self->drag_view[0] - ox * sx;
      self->view[1] = self->drag_view[1] - ox * sx;
      self->view[2] = self->drag_view[2] + oy * sy;
      self->view[3] = self->drag_view[3] + oy * sy;
    }
  changed (self);
}

static void
drag_end (CsGraphView *self)
{
  if (self->drag_node >= 0)
    g_signal_emit (self, signals[NODE_MOVE_END], 0, self->drag_node, self->drag_moved);
  self->drag_node = -1;
}

void
cs_graph_view_drag (CsGraphView *self, double x0, double y0, double dx, double dy)
{
  g_return_if_fail (CS_IS_GRAPH_VIEW (self));
  drag_begin (self, x0, y0);
  drag_update (self, dx, dy);
  drag_end (self);
}

static void
on_drag_begin (GtkGestureDrag *g, double x, double y, CsGraphView *self)
{
  drag_begin (self, x, y);
}

static void
on_drag_update (GtkGestureDrag *g, double ox, double oy, CsGraphView *self)
{
  drag_update (self, ox, oy);
}

static void
on_drag_end (GtkGestureDrag *g, double ox, double oy, CsGraphView *self)
{
  drag_end (self);
}

static gboolean
on_scroll (GtkEventControllerScroll *c, double dx, double dy, CsGraphView *self)
{
  if (!self->has_fig)
    return FALSE;
  cs_graph_view_zoom (self, dy > 0 ? 1 / ZOOM_STEP : ZOOM_STEP, self->pointer_x, self->pointer_y);
  return TRUE;
}

static void
on_motion (GtkEventControllerMotion *m, double x, double y, CsGraphView *self)
{
  int node = cs_graph_view_node_at (self, x, y);
  self->pointer_x = x;
  self->pointer_y = y;
  if (node == self->hover)
    return;
  self->hover = node;
  if (node >= 0 && self->describe)
    {
      g_autofree char *tip = self->describe (node, self->describe_data);
      gtk_widget_set_tooltip_markup (GTK_WIDGET (self), tip);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
  changed (self);
}

static void
on_leave (GtkEventControllerMotion *m, CsGraphView *self)
{
  if (self->hover >= 0)
    {
      self->hover = -1;
      changed (self);
    }
}

static void
on_click (GtkGestureClick *g, int n_press, double x, double y, CsGraphView *self)
{
  g_signal_emit (self, signals[NODE_ACTIVATED], 0, cs_graph_view_node_at (self, x, y));
}

/* ---- drawing ---- */

static void
cs_graph_view_draw (CsFigureView *view, cairo_t *cr, double w, double h, const CsFigureStyle *s, gboolean on_screen)
{
  CsGraphView *self = CS_GRAPH_VIEW (view);
  CsGraphFigure f = on_screen ? screen_figure (self) : self->fig;
  cs_figure_draw_graph (cr, 0, 0, w, h, s, &f);
}

static gboolean
cs_graph_view_has_figure (CsGraphView *self)
{
  return self->has_fig && self->fig.x != NULL;
}

static void
cs_graph_view_dispose (GObject *object)
{
  CsGraphView *self = CS_GRAPH_VIEW (object);
  self->has_fig = FALSE;   /* the owner goes with CsFigureView's dispose */
  G_OBJECT_CLASS (cs_graph_view_parent_class)->dispose (object);
}

static void
cs_graph_view_class_init (CsGraphViewClass *klass)
{
  CsFigureViewClass *view_class = CS_FIGURE_VIEW_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cs_graph_view_dispose;
  view_class->draw = cs_graph_view_draw;
  view_class->has_figure = (gboolean (*) (CsFigureView *)) cs_graph_view_has_figure;
  /* a click on a node, or beside every node (-1) */
  signals[NODE_ACTIVATED] = g_signal_new ("node-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                          NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* a drag starts on a node */
  signals[NODE_MOVE_BEGIN] = g_signal_new ("node-move-begin", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                           NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* the node dragged to a layout position (x, y) */
  signals[NODE_MOVED] = g_signal_new ("node-moved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                      NULL, G_TYPE_NONE, 3, G_TYPE_INT, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  /* the drag ended: whether the node moved at all */
  signals[NODE_MOVE_END] = g_signal_new ("node-move-end", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                         NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_BOOLEAN);
}

static void
cs_graph_view_init (CsGraphView *self)
{
  GtkEventController *scroll, *motion;
  GtkGesture *drag, *click;

  self->hover = self->selected = self->drag_node = -1;
  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}
