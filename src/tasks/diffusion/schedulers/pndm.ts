/**
 * PNDMScheduler (pseudo numerical methods: Runge–Kutta warm-up, then linear multistep), ported
 * from diffusers' scheduling_pndm.py. With `skip_prk_steps` (Stable Diffusion's configs) it runs
 * PLMS only. `step` dispatches to the PRK or PLMS step as diffusers' does.
 */
import { badRequest } from '../../../protocol/errors.js';
import { readBool, readEnum, readInteger, type SchedulerConfig } from './config.js';
import { TIMESTEP_SPACINGS, checkSameSize, f, like, noiseSchedule, npArange, npLinspace, roundHalfEven, type NoiseSchedule, type TimestepSpacing } from './common.js';
import { ddpmAddNoise } from './lcm.js';
import type { Sample, Scheduler, StepOutput } from './types.js';

const CLS = 'PNDMScheduler';
const PNDM_ORDER = 4;

export class PNDMScheduler implements Scheduler {
  readonly name = CLS;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];
  prkTimesteps: number[] = [];
  plmsTimesteps: number[] = [];
  private readonly schedule: NoiseSchedule;
  private readonly skipPrkSteps: boolean;
  private readonly finalAlphaCumprod: number;
  private readonly prediction: 'epsilon' | 'v_prediction';
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private numInferenceSteps = 0;
  private curModelOutput: Float32Array | null = null;
  private curSample: Float32Array | null = null;
  private ets: Float32Array[] = [];
  private counter = 0;

  constructor(config: SchedulerConfig = {}) {
    this.schedule = noiseSchedule(config, CLS, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear' });
    this.skipPrkSteps = readBool(config, CLS, 'skip_prk_steps', false);
    this.finalAlphaCumprod = readBool(config, CLS, 'set_alpha_to_one', false) ? 1 : this.schedule.alphasCumprod[0];
    this.prediction = readEnum(config, CLS, 'prediction_type', ['epsilon', 'v_prediction'], 'epsilon');
    this.spacing = readEnum(config, CLS, 'timestep_spacing', TIMESTEP_SPACINGS, 'leading');
    this.stepsOffset = readInteger(config, CLS, 'steps_offset', 0);
  }

  setTimesteps(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw badRequest(`${CLS}: the number of inference steps must be a positive integer, got ${n}`);
    const numTrain = this.schedule.numTrainTimesteps;
    this.numInferenceSteps = n;
    let ts: number[];
    if (this.spacing === 'linspace') ts = npLinspace(0, numTrain - 1, n).map(roundHalfEven);
    else if (this.spacing === 'leading') {
      const ratio = Math.floor(numTrain / n);
      ts = npArange(0, n, 1).map((i) => roundHalfEven(i * ratio) + this.stepsOffset);
    } else {
      ts = npArange(numTrain, 0, -(numTrain / n)).map(roundHalfEven).reverse().map((t) => t - 1);
    }
    if (this.skipPrkSteps) {
      this.prkTimesteps = [];
      this.plmsTimesteps = [...ts.slice(0, -1), ...ts.slice(-2, -1), ...ts.slice(-1)].reverse();
    } else {
      if (ts.length < PNDM_ORDER) throw badRequest(`${CLS}: without skip_prk_steps, at least ${PNDM_ORDER} inference steps are needed, got ${n}`);
      const half = Math.floor(Math.floor(numTrain / n) / 2);
      const prk: number[] = [];
      for (const t of ts.slice(-PNDM_ORDER)) prk.push(t, t + half);
      // prk[:-1].repeat(2)[1:-1][::-1]
      const repeated = prk.slice(0, -1).flatMap((t) => [t, t]);
      this.prkTimesteps = repeated.slice(1, -1).reverse();
      this.plmsTimesteps = ts.slice(0, -3).reverse();
    }
    this.timesteps = [...this.prkTimesteps, ...this.plmsTimesteps];
    this.ets = [];
    this.counter = 0;
    this.curModelOutput = null;
    this.curSample = null;
  }

  scaleModelInput(sample: Sample): Sample {
    return sample;
  }

  step(modelOutput: Sample, t: number, sample: Sample): StepOutput {
    checkSameSize(modelOutput, sample, `${CLS}.step`);
    if (!this.numInferenceSteps) throw badRequest(`${CLS}: call setTimesteps before stepping`);
    const prev = this.counter < this.prkTimesteps.length && !this.skipPrkSteps ? this.stepPrk(modelOutput.data, t, sample.data) : this.stepPlms(modelOutput.data, t, sample.data);
    return { prevSample: like(sample, prev) };
  }

  private stepPrk(mo: Float32Array, t: number, x: Float32Array): Float32Array {
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(Math.floor(this.schedule.numTrainTimesteps / this.numInferenceSteps) / 2);
    const prevT = t - diffToPrev;
    const timestep = this.prkTimesteps[Math.floor(this.counter / 4) * 4];
    const phase = this.counter % 4;
    let output = mo;
    const acc = (w: number) => {
      const wf = f(w);
      const cur = this.curModelOutput;
      this.curModelOutput = mo.map((v, i) => (cur ? f(cur[i] + f(wf * v)) : f(wf * v)));
    };
    if (phase === 0) {
      acc(1 / 6);
      this.ets.push(mo);
      this.curSample = x;
    } else if (phase === 1 || phase === 2) {
      acc(1 / 3);
    } else {
      const cur = this.curModelOutput!;
      const w = f(1 / 6);
      output = mo.map((v, i) => f(cur[i] + f(w * v)));
      this.curModelOutput = null;
    }
    const prev = this.prevSample(this.curSample ?? x, timestep, prevT, output);
    this.counter++;
    return prev;
  }

  private stepPlms(mo: Float32Array, t: number, x: Float32Array): Float32Array {
    if (!this.skipPrkSteps && this.ets.length < 3) throw badRequest(`${CLS}: PLMS steps can only run after the ${this.prkTimesteps.length} PRK steps`);
    const ratio = Math.floor(this.schedule.numTrainTimesteps / this.numInferenceSteps);
    let prevT = t - ratio;
    let timestep = t;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(mo);
    } else {
      prevT = t;
      timestep = t + ratio;
    }
    const e = this.ets;
    const k = e.length;
    let output: Float32Array;
    let sample = x;
    if (k === 1 && this.counter === 0) {
      output = mo;
      this.curSample = x;
    } else if (k === 1 && this.counter === 1) {
      const e1 = e[0];
      output = mo.map((v, i) => f(f(v + e1[i]) / 2));
      sample = this.curSample!;
      this.curSample = null;
    } else if (k === 2) {
      const [e2, e1] = e;
      output = e1.map((v, i) => f(f(f(3 * v) - e2[i]) / 2));
    } else if (k === 3) {
      const [e3, e2, e1] = e;
      output = e1.map((v, i) => f(f(f(f(23 * v) - f(16 * e2[i])) + f(5 * e3[i])) / 12));
    } else {
      const [e4, e3, e2, e1] = e.slice(-4);
      const w = f(1 / 24);
      output = e1.map((v, i) => f(w * f(f(f(f(55 * v) - f(59 * e2[i])) + f(37 * e3[i])) - f(9 * e4[i]))));
    }
    const prev = this.prevSample(sample, timestep, prevT, output);
    this.counter++;
    return prev;
  }

  private prevSample(x: Float32Array, t: number, prevT: number, mo: Float32Array): Float32Array {
    const ac = this.schedule.alphasCumprod;
    const a = ac[t];
    if (a === undefined) throw badRequest(`${CLS}: timestep ${t} is outside the training schedule`);
    const ap = prevT >= 0 ? ac[prevT] : this.finalAlphaCumprod;
    const b = f(1 - a);
    const bp = f(1 - ap);
    let out = mo;
    if (this.prediction === 'v_prediction') {
      const sa = f(Math.sqrt(a));
      const sb = f(Math.sqrt(b));
      out = mo.map((v, i) => f(f(sa * v) + f(sb * x[i])));
    }
    const sampleCoeff = f(Math.sqrt(f(ap / a)));
    const denom = f(f(a * f(Math.sqrt(bp))) + f(Math.sqrt(f(f(a * b) * ap))));
    const diff = f(ap - a);
    return x.map((v, i) => f(f(sampleCoeff * v) - f(f(diff * out[i]) / denom)));
  }

  addNoise(original: Sample, noise: Sample, t: number): Sample {
    checkSameSize(original, noise, `${CLS}.addNoise`);
    return like(original, ddpmAddNoise(this.schedule.alphasCumprod, original.data, noise.data, t));
  }
}
