/** text-to-image's payload, as the Endpoint's Diffusers handler reads it (issue 13). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_STEPS, textToImage } from '../../../src/tasks/diffusion/text-to-image.js';

/** The Endpoint server's own test payload. */
const PROMPT = 'a man on a horse jumps over a broken down airplane.';
const parse = (parameters?: Record<string, unknown>, inputs: unknown = PROMPT) => textToImage.parse({ inputs, parameters });

describe('text-to-image parse', () => {
  it('reads the Endpoint payload with its defaults: 50 steps, the model’s size and guidance', () => {
    expect(parse()).toEqual({ prompt: PROMPT, negativePrompt: '', steps: DEFAULT_STEPS });
    expect(DEFAULT_STEPS).toBe(50);
  });

  it('reads every parameter; target_size as width and height; ignores num_images_per_prompt and output_type', () => {
    expect(
      parse({ negative_prompt: 'blurry', num_inference_steps: 4, guidance_scale: 0, seed: 42, width: 64, height: 64, scheduler: 'EulerDiscreteScheduler', num_images_per_prompt: 3, output_type: 'np' }),
    ).toEqual({ prompt: PROMPT, negativePrompt: 'blurry', steps: 4, guidanceScale: 0, seed: 42, size: 64, scheduler: 'EulerDiscreteScheduler' });
    expect(parse({ target_size: { width: 512, height: 512 } })).toMatchObject({ size: 512 });
    expect(parse({ width: null, height: null, seed: null, guidance_scale: null })).toEqual({ prompt: PROMPT, negativePrompt: '', steps: 50 });
  });

  it.each([
    [{ width: 64, height: 128 }, /parameters.width and parameters.height must be given together and be equal \(a square image\), got width 64 and height 128/],
    [{ width: 64 }, /must be given together and be equal/],
    [{ target_size: { width: 512, height: 256 } }, /parameters.target_size must be given together and be equal/],
    [{ width: 60, height: 60 }, /parameters.width must be a multiple of 8 from 8 to 2048, got 60/],
    [{ target_size: { width: 4096, height: 4096 } }, /parameters.target_size.width must be a multiple of 8 from 8 to 2048, got 4096/],
    [{ target_size: [512, 512] }, /parameters.target_size must be an object/],
    [{ num_inference_steps: 0 }, /parameters.num_inference_steps must be a positive integer, got 0/],
    [{ num_inference_steps: -3 }, /must be a positive integer, got -3/],
    [{ num_inference_steps: 2.5 }, /must be a positive integer, got 2.5/],
    [{ num_inference_steps: 100_000 }, /parameters.num_inference_steps must be at most 1000, got 100000/],
    [{ guidance_scale: -1 }, /parameters.guidance_scale must be a number of at least 0, got -1/],
    [{ guidance_scale: '7' }, /parameters.guidance_scale must be a number of at least 0, got "7"/],
    [{ seed: -1 }, /parameters.seed must be a non-negative integer, got -1/],
    [{ seed: 1.5 }, /parameters.seed must be a non-negative integer/],
    [{ negative_prompt: 3 }, /parameters.negative_prompt must be a string, got a number/],
    [{ scheduler: '' }, /parameters.scheduler must be a scheduler's class name/],
    [{ strength: 0.5 }, /Unknown parameter for text-to-image: strength\. Supported: negative_prompt, num_inference_steps, guidance_scale, seed, width, height, target_size, scheduler, num_images_per_prompt, output_type\./],
  ])('refuses %j with a 400 naming it', (parameters, message) => {
    expect(() => parse(parameters)).toThrow(message);
    try {
      parse(parameters);
    } catch (err) {
      expect((err as { status: number }).status).toBe(400);
    }
  });

  it.each([
    [42, /inputs must be a string \(the prompt\), got a number/],
    [['a', 'b'], /inputs must be a string \(the prompt\), got an array/],
    ['   ', /inputs must not be empty/],
    [undefined, /got nothing/],
  ])('refuses the prompt %j', (inputs, message) => {
    expect(() => textToImage.parse({ inputs, parameters: {} })).toThrow(message);
  });
});
