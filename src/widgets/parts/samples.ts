/**
 * The samples a widget offers when the app gives none: an image and a sound made on the page, so
 * that a widget works offline with no file at hand. Apps pass real ones in `samples`.
 */

/** A 320×240 PNG: a striped orange shape on green under a blue sky, for a model to look at. */
export async function sampleImage(): Promise<Blob> {
  const canvas = new OffscreenCanvas(320, 240);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#4a7a3a';
  ctx.fillRect(0, 0, 320, 240);
  ctx.fillStyle = '#e08a2c';
  ctx.beginPath();
  ctx.ellipse(160, 130, 110, 70, 0, 0, Math.PI * 2);
  ctx.fill();
  ctx.strokeStyle = '#1d1d1d';
  ctx.lineWidth = 8;
  for (let x = 70; x <= 250; x += 30) {
    ctx.beginPath();
    ctx.moveTo(x, 70);
    ctx.lineTo(x + 12, 190);
    ctx.stroke();
  }
  ctx.fillStyle = '#87ceeb';
  ctx.fillRect(0, 0, 320, 40);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** Two seconds of a rising tone with a little noise, as a 16 kHz, 16-bit mono WAV. */
export function sampleSound(): Blob {
  const rate = 16000;
  const n = rate * 2;
  const view = new DataView(new ArrayBuffer(44 + n * 2));
  const text = (at: number, s: string) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF');
  view.setUint32(4, 36 + n * 2, true);
  text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, n * 2, true);
  let phase = 0;
  // A fixed pseudo-random noise, so the same sample gives the same answer every time.
  let seed = 1;
  const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 0xffffffff) * 2 - 1;
  for (let i = 0; i < n; i++) {
    phase += (2 * Math.PI * (220 + (440 * i) / n)) / rate;
    const v = 0.4 * Math.sin(phase) + 0.05 * noise();
    view.setInt16(44 + i * 2, Math.round(v * 32767), true);
  }
  return new Blob([view.buffer], { type: 'audio/wav' });
}
