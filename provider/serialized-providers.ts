import type * as pulumi from "@pulumi/pulumi";
import type { ProviderOperations } from "./operations.js";

/**
 * The providers Pulumi serializes into each resource's state (`__provider`)
 * and runs in its provider host. They capture nothing and import nothing when
 * serialized: each call loads app-backup by package name from the folder
 * `pulumi` runs in and hands the call to its operations, so the state holds
 * this small loader and the installed package does the work.
 */
export const backupConfigurationProvider: pulumi.dynamic.ResourceProvider = delegatingProvider("BackupConfiguration");
export const backupProvider: pulumi.dynamic.ResourceProvider = delegatingProvider("Backup");

function delegatingProvider(kind: keyof ProviderOperations): pulumi.dynamic.ResourceProvider {
  return {
    check: async (olds, news) => (await loadOperations())[kind].check(olds, news),
    diff: async (id, olds, news) => (await loadOperations())[kind].diff(id, olds, news),
    create: async (inputs) => (await loadOperations())[kind].create(inputs),
    read: async (id, props) => (await loadOperations())[kind].read(id, props),
    update: async (id, olds, news) => (await loadOperations())[kind].update(id, olds, news),
    delete: async (id, props) => (await loadOperations())[kind].delete(id, props),
  };
}

async function loadOperations(): Promise<ProviderOperations> {
  const { createRequire } = process.getBuiltinModule("node:module");
  const { join } = process.getBuiltinModule("node:path");
  const { pathToFileURL } = process.getBuiltinModule("node:url");
  let entry: string;
  try {
    entry = createRequire(join(process.cwd(), "package.json")).resolve("app-backup/provider");
  } catch {
    throw new Error(
      `app-backup's Pulumi resources run the app-backup package installed where \`pulumi\` runs, and there is none in ${process.cwd()} or above. ` +
        "Install it in the Pulumi project: npm install app-backup",
    );
  }
  // Native import of the package's ES module entry, written so that no bundler or test runner rewrites it.
  const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<{ providerOperations: ProviderOperations }>;
  return (await importModule(pathToFileURL(entry).href)).providerOperations;
}
