#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>

#include "cs-ui.h"
#include "cs-export-dialog.h"

typedef struct
{
  GObject        *owner;
  GtkWidget      *parent;
  char           *stem;
  CsExportFunc    export_func;
  CsExportFailed  failed;
  GtkDropDown    *format, *preset, *theme;
  GtkSpinButton  *scale, *font;
} ExportDialog;

static void
export_dialog_free (ExportDialog *e)
{
  g_object_unref (e->owner);
  g_object_unref (e->parent);
  g_free (e->stem);
  g_free (e);
}

static void
chooser_response (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  ExportDialog *e = user_data;
  static const char *presets[] = { "slide", "square", "column" };
  static const char *themes[] = { "light", "dark", "transparent" };
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      if (!e->export_func (e->owner, path, presets[gtk_drop_down_get_selected (e->preset)],
                           themes[gtk_drop_down_get_selected (e->theme)], gtk_spin_button_get_value (e->scale),
                           gtk_spin_button_get_value (e->font), &error) && e->failed)
        e->failed (e->owner, error->message);
    }
  g_object_unref (chooser);
  export_dialog_free (e);
}

static void
dialog_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  ExportDialog *e = user_data;
  static const char *exts[] = { "pdf", "svg", "png" };
  GtkFileChooserNative *chooser;
  g_autofree char *name = NULL;

  if (!g_str_equal (response, "export"))
    {
      export_dialog_free (e);
      return;
    }
  chooser = gtk_file_chooser_native_new (_("Export Figure"), GTK_WINDOW (gtk_widget_get_root (e->parent)),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  name = g_strdup_printf ("%s.%s", e->stem, exts[gtk_drop_down_get_selected (e->format)]);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response), e);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

void
cs_export_dialog_present (GtkWidget *parent, GObject *owner, const char *default_stem, CsExportFunc export_func,
                          CsExportFailed failed)
{
  ExportDialog *e = g_new0 (ExportDialog, 1);
  GtkWidget *grid = gtk_grid_new ();
  const char *formats[] = { "PDF", "SVG", "PNG", NULL };
  const char *presets[] = { _("16:9 slide"), _("Square"), _("Paper column"), NULL };
  const char *themes[] = { _("Light"), _("Dark"), _("Transparent"), NULL };
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (parent)), _("Export Figure"), NULL);

  e->owner = g_object_ref (owner);
  e->parent = g_object_ref (parent);
  e->stem = g_strdup (default_stem);
  e->export_func = export_func;
  e->failed = failed;
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  e->format = GTK_DROP_DOWN (cs_ui_labelled (grid, 0, _("Format"), gtk_drop_down_new_from_strings (formats)));
  e->preset = GTK_DROP_DOWN (cs_ui_labelled (grid, 1, _("Size"), gtk_drop_down_new_from_strings (presets)));
  e->theme = GTK_DROP_DOWN (cs_ui_labelled (grid, 2, _("Background"), gtk_drop_down_new_from_strings (themes)));
  e->scale = GTK_SPIN_BUTTON (cs_ui_labelled (grid, 3, _("PNG scale"), gtk_spin_button_new_with_range (1, 8, 0.5)));
  e->font = GTK_SPIN_BUTTON (cs_ui_labelled (grid, 4, _("Font size"), gtk_spin_button_new_with_range (5, 40, 1)));
  gtk_spin_button_set_value (e->scale, 2);
  gtk_spin_button_set_value (e->font, 16);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), grid);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "export", _("_Export…"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "export", ADW_RESPONSE_SUGGESTED);
  g_signal_connect (dialog, "response", G_CALLBACK (dialog_response), e);
  gtk_window_present (GTK_WINDOW (dialog));
}
