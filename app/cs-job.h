#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A page's background work, one piece at a time: starting a job cancels the
 * one before it (whose result is then dropped as superseded), the worker
 * reports progress as a fraction from its thread, and a progress bar, when
 * the page has one, follows it every 100 ms on the main loop while a job
 * runs. The result comes back on the main loop as a GTask's does. */
typedef struct _CsJob CsJob;

/* cs_job_finish, cs_job_cancel and cs_job_running accept NULL (a page
 * already disposed, its job freed, when a worker's result comes back). */

CsJob        *cs_job_new         (GtkProgressBar     *bar);
/* Cancels what runs; its result will not be delivered as current. */
void          cs_job_free        (CsJob              *job);
void          cs_job_start       (CsJob              *job,
                                  gpointer            owner,
                                  gpointer            task_data,
                                  GDestroyNotify      free_data,
                                  GTaskThreadFunc     thread,
                                  GAsyncReadyCallback done);
/* Called first by done: FALSE when the result is from a job since
 * superseded (or cancelled), which done then ignores; TRUE ends the job. */
gboolean      cs_job_finish      (CsJob              *job,
                                  GAsyncResult       *result);
void          cs_job_cancel      (CsJob              *job);
/* Asks the running job's work to stop but keeps it current: its result
 * (usually a cancellation error) still comes to done, which can then put
 * things back as they were. */
void          cs_job_interrupt   (CsJob              *job);
gboolean      cs_job_running     (CsJob              *job);
/* Instead of a plain bar: called on the main loop every 100 ms while a job
 * runs, with the worker's latest fraction (0 until it reports). */
typedef void (*CsJobDisplayFunc) (double fraction, gpointer data);
void          cs_job_set_display (CsJob              *job,
                                  CsJobDisplayFunc    func,
                                  gpointer            data);
/* For the worker, a CsProgressFunc: data is the job. Thread-safe. */
void          cs_job_progress    (double              fraction,
                                  gpointer            job);

G_END_DECLS
