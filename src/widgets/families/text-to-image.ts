/**
 * Text-to-image: a prompt in, the generated PNG out, with its pixel size and a Download link. The
 * element draws the denoising's "Step k of n" bar while the image is made (the engine's `step`
 * progress events), and turns the answer's bytes into `{image: ChosenMedia}`.
 */
import { css, html, nothing } from 'lit';
import type { ChosenMedia, Family } from '../types.js';
import { exampleOf, textBox } from './shared.js';

/** The pixel size of each generated image, once its `<img>` has loaded. */
const sizes = new WeakMap<ChosenMedia, { width: number; height: number }>();

/** The prompt that gave the answer on screen (the request's, not the text box's, which may have changed). */
function promptOf(json: unknown): string {
  const inputs = (json as { inputs?: unknown } | undefined)?.inputs;
  return typeof inputs === 'string' ? inputs : '';
}

function kilobytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

export const textToImageFamily: Family = {
  name: 'text-to-image',
  tasks: ['text-to-image'],
  initialInputs(task) {
    const inputs = exampleOf(task)?.inputs;
    return { prompt: typeof inputs === 'string' ? inputs : '' };
  },
  renderInputs: (host) => textBox(host, 'prompt', 'Prompt', { rows: 2, hint: 'Set num_inference_steps, width and height under Parameters.' }),
  request(host, parameters) {
    const prompt = String(host.inputs.prompt ?? '');
    if (!prompt.trim()) return 'Type a prompt for the image.';
    return { path: '/', json: { inputs: prompt, ...(Object.keys(parameters).length ? { parameters } : {}) }, binary: true };
  },
  renderAnswer(host, answer) {
    const image = (answer as { image?: ChosenMedia } | undefined)?.image;
    if (!image?.url) return html`<p class="hint">No image came back.</p>`;
    const prompt = promptOf(host.answered?.json);
    const size = sizes.get(image) ?? (image.width && image.height ? { width: image.width, height: image.height } : undefined);
    const onLoad = (event: Event) => {
      const img = event.target as HTMLImageElement;
      const known = sizes.get(image);
      if (known?.width === img.naturalWidth && known.height === img.naturalHeight) return;
      sizes.set(image, { width: img.naturalWidth, height: img.naturalHeight });
      host.requestUpdate();
    };
    // Small images (a tiny model's 64×64) are shown larger, with their pixels kept sharp.
    const shownWidth = size ? Math.max(size.width, 256) : 256;
    return html`<figure class="t2i-answer">
      <img
        class="t2i-image"
        src=${image.url}
        alt=${prompt || 'The generated image'}
        style="width: ${shownWidth}px"
        @load=${onLoad}
      />
      <figcaption class="t2i-caption">
        <span class="t2i-size">${size ? `${size.width} × ${size.height} px` : 'Loading…'}</span>
        <span class="hint">${image.blob.type || 'image/png'}, ${kilobytes(image.blob.size)}</span>
        <a class="t2i-download" href=${image.url} download="image.png">Download<span class="sr-only"> the image</span></a>
        ${prompt ? html`<span class="t2i-prompt hint">“${prompt}”</span>` : nothing}
      </figcaption>
    </figure>`;
  },
  styles: css`
    .t2i-answer {
      margin: 0;
      display: grid;
      gap: 8px;
      justify-items: start;
      min-width: 0;
    }
    .t2i-image {
      display: block;
      max-width: 100%;
      height: auto;
      border-radius: 6px;
      border: 1px solid var(--le-border);
      background: var(--le-surface);
      image-rendering: pixelated;
    }
    .t2i-caption {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 4px 12px;
      font-size: 0.85rem;
      min-width: 0;
    }
    .t2i-size {
      font-variant-numeric: tabular-nums;
      font-weight: 600;
    }
    .t2i-download {
      color: var(--le-accent);
      font-weight: 600;
    }
    .t2i-prompt {
      flex-basis: 100%;
      overflow-wrap: anywhere;
    }
  `,
};
