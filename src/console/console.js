// The console: plain DOM, no framework. Every action is a call to the management API, the same one a
// script would use, with the admin key from this tab's sessionStorage (never in a URL).

import { RICH_MESSAGE_TEMPLATES } from './rich-message-templates.js';

const KEY_ITEM = 'byoc-admin-key';
const POLL_MS = 2000;

const $ = (selector) => document.querySelector(selector);
const statusLine = () => $('#status');

/** Builds an element: h('a', { href: '#' }, 'text', child). Text is always set as text, never as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const adminKey = () => sessionStorage.getItem(KEY_ITEM);

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ? `${status}: ${body.message}` : `HTTP ${status}`);
    this.status = status;
  }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${adminKey()}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) {
    signOut('The admin key was refused; sign in again.');
    throw new ApiError(401, { message: 'not signed in' });
  }
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed;
}

function say(message, isError = false) {
  statusLine().textContent = message;
  statusLine().classList.toggle('error', isError);
}

/** Runs an action from a button or form, reporting its outcome in the status line. */
async function act(what, action) {
  try {
    const result = await action();
    say(`${what}: done.`);
    return result;
  } catch (err) {
    say(`${what} failed: ${err.message}`, true);
    return undefined;
  }
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

function copyButton(value, label) {
  return h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      'aria-label': `Copy ${label}`,
      onclick: async () => {
        await navigator.clipboard?.writeText(value).catch(() => {});
        say(`${label} copied.`);
      },
    },
    'Copy',
  );
}

// ---------------------------------------------------------------- outbound event stream (SSE over fetch)

/** The management SSE stream needs the Authorization header, which EventSource cannot send: read it with fetch. */
const stream = {
  listeners: new Set(),
  controller: undefined,
  lastId: undefined,
  start() {
    if (this.controller) return;
    this.controller = new AbortController();
    void this.run(this.controller.signal);
  },
  stop() {
    this.controller?.abort();
    this.controller = undefined;
  },
  async run(signal) {
    while (!signal.aborted) {
      try {
        const res = await fetch('/api/events', {
          headers: { authorization: `Bearer ${adminKey()}`, ...(this.lastId ? { 'last-event-id': this.lastId } : {}) },
          signal,
        });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            this.dispatch(block);
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  },
  dispatch(block) {
    let id;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (!data) return;
    if (id) this.lastId = id;
    const event = JSON.parse(data);
    for (const listener of this.listeners) listener(event);
  },
};

// ---------------------------------------------------------------- views

let org;
let stopView = () => {};

/** Re-renders `render()` now, on every outbound event and every POLL_MS (inbound entries are not on the outbound stream). */
function live(render) {
  let busy = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      await render();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) say(err.message, true);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(refresh, POLL_MS);
  stream.listeners.add(refresh);
  void refresh();
  return () => {
    clearInterval(timer);
    stream.listeners.delete(refresh);
  };
}

function conversationsView(view) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const channel = h(
    'select',
    { id: 'filter-channel', name: 'channel' },
    h('option', { value: '' }, 'All channels'),
    org.channels.map((c) =>
      h(
        'option',
        { value: c.channelAddressIdentifier, selected: params.get('channel') === c.channelAddressIdentifier },
        c.authorizationContext,
      ),
    ),
  );
  const endUser = h('input', {
    id: 'filter-end-user',
    name: 'endUser',
    value: params.get('endUser') ?? '',
    placeholder: 'e.g. +15555550100',
  });
  const body = h('tbody');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  view.append(
    h('h1', {}, 'Conversations'),
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        onsubmit: (e) => {
          e.preventDefault();
          const q = new URLSearchParams();
          if (channel.value) q.set('channel', channel.value);
          if (endUser.value.trim()) q.set('endUser', endUser.value.trim());
          location.hash = `#/conversations${q.size ? `?${q}` : ''}`;
        },
      },
      h('label', { for: 'filter-channel' }, 'Channel', channel),
      h('label', { for: 'filter-end-user' }, 'End user', endUser),
      h('button', { type: 'submit' }, 'Filter'),
    ),
    count,
    h(
      'table',
      { id: 'conversations' },
      h('caption', { class: 'muted' }, 'Newest first; new conversations and entries appear without reloading.'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['End user', 'Channel', 'Entries', 'Last entry', 'Started'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      body,
    ),
  );
  const query = new URLSearchParams({ limit: '200' });
  if (params.get('channel')) query.set('channelAddressIdentifier', params.get('channel'));
  if (params.get('endUser')) query.set('endUserClientIdentifier', params.get('endUser'));
  const channelName = (id) => org.channels.find((c) => c.channelAddressIdentifier === id)?.authorizationContext ?? id;
  return live(async () => {
    const { conversations } = await api('GET', `/api/conversations?${query}`);
    count.textContent = `${conversations.length} conversation${conversations.length === 1 ? '' : 's'}`;
    body.replaceChildren(
      ...conversations.map((c) =>
        h(
          'tr',
          { dataset: { conversation: c.conversationIdentifier } },
          h('td', {}, h('a', { href: `#/conversations/${encodeURIComponent(c.conversationIdentifier)}` }, c.endUserClientIdentifier)),
          h('td', {}, channelName(c.channelAddressIdentifier)),
          h('td', {}, c.entryCount),
          h('td', {}, time(c.lastEntryAt)),
          h('td', {}, time(c.createdAt)),
        ),
      ),
    );
  });
}

function entryText(entry) {
  const p = entry.payload ?? {};
  const content = p.abstractMessage?.staticContent;
  if (content?.text) return content.text;
  if (content?.formatType && content.formatType !== 'Attachments') return `(${content.formatType})`;
  const rich = p.abstractMessage?.choices ?? p.abstractMessage?.form;
  if (rich?.formatType) {
    const words = rich.text ?? rich.title ?? rich.formTitle?.title ?? rich.calendarEvent?.title;
    const options = (rich.optionItems ?? []).map((o) => o.titleItem?.title).filter(Boolean);
    return `(${rich.formatType}) ${words ?? ''}${options.length ? ` [${options.join(' / ')}]` : ''}`.trim();
  }
  if (p.abstractMessage?.messageType) return `(${p.abstractMessage.messageType})`;
  return '';
}

