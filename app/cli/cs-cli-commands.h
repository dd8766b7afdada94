#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *name;
  const char *summary;
  int       (*run) (int argc, char **argv);
} CsCliCommand;

extern const CsCliCommand cs_cli_commands[];

/* Shared helpers for the subcommands. */

/* The --device option every command that computes takes, and its reading:
 * FALSE (after saying so on stderr, for exit status 2) for anything but
 * auto, cpu or cuda. */
#define CS_CLI_DEVICE_OPTION(var) \
  { "device", 0, 0, G_OPTION_ARG_STRING, &(var), "auto (the default: the GPU when usable), cpu or cuda", "DEVICE" }
#include "cs-backend.h"
gboolean cs_cli_device     (const char  *command,
                            const char  *arg,
                            CsDevice    *out);
int   cs_cli_fail          (GError      *error);
char *cs_cli_resolve_model (const char  *arg);
void  cs_cli_print_json    (JsonNode    *node);
/* Progress of long work on stderr when it is a terminal ("\rsteering  42 %"),
 * nothing otherwise (scripts, pipes, tests); label: a static string.
 * cs_cli_progress_done ends the line. */
void  cs_cli_progress      (double       fraction,
                            gpointer     label);
void  cs_cli_progress_done (void);
/* Said after the time left when the work is long (a static string), e.g.
 * that it runs on the CPU where a GPU would be far faster. */
void  cs_cli_progress_hint (const char *hint);
/* Ctrl-C (SIGINT) and SIGTERM cancel this instead of killing the process, so
 * long work stops between steps and leaves no half-written file; a second
 * Ctrl-C kills at once. cs_cli_watch_signals runs in main before any thread. */
void          cs_cli_watch_signals (void);
GCancellable *cs_cli_cancellable   (void);
/* The exit status for a failure: 130 and "cancelled" when the user
 * interrupted, else the message and 1. */
int   cs_cli_fail_or_cancel (GError     *error);
/* Text for a command from a file, or standard input for "-": the whole
 * file, checked to be UTF-8 without NUL characters (the message names the
 * line). No argument-length limit applies, unlike text given on the command line. */
char *cs_cli_read_text     (const char  *path,
                            GError     **error);
/* The lines of a text: split at \n, a trailing \r dropped (CRLF files), no
 * line after a final newline. */
char **cs_cli_split_lines  (const char  *text);

int   cs_cli_info          (int argc, char **argv);
int   cs_cli_tokenize      (int argc, char **argv);
int   cs_cli_run           (int argc, char **argv);
int   cs_cli_forward       (int argc, char **argv);
int   cs_cli_geometry      (int argc, char **argv);
int   cs_cli_figure        (int argc, char **argv);
int   cs_cli_sae_encode    (int argc, char **argv);
int   cs_cli_sae           (int argc, char **argv);

int   cs_cli_mapper        (int argc, char **argv);
int   cs_cli_steer         (int argc, char **argv);
int   cs_cli_patch         (int argc, char **argv);
int   cs_cli_fv            (int argc, char **argv);

typedef struct _CsTokenizer CsTokenizer;
CsTokenizer *cs_cli_load_tokenizer (const char *model_path,
                                    const char *tokenizer_file,
                                    GError    **error);

/* The preamble of every command that works on a model: the MODEL argument
 * (rest[0]; none or "-": the sample model) opened and, when tok is not
 * NULL, its tokenizer. NULL with the error. path (may be NULL) receives
 * the resolved folder. */
typedef struct _CsModel CsModel;
CsModel     *cs_cli_open_model     (char      **rest,
                                    char      **path,
                                    CsTokenizer **tok,
                                    GError    **error);

/* The whitened space of a workspace's model (opened into *model), checked
 * against the workspace's shapes. */
#include "cs-workspace.h"
CsGeometrySpace *cs_cli_workspace_space (CsWorkspace *ws,
                                         CsModel    **model,
                                         GError     **error);

G_END_DECLS
