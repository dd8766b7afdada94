#define G_LOG_DOMAIN "conceptscope-cli"

#include <stdio.h>

#include "cs-json.h"
#include "cs-cli-commands.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include "cs-paths.h"
#include "cs-workspace.h"

const CsCliCommand cs_cli_commands[] = {
  { "info", "Describe a model: architecture, sizes, dtype, parameter count", cs_cli_info },
  { "tokenize", "Turn text into token ids with the model's tokenizer", cs_cli_tokenize },
  { "run", "Show the next-token distribution for a prompt", cs_cli_run },
  { "forward", "Run prompts and save logits and residual-stream activations to HDF5", cs_cli_forward },
  { "geometry", "Category vectors, validation and hierarchy of a model's concepts (to a workspace)", cs_cli_geometry },
  { "figure", "Draw a workspace's figures: projection, heatmap, validation, orthogonality, park-fig2, steering-*, svd, sae-decomposition", cs_cli_figure },
  { "sae", "SAEs: train one on a model's activations (sae train), or encode a prompt (sae encode)", cs_cli_sae },
  { "sae-encode", "SAE features of each token of a prompt (SAELens folder), with L0 and reconstruction error", cs_cli_sae_encode },
  { "mapper", "Mapper graph of points (HDF5, CSV or a workspace's categories) to JSON, the workspace and a figure", cs_cli_mapper },
  { "steer", "Steering vectors from contrastive pairs, swept over layers and multipliers, with effects downstream", cs_cli_steer },
  { "fv", "Function vectors: the heads that carry an in-context task, their summed output, and its effect", cs_cli_fv },
  { "patch", "Activation patching of a clean and a corrupted prompt: layer × position or layer × head", cs_cli_patch },
  { NULL, NULL, NULL },
};

int
cs_cli_fail (GError *error)
{
  fprintf (stderr, "conceptscope-cli: %s\n", error ? error->message : "failed");
  g_clear_error (&error);
  return 1;
}

gboolean
cs_cli_device (const char *command, const char *arg, CsDevice *out)
{
  gboolean ok;
  *out = cs_device_from_string (arg, &ok);
  if (!ok)
    fprintf (stderr, "conceptscope-cli %s: --device is auto, cpu or cuda, not '%s'\n", command, arg);
  return ok;
}

char *
cs_cli_resolve_model (const char *arg)
{
  if (!arg || g_str_equal (arg, "-"))
    return cs_paths_get_sample_model ();
  return g_strdup (arg);
}

CsModel *
cs_cli_open_model (char **rest, char **path, CsTokenizer **tok, GError **error)
{
  g_autofree char *where = cs_cli_resolve_model (rest ? rest[0] : NULL);
  g_autoptr(CsModel) model = cs_model_open (where, error);
  if (!model)
    return NULL;
  if (tok && !(*tok = cs_cli_load_tokenizer (where, NULL, error)))
    return NULL;
  if (path)
    *path = g_steal_pointer (&where);
  return g_steal_pointer (&model);
}

void
cs_cli_print_json (JsonNode *node)
{
  g_autofree char *text = cs_json_to_data (node, TRUE, NULL);
  printf ("%s\n", text);
}

static gint progress_shown = -1;   /* the percentage on the line, −1: none */
static gint64 progress_start;      /* µs, when this piece of work began */
static gboolean progress_told;     /* the time estimate was said (not a terminal) */
static const char *progress_hint;

void
cs_cli_progress_hint (const char *hint)
{
  progress_hint = hint;
}

static void
format_duration (char *buf, gsize n, double s)
{
  if (s < 90)
    g_snprintf (buf, n, "%.0f s", s);
  else if (s < 5400)
    g_snprintf (buf, n, "%.0f min", s / 60);
  else
    g_snprintf (buf, n, "%.0f h %02.0f min", floor (s / 3600), fmod (s, 3600) / 60);
}

/* On a terminal: the percentage and, once a few seconds of work show the
 * pace, the time left. Elsewhere (scripts): one line up front when the work
 * will take more than a minute, so a long run never goes on silently. */
