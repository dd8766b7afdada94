#define G_LOG_DOMAIN "cs-figure"

#include <adwaita.h>

#include "cs-figure-view.h"

typedef struct
{
  CsFigureDrawFunc draw;
  gpointer         draw_data;
  GDestroyNotify   draw_destroy;
  GskRenderNode   *node;          /* the last frame, while data, size and theme stay */
  int              node_width, node_height;
  double           font_scale;
  guint            draw_count;
  gpointer         owner;         /* keeps a subclass's figure data alive */
  GDestroyNotify   release;
} CsFigureViewPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (CsFigureView, cs_figure_view, GTK_TYPE_WIDGET)

CsFigureStyle
cs_figure_screen_style (void)
{
  CsFigureStyle s = { 0, 0, 15, CS_THEME_LIGHT };   /* on screen a point is a pixel */
  if (adw_is_initialized () && adw_style_manager_get_dark (adw_style_manager_get_default ()))
    s.theme = CS_THEME_DARK;
  return s;
}

GtkWidget *
cs_figure_view_new (void)
{
  return g_object_new (CS_TYPE_FIGURE_VIEW, NULL);
}

void
cs_figure_view_set_owner (CsFigureView *self, gpointer owner, GDestroyNotify release)
{
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  gpointer old = priv->owner;
  GDestroyNotify old_release = priv->release;
  g_return_if_fail (CS_IS_FIGURE_VIEW (self));
  priv->owner = owner;
  priv->release = release;
  if (old && old_release)
    old_release (old);
}

void
cs_figure_view_set_draw_func (CsFigureView *self, CsFigureDrawFunc draw, gpointer data, GDestroyNotify destroy)
{
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  g_return_if_fail (CS_IS_FIGURE_VIEW (self));
  if (priv->draw_destroy)
    priv->draw_destroy (priv->draw_data);
  priv->draw = draw;
  priv->draw_data = data;
  priv->draw_destroy = destroy;
  cs_figure_view_invalidate (self);
}

void
cs_figure_view_invalidate (CsFigureView *self)
{
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  g_return_if_fail (CS_IS_FIGURE_VIEW (self));
  g_clear_pointer (&priv->node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

CsFigureStyle
cs_figure_view_get_style (CsFigureView *self)
{
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  CsFigureStyle s = cs_figure_screen_style ();
  s.width = gtk_widget_get_width (GTK_WIDGET (self));
  s.height = gtk_widget_get_height (GTK_WIDGET (self));
  s.font_size *= priv->font_scale;
  return s;
}

void
cs_figure_view_set_font_scale (CsFigureView *self, double scale)
{
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  g_return_if_fail (CS_IS_FIGURE_VIEW (self));
  g_return_if_fail (scale > 0);
  priv->font_scale = scale;
  cs_figure_view_invalidate (self);
}

gboolean
cs_figure_view_has_figure (CsFigureView *self)
{
  g_return_val_if_fail (CS_IS_FIGURE_VIEW (self), FALSE);
  return CS_FIGURE_VIEW_GET_CLASS (self)->has_figure (self);
}

guint
cs_figure_view_get_draw_count (CsFigureView *self)
{
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  return priv->draw_count;
}

static void
draw_for_export (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  CsFigureView *self = data;
  CS_FIGURE_VIEW_GET_CLASS (self)->draw (self, cr, w, h, s, FALSE);
}

gboolean
cs_figure_view_export (CsFigureView *self, const char *path, const CsFigureStyle *style, double scale, GError **error)
{
  g_return_val_if_fail (CS_IS_FIGURE_VIEW (self), FALSE);
  if (!cs_figure_view_has_figure (self))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "nothing to export yet");
      return FALSE;
    }
  return cs_figure_export (path, style, scale, draw_for_export, self, error);
}

static void
cs_figure_view_real_draw (CsFigureView *self, cairo_t *cr, double w, double h, const CsFigureStyle *s,
                          gboolean on_screen)
{
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  if (priv->draw)
    priv->draw (cr, w, h, s, priv->draw_data);
}

static gboolean
cs_figure_view_real_has_figure (CsFigureView *self)
{
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  return priv->draw != NULL;
}

static void
cs_figure_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CsFigureView *self = CS_FIGURE_VIEW (widget);
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);

  if (w <= 0 || h <= 0)
    return;
  if (!priv->node || priv->node_width != w || priv->node_height != h)
    {
      GtkSnapshot *own = gtk_snapshot_new ();
      CsFigureStyle s = cs_figure_view_get_style (self);
      cairo_t *cr = gtk_snapshot_append_cairo (own, &GRAPHENE_RECT_INIT (0, 0, w, h));
      cs_figure_paint_background (cr, w, h, &s);
      if (CS_FIGURE_VIEW_GET_CLASS (self)->has_figure (self))
        CS_FIGURE_VIEW_GET_CLASS (self)->draw (self, cr, w, h, &s, TRUE);
      cairo_destroy (cr);
      g_clear_pointer (&priv->node, gsk_render_node_unref);
      priv->node = gtk_snapshot_free_to_node (own);
      priv->node_width = w;
      priv->node_height = h;
      priv->draw_count++;
    }
  if (priv->node)
    gtk_snapshot_append_node (snapshot, priv->node);
}

static void
cs_figure_view_dispose (GObject *object)
{
  CsFigureView *self = CS_FIGURE_VIEW (object);
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  cs_figure_view_set_owner (self, NULL, NULL);
  if (priv->draw_destroy)
    priv->draw_destroy (priv->draw_data);
  priv->draw = NULL;
  priv->draw_data = NULL;
  priv->draw_destroy = NULL;
  g_clear_pointer (&priv->node, gsk_render_node_unref);
  G_OBJECT_CLASS (cs_figure_view_parent_class)->dispose (object);
}

static void
cs_figure_view_class_init (CsFigureViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cs_figure_view_dispose;
  widget_class->snapshot = cs_figure_view_snapshot;
  klass->draw = cs_figure_view_real_draw;
  klass->has_figure = cs_figure_view_real_has_figure;
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
cs_figure_view_init (CsFigureView *self)
{
  CsFigureViewPrivate *priv = cs_figure_view_get_instance_private (self);
  priv->font_scale = 1;
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  if (adw_is_initialized ())
    g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                             G_CALLBACK (cs_figure_view_invalidate), self, G_CONNECT_SWAPPED);
}
