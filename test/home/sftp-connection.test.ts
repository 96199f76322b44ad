import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppBackupError } from "../../core/errors.js";
import { parseSftpAddress } from "../../core/home/sftp/address.js";
import { openSftpHome, type SftpHomeOptions } from "../../core/home/sftp/connection.js";
import { hostKeyFingerprint } from "../../core/home/sftp/known-hosts.js";
import { freePort } from "../support/free-port.mjs";
import { startSshd, type TestSshd } from "../support/sshd.js";

let sshd: TestSshd;
let folder: string;
let knownHosts: string;

beforeAll(async () => {
  sshd = await startSshd({ passwordAuthentication: true });
  folder = mkdtempSync(path.join(os.tmpdir(), "sftp-connection-"));
  knownHosts = path.join(folder, "known_hosts");
  writeFileSync(knownHosts, `${sshd.hostKeyLine}\n`);
  writeFileSync(path.join(folder, "hello.txt"), "hello");
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(folder, { recursive: true, force: true });
});

function options(overrides: Partial<SftpHomeOptions> = {}): SftpHomeOptions {
  return {
    address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${folder}`),
    privateKeyFile: sshd.clientKeyPath,
    knownHosts,
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>): Promise<AppBackupError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppBackupError);
  return error as AppBackupError;
}

describe("openSftpHome", () => {
  it("logs in with a key file or key text, serves SFTP, and closes once however often close() is called", async () => {
    for (const credentials of [{ privateKeyFile: sshd.clientKeyPath }, { privateKeyFile: undefined, privateKey: sshd.clientKeyText }]) {
      const warnings: string[] = [];
      const session = await openSftpHome(options(credentials), { warning: (message) => warnings.push(message) });
      const names = await session.request<Array<{ filename: string }>>((sftp, done) => sftp.readdir(folder, done));
      expect(names.map((entry) => entry.filename)).toContain("hello.txt");
      expect(session.closed).toBe(false);
      expect(warnings).toEqual([]);
      await Promise.all([session.close(), session.close()]);
      await session.close();
      expect(session.closed).toBe(true);
      const afterClose = await refusal(session.request((sftp, done) => sftp.readdir(folder, done)));
      expect(afterClose.code).toBe("HOME_UNREACHABLE");
    }
  });

  it("logs in with a passphrase-protected key given its passphrase, and says a passphrase is missing otherwise", async () => {
    const keyFile = path.join(folder, "id_protected");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "correct horse", "-C", "", "-f", keyFile]);
    sshd.authorizeKey(readFileSync(`${keyFile}.pub`, "utf8"));
    const session = await openSftpHome(options({ privateKeyFile: keyFile, passphrase: "correct horse" }));
    await session.close();
    const error = await refusal(openSftpHome(options({ privateKeyFile: keyFile })));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.describe()).toMatch(/passphrase/i);
    expect(error.describe()).not.toContain("PRIVATE KEY");
  });

  it("refuses a key the server does not know, naming the method and the key's fingerprint but not the key", async () => {
    const keyFile = path.join(folder, "id_stranger");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", keyFile]);
    const publicBlob = Buffer.from(readFileSync(`${keyFile}.pub`, "utf8").split(" ")[1]!, "base64");
    const error = await refusal(openSftpHome(options({ privateKeyFile: keyFile })));
    expect(error.code).toBe("HOME_REFUSED");
    expect(error.message).toContain(`refused the login of user "${sshd.user}"`);
    expect(error.message).toContain(`publickey (the key in ${keyFile}, ${hostKeyFingerprint(publicBlob)})`);
    expect(error.describe()).not.toContain(readFileSync(keyFile, "utf8").split("\n")[1]!);
  });

  it("warns that a password is less safe, and never repeats a refused password", async () => {
    const warnings: string[] = [];
    const secret = "Pa55-word-not-valid";
    const error = await refusal(openSftpHome(options({ privateKeyFile: undefined, password: secret }), { warning: (message) => warnings.push(message) }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/key is safer/);
    expect(error.code).toBe("HOME_REFUSED");
    expect(error.message).toContain("tried password");
    expect(error.describe()).not.toContain(secret);
    expect(warnings[0]).not.toContain(secret);
  });

  it("stops at an unknown host, giving the fingerprint and how to add it", async () => {
    const empty = path.join(folder, "empty_known_hosts");
    writeFileSync(empty, "");
    for (const file of [empty, path.join(folder, "missing_known_hosts")]) {
      const error = await refusal(openSftpHome(options({ knownHosts: file })));
      expect(error.code).toBe("HOME_REFUSED");
      expect(error.message).toContain(`[127.0.0.1]:${sshd.port} is not a known host`);
      expect(error.message).toContain(hostKeyFingerprint(sshd.hostKeyBlob));
      expect(error.hint).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ~/.ssh/known_hosts`);
    }
  });

  it("accepts the host once added as the error says (ssh-keyscan), and in a hashed known_hosts", async () => {
    const scanned = path.join(folder, "scanned_known_hosts");
    writeFileSync(scanned, execFileSync("ssh-keyscan", ["-p", String(sshd.port), "127.0.0.1"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    await (await openSftpHome(options({ knownHosts: scanned }))).close();
    execFileSync("ssh-keygen", ["-H", "-f", scanned], { stdio: "ignore" });
    expect(readFileSync(scanned, "utf8")).not.toContain("127.0.0.1");
    await (await openSftpHome(options({ knownHosts: scanned }))).close();
  });

  it("refuses a server whose key changed, and one whose key is revoked", async () => {
    const otherKey = path.join(folder, "other_host_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", otherKey]);
    const changed = path.join(folder, "changed_known_hosts");
    writeFileSync(changed, `[127.0.0.1]:${sshd.port} ${readFileSync(`${otherKey}.pub`, "utf8")}`);
    const changedError = await refusal(openSftpHome(options({ knownHosts: changed })));
    expect(changedError.message).toContain("HAS CHANGED");
    expect(changedError.message).toContain(hostKeyFingerprint(sshd.hostKeyBlob));

    const revoked = path.join(folder, "revoked_known_hosts");
    writeFileSync(revoked, `${sshd.hostKeyLine}\n@revoked ${sshd.hostKeyLine}\n`);
    const revokedError = await refusal(openSftpHome(options({ knownHosts: revoked })));
    expect(revokedError.message).toContain("@revoked");
  });

  it("says host:port when nothing listens there", async () => {
    const port = await freePort();
    const error = await refusal(openSftpHome(options({ address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${port}/srv/app`) })));
    expect(error.code).toBe("HOME_UNREACHABLE");
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("gives up on a server that never completes the handshake", async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const error = await refusal(openSftpHome(options({ address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${port}/srv/app`), readyTimeoutMs: 1500 })));
      expect(error.code).toBe("HOME_UNREACHABLE");
      expect(error.message).toContain(`127.0.0.1:${port} did not complete the SSH handshake`);
    } finally {
      silent.close();
    }
  });

  it("says when the SSH server offers no SFTP", async () => {
    const bare = await startSshd({ sftp: false });
    try {
      const knownBare = path.join(folder, "bare_known_hosts");
      writeFileSync(knownBare, `${bare.hostKeyLine}\n`);
      const error = await refusal(
        openSftpHome({ address: parseSftpAddress(`sftp://${bare.user}@127.0.0.1:${bare.port}${folder}`), privateKeyFile: bare.clientKeyPath, knownHosts: knownBare }),
      );
      expect(error.code).toBe("HOME_REFUSED");
      expect(error.message).toContain("does not offer SFTP");
      expect(error.hint).toContain("Subsystem sftp");
    } finally {
      await bare.stop();
    }
  });

  it("asks for credentials when none are given", async () => {
    const error = await refusal(openSftpHome(options({ privateKeyFile: undefined })));
    expect(error.code).toBe("CONFIG_INVALID");
  });
});
