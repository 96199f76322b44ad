import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import ssh2, { type AnyAuthMethod, type AuthenticationType, type ConnectConfig, type ParsedKey, type SFTPWrapper } from "ssh2";
import { AppBackupError } from "../../errors.js";
import { describeHostPort, describeSftpAddress, type SftpAddress } from "./address.js";
import { checkHostKey, hostKeyFingerprint, hostKeyRefusal, knownHostKeyTypes, type HostKeyCheck } from "./known-hosts.js";

const { Client, utils } = ssh2;

export interface SftpHomeOptions {
  address: SftpAddress;
  /** The private key's text (e.g. from `${env:NAME}`). */
  privateKey?: string;
  privateKeyFile?: string;
  passphrase?: string;
  /** Accepted, with a warning: a key is safer. */
  password?: string;
  /** An OpenSSH known_hosts file; default ~/.ssh/known_hosts. The host key is always checked. */
  knownHosts?: string;
  /** How long reaching the server and the SSH handshake may take; default 20 s. */
  readyTimeoutMs?: number;
}

export interface SftpHomeEvents {
  warning?(message: string): void;
}

/** Completes one ssh2 SFTP call. */
export type SftpCallback<T> = (error: Error | null | undefined, value?: T) => void;

/** An open SFTP connection to a remote home. */
export interface SftpSession {
  readonly address: SftpAddress;
  /** True once the connection has ended, by close() or because it was lost. */
  readonly closed: boolean;
  /** Whether the server offers an OpenSSH extension (`posix-rename@openssh.com`, `fsync@openssh.com`). */
  supports(extension: string): boolean;
  /**
   * Runs one SFTP request. Rejects with HOME_UNREACHABLE when the connection is gone
   * (before or during the request); otherwise with the server's own status error
   * (its numeric `code` is the SFTP status: 2 no such file, 3 permission denied, 4 failure).
   */
  request<T>(call: (sftp: SFTPWrapper, done: SftpCallback<T>) => void, doing?: string): Promise<T>;
  /** The error for work cut short because the connection ended, saying what was being done. */
  lost(doing: string): AppBackupError;
  /** Ends the connection; calling it again does nothing more. */
  close(): Promise<void>;
}

/** SFTP status codes a request can fail with that concern the path, not the connection. */
export const sftpStatus = { noSuchFile: 2, permissionDenied: 3, failure: 4, opUnsupported: 8 } as const;

const defaultReadyTimeoutMs = 20_000;
// Without keepalives a connection dropped silently (a NAT or firewall forgetting it)
// would hang a transfer until TCP gave up, which can take many minutes.
const keepaliveIntervalMs = 15_000;
const keepaliveCountMax = 4;

/** Host key algorithms for each key type a known_hosts file can list, in ssh2's names. */
const algorithmsOfKeyType: Record<string, string[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
};

/**
 * Connects to the SFTP server of a remote home: the server's host key is checked
 * against known_hosts (always: there is no way to skip it), then the user logs in
 * with the key and/or the password given, then the SFTP subsystem is opened.
 */
