/** LCMScheduler (latent consistency models), ported from diffusers' scheduling_lcm.py. */
import { badRequest } from '../../../protocol/errors.js';
import { readBool, readEnum, readInteger, readNumber, type SchedulerConfig } from './config.js';
import { checkSameSize, drawNoise, f, indexForTimestep, like, noiseSchedule, npLinspace, type NoiseSchedule } from './common.js';
import { thresholdSample } from './threshold.js';
import type { Sample, Scheduler, StepOptions, StepOutput } from './types.js';

const CLS = 'LCMScheduler';

export class LCMScheduler implements Scheduler {
  readonly name = CLS;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];
  private readonly schedule: NoiseSchedule;
  private readonly finalAlphaCumprod: number;
  private readonly originalInferenceSteps: number;
  private readonly prediction: 'epsilon' | 'sample' | 'v_prediction';
  private readonly timestepScaling: number;
  private readonly clipSample: boolean;
  private readonly clipSampleRange: number;
  private readonly thresholding: boolean;
  private readonly thresholdRatio: number;
  private readonly sampleMaxValue: number;
  private stepIndex: number | null = null;

  constructor(config: SchedulerConfig = {}) {
    this.schedule = noiseSchedule(config, CLS, { betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' }, { rescale: readBool(config, CLS, 'rescale_betas_zero_snr', false) });
    this.finalAlphaCumprod = readBool(config, CLS, 'set_alpha_to_one', true) ? 1 : this.schedule.alphasCumprod[0];
    this.originalInferenceSteps = readInteger(config, CLS, 'original_inference_steps', 50, 1);
    this.prediction = readEnum(config, CLS, 'prediction_type', ['epsilon', 'sample', 'v_prediction'], 'epsilon');
    this.timestepScaling = readNumber(config, CLS, 'timestep_scaling', 10.0);
    this.clipSample = readBool(config, CLS, 'clip_sample', false);
    this.clipSampleRange = readNumber(config, CLS, 'clip_sample_range', 1.0);
    this.thresholding = readBool(config, CLS, 'thresholding', false);
    this.thresholdRatio = readNumber(config, CLS, 'dynamic_thresholding_ratio', 0.995);
    this.sampleMaxValue = readNumber(config, CLS, 'sample_max_value', 1.0);
    // Read to validate it; diffusers' LCMScheduler's schedule (below) does not depend on timestep_spacing.
    readEnum(config, CLS, 'timestep_spacing', ['leading', 'linspace', 'trailing'], 'leading');
  }

  /** diffusers' schedule: `num_inference_steps` evenly skipped from the `original_inference_steps` LCM timesteps (strength 1). */
  setTimesteps(n: number, strength = 1): void {
    const numTrain = this.schedule.numTrainTimesteps;
    const original = this.originalInferenceSteps;
    if (!Number.isInteger(n) || n < 1) throw badRequest(`${CLS}: the number of inference steps must be a positive integer, got ${n}`);
    if (original > numTrain) throw badRequest(`${CLS}: original_inference_steps (${original}) cannot be larger than num_train_timesteps (${numTrain})`);
    if (n > numTrain) throw badRequest(`${CLS}: num_inference_steps (${n}) cannot be larger than num_train_timesteps (${numTrain})`);
    const k = Math.floor(numTrain / original);
    const origin: number[] = [];
    for (let i = 1; i <= Math.trunc(original * strength); i++) origin.push(i * k - 1);
    if (Math.floor(origin.length / n) < 1) throw badRequest(`${CLS}: original_inference_steps × strength (${original} × ${strength}) is smaller than num_inference_steps (${n})`);
    if (n > original) throw badRequest(`${CLS}: num_inference_steps (${n}) cannot be larger than original_inference_steps (${original})`);
    origin.reverse();
    this.timesteps = npLinspace(0, origin.length, n, false).map((i) => origin[Math.floor(i)]);
    this.stepIndex = null;
  }

  scaleModelInput(sample: Sample): Sample {
    return sample;
  }

  step(modelOutput: Sample, t: number, sample: Sample, options: StepOptions = {}): StepOutput {
    checkSameSize(modelOutput, sample, `${CLS}.step`);
    if (!this.timesteps.length) throw badRequest(`${CLS}: call setTimesteps before stepping`);
    if (this.stepIndex === null) this.stepIndex = indexForTimestep(this.timesteps, t, CLS);
    const index = this.stepIndex;
    const ac = this.schedule.alphasCumprod;
    const prevT = index + 1 < this.timesteps.length ? this.timesteps[index + 1] : t;
    const a = ac[t];
    const aPrev = prevT >= 0 ? ac[prevT] : this.finalAlphaCumprod;
    const b = f(1 - a);
    const bPrev = f(1 - aPrev);
    // c_skip and c_out of the boundary condition, float32 as torch computes them from the int timestep.
    const scaled = f(t * this.timestepScaling);
    const s2 = f(f(scaled * scaled) + 0.25);
    const cSkip = f(0.25 / s2);
    const cOut = f(scaled / f(Math.sqrt(s2)));
    const mo = modelOutput.data;
    const x = sample.data;
    const sqrtA = f(Math.sqrt(a));
    const sqrtB = f(Math.sqrt(b));
    let pred: Float32Array = new Float32Array(x.length);
    if (this.prediction === 'epsilon') for (let i = 0; i < x.length; i++) pred[i] = f(f(x[i] - f(sqrtB * mo[i])) / sqrtA);
    else if (this.prediction === 'v_prediction') for (let i = 0; i < x.length; i++) pred[i] = f(f(sqrtA * x[i]) - f(sqrtB * mo[i]));
    else pred.set(mo);
    if (this.thresholding) pred = thresholdSample(pred, sample.dims, this.thresholdRatio, this.sampleMaxValue);
    else if (this.clipSample) pred = pred.map((v) => Math.min(this.clipSampleRange, Math.max(-this.clipSampleRange, v)));
    const denoised = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) denoised[i] = f(f(cOut * pred[i]) + f(cSkip * x[i]));
    let prev: Float32Array = denoised;
    if (index !== this.timesteps.length - 1) {
      const noise = drawNoise(options.random, x.length, CLS);
      const sqrtAPrev = f(Math.sqrt(aPrev));
      const sqrtBPrev = f(Math.sqrt(bPrev));
      prev = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) prev[i] = f(f(sqrtAPrev * denoised[i]) + f(sqrtBPrev * noise[i]));
    }
    this.stepIndex = index + 1;
    return { prevSample: like(sample, prev), denoised: like(sample, denoised) };
  }

  addNoise(original: Sample, noise: Sample, t: number): Sample {
    checkSameSize(original, noise, `${CLS}.addNoise`);
    return like(original, ddpmAddNoise(this.schedule.alphasCumprod, original.data, noise.data, t));
  }
}

/** √ᾱₜ·x₀ + √(1−ᾱₜ)·ε (float32), the DDPM-style add_noise of LCM and PNDM. */
export function ddpmAddNoise(alphasCumprod: Float32Array, x: Float32Array, noise: Float32Array, t: number): Float32Array {
  const a = alphasCumprod[t];
  if (a === undefined) throw badRequest(`timestep ${t} is outside the training schedule`);
  const sa = f(Math.sqrt(a));
  const sb = f(Math.sqrt(f(1 - a)));
  return x.map((v, i) => f(f(sa * v) + f(sb * noise[i])));
}
