/**
 * Writes the demo's app icons (demo/public/icon-192.png, icon-512.png, and a maskable 512) by
 * code: `npx tsx demo/make-icons.ts`. The PNGs are committed; run this again only to change them.
 * The drawing: a rounded dark square with a bright "endpoint" ring and dot.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'fast-png';

const here = dirname(fileURLToPath(import.meta.url));
const BACKGROUND = [0x1f, 0x24, 0x33];
const ACCENT = [0xff, 0xb0, 0x20];

function icon(size: number, maskable: boolean): Uint8Array {
  const data = new Uint8Array(size * size * 4);
  const c = (size - 1) / 2;
  // A maskable icon fills the square (the platform cuts its own shape); the plain one is rounded.
  const corner = maskable ? 0 : size * 0.18;
  const scale = maskable ? 0.8 : 1; // keep the drawing inside the maskable safe zone
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const dx = Math.max(0, Math.abs(x - c) - (c - corner));
      const dy = Math.max(0, Math.abs(y - c) - (c - corner));
      const inside = corner === 0 || Math.hypot(dx, dy) <= corner;
      const r = Math.hypot(x - c, y - c) / (size / 2) / scale;
      const ring = r > 0.52 && r < 0.66;
      const dot = r < 0.2;
      const colour = ring || dot ? ACCENT : BACKGROUND;
      data.set([...colour, inside ? 255 : 0], i);
    }
  }
  return encode({ width: size, height: size, data, channels: 4, depth: 8 });
}

for (const [name, size, maskable] of [
  ['icon-192.png', 192, false],
  ['icon-512.png', 512, false],
  ['icon-maskable-512.png', 512, true],
] as const) {
  const png = icon(size, maskable);
  writeFileSync(join(here, 'public', name), png);
  console.log(`${name}: ${png.byteLength} bytes`);
}
