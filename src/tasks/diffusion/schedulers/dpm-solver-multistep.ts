/**
 * DPMSolverMultistepScheduler (DPM-Solver / DPM-Solver++, orders 1–3, midpoint or Heun), ported
 * from diffusers' scheduling_dpmsolver_multistep.py. The Hugging Face Endpoint installs it on every
 * Stable Diffusion pipeline. The SDE variants need `options.random`.
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
  sigmaToT,
  trainSigmas,
  type NoiseSchedule,
  type TimestepSpacing,
} from './common.js';
import { thresholdSample } from './threshold.js';
import type { Sample, Scheduler, StepOptions, StepOutput } from './types.js';

const CLS = 'DPMSolverMultistepScheduler';
type Algorithm = 'dpmsolver' | 'dpmsolver++' | 'sde-dpmsolver' | 'sde-dpmsolver++';

/** α and σ of a noise level σ_k (VP: α = 1/√(σ²+1), σ_t = σ·α), float32. */
function alphaSigma(sigma: number): [number, number, number] {
  const alpha = f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1))));
  const sig = f(sigma * alpha);
  const lambda = f(f(Math.log(alpha)) - f(Math.log(sig)));
  return [alpha, sig, lambda];
}

export class DPMSolverMultistepScheduler implements Scheduler {
  readonly name = CLS;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];
  sigmas: Float32Array = new Float32Array(0);
  private readonly schedule: NoiseSchedule;
  private readonly solverOrder: number;
  private readonly prediction: 'epsilon' | 'sample' | 'v_prediction';
  private readonly algorithm: Algorithm;
  private readonly solverType: 'midpoint' | 'heun';
  private readonly lowerOrderFinal: boolean;
  private readonly eulerAtFinal: boolean;
  private readonly sigmaSpacing: 'karras' | 'exponential' | 'lu' | null;
  private readonly finalSigmas: 'zero' | 'sigma_min';
  private readonly lambdaMinClipped: number;
  private readonly learnedVariance: boolean;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly betaSchedule: string;
  private readonly thresholding: boolean;
  private readonly thresholdRatio: number;
  private readonly sampleMaxValue: number;
  private modelOutputs: (Float32Array | null)[] = [];
  private lowerOrderNums = 0;
  private stepIndex: number | null = null;

  constructor(config: SchedulerConfig = {}) {
    this.schedule = noiseSchedule(config, CLS, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear' }, { rescale: readBool(config, CLS, 'rescale_betas_zero_snr', false) });
    this.betaSchedule = typeof config.beta_schedule === 'string' ? config.beta_schedule : 'linear';
    this.solverOrder = readInteger(config, CLS, 'solver_order', 2, 1);
    if (this.solverOrder > 3) throw badRequest(`${CLS} config: \`solver_order\` must be 1, 2 or 3, got ${this.solverOrder}`);
    this.prediction = readEnum(config, CLS, 'prediction_type', ['epsilon', 'sample', 'v_prediction'], 'epsilon');
    // diffusers maps the DEIS / UniPC names to DPM-Solver++ / midpoint when a config is switched over.
    const algorithm = config.algorithm_type === 'deis' ? 'dpmsolver++' : config.algorithm_type;
    this.algorithm = readEnum({ algorithm_type: algorithm }, CLS, 'algorithm_type', ['dpmsolver', 'dpmsolver++', 'sde-dpmsolver', 'sde-dpmsolver++'], 'dpmsolver++');
    const solver = typeof config.solver_type === 'string' && ['logrho', 'bh1', 'bh2'].includes(config.solver_type) ? 'midpoint' : config.solver_type;
    if (this.algorithm === 'sde-dpmsolver' && this.solverOrder === 3) throw badRequest(`${CLS} config: \`algorithm_type\` "sde-dpmsolver" supports \`solver_order\` 1 and 2`);
    this.solverType = readEnum({ solver_type: solver }, CLS, 'solver_type', ['midpoint', 'heun'], 'midpoint');
    this.lowerOrderFinal = readBool(config, CLS, 'lower_order_final', true);
    this.eulerAtFinal = readBool(config, CLS, 'euler_at_final', false);
    const karras = readBool(config, CLS, 'use_karras_sigmas', false);
    const exponential = readBool(config, CLS, 'use_exponential_sigmas', false);
    const lu = readBool(config, CLS, 'use_lu_lambdas', false);
    if (readBool(config, CLS, 'use_beta_sigmas', false)) throw badRequest(`${CLS} config: \`use_beta_sigmas\` is not supported`);
    if (readBool(config, CLS, 'use_flow_sigmas', false)) throw badRequest(`${CLS} config: \`use_flow_sigmas\` is not supported`);
    if (Number(karras) + Number(exponential) > 1) throw badRequest(`${CLS} config: only one of \`use_karras_sigmas\` and \`use_exponential_sigmas\` can be true`);
    this.sigmaSpacing = karras ? 'karras' : lu ? 'lu' : exponential ? 'exponential' : null;
    this.finalSigmas = readEnum(config, CLS, 'final_sigmas_type', ['zero', 'sigma_min'], 'zero');
    if ((this.algorithm === 'dpmsolver' || this.algorithm === 'sde-dpmsolver') && this.finalSigmas === 'zero') {
      throw badRequest(`${CLS} config: \`final_sigmas_type\` "zero" is not supported for \`algorithm_type\` "${this.algorithm}"; use "sigma_min"`);
    }
    this.lambdaMinClipped = readNumber(config, CLS, 'lambda_min_clipped', -Infinity);
    const variance = config.variance_type ?? null;
    if (variance !== null && variance !== 'learned' && variance !== 'learned_range') throw badRequest(`${CLS} config: \`variance_type\` must be null, "learned" or "learned_range"`);
    this.learnedVariance = variance !== null;
    this.spacing = readEnum(config, CLS, 'timestep_spacing', TIMESTEP_SPACINGS, 'linspace');
    this.stepsOffset = readInteger(config, CLS, 'steps_offset', 0);
    this.thresholding = readBool(config, CLS, 'thresholding', false);
    this.thresholdRatio = readNumber(config, CLS, 'dynamic_thresholding_ratio', 0.995);
    this.sampleMaxValue = readNumber(config, CLS, 'sample_max_value', 1.0);
  }

  setTimesteps(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw badRequest(`${CLS}: the number of inference steps must be a positive integer, got ${n}`);
    const { alphasCumprod: ac, numTrainTimesteps: numTrain } = this.schedule;
    // searchsorted(flip(λ_t), lambda_min_clipped)
    let clipped = 0;
    for (let i = ac.length - 1; i >= 0; i--) {
      const lambda = f(f(Math.log(f(Math.sqrt(ac[i])))) - f(Math.log(f(Math.sqrt(f(1 - ac[i]))))));
      if (lambda >= this.lambdaMinClipped) break;
      clipped++;
    }
    const lastTimestep = numTrain - clipped;
    let timesteps: number[];
    if (this.spacing === 'linspace') {
      timesteps = npLinspace(0, lastTimestep - 1, n + 1).map(roundHalfEven).reverse().slice(0, -1);
    } else if (this.spacing === 'leading') {
      const ratio = Math.floor(lastTimestep / (n + 1));
      timesteps = npArange(0, n + 1, 1).map((i) => roundHalfEven(i * ratio) + this.stepsOffset).reverse().slice(0, -1);
    } else {
      const ratio = numTrain / n;
      timesteps = npArange(lastTimestep, 0, -ratio).map((t) => roundHalfEven(t) - 1);
    }
    const train = trainSigmas(ac);
    const logSigmas = logF32(train);
    let sigmas: number[];
    const roundT = this.betaSchedule !== 'squaredcos_cap_v2';
    if (this.sigmaSpacing === 'karras' || this.sigmaSpacing === 'exponential') {
      const sMin = train[0];
      const sMax = train[train.length - 1];
      sigmas = this.sigmaSpacing === 'karras' ? karrasSigmas(sMin, sMax, n) : exponentialSigmas(sMin, sMax, n);
      timesteps = sigmas.map((s) => sigmaToT(s, logSigmas));
      if (this.sigmaSpacing === 'karras' && roundT) timesteps = timesteps.map(roundHalfEven);
    } else if (this.sigmaSpacing === 'lu') {
      const lMin = logSigmas[0];
      const lMax = logSigmas[logSigmas.length - 1];
      sigmas = npLinspace(0, 1, n).map((r) => Math.exp(lMax + r * (lMin - lMax)));
      timesteps = sigmas.map((s) => sigmaToT(s, logSigmas));
      if (roundT) timesteps = timesteps.map(roundHalfEven);
    } else {
      sigmas = timesteps.map((t) => interpIndex(t, train));
    }
    const last = this.finalSigmas === 'sigma_min' ? train[0] : 0;
    this.sigmas = Float32Array.from([...sigmas, last]);
    // .astype(int64) truncates
    this.timesteps = timesteps.map(Math.trunc);
    this.modelOutputs = new Array<Float32Array | null>(this.solverOrder).fill(null);
    this.lowerOrderNums = 0;
    this.stepIndex = null;
  }

  scaleModelInput(sample: Sample): Sample {
    return sample;
  }

  private get isPlusPlus(): boolean {
    return this.algorithm === 'dpmsolver++' || this.algorithm === 'sde-dpmsolver++';
  }

  /** The model output as the solver uses it: x̂₀ (DPM-Solver++) or ε (DPM-Solver). */
  private convertModelOutput(modelOutput: Sample, sample: Sample, index: number): Float32Array {
    const x = sample.data;
    let mo = modelOutput.data;
    if (this.learnedVariance && this.prediction === 'epsilon') {
      // model_output[:, :3]
      const [batch, channels] = modelOutput.dims;
      const per = mo.length / (batch * channels);
      const kept = new Float32Array(batch * 3 * per);
      for (let b = 0; b < batch; b++) kept.set(mo.subarray(b * channels * per, (b * channels + 3) * per), b * 3 * per);
      mo = kept;
    }
    checkSameSize({ data: mo, dims: [] }, sample, `${CLS}.step`);
    const [alphaT, sigmaT] = alphaSigma(this.sigmas[index]);
    const out = new Float32Array(x.length);
    if (this.isPlusPlus) {
      if (this.prediction === 'epsilon') for (let i = 0; i < x.length; i++) out[i] = f(f(x[i] - f(sigmaT * mo[i])) / alphaT);
      else if (this.prediction === 'sample') out.set(mo);
      else for (let i = 0; i < x.length; i++) out[i] = f(f(alphaT * x[i]) - f(sigmaT * mo[i]));
      return this.thresholding ? thresholdSample(out, sample.dims, this.thresholdRatio, this.sampleMaxValue) : out;
    }
    if (this.prediction === 'epsilon') out.set(mo);
    else if (this.prediction === 'sample') for (let i = 0; i < x.length; i++) out[i] = f(f(x[i] - f(alphaT * mo[i])) / sigmaT);
    else for (let i = 0; i < x.length; i++) out[i] = f(f(alphaT * mo[i]) + f(sigmaT * x[i]));
    if (this.thresholding) {
      const x0 = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) x0[i] = f(f(x[i] - f(sigmaT * out[i])) / alphaT);
      const th = thresholdSample(x0, sample.dims, this.thresholdRatio, this.sampleMaxValue);
      for (let i = 0; i < x.length; i++) out[i] = f(f(x[i] - f(alphaT * th[i])) / sigmaT);
    }
    return out;
  }

  step(modelOutput: Sample, t: number, sample: Sample, options: StepOptions = {}): StepOutput {
    if (!this.timesteps.length) throw badRequest(`${CLS}: call setTimesteps before stepping`);
    if (this.stepIndex === null) {
      const hits = this.timesteps.filter((v) => v === t).length;
      this.stepIndex = hits === 0 ? this.timesteps.length - 1 : indexForTimestep(this.timesteps, t, CLS);
    }
    const index = this.stepIndex;
    const n = this.timesteps.length;
    const lowerOrderFinal = index === n - 1 && (this.eulerAtFinal || (this.lowerOrderFinal && n < 15) || this.finalSigmas === 'zero');
    const lowerOrderSecond = index === n - 2 && this.lowerOrderFinal && n < 15;
    const m = this.convertModelOutput(modelOutput, sample, index);
    for (let i = 0; i < this.solverOrder - 1; i++) this.modelOutputs[i] = this.modelOutputs[i + 1];
    this.modelOutputs[this.solverOrder - 1] = m;
    const sde = this.algorithm === 'sde-dpmsolver' || this.algorithm === 'sde-dpmsolver++';
    const noise = sde ? drawNoise(options.random, m.length, CLS) : null;
    let prev: Float32Array;
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) prev = this.firstOrder(m, sample.data, noise, index);
    else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) prev = this.secondOrder(sample.data, noise, index);
    else prev = this.thirdOrder(sample.data, noise, index);
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.stepIndex = index + 1;
    return { prevSample: like(sample, prev), denoised: this.isPlusPlus ? like(sample, m) : undefined };
  }

  private firstOrder(m: Float32Array, x: Float32Array, noise: Float32Array | null, k: number): Float32Array {
    const [alphaT, sigmaT, lambdaT] = alphaSigma(this.sigmas[k + 1]);
    const [alphaS, sigmaS, lambdaS] = alphaSigma(this.sigmas[k]);
    const h = f(lambdaT - lambdaS);
    const out = new Float32Array(x.length);
    if (this.algorithm === 'dpmsolver++') {
      const a = f(sigmaT / sigmaS);
      const b = f(alphaT * f(f(Math.exp(-h)) - 1));
      for (let i = 0; i < x.length; i++) out[i] = f(f(a * x[i]) - f(b * m[i]));
    } else if (this.algorithm === 'dpmsolver') {
      const a = f(alphaT / alphaS);
      const b = f(sigmaT * f(f(Math.exp(h)) - 1));
      for (let i = 0; i < x.length; i++) out[i] = f(f(a * x[i]) - f(b * m[i]));
    } else if (this.algorithm === 'sde-dpmsolver++') {
      const a = f(f(sigmaT / sigmaS) * f(Math.exp(-h)));
      const e2 = f(Math.exp(f(-2 * h)));
      const b = f(alphaT * f(1 - e2));
      const c = f(sigmaT * f(Math.sqrt(f(1 - e2))));
      for (let i = 0; i < x.length; i++) out[i] = f(f(f(a * x[i]) + f(b * m[i])) + f(c * noise![i]));
    } else {
      const a = f(alphaT / alphaS);
      const eh = f(Math.exp(h));
      const b = f(2 * f(sigmaT * f(eh - 1)));
      const c = f(sigmaT * f(Math.sqrt(f(f(Math.exp(f(2 * h))) - 1))));
      for (let i = 0; i < x.length; i++) out[i] = f(f(f(a * x[i]) - f(b * m[i])) + f(c * noise![i]));
    }
    return out;
  }

  private secondOrder(x: Float32Array, noise: Float32Array | null, k: number): Float32Array {
    const [alphaT, sigmaT, lambdaT] = alphaSigma(this.sigmas[k + 1]);
    const [alphaS0, sigmaS0, lambdaS0] = alphaSigma(this.sigmas[k]);
    const [, , lambdaS1] = alphaSigma(this.sigmas[k - 1]);
    const m0 = this.modelOutputs[this.solverOrder - 1]!;
    const m1 = this.modelOutputs[this.solverOrder - 2]!;
    const h = f(lambdaT - lambdaS0);
    const h0 = f(lambdaS0 - lambdaS1);
    const r0 = f(h0 / h);
    const invR0 = f(1 / r0);
    const out = new Float32Array(x.length);
    const alg = this.algorithm;
    const heun = this.solverType === 'heun';
    const emh = f(Math.exp(-h));
    const eh = f(Math.exp(h));
    const e2 = f(Math.exp(f(-2 * h)));
    for (let i = 0; i < x.length; i++) {
      const d0 = m0[i];
      const d1 = f(invR0 * f(m0[i] - m1[i]));
      let v: number;
      if (alg === 'dpmsolver++') {
        const base = f(f(f(sigmaT / sigmaS0) * x[i]) - f(f(alphaT * f(emh - 1)) * d0));
        v = heun ? f(base + f(f(alphaT * f(f(f(emh - 1) / h) + 1)) * d1)) : f(base - f(f(0.5 * f(alphaT * f(emh - 1))) * d1));
      } else if (alg === 'dpmsolver') {
        const base = f(f(f(alphaT / alphaS0) * x[i]) - f(f(sigmaT * f(eh - 1)) * d0));
        v = heun ? f(base - f(f(sigmaT * f(f(f(eh - 1) / h) - 1)) * d1)) : f(base - f(f(0.5 * f(sigmaT * f(eh - 1))) * d1));
      } else if (alg === 'sde-dpmsolver++') {
        const base = f(f(f(f(sigmaT / sigmaS0) * emh) * x[i]) + f(f(alphaT * f(1 - e2)) * d0));
        const c1 = heun ? f(alphaT * f(f(f(1 - e2) / f(-2 * h)) + 1)) : f(0.5 * f(alphaT * f(1 - e2)));
        v = f(f(base + f(c1 * d1)) + f(f(sigmaT * f(Math.sqrt(f(1 - e2)))) * noise![i]));
      } else {
        const base = f(f(f(alphaT / alphaS0) * x[i]) - f(f(2 * f(sigmaT * f(eh - 1))) * d0));
        const c1 = heun ? f(2 * f(sigmaT * f(f(f(eh - 1) / h) - 1))) : f(sigmaT * f(eh - 1));
        v = f(f(base - f(c1 * d1)) + f(f(sigmaT * f(Math.sqrt(f(f(Math.exp(f(2 * h))) - 1)))) * noise![i]));
      }
      out[i] = v;
    }
    return out;
  }

  private thirdOrder(x: Float32Array, noise: Float32Array | null, k: number): Float32Array {
    const [alphaT, sigmaT, lambdaT] = alphaSigma(this.sigmas[k + 1]);
    const [alphaS0, sigmaS0, lambdaS0] = alphaSigma(this.sigmas[k]);
    const [, , lambdaS1] = alphaSigma(this.sigmas[k - 1]);
    const [, , lambdaS2] = alphaSigma(this.sigmas[k - 2]);
    const m0 = this.modelOutputs[this.solverOrder - 1]!;
    const m1 = this.modelOutputs[this.solverOrder - 2]!;
    const m2 = this.modelOutputs[this.solverOrder - 3]!;
    const h = f(lambdaT - lambdaS0);
    const r0 = f(f(lambdaS0 - lambdaS1) / h);
    const r1 = f(f(lambdaS1 - lambdaS2) / h);
    const invR0 = f(1 / r0);
    const invR1 = f(1 / r1);
    const w = f(r0 / f(r0 + r1));
    const inv01 = f(1 / f(r0 + r1));
    const emh = f(Math.exp(-h));
    const eh = f(Math.exp(h));
    const e2 = f(Math.exp(f(-2 * h)));
    const h2 = f(h * h);
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const d10 = f(invR0 * f(m0[i] - m1[i]));
      const d11 = f(invR1 * f(m1[i] - m2[i]));
      const d1 = f(d10 + f(w * f(d10 - d11)));
      const d2 = f(inv01 * f(d10 - d11));
      let v: number;
      if (this.algorithm === 'dpmsolver++') {
        v = f(f(f(f(f(sigmaT / sigmaS0) * x[i]) - f(f(alphaT * f(emh - 1)) * m0[i])) + f(f(alphaT * f(f(f(emh - 1) / h) + 1)) * d1)) - f(f(alphaT * f(f(f(f(emh - 1) + h) / h2) - 0.5)) * d2));
      } else if (this.algorithm === 'dpmsolver') {
        v = f(f(f(f(f(alphaT / alphaS0) * x[i]) - f(f(sigmaT * f(eh - 1)) * m0[i])) - f(f(sigmaT * f(f(f(eh - 1) / h) - 1)) * d1)) - f(f(sigmaT * f(f(f(f(eh - 1) - h) / h2) - 0.5)) * d2));
      } else {
        const c2 = f(alphaT * f(f(f(f(1 - e2) - f(2 * h)) / f(f(2 * h) * f(2 * h))) - 0.5));
        v = f(f(f(f(f(f(f(sigmaT / sigmaS0) * emh) * x[i]) + f(f(alphaT * f(1 - e2)) * m0[i])) + f(f(alphaT * f(f(f(1 - e2) / f(-2 * h)) + 1)) * d1)) + f(c2 * d2)) + f(f(sigmaT * f(Math.sqrt(f(1 - e2)))) * noise![i]));
      }
      out[i] = v;
    }
    return out;
  }

  addNoise(original: Sample, noise: Sample, t: number): Sample {
    checkSameSize(original, noise, `${CLS}.addNoise`);
    const index = this.stepIndex ?? (this.timesteps.includes(t) ? indexForTimestep(this.timesteps, t, CLS) : this.timesteps.length - 1);
    const [alphaT, sigmaT] = alphaSigma(this.sigmas[index]);
    return like(original, original.data.map((v, i) => f(f(alphaT * v) + f(sigmaT * noise.data[i]))));
  }
}
