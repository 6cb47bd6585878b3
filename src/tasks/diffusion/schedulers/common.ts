/**
 * The numerics the schedulers share, ported from diffusers (and the torch / numpy routines it
 * relies on). `f` rounds to float32: torch's float32 tensors; plain JS numbers stand for numpy's
 * float64 and Python floats.
 */
import { badRequest } from '../../../protocol/errors.js';
import { readEnum, readInteger, readNumber, readNumberArray, type SchedulerConfig } from './config.js';
import type { Sample } from './types.js';

export const f = Math.fround;

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];
export type TimestepSpacing = 'linspace' | 'leading' | 'trailing';
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['linspace', 'leading', 'trailing'];

/** `torch.linspace(start, end, steps, dtype=float32)` on CPU: float32 arithmetic, symmetric from both ends. */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const s = f(start);
  const e = f(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < halfway ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
  return out;
}

/** diffusers' `betas_for_alpha_bar` with the cosine transform (Python floats, then float32). */
export function betasForAlphaBar(n: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), maxBeta);
  return out;
}

/** `torch.cumprod` of float32 on CPU: accumulated in double, each output rounded to float32. */
export function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i];
    out[i] = acc;
  }
  return out;
}

/** diffusers' `rescale_zero_terminal_snr` (float32). */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const alphas = betas.map((b) => f(1 - b));
  const sqrtBar = cumprodF32(alphas).map((a) => f(Math.sqrt(a)));
  const s0 = sqrtBar[0];
  const sT = sqrtBar[n - 1];
  const scale = f(s0 / f(s0 - sT));
  const bar = sqrtBar.map((v) => {
    const x = f(f(v - sT) * scale);
    return f(x * x);
  });
  const out = new Float32Array(n);
  out[0] = f(1 - bar[0]);
  for (let i = 1; i < n; i++) out[i] = f(1 - f(bar[i] / bar[i - 1]));
  return out;
}

export interface NoiseSchedule {
  numTrainTimesteps: number;
  betas: Float32Array;
  alphasCumprod: Float32Array;
}

/** The betas and ᾱ of a config: `trained_betas`, `beta_schedule`, `beta_start`, `beta_end` (and zero-SNR rescaling). */
export function noiseSchedule(
  config: SchedulerConfig,
  cls: string,
  defaults: { betaStart: number; betaEnd: number; betaSchedule: BetaSchedule },
  options: { rescale?: boolean } = {},
): NoiseSchedule {
  const numTrainTimesteps = readInteger(config, cls, 'num_train_timesteps', 1000, 1);
  const betaStart = readNumber(config, cls, 'beta_start', defaults.betaStart);
  const betaEnd = readNumber(config, cls, 'beta_end', defaults.betaEnd);
  const schedule = readEnum(config, cls, 'beta_schedule', BETA_SCHEDULES, defaults.betaSchedule);
  const trained = readNumberArray(config, cls, 'trained_betas');
  let betas: Float32Array;
  if (trained) {
    if (trained.length !== numTrainTimesteps) throw badRequest(`${cls} config: \`trained_betas\` must have num_train_timesteps (${numTrainTimesteps}) values, got ${trained.length}`);
    betas = Float32Array.from(trained);
  } else if (schedule === 'linear') {
    betas = torchLinspaceF32(betaStart, betaEnd, numTrainTimesteps);
  } else if (schedule === 'scaled_linear') {
    betas = torchLinspaceF32(betaStart ** 0.5, betaEnd ** 0.5, numTrainTimesteps).map((b) => f(b * b));
  } else {
    betas = betasForAlphaBar(numTrainTimesteps);
  }
  if (options.rescale) betas = rescaleZeroTerminalSnr(betas);
  const alphasCumprod = cumprodF32(betas.map((b) => f(1 - b)));
  if (options.rescale) alphasCumprod[numTrainTimesteps - 1] = 2 ** -24;
  return { numTrainTimesteps, betas, alphasCumprod };
}

/** `np.linspace(start, stop, num, endpoint)` in float64. */
export function npLinspace(start: number, stop: number, num: number, endpoint = true): number[] {
  const div = endpoint ? num - 1 : num;
  const step = (stop - start) / div;
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(div === 0 ? start : i * step + start);
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/** `np.arange(start, stop, step)` in float64. */
export function npArange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(start + i * step);
  return out;
}

/** `np.round`: half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `np.interp(x, arange(len(fp)), fp)` in float64. */
export function interpIndex(x: number, fp: ArrayLike<number>): number {
  const n = fp.length;
  if (x <= 0) return fp[0];
  if (x >= n - 1) return fp[n - 1];
  const j = Math.floor(x);
  if (j === x) return fp[j];
  const slope = fp[j + 1] - fp[j];
  return slope * (x - j) + fp[j];
}

/** σ of each training timestep: `((1 - ᾱ) / ᾱ) ** 0.5` in float32, ascending in t. */
export function trainSigmas(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
}

/** `np.log` of a float32 array (float32 out). */
export function logF32(values: Float32Array): Float32Array {
  return values.map((v) => f(Math.log(v)));
}

/** diffusers' `_sigma_to_t`: the fractional training timestep of σ, by log-σ interpolation (float64). */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  const n = logSigmas.length;
  let low = 0;
  let count = 0;
  let best = 0;
  for (let i = 0; i < n; i++) {
    if (logSigma - logSigmas[i] >= 0) count++;
    if (count > best) {
      best = count;
      low = i;
    }
  }
  low = Math.min(low, n - 2);
  const lo = logSigmas[low];
  const hi = logSigmas[low + 1];
  const w = Math.min(1, Math.max(0, (lo - logSigma) / (lo - hi)));
  return (1 - w) * low + w * (low + 1);
}

/** Karras et al. (2022) σ spacing between σ_max and σ_min (float64), as diffusers' `_convert_to_karras`. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  const rho = 7.0;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return npLinspace(0, 1, n).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** Exponential σ spacing (float64), as diffusers' `_convert_to_exponential`. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  return npLinspace(Math.log(sigmaMax), Math.log(sigmaMin), n).map(Math.exp);
}

/** The index of `t` in a schedule, as diffusers' `index_for_timestep` (the second match if there are two). */
export function indexForTimestep(timesteps: readonly number[], t: number, cls: string): number {
  const hits: number[] = [];
  for (let i = 0; i < timesteps.length && hits.length < 2; i++) if (timesteps[i] === t) hits.push(i);
  if (!hits.length) throw badRequest(`${cls}: timestep ${t} is not in the schedule`);
  return hits.length > 1 ? hits[1] : hits[0];
}

export function checkSameSize(a: Sample, b: Sample, what: string): void {
  if (a.data.length !== b.data.length) throw badRequest(`${what}: tensors of ${a.data.length} and ${b.data.length} values`);
}

export function like(sample: Sample, data: Float32Array): Sample {
  return { data, dims: sample.dims.slice() };
}

/** One draw of standard normals of the sample's size from the caller's source. */
export function drawNoise(random: ((out: Float32Array) => void) | undefined, n: number, cls: string): Float32Array {
  if (!random) throw badRequest(`${cls}.step needs a random source (options.random) for its noise`);
  const out = new Float32Array(n);
  random(out);
  return out;
}
