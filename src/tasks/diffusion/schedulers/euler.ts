/**
 * EulerDiscreteScheduler and EulerAncestralDiscreteScheduler (k-diffusion's Euler samplers), ported
 * from diffusers' scheduling_euler_discrete.py and scheduling_euler_ancestral_discrete.py.
 */
import { badRequest } from '../../../protocol/errors.js';
import { readBool, readEnum, readInteger, readNumber, type SchedulerConfig } from './config.js';
import {
  TIMESTEP_SPACINGS,
  checkSameSize,
  drawNoise,
  exponentialSigmas,
  f,
  indexForTimestep,
  interpIndex,
  karrasSigmas,
  like,
  logF32,
  noiseSchedule,
  npArange,
  npLinspace,
  roundHalfEven,
  torchLinspaceF32,
  sigmaToT,
  trainSigmas,
  type NoiseSchedule,
  type TimestepSpacing,
} from './common.js';
import type { Sample, Scheduler, StepOptions, StepOutput } from './types.js';

type Prediction = 'epsilon' | 'v_prediction' | 'sample';

/** The discrete timesteps of a spacing (float32 values, as the Euler schedulers keep them). */
function eulerTimesteps(spacing: TimestepSpacing, numTrain: number, n: number, stepsOffset: number): number[] {
  if (spacing === 'linspace') return npLinspace(0, numTrain - 1, n).map(f).reverse();
  if (spacing === 'leading') {
    const ratio = Math.floor(numTrain / n);
    return npArange(0, n, 1).map((i) => f(f(roundHalfEven(i * ratio)) + stepsOffset)).reverse();
  }
  const ratio = numTrain / n;
  return npArange(numTrain, 0, -ratio).map((t) => f(f(roundHalfEven(t)) - 1));
}

abstract class EulerBase implements Scheduler {
  abstract readonly name: string;
  timesteps: number[] = [];
  /** σ per step, float32, with the final σ appended. */
  sigmas: Float32Array = new Float32Array(0);
  protected readonly schedule: NoiseSchedule;
  protected readonly prediction: Prediction;
  protected readonly spacing: TimestepSpacing;
  protected readonly stepsOffset: number;
  protected stepIndex: number | null = null;

  protected constructor(
    protected readonly config: SchedulerConfig,
    cls: string,
    predictions: readonly Prediction[],
  ) {
    this.schedule = noiseSchedule(config, cls, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear' }, { rescale: readBool(config, cls, 'rescale_betas_zero_snr', false) });
    this.prediction = readEnum(config, cls, 'prediction_type', predictions, 'epsilon');
    this.spacing = readEnum(config, cls, 'timestep_spacing', TIMESTEP_SPACINGS, 'linspace');
    this.stepsOffset = readInteger(config, cls, 'steps_offset', 0);
    // Before setTimesteps, as diffusers: every training timestep.
    const sig = trainSigmas(this.schedule.alphasCumprod).reverse();
    this.sigmas = Float32Array.from([...sig, 0]);
  }

  get initNoiseSigma(): number {
    let max = 0;
    for (const s of this.sigmas) max = Math.max(max, s);
    return this.spacing === 'linspace' || this.spacing === 'trailing' ? max : f(Math.sqrt(f(f(max * max) + 1)));
  }

  abstract setTimesteps(n: number): void;

  protected ensureIndex(t: number): number {
    if (!this.timesteps.length) throw badRequest(`${this.name}: call setTimesteps before stepping`);
    if (this.stepIndex === null) this.stepIndex = indexForTimestep(this.timesteps, t, this.name);
    return this.stepIndex;
  }

  scaleModelInput(sample: Sample, t: number): Sample {
    const sigma = this.sigmas[this.ensureIndex(t)];
    const scale = f(Math.sqrt(f(f(sigma * sigma) + 1)));
    return like(sample, sample.data.map((x) => f(x / scale)));
  }

  /** x̂₀ from the model output at σ (float32, as diffusers). */
  protected predictOriginal(mo: Float32Array, x: Float32Array, sigma: number, sigmaHat: number): Float32Array {
    const out = new Float32Array(x.length);
    if (this.prediction === 'epsilon') {
      for (let i = 0; i < x.length; i++) out[i] = f(x[i] - f(sigmaHat * mo[i]));
    } else if (this.prediction === 'v_prediction') {
      const s2p1 = f(f(sigma * sigma) + 1);
      const c = f(-sigma / f(Math.sqrt(s2p1)));
      for (let i = 0; i < x.length; i++) out[i] = f(f(mo[i] * c) + f(x[i] / s2p1));
    } else {
      out.set(mo);
    }
    return out;
  }

  abstract step(modelOutput: Sample, t: number, sample: Sample, options?: StepOptions): StepOutput;

  addNoise(original: Sample, noise: Sample, t: number): Sample {
    checkSameSize(original, noise, `${this.name}.addNoise`);
    const index = this.stepIndex ?? indexForTimestep(this.timesteps, t, this.name);
    const sigma = this.sigmas[index];
    return like(original, original.data.map((x, i) => f(x + f(noise.data[i] * sigma))));
  }
}

export class EulerDiscreteScheduler extends EulerBase {
  readonly name = 'EulerDiscreteScheduler';
  private readonly interpolation: 'linear' | 'log_linear';
  private readonly sigmaSpacing: 'karras' | 'exponential' | null;
  private readonly sigmaMin: number | null;
  private readonly sigmaMax: number | null;
  private readonly finalSigmas: 'zero' | 'sigma_min';
  private readonly continuousV: boolean;