/** An attachment: images previewed inline, the rest offered for download; both fetched with the admin key. */
function attachmentView(attachment) {
  const item = h('div', { class: 'attachment' });
  const link = h(
    'a',
    { href: '#', 'data-attachment': attachment.id },
    `${attachment.name} (${attachment.mimeType}, ${attachment.size} bytes)`,
  );
  let objectUrl;
  const blobUrl = async () => {
    if (objectUrl) return objectUrl;
    const res = await fetch(`/api/attachments/${encodeURIComponent(attachment.id)}`, {
      headers: { authorization: `Bearer ${adminKey()}` },
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    objectUrl = URL.createObjectURL(await res.blob());
    return objectUrl;
  };
  link.addEventListener('click', async (e) => {
    e.preventDefault();
    const url = await act(`Download ${attachment.name}`, blobUrl);
    if (!url) return;
    const a = h('a', { href: url, download: attachment.name });
    a.click();
  });
  item.append(link);
  if (attachment.mimeType.startsWith('image/')) {
    const img = h('img', { class: 'preview', alt: `Preview of ${attachment.name}` });
    item.append(img);
    void blobUrl()
      .then((url) => (img.src = url))
      .catch(() => (img.alt = `${attachment.name}: preview unavailable`));
  }
  return item;
}

function agentAttachmentLinks(entry) {
  // Files sent from here are stored, so they are in entry.attachments (with a preview); only link the others.
  const stored = new Set((entry.attachments ?? []).map((a) => a.id));
  const list = (entry.payload?.abstractMessage?.staticContent?.attachments ?? []).filter((a) => !stored.has(a.id));
  return list.map((a) => h('div', {}, h('a', { href: a.url, rel: 'noreferrer' }, a.name ?? a.url)));
}

function conversationView(view, conversationIdentifier) {
  const title = h('h1', {}, 'Conversation');
  const facts = h('dl', { class: 'kv' });
  const entries = h('ol', { class: 'entries', id: 'entries', 'aria-label': 'Entries, oldest first' });
  const routing = h('div', { id: 'routing' });
  const events = h('tbody');
  const textInput = h('textarea', { id: 'agent-text', name: 'text', rows: 3 });
  const urlInput = h('input', { id: 'agent-attachment-url', name: 'attachmentUrl', type: 'url', placeholder: 'https://…' });
  const fileInput = h('input', { id: 'agent-file', name: 'file', type: 'file' });
  const mimeInput = h('input', { id: 'agent-attachment-type', name: 'mimeType', placeholder: 'image/png' });
  const path = `/api/conversations/${encodeURIComponent(conversationIdentifier)}`;
  const templateOf = (format) => JSON.stringify(RICH_MESSAGE_TEMPLATES[format], null, 2);
  const richFormat = h(
    'select',
    { id: 'rich-format', onchange: () => (richJson.value = templateOf(richFormat.value)) },
    Object.keys(RICH_MESSAGE_TEMPLATES).map((f) => h('option', { value: f }, f)),
  );
  const richJson = h('textarea', { id: 'rich-json', rows: 12, spellcheck: 'false', class: 'code' });
  richJson.value = templateOf(richFormat.value);

  const agentPanel =
    org.mode === 'local-org'
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'agent-title' },
          h('h2', { id: 'agent-title' }, 'Play the agent'),
          h(
            'form',
            {
              id: 'agent-form',
              onsubmit: async (e) => {
                e.preventDefault();
                const body = { text: textInput.value };
                if (urlInput.value) body.attachments = [{ url: urlInput.value, ...(mimeInput.value ? { mimeType: mimeInput.value } : {}) }];
                const sent = await act('Send message', () => api('POST', `${path}/messages`, body));
                if (sent) {
                  textInput.value = '';
                  urlInput.value = '';
                  mimeInput.value = '';
                }
              },
            },
            h('label', { for: 'agent-text' }, 'Message text', textInput),
            h(
              'details',
              {},
              h('summary', {}, 'Attach a file by URL'),
              h('label', { for: 'agent-attachment-url' }, 'File URL', urlInput),
              h('label', { for: 'agent-attachment-type' }, 'MIME type (optional)', mimeInput),
            ),
            h('p', {}, h('button', { type: 'submit' }, 'Send as agent')),
          ),
          h(
            'details',
            {},
            h('summary', {}, 'Send a rich message'),
            h(
              'form',
              {
                id: 'agent-rich-form',
                onsubmit: async (e) => {
                  e.preventDefault();
                  let message;
                  try {
                    message = JSON.parse(richJson.value);
                  } catch (err) {
                    say(`The message is not JSON: ${err.message}`, true);
                    return;
                  }
                  await act(`Send ${richFormat.value}`, () => api('POST', `${path}/messages`, { message }));
                },
              },
              h('label', { for: 'rich-format' }, 'Format (fills in a starting point)', richFormat),
              h('label', { for: 'rich-json' }, 'Message (the abstractMessage, JSON)', richJson),
              h('p', {}, h('button', { type: 'submit' }, 'Send rich message')),
            ),
          ),
          h(
            'form',
            {
              id: 'agent-file-form',
              class: 'inline',
              onsubmit: async (e) => {
                e.preventDefault();
                const file = fileInput.files?.[0];
                if (!file) return;
                const query = new URLSearchParams({ name: file.name, mimeType: file.type || 'application/octet-stream' });
                const sent = await act(`Send ${file.name}`, async () => {
                  const res = await fetch(`${path}/files?${query}`, {
                    method: 'POST',
                    headers: { authorization: `Bearer ${adminKey()}`, 'content-type': 'application/octet-stream' },
                    body: file,
                  });
                  const body = await res.json();
                  if (!res.ok) throw new ApiError(res.status, body);
                  return body;
                });
                if (sent) fileInput.value = '';
              },
            },
            h('label', { for: 'agent-file' }, 'File', fileInput),
            h('button', { type: 'submit' }, 'Send file'),
          ),
          h(
            'p',
            {},
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: () => act('Typing started', () => api('POST', `${path}/typing`, { state: 'started' })),
              },
              'Typing started',
            ),
            ' ',
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: () => act('Typing stopped', () => api('POST', `${path}/typing`, { state: 'stopped' })),
              },
              'Typing stopped',
            ),
          ),
          h(
            'p',
            { class: 'muted' },
            'Text, attachments (a file sent here, or one by URL) and the rich formats above go out as the agent’s Message events.',
          ),
          h(
            'div',
            { class: 'actions', role: 'group', 'aria-label': 'Conversation actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: () => act('Mark read', () => api('POST', `${path}/read`, {})),
              },
              'Mark read',
            ),
            ' ',
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: () => act('Mark delivered', () => api('POST', `${path}/delivered`, {})),
              },
              'Mark delivered',
            ),
            ' ',
            h(
              'button',
              {
                type: 'button',
                class: 'danger',
                onclick: () => {
                  if (!confirm('End the open messaging session of this conversation?')) return;
                  void act('End session', () => api('POST', `${path}/end`, {}));
                },
              },
              'End session',
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Bridge mode: the real org’s agents answer; this page shows what the bridge stored.');

  // Route/transfer and assign: the forms stay while the routing state above them refreshes.
  let openRouting = false;
  const routeQueue = h(
    'select',
    { id: 'route-queue', required: true },
    (org.queues ?? []).map((q) => h('option', { value: q.queueId15 }, q.developerName)),
  );
  const routeType = h(
    'select',
    { id: 'route-type' },
    h('option', { value: 'Transfer' }, 'Transfer'),
    h('option', { value: 'Initial' }, 'Initial'),
  );
  const assignAgent = h(
    'select',
    { id: 'assign-agent', required: true },
    (org.agentUsers ?? []).map((a) => h('option', { value: a.userId15 }, `${a.name} (${a.username})`)),
  );
  const assignCapacity = h('input', { id: 'assign-capacity', type: 'number', min: 0, max: 100, placeholder: '100' });
  const routingForms =
    org.mode === 'local-org'
      ? h(
          'div',
          {},
          h(
            'form',
            {
              id: 'route-form',
              class: 'inline',
              onsubmit: async (e) => {
                e.preventDefault();
                await act(`${routeType.value === 'Transfer' ? 'Transfer' : 'Route'} to queue`, () =>
                  api('POST', `${path}/route`, { routingType: routeType.value, queueId: routeQueue.value }),
                );
              },
            },
            h('label', { for: 'route-queue' }, 'Queue', routeQueue),
            h('label', { for: 'route-type' }, 'Routing type', routeType),
            h('button', { type: 'submit' }, 'Route'),
          ),
          h(
            'form',
            {
              id: 'assign-form',
              class: 'inline',
              onsubmit: async (e) => {
                e.preventDefault();
                // Without an open routing the work needs a capacity of its own (as POST /agentWork does).
                const capacity = assignCapacity.value === '' ? (openRouting ? undefined : 100) : Number(assignCapacity.value);
                await act('Assign to agent', () =>
                  api('POST', `${path}/agent-work`, {
                    userId: assignAgent.value,
                    ...(capacity === undefined ? {} : { capacityPercentage: capacity }),
                  }),
                );
              },
            },
            h('label', { for: 'assign-agent' }, 'Agent', assignAgent),
            h('label', { for: 'assign-capacity' }, 'Capacity % (optional)', assignCapacity),
            h('button', { type: 'submit' }, 'Assign'),
          ),
        )
      : null;
  const integrationFacts = h('div', { id: 'integration-data' });
  const agentData = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'integration-data-title' },
    h('h2', { id: 'integration-data-title' }, 'From integrations'),
    integrationFacts,
  );
  const workButton = (work, status, label) =>
    h(
      'button',
      {
        type: 'button',
        class: status === 'Close' || status === 'Decline' ? 'secondary' : '',
        'aria-label': `${label} agent work ${work.agentWorkId}`,
        onclick: () =>
          act(`${label} agent work`, () => api('PATCH', `/api/agent-work/${encodeURIComponent(work.agentWorkId)}`, { status })),
      },
      label,
    );
  const workActions = (work) => {
    if (org.mode !== 'local-org') return [];
    if (work.status === 'Assigned') return [' ', workButton(work, 'Accept', 'Accept'), ' ', workButton(work, 'Decline', 'Decline')];
    if (work.status === 'Opened') return [' ', workButton(work, 'Close', 'Close')];
    return [];
  };

  view.append(
    h('p', {}, h('a', { href: '#/conversations' }, '← All conversations')),
    title,
    facts,
    h(
      'div',
      { class: 'columns' },
      h('section', { 'aria-labelledby': 'entries-title' }, h('h2', { id: 'entries-title' }, 'Entries'), entries),
      h(
        'div',
        {},
        agentPanel,
        h(
          'section',
          { class: 'panel', 'aria-labelledby': 'routing-title' },
          h('h2', { id: 'routing-title' }, 'Routing'),
          routing,
          routingForms,
        ),
        agentData,
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'events-title' },
      h('h2', { id: 'events-title' }, 'Outbound events it caused'),
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Replay id', 'Type', 'Shape', 'Created'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        events,
      ),
    ),
  );

  let shown = '';
  return live(async () => {
    const [c, values] = await Promise.all([api('GET', path), api('GET', `${path}/integrations`)]);
    const fingerprint = JSON.stringify([c.entries.length, c.outboundEvents.length, c.messagingSessions, values]);
    if (fingerprint === shown) return;
    shown = fingerprint;
    const valueList = (title, record) =>
      Object.keys(record).length === 0
        ? []
        : [
            h('h3', {}, title),
            h(
              'dl',
              { class: 'kv' },
              Object.entries(record).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'string' ? v : JSON.stringify(v))]),
            ),
          ];
    const setByIntegrations = [
      ...valueList('Data for the agent', values.agentData),
      ...valueList('Routing attributes', values.routingAttributes),
      ...valueList('Routing', values.routing),
      ...valueList('Saved on the conversation', values.saved),
    ];
    integrationFacts.replaceChildren(
      h('p', {}, 'Lifecycle events: ', values.lifecycleEvents.map((e) => e.event).join(' → ') || 'none yet'),
      ...(setByIntegrations.length ? setByIntegrations : [h('p', { class: 'muted' }, 'No integration has set anything here.')]),
    );
    title.textContent = `Conversation with ${c.endUserClientIdentifier}`;
    facts.replaceChildren(
      ...[
        ['Conversation', c.conversationIdentifier],
        ['Channel', c.channelAddressIdentifier],
        ['Consent', c.consentStatus],
        ['Started', time(c.createdAt)],
      ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    );
    const receipts = new Map();
    for (const e of c.entries) {
      const target = e.payload?.acknowledgedConversationEntryIdentifier ?? e.payload?.entryIdentifier;
      const kind = /Delivery/i.test(e.entryType) ? 'delivered' : /Read/i.test(e.entryType) ? 'read' : undefined;
      if (target && kind) (receipts.get(target) ?? receipts.set(target, new Set()).get(target)).add(kind);
    }
    entries.replaceChildren(
      ...c.entries.map((e) => {
        const agent = e.sender.role === 'Agent' || e.sender.role === 'Chatbot';
        const isMessage = e.entryType === 'Message';
        const r = receipts.get(e.entryId);
        return h(
          'li',
          { class: isMessage ? (agent ? 'agent' : 'enduser') : 'marker', dataset: { entryType: e.entryType } },
          h('div', { class: 'meta' }, `${e.sender.role} · ${e.entryType} · ${time(e.receivedAt)}`),
          isMessage ? h('div', { class: 'text' }, entryText(e)) : null,
          ...(e.attachments ?? []).map(attachmentView),
          ...(agent ? agentAttachmentLinks(e) : []),
          r ? h('div', { class: 'receipt' }, [...r].join(', ')) : null,
        );
      }),
    );
    openRouting = c.messagingSessions.some((s) => s.pendingServiceRoutings.some((p) => p.status === 'Open'));
    routing.replaceChildren(
      ...(c.messagingSessions.length === 0
        ? [h('p', { class: 'muted' }, 'No messaging session.')]
        : c.messagingSessions.map((s) =>
            h(
              'div',
              {},
              h('p', {}, h('strong', {}, `Session ${s.workItemId}`), ` — ${s.status}, opened ${time(s.openedAt)}`),
              h(
                'ul',
                {},
                ...s.pendingServiceRoutings.map((p) =>
                  h('li', {}, `PSR ${p.psrId}: ${p.status} (${p.routingType}, ${p.routingMethod ?? 'n/a'})`),
                ),
                ...(s.agentWork ?? []).map((w) =>
                  h(
                    'li',
                    { dataset: { work: w.agentWorkId, status: w.status } },
                    `Agent work ${w.agentWorkId}: ${w.status} (${w.username ?? ''})`,
                    ...workActions(w),
                  ),
                ),
              ),
            ),
          )),
    );
    events.replaceChildren(
      ...c.outboundEvents.map((e) =>
        h('tr', {}, h('td', {}, e.replayId), h('td', {}, e.eventType), h('td', {}, e.shape), h('td', {}, time(e.createdAt))),
      ),
    );
    const last = entries.lastElementChild;
    last?.scrollIntoView?.({ block: 'nearest' });
  });
}

