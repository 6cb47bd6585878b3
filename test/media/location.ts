/**
 * Where the shared test media are (../shared/media: tiger.jpeg, tiger.png, sample1.{wav,flac,mp3}).
 * A clone next to the workspace's shared folder finds them there; a clone elsewhere on this machine
 * finds them at /work/shared/media; SHARED_MEDIA overrides both.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const candidates = [process.env.SHARED_MEDIA, resolve('../shared/media'), '/work/shared/media'].filter(
  (dir): dir is string => Boolean(dir),
);

export const SHARED_MEDIA: string = candidates.find((dir) => existsSync(resolve(dir, 'tiger.jpeg'))) ?? candidates[0]!;
