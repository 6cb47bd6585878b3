/**
 * The one place that decides who answers a request: the remote Endpoint or the local engine. A
 * policy (`Mode`) picks the path; a circuit breaker keeps a failing remote from being asked; a
 * warmer loads the local model in the background (handoff, a cold remote), unless the
 * connection vetoes the download. Every answer reports its path and why (`RouteInfo`).
 *
 * A policy only chooses when a request starts: once a response (a stream included) has come
 * back from one path, it is returned as it is. A stream is never switched mid-way.
 */
import type { FetchFn } from '../local-fetch/index.js';
import type { EngineInterface, LoadRequest, ProgressListener } from '../protocol/engine.js';

/**
 * Who answers:
 * - `local`: the local engine only; nothing is sent to the network.
 * - `remote`: the remote Endpoint only.
 * - `remote-first`: the remote Endpoint; the local engine when the remote one is unreachable,
 *   answers 5xx, takes longer than `timeoutMs`, or its circuit breaker is open.
 * - `auto`: the same as `remote-first` (its former name, kept as an alias).
 * - `local-first`: the local engine when the model is loaded or in the model cache; otherwise
 *   the remote Endpoint (and the local engine when that fails). A local failure goes remote.
 * - `race`: both at once; the first good answer wins and the other request is aborted.
 * - `handoff`: the remote Endpoint while the local model downloads in the background, then the
 *   local engine from the moment it is loaded: no wait at the start, no network at the end.
 */
export type Mode = 'local' | 'remote' | 'remote-first' | 'auto' | 'local-first' | 'race' | 'handoff';

/** The modes that need a local engine (all but `remote`). */
export const LOCAL_MODES: readonly Mode[] = ['local', 'remote-first', 'auto', 'local-first', 'race', 'handoff'];

/**
 * Where the local model stands for the policy:
 * `loaded` (a pipeline is ready), `cached` (its files are in the model cache), `absent` (neither),
 * `loading` (a background load is under way), `vetoed` (a background download was refused by the
 * connection or `allowDownload`), `failed` (the background load failed; retried after 30 s).
 */
export type LocalState = 'loaded' | 'cached' | 'absent' | 'loading' | 'vetoed' | 'failed';

/** The circuit breaker's state: `closed` (remote used), `open` (remote skipped), `half-open` (one probe allowed). */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** Which path answered a request, and why. */
export interface RouteInfo {
  path: 'local' | 'remote';
  /** The client's mode, as configured (`auto` stays `auto`). */
  mode: Mode;
  /** Why this path answered, in words: `remote Endpoint answered 503`, `local model loaded`, … */
  reason: string;
  /** The answer's HTTP status (a 4xx or 5xx answer is reported too, before the client throws). */
  status: number;
  /**
   * Set when the local engine answered because the remote Endpoint failed (unreachable, 5xx,
   * timeout, breaker open): what went wrong. The same text as `reason`.
   */
  fallbackReason?: string;
  /** The device that ran a local request (`webgpu`, `wasm`, `cpu`): its `x-compute-type`. */
  device?: string;
  /** Why a local request did not run on the fastest device (e.g. WebGPU failed for this model). */
  deviceFallback?: string;
  /** A remote answer's `x-compute-type` header (what the Endpoint ran on, e.g. `gpu`, `cpu`). */
  computeType?: string;
  /** The answer's `x-compute-time` header, in seconds (remote and local answers). */
  computeTime?: number;
  /** Whether the remote Endpoint's circuit breaker is open after this request. */
  breakerOpen: boolean;
  /** The breaker's state after this request (`closed` when there is none). */
  breaker: BreakerStateName;
  /** Where the local model stood when the path was chosen, in modes that ask (see LocalState). */
  local?: LocalState;
}

// -- the circuit breaker --------------------------------------------------------------------------

