/**
 * A deliberately bad custom handler for the tests: what it does depends on `inputs`.
 * "throw" throws, "hang" never answers (and ignores its signal), "loop" loops forever in
 * synchronous code, "function" / "bigint" / "cyclic" / "undefined" / "symbol" / "map" return what
 * is not JSON, "bytes" returns bytes, "signal" waits for its signal (and "last-abort" tells why it aborted); anything else
 * is answered `{ok: true, inputs, calls}`.
 */
export class EndpointHandler {
  constructor(path, context) {
    this.calls = 0;
    this.runtime = context.runtime;
  }

  async call({ inputs }, request) {
    this.calls++;
    switch (inputs) {
      case 'throw':
        throw new Error('the moody handler refuses "throw"');
      case 'throw-string':
        throw 'a bare string thrown';
      case 'hang':
        return new Promise(() => {});
      case 'loop':
        for (;;);
      case 'function':
        return function secret() {};
      case 'bigint':
        return { count: 12345678901234567890n };
      case 'cyclic': {
        const value = { name: 'cyclic' };
        value.self = value;
        return value;
      }
      case 'undefined':
        return undefined;
      case 'symbol':
        return [1, Symbol('x')];
      case 'map':
        return new Map([['a', 1]]);
      case 'bytes':
        return new Uint8Array([1, 2, 3, 250]);
      case 'signal':
        await new Promise((done) => request.signal.addEventListener('abort', done));
        this.aborted = String(request.signal.reason?.message ?? request.signal.reason);
        return { aborted: true };
      case 'last-abort':
        return { aborted: this.aborted ?? null };
      default:
        return { ok: true, inputs, calls: this.calls, runtime: this.runtime };
    }
  }
}
