import { redactorFor, Redactor, storageSecrets, type AppBackupOptions } from "../../core/index.js";

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
      this.redactor.addConnectionString(trimmed);
      if (/^https?:\/\//i.test(trimmed)) this.add(storageSecrets({ kind: "azure-sas", containerUrl: trimmed }));
    }
    for (const line of databases.split(/\r?\n/)) {
      // NAME:DATABASE_TYPE=CONNECTION_STRING; a line in another shape is registered whole.
      const connectionString = /^\s*[^:=\s]+\s*:\s*[^=\s]+\s*=(.*)$/.exec(line)?.[1] ?? line;
      this.redactor.addConnectionString(connectionString.trim());
    }
    this.maskNewValues();
  }

  /** Every credential reachable from the resolved options (values from `${env:VAR}` and config files included). */
  addOptions(options: AppBackupOptions): void {
    this.redactor.include(redactorFor(options));
    this.maskNewValues();
  }

  /** Registers the secrets, then has the runner mask every value the redactor masks everywhere. */
  add(secrets: Iterable<string>): void {
    for (const secret of secrets) {
      // The redactor also registers each secret's written forms (URL-encoded, ...); those are not encoded again.
      if (!this.redactor.values.includes(secret)) this.redactor.add(secret);
    }
    this.maskNewValues();
  }

  private maskNewValues(): void {
    // Secrets shorter than 4 characters are not among the values: the runner would mask them inside ordinary words.
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
