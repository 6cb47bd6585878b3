/**
 * Instance segmentation for mask-classification models (MaskFormer): transformers.js 4.3.1 has no
 * `post_process_instance_segmentation` (its stub throws "not yet implemented"), so this is a port
 * of Python transformers' `MaskFormerImageProcessor.post_process_instance_segmentation`, as the
 * Endpoint's pipeline runs it:
 *
 * 1. class scores: softmax over each query's logits, the last ("no object") class dropped;
 * 2. the `num_queries` best (query, class) pairs over all queries and classes (a query can
 *    appear with two classes); Python's `topk(sorted=False)` leaves the order to the backend,
 *    here it is best first (ties: lower index first);
 * 3. each pair's binary mask is its query's mask logits > 0 (`mask_threshold` and
 *    `overlap_mask_area_threshold` are not used, as in Python), its score the class score × the
 *    mean sigmoid probability inside that mask;
 * 4. the masks are resized to the image with PyTorch's `nearest` (source index ⌊dst × in / out⌋);
 * 5. in that order, each non-empty mask scored ≥ `threshold` is painted onto a segmentation map
 *    (initially -1) with the next id from 0, later masks over earlier ones; a segment's pixels are
 *    those still holding its id (so an instance painted over entirely has an empty mask, as in
 *    Python's pipeline). Scores are rounded to 6 decimals, as in Python.
 */

export interface TensorData {
  dims: number[];
  data: ArrayLike<number>;
}

export interface InstanceSegmentation {
  /** Segment id per pixel of the target size (row by row), -1 where none. */
  segmentation: Int32Array;
  segments: { id: number; label_id: number; score: number }[];
}

/**
 * `classLogits` [1, queries, labels + 1] and `maskLogits` [1, queries, h, w] (batch item 0) →
 * instances at `target` = [height, width].
 */
export function maskFormerInstances(
  classLogits: TensorData,
  maskLogits: TensorData,
  threshold: number,
  target: [number, number],
): InstanceSegmentation {
  const [, numQueries, classesPlusOne] = classLogits.dims as [number, number, number];
  const numClasses = classesPlusOne - 1;
  const [, , h, w] = maskLogits.dims as [number, number, number, number];
  const [height, width] = target;
  const logits = classLogits.data;
  const maskData = maskLogits.data;

  // 1. Class scores without the no-object class, flattened as (query, class).
  const scores = new Float64Array(numQueries * numClasses);
  for (let q = 0; q < numQueries; q++) {
    const row = q * classesPlusOne;
    let max = -Infinity;
    for (let c = 0; c < classesPlusOne; c++) max = Math.max(max, logits[row + c]!);
    let sum = 0;
    for (let c = 0; c < classesPlusOne; c++) sum += Math.exp(logits[row + c]! - max);
    for (let c = 0; c < numClasses; c++) scores[q * numClasses + c] = Math.exp(logits[row + c]! - max) / sum;
  }

  // 2. The best num_queries pairs.
  const order = Array.from(scores.keys())
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, numQueries);

  // 4. Nearest resize indices (PyTorch: float32 scale in / out, floor, clamped).
  const rowScale = Math.fround(h / height);
  const colScale = Math.fround(w / width);
  const srcRow = Int32Array.from({ length: height }, (_, y) => Math.min(Math.floor(Math.fround(y * rowScale)), h - 1));
  const srcCol = Int32Array.from({ length: width }, (_, x) => Math.min(Math.floor(Math.fround(x * colScale)), w - 1));

  const segmentation = new Int32Array(height * width).fill(-1);
  const segments: InstanceSegmentation['segments'] = [];
  let nextId = 0;
  for (const pair of order) {
    const query = Math.floor(pair / numClasses);
    const label = pair % numClasses;
    const base = query * h * w;
    // 3. Binary mask (logit > 0) and its mean probability.
    let inside = 0;
    let probSum = 0;
    const binary = new Uint8Array(h * w);
    for (let i = 0; i < h * w; i++) {
      const v = maskData[base + i]!;
      if (v > 0) {
        binary[i] = 1;
        inside++;
        probSum += 1 / (1 + Math.exp(-v));
      }
    }
    const score = scores[pair]! * (probSum / (inside + 1e-6));
    if (score < threshold) continue;
    // 5. Paint the resized mask, if it is not empty.
    let painted = false;
    for (let y = 0; y < height && !painted; y++) {
      const src = srcRow[y]! * w;
      for (let x = 0; x < width; x++) {
        if (binary[src + srcCol[x]!]) {
          painted = true;
          break;
        }
      }
    }
    if (!painted) continue;
    const id = nextId++;
    for (let y = 0; y < height; y++) {
      const src = srcRow[y]! * w;
      const dst = y * width;
      for (let x = 0; x < width; x++) if (binary[src + srcCol[x]!]) segmentation[dst + x] = id;
    }
    segments.push({ id, label_id: label, score: Math.round(score * 1e6) / 1e6 });
  }
  return { segmentation, segments };
}
