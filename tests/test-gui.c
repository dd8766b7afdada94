/* Starts the real application under Xvfb, waits for its window and model,
 * checks what it shows and renders it to a PNG that is inspected and kept. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs-application.h"
#include "cs-figure.h"
#include "cs-paths.h"
#include "cs-simplex-view.h"
#include "cs-points.h"
#include "cs-hdf5.h"
#include "cs-ui.h"
#include "cs-window.h"
#include "cs-wordnet-view.h"

static gboolean german;

typedef struct
{
  CsApplication *app;
  CsWindow      *window;
  gboolean       checked;
  char          *bad_folder;
  int            phase;
  const void    *sweep_before;   /* the Steering report's sweep before continuing again */
  gint64         last_tick;
  gint64         max_stall;
  gboolean       settled;
  gint64         frame_at_change;
  double        *mapper_x[2];    /* node positions before and after a change of parameters */
  int            mapper_n[2];
  int            card_layer, card_latent;   /* the latent clicked on the Steering page */
} Fixture;

static char *
artifact_path (const char *name)
{
  const char *dir = g_getenv ("CS_TEST_OUTPUT");
  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, name, NULL);
}

/* How long the main loop went without running a 5 ms timer while the
 * geometry was computed in the background. */
static gboolean
tick (gpointer data)
{
  Fixture *f = data;
  gint64 now = g_get_monotonic_time ();
  /* from the second frame on: the first one (styles, fonts) is start-up cost */
  GdkFrameClock *clock = f->window ? gtk_widget_get_frame_clock (GTK_WIDGET (f->window)) : NULL;
  gboolean busy = clock && gdk_frame_clock_get_frame_counter (clock) > 1 &&
                  cs_geometry_page_get_busy (cs_window_get_geometry_page (f->window));
  if (f->last_tick && busy)
    {
      if (now - f->last_tick > 30000)
        g_test_message ("stall of %.1f ms at frame %" G_GINT64_FORMAT, (now - f->last_tick) / 1000.0,
                        gdk_frame_clock_get_frame_counter (clock));
      f->max_stall = MAX (f->max_stall, now - f->last_tick);
    }
  f->last_tick = busy ? now : 0;
  return f->phase < 1 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
png_has_colour (const char *path, guint palette_index)
{
  g_autoptr(GdkTexture) t = gdk_texture_new_from_filename (path, NULL);
  double r, g, b;
  int w, h;
  g_autofree guchar *px = NULL;
  g_assert_nonnull (t);
  w = gdk_texture_get_width (t);
  h = gdk_texture_get_height (t);
  px = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (t, px, (gsize) w * 4);
  cs_figure_palette (palette_index, &r, &g, &b);
  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      /* downloads are B, G, R, A in memory */
      int B = px[4 * i], G = px[4 * i + 1], R = px[4 * i + 2];
      if (abs (R - (int) (r * 255)) < 10 && abs (G - (int) (g * 255)) < 10 && abs (B - (int) (b * 255)) < 10)
        return TRUE;
    }
  return FALSE;
}

/* The widget a side panel shows beside the label `text` (cs_ui_labelled's
 * grid rows, or the next in a box), searched from root. */
static GtkWidget *
labelled_widget (GtkWidget *root, const char *text)
{
  if (GTK_IS_LABEL (root) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (root)), text) == 0)
    {
      GtkWidget *grid = gtk_widget_get_parent (root);
      int col, row, w, h;
      if (GTK_IS_GRID (grid))
        {
          gtk_grid_query_child (GTK_GRID (grid), root, &col, &row, &w, &h);
          return gtk_grid_get_child_at (GTK_GRID (grid), col + 1, row);
        }
      if (GTK_IS_BOX (grid))   /* a label in a row of a box: what follows it */
        return gtk_widget_get_next_sibling (root);
    }
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = labelled_widget (c, text);
      if (found)
        return found;
    }
  return NULL;
}

/* The category's colour appears where its tokens project: around the
 * computed position of each of its tokens in the rendered window. */
static void
assert_tokens_drawn (Fixture *f, const char *png, const char *category)
{
  CsGeometryPage *page = cs_window_get_geometry_page (f->window);
  CsGeometry *g = cs_geometry_page_get_geometry (page);
  CsProjectionView *view = cs_geometry_page_get_projection_view (page);
  int c = cs_category_set_find (g->categories, category);
  CsCategory *cat = cs_category_set_get (g->categories, c);
  g_autoptr(GdkTexture) t = gdk_texture_new_from_filename (png, NULL);
  int w = gdk_texture_get_width (t), h = gdk_texture_get_height (t);
  g_autofree guchar *px = g_malloc ((gsize) w * h * 4);
  double r, gg, b;
  guint found = 0, tried = 0;

  gdk_texture_download (t, px, (gsize) w * 4);
  cs_figure_palette ((guint) c, &r, &gg, &b);
  for (guint k = 0; k < cat->tokens->len; k++)
    {
      double x, y;
      graphene_point_t in, out;
      if (!cs_projection_view_token_position (view, g_array_index (cat->tokens, gint32, k), &x, &y))
        continue;
      in = GRAPHENE_POINT_INIT ((float) x, (float) y);
      if (!gtk_widget_compute_point (GTK_WIDGET (view), GTK_WIDGET (f->window), &in, &out))
        continue;
      if (out.x < 4 || out.y < 4 || out.x >= w - 4 || out.y >= h - 4)
        continue;
      tried++;
      gboolean hit = FALSE;
      for (int dy = -2; dy <= 2 && !hit; dy++)
        for (int dx = -2; dx <= 2 && !hit; dx++)
          {
            guchar *p = px + 4 * ((gsize) ((int) out.y + dy) * w + (int) out.x + dx);
            hit = abs (p[2] - (int) (r * 255)) < 40 && abs (p[1] - (int) (gg * 255)) < 40 &&
                  abs (p[0] - (int) (b * 255)) < 40;
          }
      found += hit;
    }
  g_test_message ("%s: its colour at %u of %u token positions", category, found, tried);
  g_assert_cmpuint (tried, >, 10);
  /* dots of later categories can cover some */
  g_assert_cmpuint (found * 2, >, tried);
}

/* Every visible widget of the window lies inside its content: a page whose
 * minimum width exceeds what is left beside its side panel is clipped, tabs
 * and buttons cut off at the right edge. A scrolled window's content may be
 * larger than the scrolled window, so its descendants are not checked. */
static void
fits_right_edge (GtkWidget *w, GtkWidget *window, float edge)
{
  graphene_rect_t r;

  if (!gtk_widget_get_visible (w) || !gtk_widget_get_mapped (w))
    return;
  if (gtk_widget_compute_bounds (w, window, &r) && r.size.width > 0 && r.origin.x + r.size.width > edge + 1)
    {
      /* name the widget by its place: its ancestors up to the window */
      GString *path = g_string_new (NULL);
      for (GtkWidget *a = w; a && a != window; a = gtk_widget_get_parent (a))
        g_string_prepend (path, g_strdup_printf (" > %s", G_OBJECT_TYPE_NAME (a)));
      g_error ("%s ends at x = %.0f, past the window's content edge %.0f (%s)", G_OBJECT_TYPE_NAME (w),
               r.origin.x + r.size.width, edge, path->str);
    }
  if (GTK_IS_SCROLLED_WINDOW (w))
    return;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    fits_right_edge (c, window, edge);
}

static void
assert_fits_window (GtkWindow *window)
{
  GtkWidget *content = gtk_window_get_child (window);
  graphene_rect_t r;

  g_assert_true (gtk_widget_compute_bounds (content, GTK_WIDGET (window), &r));
  fits_right_edge (content, GTK_WIDGET (window), r.origin.x + r.size.width);
}

static void
check_geometry_page (Fixture *f)
{
  CsGeometryPage *page = cs_window_get_geometry_page (f->window);
  CsGeometry *g = cs_geometry_page_get_geometry (page);
  g_autoptr(GError) error = NULL;
  g_autofree char *png = artifact_path (german ? "geometry-de.png" : "geometry.png");

  g_assert_null (cs_geometry_page_get_error (page));
  g_assert_nonnull (g);
  g_assert_cmpuint (g->categories->items->len, ==, 7);
  g_test_message ("longest main-loop stall while computing: %.1f ms", f->max_stall / 1000.0);
  g_assert_cmpint (f->max_stall, <, 50000);

  /* first start: ℓ̄_animal vs ℓ̄_mammal, animal and mammal tokens in their colours */
  cs_window_save_png (f->window, png, &error);
  g_assert_no_error (error);
  g_assert_true (png_has_colour (png, 0));
  g_assert_true (png_has_colour (png, 1));
  g_assert_true (png_has_colour (png, 3));      /* fish tokens */
  assert_fits_window (GTK_WINDOW (f->window));
  assert_tokens_drawn (f, png, "fish");
  assert_tokens_drawn (f, png, "insect");

  /* the plot the README promises: ℓ̄_animal vs ℓ̄_bird − ℓ̄_mammal, fish hidden */
  g_assert_true (cs_geometry_page_set_axes (page, "animal", NULL, "bird", "mammal", TRUE, &error));
  g_assert_no_error (error);
  cs_geometry_page_set_category_visible (page, "fish", FALSE);
  cs_projection_view_zoom (cs_geometry_page_get_projection_view (page), 1.5, 0.6, 0.5);
  g_assert_false (cs_geometry_page_set_axes (page, "animal", NULL, "unicorn", NULL, TRUE, &error));
  g_clear_error (&error);

  /* clicking reptile's legend entry twice hides and shows it; clicking elsewhere does nothing */
  {
    double lx, ly;
    CsProjectionView *view = cs_geometry_page_get_projection_view (page);
    CsCategorySet *cats = cs_geometry_page_get_geometry (page)->categories;
    g_assert_true (cs_projection_view_legend_position (view, cs_category_set_find (cats, "reptile"), &lx, &ly));
    g_assert_true (cs_projection_view_click (view, lx, ly));
    g_assert_false (cs_geometry_page_get_category_visible (page, "reptile"));
    g_assert_true (cs_projection_view_click (view, lx, ly));
    g_assert_true (cs_geometry_page_get_category_visible (page, "reptile"));
    g_assert_false (cs_projection_view_click (view, 5, 5));
    /* fish is hidden but still listed, so its entry can bring it back */
    g_assert_true (cs_projection_view_legend_position (view, cs_category_set_find (cats, "fish"), &lx, &ly));
  }
}

