#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>
#include <locale.h>

#include "cs-application.h"
#include "cs-build-config.h"
#include "cs-paths.h"
#include "cs-preferences-window.h"
#include "cs-window.h"

struct _CsApplication
{
  AdwApplication  parent_instance;
  GSettings      *settings;
};

G_DEFINE_FINAL_TYPE (CsApplication, cs_application, ADW_TYPE_APPLICATION)

void
cs_application_setup_i18n (void)
{
  const char *localedir = g_getenv ("CONCEPTSCOPE_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : CS_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

CsApplication *
cs_application_new (GApplicationFlags flags)
{
  return g_object_new (CS_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", flags,
                       "resource-base-path", "/io/github/conceptscope/ConceptScope",
                       NULL);
}

GSettings *
cs_application_get_settings (CsApplication *self)
{
  g_return_val_if_fail (CS_IS_APPLICATION (self), NULL);
  return self->settings;
}

static void
apply_color_scheme (CsApplication *self)
{
  g_autofree char *scheme = g_settings_get_string (self->settings, "color-scheme");
  AdwColorScheme s = ADW_COLOR_SCHEME_DEFAULT;

  if (g_str_equal (scheme, "light"))
    s = ADW_COLOR_SCHEME_FORCE_LIGHT;
  else if (g_str_equal (scheme, "dark"))
    s = ADW_COLOR_SCHEME_FORCE_DARK;
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), s);
}

static CsWindow *
get_window (CsApplication *self)
{
  GtkWindow *win = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (win)
    return CS_WINDOW (win);
  return cs_window_new (self);
}

static void
cs_application_activate (GApplication *app)
{
  CsApplication *self = CS_APPLICATION (app);
  GtkWindow *existing = gtk_application_get_active_window (GTK_APPLICATION (app));
  CsWindow *win;
  g_autofree char *last = NULL;
  g_autofree char *path = NULL;

  if (existing)
    {
      gtk_window_present (existing);
      return;
    }
  win = get_window (self);
  last = g_settings_get_string (self->settings, "last-model");
  if (last && *last && g_file_test (last, G_FILE_TEST_IS_DIR))
    path = g_steal_pointer (&last);
  else
    path = cs_paths_get_sample_model ();
  cs_window_open_model (win, path);
  gtk_window_present (GTK_WINDOW (win));
}

static void
cs_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  CsWindow *win = get_window (CS_APPLICATION (app));
  g_autofree char *path = g_file_get_path (files[0]);

  cs_window_open_model (win, path);
  gtk_window_present (GTK_WINDOW (win));
}

static void
preferences_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CsApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWindow *prefs = GTK_WINDOW (cs_preferences_window_new (self->settings));

  gtk_window_set_transient_for (prefs, parent);
  gtk_window_present (prefs);
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CsApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  const char *developers[] = { "The ConceptScope developers", NULL };

  adw_show_about_window (parent,
                         "application-name", _("ConceptScope"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Look at the geometry of concepts inside language models"),
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GApplication *app = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  /* Close windows so that each saves its state before the application quits. */
  for (GList *l = windows; l; l = l->next)
    gtk_window_close (l->data);
  g_application_quit (app);
}

static void
on_color_scheme_changed (GSettings *settings, const char *key, gpointer user_data)
{
  apply_color_scheme (user_data);
}

static void
cs_application_startup (GApplication *app)
{
  CsApplication *self = CS_APPLICATION (app);
  static const GActionEntry entries[] = {
    { "preferences", preferences_action },
    { "about", about_action },
    { "quit", quit_action },
  };

  G_APPLICATION_CLASS (cs_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit",
                                         (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences",
                                         (const char *[]) { "<Control>comma", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.open-model",
                                         (const char *[]) { "<Control>o", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.save-workspace",
                                         (const char *[]) { "<Control>s", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.open-workspace",
                                         (const char *[]) { "<Control><Shift>o", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.show-page::geometry",
                                         (const char *[]) { "<Alt>1", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.show-page::mapper",
                                         (const char *[]) { "<Alt>2", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.show-page::steering",
                                         (const char *[]) { "<Alt>3", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close",
                                         (const char *[]) { "<Control>w", NULL });

  self->settings = g_settings_new (APP_ID);
  g_signal_connect_object (self->settings, "changed::color-scheme",
                           G_CALLBACK (on_color_scheme_changed), self, 0);
  apply_color_scheme (self);
}

static void
cs_application_dispose (GObject *object)
{
  CsApplication *self = CS_APPLICATION (object);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (cs_application_parent_class)->dispose (object);
}

static void
cs_application_class_init (CsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = cs_application_dispose;
  app_class->activate = cs_application_activate;
  app_class->open = cs_application_open;
  app_class->startup = cs_application_startup;
}

static void
cs_application_init (CsApplication *self)
{
}