export interface BreakerOptions {
  /** Consecutive remote failures (network error, 5xx, timeout) that open the breaker. Default 3. */
  failures?: number;
  /** How long an open breaker skips the remote Endpoint before it lets one probe through (ms). Default 30 000. */
  coolDownMs?: number;
  /** Called on every change of state. */
  onChange?: (state: BreakerState) => void;
}

/** A snapshot of the breaker. */
export interface BreakerState {
  state: BreakerStateName;
  /** Consecutive failures so far. */
  failures: number;
  /** When it opened last (ms since the epoch), while open or half-open. */
  openedAt?: number;
  /** When an open breaker lets the next probe through (ms since the epoch). */
  retryAt?: number;
}

/**
 * Counts consecutive remote failures. After `failures` of them it opens: the remote Endpoint is
 * not asked for `coolDownMs`. Then one request goes through as a probe (`half-open`; the others
 * are still kept away): its success closes the breaker, its failure opens it for another cool-down.
 * A request the caller aborted counts neither way.
 */
export class CircuitBreaker {
  readonly threshold: number;
  readonly coolDownMs: number;
  private readonly onChange: ((state: BreakerState) => void) | undefined;
  private current: BreakerStateName = 'closed';
  private count = 0;
  private openedAt: number | undefined;
  private probing = false;

  constructor(options: BreakerOptions = {}) {
    this.threshold = Math.max(1, options.failures ?? 3);
    this.coolDownMs = Math.max(0, options.coolDownMs ?? 30_000);
    this.onChange = options.onChange;
  }

  /** The state now (an open breaker past its cool-down reads `half-open`). */
  get state(): BreakerStateName {
    if (this.current === 'open' && Date.now() >= this.openedAt! + this.coolDownMs) return 'half-open';
    return this.current;
  }

  snapshot(): BreakerState {
    const state = this.state;
    return {
      state,
      failures: this.count,
      ...(this.openedAt !== undefined && state !== 'closed' ? { openedAt: this.openedAt, retryAt: this.openedAt + this.coolDownMs } : {}),
    };
  }

  /** Whether a request may go to the remote Endpoint now. In `half-open`, true once: for the probe. */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    this.set('half-open');
    return true;
  }

  /** The remote Endpoint answered (< 500). */
  success(): void {
    this.probing = false;
    this.count = 0;
    this.openedAt = undefined;
    this.set('closed');
  }

  /** The remote Endpoint failed: unreachable, 5xx, or too slow. */
  failure(): void {
    this.count++;
    const probe = this.probing;
    this.probing = false;
    if (probe || this.current !== 'closed' || this.count >= this.threshold) {
      this.openedAt = Date.now();
      this.set('open', true);
    }
  }

  /** The request ended without telling (the caller aborted, or another path won a race). */
  release(): void {
    this.probing = false;
  }

  /** Closes the breaker, as a success would. */
  reset(): void {
    this.success();
  }

  /** Why the remote Endpoint is skipped, in words. */
  describe(): string {
    const retryIn = Math.max(0, (this.openedAt ?? Date.now()) + this.coolDownMs - Date.now());
    return `remote Endpoint skipped: circuit breaker open after ${this.count} consecutive failure${this.count === 1 ? '' : 's'}, next probe in ${Math.ceil(retryIn / 1000)} s`;
  }

  private set(state: BreakerStateName, always = false): void {
    if (state === this.current && !always) return;
    this.current = state;
    this.onChange?.(this.snapshot());
  }
}

/** Thrown in `remote` mode while the circuit breaker keeps requests from the remote Endpoint. */
export class RemoteUnavailableError extends Error {
  readonly breaker: BreakerState;

  constructor(message: string, breaker: BreakerState) {
    super(message);
    this.name = 'RemoteUnavailableError';
    this.breaker = breaker;
  }
}

// -- the local model: readiness, background loads, the download veto ------------------------------

/** The local model behind a policy's `local` path: what `local-first` asks about, what `handoff` and a cold remote load. */
export interface LocalTarget {
  engine: EngineInterface;
  request: LoadRequest;
  onProgress?: ProgressListener;
}

