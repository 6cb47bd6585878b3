/**
 * TEI's routes on encoder endpoints (feature-extraction, sentence-embeddings, sentence-similarity,
 * ranking, text-classification), as huggingface/text-embeddings-inference's `docs/openapi.json`
 * defines them, and OpenAI's `POST /v1/embeddings`. Each runs on the endpoint task's own loaded
 * pipeline (`onEndpointTask`), so one model load serves the Endpoint's route and TEI's.
 *
 *   POST /embed, /embed_all, /similarity   embed.ts              (embedding endpoints)
 *   POST /v1/embeddings                    openai-embeddings.ts  (embedding endpoints)
 *   POST /rerank, /predict                 classify.ts           (ranking; text-classification and ranking)
 *   POST /tokenize, /decode                tokens.ts             (every encoder endpoint)
 *   GET  /info                             info.ts               (every encoder endpoint)
 *
 * Request bodies are read in tei-body.ts (page side), inputs encoded and the model run in
 * tei-encode.ts (engine side).
 */
import type { TaskRunner } from '../types.js';
import { teiEmbed, teiEmbedAll, teiEmbedAllRunner, teiEmbedRunner, teiSimilarity, teiSimilarityRunner } from './embed.js';
import { openAIEmbeddings, openAIEmbeddingsRunner } from './openai-embeddings.js';
import { teiPredict, teiPredictRunner, teiRerank, teiRerankRunner } from './classify.js';
import { teiDecode, teiDecodeRunner, teiTokenize, teiTokenizeRunner } from './tokens.js';
import { teiInfo, teiInfoRunner } from './info.js';

export { teiEmbed, teiEmbedAll, teiSimilarity, openAIEmbeddings, teiPredict, teiRerank, teiDecode, teiTokenize, teiInfo };
export { MAX_CLIENT_BATCH_SIZE } from './tei-body.js';

/** The specs, for the registry. */
export const TEI_SPECS = [teiEmbed, teiEmbedAll, teiRerank, teiPredict, teiSimilarity, teiTokenize, teiDecode, teiInfo, openAIEmbeddings] as const;

/** The runners, for the registry's `runners()`. */
export const teiRunners = (): TaskRunner<any, any>[] => [
  teiEmbedRunner,
  teiEmbedAllRunner,
  teiRerankRunner,
  teiPredictRunner,
  teiSimilarityRunner,
  teiTokenizeRunner,
  teiDecodeRunner,
  teiInfoRunner,
  openAIEmbeddingsRunner,
];
