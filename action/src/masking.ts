import { redactorFor, storageSecrets } from "../../core/backup/redactor.js";
import type { AppBackupOptions } from "../../core/options.js";
import { Redactor, secretsInConnectionString } from "../../core/secrets.js";

/**
 * Knows every secret the step handles and has the runner mask each one in the
 * log (`::add-mask::`) as soon as it is known. Everything the Action writes to
 * the log, the summary, the outputs or the state passes `redact` first, so
 * nothing depends on the runner's masking alone.
 */
export class SecretMasker {
  readonly redactor = new Redactor();
  private readonly masked = new Set<string>();

  constructor(private readonly mask: (secret: string) => void) {}

  /**
   * The credentials visible in the raw `storage` and `databases` inputs, masked
   * before any parsing can fail and print something.
   */
  addRawInputs(storage: string, databases: string): void {
    const trimmed = storage.trim();
    if (trimmed) {
      this.add(secretsInConnectionString(trimmed));
      if (/^https?:\/\//i.test(trimmed)) this.add(storageSecrets({ kind: "azure-sas", containerUrl: trimmed }));
    }
    for (const line of databases.split(/\r?\n/)) this.add(secretsInConnectionString(line.trim()));
  }

  /** Every credential reachable from the resolved options (values from `${env:VAR}` and config files included). */
  addOptions(options: AppBackupOptions): void {
    this.add(redactorFor(options).values);
  }

  add(secrets: Iterable<string>): void {
    for (const secret of secrets) {
      // The redactor also registers each secret's URL-encoded form; that form is not encoded again.
      if (!this.redactor.values.includes(secret)) this.redactor.add(secret);
    }
    for (const value of this.redactor.values) {
      if (this.masked.has(value)) continue;
      this.masked.add(value);
      this.mask(value);
    }
  }

  redact(text: string): string {
    return this.redactor.redact(text);
  }
}
