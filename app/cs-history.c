#include "cs-history.h"

typedef struct
{
  char     *label;
  gpointer  state;
} Entry;

struct _CsHistory
{
  GDestroyNotify free_state;
  guint          limit;
  GQueue         undo;   /* newest at the head */
  GQueue         redo;
};

static void
entry_free (CsHistory *h, Entry *e)
{
  if (e->state)
    h->free_state (e->state);
  g_free (e->label);
  g_free (e);
}

static void
queue_clear (CsHistory *h, GQueue *q)
{
  Entry *e;
  while ((e = g_queue_pop_head (q)))
    entry_free (h, e);
}

CsHistory *
cs_history_new (GDestroyNotify free_state, guint limit)
{
  CsHistory *h = g_new0 (CsHistory, 1);
  h->free_state = free_state;
  h->limit = MAX (limit, 1);
  g_queue_init (&h->undo);
  g_queue_init (&h->redo);
  return h;
}

void
cs_history_free (CsHistory *h)
{
  if (!h)
    return;
  cs_history_clear (h);
  g_free (h);
}

void
cs_history_clear (CsHistory *h)
{
  queue_clear (h, &h->undo);
  queue_clear (h, &h->redo);
}

void
cs_history_push (CsHistory *h, const char *label, gpointer state_before)
{
  Entry *e = g_new0 (Entry, 1);
  e->label = g_strdup (label);
  e->state = state_before;
  g_queue_push_head (&h->undo, e);
  while (g_queue_get_length (&h->undo) > h->limit)
    entry_free (h, g_queue_pop_tail (&h->undo));
  queue_clear (h, &h->redo);
}

/* Moves the newest entry of from to to, current taking its state's place. */
static gpointer
step (GQueue *from, GQueue *to, gpointer current)
{
  Entry *e = g_queue_pop_head (from);
  gpointer state;
  if (!e)
    return NULL;
  state = e->state;
  e->state = current;
  g_queue_push_head (to, e);
  return state;
}

gpointer
cs_history_undo (CsHistory *h, gpointer current)
{
  return step (&h->undo, &h->redo, current);
}

gpointer
cs_history_redo (CsHistory *h, gpointer current)
{
  return step (&h->redo, &h->undo, current);
}

const char *
cs_history_undo_label (CsHistory *h)
{
  Entry *e = g_queue_peek_head (&h->undo);
  return e ? e->label : NULL;
}

const char *
cs_history_redo_label (CsHistory *h)
{
  Entry *e = g_queue_peek_head (&h->redo);
  return e ? e->label : NULL;
}

gpointer
cs_history_peek_undo (CsHistory *h)
{
  Entry *e = g_queue_peek_head (&h->undo);
  return e ? e->state : NULL;
}

gpointer
cs_history_peek_redo (CsHistory *h)
{
  Entry *e = g_queue_peek_head (&h->redo);
  return e ? e->state : NULL;
}
