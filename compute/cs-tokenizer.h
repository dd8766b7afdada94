#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CsTokenizer CsTokenizer;

/* A tokenizer read natively from a Hugging Face tokenizer.json: byte-level
 * BPE (GPT-2, Llama 3, Qwen2) and SentencePiece-style BPE with the ▁
 * normaliser or Metaspace pre-tokeniser and byte fallback (Llama 2, Gemma). */
CsTokenizer *cs_tokenizer_load          (const char   *path,
                                         GError      **error);
CsTokenizer *cs_tokenizer_parse         (const char   *json,
                                         gssize        len,
                                         const char   *origin,
                                         GError      **error);
/* A tokenizer is shared by reference (the session and a job's thread hold
 * the same one); cs_tokenizer_free drops a reference. Encoding is
 * thread-safe (its cache is locked). */
CsTokenizer *cs_tokenizer_ref           (CsTokenizer  *self);
void         cs_tokenizer_free          (CsTokenizer  *self);

/* Encodes text to ids; with add_special, the post-processor's tokens (BOS)
 * are added as the tokenizer.json template says. */
GArray      *cs_tokenizer_encode        (CsTokenizer  *self,
                                         const char   *text,
                                         gboolean      add_special,
                                         GError      **error);
char        *cs_tokenizer_decode        (CsTokenizer  *self,
                                         const gint32 *ids,
                                         gsize         n_ids,
                                         gboolean      skip_special);
/* The token's string as it appears in the vocabulary (Ġ, ▁ and all). */
const char  *cs_tokenizer_id_to_token   (CsTokenizer  *self,
                                         gint32        id);
/* The token as text: decoded bytes, with invalid UTF-8 escaped. */
char        *cs_tokenizer_id_to_text    (CsTokenizer  *self,
                                         gint32        id);
gint32       cs_tokenizer_token_to_id   (CsTokenizer  *self,
                                         const char   *token);
gint32       cs_tokenizer_get_vocab_size (CsTokenizer *self);
gboolean     cs_tokenizer_is_special    (CsTokenizer  *self,
                                         gint32        id);
/* Checks the tokenizer against the model it belongs to: every id it can
 * produce (vocabulary, added tokens, the BOS and EOS its post-processor
 * adds) has a row in the model's vocab_size rows. */
gboolean     cs_tokenizer_check_vocab   (CsTokenizer  *self,
                                         gint64        model_vocab,
                                         const char   *origin,
                                         GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsTokenizer, cs_tokenizer_free)

G_END_DECLS