function outboundView(view) {
  const statusBox = h('dl', { class: 'kv', id: 'outbound-status' });
  const hooks = h('tbody', { id: 'webhooks' });
  const deliveries = h('tbody', { id: 'deliveries' });
  const parked = h('tbody');
  const secretBox = h('div', { id: 'secret', 'aria-live': 'polite' });
  const urlInput = h('input', { id: 'webhook-url', type: 'url', required: true, placeholder: 'https://example.com/hooks/byoc' });
  const typesInput = h('input', { id: 'webhook-types', placeholder: 'all (or: Interaction,RoutingRequested)' });
  const stateFilter = h(
    'select',
    { id: 'delivery-state' },
    h('option', { value: '' }, 'All'),
    ['pending', 'succeeded', 'dead'].map((s) => h('option', { value: s }, s)),
  );
  const showSecret = (endpoint, what) =>
    secretBox.replaceChildren(
      h(
        'div',
        { class: 'secret', role: 'alert' },
        h('p', {}, `${what} Copy the signing secret now; this page will not show it again.`),
        h('code', { id: 'secret-value' }, endpoint.secret),
        ' ',
        copyButton(endpoint.secret, 'signing secret'),
      ),
    );

  view.append(
    h('h1', {}, 'Outbound'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'status-title' },
      h('h2', { id: 'status-title' }, 'Subscriber and deliveries'),
      statusBox,
    ),
    h('h2', {}, 'Webhook endpoints'),
    h(
      'form',
      {
        class: 'inline',
        id: 'webhook-form',
        onsubmit: async (e) => {
          e.preventDefault();
          const types = typesInput.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          const created = await act('Create webhook endpoint', () =>
            api('POST', '/api/webhooks', { url: urlInput.value, ...(types.length ? { eventTypes: types } : {}) }),
          );
          if (created) {
            showSecret(created, `Endpoint ${created.id} created.`);
            urlInput.value = '';
            typesInput.value = '';
            await refresh();
          }
        },
      },
      h('label', { for: 'webhook-url' }, 'Endpoint URL', urlInput),
      h('label', { for: 'webhook-types' }, 'Event types', typesInput),
      h('button', { type: 'submit' }, 'Add endpoint'),
    ),
    secretBox,
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['URL', 'Event types', 'Created', 'Actions'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      hooks,
    ),
    h('h2', {}, 'Deliveries'),
    h('div', { class: 'filters' }, h('label', { for: 'delivery-state' }, 'State', stateFilter)),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Event', 'Endpoint', 'State', 'Attempts', 'Last answer', 'Last attempt', 'Actions'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      deliveries,
    ),
    h('h2', {}, 'Parked events'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Replay id', 'Reason', 'Parked'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      parked,
    ),
  );
  stateFilter.addEventListener('change', () => void refresh());

  let endpointsShown = '';
  async function refresh() {
    const [status, { webhooks }, list, parkedList] = await Promise.all([
      api('GET', '/api/outbound/status'),
      api('GET', '/api/webhooks'),
      api('GET', `/api/deliveries?limit=100${stateFilter.value ? `&status=${stateFilter.value}` : ''}`),
      api('GET', '/api/parked-events?limit=50'),
    ]);
    const lag =
      status.localOrgLatestReplayId === null ? 'n/a (bridge mode)' : status.localOrgLatestReplayId - (status.subscriberCheckpoint ?? 0);
    statusBox.replaceChildren(
      ...[
        ['Topic', status.topicName],
        ['Subscriber checkpoint', status.subscriberCheckpoint ?? 'none yet'],
        ['Local org latest replay id', status.localOrgLatestReplayId ?? 'n/a'],
        ['Lag (events)', lag],
        ['Deliveries', `${status.deliveries.pending} pending, ${status.deliveries.succeeded} succeeded, ${status.deliveries.dead} dead`],
        ['Parked events', status.parkedEvents],
      ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    );
    const endpointsFingerprint = JSON.stringify(webhooks.map((w) => [w.id, w.url]));
    if (endpointsFingerprint !== endpointsShown) {
      endpointsShown = endpointsFingerprint;
      hooks.replaceChildren(
        ...webhooks.map((w) =>
          h(
            'tr',
            {},
            h('td', {}, w.url),
            h('td', {}, w.eventTypes?.join(', ') ?? 'all'),
            h('td', {}, time(w.createdAt)),
            h(
              'td',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'aria-label': `Rotate the secret of ${w.url}`,
                  onclick: async () => {
                    const rotated = await act('Rotate secret', () =>
                      api('POST', `/api/webhooks/${encodeURIComponent(w.id)}/rotate-secret`, {}),
                    );
                    if (rotated) showSecret(rotated, `New secret for ${w.url}.`);
                  },
                },
                'Rotate secret',
              ),
              ' ',
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'aria-label': `Delete ${w.url}`,
                  onclick: async () => {
                    if (!confirm(`Delete the endpoint ${w.url} and its delivery records?`)) return;
                    await act('Delete endpoint', () => api('DELETE', `/api/webhooks/${encodeURIComponent(w.id)}`));
                    await refresh();
                  },
                },
                'Delete',
              ),
            ),
          ),
        ),
      );
    }
    const endpointUrl = (id) => webhooks.find((w) => w.id === id)?.url ?? id;
    deliveries.replaceChildren(
      ...list.deliveries.map((d) =>
        h(
          'tr',
          { dataset: { delivery: d.id, state: d.status } },
          h('td', {}, h('code', {}, d.eventId)),
          h('td', {}, endpointUrl(d.endpointId)),
          h('td', {}, h('span', { class: `pill ${d.status}` }, d.status)),
          h('td', {}, d.attempts),
          h('td', {}, d.lastStatusCode ?? d.lastError ?? '—'),
          h('td', {}, time(d.lastAttemptAt)),
          h(
            'td',
            {},
            d.status === 'dead'
              ? h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `Retry delivery of ${d.eventId}`,
                    onclick: async () => {
                      await act('Retry dead letter', () => api('POST', `/api/deliveries/${encodeURIComponent(d.id)}/retry`));
                      await refresh();
                    },
                  },
                  'Retry',
                )
              : null,
          ),
        ),
      ),
    );
    parked.replaceChildren(
      ...parkedList.parkedEvents.map((p) =>
        h('tr', {}, h('td', {}, p.replayId), h('td', {}, p.reason ?? ''), h('td', {}, time(p.parkedAt))),
      ),
    );
  }
  return live(refresh);
}