  constructor(config: SchedulerConfig = {}) {
    const cls = 'EulerDiscreteScheduler';
    super(config, cls, ['epsilon', 'v_prediction', 'sample']);
    this.interpolation = readEnum(config, cls, 'interpolation_type', ['linear', 'log_linear'], 'linear');
    const karras = readBool(config, cls, 'use_karras_sigmas', false);
    const exponential = readBool(config, cls, 'use_exponential_sigmas', false);
    if (readBool(config, cls, 'use_beta_sigmas', false)) throw badRequest(`${cls} config: \`use_beta_sigmas\` is not supported`);
    if (karras && exponential) throw badRequest(`${cls} config: only one of \`use_karras_sigmas\` and \`use_exponential_sigmas\` can be true`);
    this.sigmaSpacing = karras ? 'karras' : exponential ? 'exponential' : null;
    this.sigmaMin = config.sigma_min == null ? null : readNumber(config, cls, 'sigma_min', 0);
    this.sigmaMax = config.sigma_max == null ? null : readNumber(config, cls, 'sigma_max', 0);
    this.finalSigmas = readEnum(config, cls, 'final_sigmas_type', ['zero', 'sigma_min'], 'zero');
    const timestepType = readEnum(config, cls, 'timestep_type', ['discrete', 'continuous'], 'discrete');
    this.continuousV = timestepType === 'continuous' && this.prediction === 'v_prediction';
  }

  setTimesteps(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw badRequest(`${this.name}: the number of inference steps must be a positive integer, got ${n}`);
    const { alphasCumprod, numTrainTimesteps } = this.schedule;
    let timesteps: number[] = eulerTimesteps(this.spacing, numTrainTimesteps, n, this.stepsOffset);
    const train = trainSigmas(alphasCumprod);
    const logSigmas = logF32(train);
    let sigmas: number[];
    if (this.interpolation === 'linear') {
      sigmas = timesteps.map((t) => interpIndex(t, train));
    } else {
      // torch.linspace(log σ_last, log σ_0, n + 1).exp(), in float32
      const lin = torchLinspaceF32(f(Math.log(train[train.length - 1])), f(Math.log(train[0])), n + 1);
      sigmas = Array.from(lin, (v) => f(Math.exp(v)));
    }
    if (this.sigmaSpacing) {
      const sMin = this.sigmaMin ?? sigmas[sigmas.length - 1];
      const sMax = this.sigmaMax ?? sigmas[0];
      sigmas = this.sigmaSpacing === 'karras' ? karrasSigmas(sMin, sMax, n) : exponentialSigmas(sMin, sMax, n);
      timesteps = sigmas.map((s) => f(sigmaToT(s, logSigmas)));
    }
    const last = this.finalSigmas === 'sigma_min' ? train[0] : 0;
    this.sigmas = Float32Array.from([...sigmas, last]);
    this.timesteps = this.continuousV ? Array.from(this.sigmas.subarray(0, n), (s) => f(0.25 * f(Math.log(s)))) : timesteps.map(f);
    this.stepIndex = null;
  }

