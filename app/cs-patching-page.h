#pragma once

#include <adwaita.h>

#include "cs-fv.h"
#include "cs-patch.h"
#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_PATCHING_PAGE (cs_patching_page_get_type ())
G_DECLARE_FINAL_TYPE (CsPatchingPage, cs_patching_page, CS, PATCHING_PAGE, AdwBin)

/* The Patching view: activation patching of a clean and a corrupted prompt
 * (layer × position or layer × head) and function vectors of a task, each
 * run in the background with progress and Cancel; the heatmaps and the
 * layer curve in tabs, hover naming a cell, a click on a head reading its
 * output through the unembedding; export, undo and redo, and the
 * workspace's /patching and /function_vector. */
void                 cs_patching_page_set_session (CsPatchingPage *self,
                                                   CsSession      *session);
/* Patching as the Patch button does, with these settings (NULL keeps the
 * panel's; target: resid_pre, resid_post, attn_out, mlp_out or heads). */
void                 cs_patching_page_patch       (CsPatchingPage *self,
                                                   const char     *clean,
                                                   const char     *corrupted,
                                                   const char     *answer,
                                                   const char     *wrong,
                                                   const char     *target);
/* A function vector as the Find the Heads button does (task: a shipped
 * name or a JSON file; sizes ≤ 0 keep the panel's). */
void                 cs_patching_page_find_heads  (CsPatchingPage *self,
                                                   const char     *task,
                                                   int             shots,
                                                   int             prompts,
                                                   int             heads,
                                                   int             n_eval);
void                 cs_patching_page_cancel      (CsPatchingPage *self);
gboolean             cs_patching_page_get_busy    (CsPatchingPage *self);
const char          *cs_patching_page_get_error   (CsPatchingPage *self);
/* The status line: what the last run gave (with a function vector, its
 * largest cosines with the Geometry view's concept directions). */
const char          *cs_patching_page_get_status  (CsPatchingPage *self);
const CsPatchResult *cs_patching_page_get_patch   (CsPatchingPage *self);
const CsFvResult    *cs_patching_page_get_fv      (CsPatchingPage *self);
/* "patching", "fv-heads" or "fv-layers". */
void                 cs_patching_page_show_view   (CsPatchingPage *self,
                                                   const char     *name);
/* What hovering the visible figure at widget coordinates shows (NULL off
 * the cells); the widget of the visible figure. */
char                *cs_patching_page_describe_at (CsPatchingPage *self,
                                                   double          x,
                                                   double          y);
GtkWidget           *cs_patching_page_get_figure_area (CsPatchingPage *self);
/* What a click on head (layer, head) shows: the head's output in the run
 * the figure was made from, read through the unembedding (its top tokens). */
char                *cs_patching_page_read_head   (CsPatchingPage *self,
                                                   int             layer,
                                                   int             head);
gboolean             cs_patching_page_export      (CsPatchingPage *self,
                                                   const char     *path,
                                                   const char     *preset,
                                                   const char     *theme,
                                                   double          scale,
                                                   double          font_size,
                                                   GError        **error);
gboolean             cs_patching_page_undo        (CsPatchingPage *self);
gboolean             cs_patching_page_redo        (CsPatchingPage *self);
gboolean             cs_patching_page_save_to     (CsPatchingPage *self,
                                                   const char     *path,
                                                   GError        **error);
gboolean             cs_patching_page_load_from   (CsPatchingPage *self,
                                                   const char     *path,
                                                   GError        **error);

G_END_DECLS
