/** The committed JSON Schema and its compiled ajv validator (loaded lazily, once). */
import { readFileSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';

type AjvClass = new (opts: Record<string, unknown>) => { compile(schema: object): ValidateFunction };
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Path of schemas/experiment.schema.json (from dist/config or src/config alike). */
export const SCHEMA_URL = new URL('../../schemas/experiment.schema.json', import.meta.url);

/** ajv's precompiled validator for the committed schema (generated with it by `npm run schema`). */
const precompiled: ValidateFunction | undefined = await import(new URL('../../schemas/experiment.validate.mjs', import.meta.url).href)
  .then((m: { default: ValidateFunction }) => m.default)
  .catch(() => undefined);

let schema: Json | undefined;
let validator: ValidateFunction | undefined;

export function getSchema(): Json {
  return (schema ??= JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Json);
}

export function getValidator(): ValidateFunction {
  if (!validator && precompiled) validator = precompiled;
  if (!validator) {
    const mod = Ajv2020Module as unknown as { default?: AjvClass } & AjvClass;
    const Ajv2020 = mod.default ?? mod;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    validator = ajv.compile(getSchema());
  }
  return validator!;
}
