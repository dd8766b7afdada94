/* The view widgets on their own, under Xvfb: CsFigureView (render node
 * kept until the data or size change, export identical to the figure
 * function's), CsProjectionView (hit-testing against positions computed
 * here from the frame, zoom, rubber band, legend and token clicks, their
 * signals), CsGraphView (nodes where the frame puts them, zoom, node drags
 * and pans with their signals, the view kept or reset with a new figure,
 * export) and CsHeatmapView (the cell under the pointer and its
 * tooltip). */

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>

#include "cs-figure-view.h"
#include "cs-graph-view.h"
#include "cs-simplex-view.h"
#include "cs-heatmap-view.h"
#include "cs-projection-view.h"

#define W 600
#define H 400

static GtkWidget *
show_in_window (GtkWidget *view)
{
  GtkWidget *win = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (win), W, H);
  gtk_window_set_child (GTK_WINDOW (win), view);
  gtk_window_present (GTK_WINDOW (win));
  /* until it is laid out at its size */
  for (int i = 0; i < 200 && (gtk_widget_get_width (view) < W / 2 || gtk_widget_get_height (view) < H / 2); i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10000);
    }
  g_assert_cmpint (gtk_widget_get_width (view), >, W / 2);
  return win;
}

/* Lets the window paint the frames asked for (the widget's snapshot runs
 * when GTK draws the window). */
static void
render (GtkWidget *view)
{
  gtk_widget_queue_draw (view);
  for (int i = 0; i < 20; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (5000);
    }
}

typedef struct
{
  guint calls;
} Counter;

static void
draw_square (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  Counter *c = data;
  c->calls++;
  cairo_set_source_rgb (cr, 0.8, 0.1, 0.1);
  cairo_rectangle (cr, w / 4, h / 4, w / 2, h / 2);
  cairo_fill (cr);
}

