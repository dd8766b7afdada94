#define G_LOG_DOMAIN "conceptscope"

/* The Mapper page's side panel: its widgets bound to the page's
 * CsMapperSettings, its choices filled from the geometry (categories,
 * concept vectors) or from a file of points, and the file itself. */

#include <glib/gi18n.h>

#include "cs-build-config.h"
#include "cs-categories.h"
#include "cs-hdf5.h"
#include "cs-mapper-page-private.h"
#include "cs-ui.h"

/* The drop-downs' choices and the engine's values they stand for. */
static const CsUiChoice covers[] = {
  { CS_COVER_UNIFORM, N_("Uniform") },
  { CS_COVER_BALANCED, N_("Balanced (quantiles)") },
  { -1, NULL },
};
static const CsUiChoice clusters[] = {
  { CS_CLUSTER_DBSCAN, "DBSCAN" },
  { CS_CLUSTER_SINGLE_LINKAGE, N_("Single linkage (histogram gap)") },
  { -1, NULL },
};

static void
bind_spin (CsMapperPage *self, GtkSpinButton *spin, const char *prop)
{
  g_object_bind_property (self->settings, prop, spin, "value", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
}

/* ---- the side panel and its settings ---- */

static void
sync_category_checks (CsMapperPage *self)
{
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  const char * const *names = cs_mapper_settings_get_categories (self->settings);
  self->filling++;
  for (guint i = 0; geo && i < self->category_checks->len; i++)
    gtk_check_button_set_active (self->category_checks->pdata[i],
                                 names && g_strv_contains (names, cs_category_set_get (geo->categories, i)->name));
  self->filling--;
}

static void
category_toggled (CsMapperPage *self)
{
  CsGeometry *geo = cs_session_get_geometry (self->session);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  if (self->filling || !geo)
    return;
  for (guint i = 0; i < self->category_checks->len; i++)
    if (gtk_check_button_get_active (self->category_checks->pdata[i]))
      g_ptr_array_add (names, cs_category_set_get (geo->categories, i)->name);
  g_ptr_array_add (names, NULL);
  g_object_set (self->settings, "categories", names->pdata, NULL);
}

static void
on_settings_changed (CsMapperPage *self, GParamSpec *pspec)
{
  if (g_str_equal (pspec->name, "colour"))
    {
      cs_mapper_page_refresh_figure (self, TRUE);
      return;
    }
  if (g_str_equal (pspec->name, "categories"))
    sync_category_checks (self);
  cs_mapper_page_schedule_build (self);
}

/* The panel's choices from the geometry (its categories and concept
 * vectors) or the file (its coordinates), with the usual defaults:
 * the root's tokens over ℓ̄_mammal × ℓ̄_bird, or a file's first two
 * principal components. */
void
cs_mapper_page_fill_panel (CsMapperPage *self)
{
  CsGeometry *geo = self->session ? cs_session_get_geometry (self->session) : NULL;
  GtkWidget *child;
  const char *l1 = NULL, *l2 = "";
  const char *extra[] = { "pca1", "pca2", "l2", "density", "eccentricity", "knn:5" };
  const char *extra_names[] = { N_("Principal component 1"), N_("Principal component 2"), N_("L2 norm"),
                                N_("Density"), N_("Eccentricity"), N_("Distance to the 5th neighbour") };
  const char *colours[] = { "categories", "lens1", "lens2" };
  const char *colour_names[] = { N_("Categories (pies)"), N_("Lens 1 mean"), N_("Lens 2 mean") };

  self->filling++;
  while ((child = gtk_widget_get_first_child (self->categories_box)))
    gtk_box_remove (GTK_BOX (self->categories_box), child);
  g_ptr_array_set_size (self->category_checks, 0);
  g_ptr_array_set_size (self->lens_specs, 0);
  g_ptr_array_set_size (self->lens2_specs, 0);
  g_ptr_array_set_size (self->colour_specs, 0);
  gtk_string_list_splice (self->lens1_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->lens1_model)), NULL);
  gtk_string_list_splice (self->lens2_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->lens2_model)), NULL);
  gtk_string_list_splice (self->colour_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->colour_model)), NULL);
  gtk_string_list_append (self->lens2_model, _("None"));
  g_ptr_array_add (self->lens2_specs, g_strdup (""));
  for (guint k = 0; k < G_N_ELEMENTS (colours); k++)
    {
      g_ptr_array_add (self->colour_specs, g_strdup (colours[k]));
      gtk_string_list_append (self->colour_model, _(colour_names[k]));
    }
  if (geo)
    {
      for (guint i = 0; i < geo->categories->items->len; i++)
        {
          CsCategory *c = cs_category_set_get (geo->categories, i);
          g_autofree char *label = g_strdup_printf ("%s (%u)", c->name, c->tokens->len);
          GtkWidget *check = gtk_check_button_new_with_label (label);
          gtk_widget_set_sensitive (check, self->file_points == NULL);
          g_signal_connect_swapped (check, "toggled", G_CALLBACK (category_toggled), self);
          gtk_box_append (GTK_BOX (self->categories_box), check);
          g_ptr_array_add (self->category_checks, check);
        }
      for (guint i = 0; i < geo->categories->items->len && !self->file_points; i++)
        if (geo->vectors[i].estimated)
          {
            CsCategory *c = cs_category_set_get (geo->categories, i);
            g_autofree char *label = g_strdup_printf (_("Projection on ℓ̄ %s"), c->name);
            char *spec = g_strdup_printf ("vector:%s", c->name);
            if (!l1 || g_str_equal (c->name, "mammal"))
              l1 = g_str_equal (c->name, "mammal") ? spec : l1;
            if (g_str_equal (c->name, "bird"))
              l2 = spec;
            g_ptr_array_add (self->lens_specs, spec);
            g_ptr_array_add (self->lens2_specs, g_strdup (spec));
            g_ptr_array_add (self->colour_specs, g_strdup (spec));
            gtk_string_list_append (self->lens1_model, label);
            gtk_string_list_append (self->lens2_model, label);
            gtk_string_list_append (self->colour_model, label);
          }
    }
  for (guint k = 0; k < G_N_ELEMENTS (extra); k++)
    {
      g_ptr_array_add (self->lens_specs, g_strdup (extra[k]));
      g_ptr_array_add (self->lens2_specs, g_strdup (extra[k]));
      gtk_string_list_append (self->lens1_model, _(extra_names[k]));
      gtk_string_list_append (self->lens2_model, _(extra_names[k]));
    }
  if (self->file_points)
    {
      /* a file's own coordinates, for low-dimensional points */
      for (int k = 0; k < MIN (self->file_points->d, 8); k++)
        {
          g_autofree char *name = g_strdup_printf (_("Coordinate %d"), k + 1);
          g_ptr_array_add (self->lens_specs, g_strdup_printf ("column:%d", k));
          g_ptr_array_add (self->lens2_specs, g_strdup_printf ("column:%d", k));
          gtk_string_list_append (self->lens1_model, name);
          gtk_string_list_append (self->lens2_model, name);
        }
      l1 = "pca1";   /* the first two principal components */
      l2 = "pca2";
    }
  if (!l1)
    l1 = self->lens_specs->pdata[0];
  {
    /* the root of the hierarchy by default: its tokens hold the children's */
    const char *root[] = { geo && geo->categories->items->len ? cs_category_set_get (geo->categories, 0)->name : NULL,
                           NULL };
    g_object_set (self->settings, "categories", root, "lens1", l1, "lens2", l2, "colour", "categories", NULL);
  }
  self->filling--;
  sync_category_checks (self);
  cs_ui_sync_strings (self->lens1_drop);
  cs_ui_sync_strings (self->lens2_drop);
  cs_ui_sync_strings (self->colour_drop);
}

