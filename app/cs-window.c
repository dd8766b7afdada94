#define G_LOG_DOMAIN "conceptscope"

#include <glib/gi18n.h>

#include "cs-backend.h"
#include "cs-error.h"
#include "cs-build-config.h"
#include "cs-geometry-page.h"
#include "cs-mapper-page.h"
#include "cs-steering-page.h"
#include "cs-patching-page.h"
#include "cs-window.h"
#include "cs-workspace.h"

#define MAX_RECENT 10

struct _CsWindow
{
  AdwApplicationWindow  parent_instance;

  AdwViewStack         *stack;
  GtkMenuButton        *recent_button;
  GtkRevealer          *error_revealer;
  GtkLabel             *error_label;
  GtkLabel             *model_label;
  GtkLabel             *backend_label;
  GtkSpinner           *spinner;
  CsGeometryPage       *geometry_page;
  CsMapperPage         *mapper_page;
  CsSteeringPage       *steering_page;
  CsPatchingPage       *patching_page;

  GSettings            *settings;
  CsSession            *session;      /* the document the pages share */
  GCancellable         *loading;
  gboolean              gpu_probed;    /* the CUDA module has been looked for */
  gboolean              gpu_probing;
  GtkFileChooserNative *chooser;
};

enum {
  PROP_0,
  PROP_MODEL,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsWindow, cs_window, ADW_TYPE_APPLICATION_WINDOW)

static void
show_error (CsWindow *self, const char *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}

static CsDevice
preferred_device (CsWindow *self)
{
  g_autofree char *s = g_settings_get_string (self->settings, "device");
  gboolean ok;
  return cs_device_from_string (s, &ok);
}

static void
update_status (CsWindow *self)
{
  /* The backend is described once the GPU has been probed (off the main
   * thread, beside the first model's loading and computing). */
  g_autofree char *backend_text = NULL;
  gboolean backend = cs_session_get_model (self->session) != NULL && self->gpu_probed;

  if (backend)
    {
      /* the engine's cs_backend_describe() in the interface's language */
      CsDevice device = preferred_device (self);
      int threads = cs_backend_get_threads ();
      const char *gpu = cs_backend_gpu_name (NULL);
      if (device != CS_DEVICE_CPU && gpu)
        backend_text = g_strdup_printf (_("Compute: GPU (%s, CUDA)"), gpu);
      else if (device == CS_DEVICE_CPU)
        backend_text = g_strdup_printf (g_dngettext (NULL, "Compute: CPU (OpenBLAS %s kernels, %d thread)",
                                                     "Compute: CPU (OpenBLAS %s kernels, %d threads)", threads),
                                        cs_backend_blas_core (), threads);
      else
        backend_text = g_strdup_printf (g_dngettext (NULL, "Compute: CPU (OpenBLAS %s kernels, %d thread; no usable GPU)",
                                                     "Compute: CPU (OpenBLAS %s kernels, %d threads; no usable GPU)",
                                                     threads),
                                        cs_backend_blas_core (), threads);
    }

  if (cs_session_get_model (self->session))
    {
      const CsModelConfig *c = cs_model_get_config (cs_session_get_model (self->session));
      g_autofree char *text =
        g_strdup_printf (_("%s · %s · %d layers · hidden size %d · vocabulary %d"),
                         cs_model_get_name (cs_session_get_model (self->session)), c->architecture,
                         c->n_layers, c->hidden, c->vocab);
      gtk_label_set_text (self->model_label, text);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_label), cs_model_get_path (cs_session_get_model (self->session)));
    }
  else
    gtk_label_set_text (self->model_label, _("No model loaded"));
  gtk_label_set_text (self->backend_label, backend_text ? backend_text : "");
  if (backend)
    {
      const char *reason = NULL;
      cs_backend_gpu_name (&reason);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->backend_label), reason);
    }
}

static void set_busy (CsWindow *self, gboolean busy);
static void remember_model (CsWindow *self, const char *path);

