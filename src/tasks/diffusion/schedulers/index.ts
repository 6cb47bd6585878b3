/**
 * diffusers' schedulers in TypeScript, and `schedulerFromConfig`, the counterpart of diffusers'
 * `SchedulerMixin.from_config`: a `scheduler/scheduler_config.json` (its `_class_name`), or another
 * class name over the same config (as the Endpoint swaps in DPMSolverMultistepScheduler).
 */
import { badRequest } from '../../../protocol/errors.js';
import type { SchedulerConfig } from './config.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep.js';
import { EulerAncestralDiscreteScheduler, EulerDiscreteScheduler } from './euler.js';
import { LCMScheduler } from './lcm.js';
import { PNDMScheduler } from './pndm.js';
import type { Scheduler } from './types.js';

export type { Sample, Scheduler, StepOptions, StepOutput, RandomSource } from './types.js';
export type { SchedulerConfig } from './config.js';
export { DPMSolverMultistepScheduler } from './dpm-solver-multistep.js';
export { EulerAncestralDiscreteScheduler, EulerDiscreteScheduler } from './euler.js';
export { LCMScheduler } from './lcm.js';
export { PNDMScheduler } from './pndm.js';
export { TorchGenerator, torchRandn } from './torch-random.js';

const SCHEDULERS: Record<string, (config: SchedulerConfig) => Scheduler> = {
  DPMSolverMultistepScheduler: (c) => new DPMSolverMultistepScheduler(c),
  EulerAncestralDiscreteScheduler: (c) => new EulerAncestralDiscreteScheduler(c),
  EulerDiscreteScheduler: (c) => new EulerDiscreteScheduler(c),
  LCMScheduler: (c) => new LCMScheduler(c),
  PNDMScheduler: (c) => new PNDMScheduler(c),
};

/** The scheduler class names schedulerFromConfig builds. */
export const SUPPORTED_SCHEDULERS: readonly string[] = Object.keys(SCHEDULERS);

/**
 * Builds the scheduler a `scheduler_config.json` names in `_class_name`, or `override` over the
 * same config. Keys the chosen class does not use are ignored, as in diffusers. An unknown class
 * is a 400 naming the supported ones.
 */
export function schedulerFromConfig(config: SchedulerConfig, override?: string): Scheduler {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw badRequest('the scheduler config must be a JSON object');
  const name = override ?? config._class_name;
  if (typeof name !== 'string' || !Object.hasOwn(SCHEDULERS, name)) {
    const what = typeof name === 'string' ? `"${name}" is not a supported scheduler` : 'the scheduler config names no `_class_name`';
    throw badRequest(`${what}; supported: ${SUPPORTED_SCHEDULERS.join(', ')}`);
  }
  return SCHEDULERS[name](config);
}