void
cs_mapper_page_configure (CsMapperPage *self, const char *categories, const char *lens1, const char *lens2,
                          int intervals, double overlap)
{
  g_return_if_fail (CS_IS_MAPPER_PAGE (self));
  self->filling++;
  if (categories)
    {
      g_auto(GStrv) names = g_strsplit (categories, ",", -1);
      g_object_set (self->settings, "categories", names, NULL);
    }
  if (lens1)
    g_object_set (self->settings, "lens1", lens1, NULL);
  if (lens2)
    g_object_set (self->settings, "lens2", lens2, NULL);
  if (intervals > 0)
    g_object_set (self->settings, "intervals", intervals, NULL);
  if (overlap >= 0)
    g_object_set (self->settings, "overlap", overlap, NULL);
  self->filling--;
  cs_mapper_page_start_build (self);
}

gboolean
cs_mapper_page_set_colour (CsMapperPage *self, const char *what)
{
  g_return_val_if_fail (CS_IS_MAPPER_PAGE (self), FALSE);
  for (guint i = 0; i < self->colour_specs->len; i++)
    if (g_str_equal (self->colour_specs->pdata[i], what))
      {
        if (g_str_has_prefix (what, "vector:") && !(self->proj_names && g_strv_contains ((const char * const *) self->proj_names, what + 7)))
          return FALSE;
        g_object_set (self->settings, "colour", what, NULL);
        return TRUE;
      }
  return FALSE;
}

