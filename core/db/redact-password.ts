/**
 * A database password must never reach a log, an error or a manifest, and
 * drivers echo it: in connection URLs (percent-encoded) and in their own
 * messages. Every engine scrubs its errors with these.
 */

/** The text with the password replaced, raw and percent-encoded. */
export function redactPassword(text: string, password: string): string {
  if (password.length < 3) return text;
  let result = text.split(password).join("***");
  const encoded = encodeURIComponent(password);
  if (encoded !== password) result = result.split(encoded).join("***");
  return result;
}

/** The driver's error to keep as a cause: itself when it holds no password, else a scrubbed copy. */
export function causeWithoutPassword(error: unknown, password: string): unknown {
  if (!(error instanceof Error) || password.length < 3) return error;
  const text = `${error.message}\n${error.stack ?? ""}`;
  if (!text.includes(password) && !text.includes(encodeURIComponent(password))) return error;
  const copy = new Error(redactPassword(error.message, password));
  copy.name = error.name;
  return copy;
}
