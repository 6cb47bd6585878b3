/**
 * The parameters panel: the task's known parameters, typed, each with its default; and a JSON box
 * for any other. Only what the user sets is sent.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { parametersOf, parseParameter, type ParameterSpec } from '../parameters.js';

export interface ParametersHost {
  readonly task: string;
  readonly uid: string;
  parameterValues: Record<string, string | boolean>;
  extraParameters: string;
  requestUpdate(): void;
}

/** The parameters to send: the typed ones the user set, then the JSON box's, which win. */
export function collectParameters(host: ParametersHost): { value: Record<string, unknown> } | { error: string } {
  const value: Record<string, unknown> = {};
  for (const spec of parametersOf(host.task)) {
    const raw = host.parameterValues[spec.name];
    if (raw === undefined) continue;
    const parsed = parseParameter(spec, raw);
    if (!parsed) continue;
    if ('error' in parsed) return parsed;
    value[spec.name] = parsed.value;
  }
  const extra = host.extraParameters.trim();
  if (extra) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(extra);
    } catch (err) {
      return { error: `Other parameters are not valid JSON: ${(err as Error).message}` };
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: 'Other parameters must be a JSON object, like {"top_k": 3}.' };
    Object.assign(value, parsed);
  }
  return { value };
}

function field(host: ParametersHost, spec: ParameterSpec): TemplateResult {
  const id = `${host.uid}-p-${spec.name}`;
  const value = host.parameterValues[spec.name];
  const set = (raw: string | boolean | undefined) => {
    if (raw === undefined || raw === '') delete host.parameterValues[spec.name];
    else host.parameterValues[spec.name] = raw;
    host.requestUpdate();
  };
  const fallback = spec.default === undefined ? undefined : String(spec.default);
  // A parameter the model decides says so in its help; the others show their default.
  const hint = html`<span class="hint" id="${id}-hint">${spec.help}.${fallback === undefined ? '' : ` Default: ${fallback}.`}</span>`;
  if (spec.type === 'boolean' || spec.type === 'enum') {
    const options = spec.type === 'boolean' ? ['true', 'false'] : (spec.options ?? []);
    return html`<div class="field">
      <label class="label" for=${id}>${spec.name}</label>
      <select id=${id} name=${spec.name} aria-describedby="${id}-hint" @change=${(e: Event) => set((e.target as HTMLSelectElement).value || undefined)}>
        <option value="" ?selected=${value === undefined}>${fallback === undefined ? 'default' : `default (${fallback})`}</option>
        ${options.map((option) => html`<option value=${option} ?selected=${String(value) === option}>${option}</option>`)}
      </select>
      ${hint}
    </div>`;
  }
  const numeric = spec.type === 'integer' || spec.type === 'number';
  return html`<div class="field">
    <label class="label" for=${id}>${spec.name}</label>
    <input
      id=${id}
      name=${spec.name}
      type=${numeric ? 'number' : 'text'}
      inputmode=${numeric ? (spec.type === 'integer' ? 'numeric' : 'decimal') : nothing}
      step=${numeric ? (spec.step ?? (spec.type === 'integer' ? 1 : 'any')) : nothing}
      min=${spec.min ?? nothing}
      max=${spec.max ?? nothing}
      placeholder=${spec.default === undefined ? '' : String(spec.default)}
      aria-describedby="${id}-hint"
      .value=${typeof value === 'string' ? value : ''}
      @input=${(e: Event) => set((e.target as HTMLInputElement).value)}
    />
    ${hint}
  </div>`;
}

export function parametersPanel(host: ParametersHost): TemplateResult {
  const specs = parametersOf(host.task);
  const extraId = `${host.uid}-p-extra`;
  return html`<details class="panel parameters">
    <summary>Parameters</summary>
    <div class="params">${specs.map((spec) => field(host, spec))}</div>
    <label class="field" for=${extraId} style="margin-top:8px">
      <span class="label">Other parameters (JSON)</span>
      <textarea
        id=${extraId}
        rows="2"
        spellcheck="false"
        placeholder='{"top_k": 3}'
        .value=${host.extraParameters}
        @input=${(e: Event) => {
          host.extraParameters = (e.target as HTMLTextAreaElement).value;
        }}
      ></textarea>
    </label>
  </details>`;
}
