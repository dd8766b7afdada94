#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cs-backend.h"
#include "cs-model.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* Function vectors (Todd et al. 2024): a task's in-context prompts; each
 * attention head's mean output at the last token over them; each head's
 * average indirect effect — how much putting that mean into prompts whose
 * demonstrations have shuffled answers raises the right answer's
 * probability; the function vector, the sum of the top heads' mean
 * outputs (z̄_h · W_O[h]); and what it does added to the residual stream of
 * zero-shot prompts at each layer. Definitions in docs/patching.md. */

/* A task: input → output pairs and how a demonstration is written. */
typedef struct
{
  char      *name;
  char      *template;    /* "{x}: {y}" */
  char      *separator;   /* between demonstrations: ". " */
  GPtrArray *inputs;      /* char * */
  GPtrArray *outputs;
} CsFvTask;

/* A JSON file {"pairs": [["hot", "cold"], …], "template": "{x}: {y}",
 * "separator": ". "} (template and separator optional), or the name of a
 * shipped task: antonym, hypernym, plural (data/tasks/). */
CsFvTask *cs_fv_task_load  (const char *file_or_name,
                            GError    **error);
void      cs_fv_task_free  (CsFvTask   *task);

typedef struct
{
  int      shots;        /* demonstrations per prompt (10) */
  int      n_prompts;    /* in-context prompts (25) */
  int      heads;        /* heads summed into the vector (10) */
  int      n_eval;       /* held-out zero-shot queries (50) */
  guint    seed;         /* of the prompts and the split (0) */
  CsDevice device;
} CsFvParams;

void cs_fv_params_init (CsFvParams *params);

typedef struct
{
  char    *task;
  int      n_layers, n_heads, hidden;
  int      shots, n_prompts, n_eval;
  double  *aie;           /* [layers, heads] average indirect effect on p(answer) */
  int     *top_layer, *top_head;   /* [k] the heads summed, best first */
  int      k;
  float   *vector;        /* [hidden] */
  float   *mean_z;        /* [layers, mean_z_width = heads × head_dim]: each head's mean z at the last token of the
                           * clean prompts (NULL in workspaces written before it was kept) */
  int      mean_z_width;
  double   icl_prob, icl_acc;          /* the clean in-context prompts */
  double   shuffled_prob, shuffled_acc; /* the same with the demonstrations' answers shuffled */
  double   zs_prob, zs_acc;            /* held-out zero-shot queries, no vector */
  double  *layer_prob, *layer_acc;     /* [layers] the same with the vector added after layer L */
  int      best_layer;
  /* what ran, for checking: the prompts' token ids and answers */
  GPtrArray *clean_ids, *shuffled_ids, *eval_ids;   /* GArray of gint32 each */
  gint32  *answers, *eval_answers;     /* [n_prompts], [n_eval] */
  double   seconds;
} CsFvResult;

CsFvResult *cs_fv_run          (CsModel          *model,
                                CsTokenizer      *tokenizer,
                                const CsFvTask   *task,
                                const CsFvParams *params,
                                CsProgressFunc    progress,
                                gpointer          progress_data,
                                GCancellable     *cancellable,
                                GError          **error);
void        cs_fv_result_free  (CsFvResult       *result);
/* The scalar results as members of an open JSON object: task, sizes,
 * in-context, shuffled and zero-shot p(answer) and top-1, the best layer
 * (what the workspace's /function_vector/parameters holds). */
void        cs_fv_result_add_summary (const CsFvResult *result,
                                      JsonBuilder      *builder);
/* Into the workspace's /function_vector group (the file updated in place
 * atomically, its other groups kept), and back. */
gboolean    cs_fv_result_save  (const CsFvResult *result,
                                const char       *path,
                                GError          **error);
CsFvResult *cs_fv_result_load  (const char       *path,
                                GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsFvTask, cs_fv_task_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsFvResult, cs_fv_result_free)

G_END_DECLS
