import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const REFERENCE = 'shared/reference/outbound-custom-event-payload.yaml';

/**
 * The outbound contract's YAML (AsyncAPI components) when the reference folder is beside the project
 * (../shared from a clone in /work/main, ../../shared from a worktree); a user's clone has none.
 */
export const referenceYamlPath: string | undefined = ['..', '../..']
  .map((up) => path.resolve(import.meta.dirname, '../..', up, REFERENCE))
  .find((p) => fs.existsSync(p));

export const noReferenceReason = 'the outbound contract YAML (../shared/reference) is not beside this clone';

type Schema = Record<string, any>;
const PREFIX = '#/components/schemas/';

/**
 * Compiles one component of the YAML (e.g. InteractionEvent) with ajv, from the YAML itself. The YAML
 * models inheritance as OpenAPI does (a base with a `discriminator`, subtypes `allOf` the base), which
 * ajv does not follow; so each discriminated base becomes a dispatch: the base's own rules plus "when
 * the property is X, the subtype X's rules", and subtypes inherit from an undispatched copy of the base
 * (else base → subtype → base would never end). Without this an entry would only be checked for `id`
 * and `entryType`.
 */
export function compileReferenceSchema(component: string, yamlPath: string): ValidateFunction {
  const doc = parse(fs.readFileSync(yamlPath, 'utf8')) as Schema;
  const schemas: Record<string, Schema> = structuredClone(doc.components.schemas);
  const bases = Object.keys(schemas).filter((name) => schemas[name]!.discriminator);
  const subtypesOf = (base: string): [string, string][] => {
    const mapping = schemas[base]!.discriminator.mapping as Record<string, string> | undefined;
    if (mapping) return Object.entries(mapping).map(([value, ref]) => [value, ref.slice(PREFIX.length)]);
    return Object.entries(schemas)
      .filter(([, s]) => Array.isArray(s.allOf) && s.allOf.some((part: Schema) => part.$ref === PREFIX + base))
      .map(([name]) => [name, name]);
  };
  const dispatches: Record<string, Schema> = {};
  for (const base of bases) {
    const { discriminator, ...rules } = schemas[base]!;
    const property = discriminator.propertyName as string;
    dispatches[base] = {
      allOf: [
        { $ref: `${PREFIX}${base}__base` },
        ...subtypesOf(base)
          .filter(([, subtype]) => schemas[subtype])
          .map(([value, subtype]) => ({
            if: { properties: { [property]: { const: value } }, required: [property] },
            then: { $ref: PREFIX + subtype },
          })),
      ],
    };
    schemas[`${base}__base`] = rules;
  }
  // Inheritance (a ref inside allOf) points at the undispatched base.
  for (const schema of Object.values(schemas)) {
    for (const part of Array.isArray(schema.allOf) ? schema.allOf : []) {
      const ref: unknown = part.$ref;
      if (typeof ref === 'string' && bases.includes(ref.slice(PREFIX.length))) part.$ref = `${ref}__base`;
    }
  }
  Object.assign(schemas, dispatches);
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: 'outbound-contract', components: { schemas } });
  return ajv.compile({ $ref: `outbound-contract${PREFIX}${component}` });
}
