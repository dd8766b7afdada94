#define G_LOG_DOMAIN "conceptscope"

#include "cs-settings-fields.h"

void
cs_settings_fields_install (GObjectClass *klass, const CsSettingsField *fields, guint n)
{
  GParamFlags fl = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  for (guint i = 0; i < n; i++)
    {
      const CsSettingsField *f = &fields[i];
      GParamSpec *ps = f->type == G_TYPE_STRING   ? g_param_spec_string (f->name, NULL, NULL, NULL, fl)
                       : f->type == G_TYPE_DOUBLE ? g_param_spec_double (f->name, NULL, NULL, f->min, f->max, f->min, fl)
                       : f->type == G_TYPE_INT    ? g_param_spec_int (f->name, NULL, NULL, -1, G_MAXINT, 0, fl)
                                                  : g_param_spec_boolean (f->name, NULL, NULL, FALSE, fl);
      g_object_class_install_property (klass, i + 1, ps);
    }
}

void
cs_settings_fields_get (GObject *object, const CsSettingsField *fields, guint id, GValue *value)
{
  const CsSettingsField *f = &fields[id - 1];
  gpointer p = G_STRUCT_MEMBER_P (object, f->offset);
  switch (f->type)
    {
    case G_TYPE_STRING: g_value_set_string (value, *(char **) p); break;
    case G_TYPE_DOUBLE: g_value_set_double (value, *(double *) p); break;
    case G_TYPE_INT: g_value_set_int (value, *(int *) p); break;
    default: g_value_set_boolean (value, *(gboolean *) p); break;
    }
}

void
cs_settings_fields_set (GObject *object, const CsSettingsField *fields, guint id, const GValue *value,
                        GParamSpec *pspec)
{
  const CsSettingsField *f = &fields[id - 1];
  gpointer p = G_STRUCT_MEMBER_P (object, f->offset);
  gboolean changed = FALSE;
  switch (f->type)
    {
    case G_TYPE_STRING:
      if ((changed = g_strcmp0 (*(char **) p, g_value_get_string (value)) != 0))
        {
          g_free (*(char **) p);
          *(char **) p = g_value_dup_string (value);
        }
      break;
    case G_TYPE_DOUBLE:
      if ((changed = *(double *) p != g_value_get_double (value)))
        *(double *) p = g_value_get_double (value);
      break;
    case G_TYPE_INT:
      if ((changed = *(int *) p != g_value_get_int (value)))
        *(int *) p = g_value_get_int (value);
      break;
    default:
      if ((changed = !*(gboolean *) p != !g_value_get_boolean (value)))
        *(gboolean *) p = g_value_get_boolean (value);
      break;
    }
  if (changed)
    g_object_notify_by_pspec (object, pspec);
}

void
cs_settings_fields_free (GObject *object, const CsSettingsField *fields, guint n)
{
  for (guint i = 0; i < n; i++)
    if (fields[i].type == G_TYPE_STRING)
      g_clear_pointer ((char **) G_STRUCT_MEMBER_P (object, fields[i].offset), g_free);
}