// ---------------------------------------------------------------- integrations

const LIFECYCLE_EVENTS = ['Received', 'Queued', 'Allocated', 'Accepted', 'Rejected', 'Transferred', 'Forwarded', 'Ended', 'Abandoned'];
const EMPTY_CONFIGURATION = { request: { method: 'POST', headers: {}, params: {} }, response: { set: {}, save: {} } };

function integrationsView(view) {
  const list = h('tbody', { id: 'integrations' });
  const calls = h('tbody', { id: 'integration-calls' });
  const callDetail = h('div', { id: 'call-detail', 'aria-live': 'polite' });
  const callState = h(
    'select',
    { id: 'call-state' },
    h('option', { value: '' }, 'All'),
    ['pending', 'succeeded', 'failed'].map((s) => h('option', { value: s }, s)),
  );
  let editing; // the id of the integration in the form, or undefined for a new one
  let integrations = [];

  const formTitle = h('h2', { id: 'integration-form-title' }, 'New integration');
  const name = h('input', { id: 'integration-name', required: true, maxlength: 100 });
  const description = h('input', { id: 'integration-description', maxlength: 1000 });
  const url = h('input', {
    id: 'integration-url',
    required: true,
    placeholder: 'https://crm.example.com/lookup/{conversation.id}',
    'aria-describedby': 'integration-url-help',
  });
  const direction = h(
    'select',
    { id: 'integration-direction' },
    ['Both', 'Inbound', 'Outbound'].map((d) => h('option', { value: d }, d)),
  );
  const eventBoxes = LIFECYCLE_EVENTS.map((e) => h('input', { type: 'checkbox', id: `integration-event-${e}`, value: e }));
  const direct = h('input', { type: 'checkbox', id: 'integration-direct' });
  const queueBoxes = (org.queues ?? []).map((q) =>
    h('input', { type: 'checkbox', id: `integration-queue-${q.queueId15}`, value: q.queueId15 }),
  );
  const auths = h('div', { id: 'integration-auths' });
  const configuration = h('textarea', {
    id: 'integration-configuration',
    rows: 12,
    spellcheck: 'false',
    'aria-describedby': 'integration-configuration-help',
  });
  const authRow = (id = '', stored = false) => {
    const n = auths.children.length + 1;
    const idInput = h('input', { id: `auth-id-${n}`, value: id, required: true, placeholder: 'basic:alice, digest:bob or api-key' });
    const secret = h('input', {
      id: `auth-secret-${n}`,
      type: 'password',
      autocomplete: 'new-password',
      placeholder: stored ? 'stored — leave empty to keep' : '',
      required: !stored,
    });
    const row = h(
      'div',
      { class: 'auth-row', dataset: { auth: 'row' } },
      h('label', { for: `auth-id-${n}` }, `Authentication ${n} id`, idInput),
      h('label', { for: `auth-secret-${n}` }, 'Secret (write-only)', secret),
      h(
        'button',
        { type: 'button', class: 'secondary', 'aria-label': `Remove authentication ${n}`, onclick: () => row.remove() },
        'Remove',
      ),
    );
    row.read = () => ({ id: idInput.value.trim(), ...(secret.value ? { secret: secret.value } : {}) });
    auths.append(row);
  };
  const fill = (integration) => {
    editing = integration?.id;
    formTitle.textContent = integration ? `Edit ${integration.name}` : 'New integration';
    name.value = integration?.name ?? '';
    description.value = integration?.description ?? '';
    url.value = integration?.url ?? '';
    direction.value = integration?.direction ?? 'Both';
    for (const box of eventBoxes) box.checked = integration?.events.includes(box.value) ?? false;
    direct.checked = integration?.directConversations ?? false;
    const queues = new Set((integration?.queueIds ?? []).map((q) => q.slice(0, 15)));
    for (const box of queueBoxes) box.checked = queues.has(box.value);
    auths.replaceChildren();
    for (const a of integration?.authentications ?? []) authRow(a.id, true);
    configuration.value = JSON.stringify(integration?.configuration ?? EMPTY_CONFIGURATION, null, 2);
    submit.textContent = integration ? 'Save integration' : 'Create integration';
    cancel.hidden = !integration;
  };
  const submit = h('button', { type: 'submit' }, 'Create integration');
  const cancel = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => fill(undefined) }, 'Cancel editing');

  const form = h(
    'form',
    {
      id: 'integration-form',
      class: 'panel',
      'aria-labelledby': 'integration-form-title',
      onsubmit: async (e) => {
        e.preventDefault();
        let config;
        try {
          config = JSON.parse(configuration.value || '{}');
        } catch (err) {
          say(`The JSON configuration is not valid JSON: ${err.message}`, true);
          configuration.focus();
          return;
        }
        const body = {
          name: name.value,
          description: description.value || null,
          url: url.value.trim(),
          direction: direction.value,
          events: eventBoxes.filter((b) => b.checked).map((b) => b.value),
          directConversations: direct.checked,
          queueIds: queueBoxes.filter((b) => b.checked).map((b) => b.value),
          authentications: [...auths.children].map((row) => row.read()),
          configuration: config,
        };
        const saved = await act(editing ? 'Save integration' : 'Create integration', () =>
          editing ? api('PUT', `/api/integrations/${encodeURIComponent(editing)}`, body) : api('POST', '/api/integrations', body),
        );
        if (saved) {
          fill(undefined);
          await refresh();
        }
      },
    },
    formTitle,
    h('label', { for: 'integration-name' }, 'Name', name),
    h('label', { for: 'integration-description' }, 'Description', description),
    h('label', { for: 'integration-url' }, 'Endpoint URL', url),
    h(
      'p',
      { id: 'integration-url-help', class: 'muted' },
      'HTTPS only. Placeholders: {event}, {conversation.id}, {contact.id}, {channel.id}, {queue.id}, any routing attribute, {authentications.<id>}.',
    ),
    h('label', { for: 'integration-direction' }, 'Direction', direction),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Events (none selected: disabled)'),
      eventBoxes.map((box) => h('label', { for: box.id, class: 'check' }, box, box.value)),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Conversations'),
      h('label', { for: 'integration-direct', class: 'check' }, direct, 'Direct conversations (no queue)'),
      queueBoxes.map((box) =>
        h('label', { for: box.id, class: 'check' }, box, `Queue ${org.queues.find((q) => q.queueId15 === box.value)?.developerName}`),
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Authentications'),
      h('p', { class: 'muted' }, 'Secrets are write-only: the bridge never shows them again. A copied integration has none.'),
      auths,
      h('button', { type: 'button', class: 'secondary', onclick: () => authRow() }, 'Add authentication'),
    ),
    h('label', { for: 'integration-configuration' }, 'JSON configuration', configuration),
    h(
      'p',
      { id: 'integration-configuration-help', class: 'muted' },
      '{"request": {"authentication", "method", "headers", "params", "body"}, "response": {"set", "save"}}; placeholders work anywhere in it (docs/integrations.md).',
    ),
    h('p', {}, submit, ' ', cancel),
  );

  view.append(
    h('h1', {}, 'Integrations'),
    h(
      'p',
      { class: 'muted' },
      'Call an HTTPS service on conversation lifecycle events and use its answer. Every button here is a call to /api/integrations or /api/integration-calls.',
    ),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Name', 'Endpoint URL', 'Direction', 'Events', 'Authentications', 'Actions'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      list,
    ),
    form,
    h('h2', {}, 'Call log'),
    h('div', { class: 'filters' }, h('label', { for: 'call-state' }, 'Call state', callState)),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Event', 'Integration', 'Conversation', 'State', 'Attempts', 'Last answer', 'Updated', 'Actions'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      calls,
    ),
    callDetail,
  );
  fill(undefined);
  callState.addEventListener('change', () => void refresh());

  const showCall = async (id) => {
    const call = await act('Show call', () => api('GET', `/api/integration-calls/${encodeURIComponent(id)}`));
    if (!call) return;
    callDetail.replaceChildren(
      h('h3', { tabindex: '-1', id: 'call-detail-title' }, `Call ${call.id} (${call.event}, ${call.status})`),
      h('pre', {}, JSON.stringify(call.attemptLog, null, 2)),
    );
    $('#call-detail-title').focus();
  };

  let listShown = '';
  async function refresh() {
    const [{ integrations: all }, log] = await Promise.all([
      api('GET', '/api/integrations'),
      api('GET', `/api/integration-calls?limit=100${callState.value ? `&status=${callState.value}` : ''}`),
    ]);
    integrations = all;
    const fingerprint = JSON.stringify(all);
    if (fingerprint !== listShown) {
      listShown = fingerprint;
      list.replaceChildren(
        ...(all.length === 0
          ? [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No integration yet.'))]
          : all.map((i) =>
              h(
                'tr',
                { dataset: { integration: i.id } },
                h('td', {}, i.name, i.enabled ? '' : h('span', { class: 'pill dead' }, ' disabled')),
                h('td', {}, h('code', {}, i.url)),
                h('td', {}, i.direction),
                h('td', {}, i.events.join(', ') || 'none'),
                h('td', {}, i.authentications.map((a) => a.id).join(', ') || '—'),
                h(
                  'td',
                  {},
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      'aria-label': `Edit ${i.name}`,
                      onclick: () => {
                        fill(integrations.find((x) => x.id === i.id));
                        name.focus();
                      },
                    },
                    'Edit',
                  ),
                  ' ',
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      'aria-label': `Copy ${i.name}`,
                      onclick: async () => {
                        await act('Copy integration', () => api('POST', `/api/integrations/${encodeURIComponent(i.id)}/copy`));
                        await refresh();
                      },
                    },
                    'Copy',
                  ),
                  ' ',
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'danger',
                      'aria-label': `Delete ${i.name}`,
                      onclick: async () => {
                        if (!confirm(`Delete the integration ${i.name}? Its pending calls will not be made.`)) return;
                        await act('Delete integration', () => api('DELETE', `/api/integrations/${encodeURIComponent(i.id)}`));
                        if (editing === i.id) fill(undefined);
                        await refresh();
                      },
                    },
                    'Delete',
                  ),
                ),
              ),
            )),
      );
    }
    const integrationName = (id) => all.find((i) => i.id === id)?.name ?? `${id} (deleted)`;
    calls.replaceChildren(
      ...log.calls.map((c) =>
        h(
          'tr',
          { dataset: { call: c.id, state: c.status } },
          h('td', {}, c.event),
          h('td', {}, integrationName(c.integrationId)),
          h('td', {}, h('a', { href: `#/conversations/${encodeURIComponent(c.conversationIdentifier)}` }, c.conversationIdentifier)),
          h('td', {}, h('span', { class: `pill ${c.status === 'failed' ? 'dead' : c.status}` }, c.status)),
          h('td', {}, c.attempts),
          h('td', {}, c.lastStatusCode ?? c.lastError ?? '—'),
          h('td', {}, time(c.updatedAt)),
          h(
            'td',
            {},
            h(
              'button',
              { type: 'button', class: 'secondary', 'aria-label': `Show call ${c.id}`, onclick: () => showCall(c.id) },
              'Details',
            ),
            c.status === 'failed'
              ? [
                  ' ',
                  h(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `Retry call ${c.id}`,
                      onclick: async () => {
                        await act('Retry call', () => api('POST', `/api/integration-calls/${encodeURIComponent(c.id)}/retry`));
                        await refresh();
                      },
                    },
                    'Retry',
                  ),
                ]
              : null,
          ),
        ),
      ),
    );
  }
  // Polling only: integration calls are not outbound events. A re-render keeps the form as it is.
  return live(refresh);
}

