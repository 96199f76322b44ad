import type * as pulumiProvider from "@pulumi/pulumi/provider/index.js";
import { toolVersion } from "../../core/index.js";
import { backupConfigurationOperations } from "../backup-configuration-operations.js";
import { backupOperations } from "../backup-operations.js";
import type { ResourceOperations } from "../resource-operations.js";
import { importConfiguration } from "./import-configuration.js";
import type { ProviderConfiguration } from "./provider-configuration.js";
import { backupConfigurationToken, backupToken, packageSchema, secretInputs } from "./schema.js";
import { withSecrets, withoutSecrets } from "./secrets.js";

type AnyOperations = ResourceOperations<any, any>;

/** The same operations the dynamic resources run, by type token: one implementation, two faces. */
const operationsByToken: Record<string, AnyOperations> = {
  [backupConfigurationToken]: backupConfigurationOperations,
  [backupToken]: backupOperations,
};

interface ResourceUrn {
  project: string;
  stack: string;
  type: string;
  name: string;
}

/** `urn:pulumi:{stack}::{project}::{parent types$}{type}::{name}` */
function parseUrn(urn: string): ResourceUrn {
  const [prefix, project, qualifiedType, ...name] = urn.split("::");
  return { stack: prefix!.split(":").slice(2).join(":"), project: project!, type: qualifiedType!.split("$").pop()!, name: name.join("::") };
}

function operationsOf(urn: string): AnyOperations {
  const { type } = parseUrn(urn);
  const operations = operationsByToken[type];
  if (!operations) throw new Error(`app-backup has no resource type ${type}; its types are ${Object.keys(operationsByToken).join(" and ")}.`);
  return operations;
}

/** Inputs and outputs that may carry a credential are stored encrypted, with whatever else came in as a secret. */
function secretKeysWith(secretKeys: readonly string[]): string[] {
  return [...new Set([...secretInputs, ...secretKeys])];
}

/**
 * app-backup's provider plugin: the BackupConfiguration and Backup resources
 * for programs in every Pulumi language, over the operations the dynamic
 * resources use. It takes secrets as the engine marks them and marks the
 * credential-bearing properties secret in what it returns.
 */
export class AppBackupProvider implements pulumiProvider.Provider {
  readonly version = toolVersion;
  private configuration: ProviderConfiguration = {};

  configure(configuration: ProviderConfiguration): void {
    this.configuration = configuration;
  }

  async getSchema(): Promise<string> {
    return JSON.stringify(packageSchema(this.version));
  }

  async check(urn: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumiProvider.CheckResult> {
    const operations = operationsOf(urn);
    const { values, secretKeys } = withoutSecrets(news);
    const { type, project, stack, name } = parseUrn(urn);
    if (values.storage === undefined || values.storage === null) {
      if (!this.configuration.storage) {
        return {
          failures: [
            {
              property: "storage",
              reason: `${type.split(":").pop()} ${name} has no storage: set its storage input, or the provider's default with \`pulumi config set --secret app-backup:storage <container SAS URL or file:./folder>\`.`,
            },
          ],
        };
      }
      values.storage = this.configuration.storage;
    }
    if (type === backupToken) values.origin = { source: "pulumi", project, stack, resource: name };
    const result = await operations.check(withoutSecrets(olds).values, values);
    return result.failures ? { failures: result.failures } : { inputs: withSecrets(result.inputs, secretKeysWith(secretKeys)) };
  }

  async diff(id: string, urn: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumiProvider.DiffResult> {
    return operationsOf(urn).diff(id, withoutSecrets(olds).values, withoutSecrets(news).values);
  }

  async create(urn: string, inputs: Record<string, unknown>): Promise<pulumiProvider.CreateResult> {
    const plain = withoutSecrets(inputs);
    const { id, outs } = await operationsOf(urn).create(plain.values);
    return { id, outs: withSecrets(outs, secretKeysWith(plain.secretKeys)) };
  }

  async read(id: string, urn: string, props?: Record<string, unknown>): Promise<pulumiProvider.ReadResult> {
    const plain = withoutSecrets(props);
    const recorded = Object.keys(plain.values).length > 0;
    // `pulumi import` asks for a resource by its id alone.
    const result = recorded ? await operationsOf(urn).read(id, plain.values) : await this.importById(urn, id);
    const secretKeys = secretKeysWith(plain.secretKeys);
    return {
      id: result.id,
      props: result.props === undefined ? undefined : withSecrets(result.props, secretKeys),
      inputs: result.inputs === undefined ? undefined : withSecrets(result.inputs, secretKeys),
    };
  }

  async update(id: string, urn: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumiProvider.UpdateResult> {
    const plain = withoutSecrets(news);
    const { outs } = await operationsOf(urn).update(id, withoutSecrets(olds).values, plain.values);
    return { outs: withSecrets(outs, secretKeysWith(plain.secretKeys)) };
  }

  async delete(id: string, urn: string, props: Record<string, unknown>): Promise<void> {
    await operationsOf(urn).delete(id, withoutSecrets(props).values);
  }

  private async importById(urn: string, id: string) {
    const { type } = parseUrn(urn);
    if (type !== backupConfigurationToken) {
      throw new Error(`${type} cannot be imported: a Backup is taken by creating it. Import the app's BackupConfiguration, or declare a new Backup.`);
    }
    return importConfiguration(id, this.configuration.storage);
  }
}
