#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>

#include "cs-preferences-window.h"

struct _CsPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;
  AdwComboRow          *color_scheme_row;
  AdwComboRow          *device_row;
  GSettings            *settings;
};

G_DEFINE_FINAL_TYPE (CsPreferencesWindow, cs_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* The order of these matches the string lists in cs-preferences-window.ui. */
static const char *color_schemes[] = { "default", "light", "dark" };
static const char *devices[] = { "auto", "cpu", "cuda" };

static guint
index_of (const char * const *values, guint n, const char *value)
{
  for (guint i = 0; i < n; i++)
    if (g_str_equal (values[i], value))
      return i;
  return 0;
}

static void
on_color_scheme_selected (CsPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (self->color_scheme_row);
  if (i < G_N_ELEMENTS (color_schemes))
    g_settings_set_string (self->settings, "color-scheme", color_schemes[i]);
}

static void
on_device_selected (CsPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (self->device_row);
  if (i < G_N_ELEMENTS (devices))
    g_settings_set_string (self->settings, "device", devices[i]);
}

static void
cs_preferences_window_dispose (GObject *object)
{
  CsPreferencesWindow *self = CS_PREFERENCES_WINDOW (object);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (cs_preferences_window_parent_class)->dispose (object);
}

static void
cs_preferences_window_class_init (CsPreferencesWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = cs_preferences_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/conceptscope/ConceptScope/ui/cs-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, color_scheme_row);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, device_row);
}

static void
cs_preferences_window_init (CsPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

CsPreferencesWindow *
cs_preferences_window_new (GSettings *settings)
{
  CsPreferencesWindow *self = g_object_new (CS_TYPE_PREFERENCES_WINDOW, NULL);
  g_autofree char *scheme = g_settings_get_string (settings, "color-scheme");
  g_autofree char *device = g_settings_get_string (settings, "device");

  self->settings = g_object_ref (settings);
  adw_combo_row_set_selected (self->color_scheme_row,
                              index_of (color_schemes, G_N_ELEMENTS (color_schemes), scheme));
  adw_combo_row_set_selected (self->device_row, index_of (devices, G_N_ELEMENTS (devices), device));
  g_signal_connect_swapped (self->color_scheme_row, "notify::selected",
                            G_CALLBACK (on_color_scheme_selected), self);
  g_signal_connect_swapped (self->device_row, "notify::selected",
                            G_CALLBACK (on_device_selected), self);
  return self;
}
