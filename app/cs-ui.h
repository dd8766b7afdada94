#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Small pieces the pages' side panels share. */

/* A section heading, left-aligned, with space above. */
GtkWidget *cs_ui_heading  (const char *text);
/* Puts a label and w in a row of a two-column grid (w expands and takes the
 * label as its accessible name); returns w. */
GtkWidget *cs_ui_labelled (GtkWidget  *grid,
                           int         row,
                           const char *label,
                           GtkWidget  *w);

G_END_DECLS
