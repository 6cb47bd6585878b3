/**
 * LocalEndpointClient's task methods are generated from the registry. These tests hold them to
 * the official client: the types at compile time (`npx tsc --noEmit`, which CI runs, checks the
 * expectTypeOf lines and the @ts-expect-error ones), the methods at run time.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { InferenceClient } from '@huggingface/inference';
import { LocalEndpointClient, type EngineInterface } from '../../src/index.js';
import { clientMethods } from '../../src/tasks/registry.js';

type Official<M extends keyof InferenceClient> = InferenceClient[M] extends (...args: infer A) => infer R ? { args: A[0]; result: R } : never;
type Ours<M extends keyof LocalEndpointClient> = LocalEndpointClient[M] extends (...args: infer A) => infer R ? { args: A[0]; result: R } : never;

/** An engine that is never called: these tests only build clients. */
const idle: EngineInterface = {
  infer: () => Promise.reject(new Error('not called')),
  load: () => Promise.reject(new Error('not called')),
  status: () => Promise.reject(new Error('not called')),
  dispose: () => Promise.resolve(),
  unload: () => Promise.resolve(),
  listCached: () => Promise.reject(new Error('not called')),
  deleteCached: () => Promise.reject(new Error('not called')),
  storageEstimate: () => Promise.reject(new Error('not called')),
};

describe('LocalEndpointClient types', () => {
  it('takes and answers what the official client takes and answers, method by method', () => {
    expectTypeOf<Ours<'textClassification'>>().toEqualTypeOf<Official<'textClassification'>>();
    expectTypeOf<Ours<'questionAnswering'>>().toEqualTypeOf<Official<'questionAnswering'>>();
    expectTypeOf<Ours<'featureExtraction'>>().toEqualTypeOf<Official<'featureExtraction'>>();
    expectTypeOf<Ours<'chatCompletion'>>().toEqualTypeOf<Official<'chatCompletion'>>();
    expectTypeOf<Ours<'chatCompletionStream'>>().toEqualTypeOf<Official<'chatCompletionStream'>>();
    expectTypeOf<Ours<'textGenerationStream'>>().toEqualTypeOf<Official<'textGenerationStream'>>();
    expectTypeOf<Ours<'objectDetection'>>().toEqualTypeOf<Official<'objectDetection'>>();
    expectTypeOf<Ours<'automaticSpeechRecognition'>>().toEqualTypeOf<Official<'automaticSpeechRecognition'>>();

    const client = new LocalEndpointClient({ model: 'm', engine: idle });
    // Wrong arguments are compile errors, as with the official client.
    // @ts-expect-error `inputs` must be a string for text classification
    void (() => client.textClassification({ inputs: 42 }));
    // @ts-expect-error no such task method
    void (() => client.tableQuestionAnswering({ inputs: { query: 'q', table: {} } }));
    expect(client).toBeInstanceOf(LocalEndpointClient);
  });

  it('has a method for every official client method a task names, and only those', () => {
    const client = new LocalEndpointClient({ model: 'm', engine: idle }) as unknown as Record<string, unknown>;
    const methods = clientMethods().map((m) => m.method);
    expect(methods.length).toBeGreaterThanOrEqual(19);
    for (const method of methods) expect(typeof client[method], method).toBe('function');
    const own = Object.getOwnPropertyNames(LocalEndpointClient.prototype).filter((name) => name !== 'constructor');
    expect(own.filter((name) => !methods.includes(name as never)).sort()).toEqual(['deleteCached', 'fetch', 'hf', 'listCached', 'load', 'localEngine', 'persist', 'policy', 'preload', 'request', 'status', 'storageEstimate', 'unload']);
  });
});