/** What `allowDownload` is asked about, for a background download of a model that is not cached. */
export interface DownloadContext {
  task: string;
  model: string;
  /** `navigator.connection.saveData` (false where the browser does not tell, and in Node). */
  saveData: boolean;
  /** `navigator.connection.type` where the browser tells (`wifi`, `cellular`, …). */
  connectionType?: string;
  /** `connectionType === 'cellular'`, or the app's own `metered()` says so. */
  metered: boolean;
}

export interface DownloadOptions {
  /**
   * Whether a background download (handoff, warming for a cold remote, race's local side) of a
   * model that is not loaded or cached may start. `true`: always; `false`: never; a function:
   * asked each time. Default: not with `navigator.connection.saveData` or on a metered
   * connection. In Node, where there is no `navigator.connection`, nothing vetoes it.
   */
  allowDownload?: boolean | ((context: DownloadContext) => boolean);
  /** The app's own test for a metered connection, on top of `navigator.connection.type === 'cellular'`. */
  metered?: () => boolean;
}

interface Warm {
  state: 'loading' | 'ready' | 'vetoed' | 'failed';
  reason?: string;
  at: number;
  done?: Promise<void>;
  /** Asking the engine and the connection before a load. */
  checking?: boolean;
}

/** A failed background load is tried again after this long. */
const RETRY_FAILED_MS = 30_000;

/**
 * The local model's state for the policies, per pipeline (task, model, device, dtype): whether it
 * is loaded or cached (asked of the engine: `status()` and `listCached()`), and the background
 * loads that handoff and a cold remote start, with the download veto.
 */
export class LocalWarmer {
  private readonly warms = new Map<string, Warm>();
  private readonly options: DownloadOptions;

  constructor(options: DownloadOptions = {}) {
    this.options = options;
  }

  /** What this warmer knows without asking the engine: `loading`, `ready` (loaded), `vetoed`, `failed`, or nothing. */
  known(target: LocalTarget): LocalState | undefined {
    const warm = this.warms.get(key(target));
    if (!warm) return undefined;
    return warm.state === 'ready' ? 'loaded' : warm.state;
  }

  /** Whether the model is loaded, only in the model cache, or neither: asks the engine. */
  async readiness(target: LocalTarget): Promise<'loaded' | 'cached' | 'absent'> {
    if (this.warms.get(key(target))?.state === 'ready') return 'loaded';
    const { engine, request } = target;
    const [status, cached] = await Promise.all([engine.status().catch(() => undefined), engine.listCached().catch(() => [])]);
    if (status?.pipelines.some((p) => p.model === request.model && p.state === 'ready')) return 'loaded';
    if (cached.some((c) => c.model === request.model)) return 'cached';
    return 'absent';
  }

  /**
   * Why a download of this model must not start now, or undefined when it may. Only a model that
   * is neither loaded nor cached needs a download.
   */
  veto(target: LocalTarget): string | undefined {
    const connection = (globalThis as { navigator?: { connection?: { saveData?: boolean; type?: string } } }).navigator?.connection;
    const saveData = Boolean(connection?.saveData);
    const connectionType = connection?.type;
    const metered = connectionType === 'cellular' || Boolean(this.options.metered?.());
    const { allowDownload } = this.options;
    if (allowDownload === true) return undefined;
    if (allowDownload === false) return 'downloads are off (allowDownload: false)';
    const context: DownloadContext = { task: target.request.task, model: target.request.model, saveData, metered, ...(connectionType ? { connectionType } : {}) };
    if (typeof allowDownload === 'function') return allowDownload(context) ? undefined : 'allowDownload refused it';
    if (saveData) return 'the browser asks to save data (navigator.connection.saveData)';
    if (metered) return `the connection is metered${connectionType === 'cellular' ? ' (cellular)' : ''}`;
    return undefined;
  }

