import { JSONPath } from 'jsonpath-plus';
import type { ConversationValue } from './conversation-values.ts';
import type { IntegrationConfiguration } from './integration-input.ts';

/** The value at a JSONPath of the answer: one match as itself, several as an array, none as undefined. */
export function valueAt(answer: unknown, path: string): unknown {
  if (answer === null || typeof answer !== 'object') return undefined;
  try {
    // Script evaluation off: paths come from configuration, answers from outside.
    return JSONPath({ path, json: answer, wrap: false, eval: false });
  } catch {
    // A filter expression needs script evaluation: it matches nothing rather than failing the call.
    return undefined;
  }
}

/**
 * What an answer puts on the conversation: `response.set` targets (routingAttributes.<name> as text,
 * agentData.<name>, routing.queueId) and `response.save` names. Paths that match nothing set nothing.
 */
export function valuesFromAnswer(
  answer: unknown,
  response: IntegrationConfiguration['response'],
  integrationId: string,
): ConversationValue[] {
  const values: ConversationValue[] = [];
  for (const [target, path] of Object.entries(response.set)) {
    const value = valueAt(answer, path);
    if (value === undefined) continue;
    const dot = target.indexOf('.');
    const root = target.slice(0, dot);
    const name = target.slice(dot + 1);
    if (root === 'routingAttributes') {
      values.push({ scope: 'routingAttribute', name, value: typeof value === 'string' ? value : JSON.stringify(value), integrationId });
    } else if (root === 'agentData') values.push({ scope: 'agentData', name, value, integrationId });
    else if (typeof value === 'string') values.push({ scope: 'routing', name, value, integrationId });
  }
  for (const [name, path] of Object.entries(response.save)) {
    const value = valueAt(answer, path);
    if (value !== undefined) values.push({ scope: 'saved', name, value, integrationId });
  }
  return values;
}