/* After the next frame has painted the changes above. */
static void
check_geometry_page_changed (Fixture *f)
{
  CsGeometryPage *page = cs_window_get_geometry_page (f->window);
  g_autoptr(GError) error = NULL;
  g_autofree char *png2 = artifact_path (german ? "geometry-bird-minus-mammal-de.png" : "geometry-bird-minus-mammal.png");
  g_autofree char *cosines = artifact_path ("geometry-cosines.png");
  const char *dir = g_getenv ("CS_TEST_OUTPUT");

  cs_window_save_png (f->window, png2, &error);
  g_assert_no_error (error);
  g_assert_false (png_has_colour (png2, 3));
  g_assert_true (png_has_colour (png2, 2));     /* bird */

  /* hovering finds the token under the pointer */
  {
    CsProjectionView *p = cs_geometry_page_get_projection_view (page);
    gint64 hit = -1;
    /* (the legend, in the plot's emptiest corner, lies over the
     * vocabulary's cloud: a click there is the legend's) */
    for (int y = 100; y < 600 && hit < 0; y += 7)
      for (int x = 100; x < 900 && hit < 0; x += 7)
        if (cs_projection_view_legend_at (p, x, y) < 0)
          hit = cs_projection_view_token_at (p, x, y);
    g_assert_cmpint (hit, >=, 0);
    /* a click there selects that token */
    for (int y = 100; y < 600; y += 7)
      for (int x = 100; x < 900; x += 7)
        if (cs_projection_view_token_at (p, x, y) == hit && cs_projection_view_legend_at (p, x, y) < 0 &&
            cs_projection_view_get_picked (p) < 0)
          cs_projection_view_click (p, x, y);
    g_assert_cmpint (cs_projection_view_get_picked (p), ==, hit);
  }

  /* search rings a token and centres the view on it; a rubber band lists tokens */
  {
    gint64 beaver = cs_geometry_page_find_token (page, "beaver");
    g_assert_cmpint (beaver, >=, 0);
    g_assert_cmpint (cs_geometry_page_find_token (page, "notawordzz"), ==, -1);
    CsProjectionView *view = cs_geometry_page_get_projection_view (page);
    int w = gtk_widget_get_width (GTK_WIDGET (view)), h = gtk_widget_get_height (GTK_WIDGET (view));
    /* the whole view: at least the 279 animal tokens are in view after centring */
    guint n = cs_projection_view_select_rect (view, 0, 0, w, h);
    g_autofree char *text = cs_geometry_page_dup_selection_text (page);
    g_test_message ("rubber band selected %u tokens", n);
    g_assert_cmpuint (n, >, 100);
    g_assert_nonnull (strstr (text, " beaver\n"));
    g_assert_cmpuint (cs_projection_view_select_rect (view, 10, 10, 11, 11), <, n);
  }

  /* export through the page, as the Export dialog does */
  const char *exts[] = { "pdf", "svg", "png" };
  for (int k = 0; k < 3; k++)
    {
      g_autofree char *name = g_strdup_printf ("geometry-export.%s", exts[k]);
      g_autofree char *out = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len;
      g_assert_true (cs_geometry_page_export (page, out, "slide", "light", 1, 0, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (out, &contents, &len, NULL));
      g_assert_cmpuint (len, >, 1000);
      if (k == 0)
        g_assert_true (g_str_has_prefix (contents, "%PDF-"));
      else if (k == 1)
        g_assert_nonnull (strstr (contents, "<svg"));
      else
        g_assert_true (png_has_colour (out, 2));
    }
  cs_geometry_page_show_view (page, "figure2");
  {
    g_autofree char *fig2 = artifact_path ("geometry-figure2.png");
    g_assert_true (cs_geometry_page_export (page, fig2, "slide", "light", 1, 0, &error));
    g_assert_no_error (error);
    g_assert_true (png_has_colour (fig2, 0));
    g_assert_true (png_has_colour (fig2, 2));
  }
  /* the 3-D view: the plane's two axes and fish, projected when shown,
   * turned by a drag and exported at that turn, the simplex's vertices in
   * their categories' colours */
  cs_geometry_page_show_view (page, "simplex");
  {
    CsSimplexView *sv = NULL;
    g_autofree char *s3 = artifact_path ("geometry-simplex.png");
    double az, el, zoom, az2, el2;
    GtkWidget *w = gtk_widget_get_first_child (GTK_WIDGET (page));
    /* the page's simplex view, found as a user's pointer would: by type */
    GPtrArray *todo = g_ptr_array_new ();
    g_ptr_array_add (todo, w);
    while (todo->len && !sv)
      {
        GtkWidget *x = g_ptr_array_steal_index (todo, todo->len - 1);
        if (CS_IS_SIMPLEX_VIEW (x))
          sv = CS_SIMPLEX_VIEW (x);
        for (GtkWidget *ch = gtk_widget_get_first_child (x); ch; ch = gtk_widget_get_next_sibling (ch))
          g_ptr_array_add (todo, ch);
      }
    g_ptr_array_unref (todo);
    g_assert_nonnull (sv);
    g_assert_true (cs_figure_view_has_figure (CS_FIGURE_VIEW (sv)));
    cs_simplex_view_get_rotation (sv, &az, &el, &zoom);
    cs_simplex_view_drag (sv, 50, 25);
    cs_simplex_view_get_rotation (sv, &az2, &el2, &zoom);
    g_assert_cmpfloat (fabs (az2 - az - 20), <, 1e-9);
    g_assert_cmpfloat (fabs (el2 - el - 10), <, 1e-9);
    g_assert_true (cs_geometry_page_export (page, s3, "square", "light", 1, 0, &error));
    g_assert_no_error (error);
    g_assert_true (png_has_colour (s3, 1));   /* mammal */
    g_assert_true (png_has_colour (s3, 3));   /* fish */
  }
  cs_geometry_page_show_view (page, "cosines");
  g_assert_true (cs_geometry_page_export (page, cosines, "square", "dark", 1, 0, &error));
  g_assert_true (png_has_colour (cosines, 6) == FALSE);
  cs_geometry_page_show_view (page, "projection");
}


/* A blank or single-colour rendering would mean the window drew nothing. */
static void
assert_png_has_content (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  g_autofree guchar *pixels = g_malloc ((gsize) w * h * 4);
  g_autoptr(GHashTable) colours = g_hash_table_new (NULL, NULL);
  double sum = 0, sum2 = 0;
  gsize dark = 0;

  g_assert_cmpint (w, >=, 400);
  g_assert_cmpint (h, >=, 300);
  gdk_texture_download (texture, pixels, (gsize) w * 4);
  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      guint32 px;
      memcpy (&px, pixels + 4 * i, 4);
      g_hash_table_add (colours, GUINT_TO_POINTER (px));
      double lum = (pixels[4 * i] + pixels[4 * i + 1] + pixels[4 * i + 2]) / 3.0;
      sum += lum;
      sum2 += lum * lum;
      if (lum < 100)
        dark++;
    }
  double n = (double) w * h, mean = sum / n, sd = sqrt (sum2 / n - mean * mean);
  g_test_message ("%s: %dx%d, %u colours, mean %.1f, sd %.1f, dark %zu",
                  path, w, h, g_hash_table_size (colours), mean, sd, dark);
  /* Text antialiasing alone gives hundreds of colours; an empty window has a handful. */
  g_assert_cmpuint (g_hash_table_size (colours), >, 50);
  g_assert_cmpfloat (sd, >, 5.0);
  /* Text is there: dark pixels on the light theme. */
  g_assert_cmpuint (dark, >, 500);
}

/* Remember the frame a change was made at; a frame has painted it when the
 * counter is two past that (the widget paintable shows the last frame). */
static void
mark_frame (Fixture *f)
{
  f->frame_at_change = gdk_frame_clock_get_frame_counter (gtk_widget_get_frame_clock (GTK_WIDGET (f->window)));
}

static gboolean
frame_painted (Fixture *f)
{
  return gdk_frame_clock_get_frame_counter (gtk_widget_get_frame_clock (GTK_WIDGET (f->window))) >=
         f->frame_at_change + 2;
}

/* Once a frame has painted what changed (asking for frames meanwhile:
 * nothing else may change), the window saved as the artifact name (its
 * German run's with -de) and checked for content; FALSE until then. */
static gboolean
save_window_when_painted (Fixture *f, const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s%s.png", name, german ? "-de" : "");
  g_autofree char *png = artifact_path (file);
  g_autoptr(GError) error = NULL;
  if (!frame_painted (f))
    {
      gtk_widget_queue_draw (GTK_WIDGET (f->window));
      return FALSE;
    }
  cs_window_save_png (f->window, png, &error);
  g_assert_no_error (error);
  assert_png_has_content (png);
  return TRUE;
}

static int
largest_node (const CsMapperGraph *g)
{
  int big = 0;
  for (int v = 1; v < g->n_nodes; v++)
    if (g->nodes[v].n_members > g->nodes[big].n_members)
      big = v;
  return big;
}

/* The Mapper graph of the animal tokens: a click on a node lists its tokens
 * and rings them on the projection; a selection on the projection
 * highlights the nodes holding its tokens. */
static void
check_mapper_page (Fixture *f)
{
  CsMapperPage *mp = cs_window_get_mapper_page (f->window);
  CsGeometryPage *gp = cs_window_get_geometry_page (f->window);
  CsGeometry *geo = cs_geometry_page_get_geometry (gp);
  const CsMapperGraph *g = cs_mapper_page_get_graph (mp);
  const gint32 *ids = cs_mapper_page_get_token_ids (mp);
  const GArray *marked;
  int big, hit;
  double x, y;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_null (cs_mapper_page_get_error (mp));
  g_assert_nonnull (g);
  g_assert_cmpint (g->n_points, ==, cs_category_set_get (geo->categories, 0)->tokens->len);
  g_assert_cmpint (g->params.n_lenses, ==, 2);
  g_assert_cmpint (g->n_nodes, >=, 4);
  g_test_message ("Mapper page: %d nodes, %d edges, %d components", g->n_nodes, g->n_edges, g->n_components);
  /* a new layout is undone and redone to the exact positions */
  {
    g_autofree double *x0 = g_memdup2 (g->x, sizeof (double) * g->n_nodes);
    g_autofree double *x1 = NULL;
    cs_mapper_page_relayout (mp, 7);
    g_assert_true (memcmp (x0, g->x, sizeof (double) * g->n_nodes) != 0);
    x1 = g_memdup2 (g->x, sizeof (double) * g->n_nodes);
    g_assert_true (cs_mapper_page_undo (mp));
    g_assert_true (memcmp (x0, g->x, sizeof (double) * g->n_nodes) == 0);
    g_assert_true (cs_mapper_page_redo (mp));
    g_assert_true (memcmp (x1, g->x, sizeof (double) * g->n_nodes) == 0);
    g_assert_true (cs_mapper_page_undo (mp));
    g_assert_true (memcmp (x0, g->x, sizeof (double) * g->n_nodes) == 0);
  }
  big = largest_node (g);
  /* a click where the node is drawn picks it */
  g_assert_true (cs_mapper_page_node_position (mp, big, &x, &y));
  hit = cs_mapper_page_node_at (mp, x, y);
  g_assert_cmpint (hit, ==, big);
  cs_mapper_page_select_node (mp, hit);
  g_assert_cmpint (cs_mapper_page_get_selected_node (mp), ==, big);
  text = cs_mapper_page_dup_members_text (mp);
  lines = g_strsplit (g_strchomp (text), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, (guint) g->nodes[big].n_members);
  marked = cs_session_get_marked (cs_window_get_session (f->window));
  g_assert_nonnull (marked);
  g_assert_cmpuint (marked->len, ==, (guint) g->nodes[big].n_members);
  for (int t = 0; t < g->nodes[big].n_members; t++)
    g_assert_cmpint (g_array_index (marked, gint32, t), ==, ids[g->nodes[big].members[t]]);
  /* colour by a concept the lenses do not use: the node's value is the mean
   * of g·ℓ̄_fish/‖ℓ̄_fish‖² over its tokens, computed here from the rows of g */
  {
    int fish = cs_category_set_find (geo->categories, "fish");
    const double *lb = geo->vectors[fish].lbar;
    CsGeometrySpace *space = cs_session_get_space (cs_window_get_session (f->window));
    g_autofree double *rows = g_new (double, (gsize) g->nodes[big].n_members * space->d);
    g_autofree gint32 *tok_ids = g_new (gint32, g->nodes[big].n_members);
    double want = 0, nn = 0;
    for (int t = 0; t < g->nodes[big].n_members; t++)
      tok_ids[t] = ids[g->nodes[big].members[t]];
    cs_geometry_g_rows (space, tok_ids, g->nodes[big].n_members, rows);
    for (int k = 0; k < space->d; k++)
      nn += lb[k] * lb[k];
    for (int t = 0; t < g->nodes[big].n_members; t++)
      {
        double s2 = 0;
        for (int k = 0; k < space->d; k++)
          s2 += rows[(gsize) t * space->d + k] * lb[k];
        want += s2 / nn / g->nodes[big].n_members;
      }
    g_assert_true (cs_mapper_page_set_colour (mp, "vector:fish"));
    g_assert_cmpfloat (fabs (cs_mapper_page_node_colour_value (mp, big) - want), <, 1e-9);
    g_assert_false (cs_mapper_page_set_colour (mp, "vector:unicorn"));
    g_assert_true (cs_mapper_page_set_colour (mp, "categories"));
    g_assert_true (isnan (cs_mapper_page_node_colour_value (mp, big)));
  }
  /* the reverse: a rubber band around one of the node's tokens on the
   * projection highlights exactly the nodes holding a selected token */
  {
    gint32 tok = ids[g->nodes[big].members[0]];
    const GArray *sel;
    const gboolean *hl;
    double tx, ty;
    g_autoptr(GHashTable) chosen = g_hash_table_new (g_direct_hash, g_direct_equal);
    CsProjectionView *view = cs_geometry_page_get_projection_view (gp);
    g_assert_true (cs_projection_view_token_position (view, tok, &tx, &ty));
    g_assert_cmpuint (cs_projection_view_select_rect (view, tx - 3, ty - 3, tx + 3, ty + 3), >=, 1);
    sel = cs_session_get_selection (cs_window_get_session (f->window));
    for (guint i = 0; i < sel->len; i++)
      g_hash_table_add (chosen, GINT_TO_POINTER (g_array_index (sel, gint32, i) + 1));
    hl = cs_mapper_page_get_highlight (mp);
    g_assert_nonnull (hl);
    g_assert_true (hl[big]);
    for (int v = 0; v < g->n_nodes; v++)
      {
        gboolean has = FALSE;
        for (int t = 0; t < g->nodes[v].n_members && !has; t++)
          has = g_hash_table_contains (chosen, GINT_TO_POINTER (ids[g->nodes[v].members[t]] + 1));
        g_assert_cmpint (hl[v], ==, has);
      }
  }
}