  /**
   * Starts loading the local model in the background, once: not while a load is under way or done,
   * and a failed one only after 30 s. A model that is not cached is not downloaded when `veto` says
   * no. Never throws; `known()` tells how it went, `settled()` waits for it.
   */
  warm(target: LocalTarget): void {
    const id = key(target);
    const warm = this.warms.get(id);
    if (warm && (warm.state === 'loading' || warm.state === 'ready' || warm.checking)) return;
    if (warm?.state === 'failed' && Date.now() - warm.at < RETRY_FAILED_MS) return;
    // A vetoed download stays vetoed while the connection is checked again (it may have changed).
    const entry: Warm = warm?.state === 'vetoed' ? warm : { state: 'loading', at: Date.now() };
    entry.checking = true;
    this.warms.set(id, entry);
    entry.done = (async () => {
      try {
        if ((await this.readiness(target)) === 'absent') {
          const vetoed = this.veto(target);
          if (vetoed) return Object.assign(entry, { state: 'vetoed', reason: vetoed, at: Date.now() }), undefined;
        }
        Object.assign(entry, { state: 'loading', at: Date.now() });
        const result = await target.engine.load(target.request, target.onProgress);
        if (result.ok) Object.assign(entry, { state: 'ready', at: Date.now() });
        else Object.assign(entry, { state: 'failed', reason: result.error, at: Date.now() });
      } catch (err) {
        Object.assign(entry, { state: 'failed', reason: (err as Error)?.message ?? String(err), at: Date.now() });
      } finally {
        entry.checking = false;
      }
    })();
  }

  /** Waits for the background load of this model, if one was started. */
  async settled(target: LocalTarget): Promise<LocalState | undefined> {
    await this.warms.get(key(target))?.done;
    return this.known(target);
  }

  /** Why the background load is not ready, in words (`loading…`, `vetoed: …`, `failed: …`). */
  describe(target: LocalTarget): string {
    const warm = this.warms.get(key(target));
    if (!warm) return 'local model not loaded';
    if (warm.state === 'loading') return 'local model loading in the background';
    if (warm.state === 'ready') return 'local model loaded';
    if (warm.state === 'vetoed') return `local model download vetoed: ${warm.reason}`;
    return `local model failed to load: ${warm.reason}`;
  }

  /** Forgets a model's background load (after it was unloaded or deleted, say). */
  forget(model?: string): void {
    for (const id of [...this.warms.keys()]) if (model === undefined || JSON.parse(id)[1] === model) this.warms.delete(id);
  }
}

function key({ request }: LocalTarget): string {
  return JSON.stringify([request.task, request.model, request.device ?? 'auto', request.dtype ?? '']);
}

// -- the policy -----------------------------------------------------------------------------------

export interface PolicyOptions extends DownloadOptions {
  mode: Mode;
  local: FetchFn;
  remote: FetchFn;
  /**
   * Give up on the remote Endpoint when its answer (its headers) has not come after this many ms;
   * a stream that has started is never cut. Counts as a failure for the breaker, and as a cold
   * remote (the local model starts warming). Default: none.
   */
  timeoutMs?: number;
  onRoute?: (route: RouteInfo) => void;
  /**
   * The local model behind `local`: needed by `handoff`; `local-first` asks it whether the model
   * is loaded or cached (without it, `local-first` always tries local first); a cold remote warms it.
   */
  localModel?: LocalTarget;
  /**
   * The remote Endpoint's circuit breaker: options for a new one, one to share (the client keeps
   * one across its calls), or `false` for none. Default: a new one with the default options.
   */
  breaker?: CircuitBreaker | BreakerOptions | false;
  /** The background loads' state, to share across fetch functions (the client keeps one). */
  warmer?: LocalWarmer;
}

type RemoteOutcome =
  | { ok: true; response: Response }
  | { ok: false; reason: string; cold: boolean; skipped?: boolean; response?: Response; error?: unknown };
