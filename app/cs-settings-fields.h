#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The settings objects (a page's side panel as values) as tables: each
 * property a field of the instance struct, read, written (notifying only
 * on change) and freed through the table. Property ids are the table's
 * positions + 1. Strings, ints (≥ −1), booleans and doubles in [min, max]. */
typedef struct
{
  const char *name;
  GType       type;     /* G_TYPE_STRING, G_TYPE_INT, G_TYPE_BOOLEAN or G_TYPE_DOUBLE */
  gsize       offset;
  double      min, max; /* doubles only */
} CsSettingsField;

void cs_settings_fields_install (GObjectClass          *klass,
                                 const CsSettingsField *fields,
                                 guint                  n);
void cs_settings_fields_get     (GObject               *object,
                                 const CsSettingsField *fields,
                                 guint                  id,
                                 GValue                *value);
void cs_settings_fields_set     (GObject               *object,
                                 const CsSettingsField *fields,
                                 guint                  id,
                                 const GValue          *value,
                                 GParamSpec            *pspec);
void cs_settings_fields_free    (GObject               *object,
                                 const CsSettingsField *fields,
                                 guint                  n);

G_END_DECLS
