#define G_LOG_DOMAIN "cs-figure"

#include "cs-heatmap-view.h"

struct _CsHeatmapView
{
  CsFigureView    parent_instance;

  CsHeatmapFigure fig;
  gboolean        has_fig;
  char           *format;
  char           *tip;
};

G_DEFINE_FINAL_TYPE (CsHeatmapView, cs_heatmap_view, CS_TYPE_FIGURE_VIEW)

enum
{
  CELL_HOVERED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
cs_heatmap_view_new (void)
{
  return g_object_new (CS_TYPE_HEATMAP_VIEW, NULL);
}

void
cs_heatmap_view_set_figure (CsHeatmapView *self, const CsHeatmapFigure *fig, gpointer owner, GDestroyNotify release)
{
  g_return_if_fail (CS_IS_HEATMAP_VIEW (self));
  self->has_fig = fig != NULL;
  self->fig = fig ? *fig : (CsHeatmapFigure) { 0 };
  cs_figure_view_set_owner (CS_FIGURE_VIEW (self), owner, release);
  g_clear_pointer (&self->tip, g_free);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
  cs_figure_view_invalidate (CS_FIGURE_VIEW (self));
}

void
cs_heatmap_view_set_tooltip_format (CsHeatmapView *self, const char *format)
{
  g_return_if_fail (CS_IS_HEATMAP_VIEW (self));
  g_free (self->format);
  self->format = g_strdup (format);
}

gboolean
cs_heatmap_view_cell_at (CsHeatmapView *self, double x, double y, guint *row, guint *col)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  g_return_val_if_fail (CS_IS_HEATMAP_VIEW (self), FALSE);
  if (!self->has_fig || self->fig.n == 0 || w <= 0 || h <= 0)
    return FALSE;
  CsFigureStyle s = cs_figure_view_get_style (CS_FIGURE_VIEW (self));
  return cs_figure_heatmap_cell_at (0, 0, w, h, &s, &self->fig, x, y, row, col);
}

const char *
cs_heatmap_view_hover (CsHeatmapView *self, double x, double y)
{
  guint row, col;
  g_return_val_if_fail (CS_IS_HEATMAP_VIEW (self), NULL);
  g_clear_pointer (&self->tip, g_free);
  if (cs_heatmap_view_cell_at (self, x, y, &row, &col))
    {
      if (self->format)
        self->tip = g_strdup_printf (self->format, self->fig.names[row], self->fig.names[col],
                                     self->fig.matrix[row * self->fig.n + col]);
      g_signal_emit (self, signals[CELL_HOVERED], 0, row, col);
    }
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), self->tip);
  return self->tip;
}

static void
on_motion (GtkEventControllerMotion *m, double x, double y, CsHeatmapView *self)
{
  cs_heatmap_view_hover (self, x, y);
}

static void
cs_heatmap_view_draw (CsFigureView *view, cairo_t *cr, double w, double h, const CsFigureStyle *s,
                      gboolean on_screen)
{
  CsHeatmapView *self = CS_HEATMAP_VIEW (view);
  cs_figure_draw_heatmap (cr, 0, 0, w, h, s, &self->fig);
}

static gboolean
cs_heatmap_view_has_figure (CsFigureView *view)
{
  return CS_HEATMAP_VIEW (view)->has_fig;
}

static void
cs_heatmap_view_dispose (GObject *object)
{
  CsHeatmapView *self = CS_HEATMAP_VIEW (object);
  self->has_fig = FALSE;   /* the owner goes with CsFigureView's dispose */
  G_OBJECT_CLASS (cs_heatmap_view_parent_class)->dispose (object);
}

static void
cs_heatmap_view_finalize (GObject *object)
{
  CsHeatmapView *self = CS_HEATMAP_VIEW (object);
  g_free (self->format);
  g_free (self->tip);
  G_OBJECT_CLASS (cs_heatmap_view_parent_class)->finalize (object);
}

static void
cs_heatmap_view_class_init (CsHeatmapViewClass *klass)
{
  CsFigureViewClass *view_class = CS_FIGURE_VIEW_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cs_heatmap_view_dispose;
  G_OBJECT_CLASS (klass)->finalize = cs_heatmap_view_finalize;
  view_class->draw = cs_heatmap_view_draw;
  view_class->has_figure = cs_heatmap_view_has_figure;
  /* the pointer is over the cell (row, column) */
  signals[CELL_HOVERED] = g_signal_new ("cell-hovered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                        NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
}

static void
cs_heatmap_view_init (CsHeatmapView *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}