static void
rebuild_recent_menu (CsWindow *self)
{
  g_auto(GStrv) recent = g_settings_get_strv (self->settings, "recent-models");
  g_auto(GStrv) workspaces = g_settings_get_strv (self->settings, "recent-workspaces");
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenu) section = g_menu_new ();
  g_autoptr(GMenu) ws_section = g_menu_new ();

  for (guint i = 0; recent[i]; i++)
    {
      g_autofree char *label = g_path_get_basename (recent[i]);
      g_autoptr(GMenuItem) item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target (item, "win.open-recent", "s", recent[i]);
      g_menu_append_item (section, item);
    }
  for (guint i = 0; workspaces[i]; i++)
    {
      g_autofree char *label = g_path_get_basename (workspaces[i]);
      g_autoptr(GMenuItem) item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target (item, "win.open-recent-workspace", "s", workspaces[i]);
      g_menu_append_item (ws_section, item);
    }
  g_menu_append_section (menu, _("Models"), G_MENU_MODEL (section));
  if (workspaces[0])
    g_menu_append_section (menu, _("Workspaces"), G_MENU_MODEL (ws_section));
  if (recent[0] || workspaces[0])
    g_menu_append (menu, _("Clear Recent Models"), "win.clear-recent");
  gtk_menu_button_set_menu_model (self->recent_button, G_MENU_MODEL (menu));
  gtk_widget_set_sensitive (GTK_WIDGET (self->recent_button), recent[0] != NULL || workspaces[0] != NULL);
}

static void
remember_workspace (CsWindow *self, const char *path)
{
  g_auto(GStrv) old = g_settings_get_strv (self->settings, "recent-workspaces");
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_auto(GStrv) recent = NULL;
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  guint n = 1;

  g_strv_builder_add (b, abs);
  for (guint i = 0; old[i] && n < MAX_RECENT; i++)
    if (!g_str_equal (old[i], abs))
      {
        g_strv_builder_add (b, old[i]);
        n++;
      }
  recent = g_strv_builder_end (b);
  g_settings_set_strv (self->settings, "recent-workspaces", (const char * const *) recent);
}

gboolean
cs_window_save_workspace (CsWindow *self, const char *path, GError **error)
{
  if (!cs_geometry_page_save_workspace (self->geometry_page, path, error) ||
      !cs_mapper_page_save_to (self->mapper_page, path, error) ||
      !cs_steering_page_save_to (self->steering_page, path, error) ||
      !cs_patching_page_save_to (self->patching_page, path, error))
    return FALSE;
  remember_workspace (self, path);
  return TRUE;
}

gboolean
cs_window_open_workspace (CsWindow *self, const char *path, GError **error)
{
  g_autoptr(CsWorkspace) ws = cs_workspace_load (path, error);
  g_autoptr(CsModel) model = NULL;

  if (!ws)
    return FALSE;
  if (!ws->model_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", _("The workspace does not say which model it belongs to"));
      return FALSE;
    }
  if (cs_session_get_model (self->session) &&
      g_str_equal (cs_model_get_path (cs_session_get_model (self->session)), ws->model_path))
    model = g_object_ref (cs_session_get_model (self->session));
  else if (!(model = cs_model_open (ws->model_path, error)))
    return FALSE;
  if (!cs_geometry_page_open_workspace (self->geometry_page, model, path, error))
    return FALSE;
  {
    /* a Mapper graph saved with it, if any */
    g_autoptr(GError) local = NULL;
    if (!cs_mapper_page_load_from (self->mapper_page, path, &local) &&
        !g_error_matches (local, CS_ERROR, CS_ERROR_MISSING))
      show_error (self, local->message);
    g_clear_error (&local);
    if (!cs_steering_page_load_from (self->steering_page, path, &local) &&
        !g_error_matches (local, CS_ERROR, CS_ERROR_MISSING))
      show_error (self, local->message);
    g_clear_error (&local);
    if (!cs_patching_page_load_from (self->patching_page, path, &local) &&
        !g_error_matches (local, CS_ERROR, CS_ERROR_MISSING))
      show_error (self, local->message);
  }
  if (self->loading)
    g_cancellable_cancel (self->loading);
  g_clear_object (&self->loading);
  set_busy (self, FALSE);
  remember_model (self, cs_model_get_path (model));
  remember_workspace (self, path);
  update_status (self);
  adw_view_stack_set_visible_child_name (self->stack, "geometry");
  return TRUE;
}

static void
workspace_chooser_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  CsWindow *self = user_data;
  gboolean save = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "save"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      g_autoptr(GError) error = NULL;
      if (path && !(save ? cs_window_save_workspace (self, path, &error) : cs_window_open_workspace (self, path, &error)))
        {
          g_autofree char *msg = g_strdup_printf (save ? _("Could not save the workspace: %s")
                                                       : _("Could not open the workspace: %s"), error->message);
          show_error (self, msg);
        }
    }
  g_object_unref (dialog);
}

