import { Redactor } from "../secrets.js";

/**
 * A database password must never reach a log, an error or a manifest, and
 * drivers echo it: in connection URLs (percent-encoded) and in their own
 * messages. Every engine scrubs its errors with these; the rule is the
 * Redactor's: masked whole, everywhere when 4 characters or longer, else where
 * it stands as a credential (`password=...`, a URL's userinfo).
 */

/** The text with the password replaced in every form it may be written in. */
export function redactPassword(text: string, password: string): string {
  const redactor = new Redactor();
  redactor.add(password);
  return redactor.redact(text);
}

/** The driver's error to keep as a cause: itself when it holds no password, else a scrubbed copy. */
export function causeWithoutPassword(error: unknown, password: string): unknown {
  if (!(error instanceof Error) || password === "") return error;
  const text = `${error.message}\n${error.stack ?? ""}`;
  if (redactPassword(text, password) === text) return error;
  const copy = new Error(redactPassword(error.message, password));
  copy.name = error.name;
  return copy;
}