static void
check_mapper_rendered (Fixture *f)
{
  CsMapperPage *mp = cs_window_get_mapper_page (f->window);
  int n_nodes = cs_mapper_page_get_graph (mp)->n_nodes;
  g_autofree char *png = artifact_path (german ? "mapper-de.png" : "mapper.png");
  g_autofree char *svg = artifact_path ("mapper-export.svg");
  g_autofree char *ws = artifact_path (german ? "workspace-mapper-de.h5" : "workspace-mapper.h5");
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  cs_window_save_png (f->window, png, &error);
  g_assert_no_error (error);
  assert_png_has_content (png);
  assert_fits_window (GTK_WINDOW (f->window));
  /* pies in the categories' colours: animal (0), mammal (1), bird (2) */
  g_assert_true (png_has_colour (png, 0));
  g_assert_true (png_has_colour (png, 1));
  g_assert_true (png_has_colour (png, 2));
  g_assert_true (cs_mapper_page_export (mp, svg, "slide", "light", 2, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (svg, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 2000);
  {
    g_autofree char *json = artifact_path ("mapper-graph.json");
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *o;
    g_assert_true (cs_mapper_page_save_json (mp, json, &error));
    g_assert_true (json_parser_load_from_file (parser, json, &error));
    o = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpint (json_array_get_length (json_object_get_array_member (o, "nodes")), ==, n_nodes);
    g_assert_cmpint (json_array_get_length (json_object_get_array_member (o, "labels")), ==,
                     cs_mapper_page_get_graph (mp)->n_points);
  }
  /* the graph goes into the workspace and comes back with it */
  g_assert_true (cs_window_save_workspace (f->window, ws, &error));
  g_assert_no_error (error);
  cs_mapper_page_select_node (mp, -1);
  g_assert_true (cs_window_open_workspace (f->window, ws, &error));
  g_assert_no_error (error);
  g_assert_nonnull (cs_mapper_page_get_graph (mp));
  g_assert_cmpint (cs_mapper_page_get_graph (mp)->n_nodes, ==, n_nodes);
  g_assert_nonnull (cs_mapper_page_get_token_ids (mp));
}

/* The Steering page's run: behaviour rising with the multiplier, effects
 * downstream including the Geometry view's concepts, hover on the heatmap. */
static void
check_steering_page (Fixture *f)
{
  CsSteeringPage *sp = cs_window_get_steering_page (f->window);
  const CsSteerReport *r = cs_steering_page_get_report (sp);
  const CsSteerSweep *sw;
  gboolean concepts = FALSE;

  g_assert_null (cs_steering_page_get_error (sp));
  g_assert_nonnull (r);
  sw = r->sweep;
  g_assert_cmpint (sw->n_layers, ==, 4);
  g_assert_cmpint (sw->n_mult, ==, 5);
  g_test_message ("Steering page, layer 2: %.4f %.4f %.4f %.4f %.4f", sw->behaviour[10], sw->behaviour[11],
                  sw->behaviour[12], sw->behaviour[13], sw->behaviour[14]);
  for (int m = 1; m < 5; m++)
    g_assert_cmpfloat (sw->behaviour[2 * 5 + m], >, sw->behaviour[2 * 5 + m - 1]);
  g_assert_nonnull (r->effects);
  for (int c = 0; c < r->effects->n_cols; c++)
    concepts |= r->effects->col_kind[c] == 0;
  g_assert_true (concepts);
  g_assert_cmpint (r->n_concepts, ==, 7);
  /* the sample model's SAE set: latents of the effects layer and later ones, and their flow */
  g_assert_nonnull (r->flow);
  g_assert_cmpint (r->flow->n_nodes, >, 0);
  {
    gboolean later = FALSE;
    for (int c = 0; c < r->effects->n_cols; c++)
      later = later || (r->effects->col_kind[c] == 1 && r->effects->col_layer[c] > r->effects->steer_layer);
    g_assert_true (later || r->effects->steer_layer == 3);
  }
  /* the default prompt continued under each multiplier, steering changing it */
  g_assert_cmpstr (r->gen_prompt, ==, "A fern is a kind of");
  g_assert_cmpint (r->gen_n, ==, 5);
  g_assert_cmpfloat (r->gen_mult[2], ==, 0);
  for (int m = 0; m < 5; m++)
    g_assert_cmpuint (strlen (r->gen_texts[m]), >, 0);
  g_test_message ("continuations: 0 → %s | +4 → %s", r->gen_texts[2], r->gen_texts[4]);
  g_assert_cmpstr (r->gen_texts[2], !=, r->gen_texts[4]);
  g_assert_true (cs_steer_figure_available (r, CS_STEER_FIGURE_SAMPLES, NULL));
  cs_steering_page_show_figure (sp, CS_STEER_FIGURE_EFFECTS);
}

static void
check_steering_rendered (Fixture *f)
{
  CsSteeringPage *sp = cs_window_get_steering_page (f->window);
  g_autofree char *png = artifact_path (german ? "steering-de.png" : "steering.png");
  g_autofree char *svg = artifact_path ("steering-effects-export.svg");
  g_autofree char *ws = artifact_path (german ? "workspace-steering-de.h5" : "workspace-steering.h5");
  g_autoptr(GError) error = NULL;
  g_autofree char *hover = NULL;
  GtkWidget *area = NULL;
  double cx, cy;
  GStatBuf st;
  int n_layers = cs_steering_page_get_report (sp)->sweep->n_layers;

  cs_window_save_png (f->window, png, &error);
  g_assert_no_error (error);
  assert_png_has_content (png);
  assert_fits_window (GTK_WINDOW (f->window));
  /* hovering over the effects heatmap names a feature, a layer and a value */
  area = cs_steering_page_get_figure_area (sp);
  g_assert_nonnull (area);
  cx = gtk_widget_get_width (area) * 0.15;
  cy = gtk_widget_get_height (area) * 0.2;
  hover = cs_steering_page_describe_at (sp, cx, cy);
  g_test_message ("hover on the effects heatmap (%d×%d at %.0f,%.0f, %s): %s", gtk_widget_get_width (area), gtk_widget_get_height (area), cx, cy, G_OBJECT_TYPE_NAME (area), hover ? hover : "(nothing)");
  g_assert_nonnull (hover);
  g_assert_nonnull (strstr (hover, "at layer"));
  {
    /* the feature flow's figure, from the page */
    g_autofree char *flow_png = artifact_path ("steering-flow.png");
    cs_steering_page_show_figure (sp, CS_STEER_FIGURE_FLOW);
    g_assert_true (cs_steering_page_export (sp, flow_png, "slide", "light", 1, 0, &error));
    g_assert_no_error (error);
    assert_png_has_content (flow_png);
    cs_steering_page_show_figure (sp, CS_STEER_FIGURE_EFFECTS);   /* where the hover above was */
  }
  g_assert_true (cs_steering_page_export (sp, svg, "slide", "light", 2, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (svg, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 2000);
  g_assert_true (cs_window_save_workspace (f->window, ws, &error));
  g_assert_no_error (error);
  g_assert_true (cs_window_open_workspace (f->window, ws, &error));
  g_assert_no_error (error);
  g_assert_nonnull (cs_steering_page_get_report (sp));
  g_assert_cmpint (cs_steering_page_get_report (sp)->sweep->n_layers, ==, n_layers);
  g_assert_cmpint (cs_steering_page_get_report (sp)->gen_n, ==, 5);
}


/* A corpus for the cards: the first 300 lines of the one shipped with the
 * sample model's SAEs (read through its gzip), small enough to scan at once. */
static char *
write_card_corpus (void)
{
  g_autofree char *shipped = g_build_filename (cs_paths_get_datadir (), "sae-set", "corpus.txt.gz", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (shipped);
  g_autoptr(GFileInputStream) in = g_file_read (file, NULL, NULL);
  g_autoptr(GZlibDecompressor) gz = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) plain = NULL;
  g_autoptr(GDataInputStream) data = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  char *path = artifact_path ("card-corpus.txt");
  g_assert_nonnull (in);
  plain = g_converter_input_stream_new (G_INPUT_STREAM (in), G_CONVERTER (gz));
  data = g_data_input_stream_new (plain);
  for (int i = 0; i < 300; i++)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (data, NULL, NULL, NULL);
      g_assert_nonnull (line);
      g_string_append_printf (text, "%s\n", line);
    }
  g_assert_true (g_file_set_contents (path, text->str, (gssize) text->len, NULL));
  return path;
}

/* A click on an SAE column of the effects heatmap at a layer after the
 * steering layer opens that latent's card. */
static void
start_card (Fixture *f)
{
  CsSteeringPage *sp = cs_window_get_steering_page (f->window);
  const CsSteerEffects *e = cs_steering_page_get_report (sp)->effects;
  GtkWidget *area = cs_steering_page_get_figure_area (sp);
  g_autofree char *corpus = write_card_corpus ();
  g_assert_true (gtk_widget_get_mapped (area));
  double w = gtk_widget_get_width (area), h = gtk_widget_get_height (area), at_x = -1, at_y = -1;
  int layer, latent, best_layer = -1;
  gboolean found_later = FALSE;

  cs_steering_page_set_card_corpus (sp, corpus);
  for (double y = h * 0.1; y < h * 0.9 && !found_later; y += 4)
    for (double x = 0; x < w && !found_later; x += 2)
      if (cs_steering_page_latent_at (sp, CS_STEER_FIGURE_EFFECTS, x, y, &layer, &latent) && layer > best_layer)
        {
          best_layer = layer;
          at_x = x;
          at_y = y;
          found_later = layer > e->steer_layer;
        }
  g_test_message ("effects at layer %d; an SAE column of layer %d at %.0f,%.0f", e->steer_layer, best_layer, at_x,
                  at_y);
  g_assert_true (found_later || e->steer_layer == 3);
  g_assert_true (cs_steering_page_latent_at (sp, CS_STEER_FIGURE_EFFECTS, at_x, at_y, &f->card_layer,
                                             &f->card_latent));
  g_assert_true (cs_steering_page_click_at (sp, CS_STEER_FIGURE_EFFECTS, at_x, at_y));
  g_assert_true (cs_steering_page_get_card_busy (sp));
  mark_frame (f);
}

/* The card opened: the clicked latent's, its contexts those of a scan of
 * the same corpus run alone; exported; the flow has nodes at every layer
 * from the steering layer on, and hovering one names it with its card's
 * summary once its layer was scanned; a click on one opens its card. */
static void
check_card (Fixture *f)
{
  CsSteeringPage *sp = cs_window_get_steering_page (f->window);
  const CsSteerReport *r = cs_steering_page_get_report (sp);
  const CsSaeCard *card = cs_steering_page_get_card (sp);
  CsModel *model = cs_window_get_model (f->window);
  g_autofree char *png = artifact_path ("steering-card.png");
  g_autofree char *corpus = artifact_path ("card-corpus.txt");
  g_autofree char *sae_dir = g_strdup_printf ("%s/sae-set/resid_post.%d", cs_paths_get_datadir (), f->card_layer);
  g_autoptr(CsSae) sae = NULL;
  g_autoptr(CsSaeScan) alone = NULL;
  g_autoptr(CsTokenizer) tok = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (card);
  g_assert_cmpint (card->layer, ==, f->card_layer);
  g_assert_cmpint (card->latent, ==, f->card_latent);
  sae = cs_sae_load (sae_dir, &error);
  g_assert_no_error (error);
  tok = cs_model_open_tokenizer (model, &error);
  g_assert_no_error (error);
  alone = cs_sae_scan_run (model, tok, sae, NULL, f->card_layer, corpus, 0, FALSE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (card->n_tokens, ==, alone->n_tokens);
  g_assert_cmpint (card->fires, ==, alone->fires[f->card_latent]);
  g_test_message ("card L%d/%d: %d contexts, fires on %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " tokens",
                  card->layer, card->latent, card->n_contexts, card->fires, card->n_tokens);
  for (int i = 0; i < card->n_contexts; i++)
    {
      g_assert_cmpfloat (card->peak[i], ==, alone->top_act[(gsize) f->card_latent * CS_SAE_SCAN_TOP + i]);
      g_assert_cmpint (card->where[i], ==, alone->top_where[(gsize) f->card_latent * CS_SAE_SCAN_TOP + i]);
    }
  g_assert_cmpint (card->n_logits, ==, 10);
  g_assert_cmpint (card->n_concepts, >, 0);   /* the Geometry view's concepts */
  g_assert_true (cs_steering_page_export (sp, png, "slide", "light", 1, 0, &error));
  g_assert_no_error (error);
  assert_png_has_content (png);
  /* the flow: nodes at each layer from the steering layer on */
  for (int l = r->flow->steer_layer; l < 4; l++)
    {
      int n = 0;
      for (int i = 0; i < r->flow->n_nodes; i++)
        n += r->flow->node_layer[i] == l;
      g_assert_cmpint (n, >, 0);
    }
  mark_frame (f);
}

/* On the flow, drawn: hovering a node of the card's layer gives its card's
 * summary (that layer is scanned), a click opens its card. */
static void
check_flow_card (Fixture *f)
{
  CsSteeringPage *sp = cs_window_get_steering_page (f->window);
  GtkWidget *area;
  gboolean hovered = FALSE, clicked = FALSE;

  area = cs_steering_page_get_figure_area (sp);
  g_assert_cmpint (gtk_widget_get_width (area), >, 0);
  for (double y = 0; y < gtk_widget_get_height (area) && !clicked; y += 3)
    for (double x = 0; x < gtk_widget_get_width (area) && !clicked; x += 3)
      {
        int layer, latent;
        if (!cs_steering_page_latent_at (sp, CS_STEER_FIGURE_FLOW, x, y, &layer, &latent) || layer != f->card_layer)
          continue;
        {
          g_autofree char *hover = cs_steering_page_describe_flow_at (sp, x, y);
          g_test_message ("hover on the flow: %s", hover);
          g_assert_nonnull (strstr (hover, "fires on"));
          hovered = TRUE;
        }
        clicked = cs_steering_page_click_at (sp, CS_STEER_FIGURE_FLOW, x, y);
      }
  g_assert_true (hovered && clicked);
}

static gboolean
fail_timeout (gpointer data)
{
  g_error ("the window did not show the model within the time limit");
  return G_SOURCE_REMOVE;
}

static gboolean
check_window (gpointer data)
{
  Fixture *f = data;
  g_autofree char *png = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) titles = NULL;
  const char *status;

  /* Under load the window can be mapped before its first allocation. */
  if (!f->window || cs_window_get_busy (f->window) || !gtk_widget_get_mapped (GTK_WIDGET (f->window)) ||
      gtk_widget_get_width (GTK_WIDGET (f->window)) <= 0 ||
      (f->phase == 0 && (cs_geometry_page_get_busy (cs_window_get_geometry_page (f->window)) ||
                         !cs_window_get_model (f->window))))
    return G_SOURCE_CONTINUE;
  /* CS_TEST_TRACE=1: each tick's phase, to see where a run waits */
  if (g_getenv ("CS_TEST_TRACE"))
    g_printerr ("phase %d\n", f->phase);
  /* one more round after the computation finished, so that a frame has
   * painted what it drew (the widget paintable shows the last frame) */
  if (f->phase == 0 && !f->settled)
    {
      f->settled = TRUE;
      return G_SOURCE_CONTINUE;
    }

  if (f->phase == 0)
    {
      /* The sample model is loaded and described. */
      g_assert_nonnull (cs_window_get_model (f->window));
      status = cs_window_get_status_text (f->window);
      g_assert_nonnull (strstr (status, "sample-model"));
      g_assert_nonnull (strstr (status, "GPT2LMHeadModel"));
      g_assert_nonnull (strstr (status, "4"));
      g_assert_nonnull (strstr (status, "12288"));
      g_assert_nonnull (strstr (status, german ? "Schichten" : "layers"));
      g_assert_null (cs_window_get_error_text (f->window));

      titles = cs_window_dup_page_titles (f->window);
      g_assert_cmpuint (g_strv_length (titles), ==, 4);
      g_assert_cmpstr (titles[0], ==, german ? "Geometrie" : "Geometry");
      g_assert_cmpstr (titles[1], ==, "Mapper");
      g_assert_cmpstr (titles[2], ==, german ? "Steuerung" : "Steering");
      g_assert_cmpstr (titles[3], ==, german ? "Eingriffe" : "Patching");

      png = artifact_path (german ? "window-de.png" : "window.png");
      cs_window_save_png (f->window, png, &error);
      g_assert_no_error (error);
      assert_png_has_content (png);
      check_geometry_page (f);
      mark_frame (f);
      f->phase = 1;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 1)
    {
      /* wait until a frame has painted the changes */
      if (!frame_painted (f))
        return G_SOURCE_CONTINUE;
      check_geometry_page_changed (f);

      /* Save the workspace, change the view, reopen: the saved view returns, without recomputing. */
      {
        CsGeometryPage *page = cs_window_get_geometry_page (f->window);
        g_autofree char *ws = artifact_path (german ? "workspace-de.h5" : "workspace.h5");
        g_assert_true (cs_window_save_workspace (f->window, ws, &error));
        g_assert_no_error (error);
        g_assert_true (cs_geometry_page_set_axes (page, "animal", NULL, "mammal", NULL, TRUE, &error));
        cs_geometry_page_set_category_visible (page, "fish", TRUE);
        g_assert_true (cs_window_open_workspace (f->window, ws, &error));
        g_assert_no_error (error);
        g_assert_false (cs_geometry_page_get_busy (page));
        g_assert_cmpuint (cs_geometry_page_get_geometry (page)->categories->items->len, ==, 7);
        g_assert_false (cs_window_open_workspace (f->window, f->bad_folder, &error));
        g_assert_nonnull (error);
        g_clear_error (&error);
      }
      mark_frame (f);
      f->phase = 2;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 2)
    {
      g_autofree char *reopened = artifact_path ("workspace-reopened.png");
      if (!frame_painted (f))
        return G_SOURCE_CONTINUE;
      cs_window_save_png (f->window, reopened, &error);
      g_assert_no_error (error);
      g_assert_false (png_has_colour (reopened, 3));    /* fish still hidden */
      g_assert_true (png_has_colour (reopened, 2));     /* bird axis */
      /* the Mapper page: the animal tokens over the lenses l_mammal, l_bird */
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "mapper");
      cs_mapper_page_configure (cs_window_get_mapper_page (f->window), "animal,mammal,bird,fish", "vector:mammal",
                                "vector:bird", 6, 0.4);
      f->phase = 10;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 10)
    {
      CsMapperPage *mp = cs_window_get_mapper_page (f->window);
      if (cs_mapper_page_get_busy (mp))
        return G_SOURCE_CONTINUE;
      check_mapper_page (f);
      /* a change of parameters is undone: the graph built again with the
       * earlier ones, its nodes where they were (a new layout of them) */
      {
        const CsMapperGraph *g;
        cs_mapper_page_relayout (mp, 7);
        g = cs_mapper_page_get_graph (mp);
        f->mapper_n[0] = g->n_nodes;
        f->mapper_x[0] = g_memdup2 (g->x, sizeof (double) * g->n_nodes);
        cs_mapper_page_configure (mp, NULL, NULL, NULL, 9, -1);
      }
      f->phase = 21;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 11)
    {
      if (!frame_painted (f))
        return G_SOURCE_CONTINUE;
      check_mapper_rendered (f);
      /* the graph back from the workspace set the side panel to what built
       * it: a change of parameters from there is undone to the same graph */
      {
        CsMapperPage *mp = cs_window_get_mapper_page (f->window);
        const CsMapperGraph *g = cs_mapper_page_get_graph (mp);
        f->mapper_n[0] = g->n_nodes;
        f->mapper_n[1] = g->n_edges;
        cs_mapper_page_configure (mp, NULL, NULL, NULL, 7, -1);
      }
      f->phase = 25;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 25 || f->phase == 26)
    {
      CsMapperPage *mp = cs_window_get_mapper_page (f->window);
      const CsMapperGraph *g = cs_mapper_page_get_graph (mp);
      if (cs_mapper_page_get_busy (mp))
        return G_SOURCE_CONTINUE;
      if (f->phase == 25)
        {
          g_assert_cmpint (g->params.intervals, ==, 7);
          g_assert_true (cs_mapper_page_undo (mp));
          f->phase = 26;
          return G_SOURCE_CONTINUE;
        }
      g_assert_cmpint (g->params.intervals, ==, 6);
      g_assert_cmpint (g->n_nodes, ==, f->mapper_n[0]);
      g_assert_cmpint (g->n_edges, ==, f->mapper_n[1]);
      /* a node clicked again, then the Geometry page shows its tokens ringed */
      cs_mapper_page_select_node (mp, largest_node (g));
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "geometry");
      mark_frame (f);
      f->phase = 14;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 21)
    {
      CsMapperPage *mp = cs_window_get_mapper_page (f->window);
      const CsMapperGraph *g = cs_mapper_page_get_graph (mp);
      if (cs_mapper_page_get_busy (mp))
        return G_SOURCE_CONTINUE;
      g_assert_cmpint (g->params.intervals, ==, 9);
      g_assert_nonnull (cs_mapper_page_get_undo_label (mp));
      f->mapper_n[1] = g->n_nodes;
      f->mapper_x[1] = g_memdup2 (g->x, sizeof (double) * g->n_nodes);
      g_assert_true (cs_mapper_page_undo (mp));
      f->phase = 22;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 22 || f->phase == 23)
    {
      CsMapperPage *mp = cs_window_get_mapper_page (f->window);
      const CsMapperGraph *g = cs_mapper_page_get_graph (mp);
      int k = f->phase == 22 ? 0 : 1;
      if (cs_mapper_page_get_busy (mp))
        return G_SOURCE_CONTINUE;
      g_assert_cmpint (g->params.intervals, ==, k == 0 ? 6 : 9);
      g_assert_cmpint (g->n_nodes, ==, f->mapper_n[k]);
      g_assert_cmpmem (g->x, sizeof (double) * g->n_nodes, f->mapper_x[k], sizeof (double) * f->mapper_n[k]);
      g_clear_pointer (&f->mapper_x[k], g_free);
      if (k == 0)
        {
          g_assert_true (cs_mapper_page_redo (mp));
          f->phase = 23;
          return G_SOURCE_CONTINUE;
        }
      /* back to the graph the rest of the test knows */
      g_assert_true (cs_mapper_page_undo (mp));
      f->phase = 24;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 24)
    {
      CsMapperPage *mp = cs_window_get_mapper_page (f->window);
      if (cs_mapper_page_get_busy (mp))
        return G_SOURCE_CONTINUE;
      g_assert_cmpint (cs_mapper_page_get_graph (mp)->params.intervals, ==, 6);
      /* selected again as check_mapper_page left it (a rebuild clears it) */
      cs_mapper_page_select_node (mp, largest_node (cs_mapper_page_get_graph (mp)));
      mark_frame (f);
      f->phase = 11;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 14)
    {
      g_autoptr(GError) error = NULL;
      if (!save_window_when_painted (f, "geometry-linked"))
        return G_SOURCE_CONTINUE;
      /* the Mapper page over a file's points: a CSV circle */
      {
        g_autofree char *csv = artifact_path ("circle.csv");
        GString *text = g_string_new ("half,x,y,z\n");
        for (int i = 0; i < 150; i++)
          g_string_append_printf (text, "%s,%.6f,%.6f,%.6f\n", i < 75 ? "upper" : "lower", 3 * cos (2 * G_PI * i / 150),
                                  3 * sin (2 * G_PI * i / 150), 0.05 * sin (7.0 * i));
        g_assert_true (g_file_set_contents (csv, text->str, -1, NULL));
        g_string_free (text, TRUE);
        gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "mapper");
        g_assert_true (cs_mapper_page_load_points (cs_window_get_mapper_page (f->window), csv, NULL, &error));
        g_assert_no_error (error);
      }
      f->phase = 17;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 17)
    {
      CsMapperPage *mp = cs_window_get_mapper_page (f->window);
      const CsMapperGraph *g = cs_mapper_page_get_graph (mp);
      g_autofree char *csv = artifact_path ("circle.csv");
      g_autoptr(CsPoints) pts = NULL;
      g_autoptr(GError) error = NULL;
      CsMapperGraph *direct;
      g_autofree double *lens = NULL, *col = NULL;
      if (cs_mapper_page_get_busy (mp))
        return G_SOURCE_CONTINUE;
      if (cs_mapper_page_get_error (mp))
        g_error ("%s", cs_mapper_page_get_error (mp));
      g_assert_cmpint (g->n_points, ==, 150);
      g_assert_null (cs_mapper_page_get_token_ids (mp));
      /* the page's graph is the engine's for the same points and parameters */
      pts = cs_points_from_csv (csv, &error);
      g_assert_no_error (error);
      lens = g_new (double, 150 * 2);
      col = g_new (double, 150);
      for (int l = 0; l < 2; l++)
        {
          CsLensSpec spec;
          g_assert_true (cs_lens_parse (l == 0 ? "pca1" : "pca2", &spec, NULL));
          g_assert_true (cs_lens_compute (&spec, pts->X, pts->n, pts->d, NULL, col, NULL, NULL));
          cs_lens_clear (&spec);
          for (int i = 0; i < 150; i++)
            lens[i * 2 + l] = col[i];
        }
      g_assert_cmpint (g->params.n_lenses, ==, 2);
      direct = cs_mapper_build (pts->X, pts->n, pts->d, lens, &g->params, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (direct->n_nodes, ==, g->n_nodes);
      g_assert_cmpint (direct->n_edges, ==, g->n_edges);
      for (int v = 0; v < g->n_nodes; v++)
        {
          g_assert_cmpint (direct->nodes[v].n_members, ==, g->nodes[v].n_members);
          g_assert_cmpmem (direct->nodes[v].members, sizeof (gint32) * direct->nodes[v].n_members, g->nodes[v].members,
                           sizeof (gint32) * g->nodes[v].n_members);
        }
      g_assert_cmpint (g->n_components, ==, 1);
      g_assert_cmpint (g->cycle_rank, >=, 1);
      cs_mapper_graph_free (direct);
      /* the label column names two classes: they are the points' groups */
      g_assert_nonnull (pts->group_names);
      g_assert_cmpuint (g_strv_length (pts->group_names), ==, 2);
      cs_mapper_page_select_node (mp, 0);
      {
        g_autofree char *members = cs_mapper_page_dup_members_text (mp);
        int first = g->nodes[0].members[0];
        g_autofree char *line = g_strdup_printf ("%d\t%s\n", first + 1, first < 75 ? "upper" : "lower");
        g_assert_nonnull (strstr (members, line));
      }
      mark_frame (f);
      f->phase = 20;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 20)
    {
      CsMapperPage *mp = cs_window_get_mapper_page (f->window);
      g_autofree char *acts = artifact_path ("ragged-acts.h5");
      g_autoptr(GError) error = NULL;
      if (!save_window_when_painted (f, "mapper-file"))
        return G_SOURCE_CONTINUE;
      assert_fits_window (GTK_WINDOW (f->window));
      /* a forward file: captures of a short and a long prompt, the padding
       * (input id −1) no point, the logits not the default dataset */
      {
        g_autoptr(CsH5Writer) w = cs_h5_writer_new (acts, &error);
        gint32 ids[2 * 40];
        float x[2 * 40 * 3], logits[2 * 40 * 5] = { 0 };
        gsize d3[3] = { 2, 40, 3 }, d2[2] = { 2, 40 }, dl[3] = { 2, 40, 5 };
        for (int i = 0; i < 80; i++)
          ids[i] = i >= 40 + 25 ? -1 : 100 + i;   /* the second prompt is 25 tokens long */
        for (int i = 0; i < 80 * 3; i++)
          x[i] = ids[i / 3] < 0 ? 0.0f : (float) (i % 3 == 0 ? cos (0.1 * i) : sin (0.1 * i));
        g_assert_nonnull (w);
        g_assert_true (cs_h5_writer_add_i32 (w, "/input_ids", 2, d2, ids, &error));
        g_assert_true (cs_h5_writer_add_f32 (w, "/logits", 3, dl, logits, &error));
        g_assert_true (cs_h5_writer_add_f32 (w, "/resid_post.1", 3, d3, x, &error));
        g_assert_true (cs_h5_writer_commit (w, &error));
      }
      g_assert_true (cs_mapper_page_load_points (mp, acts, NULL, &error));
      g_assert_no_error (error);
      f->phase = 18;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 18)
    {
      CsMapperPage *mp = cs_window_get_mapper_page (f->window);
      const CsMapperGraph *g = cs_mapper_page_get_graph (mp);
      const gint32 *ids;
      gboolean seen[65] = { FALSE };
      if (cs_mapper_page_get_busy (mp))
        return G_SOURCE_CONTINUE;
      if (cs_mapper_page_get_error (mp))
        g_error ("%s", cs_mapper_page_get_error (mp));
      g_assert_cmpint (g->n_points, ==, 65);
      ids = cs_mapper_page_get_token_ids (mp);
      g_assert_nonnull (ids);
      for (int i = 0; i < 65; i++)
        {
          g_assert_cmpint (ids[i], >=, 100);
          g_assert_cmpint (ids[i], <, 165);
          seen[ids[i] - 100] = TRUE;
        }
      for (int i = 0; i < 65; i++)
        g_assert_true (seen[i]);
      /* a node lists its tokens where they occurred */
      cs_mapper_page_select_node (mp, 0);
      {
        g_autofree char *members = cs_mapper_page_dup_members_text (mp);
        g_autofree char *first = cs_tokenizer_id_to_text (
          cs_session_get_tokenizer (cs_window_get_session (f->window)), ids[g->nodes[0].members[0]]);
        g_assert_true (g_str_has_prefix (members, first));
        g_assert_nonnull (strstr (members, "\t["));
      }
      /* back to the categories' tokens */
      cs_mapper_page_use_categories (mp);
      f->phase = 19;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 19)
    {
      CsMapperPage *mp = cs_window_get_mapper_page (f->window);
      CsGeometry *geo = cs_geometry_page_get_geometry (cs_window_get_geometry_page (f->window));
      if (cs_mapper_page_get_busy (mp))
        return G_SOURCE_CONTINUE;
      g_assert_nonnull (cs_mapper_page_get_token_ids (mp));
      g_assert_cmpint (cs_mapper_page_get_graph (mp)->n_points, ==, cs_category_set_get (geo->categories, 0)->tokens->len);
      /* the Steering page: the animal − plant vector over all layers */
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "steering");
      cs_steering_page_run (cs_window_get_steering_page (f->window), "animal-vs-plant", "0-3", "-4,-2,0,2,4",
                            "animal");
      g_assert_true (cs_steering_page_get_busy (cs_window_get_steering_page (f->window)));
      f->phase = 12;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 12)
    {
      CsSteeringPage *sp = cs_window_get_steering_page (f->window);
      if (cs_steering_page_get_busy (sp))
        return G_SOURCE_CONTINUE;
      check_steering_page (f);
      mark_frame (f);
      f->phase = 13;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 13)
    {
      if (!frame_painted (f))
        return G_SOURCE_CONTINUE;
      check_steering_rendered (f);
      /* opening the workspace showed the Geometry page: back to the effects */
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "steering");
      cs_steering_page_show_figure (cs_window_get_steering_page (f->window), CS_STEER_FIGURE_EFFECTS);
      mark_frame (f);
      f->phase = 44;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 44)
    {
      if (!frame_painted (f))
        return G_SOURCE_CONTINUE;
      start_card (f);
      f->phase = 41;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 41)
    {
      if (cs_steering_page_get_card_busy (cs_window_get_steering_page (f->window)) || !frame_painted (f))
        return G_SOURCE_CONTINUE;
      check_card (f);
      f->phase = 42;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 42)
    {
      /* the window with the card, then the flow */
      if (!save_window_when_painted (f, "steering-card-window"))
        return G_SOURCE_CONTINUE;
      cs_steering_page_show_figure (cs_window_get_steering_page (f->window), CS_STEER_FIGURE_FLOW);
      mark_frame (f);
      f->phase = 45;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 45)
    {
      if (!frame_painted (f))
        return G_SOURCE_CONTINUE;
      check_flow_card (f);
      f->phase = 43;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 43)
    {
      CsSteeringPage *sp = cs_window_get_steering_page (f->window);
      if (cs_steering_page_get_card_busy (sp))
        return G_SOURCE_CONTINUE;
      /* the flow's node opened its card from the cache, at once */
      g_assert_nonnull (cs_steering_page_get_card (sp));
      g_assert_true (cs_steering_page_get_card (sp)->from_cache);
      g_assert_cmpint (cs_steering_page_get_card (sp)->layer, ==, f->card_layer);
      /* then a bar of the SAE decomposition at the same layer */
      cs_steering_page_show_figure (sp, CS_STEER_FIGURE_SAE);
      mark_frame (f);
      f->phase = 46;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 46)
    {
      CsSteeringPage *sp = cs_window_get_steering_page (f->window);
      GtkWidget *area = cs_steering_page_get_figure_area (sp);
      gboolean clicked = FALSE;
      if (!frame_painted (f))
        return G_SOURCE_CONTINUE;
      for (double y = 0; y < gtk_widget_get_height (area) && !clicked; y += 2)
        for (double x = 0; x < gtk_widget_get_width (area) && !clicked; x += 8)
          {
            int layer, latent;
            if (!cs_steering_page_latent_at (sp, CS_STEER_FIGURE_SAE, x, y, &layer, &latent) ||
                layer != f->card_layer)
              continue;
            f->card_latent = latent;
            clicked = cs_steering_page_click_at (sp, CS_STEER_FIGURE_SAE, x, y);
            g_test_message ("the decomposition's bar at %.0f,%.0f: L%d/%d", x, y, layer, latent);
          }
      g_assert_true (clicked);
      f->phase = 47;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 47)
    {
      CsSteeringPage *sp = cs_window_get_steering_page (f->window);
      if (cs_steering_page_get_card_busy (sp))
        return G_SOURCE_CONTINUE;
      g_assert_true (cs_steering_page_get_card (sp)->from_cache);
      g_assert_cmpint (cs_steering_page_get_card (sp)->layer, ==, f->card_layer);
      g_assert_cmpint (cs_steering_page_get_card (sp)->latent, ==, f->card_latent);
      cs_steering_page_show_figure (sp, CS_STEER_FIGURE_EFFECTS);
      /* another prompt continued with the same vector, nothing else rerun */
      {
        CsSteeringPage *sp = cs_window_get_steering_page (f->window);
        f->sweep_before = cs_steering_page_get_report (sp)->sweep;
        cs_steering_page_set_prompt (sp, "A salmon is a kind of", 6);
        cs_steering_page_continue (sp);
        g_assert_true (cs_steering_page_get_busy (sp));
      }
      f->phase = 16;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 16)
    {
      CsSteeringPage *sp = cs_window_get_steering_page (f->window);
      const CsSteerReport *r;
      if (cs_steering_page_get_busy (sp))
        return G_SOURCE_CONTINUE;
      r = cs_steering_page_get_report (sp);
      g_assert_true (r->sweep == f->sweep_before);
      g_assert_cmpstr (r->gen_prompt, ==, "A salmon is a kind of");
      g_assert_cmpint (r->gen_n, ==, 5);
      g_assert_cmpint (r->gen_tokens, ==, 6);
      for (int m = 0; m < 5; m++)
        g_assert_cmpuint (strlen (r->gen_texts[m]), >, 0);
      g_test_message ("continued again: 0 → %s | −4 → %s", r->gen_texts[2], r->gen_texts[0]);
      /* undo: the earlier continuations come back on the same report, then
       * the report shown before the workspace was opened; redo returns both */
      {
        g_autofree char *salmon0 = g_strdup (r->gen_texts[0]);
        g_assert_true (cs_steering_page_undo (sp));
        r = cs_steering_page_get_report (sp);
        g_assert_true (r->sweep == f->sweep_before);
        g_assert_cmpstr (r->gen_prompt, ==, "A fern is a kind of");
        g_assert_true (cs_steering_page_undo (sp));
        g_assert_true (cs_steering_page_get_report (sp)->sweep != f->sweep_before);
        g_assert_cmpstr (cs_steering_page_get_report (sp)->gen_prompt, ==, "A fern is a kind of");
        g_assert_true (cs_steering_page_redo (sp));
        g_assert_true (cs_steering_page_redo (sp));
        r = cs_steering_page_get_report (sp);
        g_assert_true (r->sweep == f->sweep_before);
        g_assert_cmpstr (r->gen_prompt, ==, "A salmon is a kind of");
        g_assert_cmpstr (r->gen_texts[0], ==, salmon0);
        g_assert_false (cs_steering_page_redo (sp));
      }
      /* train a small SAE from a text file in the application */
      {
        g_autofree char *text = artifact_path ("sae-train.txt");
        GString *lines = g_string_new (NULL);
        const char *words[] = { "dog", "cat", "oak", "rose", "sparrow", "salmon", "fern", "horse" };
        for (int i = 0; i < 60; i++)
          g_string_append_printf (lines, "A %s is a kind of %s.\n", words[i % 8], words[(i * 3 + 1) % 8]);
        g_assert_true (g_file_set_contents (text, lines->str, -1, NULL));
        g_string_free (lines, TRUE);
        cs_steering_page_train_sae (cs_window_get_steering_page (f->window), text, 2, 64, 1);
        g_assert_true (cs_steering_page_get_busy (cs_window_get_steering_page (f->window)));
      }
      f->phase = 15;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 15)
    {
      CsSteeringPage *sp = cs_window_get_steering_page (f->window);
      const CsSae *sae;
      if (cs_steering_page_get_busy (sp))
        return G_SOURCE_CONTINUE;
      g_assert_null (cs_steering_page_get_error (sp));
      sae = cs_steering_page_get_sae (sp);
      g_assert_nonnull (sae);
      g_assert_cmpint (sae->d_sae, ==, 64);
      g_assert_cmpint (sae->hook_layer, ==, 2);
      /* a folder of SAEs with two for layer 1, opened in the background as
       * Load SAE… does: the default (the first by name), then the other
       * chosen as the drop-down does */
      {
        g_autofree char *set = artifact_path ("sae-variants");
        g_autoptr(GError) error = NULL;
        const char *names[] = { "a-resid_post.0", "a-resid_post.1", "b-resid_post.1", "a-resid_post.2", "a-resid_post.3" };
        const int layers[] = { 0, 1, 1, 2, 3 };
        g_mkdir_with_parents (set, 0755);
        for (guint i = 0; i < G_N_ELEMENTS (names); i++)
          {
            g_autofree char *link = g_build_filename (set, names[i], NULL);
            g_autofree char *target = g_strdup_printf ("%s/sae-set/resid_post.%d", cs_paths_get_datadir (), layers[i]);
            g_autofree char *abs = g_canonicalize_filename (target, NULL);
            g_unlink (link);
            g_assert_cmpint (symlink (abs, link), ==, 0);
          }
        g_assert_true (cs_steering_page_open_saes (sp, set, &error));
        g_assert_no_error (error);
        g_assert_true (cs_steering_page_get_busy (sp));
      }
      f->phase = 48;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 48 || f->phase == 49)
    {
      CsSteeringPage *sp = cs_window_get_steering_page (f->window);
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) choices = NULL;
      if (cs_steering_page_get_busy (sp))
        return G_SOURCE_CONTINUE;
      choices = cs_steering_page_get_sae_choices (sp);
      g_assert_nonnull (choices);
      if (f->phase == 48)
        {
          g_assert_cmpstr (choices[1], ==, "1=a-resid_post.1");
          g_assert_false (cs_steering_page_select_sae_variant (sp, 1, "c-none", &error));
          g_clear_error (&error);
          g_assert_true (cs_steering_page_select_sae_variant (sp, 1, "b-resid_post.1", &error));
          g_assert_no_error (error);
          f->phase = 49;
          return G_SOURCE_CONTINUE;
        }
      g_assert_cmpstr (choices[1], ==, "1=b-resid_post.1");
      /* and at once, through the engine's own swap: back and forth */
      g_assert_true (cs_steering_page_choose_sae_variant (sp, 1, "a-resid_post.1", &error));
      g_assert_true (cs_steering_page_choose_sae_variant (sp, 1, "b-resid_post.1", &error));
      g_assert_no_error (error);
      /* steering with the Geometry view's ℓ̄_bird − ℓ̄_mammal instead of the pairs' vector */
      g_assert_false (cs_steering_page_set_concept (sp, "unicorn", NULL));
      g_assert_true (cs_steering_page_set_concept (sp, "bird", "mammal"));
      cs_steering_page_run (sp, "mammal-vs-bird", "0-3", "-4,-2,0,2,4", "bird");
      g_assert_true (cs_steering_page_get_busy (sp));
      f->phase = 27;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 27)
    {
      CsSteeringPage *sp = cs_window_get_steering_page (f->window);
      const CsSteerReport *r;
      int child = -1, parent = -1;
      if (cs_steering_page_get_busy (sp))
        return G_SOURCE_CONTINUE;
      g_assert_null (cs_steering_page_get_error (sp));
      r = cs_steering_page_get_report (sp);
      g_assert_cmpstr (r->concept, ==, "ℓ̄_bird − ℓ̄_mammal");
      g_assert_null (r->svd);
      g_assert_cmpint (r->hier_n, >=, 3);
      for (int k = 0; k < r->hier_n; k++)
        {
          if (g_str_equal (r->hier_roles[k], "child"))
            child = k;
          if (g_str_equal (r->hier_roles[k], "parent"))
            parent = k;
        }
      g_assert_cmpstr (r->hier_names[child], ==, "bird");
      g_assert_cmpstr (r->hier_names[parent], ==, "animal");
      /* the bird tokens gain at +4 and lose at −4 */
      g_assert_cmpfloat (r->hier_change[child * r->sweep->n_mult + 4], >, 0);
      g_assert_cmpfloat (r->hier_change[child * r->sweep->n_mult + 0], <, 0);
      g_test_message ("bird − mammal at layer %d: bird %+.3f, animal %+.3f at m = 4", r->hier_layer,
                      r->hier_change[child * r->sweep->n_mult + 4], r->hier_change[parent * r->sweep->n_mult + 4]);
      cs_steering_page_show_figure (sp, CS_STEER_FIGURE_HIERARCHY);
      {
        g_autofree char *png = artifact_path ("steering-hierarchy.png");
        g_autoptr(GError) error = NULL;
        g_assert_true (cs_steering_page_export (sp, png, "slide", "light", 1, 0, &error));
        g_assert_no_error (error);
      }

      /* the Geometry view's projection axes are offered too, as drawn there */
      {
        const char *axes = cs_session_get_axes (cs_window_get_session (f->window));
        g_auto(GStrv) xy = NULL;
        g_assert_nonnull (axes);
        xy = g_strsplit (axes, ";", 2);
        g_test_message ("the projection's axes: %s and %s", xy[0], xy[1]);
        g_assert_true (cs_steering_page_set_concept (sp, xy[0], NULL));
        g_assert_true (cs_steering_page_set_concept (sp, xy[1], NULL));
      }
      /* the run's SAEs, with layer 1's variant, come back with its workspace */
      {
        g_autofree char *ws = artifact_path ("workspace-sae-variants.h5");
        g_autofree char *shipped = g_build_filename (cs_paths_get_datadir (), "sae-set", NULL);
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) choices = NULL;
        g_assert_cmpstr (r->sae_set_choices[1], ==, "1=b-resid_post.1");
        g_assert_cmpint (r->sae_n, ==, 4 - r->sae_layer);   /* the vector, then the layers after it */
        g_assert_true (cs_window_save_workspace (f->window, ws, &error));
        g_assert_no_error (error);
        g_assert_true (cs_steering_page_load_saes (sp, shipped, NULL, &error));
        g_assert_no_error (error);
        g_assert_true (cs_window_open_workspace (f->window, ws, &error));
        g_assert_no_error (error);
        choices = cs_steering_page_get_sae_choices (sp);
        g_assert_cmpstr (choices[1], ==, "1=b-resid_post.1");
        gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "steering");
      }
      /* back to the pairs' vector for what follows */
      g_assert_true (cs_steering_page_set_concept (sp, NULL, NULL));
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "geometry");
      /* every WordNet noun synset with 25 tokens or more */
      cs_geometry_page_compute_wordnet_all (cs_window_get_geometry_page (f->window), "noun", 25);
      g_assert_true (cs_geometry_page_get_busy (cs_window_get_geometry_page (f->window)));
      f->phase = 28;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 28)
    {
      /* The whole WordNet: the heatmaps, zoomed into the animal block by
       * its name, hovered, a synset clicked selects its projection (undoably),
       * the orthogonality tab draws the distributions, and export. */
      CsGeometryPage *page = cs_window_get_geometry_page (f->window);
      CsWordNetView *wv;
      CsGeometry *g;
      guint first, count;
      int animal;
      if (cs_geometry_page_get_busy (page))
        return G_SOURCE_CONTINUE;
      g_assert_null (cs_geometry_page_get_error (page));
      g = cs_geometry_page_get_geometry (page);
      g_assert_cmpuint (g->categories->items->len, ==, 391);   /* as test-cli counts from the files */
      g_assert_nonnull (g->wordnet_distance);
      cs_geometry_page_show_view (page, "wordnet");
      wv = cs_geometry_page_get_wordnet_view (page);
      g_assert_true (cs_figure_view_has_figure (CS_FIGURE_VIEW (wv)));
      cs_wordnet_view_get_range (wv, &first, &count);
      g_assert_cmpuint (first, ==, 0);
      g_assert_cmpuint (count, ==, 391);
      /* the block by name, as the entry above the view does */
      {
        GtkWidget *entry = labelled_widget (GTK_WIDGET (page), german ? "Block von" : "Block of");
        g_assert_true (GTK_IS_ENTRY (entry));
        gtk_editable_set_text (GTK_EDITABLE (entry), "animal");
        g_signal_emit_by_name (entry, "activate");
      }
      animal = cs_category_set_find (g->categories, "animal");
      cs_wordnet_view_get_range (wv, &first, &count);
      g_assert_cmpint ((int) first, ==, animal);
      g_assert_cmpuint (count, >, 5);
      g_assert_cmpuint (count, <, 60);
      mark_frame (f);
      f->phase = 35;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 35)
    {
      CsGeometryPage *page = cs_window_get_geometry_page (f->window);
      CsWordNetView *wv = cs_geometry_page_get_wordnet_view (page);
      CsGeometry *g = cs_geometry_page_get_geometry (page);
      guint first, count, row, col;
      int animal = cs_category_set_find (g->categories, "animal"), found = 0;
      double px = 0, py = 0;
      const char *tip;
      if (!frame_painted (f))
        return G_SOURCE_CONTINUE;
      cs_wordnet_view_get_range (wv, &first, &count);
      /* hover: find a pixel over the cell (animal, animal + 1) */
      for (int y = 0; y < gtk_widget_get_height (GTK_WIDGET (wv)) && !found; y += 2)
        for (int x = 0; x < gtk_widget_get_width (GTK_WIDGET (wv)) / 3 && !found; x += 2)
          if (cs_wordnet_view_cell_at (wv, x, y, &row, &col) && (int) row == animal && (int) col == animal + 1)
            {
              px = x;
              py = y;
              found = 1;
            }
      g_assert_true (found);
      tip = cs_wordnet_view_hover (wv, px, py);
      g_assert_nonnull (tip);
      g_assert_nonnull (strstr (tip, "animal"));
      g_assert_nonnull (strstr (tip, cs_category_set_get (g->categories, animal + 1)->name));
      g_test_message ("hover: %s", tip);
      /* scrolling in halves the block about the pointer, right-click shows the whole table again */
      cs_wordnet_view_zoom_at (wv, px, py, 0.5);
      {
        guint f2, c2;
        cs_wordnet_view_get_range (wv, &f2, &c2);
        g_assert_cmpuint (c2, ==, MAX (4u, (count + 1) / 2));
        g_assert_cmpuint (f2, <=, (guint) animal);
        g_assert_cmpuint (f2 + c2, >, (guint) animal);
      }
      cs_wordnet_view_zoom_to (wv, first, count);
      /* a click selects: animal on x, its first shown child on y, animal's children shown */
      cs_geometry_page_select_synset (page, (guint) animal);
      {
        const char *axes = cs_session_get_axes (cs_window_get_session (f->window));
        g_test_message ("after selecting animal: %s", axes);
        g_assert_true (g_str_has_prefix (axes, "animal;"));
        g_assert_true (cs_geometry_page_get_category_visible (page, "animal"));
        g_assert_true (cs_geometry_page_get_category_visible (page, "chordate"));
        g_assert_false (cs_geometry_page_get_category_visible (page, "plant"));
      }
      {
        g_autofree char *png = artifact_path ("wordnet-heatmaps.png");
        g_autofree char *svg = artifact_path ("wordnet-heatmaps.svg");
        g_assert_true (cs_geometry_page_export (page, png, "slide", "light", 1, 0, &error));
        g_assert_true (cs_geometry_page_export (page, svg, "slide", "dark", 1, 0, &error));
        g_assert_no_error (error);
        assert_png_has_content (png);
        cs_geometry_page_show_view (page, "orthogonality");
        png = (g_free (png), artifact_path ("orthogonality-all.png"));
        g_assert_true (cs_geometry_page_export (page, png, "slide", "light", 1, 0, &error));
        g_assert_true (png_has_colour (png, 0));   /* the estimated pairs' histogram */
      }
      cs_geometry_page_show_view (page, "wordnet");
      mark_frame (f);
      f->phase = 29;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 29)
    {
      CsGeometryPage *page = cs_window_get_geometry_page (f->window);
      g_autofree char *png = artifact_path (german ? "wordnet-window-de.png" : "wordnet-window.png");
      if (!frame_painted (f))
        return G_SOURCE_CONTINUE;
      cs_window_save_png (f->window, png, &error);
      g_assert_no_error (error);
      assert_png_has_content (png);
      /* undoing the selection brings the earlier plane back */
      g_assert_true (cs_geometry_page_undo (page));
      g_assert_false (g_str_has_prefix (cs_session_get_axes (cs_window_get_session (f->window)), "animal;chordate"));
      cs_geometry_page_show_view (page, "projection");
      /* the Patching page: heads of the sparrow/salmon pair */
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "patching");
      cs_patching_page_patch (cs_window_get_patching_page (f->window), "A sparrow is a kind of",
                              "A salmon is a kind of", "bird", "fish", "heads");
      g_assert_true (cs_patching_page_get_busy (cs_window_get_patching_page (f->window)));
      f->phase = 36;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 36)
    {
      CsPatchingPage *pp = cs_window_get_patching_page (f->window);
      const CsPatchResult *r;
      if (cs_patching_page_get_busy (pp))
        return G_SOURCE_CONTINUE;
      g_assert_null (cs_patching_page_get_error (pp));
      r = cs_patching_page_get_patch (pp);
      g_assert_nonnull (r);
      g_assert_cmpint (r->n_layers, ==, 4);
      g_assert_cmpint (r->n_cols, ==, 8);
      g_assert_cmpint (r->target, ==, CS_PATCH_HEADS);
      /* the panel shows what ran (bound to the page's settings) */
      {
        GtkWidget *drop = labelled_widget (GTK_WIDGET (pp), german ? "Ziel" : "Target");
        g_assert_true (GTK_IS_DROP_DOWN (drop));
        g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (drop)), ==, CS_PATCH_HEADS);
      }
      /* the same table as the engine gives alone (test-patch checks it against NumPy) */
      {
        CsPatchParams prm;
        g_autoptr(CsPatchResult) alone = NULL;
        cs_patch_params_init (&prm);
        prm.clean = "A sparrow is a kind of";
        prm.corrupted = "A salmon is a kind of";
        prm.answer = "bird";
        prm.wrong = "fish";
        prm.target = CS_PATCH_HEADS;
        alone = cs_patch_run (cs_window_get_model (f->window), cs_session_get_tokenizer (cs_window_get_session (f->window)),
                              &prm, NULL, NULL, NULL, &error);
        g_assert_no_error (error);
        for (int i = 0; i < 32; i++)
          g_assert_cmpfloat (fabs (alone->values[i] - r->values[i]), <, 1e-9);
      }
      /* a head read through the unembedding */
      {
        g_autofree char *text = cs_patching_page_read_head (pp, 1, 1);
        g_assert_nonnull (text);
        g_test_message ("%s", text);
      }
      /* a function vector of a small hypernym task */
      cs_patching_page_find_heads (pp, "hypernym", 3, 6, 4, 8);
      f->phase = 37;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 37)
    {
      CsPatchingPage *pp = cs_window_get_patching_page (f->window);
      const CsFvResult *fv;
      if (cs_patching_page_get_busy (pp))
        return G_SOURCE_CONTINUE;
      g_assert_null (cs_patching_page_get_error (pp));
      fv = cs_patching_page_get_fv (pp);
      g_assert_nonnull (fv);
      g_assert_cmpint (fv->k, ==, 4);
      g_assert_nonnull (cs_patching_page_get_patch (pp));   /* the patching table stays */
      /* the vector's cosines with the Geometry view's concepts, in the status line */
      g_test_message ("%s", cs_patching_page_get_status (pp));
      g_assert_nonnull (strstr (cs_patching_page_get_status (pp), "ℓ̄"));
      /* a frame of the heads' table, drawn now */
      mark_frame (f);
      gtk_widget_queue_draw (GTK_WIDGET (f->window));
      gtk_widget_queue_draw (cs_patching_page_get_figure_area (pp));
      f->phase = 38;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 38)
    {
      CsPatchingPage *pp = cs_window_get_patching_page (f->window);
      GtkWidget *area = cs_patching_page_get_figure_area (pp);
      g_autofree char *png = artifact_path (german ? "patching-de.png" : "patching.png");
      g_autofree char *exported = artifact_path ("patching-heads.png");
      g_autofree char *ws = artifact_path (german ? "workspace-patching-de.h5" : "workspace-patching.h5");
      char *tip = NULL;
      double v0;
      if (!frame_painted (f))
        {
          gtk_widget_queue_draw (area);   /* nothing else moves on this page: ask for the frames */
          return G_SOURCE_CONTINUE;
        }
      cs_window_save_png (f->window, png, &error);
      g_assert_no_error (error);
      assert_png_has_content (png);
      /* hover names a head of the heads' table */
      for (int y = 0; y < gtk_widget_get_height (area) && !tip; y += 4)
        for (int x = 0; x < gtk_widget_get_width (area) && !tip; x += 4)
          tip = cs_patching_page_describe_at (pp, x, y);
      g_assert_nonnull (tip);
      g_test_message ("hover: %s", tip);
      g_assert_nonnull (strstr (tip, german ? "Kopf" : "head"));
      g_free (tip);
      g_assert_true (cs_patching_page_export (pp, exported, "slide", "light", 1, 0, &error));
      g_assert_no_error (error);
      /* undo takes the function vector back, redo brings it again */
      g_assert_true (cs_patching_page_undo (pp));
      g_assert_null (cs_patching_page_get_fv (pp));
      g_assert_true (cs_patching_page_redo (pp));
      g_assert_nonnull (cs_patching_page_get_fv (pp));
      /* saved in the workspace and read back */
      v0 = cs_patching_page_get_patch (pp)->values[9];
      g_assert_true (cs_window_save_workspace (f->window, ws, &error));
      g_assert_no_error (error);
      g_assert_true (cs_patching_page_load_from (pp, ws, &error));
      g_assert_no_error (error);
      g_assert_cmpfloat (cs_patching_page_get_patch (pp)->values[9], ==, v0);
      g_assert_cmpint (cs_patching_page_get_fv (pp)->k, ==, 4);
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "geometry");
      /* recompute with other parameters and a category of our own */
      cs_geometry_page_compute (cs_window_get_geometry_page (f->window), "animal", 1.0, 1, 10, "farm",
                                "dog, cat, horse, cow, sheep, goat, pig, chicken, duck, donkey");
      f->phase = 3;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 3)
    {
      CsGeometryPage *page = cs_window_get_geometry_page (f->window);
      CsGeometry *g;
      if (cs_geometry_page_get_busy (page))
        return G_SOURCE_CONTINUE;
      g = cs_geometry_page_get_geometry (page);
      g_assert_null (cs_geometry_page_get_error (page));
      g_assert_cmpuint (g->categories->items->len, ==, 8);
      g_assert_cmpstr (cs_category_set_get (g->categories, 7)->name, ==, "farm");
      g_assert_cmpuint (cs_category_set_get (g->categories, 7)->tokens->len, >=, 5);
      g_assert_cmpfloat (g->train_fraction, ==, 1.0);
      /* editing: an existing name gets the new words */
      cs_geometry_page_compute (page, "animal", 0.7, 0, 10, "bird", "sparrow, robin, eagle");
      f->phase = 4;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 4)
    {
      CsGeometryPage *page = cs_window_get_geometry_page (f->window);
      CsGeometry *g;
      if (cs_geometry_page_get_busy (page))
        return G_SOURCE_CONTINUE;
      g = cs_geometry_page_get_geometry (page);
      g_assert_cmpuint (g->categories->items->len, ==, 7);
      g_assert_cmpuint (cs_category_set_get (g->categories, 2)->tokens->len, <=, 3);
      g_assert_false (cs_category_set_get (g->categories, 2)->reliable);
      /* the user's own categories from JSON */
      {
        g_autofree char *json = artifact_path ("categories.json");
        g_assert_true (g_file_set_contents (json,
          "{\"pets\": {\"parent\": null, \"words\": [\"dog\", \"cat\", \"hamster\", \"rabbit\", \"parrot\", "
          "\"goldfish\", \"horse\", \"pony\", \"mouse\", \"rat\", \"canary\", \"turtle\"]}, "
          "\"rodents\": {\"parent\": \"pets\", \"words\": [\"hamster\", \"mouse\", \"rat\", \"gerbil\", "
          "\"squirrel\", \"beaver\", \"porcupine\"]}}", -1, NULL));
        cs_geometry_page_compute_json (page, json, 0.7, 0, 3);
      }
      f->phase = 5;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 5)
    {
      CsGeometryPage *page = cs_window_get_geometry_page (f->window);
      CsGeometry *g;
      if (cs_geometry_page_get_busy (page))
        return G_SOURCE_CONTINUE;
      g = cs_geometry_page_get_geometry (page);
      g_assert_null (cs_geometry_page_get_error (page));
      g_assert_cmpuint (g->categories->items->len, ==, 2);
      g_assert_cmpstr (cs_category_set_get (g->categories, 0)->name, ==, "pets");
      g_assert_cmpint (cs_category_set_get (g->categories, 1)->parent, ==, 0);
      /* undo and redo: each recomputation's geometry comes back as it was,
       * without computing; a category hidden and shown again */
      {
        CsGeometry *pets = g, *edited, *farm;
        g_assert_nonnull (cs_geometry_page_get_undo_label (page));
        g_assert_true (cs_geometry_page_undo (page));
        g_assert_false (cs_geometry_page_get_busy (page));
        edited = cs_geometry_page_get_geometry (page);
        g_assert_cmpuint (edited->categories->items->len, ==, 7);
        g_assert_cmpuint (cs_category_set_get (edited->categories, 2)->tokens->len, <=, 3);
        g_assert_true (cs_geometry_page_undo (page));
        farm = cs_geometry_page_get_geometry (page);
        g_assert_cmpuint (farm->categories->items->len, ==, 8);
        g_assert_cmpstr (cs_category_set_get (farm->categories, 7)->name, ==, "farm");
        g_assert_true (cs_geometry_page_redo (page));
        g_assert_true (cs_geometry_page_get_geometry (page) == edited);
        g_assert_true (cs_geometry_page_redo (page));
        g_assert_true (cs_geometry_page_get_geometry (page) == pets);
        g_assert_false (cs_geometry_page_redo (page));
        g_assert_true (cs_geometry_page_get_category_visible (page, "rodents"));
        cs_geometry_page_set_category_visible (page, "rodents", FALSE);
        g_assert_false (cs_geometry_page_get_category_visible (page, "rodents"));
        g_assert_true (cs_geometry_page_undo (page));
        g_assert_true (cs_geometry_page_get_category_visible (page, "rodents"));
        g_assert_true (cs_geometry_page_get_geometry (page) == pets);
        g_assert_true (cs_geometry_page_redo (page));
        g_assert_false (cs_geometry_page_get_category_visible (page, "rodents"));
        g_assert_true (cs_geometry_page_undo (page));
      }
      /* A bad folder gives a message in the window and keeps the model: its
       * config.json nested 100,000 levels deep (json-glib's recursive
       * parser overflowed the stack on it; the application crashed) */
      {
        g_autofree char *cfg = g_build_filename (f->bad_folder, "config.json", NULL);
        GString *deep = g_string_new ("{\"architectures\": [\"GPT2LMHeadModel\"], \"x\": ");
        for (int k = 0; k < 100000; k++)
          g_string_append_c (deep, '[');
        for (int k = 0; k < 100000; k++)
          g_string_append_c (deep, ']');
        g_string_append_c (deep, '}');
        g_assert_true (g_file_set_contents (cfg, deep->str, (gssize) deep->len, NULL));
        g_string_free (deep, TRUE);
      }
      cs_window_open_model (f->window, f->bad_folder);
      mark_frame (f);
      f->phase = 6;
      return G_SOURCE_CONTINUE;
    }

  const char *err = cs_window_get_error_text (f->window);
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err, "config.json"));
  g_assert_true (g_str_has_prefix (err, german ? "Das Modell konnte nicht" : "Could not open the model"));
  g_assert_nonnull (strstr (err, f->bad_folder));
  g_assert_nonnull (strstr (err, "nested more than"));
  g_assert_nonnull (cs_window_get_model (f->window));
  g_assert_cmpstr (cs_model_get_name (cs_window_get_model (f->window)), ==, "sample-model");
  if (f->phase == 6 && !frame_painted (f))
    return G_SOURCE_CONTINUE;   /* the message drawn before the window is saved */
  if (f->phase == 6)
    {
      png = artifact_path (german ? "window-error-de.png" : "window-error.png");
      cs_window_save_png (f->window, png, &error);
      g_assert_no_error (error);
      assert_png_has_content (png);
      /* a narrow window (half of a 1920-pixel screen): every page still
       * fits, in either language */
      gtk_window_set_default_size (GTK_WINDOW (f->window), 960, 720);
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "geometry");
      mark_frame (f);
      f->phase = 30;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase >= 30 && f->phase <= 33)
    {
      const char *next[] = { "mapper", "steering", "patching" };
      if (!frame_painted (f) || gtk_widget_get_width (GTK_WIDGET (f->window)) > 970)
        return G_SOURCE_CONTINUE;
      assert_fits_window (GTK_WINDOW (f->window));
      if (f->phase < 33)
        {
          gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", next[f->phase - 30]);
          mark_frame (f);
          f->phase++;
          return G_SOURCE_CONTINUE;
        }
      {
        g_autofree char *narrow = artifact_path (german ? "steering-narrow-de.png" : "steering-narrow.png");
        cs_window_save_png (f->window, narrow, &error);
        g_assert_no_error (error);
      }
      /* a save that fails for want of room (a file size limit standing in
       * for a full disk): a message, and the application goes on — the same
       * workspace saved elsewhere, then closed cleanly below (HDF5's exit
       * handler crashed after such a failure) */
      {
        CsGeometryPage *page = cs_window_get_geometry_page (f->window);
        g_autofree char *dir = g_dir_make_tmp ("cs-full-XXXXXX", NULL);
        g_autofree char *full = g_build_filename (dir, "full.h5", NULL);
        g_autofree char *room = g_build_filename (dir, "room.h5", NULL);
        g_autoptr(GError) save_error = NULL;
        struct rlimit old_limit, small;
        g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
        small = old_limit;
        small.rlim_cur = 64 * 1024;
        signal (SIGXFSZ, SIG_IGN);
        g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
        g_assert_false (cs_geometry_page_save_workspace (page, full, &save_error));
        g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
        g_assert_nonnull (save_error);
        g_test_message ("a failed save says: %s", save_error->message);
        g_assert_false (g_file_test (full, G_FILE_TEST_EXISTS));
        g_assert_true (cs_geometry_page_save_workspace (page, room, &error));
        g_assert_no_error (error);
        g_assert_true (g_file_test (room, G_FILE_TEST_IS_REGULAR));
        g_unlink (room);
        g_rmdir (dir);
      }
      /* a recomputation with another seed, cancelled at once: the panel goes
       * back to the drawn geometry's seed; then the window is closed, and no
       * handler may outlive its object on the way out (criticals are fatal) */
      {
        CsGeometryPage *page = cs_window_get_geometry_page (f->window);
        GtkWidget *seed = labelled_widget (GTK_WIDGET (page), g_dgettext ("conceptscope", "Seed"));
        g_assert_true (GTK_IS_SPIN_BUTTON (seed));
        gtk_spin_button_set_value (GTK_SPIN_BUTTON (seed), 77);
        cs_geometry_page_compute (page, "plant", 0.7, 77, 10, NULL, NULL);
        cs_geometry_page_cancel (page);
      }
      f->phase = 40;
      return G_SOURCE_CONTINUE;
    }
  if (f->phase == 40 && cs_geometry_page_get_busy (cs_window_get_geometry_page (f->window)))
    return G_SOURCE_CONTINUE;
  f->checked = TRUE;
  if (f->phase == 40)
    {
      /* the page still draws what it drew; then the window is closed as a
       * user closes it, which ends the application */
      CsGeometryPage *page = cs_window_get_geometry_page (f->window);
      CsGeometry *drawn = cs_geometry_page_get_geometry (page);
      GtkWidget *seed = labelled_widget (GTK_WIDGET (page), g_dgettext ("conceptscope", "Seed"));
      g_assert_nonnull (drawn);
      g_assert_cmpuint (drawn->seed, !=, 77);
      g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (seed)), ==, (int) drawn->seed);
      gtk_window_destroy (GTK_WINDOW (f->window));
      f->window = NULL;
      return G_SOURCE_REMOVE;
    }
  g_application_quit (G_APPLICATION (f->app));
  return G_SOURCE_REMOVE;
}

