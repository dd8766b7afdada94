#define G_LOG_DOMAIN "cs-figure"

#include "cs-wordnet-view.h"

#include <math.h>

struct _CsWordNetView
{
  CsFigureView       parent_instance;

  CsGeometryWordNet *wordnet;   /* the owner CsFigureView releases */
  CsWordNetHeatmapsFigure fig;  /* wordnet's, with this view's range and selection */
  char              *format;
  char              *tip;
};

G_DEFINE_FINAL_TYPE (CsWordNetView, cs_wordnet_view, CS_TYPE_FIGURE_VIEW)

enum
{
  SYNSET_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
cs_wordnet_view_new (void)
{
  return g_object_new (CS_TYPE_WORDNET_VIEW, NULL);
}

void
cs_wordnet_view_set_wordnet (CsWordNetView *self, CsGeometryWordNet *wordnet)
{
  g_return_if_fail (CS_IS_WORDNET_VIEW (self));
  self->wordnet = wordnet ? cs_geometry_wordnet_ref (wordnet) : NULL;
  self->fig = wordnet ? wordnet->heatmaps : (CsWordNetHeatmapsFigure) { 0 };
  self->fig.selected = -1;
  cs_figure_view_set_owner (CS_FIGURE_VIEW (self), self->wordnet, (GDestroyNotify) cs_geometry_wordnet_free);
  g_clear_pointer (&self->tip, g_free);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self));
}

void
cs_wordnet_view_zoom_to (CsWordNetView *self, guint first, guint count)
{
  g_return_if_fail (CS_IS_WORDNET_VIEW (self));
  if (!self->wordnet || self->fig.n == 0)
    return;
  count = CLAMP (count, MIN (4u, self->fig.n), self->fig.n);
  self->fig.first = MIN (first, self->fig.n - count);
  self->fig.count = count;
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self));
}

void
cs_wordnet_view_get_range (CsWordNetView *self, guint *first, guint *count)
{
  g_return_if_fail (CS_IS_WORDNET_VIEW (self));
  *first = self->fig.first;
  *count = self->fig.count;
}

void
cs_wordnet_view_set_selected (CsWordNetView *self, gint index)
{
  g_return_if_fail (CS_IS_WORDNET_VIEW (self));
  self->fig.selected = index >= 0 && (guint) index < self->fig.n ? index : -1;
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self));
}

gboolean
cs_wordnet_view_cell_at (CsWordNetView *self, double x, double y, guint *row, guint *col)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  CsFigureStyle s;
  g_return_val_if_fail (CS_IS_WORDNET_VIEW (self), FALSE);
  if (!self->wordnet || self->fig.n == 0 || w <= 0 || h <= 0)
    return FALSE;
  s = cs_figure_view_get_style (CS_FIGURE_VIEW (self));
  return cs_figure_wordnet_heatmaps_cell_at (0, 0, w, h, &s, &self->fig, x, y, row, col, NULL);
}

void
cs_wordnet_view_zoom_at (CsWordNetView *self, double x, double y, double factor)
{
  guint row, col, count;
  double at;
  g_return_if_fail (CS_IS_WORDNET_VIEW (self));
  if (!self->wordnet || !cs_wordnet_view_cell_at (self, x, y, &row, &col))
    return;
  /* the row under the pointer keeps its place in the panel */
  at = (double) (row - self->fig.first) / MAX (self->fig.count, 1);
  count = (guint) CLAMP (lround (self->fig.count * factor), MIN (4, (long) self->fig.n), (long) self->fig.n);
  cs_wordnet_view_zoom_to (self, (guint) MAX (0, lround (row - at * count)), count);
}

const char *
cs_wordnet_view_hover (CsWordNetView *self, double x, double y)
{
  guint row, col;
  g_return_val_if_fail (CS_IS_WORDNET_VIEW (self), NULL);
  g_clear_pointer (&self->tip, g_free);
  if (cs_wordnet_view_cell_at (self, x, y, &row, &col))
    {
      gsize at = (gsize) row * self->fig.n + col;
      gint32 d = self->fig.distance ? self->fig.distance[at] : -1;
      g_autofree char *dist = d >= 0 ? g_strdup_printf ("%d", d) : g_strdup ("∞");
      self->tip = g_strdup_printf (self->format ? self->format : "%1$s × %2$s: d = %3$s, cos %4$.3f, %5$.3f",
                                   self->fig.names[row], self->fig.names[col], dist, self->fig.cos[at],
                                   self->fig.diff_cos[at]);
    }
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), self->tip);
  return self->tip;
}