static void
workspace_action (GtkWidget *widget, const char *action, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  gboolean save = g_str_equal (action, "win.save-workspace");
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (save ? _("Save the Workspace") : _("Open a Workspace"), GTK_WINDOW (self),
                                 save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
                                 save ? _("_Save") : _("_Open"), _("_Cancel"));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("ConceptScope workspaces (HDF5)"));
  gtk_file_filter_add_pattern (filter, "*.h5");
  gtk_file_filter_add_pattern (filter, "*.hdf5");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  if (save)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "workspace.h5");
  g_object_set_data (G_OBJECT (chooser), "save", GINT_TO_POINTER (save));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (workspace_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
open_recent_workspace_action (GtkWidget *widget, const char *action, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  if (!cs_window_open_workspace (self, g_variant_get_string (param, NULL), &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Could not open the workspace: %s"), error->message);
      show_error (self, msg);
    }
}

static void
remember_model (CsWindow *self, const char *path)
{
  g_auto(GStrv) old = g_settings_get_strv (self->settings, "recent-models");
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_auto(GStrv) recent = NULL;
  guint n = 1;

  g_strv_builder_add (b, path);
  for (guint i = 0; old[i] && n < MAX_RECENT; i++)
    if (!g_str_equal (old[i], path))
      {
        g_strv_builder_add (b, old[i]);
        n++;
      }
  recent = g_strv_builder_end (b);
  g_settings_set_strv (self->settings, "recent-models", (const char * const *) recent);
  g_settings_set_string (self->settings, "last-model", path);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  CsModel *model = cs_model_open (task_data, &error);

  if (model)
    g_task_return_pointer (task, model, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
set_busy (CsWindow *self, gboolean busy)
{
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(CsWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;
  g_clear_object (&self->loading);

  if (!model)
    {
      g_autofree char *msg = g_strdup_printf (_("Could not open the model: %s"), error->message);
      show_error (self, msg);
    }
  else
    {
      gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
      remember_model (self, cs_model_get_path (model));
      /* the Geometry page follows the session's model and computes */
      cs_session_set_model (self->session, model);
    }
  set_busy (self, FALSE);
}

/* Loading the CUDA module takes a moment (0.4 s without a driver): off the
 * main thread, and not in the way of the model's loading and first
 * computation, which start at once. */
static void
gpu_probe_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  cs_backend_gpu_name (NULL);
  g_task_return_boolean (task, TRUE);
}

static void
gpu_probe_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(CsWindow) self = user_data;
  self->gpu_probed = TRUE;
  update_status (self);
}

void
cs_window_open_model (CsWindow   *self,
                      const char *path)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CS_IS_WINDOW (self));
  g_return_if_fail (path != NULL);

  if (self->loading)
    g_cancellable_cancel (self->loading);
  g_clear_object (&self->loading);
  self->loading = g_cancellable_new ();

  task = g_task_new (self, self->loading, load_done, g_object_ref (self));
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, load_thread);
  set_busy (self, TRUE);
  if (!self->gpu_probing)
    {
      g_autoptr(GTask) probe = g_task_new (self, NULL, gpu_probe_done, g_object_ref (self));
      self->gpu_probing = TRUE;
      g_task_run_in_thread (probe, gpu_probe_thread);
    }
}

static void
chooser_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  CsWindow *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      if (path)
        cs_window_open_model (self, path);
    }
  g_clear_object (&self->chooser);
}

static void
open_model_action (GtkWidget *widget, const char *action, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);

  if (self->chooser)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Open a Hugging Face Model Folder"),
                                               GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
