/**
 * PyTorch's CPU generator, so a seed gives the noise `torch.manual_seed(seed)` + `torch.randn` give:
 * the mt19937 engine, float uniforms from 24 bits, and `normal_` on CPU — Box–Muller over blocks of
 * 16 (float32) for tensors of 16 values or more, per value with a double Box–Muller (and its cached
 * second value) below that.
 */
import type { RandomSource } from './types.js';

const N = 624;
const M = 397;

export class TorchGenerator {
  private readonly mt = new Uint32Array(N);
  private index = N;
  private nextDoubleNormal: number | null = null;

  constructor(seed = 67280421310721) {
    this.manualSeed(seed);
  }

  /** `torch.manual_seed(seed)`: mt19937 seeded with the low 32 bits. */
  manualSeed(seed: number): this {
    const mt = this.mt;
    mt[0] = Number(BigInt.asUintN(32, BigInt(Math.trunc(seed))));
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
    this.nextDoubleNormal = null;
    return this;
  }

  /** The next 32 random bits (`random()`). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
        mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double uniform in [0, 1) from `random64()` (53 bits). */
  private uniformDouble(): number {
    const hi = this.nextUint32();
    const lo = this.nextUint32();
    // (hi << 32 | lo) & (2^53 - 1), times 2^-53
    return ((hi & 0x1fffff) * 4294967296 + lo) / 9007199254740992;
  }

  /** `torch.randn(n)` (float32, contiguous) into `out`. */
  randn(out: Float32Array): Float32Array {
    const size = out.length;
    if (size >= 16) {
      for (let i = 0; i < size; i++) out[i] = (this.nextUint32() & 0xffffff) / 16777216;
      for (let i = 0; i + 16 <= size; i += 16) normalFill16(out, i);
      if (size % 16 !== 0) {
        const start = size - 16;
        for (let i = 0; i < 16; i++) out[start + i] = (this.nextUint32() & 0xffffff) / 16777216;
        normalFill16(out, start);
      }
    } else {
      for (let i = 0; i < size; i++) {
        if (this.nextDoubleNormal !== null) {
          out[i] = this.nextDoubleNormal;
          this.nextDoubleNormal = null;
          continue;
        }
        const u1 = this.uniformDouble();
        const u2 = this.uniformDouble();
        const r = Math.sqrt(-2 * Math.log1p(-u2));
        const theta = 2 * Math.PI * u1;
        this.nextDoubleNormal = r * Math.sin(theta);
        out[i] = r * Math.cos(theta);
      }
    }
    return out;
  }
}

const f = Math.fround;
const TWO_PI_F32 = f(2 * Math.PI);

function normalFill16(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[at + j]);
    const u2 = data[at + j + 8];
    const radius = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
    const theta = f(TWO_PI_F32 * u2);
    data[at + j] = f(radius * f(Math.cos(theta)));
    data[at + j + 8] = f(radius * f(Math.sin(theta)));
  }
}

/** A RandomSource drawing from a TorchGenerator, as diffusers' `randn_tensor(shape, generator=…)` on CPU. */
export function torchRandn(generator: TorchGenerator): RandomSource {
  return (out) => {
    generator.randn(out);
  };
}
