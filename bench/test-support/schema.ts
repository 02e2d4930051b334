// Checks a results file against bench/results.schema.json with Ajv, so that
// the schema is exercised by the same tests that produce real results.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';

const schemaPath = fileURLToPath(new URL('../results.schema.json', import.meta.url));

export function loadResultsSchema(): object {
  return JSON.parse(readFileSync(schemaPath, 'utf8'));
}

/** The schema's complaints about `data`, one readable line each; empty when it conforms. */
export function schemaErrors(data: unknown): string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s)));
  const validate = ajv.compile(loadResultsSchema());
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
