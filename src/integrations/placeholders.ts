/**
 * Runtime placeholders in an integration's URL and JSON configuration: `{event}`, `{conversation.id}`,
 * `{conversation.direction}`, `{contact.id}`, `{channel.id}`, `{queue.id}`, `{routingAttributes.<name>}`
 * (or just `{<name>}` for a routing attribute), `{saved.<name>}` and `{authentications.<id>}`. Text in
 * braces that names none of them is left as it is, so literal braces in a body survive.
 */
export interface PlaceholderContext {
  event: string;
  conversation: { id: string; direction: string };
  contact: { id: string | null };
  channel: { id: string | null };
  queue: { id: string | null };
  routingAttributes: Record<string, string>;
  saved: Record<string, unknown>;
  /** Secrets by authentication id; `masked` resolution writes SECRET_MASK instead. */
  authentications: Record<string, string>;
}

export const SECRET_MASK = '***';
const PLACEHOLDER = /\{([A-Za-z_][\w-]*(?:\.[\w:@-]+)*)\}/g;

export type Resolution = 'send' | 'masked';

function valueOf(name: string, ctx: PlaceholderContext, mode: Resolution): string | undefined {
  const dot = name.indexOf('.');
  const root = dot < 0 ? name : name.slice(0, dot);
  const rest = dot < 0 ? '' : name.slice(dot + 1);
  const text = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  switch (root) {
    case 'event':
      return rest ? undefined : ctx.event;
    case 'conversation':
      return rest === 'id' ? ctx.conversation.id : rest === 'direction' ? ctx.conversation.direction : undefined;
    case 'contact':
    case 'channel':
    case 'queue':
      return rest === 'id' ? text(ctx[root].id) : undefined;
    case 'routingAttributes':
      return rest in ctx.routingAttributes ? ctx.routingAttributes[rest] : undefined;
    case 'saved':
      return rest in ctx.saved ? text(ctx.saved[rest]) : undefined;
    case 'authentications':
      if (!(rest in ctx.authentications)) return undefined;
      return mode === 'masked' ? SECRET_MASK : ctx.authentications[rest];
    default:
      return !rest && name in ctx.routingAttributes ? ctx.routingAttributes[name] : undefined;
  }
}

/** Replaces the known placeholders in one string; `encode` escapes each value (for a URL path). */
export function resolveText(template: string, ctx: PlaceholderContext, mode: Resolution, encode?: (v: string) => string): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = valueOf(name, ctx, mode);
    if (value === undefined) return whole;
    return encode ? encode(value) : value;
  });
}

/** Resolves placeholders in every string of a JSON value, keys included. */
export function resolveJson(value: unknown, ctx: PlaceholderContext, mode: Resolution): unknown {
  if (typeof value === 'string') return resolveText(value, ctx, mode);
  if (Array.isArray(value)) return value.map((v) => resolveJson(v, ctx, mode));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [resolveText(k, ctx, mode), resolveJson(v, ctx, mode)]));
  }
  return value;
}

/** The endpoint URL: placeholder values are percent-encoded, so a value cannot add a path, query or host. */
export function resolveUrl(template: string, ctx: PlaceholderContext, mode: Resolution): string {
  return resolveText(template, ctx, mode, encodeURIComponent);
}