const README_FIRST_EXAMPLE = (v) => `ID=$(cat /proc/sys/kernel/random/uuid)
curl -s -w '\\n%{http_code}\\n' -X POST "${v.BASE_URL}/api/v1/interactions" \\
  -H "Authorization: Bearer $ACCESS_TOKEN" \\
  -H "OrgId: ${v.ORG_ID}" \\
  -H "AuthorizationContext: ${v.AUTHORIZATION_CONTEXT}" \\
  -H "RequestId: $(cat /proc/sys/kernel/random/uuid)" \\
  -F "json={
  \\"to\\": \\"${v.CHANNEL_ADDRESS_IDENTIFIER}\\",
  \\"from\\": \\"${v.END_USER_CLIENT_IDENTIFIER}\\",
  \\"interactions\\": [{
    \\"timestamp\\": $(date +%s000),
    \\"interactionType\\": \\"EntryInteraction\\",
    \\"payload\\": {
      \\"id\\": \\"$ID\\",
      \\"entryType\\": \\"Message\\",
      \\"abstractMessage\\": {
        \\"messageType\\": \\"StaticContentMessage\\",
        \\"id\\": \\"$ID\\",
        \\"staticContent\\": {
          \\"formatType\\": \\"Text\\",
          \\"text\\": \\"Hi there\\"
        }
      }
    }
  }]
};type=application/json"`;

