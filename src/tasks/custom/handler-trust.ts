/**
 * Where a custom handler may come from: the rules, as pure functions of URLs and names (the
 * runtimes apply them: worker/runtime-browser.ts and worker/runtime-node.ts). A handler is code
 * that runs with the page's rights (in Node, the server's), so by default:
 *
 * - in the browser, an app-named module URL must resolve to the app's own origin (http or https);
 *   `data:`, `blob:`, `javascript:` and other origins are refused. The local model folder
 *   (`localModelPath`, on the app's origin) counts as the app's own.
 * - in Node, an app-named handler is a file (a path, or a `file:` URL): the operator named it.
 * - a `handler.js` that comes from the Hub (`remoteHost`) runs only for a repository the app
 *   trusts (`trustRemoteCode`), as `trust_remote_code` in transformers.
 *
 * Every refusal is a 403 naming the handler, why, and how to allow it.
 */
import { EndpointError } from '../../protocol/errors.js';

export const REFUSED_STATUS = 403;

/** Checks an app-named handler module URL in the browser; its absolute href when allowed. */
export function checkBrowserHandlerUrl(model: string, named: string, base: string): string {
  let url: URL;
  try {
    url = new URL(named, base);
  } catch {
    throw new EndpointError(400, `The handler of ${JSON.stringify(model)} is not a URL: ${JSON.stringify(named.slice(0, 100))}.`);
  }
  const origin = new URL(base).origin;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refused(
      model,
      `its module URL is a ${url.protocol} URL. Only modules served from the app's own origin (${origin}) load: ` +
        'a data: or blob: URL can hold any code, from anywhere',
    );
  }
  if (url.origin !== origin) {
    throw refused(model, `its module ${url.origin}${url.pathname} is on another origin than the app's (${origin}). Serve the handler from the app's own origin`);
  }
  return url.href;
}

/** The refusal of a handler.js downloaded from the Hub without the app's opt-in. */
export function untrustedRemoteHandler(model: string, where: string, option: 'trustRemoteCode' | '--trust-remote-code'): EndpointError {
  const how = option === 'trustRemoteCode' ? `trustRemoteCode: [${JSON.stringify(model)}]` : '--trust-remote-code (trustRemoteCode)';
  return refused(
    model,
    `its handler.js would be downloaded from the Hub (${where}), and a handler is code that runs with ${option === 'trustRemoteCode' ? "the page's" : "this server's"} rights. ` +
      `Run it only if you trust that repository: ${how}, as trust_remote_code in transformers`,
  );
}

/** A refusal (403) of the handler of `model`, saying why. */
export function refused(model: string, why: string): EndpointError {
  return new EndpointError(REFUSED_STATUS, `The custom handler of ${JSON.stringify(model)} is refused: ${why}.`);
}

/** The 400 of a model with no handler anywhere it may come from. */
export function noHandler(model: string, looked: string): EndpointError {
  return new EndpointError(
    400,
    `The model ${JSON.stringify(model)} has no custom handler: no handler.js in ${looked}, and none named for it (handlers). ` +
      'A custom handler is an ES module exporting class EndpointHandler { constructor(path, context); call(data) }.',
  );
}
