/**
 * The request of the embedding tasks (feature-extraction, sentence-embeddings): a string or a list
 * of strings, with `pooling`, `normalize`, `truncate` and `truncation_direction`. Pure (page side);
 * embeddings-core.ts computes them.
 */
import { badRequest, quote } from '../../protocol/errors.js';
import { checkKnownParameters, readBoolean, readEnum, readParameters, readTextInputs } from '../shared/parameters.js';
import type { EndpointPayload } from '../types.js';

export type Pooling = 'mean' | 'cls' | 'none';

export interface FeatureExtractionRequest {
  inputs: string | string[];
  pooling?: Pooling;
  normalize?: boolean;
  /** Truncate inputs longer than the model's maximum; false rejects them instead. */
  truncate: boolean;
  /** Which end of an over-long input to cut (TEI's `truncation_direction`). */
  truncationDirection: 'left' | 'right';
}

const PARAMETERS = ['pooling', 'normalize', 'truncate', 'truncation_direction'] as const;

/** Checks an embedding payload; unknown parameters are named as feature-extraction's. */
export function readEmbeddingRequest(payload: EndpointPayload): FeatureExtractionRequest {
  const parameters = readParameters(payload.parameters);
  checkKnownParameters('feature-extraction', parameters, PARAMETERS);
  return {
    inputs: readTextInputs(payload.inputs),
    pooling: readEnum(parameters, 'pooling', ['mean', 'cls', 'none'] as const),
    normalize: readBoolean(parameters, 'normalize'),
    truncate: readBoolean(parameters, 'truncate') ?? true,
    truncationDirection: readTruncationDirection(parameters.truncation_direction),
  };
}

/** `left` or `right`, in TEI's spelling (`Left`, `Right`) too. */
function readTruncationDirection(value: unknown): 'left' | 'right' {
  if (value === undefined || value === null) return 'right';
  const v = typeof value === 'string' ? value.toLowerCase() : value;
  if (v !== 'left' && v !== 'right') throw badRequest(`parameters.truncation_direction must be left or right, got ${quote(value)}.`);
  return v;
}
