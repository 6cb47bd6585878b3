/**
 * `local-endpoint/widgets`: Inference Widgets as custom elements. Importing this module defines
 * `<le-widget>` (once; a page that defines its own first keeps it).
 *
 *     <le-widget task="text-classification" model="owner/model"></le-widget>
 *     <le-widget task="conversational" model="owner/chat" mode="remote-first" endpoint-url="https://…"></le-widget>
 */
import { LeWidget } from './widget.js';

export { LeWidget, SERVE_URL } from './widget.js';
export { FAMILIES, familyOf, widgetTasks } from './families/index.js';
export { snippetsFor, type Snippet, type SnippetTarget } from './snippets.js';
export { TASK_PARAMETERS, parametersOf, type ParameterSpec, type ParameterType } from './parameters.js';
export type { ChosenMedia, Family, SampleMedia, WidgetHost, WidgetRequest } from './types.js';

/** Defines `<le-widget>` under `name` (default `le-widget`); does nothing when it is defined. */
export function defineWidgets(name = 'le-widget'): void {
  if (!customElements.get(name)) customElements.define(name, name === 'le-widget' ? LeWidget : class extends LeWidget {});
}

defineWidgets();