static void
on_window_added (GtkApplication *app, GtkWindow *window, gpointer data)
{
  Fixture *f = data;
  if (CS_IS_WINDOW (window) && !f->window)
    {
      f->window = CS_WINDOW (window);
      g_timeout_add (100, check_window, f);
      g_timeout_add (5, tick, f);
    }
}

static void
test_window_on_sample_model (void)
{
  Fixture f = { 0 };
  g_autofree char *sample = cs_paths_get_sample_model ();
  char *argv[] = { "conceptscope", sample, NULL };

  f.bad_folder = g_dir_make_tmp ("cs-bad-XXXXXX", NULL);
  f.app = cs_application_new (G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_signal_connect (f.app, "window-added", G_CALLBACK (on_window_added), &f);
  /* ~25 s here; under meson's limit (120 s), or CS_GUI_TIMEOUT's (make test-asan) */
  g_timeout_add_seconds (g_getenv ("CS_GUI_TIMEOUT") ? (guint) atoi (g_getenv ("CS_GUI_TIMEOUT")) : 110, fail_timeout,
                         NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (f.app), 2, argv), ==, 0);
  g_assert_true (f.checked);
  {
    g_autofree char *cfg = g_build_filename (f.bad_folder, "config.json", NULL);
    g_unlink (cfg);
  }
  g_rmdir (f.bad_folder);
  g_free (f.bad_folder);
  g_object_unref (f.app);
}

