import type { OrgObject, OrgRecord } from './org-records.ts';
import { RestError } from './rest-error.ts';
import { parseSoql, SoqlError, type Condition, type SoqlQuery } from './soql.ts';

export interface QueryResult {
  totalSize: number;
  done: true;
  records: Record<string, unknown>[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The canonical spelling of a field path on `object` (SOQL names are case-insensitive), or a REST INVALID_FIELD. */
function resolvePath(objects: readonly OrgObject[], object: OrgObject, fieldPath: string[]): string[] {
  const resolved: string[] = [];
  let current = object;
  for (let i = 0; i < fieldPath.length; i++) {
    const part = fieldPath[i]!;
    const last = i === fieldPath.length - 1;
    if (last) {
      const field = current.fields.find((f) => same(f, part));
      if (!field) throw new RestError(400, 'INVALID_FIELD', `No such column '${part}' on entity '${current.name}'.`);
      resolved.push(field);
    } else {
      const relationship = Object.keys(current.parents).find((r) => same(r, part));
      const parent = relationship ? objects.find((o) => o.name === current.parents[relationship]) : undefined;
      if (!relationship || !parent) {
        throw new RestError(400, 'INVALID_FIELD', `Didn't understand relationship '${part}' in field path of entity '${current.name}'.`);
      }
      resolved.push(relationship);
      current = parent;
    }
  }
  return resolved;
}

function valueAt(record: OrgRecord, fieldPath: readonly string[]): unknown {
  let value: unknown = record;
  for (const part of fieldPath) {
    if (value === null || typeof value !== 'object') return null;
    value = (value as Record<string, unknown>)[part] ?? null;
  }
  return value;
}

function matches(record: OrgRecord, condition: Condition & { resolved: string[] }): boolean {
  const actual = valueAt(record, condition.resolved);
  const expected = condition.value;
  const equal =
    typeof actual === 'string' && typeof expected === 'string'
      ? same(actual, expected) || (condition.resolved.at(-1)!.endsWith('Id') && actual.slice(0, 15) === expected.slice(0, 15))
      : actual === expected;
  return condition.operator === '=' ? equal : !equal;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return JSON.stringify(a).localeCompare(JSON.stringify(b), 'en', { sensitivity: 'base' });
}

/** The record with only the selected fields, parents nested, each with the `attributes` a real org adds. */
function project(record: OrgRecord, objectName: string, objects: readonly OrgObject[], paths: string[][], version: number) {
  const out: Record<string, unknown> = {
    attributes: { type: objectName, url: `/services/data/v${version}.0/sobjects/${objectName}/${record.Id}` },
  };
  for (const fieldPath of paths) {
    let target = out;
    let source: OrgRecord | null = record;
    let object = objects.find((o) => o.name === objectName)!;
    for (let i = 0; i < fieldPath.length - 1; i++) {
      const relationship = fieldPath[i]!;
      const parentName: string = object.parents[relationship]!;
      source = (source[relationship] as OrgRecord | null | undefined) ?? null;
      if (!source) {
        target[relationship] = null;
        target = {};
        break;
      }
      const existing = target[relationship] as Record<string, unknown> | undefined;
      target =
        existing ??
        (target[relationship] = {
          attributes: { type: parentName, url: `/services/data/v${version}.0/sobjects/${parentName}/${source.Id}` },
        });
      object = objects.find((o) => o.name === parentName)!;
    }
    const field = fieldPath.at(-1)!;
    if (source) target[field] = source[field] ?? null;
  }
  return out;
}

/**
 * Answers a SOQL query over the local org's records as `/services/data/vNN.0/query` does: the selected
 * fields with `attributes`, or one AggregateResult row for `COUNT(Id)`.
 */
export function runQuery(
  text: string,
  objects: readonly OrgObject[],
  records: ReadonlyMap<string, OrgRecord[]>,
  version: number,
): QueryResult {
  let query: SoqlQuery;
  try {
    query = parseSoql(text);
  } catch (err) {
    if (err instanceof SoqlError) throw new RestError(400, 'MALFORMED_QUERY', `The query could not be parsed: ${err.message}.`);
    throw err;
  }
  const object = objects.find((o) => same(o.name, query.from));
  if (!object) {
    const known = objects.map((o) => o.name).join(', ');
    throw new RestError(
      400,
      'INVALID_TYPE',
      `sObject type '${query.from}' is not supported by the local org (it answers queries on ${known}).`,
    );
  }
  const conditions = query.where.map((c) => ({ ...c, resolved: resolvePath(objects, object, c.path) }));
  const fieldPaths = query.select.flatMap((s) => (s.kind === 'field' ? [resolvePath(objects, object, s.path)] : []));
  const order = query.orderBy && { path: resolvePath(objects, object, query.orderBy.path), sign: query.orderBy.descending ? -1 : 1 };

  let rows = (records.get(object.name) ?? []).filter((r) => conditions.every((c) => matches(r, c)));
  if (order) {
    rows = [...rows].sort((a, b) => compare(valueAt(a, order.path), valueAt(b, order.path)) * order.sign);
  }
  const counts = query.select.filter((s) => s.kind === 'count');
  if (counts.length > 0) {
    if (fieldPaths.length > 0)
      throw new RestError(400, 'MALFORMED_QUERY', 'The local org does not group: COUNT() cannot be mixed with fields.');
    const row: Record<string, unknown> = { attributes: { type: 'AggregateResult' } };
    for (const c of counts) row[c.alias] = rows.length;
    return { totalSize: 1, done: true, records: [row] };
  }
  if (query.limit !== undefined) rows = rows.slice(0, query.limit);
  return { totalSize: rows.length, done: true, records: rows.map((r) => project(r, object.name, objects, fieldPaths, version)) };
}
