#pragma once

#include <glib-object.h>

#include "cs-geometry.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* The document the pages share: the model, its tokenizer, the whitened
 * space, the estimated geometry, the tokens selected on the projection, the
 * tokens marked from a linked view, and the workspace last saved or opened.
 * The window owns one and hands it to every page; a page reads it, changes
 * it through these setters and follows its "notify::" signals, and never
 * talks to another page. Setters that change nothing notify nothing. */

#define CS_TYPE_SESSION (cs_session_get_type ())
G_DECLARE_FINAL_TYPE (CsSession, cs_session, CS, SESSION, GObject)

CsSession       *cs_session_new                (void);

CsModel         *cs_session_get_model          (CsSession       *self);
void             cs_session_set_model          (CsSession       *self,
                                                CsModel         *model);
/* The tokenizer, space and geometry are shared by reference: the setters
 * take a reference of their own (cs_tokenizer_ref, cs_geometry_space_ref,
 * cs_geometry_ref), so a job may keep using what it was given. */
CsTokenizer     *cs_session_get_tokenizer      (CsSession       *self);
void             cs_session_set_tokenizer      (CsSession       *self,
                                                CsTokenizer     *tokenizer);
CsGeometrySpace *cs_session_get_space          (CsSession       *self);
void             cs_session_set_space          (CsSession       *self,
                                                CsGeometrySpace *space);
/* Set after the tokenizer and space it was estimated with, so that a page
 * following "notify::geometry" finds them in place. */
CsGeometry      *cs_session_get_geometry       (CsSession       *self);
void             cs_session_set_geometry       (CsSession       *self,
                                                CsGeometry      *geometry);

/* Token ids (gint32); never NULL (empty when nothing is chosen). */
const GArray    *cs_session_get_selection      (CsSession       *self);
void             cs_session_set_selection      (CsSession       *self,
                                                const gint32    *ids,
                                                guint            n);
const GArray    *cs_session_get_marked         (CsSession       *self);
void             cs_session_set_marked         (CsSession       *self,
                                                const gint32    *ids,
                                                guint            n);

/* The Geometry view's projection axes as "x;y", each a category "A" or a
 * difference "A-B" (the specs cs_steer_concept_vector reads), or NULL. */
const char      *cs_session_get_axes      (CsSession       *self);
void             cs_session_set_axes      (CsSession       *self,
                                           const char      *x,
                                           const char      *y);
const char      *cs_session_get_workspace_path (CsSession       *self);
void             cs_session_set_workspace_path (CsSession       *self,
                                                const char      *path);

G_END_DECLS
