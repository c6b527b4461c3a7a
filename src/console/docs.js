// Renders the management API's OpenAPI document and the project's schemas/ files; no renderer library.

const SCHEMA_FILES = [
  { file: 'normalized-event.schema.json', title: 'Normalized outbound event (JSON Schema): the body of webhooks and SSE events' },
  { file: 'outbound-custom-event.avsc', title: 'Outbound custom platform event (Avro schema) the Pub/Sub subscriber reads' },
];

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) el.setAttribute(name, String(value));
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const json = (value) => JSON.stringify(value, null, 2);
const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');

function operationView(path, method, op) {
  const id = op.operationId;
  const params = op.parameters ?? [];
  const body = op.requestBody?.content?.['application/json']?.schema;
  return h(
    'section',
    { class: 'operation', id, 'aria-labelledby': `${id}-title` },
    h('h3', { id: `${id}-title` }, h('span', { class: `method ${method}` }, method.toUpperCase()), ' ', h('code', {}, path)),
    h('p', {}, op.summary, op.security?.length === 0 ? h('span', { class: 'pill' }, ' no admin key') : null),
    op.description ? h('p', { class: 'muted' }, op.description) : null,
    params.length
      ? h(
          'table',
          {},
          h('caption', {}, 'Parameters'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Name', 'In', 'Required', 'Schema'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            params.map((p) =>
              h(
                'tr',
                {},
                h('td', {}, h('code', {}, p.name)),
                h('td', {}, p.in),
                h('td', {}, p.required ? 'yes' : 'no'),
                h('td', {}, h('code', {}, json(p.schema))),
              ),
            ),
          ),
        )
      : null,
    body ? h('details', {}, h('summary', {}, 'Request body (application/json)'), h('pre', {}, json(body))) : null,
    h(
      'table',
      {},
      h('caption', {}, 'Responses'),
      h(
        'tbody',
        {},
        Object.entries(op.responses).map(([status, r]) => h('tr', {}, h('th', { scope: 'row' }, status), h('td', {}, r.description))),
      ),
    ),
  );
}

async function main() {
  const doc = await (await fetch('/api/openapi.json')).json();
  const byTag = new Map();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operationView(path, method, op));
    }
  }
  document.getElementById('toc').append(
    h(
      'ul',
      {},
      [...byTag.keys()].map((tag) => h('li', {}, h('a', { href: `#tag-${slug(tag)}` }, tag))),
      h('li', {}, h('a', { href: '#contracts' }, 'Published contract files')),
    ),
  );
  document
    .getElementById('operations')
    .append(
      h('p', { class: 'muted' }, `${doc.info.title} ${doc.info.version}, OpenAPI ${doc.openapi}.`),
      ...[...byTag].flatMap(([tag, views]) => [h('h2', { id: `tag-${slug(tag)}` }, tag), ...views]),
    );
  const schemas = document.getElementById('schemas');
  for (const { file, title } of SCHEMA_FILES) {
    const text = await (await fetch(`/docs/schemas/${file}`)).text();
    schemas.append(
      h(
        'details',
        { id: slug(file) },
        h('summary', {}, title, ' — ', h('a', { href: `/docs/schemas/${file}` }, file)),
        h('pre', {}, json(JSON.parse(text))),
      ),
    );
  }
}

void main();