  step(modelOutput: Sample, t: number, sample: Sample, options: StepOptions & { sChurn?: number; sTmin?: number; sTmax?: number; sNoise?: number } = {}): StepOutput {
    checkSameSize(modelOutput, sample, `${this.name}.step`);
    const index = this.ensureIndex(t);
    const sigma = this.sigmas[index];
    const { sChurn = 0, sTmin = 0, sTmax = Infinity, sNoise = 1 } = options;
    const gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (this.sigmas.length - 1), 2 ** 0.5 - 1) : 0;
    const sigmaHat = f(sigma * (gamma + 1));
    let x = sample.data;
    if (gamma > 0) {
      const noise = drawNoise(options.random, x.length, this.name);
      const c = f(Math.sqrt(f(f(sigmaHat * sigmaHat) - f(sigma * sigma))));
      x = x.map((v, i) => f(v + f(f(noise[i] * sNoise) * c)));
    }
    const mo = modelOutput.data;
    const pred = this.predictOriginal(mo, x, sigma, sigmaHat);
    const dt = f(this.sigmas[index + 1] - sigmaHat);
    const prev = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) prev[i] = f(x[i] + f(f(f(x[i] - pred[i]) / sigmaHat) * dt));
    this.stepIndex = index + 1;
    return { prevSample: like(sample, prev), denoised: like(sample, pred) };
  }
}

export class EulerAncestralDiscreteScheduler extends EulerBase {
  readonly name = 'EulerAncestralDiscreteScheduler';

  constructor(config: SchedulerConfig = {}) {
    super(config, 'EulerAncestralDiscreteScheduler', ['epsilon', 'v_prediction']);
  }

  setTimesteps(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw badRequest(`${this.name}: the number of inference steps must be a positive integer, got ${n}`);
    const { alphasCumprod, numTrainTimesteps } = this.schedule;
    const timesteps = eulerTimesteps(this.spacing, numTrainTimesteps, n, this.stepsOffset);
    const train = trainSigmas(alphasCumprod);
    this.sigmas = Float32Array.from([...timesteps.map((t) => interpIndex(t, train)), 0]);
    this.timesteps = timesteps;
    this.stepIndex = null;
  }

  step(modelOutput: Sample, t: number, sample: Sample, options: StepOptions = {}): StepOutput {
    checkSameSize(modelOutput, sample, `${this.name}.step`);
    const index = this.ensureIndex(t);
    const sigma = this.sigmas[index];
    const x = sample.data;
    const pred = this.predictOriginal(modelOutput.data, x, sigma, sigma);
    const from2 = f(sigma * sigma);
    const to = this.sigmas[index + 1];
    const to2 = f(to * to);
    const sigmaUp = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
    const sigmaDown = f(Math.sqrt(f(to2 - f(sigmaUp * sigmaUp))));
    const dt = f(sigmaDown - sigma);
    const noise = drawNoise(options.random, x.length, this.name);
    const prev = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const p = f(x[i] + f(f(f(x[i] - pred[i]) / sigma) * dt));
      prev[i] = f(p + f(noise[i] * sigmaUp));
    }
    this.stepIndex = index + 1;
    return { prevSample: like(sample, prev), denoised: like(sample, pred) };
  }
}
