#pragma once

#include <gtk/gtk.h>

#include "cs-figure.h"
#include "cs-history.h"

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

/* For a two-column grid built from a template: each label of the first
 * column becomes its row's widget's accessible name and wraps past 150
 * pixels, as cs_ui_labelled does. */
void       cs_ui_grid_labels (GtkGrid *grid);

/* A stack switcher for stack's pages that never makes its page wider than
 * the window: in a narrow window (or a longer translation) the tabs scroll
 * sideways instead of pushing buttons and figures off the right edge. */
GtkWidget *cs_ui_tabs     (GtkStack   *stack);

/* Undo and Redo buttons appended to bar, clicked calling undo or redo with
 * owner; Ctrl+Z, Ctrl+Shift+Z and Ctrl+Y on page (managed by the window, so
 * a focused text field keeps its own undo) calling the same with page. */
void       cs_ui_add_undo (GtkBox          *bar,
                           GtkWidget       *page,
                           GCallback        undo,
                           GCallback        redo,
                           GtkWidget      **undo_button,
                           GtkWidget      **redo_button);
/* Sensitivity and tooltips ("Undo hiding fish") from the history. */
void       cs_ui_update_undo (GtkWidget    *undo_button,
                              GtkWidget    *redo_button,
                              CsHistory    *history);

/* An ellipsized label's whole text in its tooltip, kept up to date. */
void       cs_ui_full_text_tooltip (GtkLabel *label);

/* Shows "auto" (translated) in spin while its value is auto_value, and
 * reads "auto" typed back as that value; other values show with the spin's
 * digits. */
void       cs_ui_spin_auto (GtkSpinButton *spin,
                            double         auto_value);

/* A drop-down bound two-way to an int property of settings through a table
 * of the values it stands for (in the order shown), ended by a NULL name;
 * names are translated when shown. */
typedef struct
{
  int         value;
  const char *name;
} CsUiChoice;

void       cs_ui_bind_choice  (GtkDropDown      *drop,
                               GObject          *settings,
                               const char       *prop,
                               const CsUiChoice *choices);
/* A drop-down over model bound two-way to a string property of settings:
 * values (char *, kept by the caller and changed with the model) is the
 * string each position stands for. After the model and values were
 * refilled, cs_ui_sync_strings shows the property's value again. */
void       cs_ui_bind_strings (GtkDropDown      *drop,
                               GListModel       *model,
                               GObject          *settings,
                               const char       *prop,
                               GPtrArray        *values);
void       cs_ui_sync_strings (GtkDropDown      *drop);

/* Called with the chosen file's path when the user accepts. */
typedef void (*CsUiFileFunc) (GtkWidget  *owner,
                              const char *path);

/* A native file chooser over owner's window: open a file or a folder, or
 * save (with a suggested name); filter patterns such as "*.json" (several
 * separated by spaces) may be given with their name. owner is kept alive until the chooser closes. */
void       cs_ui_choose_file (GtkWidget            *owner,
                              const char           *title,
                              GtkFileChooserAction  action,
                              const char           *accept_label,
                              const char           *suggested_name,
                              const char           *filter_name,
                              const char           *filter_pattern,
                              CsUiFileFunc          done);

G_END_DECLS
