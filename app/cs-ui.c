#include <glib/gi18n.h>

#include "cs-build-config.h"
#include "cs-ui.h"

#include <adwaita.h>

#include <math.h>

GtkWidget *
cs_ui_heading (const char *text)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_widget_add_css_class (l, "heading");
  gtk_widget_set_margin_top (l, 12);
  return l;
}

/* A label wraps past 150 pixels: a long one (German's "Mindestens
 * gemeinsame Punkte") takes two lines rather than widening the side panel
 * past what the window can give it. */
static void
wrap_label (GtkWidget *l, const char *text)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (l, text);
  int w = 0;
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_label_set_wrap (GTK_LABEL (l), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (l), PANGO_WRAP_WORD_CHAR);
  pango_layout_get_pixel_size (layout, &w, NULL);
  g_object_unref (layout);
  gtk_widget_set_size_request (l, MIN (w, 150), -1);
}

void
cs_ui_grid_labels (GtkGrid *grid)
{
  for (int row = 0;; row++)
    {
      GtkWidget *l = gtk_grid_get_child_at (grid, 0, row), *w = gtk_grid_get_child_at (grid, 1, row);
      if (!l && !w)
        break;
      if (!GTK_IS_LABEL (l) || !w)
        continue;
      wrap_label (l, gtk_label_get_text (GTK_LABEL (l)));
      gtk_widget_set_hexpand (w, TRUE);
      gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      gtk_label_get_text (GTK_LABEL (l)), -1);
    }
}

GtkWidget *
cs_ui_labelled (GtkWidget *grid, int row, const char *label, GtkWidget *w)
{
  GtkWidget *l = gtk_label_new (label);
  wrap_label (l, label);
  gtk_grid_attach (GTK_GRID (grid), l, 0, row, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), w, 1, row, 1, 1);
  gtk_widget_set_hexpand (w, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return w;
}

typedef struct
{
  GtkWidget    *owner;
  CsUiFileFunc  done;
} Choice;

static void
choice_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  Choice *c = user_data;
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      if (path)
        c->done (c->owner, path);
    }
  g_object_unref (dialog);
  g_object_unref (c->owner);
  g_free (c);
}

void
cs_ui_choose_file (GtkWidget *owner, const char *title, GtkFileChooserAction action, const char *accept_label,
                   const char *suggested_name, const char *filter_name, const char *filter_pattern, CsUiFileFunc done)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (gtk_widget_get_root (owner)), action,
                                                               accept_label, _("_Cancel"));
  Choice *c = g_new0 (Choice, 1);
  c->owner = g_object_ref (owner);
  c->done = done;
  if (suggested_name)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), suggested_name);
  if (filter_pattern)
    {
      g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
      g_auto(GStrv) patterns = g_strsplit (filter_pattern, " ", -1);
      gtk_file_filter_set_name (filter, filter_name);
      for (guint i = 0; patterns[i]; i++)
        if (*patterns[i])
          gtk_file_filter_add_pattern (filter, patterns[i]);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
    }
  g_signal_connect (chooser, "response", G_CALLBACK (choice_response), c);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
spin_auto_output (GtkSpinButton *spin, gpointer data)
{
  double v = gtk_spin_button_get_value (spin);
  double auto_value = *(double *) g_object_get_data (G_OBJECT (spin), "cs-auto-value");
  g_autofree char *text = fabs (v - auto_value) < 1e-12 ? g_strdup (_("auto"))
                                                       : g_strdup_printf ("%.*f", gtk_spin_button_get_digits (spin), v);
  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (spin)), text) != 0)
    gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

