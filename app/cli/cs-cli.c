#define G_LOG_DOMAIN "conceptscope-cli"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "cs-backend.h"
#include "cs-build-config.h"
#include "cs-cli-commands.h"
#include "cs-paths.h"
#include "cs-whiten.h"

static const CsCliCommand *
find_command (const char *name)
{
  for (guint i = 0; cs_cli_commands[i].name; i++)
    if (g_str_equal (cs_cli_commands[i].name, name))
      return &cs_cli_commands[i];
  return NULL;
}

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: conceptscope-cli COMMAND [OPTIONS…]\n\n");
  fprintf (out, "ConceptScope on the command line: the same engine as the application, headless.\n\n");
  fprintf (out, "Commands:\n");
  for (guint i = 0; cs_cli_commands[i].name; i++)
    fprintf (out, "  %-10s %s\n", cs_cli_commands[i].name, cs_cli_commands[i].summary);
  fprintf (out, "\nRun 'conceptscope-cli COMMAND --help' for a command's options.\n");
  fprintf (out, "MODEL is a Hugging Face model folder; '-' or nothing means the embedded sample model.\n");
}

int
main (int argc, char **argv)
{
  const CsCliCommand *cmd;

  cs_backend_setup_process (argv);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, CS_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      printf ("conceptscope-cli %s\n", PACKAGE_VERSION);
      return 0;
    }
  cmd = find_command (argv[1]);
  if (!cmd)
    {
      fprintf (stderr, "conceptscope-cli: unknown command '%s'\n\n", argv[1]);
      print_usage (stderr);
      return 2;
    }
  cs_cli_watch_signals ();
  {
    int status = cmd->run (argc - 1, argv + 1);
    if (status == 130)
      {
        /* interrupted: nothing was written; leave at once, without the
         * libraries' teardown, which must not run under a LAPACK call a
         * cancelled whitening left to finish */
        fflush (NULL);
        _exit (130);
      }
    cs_whiten_wait_abandoned ();
    return status;
  }
}