open_recent_action (GtkWidget *widget, const char *action, GVariant *param)
{
  cs_window_open_model (CS_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
clear_recent_action (GtkWidget *widget, const char *action, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  g_settings_set_strv (self->settings, "recent-models", NULL);
  g_settings_set_strv (self->settings, "recent-workspaces", NULL);
}

static void
show_page_action (GtkWidget *widget, const char *action, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  adw_view_stack_set_visible_child_name (self->stack, g_variant_get_string (param, NULL));
}

static void
dismiss_error_clicked (CsWindow *self)
{
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
}

static void
on_device_changed (CsWindow *self)
{
  update_status (self);
}

static void
on_recent_changed (GSettings *settings, const char *key, gpointer user_data)
{
  rebuild_recent_menu (user_data);
}

static gboolean
cs_window_close_request (GtkWindow *window)
{
  CsWindow *self = CS_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  if (self->loading)
    g_cancellable_cancel (self->loading);
  return GTK_WINDOW_CLASS (cs_window_parent_class)->close_request (window);
}

/* "application" is not a construct property, so the settings it carries are
 * taken here rather than in constructed(). */
static void
cs_window_setup (CsWindow      *self,
                 CsApplication *app)
{
  self->settings = g_object_ref (cs_application_get_settings (app));
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  g_signal_connect_object (self->settings, "changed::recent-models",
                           G_CALLBACK (on_recent_changed), self, 0);
  g_signal_connect_object (self->settings, "changed::recent-workspaces",
                           G_CALLBACK (on_recent_changed), self, 0);
  g_signal_connect_object (self->settings, "changed::device",
                           G_CALLBACK (on_device_changed), self, G_CONNECT_SWAPPED);
  rebuild_recent_menu (self);
  update_status (self);
}

static void
cs_window_dispose (GObject *object)
{
  CsWindow *self = CS_WINDOW (object);

  if (self->loading)
    g_cancellable_cancel (self->loading);
  g_clear_object (&self->loading);
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_WINDOW);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (cs_window_parent_class)->dispose (object);
}

static void
cs_window_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsWindow *self = CS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_object (value, self->session ? cs_session_get_model (self->session) : NULL);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->loading != NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_window_class_init (CsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = cs_window_dispose;
  object_class->get_property = cs_window_get_property;
  window_class->close_request = cs_window_close_request;

  properties[PROP_MODEL] =
    g_param_spec_object ("model", NULL, NULL, CS_TYPE_MODEL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CS_TYPE_GEOMETRY_PAGE);
  g_type_ensure (CS_TYPE_MAPPER_PAGE);
  g_type_ensure (CS_TYPE_STEERING_PAGE);
  g_type_ensure (CS_TYPE_PATCHING_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/conceptscope/ConceptScope/ui/cs-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CsWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, recent_button);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, model_label);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, backend_label);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, geometry_page);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, mapper_page);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, steering_page);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, patching_page);
  gtk_widget_class_bind_template_callback (widget_class, dismiss_error_clicked);

  gtk_widget_class_install_action (widget_class, "win.open-model", NULL, open_model_action);
  gtk_widget_class_install_action (widget_class, "win.open-recent", "s", open_recent_action);
  gtk_widget_class_install_action (widget_class, "win.clear-recent", NULL, clear_recent_action);
  gtk_widget_class_install_action (widget_class, "win.save-workspace", NULL, workspace_action);
  gtk_widget_class_install_action (widget_class, "win.open-workspace", NULL, workspace_action);
  gtk_widget_class_install_action (widget_class, "win.open-recent-workspace", "s", open_recent_workspace_action);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);
}

static void
on_session_model (CsWindow *self)
{
  update_status (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

static void
cs_window_init (CsWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->session = cs_session_new ();
  g_signal_connect_object (self->session, "notify::model", G_CALLBACK (on_session_model), self, G_CONNECT_SWAPPED);
  cs_geometry_page_set_session (self->geometry_page, self->session);
  cs_mapper_page_set_session (self->mapper_page, self->session);
  cs_steering_page_set_session (self->steering_page, self->session);
  cs_patching_page_set_session (self->patching_page, self->session);
}

CsWindow *
cs_window_new (CsApplication *app)
{
  CsWindow *self = g_object_new (CS_TYPE_WINDOW, "application", app, NULL);
  cs_window_setup (self, app);
  return self;
}

CsGeometryPage *
cs_window_get_geometry_page (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return self->geometry_page;
}

CsMapperPage *
cs_window_get_mapper_page (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return self->mapper_page;
}

CsSteeringPage *
cs_window_get_steering_page (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return self->steering_page;
}

CsPatchingPage *
cs_window_get_patching_page (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return self->patching_page;
}

CsModel *
cs_window_get_model (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return cs_session_get_model (self->session);
}

CsSession *
cs_window_get_session (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return self->session;
}

gboolean
cs_window_get_busy (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), FALSE);
  return self->loading != NULL;
}

const char *
cs_window_get_status_text (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return gtk_label_get_text (self->model_label);
}

const char *
cs_window_get_error_text (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  if (!gtk_revealer_get_reveal_child (self->error_revealer))
    return NULL;
  return gtk_label_get_text (self->error_label);
}

GStrv
cs_window_dup_page_titles (CsWindow *self)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_autoptr(GtkSelectionModel) pages = adw_view_stack_get_pages (self->stack);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (pages));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      g_strv_builder_add (b, adw_view_stack_page_get_title (page));
    }
  return g_strv_builder_end (b);
}

gboolean
cs_window_save_png (CsWindow    *self,
                    const char  *path,
                    GError     **error)
{
  GtkWidget *widget = GTK_WIDGET (self);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;

  if (width <= 0 || height <= 0 || !(renderer = gtk_native_get_renderer (GTK_NATIVE (self))))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window is not shown yet");
      return FALSE;
    }
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (!node)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window drew nothing");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "could not write %s", path);
      return FALSE;
    }
  return TRUE;
}
