import type { RemoteHomeSpec } from "../home/remote-home.js";
import type { AppBackupOptions, StorageSpec } from "../options.js";
import { Redactor, secretsInConnectionString } from "../secrets.js";

/** A redactor that knows every credential reachable from the options. */
export function redactorFor(options: AppBackupOptions): Redactor {
  const redactor = new Redactor();
  redactor.addAll(storageSecrets(options.backup.storage));
  if (options.backup.storage.kind === "azure-connection-string") redactor.addConnectionString(options.backup.storage.connectionString);
  for (const cs of Object.values(options.app.connectionStrings)) {
    redactor.addConnectionString(cs.value, cs.type);
  }
  redactor.addAll(remoteHomeSecrets(options.app.remote));
  // Settings that come from the environment are often keys; short ones would mask ordinary words.
  for (const [name, declared] of Object.entries(options.app.declaredSettings)) {
    const value = options.app.settings[name];
    if (declared.includes("${env:") && value && value.length >= 8) redactor.add(value);
  }
  return redactor;
}

/** What logs in to a remote home; an unset field adds nothing. */
export function remoteHomeSecrets(remote: RemoteHomeSpec | undefined): string[] {
  if (!remote) return [];
  const secrets = remote.kind === "sftp" ? [remote.password, remote.passphrase, remote.privateKey] : [remote.publishingPassword];
  return secrets.filter((secret): secret is string => Boolean(secret));
}

export function storageSecrets(storage: StorageSpec): string[] {
  switch (storage.kind) {
    case "azure-sas": {
      const query = storage.containerUrl.includes("?") ? storage.containerUrl.slice(storage.containerUrl.indexOf("?") + 1) : "";
      const signature = new URLSearchParams(query).get("sig") ?? undefined;
      return [query, signature ?? ""].filter(Boolean);
    }
    case "azure-connection-string":
      return secretsInConnectionString(storage.connectionString);
    default:
      return [];
  }
}
