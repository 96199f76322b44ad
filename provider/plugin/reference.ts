import type { PulumiObjectType, PulumiProperty, PulumiTypeSpec } from "./valibot-types.js";

/** Where the README holds the resources' reference, so it is regenerated from the schema rather than edited. */
export const referenceMarkers = { start: "<!-- pulumi-reference:start (npm run docs:pulumi) -->", end: "<!-- pulumi-reference:end -->" };

interface SchemaForReference {
  resources: Record<string, { description: string; inputProperties: Record<string, PulumiProperty>; requiredInputs: string[]; properties: Record<string, PulumiProperty> }>;
  types: Record<string, PulumiObjectType>;
  config: { variables: Record<string, PulumiProperty> };
}

function typeName(spec: PulumiTypeSpec): string {
  if (spec.$ref === "pulumi.json#/Any") return "any";
  if (spec.$ref) return spec.$ref.split(":").pop()!;
  if (spec.oneOf) return spec.oneOf.map(typeName).join(" | ");
  if (spec.type === "array") return `${typeName(spec.items!)}[]`;
  if (spec.type === "object" && spec.additionalProperties) return `map of ${typeName(spec.additionalProperties)}`;
  return spec.type ?? "any";
}

function cell(text: string | undefined): string {
  return (text ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function table(properties: Record<string, PulumiProperty>, required: readonly string[] | undefined, withDefaults: boolean): string[] {
  const header = withDefaults ? ["| name | type | default | meaning |", "| --- | --- | --- | --- |"] : ["| name | type | meaning |", "| --- | --- | --- |"];
  const rows = Object.entries(properties).map(([name, property]) => {
    const label = `\`${name}\`${required?.includes(name) ? " (required)" : ""}${property.secret ? " (secret)" : ""}`;
    const defaults = property.default === undefined ? "" : `\`${JSON.stringify(property.default)}\``;
    const columns = withDefaults ? [label, `\`${cell(typeName(property))}\``, defaults, cell(property.description)] : [label, `\`${cell(typeName(property))}\``, cell(property.description)];
    return `| ${columns.join(" | ")} |`;
  });
  return [...header, ...rows];
}

/** The resources' inputs, outputs, defaults and types as Markdown, from the package schema. */
export function schemaReference(schema: SchemaForReference): string {
  const lines: string[] = [];
  for (const [token, resource] of Object.entries(schema.resources)) {
    const outputs = Object.fromEntries(Object.entries(resource.properties).filter(([name]) => !(name in resource.inputProperties)));
    lines.push(`#### \`${token}\``, "", resource.description, "", "Inputs (every input is also an output):", "", ...table(resource.inputProperties, resource.requiredInputs, true), "");
    lines.push("Outputs:", "", ...table(outputs, undefined, false), "");
  }
  lines.push("#### Types", "");
  for (const [token, type] of Object.entries(schema.types)) {
    lines.push(`\`${token.split(":").pop()}\`: ${type.description ?? ""}`, "", ...table(type.properties, type.required, true), "");
  }
  lines.push("#### Provider configuration", "", ...table(Object.fromEntries(Object.entries(schema.config.variables).map(([name, spec]) => [`app-backup:${name}`, spec])), undefined, false));
  return lines.join("\n");
}

/** The README with its reference block replaced by `reference`. */
export function withReference(readme: string, reference: string): string {
  const start = readme.indexOf(referenceMarkers.start);
  const end = readme.indexOf(referenceMarkers.end);
  if (start < 0 || end < start) throw new Error(`README.md has no ${referenceMarkers.start} ... ${referenceMarkers.end} block for the Pulumi reference.`);
  return `${readme.slice(0, start + referenceMarkers.start.length)}\n${reference}\n${readme.slice(end)}`;
}