void
cs_cli_progress (double fraction, gpointer label)
{
  int pct = (int) CLAMP (fraction * 100, 0, 100);
  gint64 now = g_get_monotonic_time ();
  double elapsed, left = -1;
  char eta[256] = "";

  if (g_atomic_int_get (&progress_shown) < 0 && !progress_told)
    progress_start = progress_start ? progress_start : now;
  elapsed = (now - progress_start) / 1e6;
  if (fraction > 0.005 && fraction < 1 && elapsed > 3)
    left = elapsed * (1 - fraction) / fraction;
  if (!isatty (STDERR_FILENO))
    {
      if (left > 60 && !progress_told)
        {
          format_duration (eta, sizeof eta, left);
          fprintf (stderr, "conceptscope-cli: %s: about %s left at the speed measured so far%s%s%s\n",
                   (const char *) label, eta, progress_hint ? " (" : "", progress_hint ? progress_hint : "",
                   progress_hint ? ")" : "");
          progress_told = TRUE;
        }
      return;
    }
  if (g_atomic_int_get (&progress_shown) == pct && left < 0)
    return;
  g_atomic_int_set (&progress_shown, pct);
  if (left >= 0)
    {
      char d[48];
      format_duration (d, sizeof d, left);
      g_snprintf (eta, sizeof eta, " (about %s left%s%s)", d, left > 60 && progress_hint ? "; " : "",
                  left > 60 && progress_hint ? progress_hint : "");
    }
  fprintf (stderr, "\r%s %3d %%%s\033[K", (const char *) label, pct, eta);
  fflush (stderr);
}

void
cs_cli_progress_done (void)
{
  if (g_atomic_int_get (&progress_shown) >= 0)
    fprintf (stderr, "\n");
  g_atomic_int_set (&progress_shown, -1);
  progress_start = 0;
  progress_told = FALSE;
}

static GCancellable *cancellable;

static gpointer
signal_thread (gpointer data)
{
  sigset_t *set = data;
  int sig;
  if (sigwait (set, &sig) == 0)
    {
      g_cancellable_cancel (cancellable);
      /* the next one is not caught */
      signal (SIGINT, SIG_DFL);
      signal (SIGTERM, SIG_DFL);
      pthread_sigmask (SIG_UNBLOCK, set, NULL);
      sigwait (set, &sig);
      raise (sig);
    }
  return NULL;
}

void
cs_cli_watch_signals (void)
{
  static sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  cancellable = g_cancellable_new ();
  /* blocked in every thread started from here on; one thread takes them */
  pthread_sigmask (SIG_BLOCK, &set, NULL);
  g_thread_unref (g_thread_new ("signals", signal_thread, &set));
}

GCancellable *
cs_cli_cancellable (void)
{
  return cancellable;
}

int
cs_cli_fail_or_cancel (GError *error)
{
  if ((error && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) ||
      (cancellable && g_cancellable_is_cancelled (cancellable)))
    {
      cs_cli_progress_done ();
      fprintf (stderr, "conceptscope-cli: cancelled; nothing was written\n");
      g_clear_error (&error);
      return 130;
    }
  return cs_cli_fail (error);
}

CsGeometrySpace *
cs_cli_workspace_space (CsWorkspace *ws, CsModel **model, GError **error)
{
  const CsTensor *u;
  if (!ws->model_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the workspace does not say which model it was made from");
      return NULL;
    }
  *model = cs_model_open (ws->model_path, error);
  if (!*model)
    {
      g_prefix_error (error, "this needs the workspace's model: ");
      return NULL;
    }
  u = cs_model_get_unembedding (*model);
  if ((int) u->shape[1] != ws->d || u->shape[0] != ws->vocab)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s no longer matches the workspace (its unembedding changed shape)", ws->model_path);
      return NULL;
    }
  return cs_geometry_space_new_from (u, ws->mean, ws->inv_sqrt, ws->n_floored);
}

char *
cs_cli_read_text (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  const char *name = g_str_equal (path, "-") ? "standard input" : path;
  gsize len = 0;

  if (g_str_equal (path, "-"))
    {
      GString *s = g_string_new (NULL);
      char buf[65536];
      size_t n;
      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
        g_string_append_len (s, buf, (gssize) n);
      if (ferror (stdin))
        {
          g_string_free (s, TRUE);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "reading standard input failed");
          return NULL;
        }
      len = s->len;
      text = g_string_free (s, FALSE);
    }
  else if (!g_file_get_contents (path, &text, &len, error))
    return NULL;

  const char *nul = memchr (text, '\0', len);
  const char *end = NULL;
  if (nul || !g_utf8_validate_len (text, len, &end))
    {
      const char *at = nul ? nul : end;
      int line = 1;
      for (const char *p = text; p < at; p++)
        line += *p == '\n';
      if (nul)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "%s: line %d holds a NUL character (U+0000), which is not text", name, line);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "%s: line %d is not valid UTF-8 (byte %" G_GSIZE_FORMAT ")", name, line,
                     (gsize) (at - text));
      return NULL;
    }
  return g_steal_pointer (&text);
}

char **
cs_cli_split_lines (const char *text)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new ();
  const char *p = text;

  while (*p)
    {
      const char *nl = strchr (p, '\n');
      gsize n = nl ? (gsize) (nl - p) : strlen (p);
      if (n > 0 && p[n - 1] == '\r')
        n--;
      g_ptr_array_add (lines, g_strndup (p, n));
      if (!nl)
        break;
      p = nl + 1;
    }
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&lines), FALSE);
}