static int
spin_auto_input (GtkSpinButton *spin, double *value, gpointer data)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  char *end = NULL;
  double v;
  if (!*text || g_ascii_strcasecmp (text, _("auto")) == 0 || g_ascii_strcasecmp (text, "auto") == 0)
    {
      *value = *(double *) g_object_get_data (G_OBJECT (spin), "cs-auto-value");
      return TRUE;
    }
  v = g_strtod (text, &end);
  if (end == text || *end)
    v = g_ascii_strtod (text, &end);
  if (end == text || *end)
    return GTK_INPUT_ERROR;
  *value = v;
  return TRUE;
}

static gboolean
shortcut_call (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  gboolean (*func) (GtkWidget *) = user_data;
  return func (widget);
}

void
cs_ui_add_undo (GtkBox *bar, GtkWidget *page, GCallback undo, GCallback redo, GtkWidget **undo_button,
                GtkWidget **redo_button)
{
  GtkEventController *c = gtk_shortcut_controller_new ();

  *undo_button = gtk_button_new_from_icon_name ("edit-undo-symbolic");
  gtk_accessible_update_property (GTK_ACCESSIBLE (*undo_button), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Undo"), -1);
  g_signal_connect_swapped (*undo_button, "clicked", undo, page);
  gtk_box_append (bar, *undo_button);
  *redo_button = gtk_button_new_from_icon_name ("edit-redo-symbolic");
  gtk_accessible_update_property (GTK_ACCESSIBLE (*redo_button), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Redo"), -1);
  g_signal_connect_swapped (*redo_button, "clicked", redo, page);
  gtk_box_append (bar, *redo_button);

  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (c), GTK_SHORTCUT_SCOPE_MANAGED);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (c),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>z"),
                                                          gtk_callback_action_new (shortcut_call, (gpointer) undo,
                                                                                   NULL)));
  gtk_shortcut_controller_add_shortcut (
    GTK_SHORTCUT_CONTROLLER (c),
    gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control><Shift>z|<Control>y"),
                      gtk_callback_action_new (shortcut_call, (gpointer) redo, NULL)));
  gtk_widget_add_controller (page, c);
}

void
cs_ui_update_undo (GtkWidget *undo_button, GtkWidget *redo_button, CsHistory *history)
{
  const char *u = cs_history_undo_label (history), *r = cs_history_redo_label (history);
  g_autofree char *ut = u ? g_strdup_printf (_("Undo %s"), u) : g_strdup (_("Nothing to undo"));
  g_autofree char *rt = r ? g_strdup_printf (_("Redo %s"), r) : g_strdup (_("Nothing to redo"));
  gtk_widget_set_sensitive (undo_button, u != NULL);
  gtk_widget_set_sensitive (redo_button, r != NULL);
  gtk_widget_set_tooltip_text (undo_button, ut);
  gtk_widget_set_tooltip_text (redo_button, rt);
}

static void
mirror_label (GtkLabel *label, GParamSpec *pspec, gpointer user_data)
{
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), gtk_label_get_label (label));
}

void
cs_ui_full_text_tooltip (GtkLabel *label)
{
  g_signal_connect (label, "notify::label", G_CALLBACK (mirror_label), NULL);
  mirror_label (label, NULL, NULL);
}

GtkWidget *
cs_ui_tabs (GtkStack *stack)
{
  GtkWidget *switcher = gtk_stack_switcher_new ();
  GtkWidget *tabs = gtk_scrolled_window_new ();

  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), stack);
  gtk_widget_add_css_class (switcher, "cs-views");   /* tabs as wide as their titles (style.css) */
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (tabs), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_width (GTK_SCROLLED_WINDOW (tabs), TRUE);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (tabs), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (tabs), switcher);
  return tabs;
}

void
cs_ui_spin_auto (GtkSpinButton *spin, double auto_value)
{
  double *v = g_new (double, 1);
  *v = auto_value;
  g_object_set_data_full (G_OBJECT (spin), "cs-auto-value", v, g_free);
  /* a numeric spin button refuses letters, "auto" included */
  gtk_spin_button_set_numeric (spin, FALSE);
  g_signal_connect (spin, "output", G_CALLBACK (spin_auto_output), NULL);
  g_signal_connect (spin, "input", G_CALLBACK (spin_auto_input), NULL);
  spin_auto_output (spin, NULL);
}