static void
test_figure_view_cache_and_export (void)
{
  Counter c = { 0 };
  GtkWidget *view = cs_figure_view_new ();
  GtkWidget *win = show_in_window (view);
  CsFigureView *fv = CS_FIGURE_VIEW (view);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cs-views-XXXXXX", NULL);
  g_autofree char *a = g_build_filename (dir, "view.png", NULL);
  g_autofree char *b = g_build_filename (dir, "direct.png", NULL);
  CsFigureStyle style;

  g_assert_false (cs_figure_view_has_figure (fv));
  g_assert_false (cs_figure_view_export (fv, a, &(CsFigureStyle) { 200, 100, 12, CS_THEME_LIGHT }, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);

  cs_figure_view_set_draw_func (fv, draw_square, &c, NULL);
  render (view);
  g_assert_cmpuint (c.calls, ==, 1);
  {
    guint base = cs_figure_view_get_draw_count (fv);
    /* more frames of the same data and size reuse the render node */
    render (view);
    render (view);
    g_assert_cmpuint (cs_figure_view_get_draw_count (fv), ==, base);
    g_assert_cmpuint (c.calls, ==, 1);
    cs_figure_view_invalidate (fv);
    render (view);
    g_assert_cmpuint (cs_figure_view_get_draw_count (fv), ==, base + 1);
    g_assert_cmpuint (c.calls, ==, 2);
    /* another size draws again */
    gtk_window_set_default_size (GTK_WINDOW (win), W - 100, H);
    for (int i = 0; i < 100 && gtk_widget_get_width (view) == W; i++)
      render (view);
    render (view);
    g_assert_cmpuint (c.calls, ==, 3);
  }

  /* export: byte for byte what the figure function exports */
  g_assert_true (cs_figure_style_from ("square", "light", 0, &style, &error));
  g_assert_no_error (error);
  g_assert_true (cs_figure_view_export (fv, a, &style, 1, &error));
  g_assert_no_error (error);
  g_assert_true (cs_figure_export (b, &style, 1, draw_square, &c, &error));
  g_assert_no_error (error);
  {
    g_autofree char *da = NULL, *db = NULL;
    gsize la, lb;
    g_assert_true (g_file_get_contents (a, &da, &la, NULL));
    g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
    g_assert_cmpmem (da, la, db, lb);
  }
  g_unlink (a);
  g_unlink (b);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

/* A 3 × 3 grid of points in [0, 2]², one group (colour 4) of the first
 * three. */
typedef struct
{
  float x[9], y[9];
  gint32 ids[3];
  CsFigureGroup group;
} Grid;

static void
grid_init (Grid *g)
{
  for (int i = 0; i < 9; i++)
    {
      g->x[i] = (float) (i % 3);
      g->y[i] = (float) (i / 3);
    }
  for (int i = 0; i < 3; i++)
    g->ids[i] = i;
  g->group = (CsFigureGroup) { "first row", g->ids, 3, 4, FALSE, NULL };
}

typedef struct
{
  gint64 token;
  guint  legend;
  guint  selections;
  guint  released;
} Seen;

static void
on_token (CsProjectionView *v, gint64 id, Seen *s)
{
  s->token = id;
}

static void
on_legend (CsProjectionView *v, guint colour, Seen *s)
{
  s->legend = colour;
}

static void
on_selection (CsProjectionView *v, Seen *s)
{
  s->selections++;
}

static void
release (gpointer p)
{
  ((Seen *) p)->released++;
}

static void
test_projection_view (void)
{
  Grid g;
  Seen seen = { -2, 0, 0, 0 };
  GtkWidget *view = cs_projection_view_new ();
  GtkWidget *win = show_in_window (view);
  CsProjectionView *pv = CS_PROJECTION_VIEW (view);
  CsProjectionFigure fig = { 0 };
  CsFigureFrame f;
  double x, y;

  grid_init (&g);
  fig.n_points = 9;
  fig.x = g.x;
  fig.y = g.y;
  fig.groups = &g.group;
  fig.n_groups = 1;
  g_signal_connect (view, "token-activated", G_CALLBACK (on_token), &seen);
  g_signal_connect (view, "legend-activated", G_CALLBACK (on_legend), &seen);
  g_signal_connect (view, "selection-changed", G_CALLBACK (on_selection), &seen);

  g_assert_false (cs_projection_view_get_frame (pv, &f));
  g_assert_cmpint (cs_projection_view_token_at (pv, 10, 10), ==, -1);
  cs_projection_view_set_figure (pv, &fig, &seen, release);
  g_assert_true (cs_projection_view_get_frame (pv, &f));
  g_assert_cmpfloat (f.xmin, <=, 0);
  g_assert_cmpfloat (f.xmax, >=, 2);

  /* every point is found where the frame puts it (computed here) */
  for (int i = 0; i < 9; i++)
    {
      double px = f.x0 + (g.x[i] - f.xmin) / (f.xmax - f.xmin) * f.w;
      double py = f.y0 + f.h - (g.y[i] - f.ymin) / (f.ymax - f.ymin) * f.h;
      g_assert_true (cs_projection_view_token_position (pv, i, &x, &y));
      g_assert_cmpfloat (fabs (x - px), <, 1e-9);
      g_assert_cmpfloat (fabs (y - py), <, 1e-9);
      g_assert_cmpint (cs_projection_view_token_at (pv, px + 3, py - 3), ==, i);
    }
  /* more than 8 pixels from every point: none */
  cs_projection_view_token_position (pv, 4, &x, &y);
  g_assert_cmpint (cs_projection_view_token_at (pv, x + (f.w / (f.xmax - f.xmin)) / 2, y), ==, -1);

  /* zoom ×2 about the centre halves the range about its middle */
  {
    double cx = (f.xmin + f.xmax) / 2, wx = f.xmax - f.xmin;
    CsFigureFrame z;
    cs_projection_view_zoom (pv, 2, 0.5, 0.5);
    g_assert_true (cs_projection_view_get_frame (pv, &z));
    g_assert_cmpfloat (fabs ((z.xmax - z.xmin) - wx / 2), <, 1e-9);
    g_assert_cmpfloat (fabs ((z.xmin + z.xmax) / 2 - cx), <, 1e-9);
    cs_projection_view_reset_view (pv);
    g_assert_true (cs_projection_view_get_frame (pv, &z));
    g_assert_cmpfloat (fabs (z.xmax - f.xmax), <, 1e-9);
  }

  /* centring on a token puts it in the middle */
  cs_projection_view_center_on (pv, 8);
  g_assert_true (cs_projection_view_token_position (pv, 8, &x, &y));
  g_assert_cmpfloat (fabs (x - (f.x0 + f.w / 2)), <, 1e-6);
  cs_projection_view_reset_view (pv);

  /* a rubber band around the bottom row (y = 0) selects exactly 0, 1, 2 */
  {
    double x0, y0, x2, y2;
    const GArray *sel;
    cs_projection_view_token_position (pv, 0, &x0, &y0);
    cs_projection_view_token_position (pv, 2, &x2, &y2);
    g_assert_cmpuint (cs_projection_view_select_rect (pv, x0 - 4, y0 + 4, x2 + 4, y2 - 4), ==, 3);
    sel = cs_projection_view_get_selection (pv);
    for (int i = 0; i < 3; i++)
      g_assert_cmpint (g_array_index (sel, gint32, i), ==, i);
    g_assert_cmpuint (seen.selections, ==, 1);
  }

  /* a click on the legend entry names the group's colour; on a token, its id */
  g_assert_true (cs_projection_view_legend_position (pv, 4, &x, &y));
  g_assert_cmpint (cs_projection_view_legend_at (pv, x, y), ==, 0);
  g_assert_true (cs_projection_view_click (pv, x, y));
  g_assert_cmpuint (seen.legend, ==, 4);
  g_assert_false (cs_projection_view_legend_position (pv, 5, &x, &y));
  cs_projection_view_token_position (pv, 7, &x, &y);
  g_assert_false (cs_projection_view_click (pv, x, y));
  g_assert_cmpint (seen.token, ==, 7);
  g_assert_cmpint (cs_projection_view_get_picked (pv), ==, 7);
  render (view);

  /* a new figure releases the old one's owner; none clears the pick */
  cs_projection_view_set_figure (pv, NULL, NULL, NULL);
  g_assert_cmpuint (seen.released, ==, 1);
  g_assert_cmpint (cs_projection_view_get_picked (pv), ==, -1);
  render (view);
  gtk_window_destroy (GTK_WINDOW (win));
}

/* ---- CsGraphView ---- */

typedef struct
{
  int    begun, moved_node, ended;
  double x, y;
  gboolean was_moved;
} Moves;

static void
on_move_begin (GtkWidget *v, int node, Moves *m)
{
  m->begun = node;
}

static void
on_moved (GtkWidget *v, int node, double x, double y, Moves *m)
{
  m->moved_node = node;
  m->x = x;
  m->y = y;
}

static void
on_move_end (GtkWidget *v, int node, gboolean moved, Moves *m)
{
  m->ended = node;
  m->was_moved = moved;
}

static void
draw_graph_fig (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  cs_figure_draw_graph (cr, 0, 0, w, h, s, data);
}

static void
test_graph_view (void)
{
  static const double gx[4] = { 0.1, 0.9, 0.5, 0.5 }, gy[4] = { 0.1, 0.1, 0.9, 0.5 };
  static const int size[4] = { 5, 5, 5, 5 }, edges[4] = { 0, 1, 1, 2 };
  static const double weight[2] = { 0.5, 0.5 };
  GtkWidget *view = cs_graph_view_new ();
  GtkWidget *win = show_in_window (view);
  CsGraphView *gv = CS_GRAPH_VIEW (view);
  CsGraphFigure fig = { 0 };
  CsFigureFrame f, f2;
  Moves m = { -2, -2, -2, 0, 0, FALSE };
  double x, y, sx, sy;

  fig.n_nodes = 4;
  fig.x = gx;
  fig.y = gy;
  fig.size = size;
  fig.n_edges = 2;
  fig.edges = edges;
  fig.edge_weight = weight;
  fig.hover = -1;
  fig.title = "graph";
  g_signal_connect (view, "node-move-begin", G_CALLBACK (on_move_begin), &m);
  g_signal_connect (view, "node-moved", G_CALLBACK (on_moved), &m);
  g_signal_connect (view, "node-move-end", G_CALLBACK (on_move_end), &m);

  g_assert_false (cs_graph_view_get_frame (gv, &f));
  g_assert_cmpint (cs_graph_view_node_at (gv, 10, 10), ==, -1);
  cs_graph_view_set_figure (gv, &fig, NULL, NULL, FALSE);
  g_assert_true (cs_graph_view_get_frame (gv, &f));
  /* every node is found where the frame puts it (computed here) */
  for (int i = 0; i < 4; i++)
    {
      double px = f.x0 + (gx[i] - f.xmin) / (f.xmax - f.xmin) * f.w;
      double py = f.y0 + f.h - (gy[i] - f.ymin) / (f.ymax - f.ymin) * f.h;
      g_assert_true (cs_graph_view_node_position (gv, i, &x, &y));
      g_assert_cmpfloat (fabs (x - px), <, 1e-9);
      g_assert_cmpfloat (fabs (y - py), <, 1e-9);
      g_assert_cmpint (cs_graph_view_node_at (gv, px, py), ==, i);
    }
  /* nothing where no node is: the layout's empty corner (0.9, 0.9) */
  x = f.x0 + (0.9 - f.xmin) / (f.xmax - f.xmin) * f.w;
  y = f.y0 + f.h - (0.9 - f.ymin) / (f.ymax - f.ymin) * f.h;
  g_assert_cmpint (cs_graph_view_node_at (gv, x, y), ==, -1);
  render (view);

  /* a drag from there pans: the range moves by the drag in layout units */
  sx = (f.xmax - f.xmin) / f.w;
  sy = (f.ymax - f.ymin) / f.h;
  cs_graph_view_drag (gv, x, y, 40, 10);
  g_assert_cmpint (m.begun, ==, -2);
  g_assert_cmpint (m.moved_node, ==, -2);
  g_assert_true (cs_graph_view_get_frame (gv, &f2));
  g_assert_cmpfloat (fabs (f2.xmin - (f.xmin - 40 * sx)), <, 1e-9);
  g_assert_cmpfloat (fabs (f2.ymin - (f.ymin + 10 * sy)), <, 1e-9);

  /* a drag from a node moves it: begin, the new layout position, end */
  cs_graph_view_reset_view (gv);
  g_assert_true (cs_graph_view_get_frame (gv, &f));
  g_assert_true (cs_graph_view_node_position (gv, 3, &x, &y));
  cs_graph_view_drag (gv, x, y, 30, -20);
  g_assert_cmpint (m.begun, ==, 3);
  g_assert_cmpint (m.moved_node, ==, 3);
  g_assert_cmpint (m.ended, ==, 3);
  g_assert_true (m.was_moved);
  g_assert_cmpfloat (fabs (m.x - (0.5 + 30 * (f.xmax - f.xmin) / f.w)), <, 1e-9);
  g_assert_cmpfloat (fabs (m.y - (0.5 + 20 * (f.ymax - f.ymin) / f.h)), <, 1e-9);
  /* the view moved nothing itself (the owner of the positions does) */
  g_assert_cmpfloat (gx[3], ==, 0.5);

  /* zoom ×2 about the centre of the plot halves the range about it */
  cs_graph_view_zoom (gv, 2, f.x0 + f.w / 2, f.y0 + f.h / 2);
  g_assert_true (cs_graph_view_get_frame (gv, &f2));
  g_assert_cmpfloat (fabs ((f2.xmax - f2.xmin) - (f.xmax - f.xmin) / 2), <, 1e-9);
  g_assert_cmpfloat (fabs ((f2.xmax + f2.xmin) - (f.xmax + f.xmin)), <, 1e-9);
  /* the same graph again keeps the zoom; a new one shows it whole */
  cs_graph_view_set_figure (gv, &fig, NULL, NULL, TRUE);
  g_assert_true (cs_graph_view_get_frame (gv, &f2));
  g_assert_cmpfloat (fabs ((f2.xmax - f2.xmin) - (f.xmax - f.xmin) / 2), <, 1e-9);
  cs_graph_view_set_figure (gv, &fig, NULL, NULL, FALSE);
  g_assert_true (cs_graph_view_get_frame (gv, &f2));
  g_assert_cmpfloat (fabs (f2.xmin - f.xmin), <, 1e-9);
  g_assert_cmpfloat (fabs (f2.xmax - f.xmax), <, 1e-9);
  render (view);

  /* export: byte for byte what the figure function exports */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp ("cs-views-XXXXXX", NULL);
    g_autofree char *a = g_build_filename (dir, "view.png", NULL), *b = g_build_filename (dir, "figure.png", NULL);
    g_autofree char *da = NULL, *db = NULL;
    gsize la, lb;
    CsFigureStyle style;
    g_assert_true (cs_figure_style_from ("square", "light", 0, &style, &error));
    g_assert_true (cs_figure_view_export (CS_FIGURE_VIEW (gv), a, &style, 1, &error));
    g_assert_no_error (error);
    g_assert_true (cs_figure_export (b, &style, 1, draw_graph_fig, &fig, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (a, &da, &la, NULL));
    g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
    g_assert_cmpuint (la, >, 1000);
    g_assert_cmpmem (da, la, db, lb);
    g_unlink (a);
    g_unlink (b);
    g_rmdir (dir);
  }
  gtk_window_destroy (GTK_WINDOW (win));
}

/* ---- CsSimplexView ---- */

static void
draw_simplex_fig (cairo_t *cr, double w, double h, const CsFigureStyle *s, gpointer data)
{
  cs_figure_draw_simplex (cr, 0, 0, w, h, s, data);
}

static void
test_simplex_view (void)
{
  /* six tokens: 0–2 near the vertices, 3–5 the cloud only */
  static const float px[6] = { 1.0f, 0.1f, 0.0f, 0.3f, 0.2f, 0.25f };
  static const float py[6] = { 0.0f, 0.9f, 0.1f, 0.3f, 0.2f, 0.35f };
  static const float pz[6] = { 0.1f, 0.0f, 1.1f, 0.3f, 0.5f, 0.05f };
  static const gint32 ids[3] = { 0, 1, 2 };
  CsFigureGroup group = { "three", ids, 3, 2, FALSE, NULL };
  CsSimplexFigure fig = { 0 };
  GtkWidget *view = cs_simplex_view_new ();
  GtkWidget *win = show_in_window (view);
  CsSimplexView *sv = CS_SIMPLEX_VIEW (view);
  double az, el, zoom, x, y;

  fig.n_points = 6;
  fig.x = px;
  fig.y = py;
  fig.z = pz;
  fig.groups = &group;
  fig.n_groups = 1;
  fig.n_vertices = 3;
  for (int k = 0; k < 3; k++)
    {
      fig.vertex[k][0] = k == 0;
      fig.vertex[k][1] = k == 1;
      fig.vertex[k][2] = k == 2;
      fig.vertex_colour[k] = k;
    }
  fig.azimuth = 30;
  fig.elevation = 20;
  fig.zoom = 1;
  fig.title = "simplex";
  g_assert_cmpint (cs_simplex_view_token_at (sv, 10, 10), ==, -1);
  cs_simplex_view_set_figure (sv, &fig, NULL, NULL, FALSE);
  render (view);
  /* each category point is found where the view puts it */
  for (int t = 0; t < 3; t++)
    {
      double p[3] = { px[t], py[t], pz[t] };
      g_assert_true (cs_simplex_view_position (sv, p, &x, &y));
      g_assert_cmpint (cs_simplex_view_token_at (sv, x, y), ==, t);
      g_assert_cmpint (cs_simplex_view_token_at (sv, x + 30, y + 30), ==, -1);
    }
  /* a drag turns it: 0.4° a pixel, the tilt kept within ±89° */
  cs_simplex_view_drag (sv, 30, -10);
  cs_simplex_view_get_rotation (sv, &az, &el, &zoom);
  g_assert_cmpfloat (fabs (az - 42), <, 1e-9);
  g_assert_cmpfloat (fabs (el - 16), <, 1e-9);
  cs_simplex_view_drag (sv, 0, 1000);
  cs_simplex_view_get_rotation (sv, &az, &el, &zoom);
  g_assert_cmpfloat (el, ==, 89);
  /* the points follow the turn */
  {
    double p[3] = { px[0], py[0], pz[0] };
    g_assert_true (cs_simplex_view_position (sv, p, &x, &y));
    g_assert_cmpint (cs_simplex_view_token_at (sv, x, y), ==, 0);
  }
  /* a new figure keeps the rotation when asked, takes its own otherwise */
  cs_simplex_view_set_figure (sv, &fig, NULL, NULL, TRUE);
  cs_simplex_view_get_rotation (sv, &az, &el, &zoom);
  g_assert_cmpfloat (el, ==, 89);
  cs_simplex_view_set_figure (sv, &fig, NULL, NULL, FALSE);
  cs_simplex_view_get_rotation (sv, &az, &el, &zoom);
  g_assert_cmpfloat (az, ==, 30);
  g_assert_cmpfloat (el, ==, 20);
  render (view);

  /* export at the rotation shown: pixel for pixel the figure function's */
  cs_simplex_view_set_rotation (sv, 75, -10, 1.5);
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp ("cs-views-XXXXXX", NULL);
    g_autofree char *a = g_build_filename (dir, "view.png", NULL), *b = g_build_filename (dir, "figure.png", NULL);
    g_autofree char *da = NULL, *db = NULL;
    gsize la, lb;
    CsFigureStyle style;
    CsSimplexFigure turned = fig;
    turned.azimuth = 75;
    turned.elevation = -10;
    turned.zoom = 1.5;
    g_assert_true (cs_figure_style_from ("square", "light", 0, &style, &error));
    g_assert_true (cs_figure_view_export (CS_FIGURE_VIEW (sv), a, &style, 1, &error));
    g_assert_no_error (error);
    g_assert_true (cs_figure_export (b, &style, 1, draw_simplex_fig, &turned, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (a, &da, &la, NULL));
    g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
    g_assert_cmpuint (la, >, 1000);
    g_assert_cmpmem (da, la, db, lb);
    g_unlink (a);
    g_unlink (b);
    g_rmdir (dir);
  }
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_heatmap_view (void)
{
  const char *names[] = { "a", "b", "c", NULL };
  double m[9] = { 1, 0.5, 0.25, 0.5, 1, NAN, 0.25, NAN, 1 };
  CsHeatmapFigure fig = { 3, names, m, "test" };
  GtkWidget *view = cs_heatmap_view_new ();
  GtkWidget *win = show_in_window (view);
  CsHeatmapView *hv = CS_HEATMAP_VIEW (view);
  CsFigureStyle s;
  guint row, col, found = 0;

  cs_heatmap_view_set_figure (hv, &fig, NULL, NULL);
  cs_heatmap_view_set_tooltip_format (hv, "%1$s × %2$s = %3$.2f");
  s = cs_figure_view_get_style (CS_FIGURE_VIEW (view));
  /* every cell the figure function finds, the view finds and names */
  for (int y = 0; y < H; y += 5)
    for (int x = 0; x < W; x += 5)
      {
        guint r2, c2;
        gboolean in = cs_figure_heatmap_cell_at (0, 0, s.width, s.height, &s, &fig, x, y, &r2, &c2);
        g_assert_cmpint (cs_heatmap_view_cell_at (hv, x, y, &row, &col), ==, in);
        if (in && r2 == 0 && c2 == 2)
          {
            g_assert_cmpstr (cs_heatmap_view_hover (hv, x, y), ==, "a × c = 0.25");
            found++;
          }
      }
  g_assert_cmpuint (found, >, 0);
  g_assert_null (cs_heatmap_view_hover (hv, 0, 0));
  render (view);
  gtk_window_destroy (GTK_WINDOW (win));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/views/figure-view", test_figure_view_cache_and_export);
  g_test_add_func ("/views/projection-view", test_projection_view);
  g_test_add_func ("/views/graph-view", test_graph_view);
  g_test_add_func ("/views/simplex-view", test_simplex_view);
  g_test_add_func ("/views/heatmap-view", test_heatmap_view);
  return g_test_run ();
}
