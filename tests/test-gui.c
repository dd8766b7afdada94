/* Starts the real application under Xvfb, waits for its window and model,
 * checks what it shows and renders it to a PNG that is inspected and kept. */
#include <adwaita.h>
#include <glib/gstdio.h>

#include "cs-application.h"
#include "cs-paths.h"
#include "cs-window.h"

static gboolean german;

typedef struct
{
  CsApplication *app;
  CsWindow      *window;
  gboolean       checked;
  char          *bad_folder;
  int            phase;
} Fixture;

static char *
artifact_path (const char *name)
{
  const char *dir = g_getenv ("CS_TEST_OUTPUT");
  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, name, NULL);
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
      gtk_widget_get_width (GTK_WIDGET (f->window)) <= 0)
    return G_SOURCE_CONTINUE;

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
      g_assert_cmpuint (g_strv_length (titles), ==, 3);
      g_assert_cmpstr (titles[0], ==, german ? "Geometrie" : "Geometry");
      g_assert_cmpstr (titles[1], ==, "Mapper");
      g_assert_cmpstr (titles[2], ==, german ? "Steuerung" : "Steering");

      png = artifact_path (german ? "window-de.png" : "window.png");
      cs_window_save_png (f->window, png, &error);
      g_assert_no_error (error);
      assert_png_has_content (png);

      /* A bad folder gives a message in the window and keeps the model. */
      cs_window_open_model (f->window, f->bad_folder);
      f->phase = 1;
      return G_SOURCE_CONTINUE;
    }

  const char *err = cs_window_get_error_text (f->window);
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err, "config.json"));
  g_assert_true (g_str_has_prefix (err, german ? "Das Modell konnte nicht" : "Could not open the model"));
  g_assert_nonnull (strstr (err, f->bad_folder));
  g_assert_nonnull (cs_window_get_model (f->window));
  g_assert_cmpstr (cs_model_get_name (cs_window_get_model (f->window)), ==, "sample-model");
  png = artifact_path (german ? "window-error-de.png" : "window-error.png");
  cs_window_save_png (f->window, png, &error);
  g_assert_no_error (error);
  assert_png_has_content (png);

  f->checked = TRUE;
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
  g_timeout_add_seconds (60, fail_timeout, NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (f.app), 2, argv), ==, 0);
  g_assert_true (f.checked);
  g_rmdir (f.bad_folder);
  g_free (f.bad_folder);
  g_object_unref (f.app);
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
  cs_application_setup_i18n ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gui/window-on-sample-model", test_window_on_sample_model);
  return g_test_run ();
}
