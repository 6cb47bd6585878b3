/**
 * The one place that decides who answers: the remote Endpoint, the local engine, or the remote
 * one first with the local one as fallback (`auto`).
 */
import type { FetchFn } from '../local-fetch/index.js';

export type Mode = 'local' | 'remote' | 'auto';

/** Which path answered a request, and why. */
export interface RouteInfo {
  path: 'local' | 'remote';
  /** In `auto` mode, why the remote Endpoint was not used. */
  fallbackReason?: string;
  /** The device that ran a local request (`webgpu`, `wasm`, `cpu`). */
  device?: string;
  /** Why a local request did not run on the fastest device (e.g. WebGPU failed for this model). */
  deviceFallback?: string;
}

export interface PolicyOptions {
  mode: Mode;
  local: FetchFn;
  remote: FetchFn;
  /** `auto`: give up on the remote Endpoint after this many ms and answer locally. */
  timeoutMs?: number;
  onRoute?: (route: RouteInfo) => void;
}

export function policyFetch({ mode, local, remote, timeoutMs, onRoute }: PolicyOptions): FetchFn {
  const answered = (path: RouteInfo['path'], response: Response, fallbackReason?: string) => {
    const device = path === 'local' ? response.headers.get('x-compute-type') : null;
    const deviceFallback = path === 'local' ? response.headers.get('x-compute-fallback') : null;
    onRoute?.({
      path,
      ...(fallbackReason ? { fallbackReason } : {}),
      ...(device ? { device } : {}),
      ...(deviceFallback ? { deviceFallback } : {}),
    });
    return response;
  };
  if (mode === 'local') return async (input, init) => answered('local', await local(input, init));
  if (mode === 'remote') return async (input, init) => answered('remote', await remote(input, init));

  return async (input, init) => {
    const signals = [init?.signal, timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined].filter(
      (s): s is AbortSignal => Boolean(s),
    );
    let reason: string;
    try {
      const response = await remote(input, { ...init, signal: signals.length ? AbortSignal.any(signals) : undefined });
      if (response.status < 500) return answered('remote', response);
      reason = `remote Endpoint answered ${response.status}`;
    } catch (err) {
      if (init?.signal?.aborted) throw err; // the caller gave up: do not answer locally either
      const name = (err as Error)?.name;
      reason =
        name === 'TimeoutError' || name === 'AbortError'
          ? `remote Endpoint did not answer within ${timeoutMs} ms`
          : `remote Endpoint unreachable: ${(err as Error)?.message ?? err}`;
    }
    return answered('local', await local(input, init), reason);
  };
}
