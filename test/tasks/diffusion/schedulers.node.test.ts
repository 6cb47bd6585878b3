/**
 * The schedulers against diffusers' own scheduler tests (tests/schedulers/test_scheduler_*.py at
 * huggingface/diffusers 58eb52c0): the same dummy model and deterministic samples, the same loops,
 * and the expected result_sum / result_mean with the tolerance each diffusers test asserts.
 * torch.manual_seed(0) noise comes from TorchGenerator (mt19937 + torch's CPU randn).
 */
import { describe, expect, it } from 'vitest';
import { EndpointError } from '../../../src/protocol/errors.js';
import {
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  LCMScheduler,
  PNDMScheduler,
  TorchGenerator,
  schedulerFromConfig,
  torchRandn,
  type Sample,
  type Scheduler,
} from '../../../src/tasks/diffusion/schedulers/index.js';

const f = Math.fround;
const DIMS = [4, 3, 8, 8];
const N = 4 * 3 * 8 * 8;

/** SchedulerCommonTest.dummy_sample_deter / dummy_noise_deter: arange over (c, h, w, b), permuted to (b, c, h, w). */
function deter(flip: boolean): Sample {
  const data = new Float32Array(N);
  for (let b = 0; b < 4; b++)
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 8; h++)
        for (let w = 0; w < 8; w++) {
          const k = ((c * 8 + h) * 8 + w) * 4 + b;
          data[((b * 3 + c) * 8 + h) * 8 + w] = f((flip ? N - 1 - k : k) / N);
        }
  return { data, dims: DIMS };
}
const sampleDeter = () => deter(false);
const noiseDeter = () => deter(true);

/** SchedulerCommonTest.dummy_model: sample * t / (t + 1), in float32. */
function model(sample: Sample, t: number): Sample {
  const tf = f(t);
  const t1 = f(tf + 1);
  return { data: sample.data.map((x) => f(f(x * tf) / t1)), dims: sample.dims };
}

function scaled(sample: Sample, by: number): Sample {
  return { data: sample.data.map((x) => f(x * by)), dims: sample.dims };
}

function absSum(sample: Sample): number {
  let s = 0;
  for (const x of sample.data) s += Math.abs(x);
  return s;
}

/** The k-diffusion style loop of the Euler tests: scale_model_input, model, step. */
function eulerLoop(scheduler: Scheduler, steps: number, options: { noiseFrom?: number } = {}): Sample {
  scheduler.setTimesteps(steps);
  const random = torchRandn(new TorchGenerator().manualSeed(0));
  let sample = scaled(sampleDeter(), scheduler.initNoiseSigma);
  let timesteps = scheduler.timesteps;
  if (options.noiseFrom !== undefined) {
    timesteps = timesteps.slice(options.noiseFrom);
    sample = scheduler.addNoise(sample, noiseDeter(), timesteps[0]);
  }
  for (const t of timesteps) {
    const input = scheduler.scaleModelInput(sample, t);
    sample = scheduler.step(model(input, t), t, input, { random }).prevSample;
  }
  return sample;
}

/** The loop of the DPM, LCM and PNDM tests: model, step (no input scaling). */
function plainLoop(scheduler: Scheduler, steps: number, options: { noiseFrom?: number } = {}): Sample {
  scheduler.setTimesteps(steps);
  const random = torchRandn(new TorchGenerator().manualSeed(0));
  let sample = sampleDeter();
  let timesteps = scheduler.timesteps;
  if (options.noiseFrom !== undefined) {
    timesteps = timesteps.slice(options.noiseFrom);
    sample = scheduler.addNoise(sample, noiseDeter(), timesteps[0]);
  }
  for (const t of timesteps) sample = scheduler.step(model(sample, t), t, sample, { random }).prevSample;
  return sample;
}