type LocalOutcome = { ok: true; response: Response } | { ok: false; reason: string; response?: Response; error?: unknown };

/**
 * A fetch function that answers each request by the mode's rules (see `Mode`), reporting each
 * answer's path and why to `onRoute`. The request body must be replayable (a string, a Blob,
 * bytes, or a Request, which is cloned): `race` sends it twice, a fallback sends it again.
 */
export function policyFetch(options: PolicyOptions): FetchFn {
  const { mode, local, remote, timeoutMs, onRoute, localModel: target } = options;
  if (mode === 'handoff' && !target) throw new TypeError('mode "handoff" needs the local model (localModel) to load in the background.');
  const breaker = options.breaker instanceof CircuitBreaker ? options.breaker : options.breaker === false ? undefined : new CircuitBreaker(options.breaker);
  const warmer = options.warmer ?? new LocalWarmer(options);

  const answered = (path: RouteInfo['path'], response: Response, reason: string, extra: { fallback?: boolean; local?: LocalState } = {}) => {
    const header = (name: string) => response.headers.get(name) ?? undefined;
    const computeTime = Number.parseFloat(header('x-compute-time') ?? '');
    const device = path === 'local' ? header('x-compute-type') : undefined;
    const deviceFallback = path === 'local' ? header('x-compute-fallback') : undefined;
    const computeType = path === 'remote' ? header('x-compute-type') : undefined;
    const state = breaker?.state ?? 'closed';
    onRoute?.({
      path,
      mode,
      reason,
      status: response.status,
      ...(extra.fallback ? { fallbackReason: reason } : {}),
      ...(device ? { device } : {}),
      ...(deviceFallback ? { deviceFallback } : {}),
      ...(computeType ? { computeType } : {}),
      ...(Number.isFinite(computeTime) ? { computeTime } : {}),
      breakerOpen: state === 'open',
      breaker: state,
      ...(extra.local ? { local: extra.local } : {}),
    });
    return response;
  };
  const warm = () => {
    if (target) warmer.warm(target);
  };
  const localState = () => (target ? warmer.known(target) : undefined);

  /** The remote request, with the breaker and the timeout. Throws only when aborted (the caller, or a race lost). */
  const callRemote = async (input: RequestInfo | URL, init: RequestInit | undefined, lost?: AbortSignal): Promise<RemoteOutcome> => {
    if (breaker && !breaker.allow()) return { ok: false, reason: breaker.describe(), cold: false, skipped: true };
    const timer = new AbortController();
    const clock = timeoutMs
      ? setTimeout(() => timer.abort(new DOMException(`The remote Endpoint did not answer within ${timeoutMs} ms.`, 'TimeoutError')), timeoutMs)
      : undefined;
    const signal = AbortSignal.any([timer.signal, ...(init?.signal ? [init.signal] : []), ...(lost ? [lost] : [])]);
    try {
      const response = await remote(input, { ...init, signal });
      clearTimeout(clock);
      if (response.status < 500) {
        breaker?.success();
        return { ok: true, response };
      }
      breaker?.failure();
      return { ok: false, reason: `remote Endpoint answered ${response.status}`, cold: response.status === 503, response };
    } catch (err) {
      clearTimeout(clock);
      if (timer.signal.aborted && !init?.signal?.aborted && !lost?.aborted) {
        breaker?.failure();
        return { ok: false, reason: `remote Endpoint did not answer within ${timeoutMs} ms`, cold: true, error: timer.signal.reason };
      }
      if (init?.signal?.aborted || lost?.aborted) {
        breaker?.release();
        throw err;
      }
      breaker?.failure();
      return { ok: false, reason: `remote Endpoint unreachable: ${(err as Error)?.message ?? err}`, cold: false, error: err };
    }
  };

  /** The local request. A 4xx is a good answer (the request is wrong), except a model that is not there. */
  const callLocal = async (input: RequestInfo | URL, init: RequestInit | undefined, lost?: AbortSignal): Promise<LocalOutcome> => {
    const signal = lost ? AbortSignal.any([lost, ...(init?.signal ? [init.signal] : [])]) : init?.signal;
    try {
      const response = await local(input, { ...init, ...(signal ? { signal } : {}) });
      if (response.status < 400) return { ok: true, response };
      const error = await errorText(response);
      if (response.status < 500 && !/^Model .* could not be found/.test(error)) return { ok: true, response };
      return { ok: false, reason: `local engine answered ${response.status}${error ? `: ${error}` : ''}`, response };
    } catch (err) {
      if (init?.signal?.aborted || lost?.aborted) throw err;
      return { ok: false, reason: `local engine failed: ${(err as Error)?.message ?? err}`, error: err };
    }
  };

  /** Remote first, then local: `remote-first`, and `local-first`/`handoff` when local is not ready. */
  const remoteThenLocal = async (input: RequestInfo | URL, init: RequestInit | undefined, why: string, state?: LocalState): Promise<Response> => {
    const replay = replayable(input);
    const r = await callRemote(replay(), init);
    if (r.ok) return answered('remote', r.response, why, state ? { local: state } : {});
    if (r.cold) warm();
    void r.response?.body?.cancel().catch(() => undefined);
    return answered('local', await local(replay(), init), r.reason, { fallback: true, ...(localState() ? { local: localState()! } : {}) });
  };

  /** Local first, then remote: `local-first` and `handoff` once local is ready. */
  const localThenRemote = async (input: RequestInfo | URL, init: RequestInit | undefined, why: string, state: LocalState | undefined): Promise<Response> => {
    const replay = replayable(input);
    const l = await callLocal(replay(), init);
    if (l.ok) return answered('local', l.response, why, state ? { local: state } : {});
    const r = await callRemote(replay(), init);
    const extra = state ? { local: state } : {};
    if (r.ok) {
      void l.response?.body?.cancel().catch(() => undefined);
      return answered('remote', r.response, l.reason, extra);
    }
    // Both failed: the local failure is the answer (it names what is missing).
    void r.response?.body?.cancel().catch(() => undefined);
    if (l.response) return answered('local', l.response, `${l.reason}; and ${r.reason}`, extra);
    throw l.error;
  };

  if (mode === 'local') return async (input, init) => answered('local', await local(input, init), 'mode "local": the local engine only');

  if (mode === 'remote') {
    return async (input, init) => {
      const r = await callRemote(input, init);
      if (r.ok) return answered('remote', r.response, 'mode "remote": the remote Endpoint only');
      if (r.response) return answered('remote', r.response, r.reason);
      if (r.skipped) throw new RemoteUnavailableError(`${r.reason}.`, breaker!.snapshot());
      throw r.error;
    };
  }

  if (mode === 'remote-first' || mode === 'auto') {
    return (input, init) => remoteThenLocal(input, init, 'remote Endpoint answered');
  }

  if (mode === 'local-first') {
    return async (input, init) => {
      if (!target) return localThenRemote(input, init, 'local first', undefined);
      const state = await warmer.readiness(target);
      if (state === 'absent') return remoteThenLocal(input, init, 'local model neither loaded nor cached', state);
      return localThenRemote(input, init, `local model ${state}`, state);
    };
  }

  if (mode === 'handoff') {
    return async (input, init) => {
      if (warmer.known(target!) === 'loaded') return localThenRemote(input, init, 'handoff: local model loaded', 'loaded');
      warm(); // in the background: the remote Endpoint answers meanwhile
      // The route tells where the local model stood when the remote Endpoint was chosen.
      const why = `handoff: ${warmer.describe(target!)}`;
      const chosen = localState()!;
      const replay = replayable(input);
      const r = await callRemote(replay(), init);
      if (r.ok) return answered('remote', r.response, why, { local: chosen });
      void r.response?.body?.cancel().catch(() => undefined);
      // The remote Endpoint failed: the local engine answers, waiting for the load if it must.
      return answered('local', await local(replay(), init), r.reason, { fallback: true, local: localState()! });
    };
  }

  // race
  return async (input, init) => {
    const replay = replayable(input);
    let state: LocalState | undefined;
    // A background download can be vetoed: then the local side runs only for a model it has.
    if (target && warmer.veto(target)) {
      state = await warmer.readiness(target);
      if (state === 'absent') {
        const r = await callRemote(replay(), init);
        const why = `race: local side skipped, ${warmer.veto(target)}`;
        if (r.ok || r.response) return answered('remote', r.response!, r.ok ? why : r.reason, { local: 'vetoed' });
        if (r.skipped) throw new RemoteUnavailableError(`${r.reason}.`, breaker!.snapshot());
        throw r.error;
      }
    }
    const stopLocal = new AbortController();
    const stopRemote = new AbortController();
    type Leg = { path: 'local'; o: LocalOutcome } | { path: 'remote'; o: RemoteOutcome } | { path: 'local' | 'remote'; aborted: unknown };
    const legs = new Map<'local' | 'remote', Promise<Leg>>([
      ['local', callLocal(replay(), init, stopLocal.signal).then((o): Leg => ({ path: 'local', o }), (aborted): Leg => ({ path: 'local', aborted }))],
      ['remote', callRemote(replay(), init, stopRemote.signal).then((o): Leg => ({ path: 'remote', o }), (aborted): Leg => ({ path: 'remote', aborted }))],
    ]);
    const failed: Partial<Record<'local' | 'remote', { reason: string; response?: Response; error?: unknown }>> = {};
    while (legs.size) {
      const leg = await Promise.race(legs.values());
      legs.delete(leg.path);
      if ('aborted' in leg) throw leg.aborted; // the caller aborted
      if (leg.o.ok) {
        (leg.path === 'local' ? stopRemote : stopLocal).abort(new DOMException(`The ${leg.path} answer came first.`, 'AbortError'));
        const other = failed[leg.path === 'local' ? 'remote' : 'local'];
        const why = `race: ${leg.path === 'local' ? 'the local engine' : 'the remote Endpoint'} answered first${other ? ` (${other.reason})` : ''}`;
        return answered(leg.path, leg.o.response, why, state ? { local: state } : {});
      }
      if (leg.path === 'remote' && (leg.o as { cold?: boolean }).cold) warm();
      failed[leg.path] = leg.o;
    }
    // Both failed: the local failure is the answer when it has one (it names what is missing).
    const { local: l, remote: r } = failed as Required<typeof failed>;
    const pick = l.response ? ['local', l] as const : r.response ? ['remote', r] as const : undefined;
    const other = pick?.[0] === 'local' ? r : l;
    if (pick) {
      void other.response?.body?.cancel().catch(() => undefined);
      return answered(pick[0], pick[1].response!, `race: both failed: ${l.reason}; ${r.reason}`, state ? { local: state } : {});
    }
    throw l.error ?? r.error;
  };
}

/** Each call gives a fresh copy of the input: a Request is cloned (its body can be read once). */
function replayable(input: RequestInfo | URL): () => RequestInfo | URL {
  if (!(input instanceof Request)) return () => input;
  const spare = input.clone();
  let first = true;
  return () => {
    if (first) {
      first = false;
      return input;
    }
    return spare.clone();
  };
}

/** The `error` of an error answer, read from a copy so the answer itself stays readable. */
async function errorText(response: Response): Promise<string> {
  try {
    const text = await response.clone().text();
    try {
      const { error } = JSON.parse(text) as { error?: unknown };
      if (typeof error === 'string') return error.slice(0, 500);
    } catch {
      // not JSON
    }
    return text.slice(0, 200);
  } catch {
    return '';
  }
}
