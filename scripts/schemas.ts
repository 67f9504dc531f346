/**
 * Emits schemas/*.schema.json from the TypeBox contracts in src/contracts. The JSON
 * files are for other languages and for review; src/contracts stays the one source.
 * `npm run schemas` writes them; src/contracts/contracts.unit.test.ts fails on drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CloudEventAttributes,
  dataschemaOf,
  eventTypes,
  pipelineEventTypes,
  schemaFileOf,
  type AnyEventType,
} from '../src/contracts/index.js';
import { packageRoot } from '../src/paths.js';

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

export function emittedSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  const put = (file: string, schema: object): void => {
    out.set(join(packageRoot, 'schemas', file), `${JSON.stringify(schema, null, 2)}\n`);
  };
  put('cloudevent-attributes.v1.schema.json', {
    $schema: DRAFT,
    $id: 'urn:sluice:schema:cloudevent-attributes.v1',
    title: 'CloudEvents 1.0 context attributes with Sluice extensions (tenant, traceparent)',
    ...CloudEventAttributes,
  });
  const all = { ...eventTypes, ...pipelineEventTypes };
  for (const [type, spec] of Object.entries(all) as [AnyEventType, (typeof all)[AnyEventType]][]) {
    put(schemaFileOf(type), {
      $schema: DRAFT,
      $id: dataschemaOf(type),
      title: `${type}: data of ${spec.name} v${spec.version}`,
      description: spec.description,
      ...spec.schema,
    });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, text] of emittedSchemas()) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // new file
    }
    if (current !== text) {
      writeFileSync(path, text);
      process.stdout.write(`wrote ${path}\n`);
    }
  }
}