void
cs_wordnet_view_set_tooltip_format (CsWordNetView *self, const char *format)
{
  g_return_if_fail (CS_IS_WORDNET_VIEW (self));
  g_free (self->format);
  self->format = g_strdup (format);
}

static void
on_motion (GtkEventControllerMotion *m, double x, double y, CsWordNetView *self)
{
  cs_wordnet_view_hover (self, x, y);
}

static gboolean
on_scroll (GtkEventControllerScroll *sc, double dx, double dy, CsWordNetView *self)
{
  double x, y;
  GdkEvent *ev = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (sc));
  if (!ev || !gdk_event_get_position (ev, &x, &y) || dy == 0)
    return FALSE;
  cs_wordnet_view_zoom_at (self, x, y, dy > 0 ? 1.25 : 0.8);
  return TRUE;
}

static void
on_pressed (GtkGestureClick *click, int n_press, double x, double y, CsWordNetView *self)
{
  guint row, col, button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (click));
  if (button == GDK_BUTTON_SECONDARY)
    {
      cs_wordnet_view_zoom_to (self, 0, self->fig.n);
      return;
    }
  if (!cs_wordnet_view_cell_at (self, x, y, &row, &col))
    return;
  if (n_press == 2 && self->wordnet)
    {
      guint end = self->wordnet->block_end[row];
      /* a leaf's block is itself: its parent's instead */
      if (end - row < 2)
        {
          int p = cs_category_set_get (self->wordnet->geometry->categories, row)->parent;
          if (p >= 0)
            {
              row = (guint) p;
              end = self->wordnet->block_end[row];
            }
        }
      cs_wordnet_view_zoom_to (self, row, end - row);
      return;
    }
  cs_wordnet_view_set_selected (self, (gint) row);
  g_signal_emit (self, signals[SYNSET_ACTIVATED], 0, row);
}

static void
cs_wordnet_view_draw (CsFigureView *view, cairo_t *cr, double w, double h, const CsFigureStyle *s, gboolean on_screen)
{
  CsWordNetView *self = CS_WORDNET_VIEW (view);
  cs_figure_draw_wordnet_heatmaps (cr, 0, 0, w, h, s, &self->fig);
}

static gboolean
cs_wordnet_view_has_figure (CsFigureView *view)
{
  return CS_WORDNET_VIEW (view)->wordnet != NULL;
}

static void
cs_wordnet_view_dispose (GObject *object)
{
  CsWordNetView *self = CS_WORDNET_VIEW (object);
  self->wordnet = NULL;   /* the owner goes with CsFigureView's dispose */
  G_OBJECT_CLASS (cs_wordnet_view_parent_class)->dispose (object);
}

static void
cs_wordnet_view_finalize (GObject *object)
{
  g_free (CS_WORDNET_VIEW (object)->tip);
  g_free (CS_WORDNET_VIEW (object)->format);
  G_OBJECT_CLASS (cs_wordnet_view_parent_class)->finalize (object);
}

static void
cs_wordnet_view_class_init (CsWordNetViewClass *klass)
{
  CsFigureViewClass *view_class = CS_FIGURE_VIEW_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cs_wordnet_view_dispose;
  G_OBJECT_CLASS (klass)->finalize = cs_wordnet_view_finalize;
  view_class->draw = cs_wordnet_view_draw;
  view_class->has_figure = cs_wordnet_view_has_figure;
  /* a cell was clicked: its row's synset (an index into the categories) */
  signals[SYNSET_ACTIVATED] = g_signal_new ("synset-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                            NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
cs_wordnet_view_init (CsWordNetView *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  GtkGesture *click = gtk_gesture_click_new ();

  self->fig.selected = -1;
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), 0);
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
}
