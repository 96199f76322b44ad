/** The YAML library, loaded when first needed: a run described by flags never parses YAML. */
export async function yamlLibrary(): Promise<typeof import("yaml")> {
  const loaded = await import("yaml");
  // yaml is CommonJS: Node hands out its exports by name, a bundle only as the default export.
  return (loaded as { default?: typeof import("yaml") }).default ?? loaded;
}
