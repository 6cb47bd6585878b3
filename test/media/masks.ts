/** Reading answers of the image tasks in browser tests: base64 in, and masks out of base64 PNGs. */

export { toBase64 } from '../../src/tasks/vision/mask-png.js';

/** A base64 PNG mask → its size and its gray values (the first channel of each pixel). */
export async function decodeMask(b64: string): Promise<{ width: number; height: number; gray: Uint8Array }> {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const gray = new Uint8Array(bitmap.width * bitmap.height);
  for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4]!;
  return { width: bitmap.width, height: bitmap.height, gray };
}
