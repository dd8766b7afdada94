/* Opens a model folder in the application, as a user would from the command
 * line, and times the Geometry page's first projection: from start to the
 * first frame painted after the computation ended. A 5 ms timer measures how
 * long the main loop went without running (the window's responsiveness)
 * once the window has drawn its first frame.
 * Prints one JSON object. Run under xvfb-run:
 *   bench-open-model MODEL_DIR */
#include <adwaita.h>
#include <stdio.h>
#include <string.h>

#include "cs-application.h"
#include "cs-window.h"
#include "bench-common.h"

typedef struct
{
  CsApplication *app;
  CsWindow      *window;
  gint64         start, last_tick, max_stall, stall_at, ready_at;
  gboolean       painted;
} Bench;

static void
after_paint (GdkFrameClock *clock, Bench *b)
{
  CsGeometryPage *page;
  if (b->painted || !b->ready_at)
    return;
  b->painted = TRUE;
  page = cs_window_get_geometry_page (b->window);
  printf ("{\"first_projection_s\": %.2f, \"computed_s\": %.2f, \"max_main_loop_stall_ms\": %.1f, "
          "\"longest_stall_began_s\": %.2f, \"peak_rss_mb\": %.0f, \"error\": \"%s\"}\n",
          (g_get_monotonic_time () - b->start) / 1e6, (b->ready_at - b->start) / 1e6, b->max_stall / 1000.0,
          (b->stall_at - b->start) / 1e6, peak_rss_mb (), cs_geometry_page_get_error (page) ? cs_geometry_page_get_error (page) : "");
  fflush (stdout);
  g_application_quit (G_APPLICATION (b->app));
}

static gboolean
tick (gpointer data)
{
  Bench *b = data;
  gint64 now = g_get_monotonic_time ();
  CsGeometryPage *page;

  GdkFrameClock *clock = b->window ? gtk_widget_get_frame_clock (GTK_WIDGET (b->window)) : NULL;
  /* from the second frame on: the first one (styles, fonts) is start-up */
  gboolean shown = clock && gdk_frame_clock_get_frame_counter (clock) > 1;
  if (b->last_tick && shown && now - b->last_tick > b->max_stall)
    {
      b->max_stall = now - b->last_tick;
      b->stall_at = b->last_tick;
    }
  b->last_tick = now;
  if (!b->window || b->ready_at)
    return G_SOURCE_CONTINUE;
  page = cs_window_get_geometry_page (b->window);
  if (!cs_geometry_page_get_busy (page) && (cs_geometry_page_get_geometry (page) || cs_geometry_page_get_error (page)))
    {
      GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (b->window));
      b->ready_at = now;
      g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint), b);
      gtk_widget_queue_draw (GTK_WIDGET (b->window));
    }
  return G_SOURCE_CONTINUE;
}

static void
on_window_added (GtkApplication *app, GtkWindow *window, Bench *b)
{
  if (CS_IS_WINDOW (window))
    b->window = CS_WINDOW (window);
}

int
main (int argc, char **argv)
{
  Bench b = { 0 };
  char *args[] = { "conceptscope", argc > 1 ? argv[1] : NULL, NULL };

  if (argc < 2)
    {
      fprintf (stderr, "usage: bench-open-model MODEL_DIR\n");
      return 2;
    }
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  b.start = g_get_monotonic_time ();
  b.app = cs_application_new (G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_signal_connect (b.app, "window-added", G_CALLBACK (on_window_added), &b);
  g_timeout_add (5, tick, &b);
  g_application_run (G_APPLICATION (b.app), 2, args);
  g_object_unref (b.app);
  return b.painted ? 0 : 1;
}
