/** The route badge: which path answered (local or remote) and why, the device, and the compute time. */
import { html, nothing, type TemplateResult } from 'lit';
import type { RouteInfo } from '../../client/policy.js';

export function routeBadge(route: RouteInfo | undefined, elapsedMs: number | undefined): TemplateResult | typeof nothing {
  if (!route) return nothing;
  const device = route.path === 'local' ? (route.device ?? 'local') : (route.computeType ?? 'remote');
  const compute = route.computeTime === undefined ? undefined : `${(route.computeTime * 1000).toFixed(route.computeTime < 0.01 ? 1 : 0)} ms compute`;
  return html`<div class="badge" data-path=${route.path} aria-label="Answered ${route.path === 'local' ? 'on this device' : 'by the remote Endpoint'}">
    <span class="pill ${route.path}">${route.path === 'local' ? 'local' : 'remote'}</span>
    <span class="pill" title="The device that ran it">${device}</span>
    ${compute ? html`<span class="pill compute-time" title="x-compute-time">${compute}</span>` : nothing}
    ${elapsedMs === undefined ? nothing : html`<span class="pill" title="Wall time seen by the page">${Math.round(elapsedMs)} ms total</span>`}
    <span class="why">${route.reason}${route.deviceFallback ? ` · ${route.deviceFallback}` : ''}</span>
  </div>`;
}
