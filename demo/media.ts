/**
 * The demo's image and audio input: a file, a 3 s microphone recording (webm/opus, decoded in the
 * worker like any other body), or a sample made on the page (works offline, with no file at
 * hand); a preview; and the answer drawn (boxes on the image, masks as pictures).
 */
import { getTask, supportedTasks } from '../src/index.ts';
import { byId } from './view.ts';

export type MediaKind = 'image' | 'audio';

/** Tasks whose input is an image or a sound: the specs' `media`. */
export const MEDIA_TASKS: Record<string, MediaKind> = Object.fromEntries(
  supportedTasks.flatMap((task) => {
    const media = getTask(task).media;
    return media ? [[task, media]] : [];
  }),
);

/**
 * Tasks that take an image beside a text (visual-question-answering's question, from their spec's
 * example): the image panel and the text box both show.
 */
export const IMAGE_AND_TEXT_TASKS: Record<string, MediaKind> = Object.fromEntries(
  supportedTasks.flatMap((task) => {
    const media = getTask(task).example?.withMedia;
    return media ? [[task, media]] : [];
  }),
);

const el = {
  panel: byId<HTMLFieldSetElement>('media'),
  legend: byId('media-legend'),
  file: byId<HTMLInputElement>('file'),
  record: byId<HTMLButtonElement>('record'),
  sample: byId<HTMLButtonElement>('sample'),
  hint: byId('media-hint'),
  preview: byId('preview'),
  drawn: byId('drawn'),
};

let kind: MediaKind | undefined;
let current: Blob | undefined;
let previewUrl: string | undefined;

/** Shows the panel for a media task (and hides it for the others). */
export function setMediaTask(task: string): void {
  const next = MEDIA_TASKS[task] ?? IMAGE_AND_TEXT_TASKS[task];
  el.panel.hidden = !next;
  clearDrawn();
  if (next === kind) return;
  kind = next;
  current = undefined;
  el.preview.replaceChildren();
  if (!kind) return;
  el.legend.textContent = kind === 'image' ? 'Image' : 'Sound';
  el.file.accept = kind === 'image' ? 'image/*' : 'audio/*';
  el.file.value = '';
  el.record.hidden = kind !== 'audio' || !navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined';
  el.hint.textContent =
    kind === 'image'
      ? 'png, jpeg, webp, gif or bmp. Sent as the raw request body; the worker decodes it.'
      : 'wav, flac, mp3, ogg (vorbis, opus), webm/opus or m4a. Sent as the raw body; the worker decodes and resamples it.';
}

/** The chosen image or sound; a sample when none was chosen. */
export async function mediaBlob(): Promise<Blob> {
  if (!current) use(kind === 'audio' ? sampleSound() : await sampleImage(), 'sample');
  return current!;
}

function use(blob: Blob, origin: string): void {
  current = blob;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(blob);
  const media = kind === 'image' ? new Image() : Object.assign(document.createElement('audio'), { controls: true });
  media.src = previewUrl;
  const caption = Object.assign(document.createElement('p'), {
    className: 'hint',
    textContent: `${origin}: ${blob.type || 'no type'}, ${(blob.size / 1024).toFixed(1)} kB`,
  });
  el.preview.replaceChildren(media, caption);
}

el.file.addEventListener('change', () => {
  const file = el.file.files?.[0];
  if (file) use(file, file.name);
});
el.sample.addEventListener('click', async () => {
  el.file.value = '';
  use(kind === 'audio' ? sampleSound() : await sampleImage(), 'sample');
});
el.record.addEventListener('click', async () => {
  el.record.disabled = true;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const recorder = new MediaRecorder(stream);
    const chunks: Blob[] = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start();
    el.record.textContent = 'Recording…';
    await new Promise((resolve) => setTimeout(resolve, 3000));
    recorder.stop();
    await stopped;
    stream.getTracks().forEach((track) => track.stop());
    use(new Blob(chunks, { type: recorder.mimeType }), 'recording');
  } catch (err) {
    el.hint.textContent = `No recording: ${(err as Error).message}`;
  } finally {
    el.record.disabled = false;
    el.record.textContent = 'Record 3 s';
  }
});

