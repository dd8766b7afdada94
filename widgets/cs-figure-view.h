#pragma once

#include <gtk/gtk.h>

#include "cs-figure.h"

G_BEGIN_DECLS

/* A widget that shows one figure, drawn by the same cairo functions as the
 * export: the screen's theme (light or dark as the desktop's, a point a
 * pixel), a render node kept until the data, the size or the theme change
 * (cs_figure_view_invalidate says the data did), and export of what it
 * shows. Subclasses draw by overriding draw(); a plain CsFigureView draws
 * with the function given to cs_figure_view_set_draw_func. */

#define CS_TYPE_FIGURE_VIEW (cs_figure_view_get_type ())
G_DECLARE_DERIVABLE_TYPE (CsFigureView, cs_figure_view, CS, FIGURE_VIEW, GtkWidget)

struct _CsFigureViewClass
{
  GtkWidgetClass parent_class;

  /* on_screen: drawn into the widget (zoom, hover rings and other state of
   * the interaction apply), or exported (the figure as it is saved). */
  void (*draw) (CsFigureView        *self,
                cairo_t             *cr,
                double               width,
                double               height,
                const CsFigureStyle *style,
                gboolean             on_screen);
  /* Whether there is anything to draw or export. */
  gboolean (*has_figure) (CsFigureView *self);

  gpointer padding[6];
};

GtkWidget    *cs_figure_view_new            (void);
/* The drawing of a plain view (export and screen alike); NULL: nothing. */
void          cs_figure_view_set_draw_func  (CsFigureView     *self,
                                             CsFigureDrawFunc  draw,
                                             gpointer          data,
                                             GDestroyNotify    destroy);
/* For subclasses: owner keeps the data of the figure shown alive and is
 * released (with release) when another replaces it or the view goes. */
void          cs_figure_view_set_owner      (CsFigureView     *self,
                                             gpointer          owner,
                                             GDestroyNotify    release);
/* The data changed: the next frame draws again. */
void          cs_figure_view_invalidate     (CsFigureView     *self);
/* The style frames are drawn in on screen, sized to the widget. */
CsFigureStyle cs_figure_view_get_style      (CsFigureView     *self);
/* Text on screen at this fraction of the usual size (several panels side
 * by side); 1 by default. */
void          cs_figure_view_set_font_scale (CsFigureView     *self,
                                             double            scale);
gboolean      cs_figure_view_has_figure     (CsFigureView     *self);
/* Exports what the view shows, without the interaction's state, at the
 * style's size (cs_figure_style_from). */
gboolean      cs_figure_view_export         (CsFigureView        *self,
                                             const char          *path,
                                             const CsFigureStyle *style,
                                             double               scale,
                                             GError             **error);
/* How many times the view drew its figure for the screen (the render node
 * is reused otherwise): for tests. */
guint         cs_figure_view_get_draw_count (CsFigureView     *self);

/* The screen's figure style: 15-point text, a point a pixel, the light or
 * dark theme as the desktop's. */
CsFigureStyle cs_figure_screen_style        (void);

G_END_DECLS
