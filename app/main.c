#include <glib/gi18n.h>
#include <locale.h>

#include "cs-application.h"
#include "cs-backend.h"
#include "cs-whiten.h"
#include "cs-build-config.h"

int
main (int argc, char **argv)
{
  g_autoptr(CsApplication) app = NULL;
  int status;

  cs_backend_setup_process (argv);
  cs_application_setup_i18n ();
  app = cs_application_new (G_APPLICATION_HANDLES_OPEN);
  status = g_application_run (G_APPLICATION (app), argc, argv);
  cs_whiten_wait_abandoned ();
  return status;
}
