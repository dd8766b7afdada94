#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Writes the figure to path with a size preset (slide, square, column), a
 * theme (light, dark, transparent), a PNG scale and a font size. */
typedef gboolean (*CsExportFunc) (gpointer     owner,
                                  const char  *path,
                                  const char  *preset,
                                  const char  *theme,
                                  double       scale,
                                  double       font_size,
                                  GError     **error);
/* Told when the export failed (after the file chooser). */
typedef void     (*CsExportFailed) (gpointer    owner,
                                    const char *message);

/* The Export Figure dialog (format, size, background, PNG scale, font
 * size), then a file chooser named default_stem.EXT; owner (a GObject) is
 * kept alive until the dialog is done. */
void cs_export_dialog_present (GtkWidget      *parent,
                               GObject        *owner,
                               const char     *default_stem,
                               CsExportFunc    export_func,
                               CsExportFailed  failed);

G_END_DECLS
