/**
 * Audio samples to the model's rate: channels mixed down to mono, then resampled with a windowed
 * sinc filter whose cut-off follows the lower rate (no aliasing when downsampling). Pure.
 */

/** Mean of the channels. */
export function toMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const out = new Float32Array(channels[0]!.length);
  for (const channel of channels) for (let i = 0; i < out.length; i++) out[i]! += channel[i]! / channels.length;
  return out;
}

/** Half-width of the filter, in input samples at the lower of the two rates. */
const TAPS = 16;

export function resample(samples: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return samples;
  const ratio = to / from;
  const length = Math.round(samples.length * ratio);
  const out = new Float32Array(length);
  const cutoff = Math.min(1, ratio); // relative to the input's Nyquist frequency
  const half = Math.ceil(TAPS / cutoff);
  for (let n = 0; n < length; n++) {
    const center = n / ratio;
    const first = Math.max(0, Math.ceil(center - half));
    const last = Math.min(samples.length - 1, Math.floor(center + half));
    let sum = 0;
    let weights = 0;
    for (let k = first; k <= last; k++) {
      const x = k - center;
      const t = x * cutoff;
      const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
      const window = 0.5 + 0.5 * Math.cos((Math.PI * x) / (half + 1)); // Hann
      const w = sinc * window;
      sum += samples[k]! * w;
      weights += w;
    }
    out[n] = weights ? sum / weights : 0;
  }
  return out;
}