export async function openSftpHome(options: SftpHomeOptions, events: SftpHomeEvents = {}): Promise<SftpSession> {
  const { address } = options;
  const where = describeHostPort(address);
  const home = describeSftpAddress(address);
  const key = await loadPrivateKey(options);
  if (!key && options.password === undefined) {
    throw new AppBackupError(
      "CONFIG_INVALID",
      `No credentials are given for the home ${home}.`,
      "Give a private key (privateKey: ${env:NAME} or privateKeyFile), or a password (password: ${env:NAME}).",
    );
  }
  if (options.password !== undefined) {
    events.warning?.(
      `The home ${home} logs in with a password. A key is safer (it cannot be guessed, and a server that is not the right one never learns it): give privateKey or privateKeyFile instead.`,
    );
  }
  const knownHostsPath = options.knownHosts ?? path.join(os.homedir(), ".ssh", "known_hosts");
  const knownHostsText = await readKnownHosts(knownHostsPath);
  const readyTimeoutMs = options.readyTimeoutMs ?? defaultReadyTimeoutMs;

  const client = new Client();
  let hostCheck: HostKeyCheck | undefined;
  const tried: string[] = [];
  let serverMethods: AuthenticationType[] | undefined;
  const methods: Array<{ name: string; method: AnyAuthMethod }> = [];
  if (key) methods.push({ name: `publickey (${key.describe}, ${hostKeyFingerprint(key.parsed.getPublicSSH())})`, method: { type: "publickey", username: address.user, key: key.parsed } });
  if (options.password !== undefined) methods.push({ name: "password", method: { type: "password", username: address.user, password: options.password } });

  const preferredHostKeys = knownHostKeyTypes(knownHostsText, address.host, address.port).flatMap((type) => algorithmsOfKeyType[type] ?? []);
  const config: ConnectConfig = {
    host: address.host,
    port: address.port,
    username: address.user,
    readyTimeout: readyTimeoutMs,
    keepaliveInterval: keepaliveIntervalMs,
    keepaliveCountMax,
    // Ask for a key type known_hosts lists, as ssh does, so a server with several keys is recognized.
    ...(preferredHostKeys.length ? { algorithms: { serverHostKey: { prepend: preferredHostKeys } as never } } : {}),
    hostVerifier: (presented: Buffer) => {
      hostCheck = checkHostKey(knownHostsText, address.host, address.port, presented);
      return hostCheck.result === "match";
    },
    authHandler: (methodsLeft, _partialSuccess, next) => {
      if (methodsLeft) serverMethods = methodsLeft;
      const candidate = methods.shift();
      // ssh2 takes false for "nothing more to try"; its types only know method names.
      if (!candidate) return (next as unknown as (value: false) => void)(false);
      tried.push(candidate.name);
      next(candidate.method);
    },
  };

  const connected = new Promise<void>((resolve, reject) => {
    const fail = (error: Error & { level?: string; code?: unknown }) => {
      if (hostCheck && hostCheck.result !== "match") return reject(hostKeyRefusal(hostCheck, address.host, address.port, knownHostsPath));
      if (error.level === "client-authentication") {
        const accepted = serverMethods?.length ? `; the server accepts ${serverMethods.join(", ")}` : "";
        return reject(
          new AppBackupError(
            "HOME_REFUSED",
            `The SFTP server ${where} refused the login of user "${address.user}" for the home ${home}: tried ${tried.join(", ") || "nothing"}${accepted}.`,
            key
              ? `Check the user name, and that the key's public half (ssh-keygen -y -f KEYFILE) is in ~${address.user}/.ssh/authorized_keys on the server.`
              : "Check the user name and the password, or log in with a key (privateKey or privateKeyFile).",
          ),
        );
      }
      if (error.level === "client-timeout") {
        return reject(
          new AppBackupError("HOME_UNREACHABLE", `The SFTP server ${where} did not complete the SSH handshake within ${readyTimeoutMs / 1000} s (home ${home}).`, unreachableHint),
        );
      }
      // Socket errors carry Node's code (ECONNREFUSED); an SSH disconnect carries a number and says why in its message.
      const why = typeof error.code === "string" ? `${socketReason(error.code)} (${error.code})` : error.message;
      reject(new AppBackupError("HOME_UNREACHABLE", `Cannot connect to the SFTP server ${where} for the home ${home}: ${why}.`, unreachableHint, { cause: error }));
    };
    client.once("ready", () => {
      client.off("error", fail);
      client.off("close", closedEarly);
      resolve();
    });
    const closedEarly = () => fail(new Error("the server closed the connection during the SSH handshake"));
    client.on("error", fail);
    client.once("close", closedEarly);
  });
  try {
    client.connect(config);
    // SFTP is one small request after another: Nagle's algorithm would hold each back for an ACK.
    client.setNoDelay(true);
  } catch (error) {
    client.destroy();
    throw new AppBackupError("CONFIG_INVALID", `Cannot connect to the home ${home}: ${(error as Error).message}.`);
  }
  try {
    await connected;
  } catch (error) {
    client.destroy();
    throw error;
  }
  return openSubsystem(client, address, readyTimeoutMs);
}

const unreachableHint = "Check the host and port in the home's address, that the SSH server runs there, and that no firewall stands between; then run again.";