/* ---- points from a file ---- */

void
cs_mapper_page_show_file_mode (CsMapperPage *self)
{
  gboolean file = self->file_points != NULL;
  gtk_widget_set_visible (self->file_box, file);
  gtk_widget_set_visible (self->tokens_button, file);
  if (file)
    {
      g_autofree char *base = g_path_get_basename (self->file_path);
      gulong n = (gulong) self->file_points->n;
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s: %lu point of %d dimensions",
                                                            "%s: %lu points of %d dimensions", n),
                                               base, n, self->file_points->d);
      gtk_label_set_text (self->file_label, text);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->file_label), self->file_path);
    }
}

/* A file's datasets worth offering: numbers of rank ≥ 2, forward's token
 * ids and lengths left out. */
static GStrv
point_datasets (const char *path, GError **error)
{
  g_auto(GStrv) all = cs_h5_list_datasets (path, 2, error);
  GPtrArray *keep;
  if (!all)
    return NULL;
  keep = g_ptr_array_new ();
  for (guint i = 0; all[i]; i++)
    if (!g_str_equal (all[i], "/input_ids") && !g_str_equal (all[i], "/lengths"))
      g_ptr_array_add (keep, g_strdup (all[i]));
  g_ptr_array_add (keep, NULL);
  return (GStrv) g_ptr_array_free (keep, FALSE);
}

gboolean
cs_mapper_page_load_points (CsMapperPage *self, const char *path, const char *dataset, GError **error)
{
  g_autoptr(CsPoints) p = NULL;
  g_auto(GStrv) sets = NULL;
  gboolean csv = g_str_has_suffix (path, ".csv") || g_str_has_suffix (path, ".CSV");
  const char *chosen = dataset;
  CsModel *model = self->session ? cs_session_get_model (self->session) : NULL;

  g_return_val_if_fail (CS_IS_MAPPER_PAGE (self), FALSE);
  if (csv)
    p = cs_points_from_csv (path, error);
  else
    {
      if (!(sets = point_datasets (path, error)))
        return FALSE;
      if (!sets[0])
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("%s holds no dataset of points (numbers with two or more axes)"), path);
          return FALSE;
        }
      if (!chosen)
        {
          /* forward's captures before its logits */
          chosen = sets[0];
          for (guint i = 0; sets[i]; i++)
            if (!g_str_equal (sets[i], "/logits"))
              {
                chosen = sets[i];
                break;
              }
        }
      p = cs_points_from_h5 (path, chosen, error);
    }
  if (!p)
    return FALSE;
  if (p->n < 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s holds fewer than two points"), path);
      return FALSE;
    }
  if (p->token_ids && model)
    {
      /* tokens of another vocabulary are no tokens of this model */
      gint64 vocab = cs_model_get_config (model)->vocab;
      for (gint64 i = 0; i < p->n; i++)
        if (p->token_ids[i] >= vocab)
          {
            g_clear_pointer (&p->token_ids, g_free);
            break;
          }
    }
  g_clear_pointer (&self->file_points, cs_points_free);
  self->file_points = g_steal_pointer (&p);
  g_free (self->file_path);
  self->file_path = g_strdup (path);
  g_free (self->file_dataset);
  self->file_dataset = g_strdup (csv ? NULL : chosen);
  {
    g_autoptr(GtkStringList) list = gtk_string_list_new ((const char * const *) sets);
    guint at = 0;
    for (guint i = 0; sets && sets[i]; i++)
      if (g_str_equal (sets[i], chosen))
        at = i;
    self->filling++;
    gtk_drop_down_set_model (self->dataset_drop, G_LIST_MODEL (list));
    gtk_drop_down_set_selected (self->dataset_drop, at);
    gtk_widget_set_visible (GTK_WIDGET (self->dataset_drop), !csv);
    self->filling--;
  }
  cs_mapper_page_forget_history (self);
  cs_mapper_page_fill_panel (self);
  cs_mapper_page_show_file_mode (self);
  cs_mapper_page_start_build (self);
  return TRUE;
}