/** `abs(result_sum - sum) < sumTol` and `abs(result_mean - mean) < meanTol`, as the diffusers test asserts. */
function expectResult(sample: Sample, expected: { sum?: number; sumTol?: number; mean: number; meanTol: number }): void {
  const sum = absSum(sample);
  const mean = sum / sample.data.length;
  if (expected.sum !== undefined) expect(Math.abs(sum - expected.sum), `result_sum ${sum}, expected ${expected.sum}`).toBeLessThan(expected.sumTol!);
  expect(Math.abs(mean - expected.mean), `result_mean ${mean}, expected ${expected.mean}`).toBeLessThan(expected.meanTol);
}

describe('TorchGenerator', () => {
  it('is mt19937 as torch.manual_seed(0) seeds it', () => {
    // The first outputs of std::mt19937(0), the engine torch's CPU generator runs.
    const g = new TorchGenerator().manualSeed(0);
    expect([g.nextUint32(), g.nextUint32(), g.nextUint32()]).toEqual([2357136044, 2546248239, 3071714933]);
  });
});

describe('EulerDiscreteScheduler (test_scheduler_euler.py)', () => {
  const config = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
  it('test_full_loop_no_noise / test_full_loop_device', () => {
    expectResult(eulerLoop(new EulerDiscreteScheduler(config), 10), { sum: 10.0807, sumTol: 1e-2, mean: 0.0131, meanTol: 1e-3 });
  });
  it('test_full_loop_with_v_prediction', () => {
    expectResult(eulerLoop(new EulerDiscreteScheduler({ ...config, prediction_type: 'v_prediction' }), 10), { sum: 0.0002, sumTol: 1e-2, mean: 2.2676e-6, meanTol: 1e-3 });
  });
  it('test_full_loop_device_karras_sigmas', () => {
    expectResult(eulerLoop(new EulerDiscreteScheduler({ ...config, use_karras_sigmas: true }), 10), { sum: 124.52299499511719, sumTol: 1e-2, mean: 0.16213932633399963, meanTol: 1e-3 });
  });
  it('test_full_loop_with_noise', () => {
    expectResult(eulerLoop(new EulerDiscreteScheduler(config), 10, { noiseFrom: 8 }), { sum: 57062.9297, sumTol: 1e-2, mean: 74.3007, meanTol: 1e-3 });
  });
});

describe('EulerAncestralDiscreteScheduler (test_scheduler_euler_ancestral.py)', () => {
  const config = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
  it('test_full_loop_no_noise / test_full_loop_device', () => {
    expectResult(eulerLoop(new EulerAncestralDiscreteScheduler(config), 10), { sum: 152.3192, sumTol: 1e-2, mean: 0.1983, meanTol: 1e-3 });
  });
  it('test_full_loop_with_v_prediction', () => {
    expectResult(eulerLoop(new EulerAncestralDiscreteScheduler({ ...config, prediction_type: 'v_prediction' }), 10), { sum: 108.4439, sumTol: 1e-2, mean: 0.1412, meanTol: 1e-3 });
  });
  it('test_full_loop_with_noise', () => {
    expectResult(eulerLoop(new EulerAncestralDiscreteScheduler(config), 10, { noiseFrom: 8 }), { sum: 56163.0508, sumTol: 1e-2, mean: 73.129, meanTol: 1e-3 });
  });
});

describe('LCMScheduler (test_scheduler_lcm.py)', () => {
  const config = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', prediction_type: 'epsilon' };
  it('test_full_loop_onestep', () => {
    expectResult(plainLoop(new LCMScheduler(config), 1), { sum: 18.7097, sumTol: 1e-3, mean: 0.0244, meanTol: 1e-3 });
  });
  it('test_full_loop_multistep', () => {
    expectResult(plainLoop(new LCMScheduler(config), 10), { sum: 197.7616, sumTol: 1e-3, mean: 0.2575, meanTol: 1e-3 });
  });
});

