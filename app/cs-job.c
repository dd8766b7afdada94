#include "cs-job.h"

struct _CsJob
{
  GtkProgressBar *bar;          /* or NULL */
  GCancellable   *cancellable;  /* of the running job; NULL when none */
  gint            permille;     /* written by the worker */
  guint           timer;
  CsJobDisplayFunc display;     /* or NULL */
  gpointer         display_data;
};

CsJob *
cs_job_new (GtkProgressBar *bar)
{
  CsJob *job = g_new0 (CsJob, 1);
  job->bar = bar;
  return job;
}

static void
stop_timer (CsJob *job)
{
  g_clear_handle_id (&job->timer, g_source_remove);
}

void
cs_job_cancel (CsJob *job)
{
  if (!job)
    return;
  if (job->cancellable)
    g_cancellable_cancel (job->cancellable);
  g_clear_object (&job->cancellable);
  stop_timer (job);
}

void
cs_job_free (CsJob *job)
{
  if (!job)
    return;
  cs_job_cancel (job);
  g_free (job);
}

static gboolean
follow_progress (gpointer data)
{
  CsJob *job = data;
  double f = g_atomic_int_get (&job->permille) / 1000.0;
  if (job->display)
    job->display (f, job->display_data);
  else if (job->bar)
    gtk_progress_bar_set_fraction (job->bar, f);
  return G_SOURCE_CONTINUE;
}

void
cs_job_set_display (CsJob *job, CsJobDisplayFunc func, gpointer data)
{
  job->display = func;
  job->display_data = data;
}

void
cs_job_interrupt (CsJob *job)
{
  if (job && job->cancellable)
    g_cancellable_cancel (job->cancellable);
}

void
cs_job_start (CsJob *job, gpointer owner, gpointer task_data, GDestroyNotify free_data, GTaskThreadFunc thread,
              GAsyncReadyCallback done)
{
  g_autoptr(GTask) task = NULL;

  cs_job_cancel (job);
  job->cancellable = g_cancellable_new ();
  g_atomic_int_set (&job->permille, 0);
  if (job->bar)
    gtk_progress_bar_set_fraction (job->bar, 0);
  if (job->bar || job->display)
    job->timer = g_timeout_add (100, follow_progress, job);
  task = g_task_new (owner, job->cancellable, done, NULL);
  g_task_set_task_data (task, task_data, free_data);
  g_task_run_in_thread (task, thread);
}

gboolean
cs_job_finish (CsJob *job, GAsyncResult *result)
{
  if (!job || !job->cancellable || g_task_get_cancellable (G_TASK (result)) != job->cancellable)
    return FALSE;   /* superseded or cancelled */
  g_clear_object (&job->cancellable);
  stop_timer (job);
  return TRUE;
}

gboolean
cs_job_running (CsJob *job)
{
  return job && job->cancellable != NULL;
}

void
cs_job_progress (double fraction, gpointer data)
{
  CsJob *job = data;
  g_atomic_int_set (&job->permille, (int) (CLAMP (fraction, 0, 1) * 1000));
}