async function orgView(view) {
  org = await api('GET', '/api/org');
  const channels = h('tbody', { id: 'channels' });
  const renderChannels = () =>
    channels.replaceChildren(
      ...org.channels.map((c) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, c.channelAddressIdentifier)),
          h('td', {}, c.authorizationContext),
          h('td', {}, `${c.routingOwner} / ${c.consentOwner}`),
          h('td', {}, c.active ? 'active' : 'inactive'),
          h(
            'td',
            {},
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                'aria-label': `${c.active ? 'Deactivate' : 'Activate'} ${c.authorizationContext}`,
                onclick: async () => {
                  await act(c.active ? 'Deactivate channel' : 'Activate channel', () =>
                    api('PATCH', `/api/channels/${encodeURIComponent(c.channelAddressIdentifier)}`, { active: !c.active }),
                  );
                  view.replaceChildren();
                  await orgView(view);
                },
              },
              c.active ? 'Deactivate' : 'Activate',
            ),
          ),
        ),
      ),
    );
  renderChannels();
  const env = { ...org.curlEnv, ADMIN_KEY: adminKey() };
  const newId = h('input', { id: 'channel-id', required: true, value: crypto.randomUUID() });
  const newContext = h('input', { id: 'channel-context', required: true, placeholder: 'My_Channel' });
  const example = README_FIRST_EXAMPLE(env);
  view.append(
    h('h1', {}, 'Org'),
    h(
      'dl',
      { class: 'kv' },
      [
        ['Mode', org.mode],
        ['Org id', org.orgId],
        ['Interaction API', org.interactionApiUrl],
        ['Store', org.store],
      ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    ),
    h('h2', {}, 'Channels'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Address identifier', 'AuthorizationContext', 'Routing / consent owner', 'State', 'Actions'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      channels,
    ),
    h(
      'form',
      {
        class: 'inline',
        id: 'channel-form',
        onsubmit: async (e) => {
          e.preventDefault();
          const added = await act('Add channel', () =>
            api('POST', '/api/channels', { channelAddressIdentifier: newId.value.trim(), authorizationContext: newContext.value.trim() }),
          );
          if (added) {
            view.replaceChildren();
            await orgView(view);
          }
        },
      },
      h('label', { for: 'channel-id' }, 'Channel address identifier', newId),
      h('label', { for: 'channel-context' }, 'AuthorizationContext', newContext),
      h('button', { type: 'submit' }, 'Add channel'),
    ),
    h('h2', {}, 'Connected apps'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Consumer key', 'Scopes', 'State'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        org.connectedApps.map((a) =>
          h('tr', {}, h('td', {}, h('code', {}, a.consumerKey)), h('td', {}, a.scopes), h('td', {}, a.active ? 'active' : 'inactive')),
        ),
      ),
    ),
    h('h2', {}, 'Routing: queues, flows, agents'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Kind', 'Id (15)', 'Name'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        (org.queues ?? []).map((q) =>
          h('tr', {}, h('td', {}, 'Queue'), h('td', {}, h('code', {}, q.queueId15)), h('td', {}, q.developerName)),
        ),
        (org.flows ?? []).map((f) => h('tr', {}, h('td', {}, 'Flow'), h('td', {}, h('code', {}, f.flowId15)), h('td', {}, f.apiName))),
        (org.agentUsers ?? []).map((a) =>
          h('tr', {}, h('td', {}, 'Agent'), h('td', {}, h('code', {}, a.userId15)), h('td', {}, `${a.name} (${a.username})`)),
        ),
      ),
    ),
    h('h2', {}, 'curl-env values'),
    h(
      'p',
      { class: 'muted' },
      'The variables the README examples use. ACCESS_TOKEN comes from ',
      h('code', {}, 'eval "$(npm run -s curl-env)"'),
      ', which also sets all of these.',
    ),
    h(
      'table',
      { id: 'curl-env' },
      h(
        'tbody',
        {},
        Object.entries(env).map(([k, v]) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, k),
            h('td', {}, h('code', {}, k === 'ADMIN_KEY' ? '•••••• (hidden)' : v)),
            h('td', {}, copyButton(v, k)),
          ),
        ),
      ),
    ),
    h('h2', {}, 'The README’s first example, filled in'),
    h('p', {}, copyButton(example, 'the example')),
    h('pre', { id: 'curl-example' }, example),
  );
  return () => {};
}