/* ---- drop-downs bound to settings ---- */

static gboolean
choice_to_position (GBinding *b, const GValue *from, GValue *to, gpointer table)
{
  const CsUiChoice *c = table;
  for (guint i = 0; c[i].name; i++)
    if (c[i].value == g_value_get_int (from))
      {
        g_value_set_uint (to, i);
        return TRUE;
      }
  return FALSE;
}

static gboolean
position_to_choice (GBinding *b, const GValue *from, GValue *to, gpointer table)
{
  const CsUiChoice *c = table;
  guint pos = g_value_get_uint (from);
  for (guint i = 0; c[i].name; i++)
    if (i == pos)
      {
        g_value_set_int (to, c[i].value);
        return TRUE;
      }
  return FALSE;
}

void
cs_ui_bind_choice (GtkDropDown *drop, GObject *settings, const char *prop, const CsUiChoice *choices)
{
  g_autoptr(GtkStringList) model = gtk_string_list_new (NULL);
  for (guint i = 0; choices[i].name; i++)
    gtk_string_list_append (model, g_dgettext (GETTEXT_PACKAGE, choices[i].name));
  gtk_drop_down_set_model (drop, G_LIST_MODEL (model));
  g_object_bind_property_full (settings, prop, drop, "selected", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE,
                               choice_to_position, position_to_choice, (gpointer) choices, NULL);
}

static gboolean
string_to_position (GBinding *b, const GValue *from, GValue *to, gpointer data)
{
  GPtrArray *values = data;
  const char *v = g_value_get_string (from);
  for (guint i = 0; i < values->len; i++)
    if (g_strcmp0 (values->pdata[i], v ? v : "") == 0)
      {
        g_value_set_uint (to, i);
        return TRUE;
      }
  return FALSE;
}

static gboolean
position_to_string (GBinding *b, const GValue *from, GValue *to, gpointer data)
{
  GPtrArray *values = data;
  guint pos = g_value_get_uint (from);
  if (pos == GTK_INVALID_LIST_POSITION || pos >= values->len)
    return FALSE;   /* the list is being refilled */
  g_value_set_string (to, values->pdata[pos]);
  return TRUE;
}

void
cs_ui_bind_strings (GtkDropDown *drop, GListModel *model, GObject *settings, const char *prop, GPtrArray *values)
{
  GBinding *b;
  gtk_drop_down_set_model (drop, model);
  /* values live as long as the drop-down, which outlives the binding */
  g_object_set_data_full (G_OBJECT (drop), "cs-ui-values", g_ptr_array_ref (values), (GDestroyNotify) g_ptr_array_unref);
  b = g_object_bind_property_full (settings, prop, drop, "selected", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE,
                                   string_to_position, position_to_string, values, NULL);
  g_object_set_data (G_OBJECT (drop), "cs-ui-binding", b);
}

void
cs_ui_sync_strings (GtkDropDown *drop)
{
  GBinding *b = g_object_get_data (G_OBJECT (drop), "cs-ui-binding");
  g_autoptr(GObject) source = b ? g_binding_dup_source (b) : NULL;
  g_auto(GValue) from = G_VALUE_INIT;
  g_auto(GValue) to = G_VALUE_INIT;
  if (!source)
    return;
  g_value_init (&from, G_TYPE_STRING);
  g_value_init (&to, G_TYPE_UINT);
  g_object_get_property (source, g_binding_get_source_property (b), &from);
  /* the binding's own rule, with the values it was given */
  GPtrArray *values = g_object_get_data (G_OBJECT (drop), "cs-ui-values");
  if (values && string_to_position (b, &from, &to, values))
    gtk_drop_down_set_selected (drop, g_value_get_uint (&to));
}
