#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Undo and redo for a page: a stack of the states before each change, with
 * a label naming the change ("recomputing the categories"). States move in
 * and out by ownership: the page hands over its state before a change and
 * gets back the one to show on undo or redo, so nothing is copied. */

typedef struct _CsHistory CsHistory;

CsHistory  *cs_history_new        (GDestroyNotify free_state,
                                   guint          limit);
void        cs_history_free       (CsHistory     *h);
/* The state before a change named label; clears what could be redone. */
void        cs_history_push       (CsHistory     *h,
                                   const char    *label,
                                   gpointer       state_before);
/* Takes current (it goes to the redo side) and returns the state before the
 * last change, or NULL (current not taken) when there is nothing to undo. */
gpointer    cs_history_undo       (CsHistory     *h,
                                   gpointer       current);
gpointer    cs_history_redo       (CsHistory     *h,
                                   gpointer       current);
/* The change an undo or a redo would take back or repeat, or NULL. */
const char *cs_history_undo_label (CsHistory     *h);
const char *cs_history_redo_label (CsHistory     *h);
/* The state an undo or a redo would give back (still the history's), or NULL. */
gpointer    cs_history_peek_undo  (CsHistory     *h);
gpointer    cs_history_peek_redo  (CsHistory     *h);
void        cs_history_clear      (CsHistory     *h);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsHistory, cs_history_free)

G_END_DECLS