/** A 320×240 PNG drawn here: stripes and shapes, so that a model has something to look at. */
async function sampleImage(): Promise<Blob> {
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
function sampleSound(): Blob {
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
  for (let i = 0; i < n; i++) {
    phase += (2 * Math.PI * (220 + (440 * i) / n)) / rate;
    const v = 0.4 * Math.sin(phase) + 0.05 * (Math.random() * 2 - 1);
    view.setInt16(44 + i * 2, Math.round(v * 32767), true);
  }
  return new Blob([view.buffer], { type: 'audio/wav' });
}

// -- the answer, drawn ------------------------------------------------------------------------

interface Box {
  label: string;
  score: number;
  box: { xmin: number; ymin: number; xmax: number; ymax: number };
}

export function clearDrawn(): void {
  el.drawn.replaceChildren();
  el.drawn.hidden = true;
}

/** A generated image (text-to-image), shown as it came: a PNG. */
export function showImage(png: Blob): void {
  clearDrawn();
  const img = Object.assign(document.createElement('img'), { src: URL.createObjectURL(png), alt: 'the generated image' });
  img.style.imageRendering = 'pixelated';
  img.style.width = 'min(100%, 384px)';
  el.drawn.append(img);
  el.drawn.hidden = false;
}

/** Boxes over the image (object-detection) or each mask as a picture (image-segmentation). */
export async function drawAnswer(task: string, answer: unknown): Promise<void> {
  clearDrawn();
  if (!current || !Array.isArray(answer) || !answer.length) return;
  if (task === 'object-detection') {
    const bitmap = await createImageBitmap(current);
    const canvas = document.createElement('canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    ctx.lineWidth = Math.max(2, bitmap.width / 200);
    ctx.font = `${Math.max(12, bitmap.width / 40)}px system-ui, sans-serif`;
    for (const [i, { label, score, box }] of (answer as Box[]).entries()) {
      ctx.strokeStyle = ctx.fillStyle = `hsl(${(i * 67) % 360} 90% 50%)`;
      ctx.strokeRect(box.xmin, box.ymin, box.xmax - box.xmin, box.ymax - box.ymin);
      ctx.fillText(`${label} ${score.toFixed(2)}`, box.xmin + 4, box.ymin + 16);
    }
    el.drawn.append(canvas);
  } else if (task === 'image-segmentation') {
    for (const { label, score, mask } of answer as { label: string; score?: number; mask: string }[]) {
      const figure = document.createElement('figure');
      const image = Object.assign(new Image(), { src: `data:image/png;base64,${mask}`, alt: `mask of ${label}` });
      const caption = Object.assign(document.createElement('figcaption'), {
        textContent: score === undefined ? label : `${label} ${score.toFixed(2)}`,
      });
      figure.append(image, caption);
      el.drawn.append(figure);
    }
  } else return;
  el.drawn.hidden = false;
}

/**
 * table-question-answering: the table, with the answer's cells marked (its `coordinates`, [row,
 * column] pairs) and the aggregator above it.
 */
export function drawTableAnswer(inputs: unknown, answer: unknown): void {
  clearDrawn();
  const table = (inputs as { table?: Record<string, unknown[]> } | null)?.table;
  const found = (Array.isArray(answer) ? answer[0] : answer) as { coordinates?: number[][]; aggregator?: string; answer?: string } | undefined;
  if (!table || typeof table !== 'object' || !found) return;
  const columns = Object.keys(table);
  const marked = new Set((found.coordinates ?? []).map(([row, column]) => `${row},${column}`));
  const grid = document.createElement('table');
  grid.className = 'answer-table';
  const head = grid.createTHead().insertRow();
  for (const column of columns) head.append(Object.assign(document.createElement('th'), { textContent: column }));
  const rows = Math.max(0, ...columns.map((c) => (Array.isArray(table[c]) ? table[c]!.length : 0)));
  const body = grid.createTBody();
  for (let row = 0; row < rows; row++) {
    const tr = body.insertRow();
    columns.forEach((column, index) => {
      const cell = tr.insertCell();
      cell.textContent = String(table[column]?.[row] ?? '');
      if (marked.has(`${row},${index}`)) cell.className = 'selected';
    });
  }
  const caption = Object.assign(document.createElement('p'), {
    className: 'hint',
    textContent: `${found.aggregator && found.aggregator !== 'NONE' ? `${found.aggregator} of the marked cells` : 'The marked cells'}: ${found.answer ?? ''}`,
  });
  el.drawn.append(caption, grid);
  el.drawn.hidden = false;
}