describe('DPMSolverMultistepScheduler (test_scheduler_dpm_multi.py)', () => {
  const config = {
    num_train_timesteps: 1000,
    beta_start: 0.0001,
    beta_end: 0.02,
    beta_schedule: 'linear',
    solver_order: 2,
    prediction_type: 'epsilon',
    thresholding: false,
    sample_max_value: 1.0,
    algorithm_type: 'dpmsolver++',
    solver_type: 'midpoint',
    lower_order_final: false,
    euler_at_final: false,
    lambda_min_clipped: -Infinity,
    variance_type: null,
    final_sigmas_type: 'sigma_min',
  };
  it('test_full_loop_no_noise / test_switch', () => {
    expectResult(plainLoop(new DPMSolverMultistepScheduler(config), 10), { mean: 0.3301, meanTol: 1e-3 });
  });
  it('test_full_loop_with_noise', () => {
    expectResult(plainLoop(new DPMSolverMultistepScheduler(config), 10, { noiseFrom: 5 }), { sum: 318.4111, sumTol: 1e-2, mean: 0.4146, meanTol: 1e-3 });
  });
  it('test_full_loop_no_noise_thres', () => {
    expectResult(plainLoop(new DPMSolverMultistepScheduler({ ...config, thresholding: true, dynamic_thresholding_ratio: 0.87, sample_max_value: 0.5 }), 10), { mean: 1.1364, meanTol: 1e-3 });
  });
  it('test_full_loop_with_v_prediction', () => {
    expectResult(plainLoop(new DPMSolverMultistepScheduler({ ...config, prediction_type: 'v_prediction' }), 10), { mean: 0.2251, meanTol: 1e-3 });
  });
  it('test_full_loop_with_karras_and_v_prediction', () => {
    expectResult(plainLoop(new DPMSolverMultistepScheduler({ ...config, prediction_type: 'v_prediction', use_karras_sigmas: true }), 10), { mean: 0.2096, meanTol: 1e-3 });
  });
  it('test_solver_order_and_type: no NaN for every algorithm, solver type, order and prediction', () => {
    for (const algorithm_type of ['dpmsolver', 'dpmsolver++', 'sde-dpmsolver', 'sde-dpmsolver++'])
      for (const solver_type of ['midpoint', 'heun'])
        for (const solver_order of [1, 2, 3])
          for (const prediction_type of ['epsilon', 'sample']) {
            if (algorithm_type.startsWith('sde-') && solver_order === 3) continue;
            const sample = plainLoop(new DPMSolverMultistepScheduler({ ...config, algorithm_type, solver_type, solver_order, prediction_type }), 10);
            expect(sample.data.some(Number.isNaN), `${algorithm_type} ${solver_type} ${solver_order} ${prediction_type}`).toBe(false);
          }
  });
  it('test_full_loop_with_lu_and_v_prediction', () => {
    expectResult(plainLoop(new DPMSolverMultistepScheduler({ ...config, prediction_type: 'v_prediction', use_lu_lambdas: true }), 10), { mean: 0.1554, meanTol: 1e-3 });
  });
});

describe('PNDMScheduler (test_scheduler_pndm.py)', () => {
  const config = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
  it('test_full_loop_no_noise', () => {
    expectResult(plainLoop(new PNDMScheduler(config), 10), { sum: 198.1318, sumTol: 1e-2, mean: 0.258, meanTol: 1e-3 });
  });
  it('test_full_loop_with_v_prediction', () => {
    expectResult(plainLoop(new PNDMScheduler({ ...config, prediction_type: 'v_prediction' }), 10), { sum: 67.3986, sumTol: 1e-2, mean: 0.0878, meanTol: 1e-3 });
  });
  it('test_full_loop_with_set_alpha_to_one', () => {
    expectResult(plainLoop(new PNDMScheduler({ ...config, set_alpha_to_one: true, beta_start: 0.01 }), 10), { sum: 230.0399, sumTol: 1e-2, mean: 0.2995, meanTol: 1e-3 });
  });
  it('test_full_loop_with_no_set_alpha_to_one', () => {
    expectResult(plainLoop(new PNDMScheduler({ ...config, set_alpha_to_one: false, beta_start: 0.01 }), 10), { sum: 186.9482, sumTol: 1e-2, mean: 0.2434, meanTol: 1e-3 });
  });
});

