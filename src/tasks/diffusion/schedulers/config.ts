/** Reading a diffusers `scheduler_config.json`: typed fields with defaults, and 400s for bad values. */
import { badRequest, quote } from '../../../protocol/errors.js';

export type SchedulerConfig = Record<string, unknown>;

function bad(cls: string, key: string, expected: string, value: unknown): never {
  throw badRequest(`${cls} config: \`${key}\` must be ${expected}, got ${quote(value)}`);
}

export function readNumber(config: SchedulerConfig, cls: string, key: string, fallback: number): number {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v)) bad(cls, key, 'a number', v);
  return v;
}

export function readInteger(config: SchedulerConfig, cls: string, key: string, fallback: number, min = 0): number {
  const v = readNumber(config, cls, key, fallback);
  if (!Number.isInteger(v) || v < min) bad(cls, key, `an integer ≥ ${min}`, v);
  return v;
}

export function readBool(config: SchedulerConfig, cls: string, key: string, fallback: boolean): boolean {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') bad(cls, key, 'a boolean', v);
  return v;
}

export function readEnum<T extends string>(config: SchedulerConfig, cls: string, key: string, allowed: readonly T[], fallback: T): T {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) bad(cls, key, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, v);
  return v as T;
}

export function readNumberArray(config: SchedulerConfig, cls: string, key: string): number[] | null {
  const v = config[key];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) bad(cls, key, 'a list of numbers', v);
  return v as number[];
}
