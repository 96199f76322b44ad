import type { GenericSchema } from "valibot";

/** A property or item type of a Pulumi package schema. */
export interface PulumiTypeSpec {
  type?: "string" | "number" | "integer" | "boolean" | "array" | "object";
  items?: PulumiTypeSpec;
  additionalProperties?: PulumiTypeSpec;
  oneOf?: PulumiTypeSpec[];
  $ref?: string;
}

export interface PulumiProperty extends PulumiTypeSpec {
  description?: string;
  secret?: boolean;
  default?: unknown;
}

/** An object type of the schema's `types` section. */
export interface PulumiObjectType {
  type: "object";
  description?: string;
  properties: Record<string, PulumiProperty>;
  required?: string[];
}

export interface ObjectTypeNaming {
  /** The package token prefix of object types, e.g. `app-backup:index:`. */
  tokenPrefix: string;
  /** The type name of the object at a configuration key path (`backup.schedule`, `backup.storage|1`). */
  nameOf(path: string): string | undefined;
  describe(path: string): string | undefined;
}

/** The parts of valibot's schema objects the translation reads. */
interface SchemaNode {
  type: string;
  wrapped?: SchemaNode;
  default?: unknown;
  item?: SchemaNode;
  value?: SchemaNode;
  options?: readonly unknown[];
  entries?: Record<string, SchemaNode>;
  pipe?: ReadonlyArray<{ type: string }>;
}

/**
 * Translates the configuration's valibot schema into Pulumi schema types, so
 * the package schema states what the one validation accepts. Named object
 * types are collected in `types`.
 */
export class ValibotToPulumi {
  readonly types: Record<string, PulumiObjectType> = {};

  constructor(private readonly naming: ObjectTypeNaming) {}

  /** The property spec of a schema at `path`, with its default when it has a constant one. */
  property(schema: GenericSchema, path: string): PulumiProperty {
    const node = schema as unknown as SchemaNode;
    if (node.type === "optional" || node.type === "nullish") {
      const inner = this.property(node.wrapped as unknown as GenericSchema, path);
      const fallback = node.default;
      return fallback === undefined || typeof fallback === "function" || typeof fallback === "object" ? inner : { ...inner, default: fallback };
    }
    return this.typeOf(node, path);
  }

  /** Whether a key of an object schema must be given. */
  static isRequired(schema: GenericSchema): boolean {
    const type = (schema as unknown as SchemaNode).type;
    return type !== "optional" && type !== "nullish";
  }

  private typeOf(node: SchemaNode, path: string): PulumiTypeSpec {
    switch (node.type) {
      case "string":
      case "picklist":
        return { type: "string" };
      case "number":
        return { type: node.pipe?.some((action) => action.type === "integer") ? "integer" : "number" };
      case "boolean":
        return { type: "boolean" };
      case "array":
        return { type: "array", items: this.typeOf(node.item!, `${path}[]`) };
      case "record":
        return { type: "object", additionalProperties: this.typeOf(node.value!, `${path}{}`) };
      case "union": {
        const options = (node.options as SchemaNode[]).map((option, index) => this.typeOf(option, `${path}|${index}`));
        return { oneOf: options.filter((option, index) => options.findIndex((other) => JSON.stringify(other) === JSON.stringify(option)) === index) };
      }
      case "object":
      case "strict_object":
        return { $ref: `#/types/${this.objectType(node, path)}` };
      default:
        throw new Error(`The configuration schema at ${path} has a ${node.type} schema, which has no Pulumi schema type yet; add one to ValibotToPulumi.`);
    }
  }

  private objectType(node: SchemaNode, path: string): string {
    const name = this.naming.nameOf(path);
    if (!name) throw new Error(`The configuration schema has an object at ${path} with no Pulumi type name; name it in the package schema.`);
    const token = `${this.naming.tokenPrefix}${name}`;
    if (this.types[token]) return token;
    const properties: Record<string, PulumiProperty> = {};
    const required: string[] = [];
    for (const [key, entry] of Object.entries(node.entries ?? {})) {
      const description = this.naming.describe(`${path}.${key}`);
      properties[key] = { ...this.property(entry as unknown as GenericSchema, `${path}.${key}`), ...(description ? { description } : {}) };
      if (ValibotToPulumi.isRequired(entry as unknown as GenericSchema)) required.push(key);
    }
    const description = this.naming.describe(path);
    this.types[token] = { type: "object", ...(description ? { description } : {}), properties, ...(required.length > 0 ? { required } : {}) };
    return token;
  }
}
