import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { AppBackupError } from "../../errors.js";
import { defaultSftpPort } from "./address.js";

/** What a known_hosts file says of the key a server presented. */
export type HostKeyCheck =
  | { result: "match"; line: number }
  | { result: "unknown"; fingerprint: string; keyType: string }
  | { result: "changed"; fingerprint: string; keyType: string; line: number }
  | { result: "revoked"; fingerprint: string; keyType: string; line: number };

interface KnownHostsLine {
  /** 1-based, for messages. */
  line: number;
  marker?: "revoked";
  hosts: string;
  keyType: string;
  key: Buffer;
}

/**
 * Checks a server's host key (the SSH wire-format blob) against OpenSSH `known_hosts`
 * text, as `ssh` does: the name looked up is `host` on port 22 and `[host]:port`
 * otherwise, matched against plain names, comma lists, `*`/`?` patterns with `!`
 * negation, and hashed `|1|salt|hash` entries. A `@revoked` key is refused even
 * when another line lists it. `@cert-authority` lines are ignored: host
 * certificates are not supported, so a certificate-signed host must be listed by
 * its own key.
 */
export function checkHostKey(knownHostsText: string, host: string, port: number, key: Buffer): HostKeyCheck {
  const keyType = keyTypeOf(key);
  const fingerprint = hostKeyFingerprint(key);
  const name = lookupName(host, port);
  const lines = parseKnownHosts(knownHostsText).filter((entry) => hostsMatch(entry.hosts, name));
  const revoked = lines.find((entry) => entry.marker === "revoked" && entry.key.equals(key));
  if (revoked) return { result: "revoked", fingerprint, keyType, line: revoked.line };
  const plain = lines.filter((entry) => entry.marker === undefined);
  const same = plain.find((entry) => entry.keyType === keyType && entry.key.equals(key));
  if (same) return { result: "match", line: same.line };
  // Only a key of the same type stands for this host's key: a listed key of
  // another type says nothing about this one (ssh asks, as for an unknown host).
  const other = plain.find((entry) => entry.keyType === keyType);
  if (other) return { result: "changed", fingerprint, keyType, line: other.line };
  return { result: "unknown", fingerprint, keyType };
}

/** The key types known_hosts lists for the host, so that the handshake can ask for one of them first. */
export function knownHostKeyTypes(knownHostsText: string, host: string, port: number): string[] {
  const name = lookupName(host, port);
  const types = parseKnownHosts(knownHostsText)
    .filter((entry) => entry.marker === undefined && hostsMatch(entry.hosts, name))
    .map((entry) => entry.keyType);
  return [...new Set(types)];
}

/** OpenSSH's fingerprint of a public key blob: `SHA256:` and the base64 digest without padding. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The error for a key that is not a match: unknown says how to add it; changed and revoked refuse loudly. */
export function hostKeyRefusal(check: Exclude<HostKeyCheck, { result: "match" }>, host: string, port: number, knownHostsPath: string): AppBackupError {
  const where = lookupName(host, port);
  const type = keyTypeName(check.keyType);
  if (check.result === "unknown") {
    return new AppBackupError(
      "HOME_REFUSED",
      `The SFTP server ${where} is not a known host: ${knownHostsPath} lists no ${type} key for it. The server presents the ${type} key ${check.fingerprint}.`,
      `Check that fingerprint with the server's administrator (on the server: ssh-keygen -lf /etc/ssh/ssh_host_${shortTypeName(check.keyType)}_key.pub), then add the key: ssh-keyscan -p ${port} ${host} >> ~/.ssh/known_hosts, or point the knownHosts option at a known_hosts file that lists it.`,
    );
  }
  if (check.result === "changed") {
    return new AppBackupError(
      "HOME_REFUSED",
      `REFUSED: THE HOST KEY OF THE SFTP SERVER ${where} HAS CHANGED. ${knownHostsPath} (line ${check.line}) holds another ${type} key for it; the server now presents ${check.fingerprint}. ` +
        "Someone may be intercepting the connection (a man-in-the-middle attack), or the server's key was replaced. Nothing was read or written.",
      `Do not connect until the server's administrator confirms the new key; then replace the old entry (ssh-keygen -R '${where}' -f ${knownHostsPath}, then ssh-keyscan -p ${port} ${host} >> ${knownHostsPath}).`,
    );
  }
  return new AppBackupError(
    "HOME_REFUSED",
    `REFUSED: the SFTP server ${where} presents the ${type} key ${check.fingerprint}, which ${knownHostsPath} (line ${check.line}) marks @revoked. Nothing was read or written.`,
    "A revoked key must never be trusted again: the server needs a new host key; ask its administrator.",
  );
}

/** The name `ssh` looks a host up by: `host` on port 22, `[host]:port` on any other. */
export function lookupName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === defaultSftpPort ? lower : `[${lower}]:${port}`;
}

function parseKnownHosts(text: string): KnownHostsLine[] {
  const lines: KnownHostsLine[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const fields = trimmed.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]!.startsWith("@")) marker = fields.shift();
    // @cert-authority (and any marker this code does not know) is skipped: see checkHostKey.
    if (marker !== undefined && marker !== "@revoked") continue;
    const [hosts, keyType, keyText] = fields;
    if (!hosts || !keyType || !keyText) continue;
    const key = Buffer.from(keyText, "base64");
    // A line whose key does not decode to its own type is damaged; ssh skips it too.
    if (key.length === 0 || safeKeyType(key) !== keyType) continue;
    lines.push({ line: index + 1, marker: marker ? "revoked" : undefined, hosts, keyType, key });
  }
  return lines;
}

function hostsMatch(hosts: string, name: string): boolean {
  if (hosts.startsWith("|1|")) return hashedMatch(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(",")) {
    if (!pattern) continue;
    const negated = pattern.startsWith("!");
    if (!globMatch(negated ? pattern.slice(1) : pattern, name)) continue;
    // A negated pattern that matches rules the line out, whatever else matches.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function hashedMatch(entry: string, name: string): boolean {
  const [, , saltText, hashText] = entry.split("|");
  if (!saltText || !hashText) return false;
  const salt = Buffer.from(saltText, "base64");
  const expected = Buffer.from(hashText, "base64");
  const actual = createHmac("sha1", salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function globMatch(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .split("")
    .map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "s").test(name);
}

/** The key type a public key blob names first (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`). */
export function keyTypeOf(key: Buffer): string {
  const type = safeKeyType(key);
  if (type === undefined) throw new Error("The server's host key is not an SSH public key blob.");
  return type;
}

function safeKeyType(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const length = key.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > key.length) return undefined;
  return key.subarray(4, 4 + length).toString("latin1");
}

/** As `ssh` names key types in its messages: ED25519, RSA, ECDSA. */
function keyTypeName(keyType: string): string {
  if (keyType === "ssh-ed25519") return "ED25519";
  if (keyType === "ssh-rsa") return "RSA";
  if (keyType.startsWith("ecdsa-")) return "ECDSA";
  return keyType;
}

function shortTypeName(keyType: string): string {
  return keyTypeName(keyType).toLowerCase();
}
