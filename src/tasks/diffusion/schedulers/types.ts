/**
 * The scheduler interface of the text-to-image task: a port of diffusers' schedulers to pure
 * TypeScript (no DOM or Node API, so it runs in a Web Worker and in Node).
 *
 * Numerics: samples are Float32Array and every per-element operation is rounded to float32 with
 * Math.fround, in the order diffusers (PyTorch, float32) evaluates it; schedule set-up follows
 * diffusers too: numpy parts in float64 (JS numbers), torch parts in float32 (fround), so the
 * timesteps and sigmas are the same floats diffusers gets.
 */

/** A latent tensor: row-major float32 data with its shape (an onnxruntime float32 Tensor fits). */
export interface Sample {
  data: Float32Array;
  dims: readonly number[];
}

/**
 * Standard normal noise, as the caller seeds it: fills `out` with N(0, 1) draws. Ancestral steps
 * (EulerAncestralDiscreteScheduler, LCMScheduler) call it once per step for a tensor of the
 * sample's size. `torchRandn(generator)` from torch-random.ts reproduces `torch.randn` on CPU.
 */
export type RandomSource = (out: Float32Array) => void;

export interface StepOptions {
  /** Required by the schedulers that add noise during a step. */
  random?: RandomSource;
}

export interface StepOutput {
  prevSample: Sample;
  /** The model's estimate of the clean sample (diffusers' `pred_original_sample` / `denoised`). */
  denoised?: Sample;
}

export interface Scheduler {
  /** The diffusers class name, e.g. "EulerDiscreteScheduler". */
  readonly name: string;
  /** The timesteps of the current schedule, in the order to run them (empty before setTimesteps). */
  readonly timesteps: number[];
  /** What initial Gaussian noise is multiplied by. */
  readonly initNoiseSigma: number;
  setTimesteps(numInferenceSteps: number): void;
  /** Scales the denoiser's input for the current timestep (identity for most schedulers). */
  scaleModelInput(sample: Sample, t: number): Sample;
  /** One denoising step: from the model's output at `t` and the current sample to the previous sample. */
  step(modelOutput: Sample, t: number, sample: Sample, options?: StepOptions): StepOutput;
  /** Noises a clean sample to the noise level of timestep `t` (img2img), as diffusers' add_noise. */
  addNoise(original: Sample, noise: Sample, t: number): Sample;
}
