import { AppBackupError } from "../errors.js";

/**
 * What a SAS token says about itself in its query: the permissions it grants
 * (`sp`) and when it is in force (`st`, `se`). Read before any request, so a
 * token that cannot do the work is refused with its own reason instead of the
 * service's HTTP 403.
 */
export interface SasTerms {
  /** The `sp` letters; absent when a stored access policy (`si`) grants them. */
  permissions?: string;
  startsAt?: Date;
  expiresAt?: Date;
}

/** What a container SAS needs for every command, as the README's storage table says. */
export const sasPermissionsNeeded = "read, add, create, write, delete and list (sp=racwdl)";

const permissionNames: Record<string, string> = { r: "read", a: "add", c: "create", w: "write", d: "delete", l: "list" };

/** The SAS of a container (or account) URL, or undefined when the URL carries none. */
export function sasTermsOf(url: string): SasTerms | undefined {
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  if (!params.has("sig")) return undefined;
  const time = (value: string | null) => {
    if (!value) return undefined;
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  };
  return {
    ...(params.has("sp") ? { permissions: params.get("sp")! } : {}),
    ...(time(params.get("st")) ? { startsAt: time(params.get("st")) } : {}),
    ...(time(params.get("se")) ? { expiresAt: time(params.get("se")) } : {}),
  };
}

/** Why a SAS is not in force at `now` ("expired at …", "is not valid until …"), or undefined when it is. */
export function sasOutOfTerm(terms: SasTerms, now = new Date()): string | undefined {
  if (terms.expiresAt && terms.expiresAt.getTime() <= now.getTime()) return `expired at ${terms.expiresAt.toISOString()}`;
  if (terms.startsAt && terms.startsAt.getTime() > now.getTime()) return `is not valid until ${terms.startsAt.toISOString()}`;
  return undefined;
}

/** What to do about a SAS that is out of term or lacks permissions. */
export const newSasHint = `Create a new container SAS granting ${sasPermissionsNeeded}, valid from now until after the backups and restores that use it, and put it in backup.storage.`;

/** The letters of `needed` that the SAS does not grant, each with its name: `c (create)`. */
export function missingSasPermissions(terms: SasTerms, needed: string): string[] {
  if (terms.permissions === undefined) return [];
  return [...needed].filter((letter) => !terms.permissions!.includes(letter)).map((letter) => `${letter} (${permissionNames[letter] ?? letter})`);
}

/** The error of a SAS out of its term, or undefined when it is in force; `reply` is the service's answer when there was one. */
export function outOfTermError(terms: SasTerms | undefined, action: string, where: string, reply?: string, now = new Date()): AppBackupError | undefined {
  const outOfTerm = terms && sasOutOfTerm(terms, now);
  if (!outOfTerm) return undefined;
  return new AppBackupError("STORAGE_AUTH", `The SAS token in backup.storage ${outOfTerm}, so Azure Storage refuses to ${action} at ${where}${reply ? ` (${reply})` : ""}.`, newSasHint);
}
