import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc.js";

/** How the engine marks a secret value in the properties it sends a provider that accepts secrets. */
function isSecret(value: unknown): value is { value: unknown } {
  return value !== null && typeof value === "object" && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

function plain(value: unknown): { value: unknown; secret: boolean } {
  if (isSecret(value)) return { value: plain(value.value).value, secret: true };
  if (Array.isArray(value)) {
    const items = value.map(plain);
    return { value: items.map((item) => item.value), secret: items.some((item) => item.secret) };
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([key, member]) => [key, plain(member)] as const);
    return { value: Object.fromEntries(entries.map(([key, member]) => [key, member.value])), secret: entries.some(([, member]) => member.secret) };
  }
  return { value, secret: false };
}

export interface PlainProperties {
  values: Record<string, unknown>;
  /** Top-level keys that held a secret anywhere inside. */
  secretKeys: string[];
}

/** The properties with every secret marker taken off, and which of them held a secret. */
export function withoutSecrets(properties: Record<string, unknown> | undefined): PlainProperties {
  const values: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  for (const [key, member] of Object.entries(properties ?? {})) {
    const unwrapped = plain(member);
    values[key] = unwrapped.value;
    if (unwrapped.secret) secretKeys.push(key);
  }
  return { values, secretKeys };
}

/** The properties with the given top-level keys marked secret, as the engine stores them encrypted. */
export function withSecrets<T extends object>(properties: T, secretKeys: readonly string[]): Record<string, unknown> {
  const marked: Record<string, unknown> = { ...(properties as Record<string, unknown>) };
  for (const key of secretKeys) {
    if (marked[key] !== undefined && marked[key] !== null) marked[key] = { [specialSigKey]: specialSecretSig, value: marked[key] };
  }
  return marked;
}
