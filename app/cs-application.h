#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CS_TYPE_APPLICATION (cs_application_get_type ())
G_DECLARE_FINAL_TYPE (CsApplication, cs_application, CS, APPLICATION, AdwApplication)

CsApplication *cs_application_new         (GApplicationFlags  flags);
GSettings     *cs_application_get_settings (CsApplication     *self);
void           cs_application_setup_i18n  (void);

G_END_DECLS