void
cs_mapper_page_use_categories (CsMapperPage *self)
{
  g_return_if_fail (CS_IS_MAPPER_PAGE (self));
  g_clear_pointer (&self->file_points, cs_points_free);
  g_clear_pointer (&self->file_path, g_free);
  g_clear_pointer (&self->file_dataset, g_free);
  cs_mapper_page_forget_history (self);
  cs_mapper_page_show_file_mode (self);
  cs_mapper_page_fill_panel (self);
  cs_mapper_page_start_build (self);
}

void
cs_mapper_page_dataset_changed (CsMapperPage *self)
{
  GtkStringObject *o = gtk_drop_down_get_selected_item (self->dataset_drop);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_strdup (self->file_path);
  /* a copy: loading replaces the list the item belongs to */
  g_autofree char *dataset = o ? g_strdup (gtk_string_object_get_string (o)) : NULL;
  if (self->filling || !dataset || !path || g_strcmp0 (dataset, self->file_dataset) == 0)
    return;
  if (!cs_mapper_page_load_points (self, path, dataset, &error))
    cs_mapper_page_set_status (self, error->message, FALSE);
}

static void
points_file_chosen (GtkWidget *owner, const char *path)
{
  CsMapperPage *self = CS_MAPPER_PAGE (owner);
  g_autoptr(GError) error = NULL;
  if (!cs_mapper_page_load_points (self, path, NULL, &error))
    cs_mapper_page_set_status (self, error->message, FALSE);
}

void
cs_mapper_page_points_file_clicked (CsMapperPage *self)
{
  cs_ui_choose_file (GTK_WIDGET (self), _("Points from a File"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL,
                     _("Activations (HDF5) or points (CSV)"), "*.h5 *.hdf5 *.csv", points_file_chosen);
}

void
cs_mapper_page_bind_panel (CsMapperPage *self)
{
  bind_spin (self, self->intervals_spin, "intervals");
  bind_spin (self, self->overlap_spin, "overlap");
  bind_spin (self, self->eps_spin, "eps");
  bind_spin (self, self->min_samples_spin, "min-samples");
  bind_spin (self, self->min_inter_spin, "min-intersection");
  cs_ui_spin_auto (self->eps_spin, 0);
  cs_ui_bind_choice (self->cover_drop, G_OBJECT (self->settings), "cover", covers);
  cs_ui_bind_choice (self->cluster_drop, G_OBJECT (self->settings), "cluster", clusters);
  cs_ui_bind_strings (self->lens1_drop, G_LIST_MODEL (self->lens1_model), G_OBJECT (self->settings), "lens1",
                      self->lens_specs);
  cs_ui_bind_strings (self->lens2_drop, G_LIST_MODEL (self->lens2_model), G_OBJECT (self->settings), "lens2",
                      self->lens2_specs);
  cs_ui_bind_strings (self->colour_drop, G_LIST_MODEL (self->colour_model), G_OBJECT (self->settings), "colour",
                      self->colour_specs);
  g_signal_connect_object (self->settings, "notify", G_CALLBACK (on_settings_changed), self, G_CONNECT_SWAPPED);
}
