/** diffusers' dynamic thresholding (`_threshold_sample`, Imagen): per batch item, clamp to the ratio-quantile of |x| and rescale. */
import { badRequest } from '../../../protocol/errors.js';

const f = Math.fround;

export function thresholdSample(x: Float32Array, dims: readonly number[], ratio: number, maxValue: number): Float32Array {
  const batch = dims[0] ?? 1;
  if (dims.length < 2 || x.length % batch !== 0) throw badRequest('dynamic thresholding needs a sample of shape [batch, channels, …]');
  const row = x.length / batch;
  const out = new Float32Array(x.length);
  const q = f(ratio);
  for (let b = 0; b < batch; b++) {
    const part = x.subarray(b * row, (b + 1) * row);
    const sorted = Float32Array.from(part, Math.abs).sort();
    // torch.quantile, linear interpolation (float32)
    const rank = f(q * (row - 1));
    const lo = Math.floor(rank);
    const hi = Math.min(row - 1, Math.ceil(rank));
    const w = f(rank - lo);
    const a = sorted[lo];
    const d = f(sorted[hi] - a);
    let s = w < 0.5 ? f(a + f(w * d)) : f(sorted[hi] - f(d * f(1 - w)));
    s = Math.min(Math.max(s, 1), maxValue);
    for (let i = 0; i < row; i++) out[b * row + i] = f(Math.min(s, Math.max(-s, part[i])) / s);
  }
  return out;
}