describe('PNDMScheduler timesteps (test_scheduler_pndm.py test_steps_offset)', () => {
  it('runs the PRK warm-up on the last four timesteps, then PLMS', () => {
    const scheduler = new PNDMScheduler({ num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', steps_offset: 1 });
    scheduler.setTimesteps(10);
    expect(scheduler.timesteps).toEqual([901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1]);
  });
});

/** Stable Diffusion 1.5's scheduler/scheduler_config.json. */
const SD15 = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.6.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

describe('Stable Diffusion configs (no diffusers numbers: schedule shape and finite loops)', () => {
  it('PNDM with skip_prk_steps runs PLMS only, repeating the second timestep', () => {
    const scheduler = schedulerFromConfig(SD15);
    scheduler.setTimesteps(5);
    // leading spacing, steps_offset 1: arange(5) * 200 + 1, with PLMS's repeated second step
    expect(scheduler.timesteps).toEqual([801, 601, 601, 401, 201, 1]);
    const out = plainLoop(scheduler, 5);
    expect(out.data.every(Number.isFinite)).toBe(true);
  });
  it('every scheduler runs the SD 1.5 config through a loop with finite values', () => {
    for (const name of ['DPMSolverMultistepScheduler', 'EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'LCMScheduler', 'PNDMScheduler'])
      for (const timestep_spacing of ['leading', 'trailing', 'linspace']) {
        const scheduler = schedulerFromConfig({ ...SD15, timestep_spacing }, name);
        const out = eulerLoop(scheduler, 4);
        expect(out.data.every(Number.isFinite), `${name} ${timestep_spacing}`).toBe(true);
        expect(scheduler.timesteps.length).toBe(name === 'PNDMScheduler' ? 5 : 4);
      }
  });
  it('DPM-Solver++ with lower_order_final and solver_order 1 and 2, Karras sigmas, final sigma zero', () => {
    for (const solver_order of [1, 2])
      for (const use_karras_sigmas of [false, true]) {
        const scheduler = schedulerFromConfig({ ...SD15, solver_order, use_karras_sigmas, lower_order_final: true, final_sigmas_type: 'zero' }, 'DPMSolverMultistepScheduler');
        const out = plainLoop(scheduler, 8);
        expect(out.data.every(Number.isFinite), `order ${solver_order} karras ${use_karras_sigmas}`).toBe(true);
      }
  });
  it('the ancestral schedulers need a random source', () => {
    const scheduler = new EulerAncestralDiscreteScheduler();
    scheduler.setTimesteps(2);
    const t = scheduler.timesteps[0];
    expect(() => scheduler.step(sampleDeter(), t, sampleDeter())).toThrow(/random source/);
  });
});

describe('schedulerFromConfig', () => {
  it('builds the class `_class_name` names, or the override', () => {
    const sd = { _class_name: 'PNDMScheduler', beta_end: 0.012, beta_schedule: 'scaled_linear', beta_start: 0.00085, num_train_timesteps: 1000, set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1, trained_betas: null, clip_sample: false };
    expect(schedulerFromConfig(sd)).toBeInstanceOf(PNDMScheduler);
    expect(schedulerFromConfig(sd, 'DPMSolverMultistepScheduler')).toBeInstanceOf(DPMSolverMultistepScheduler);
    expect(schedulerFromConfig({ _class_name: 'LCMScheduler' })).toBeInstanceOf(LCMScheduler);
    expect(schedulerFromConfig({ _class_name: 'EulerDiscreteScheduler' })).toBeInstanceOf(EulerDiscreteScheduler);
    expect(schedulerFromConfig({}, 'EulerAncestralDiscreteScheduler')).toBeInstanceOf(EulerAncestralDiscreteScheduler);
  });
  it('rejects an unknown class with a 400 naming the supported ones', () => {
    const err = (() => {
      try {
        schedulerFromConfig({ _class_name: 'DDIMScheduler' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EndpointError);
    expect((err as EndpointError).status).toBe(400);
    expect((err as EndpointError).message).toMatch(/"DDIMScheduler" is not a supported scheduler; supported: .*DPMSolverMultistepScheduler.*PNDMScheduler/);
  });
});
