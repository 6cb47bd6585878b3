/** The registry: each spec with its runner, the official client's methods, the examples. Pure. */
import { describe, expect, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { ROUTE_SPECS, clientMethods, getRunner, getTask, supportedTasks } from '../../src/tasks/registry.js';

const ONE_PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
const ALL = [...supportedTasks, ...ROUTE_SPECS.map((spec) => spec.id)];

describe('task registry', () => {
  it.each(ALL)('%s has a runner, of its own spec', (id) => {
    const runner = getRunner(id);
    expect(runner.spec).toBe(getTask(id));
    expect(typeof runner.run).toBe('function');
    expect(runner.pipeline).toMatch(/^[a-z0-9-]+$/);
    if (runner.loadAs) expect(getRunner(runner.loadAs).pipeline).toBe(runner.pipeline);
  });

  it('aliases find the same runner, and an unknown task is the same 400 as getTask', () => {
    expect(getRunner('sentiment-analysis')).toBe(getRunner('text-classification'));
    expect(() => getRunner('text-to-speech')).toThrow(`Unknown task "text-to-speech". Supported tasks: ${supportedTasks.join(', ')}.`);
  });

  it('names official client methods, each once, each a method of InferenceClient', () => {
    const methods = clientMethods();
    const official = new InferenceClient('') as unknown as Record<string, unknown>;
    for (const { method } of methods) expect(typeof official[method], method).toBe('function');
    expect(new Set(methods.map((m) => m.method)).size).toBe(methods.length);
    const byMethod = Object.fromEntries(methods.map(({ method, task }) => [method, task]));
    expect(byMethod).toMatchObject({
      textClassification: 'text-classification',
      textGeneration: 'text-generation',
      textGenerationStream: 'text-generation',
      chatCompletion: 'text-generation',
      chatCompletionStream: 'text-generation',
      summarization: 'summarization',
      automaticSpeechRecognition: 'automatic-speech-recognition',
    });
  });

  it.each(supportedTasks.filter((id) => !getTask(id).media))('the example of %s is a valid request', (id) => {
    const { example } = getTask(id);
    expect(example?.inputs).toBeDefined();
    let inputs = example!.inputs;
    // An example that needs a picture beside its text gets one (a 1×1 PNG), where the user would pick theirs.
    if (example!.withMedia === 'image') inputs = { ...(inputs as object), image: ONE_PIXEL_PNG };
    expect(() => getTask(id).parse({ inputs, parameters: { ...example!.parameters } })).not.toThrow();
    if (example!.withMedia) expect(() => getTask(id).parse({ inputs: example!.inputs, parameters: {} })).toThrow(/image is missing/);
  });
});