async function openSubsystem(client: InstanceType<typeof Client>, address: SftpAddress, timeoutMs: number): Promise<SftpSession> {
  const where = describeHostPort(address);
  const home = describeSftpAddress(address);
  let endedBecause: string | undefined;
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => client.once("close", () => resolve()));
  client.on("error", (error: Error) => {
    endedBecause ??= error.message;
  });
  const pending = new Set<() => void>();
  const ended = (because: string) => {
    closed = true;
    endedBecause ??= because;
    for (const abandon of pending) abandon();
    pending.clear();
  };
  client.once("close", () => ended("the connection was closed"));

  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
    const timer = setTimeout(() => reject(new AppBackupError("HOME_UNREACHABLE", `The SFTP server ${where} did not open the SFTP subsystem within ${timeoutMs / 1000} s.`, unreachableHint)), timeoutMs);
    const onClose = () => reject(new AppBackupError("HOME_UNREACHABLE", `The SSH server ${where} closed the connection while the SFTP subsystem was opened (home ${home}).`, unreachableHint));
    client.once("close", onClose);
    client.sftp((error, opened) => {
      clearTimeout(timer);
      client.off("close", onClose);
      if (error) {
        reject(
          new AppBackupError(
            "HOME_REFUSED",
            `The SSH server ${where} does not offer SFTP (home ${home}): ${error.message}.`,
            "Enable it on the server (in sshd_config: Subsystem sftp internal-sftp, or the path of sftp-server) and restart sshd, or give a home on a server that offers SFTP.",
          ),
        );
      } else resolve(opened);
    });
  }).catch((error: unknown) => {
    client.destroy();
    throw error;
  });
  sftp.on("error", (error: Error) => {
    endedBecause ??= error.message;
  });
  sftp.once("close", () => {
    ended("the SFTP channel was closed");
    client.end();
  });

  let closing: Promise<void> | undefined;
  // Requests made in one tick go out in one write: each SFTP request is an SSH packet written on
  // its own, and a pipeline of many small reads would otherwise cost a system call per packet.
  const socket = (client as unknown as { _sock?: { cork(): void; uncork(): void } })._sock;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket?.uncork();
  };
  const corkForThisTick = () => {
    if (corked || !socket) return;
    corked = true;
    socket.cork();
    process.nextTick(uncork);
  };
  const session: SftpSession = {
    address,
    get closed() {
      return closed;
    },
    supports(extension) {
      return (sftp as unknown as { _extensions: Record<string, unknown> })._extensions[extension] !== undefined;
    },
    lost(doing) {
      return new AppBackupError(
        "HOME_UNREACHABLE",
        `The connection to the SFTP server ${where} was lost while ${doing} (home ${home}): ${closing ? "it was closed" : (endedBecause ?? "no answer")}.`,
        "Run again; if it keeps happening, check the network between here and the server and the server's logs.",
      );
    },
    request<T>(call: (sftp: SFTPWrapper, done: SftpCallback<T>) => void, doing = "waiting for the server's answer") {
      return new Promise<T>((resolve, reject) => {
        if (closed) return reject(session.lost(doing));
        // ssh2 fails pending requests with a plain error (no status code) when the channel
        // ends, but a call made of several requests (readdir of a path: open, read, close)
        // may send its next one into the closed channel and never hear back: fail it here.
        const abandon = () => reject(session.lost(doing));
        pending.add(abandon);
        const done: SftpCallback<T> = (error, value) => {
          pending.delete(abandon);
          if (error) reject(closed || !("code" in error) ? session.lost(doing) : error);
          else resolve(value as T);
        };
        try {
          corkForThisTick();
          call(sftp, done);
        } catch (error) {
          pending.delete(abandon);
          reject(closed ? session.lost(doing) : error);
        }
      });
    },
    close() {
      closing ??= (async () => {
        if (!closed) {
          client.end();
          const timer = setTimeout(() => client.destroy(), 5_000);
          await closedPromise;
          clearTimeout(timer);
        }
        closed = true;
      })();
      return closing;
    },
  };
  return session;
}

interface LoadedKey {
  parsed: ParsedKey;
  /** Where the key came from, for messages: never the key. */
  describe: string;
}

async function loadPrivateKey(options: SftpHomeOptions): Promise<LoadedKey | undefined> {
  if (options.privateKey !== undefined && options.privateKeyFile !== undefined) {
    throw new AppBackupError("CONFIG_INVALID", "Both privateKey and privateKeyFile are given for the SFTP home.", "Give one of them.");
  }
  let text: string | undefined = options.privateKey;
  let describe = "the key given in privateKey";
  if (options.privateKeyFile !== undefined) {
    describe = `the key in ${options.privateKeyFile}`;
    try {
      text = await readFile(options.privateKeyFile, "utf8");
    } catch (error) {
      throw new AppBackupError(
        "CONFIG_INVALID",
        `Cannot read privateKeyFile ${options.privateKeyFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
        "Give the path of a private key file readable by the user that runs app-backup.",
      );
    }
  }
  if (text === undefined) return undefined;
  const parsed = utils.parseKey(text, options.passphrase);
  if (parsed instanceof Error) {
    // ssh2's reasons name what is wrong (format, missing passphrase), never the key's content.
    const needsPassphrase = /passphrase/i.test(parsed.message);
    throw new AppBackupError(
      "CONFIG_INVALID",
      `Cannot use ${describe}: ${parsed.message}.`,
      needsPassphrase ? "Give the key's passphrase (passphrase: ${env:NAME}), or a key without one." : "Give an OpenSSH or PEM private key (ssh-keygen -t ed25519 makes one).",
    );
  }
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
  if (!key.isPrivateKey()) throw new AppBackupError("CONFIG_INVALID", `Cannot use ${describe}: it is a public key.`, "Give the private key (the file without .pub).");
  return { parsed: key, describe };
}

async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    // A missing file lists no host: the connection then stops at an unknown host, saying how to add it.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw new AppBackupError(
      "CONFIG_INVALID",
      `Cannot read the known_hosts file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      "Make it readable by the user that runs app-backup, or point the knownHosts option at another file.",
    );
  }
}

function socketReason(code: string): string {
  if (code === "ECONNREFUSED") return "the connection was refused (nothing listens on that port)";
  if (code === "ETIMEDOUT") return "the connection timed out";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "the host name does not resolve";
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return "the host cannot be reached";
  if (code === "ECONNRESET") return "the connection was reset";
  return "the connection failed";
}
