#pragma once

#include <adwaita.h>

#include "cs-application.h"
#include "cs-geometry-page.h"
#include "cs-mapper-page.h"
#include "cs-steering-page.h"
#include "cs-patching-page.h"
#include "cs-model.h"
#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_WINDOW (cs_window_get_type ())
G_DECLARE_FINAL_TYPE (CsWindow, cs_window, CS, WINDOW, AdwApplicationWindow)

CsWindow   *cs_window_new            (CsApplication *app);
void        cs_window_open_model     (CsWindow      *self,
                                      const char    *path);
CsModel    *cs_window_get_model      (CsWindow      *self);
/* The document the pages share. */
CsSession  *cs_window_get_session    (CsWindow      *self);
CsGeometryPage *cs_window_get_geometry_page (CsWindow *self);
gboolean    cs_window_get_busy       (CsWindow      *self);
const char *cs_window_get_status_text (CsWindow     *self);
const char *cs_window_get_error_text (CsWindow      *self);
GStrv       cs_window_dup_page_titles (CsWindow     *self);
gboolean    cs_window_open_workspace (CsWindow      *self,
                                      const char    *path,
                                      GError       **error);
gboolean    cs_window_save_workspace (CsWindow      *self,
                                      const char    *path,
                                      GError       **error);
CsMapperPage *cs_window_get_mapper_page (CsWindow  *self);
CsSteeringPage *cs_window_get_steering_page (CsWindow *self);
CsPatchingPage *cs_window_get_patching_page (CsWindow *self);
gboolean    cs_window_save_png       (CsWindow      *self,
                                      const char    *path,
                                      GError       **error);

G_END_DECLS