/* A spin button with an automatic value shows it as "auto" in the UI's
 * language, shows other values as numbers, and reads "auto" typed back. */
static void
test_spin_auto (void)
{
  GtkWidget *w = gtk_spin_button_new_with_range (-1, 10, 1);
  GtkSpinButton *spin = GTK_SPIN_BUTTON (g_object_ref_sink (w));
  const char *want = german ? "automatisch" : "auto";

  cs_ui_spin_auto (spin, -1);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (spin)), ==, want);
  gtk_spin_button_set_value (spin, 3);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (spin)), ==, "3");
  gtk_editable_set_text (GTK_EDITABLE (spin), want);
  gtk_spin_button_update (spin);
  g_assert_cmpfloat (gtk_spin_button_get_value (spin), ==, -1);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (spin)), ==, want);
  gtk_editable_set_text (GTK_EDITABLE (spin), "7");
  gtk_spin_button_update (spin);
  g_assert_cmpfloat (gtk_spin_button_get_value (spin), ==, 7);
  g_object_unref (spin);
}

int
main (int argc, char **argv)
{
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  const char *lang = g_getenv ("CS_TEST_LANGUAGE");
  german = g_strcmp0 (lang, "de") == 0;
  /* LANGUAGE only takes effect under a non-C locale. */
  g_setenv ("LANGUAGE", german ? "de" : "C", TRUE);
  if (german)
    g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_setenv ("GTK_THEME", "Adwaita", TRUE);
  {
    /* SAEs trained in the test land here, not in the user's data folder */
    g_autofree char *xdg = g_build_filename (g_getenv ("CS_TEST_OUTPUT"), german ? "xdg-data-de" : "xdg-data", NULL);
    g_autofree char *cache = g_build_filename (g_getenv ("CS_TEST_OUTPUT"), german ? "xdg-cache-de" : "xdg-cache",
                                               NULL);
    g_setenv ("XDG_DATA_HOME", xdg, TRUE);
    /* the whitening cache too, emptied so that the first start computes */
    g_setenv ("XDG_CACHE_HOME", cache, TRUE);
    {
      g_autofree char *w = g_build_filename (cache, "conceptscope", "whitening", NULL);
      g_autoptr(GDir) dir = g_dir_open (w, 0, NULL);
      for (const char *n; dir && (n = g_dir_read_name (dir));)
        {
          g_autofree char *path = g_build_filename (w, n, NULL);
          g_unlink (path);
        }
    }
  }
  cs_application_setup_i18n ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gui/window-on-sample-model", test_window_on_sample_model);
  g_test_add_func ("/gui/spin-auto", test_spin_auto);
  return g_test_run ();
}