// ---------------------------------------------------------------- shell

async function route() {
  stopView();
  stopView = () => {};
  const view = $('#view');
  view.replaceChildren();
  if (!adminKey()) return;
  const hash = location.hash || '#/conversations';
  const [, section, id] = hash.split('?')[0].split('/');
  for (const a of document.querySelectorAll('#nav a')) a.toggleAttribute('aria-current', a.getAttribute('href') === `#/${section}`);
  if (a11yFocus) $('#main').focus();
  try {
    org ??= await api('GET', '/api/org');
    $('#mode').textContent = `${org.mode === 'local-org' ? 'local org' : 'bridge mode'} · ${org.orgId}`;
    if (section === 'outbound') stopView = outboundView(view);
    else if (section === 'integrations') stopView = integrationsView(view);
    else if (section === 'org') stopView = await orgView(view);
    else if (section === 'conversations' && id) stopView = conversationView(view, decodeURIComponent(id));
    else stopView = conversationsView(view);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) say(err.message, true);
  }
}
let a11yFocus = false;

function showSignedIn(signedIn) {
  $('#sign-in').hidden = signedIn;
  $('#nav').hidden = !signedIn;
  $('#sign-out').hidden = !signedIn;
  if (signedIn) stream.start();
  else stream.stop();
}

function signOut(message) {
  sessionStorage.removeItem(KEY_ITEM);
  org = undefined;
  stopView();
  $('#view').replaceChildren();
  $('#mode').textContent = '';
  showSignedIn(false);
  say(message ?? 'Signed out.');
  $('#admin-key').focus();
}

$('#sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('#admin-key').value.trim();
  const res = await fetch('/api/org', { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) {
    $('#sign-in-error').textContent =
      res.status === 401 ? 'That is not the admin key of this bridge.' : `The bridge answered ${res.status}.`;
    return;
  }
  $('#sign-in-error').textContent = '';
  $('#admin-key').value = '';
  sessionStorage.setItem(KEY_ITEM, key);
  showSignedIn(true);
  say('Signed in.');
  await route();
});
$('#sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => {
  a11yFocus = true;
  void route();
});

showSignedIn(Boolean(adminKey()));
void route();
