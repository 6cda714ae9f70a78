// Checks a response object against a schema of the reference wire contract (a copy of the
// shared ancla-openapi.json kept in test/fixtures/reference, or ANCLA_REFERENCE_OPENAPI): every required field
// present, and every field the schema describes has its type.
import { readFileSync } from "node:fs";
import { join } from "node:path";

type JsonSchema = {
  type?: string;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  format?: string;
  $ref?: string;
};

const path = process.env.ANCLA_REFERENCE_OPENAPI ?? join(import.meta.dir, "../fixtures/reference/ancla-openapi.json");
const schemas: Record<string, JsonSchema> = JSON.parse(readFileSync(path, "utf8")).components.schemas;

function problems(value: unknown, schema: JsonSchema, at: string): string[] {
  if (schema.$ref) return problems(value, schemas[schema.$ref.split("/").pop()!]!, at);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) {
    const all = alternatives.map((s) => problems(value, s, at));
    return all.some((p) => p.length === 0) ? [] : [`${at}: matches none of ${JSON.stringify(alternatives.map((s) => s.type))}`];
  }
  switch (schema.type) {
    case "null":
      return value === null ? [] : [`${at}: expected null`];
    case "string":
      if (typeof value !== "string") return [`${at}: expected string, got ${JSON.stringify(value)}`];
      return schema.format === "date-time" && Number.isNaN(Date.parse(value)) ? [`${at}: expected a date-time`] : [];
    case "integer":
      return Number.isInteger(value) ? [] : [`${at}: expected integer, got ${JSON.stringify(value)}`];
    case "number":
      return typeof value === "number" ? [] : [`${at}: expected number`];
    case "boolean":
      return typeof value === "boolean" ? [] : [`${at}: expected boolean, got ${JSON.stringify(value)}`];
    case "array":
      if (!Array.isArray(value)) return [`${at}: expected array`];
      return value.flatMap((v, i) => (schema.items ? problems(v, schema.items, `${at}[${i}]`) : []));
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${at}: expected object`];
      const obj = value as Record<string, unknown>;
      const out = (schema.required ?? []).filter((k) => !(k in obj)).map((k) => `${at}.${k}: required field missing`);
      for (const [k, v] of Object.entries(obj)) {
        const prop = schema.properties?.[k] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
        if (prop) out.push(...problems(v, prop, `${at}.${k}`));
      }
      return out;
    }
  }
  return [];
}

/** Every mismatch between `value` and the named reference schema (empty when it conforms). */
export function referenceProblems(schemaName: string, value: unknown): string[] {
  const schema = schemas[schemaName];
  if (!schema) throw new Error(`no schema ${schemaName} in the reference contract`);
  return problems(value, { ...schema, type: schema.type ?? "object" }, schemaName);
}
