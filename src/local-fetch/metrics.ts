/**
 * `GET /metrics`: Prometheus' text exposition format (version 0.0.4), with TGI's metric names on
 * generative endpoints (`tgi_…`) and TEI's on encoder endpoints (`te_…`), so a dashboard made for
 * those servers reads these.
 *
 * Counted by the local fetch, per endpoint, from the requests it answers: requests (by route and
 * status), their durations, the requests being served right now (the queue), and the tokens
 * generated. Written here rather than with prom-client, which needs Node's `cluster` and
 * `perf_hooks`: this runs in a Service Worker and on the page too.
 */

/** Upper bounds (seconds) of the duration histogram's buckets. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Upper bounds of the generated-tokens histogram's buckets. */
const TOKEN_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }
}

/** One endpoint's counters. */
export class EndpointMetrics {
  private readonly requests = new Map<string, number>();
  private readonly duration = new Histogram(DURATION_BUCKETS);
  private readonly tokens = new Histogram(TOKEN_BUCKETS);
  private generated = 0;
  /** Requests received and not yet answered (streams count until their last event). */
  inFlight = 0;

  constructor(
    /** `tgi` or `te`: the metric names' prefix. */
    readonly prefix: 'tgi' | 'te',
    readonly model: string,
  ) {}

  /** A request begins: returns what to call when its answer is complete. */
  begin(method: string, route: string): (status: number, generatedTokens?: number) => void {
    const started = now();
    this.inFlight++;
    let ended = false;
    return (status, generatedTokens) => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      const key = `${method} ${route || '/'} ${status}`;
      this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
      this.duration.observe((now() - started) / 1000);
      if (generatedTokens !== undefined && generatedTokens > 0) {
        this.generated += generatedTokens;
        this.tokens.observe(generatedTokens);
      }
    };
  }

  /** The exposition text. */
  render(): string {
    const p = this.prefix;
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) => lines.push(`# HELP ${p}_${name} ${help}`, `# TYPE ${p}_${name} ${type}`);
    let total = 0;
    let success = 0;
    for (const [key, count] of this.requests) {
      total += count;
      if (Number(key.split(' ')[2]) < 400) success += count;
    }
    family('request_count', 'counter', 'Requests received.');
    lines.push(`${p}_request_count ${total}`);
    family('request_success', 'counter', 'Requests answered with a success status.');
    lines.push(`${p}_request_success ${success}`);
    family('request_failure', 'counter', 'Requests answered with an error status, by route and status.');
    for (const [key, count] of this.requests) {
      const [method, route, status] = key.split(' ');
      if (Number(status) >= 400) lines.push(`${p}_request_failure{method="${method}",route="${escape(route!)}",status="${status}"} ${count}`);
    }
    family('request_by_route', 'counter', 'Requests by method, route and status.');
    for (const [key, count] of this.requests) {
      const [method, route, status] = key.split(' ');
      lines.push(`${p}_request_by_route{method="${method}",route="${escape(route!)}",status="${status}"} ${count}`);
    }
    family('request_duration', 'histogram', 'Time from receiving a request to its complete answer, in seconds.');
    histogramLines(lines, `${p}_request_duration`, this.duration);
    family('queue_size', 'gauge', 'Requests received and not yet answered.');
    lines.push(`${p}_queue_size ${this.inFlight}`);
    if (p === 'tgi') {
      family('request_generated_tokens', 'histogram', 'Tokens generated per request.');
      histogramLines(lines, `${p}_request_generated_tokens`, this.tokens);
      family('generated_tokens_total', 'counter', 'Tokens generated, all requests.');
      lines.push(`${p}_generated_tokens_total ${this.generated}`);
    }
    family('model_info', 'gauge', 'The model this endpoint serves.');
    lines.push(`${p}_model_info{model="${escape(this.model)}"} 1`);
    return `${lines.join('\n')}\n`;
  }
}

function histogramLines(lines: string[], name: string, h: Histogram): void {
  h.buckets.forEach((bound, i) => lines.push(`${name}_bucket{le="${bound}"} ${h.counts[i]}`));
  lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${round(h.sum)}`, `${name}_count ${h.count}`);
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;

/** A label value: backslash, quote and newline escaped, as the format requires. */
function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
