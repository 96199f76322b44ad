import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "./free-port.mjs";

export interface SshdOptions {
  /** Offer the SFTP subsystem (default true); false makes a server that has none. */
  sftp?: boolean;
  /** Let the server accept passwords (default false: keys only). */
  passwordAuthentication?: boolean;
  /**
   * When the tests run as root: serve SFTP without CAP_DAC_OVERRIDE and
   * CAP_DAC_READ_SEARCH, so that file modes bind root as they bind any user
   * (a folder with mode 000 is then unreadable over SFTP). No effect otherwise.
   */
  fileModesBindRoot?: boolean;
}

export interface TestSshd {
  port: number;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA…`: the server's host key as a known_hosts line. */
  hostKeyLine: string;
  /** The host key's public blob, as a server presents it. */
  hostKeyBlob: Buffer;
  clientKeyPath: string;
  clientKeyText: string;
  /** The user the client logs in as: whoever runs the tests. */
  user: string;
  /** Authorizes one more public key (an `ssh-ed25519 AAAA…` line). */
  authorizeKey(publicKeyLine: string): void;
  /** What sshd logged so far (on failures, says why it refused). */
  log(): string;
  /** The processes serving client connections (sshd's children and theirs). */
  connectionPids(): number[];
  /** Kills every connection's processes; the server keeps listening. */
  killConnections(): void;
  stop(): Promise<void>;
}

const sshdPath = "/usr/sbin/sshd";
const sftpServerPath = "/usr/lib/openssh/sftp-server";

/**
 * Debian's OpenSSH server as a throwaway process of its own: its own host and
 * client keys (made with ssh-keygen), its own config, pid file and authorized
 * keys in a temp folder, on a free 127.0.0.1 port; never the system's service.
 */
export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const folder = mkdtempSync(path.join(os.tmpdir(), "sshd-"));
  const hostKeyPath = path.join(folder, "ssh_host_ed25519_key");
  const clientKeyPath = path.join(folder, "id_ed25519");
  const authorizedKeysPath = path.join(folder, "authorized_keys");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test-sshd-host", "-f", hostKeyPath]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test-sshd-client", "-f", clientKeyPath]);
  writeFileSync(authorizedKeysPath, readFileSync(`${clientKeyPath}.pub`, "utf8"));

  const root = process.getuid?.() === 0;
  // sshd running as root separates privileges into this (empty) folder and refuses to start without it.
  if (root) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const port = await freePort();
  const sftpCommand =
    root && options.fileModesBindRoot ? `/usr/bin/setpriv --bounding-set -dac_override,-dac_read_search ${sftpServerPath}` : "internal-sftp";
  const config = [
    "ListenAddress 127.0.0.1",
    `Port ${port}`,
    `HostKey ${hostKeyPath}`,
    `PidFile ${path.join(folder, "sshd.pid")}`,
    `AuthorizedKeysFile ${authorizedKeysPath}`,
    "UsePAM no",
    "StrictModes no",
    "UseDNS no",
    "PermitRootLogin prohibit-password",
    "PubkeyAuthentication yes",
    `PasswordAuthentication ${options.passwordAuthentication ? "yes" : "no"}`,
    "KbdInteractiveAuthentication no",
    "LogLevel VERBOSE",
    "MaxStartups 50",
    "PerSourcePenalties no",
    ...(options.sftp === false ? [] : [`Subsystem sftp ${sftpCommand}`]),
  ];
  const configPath = path.join(folder, "sshd_config");
  writeConfig(configPath, config);

  let log = "";
  const server: ChildProcess = spawn(sshdPath, ["-D", "-e", "-f", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  server.stderr!.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  try {
    await waitForBanner(port, server, () => log);
  } catch (error) {
    server.kill("SIGKILL");
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }

  const hostPublic = readFileSync(`${hostKeyPath}.pub`, "utf8").trim().split(/\s+/);
  const descendants = () => descendantsOf(server.pid!);
  const killConnections = () => {
    for (const pid of descendants()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone already: a connection's processes end together.
      }
    }
  };
  return {
    port,
    hostKeyLine: `[127.0.0.1]:${port} ${hostPublic[0]} ${hostPublic[1]}`,
    hostKeyBlob: Buffer.from(hostPublic[1]!, "base64"),
    clientKeyPath,
    clientKeyText: readFileSync(clientKeyPath, "utf8"),
    user: os.userInfo().username,
    authorizeKey: (line) => appendFileSync(authorizedKeysPath, `${line.trim()}\n`),
    log: () => log,
    connectionPids: descendants,
    killConnections,
    async stop() {
      // Connections' processes outlive the listener: end them first.
      killConnections();
      if (server.exitCode === null && server.signalCode === null) {
        server.kill("SIGTERM");
        await exited;
      }
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/**
 * Writes the config, without the settings this sshd does not know: PerSourcePenalties
 * (OpenSSH 9.8+) is turned off where it exists, since tests that cut connections or
 * fail logins on purpose would otherwise be locked out by it.
 */
function writeConfig(configPath: string, config: string[]): void {
  writeFileSync(configPath, `${config.join("\n")}\n`);
  const check = spawnSync(sshdPath, ["-t", "-f", configPath], { encoding: "utf8" });
  if (check.status !== 0 && /PerSourcePenalties/.test(check.stderr)) {
    writeFileSync(configPath, `${config.filter((line) => !line.startsWith("PerSourcePenalties")).join("\n")}\n`);
  }
}

/** Waits until the server answers with an SSH banner, or says why it did not start. */
async function waitForBanner(port: number, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`sshd did not start:\n${log()}`);
    const banner = await new Promise<string>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      let text = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        text += chunk;
        if (text.includes("\n")) socket.destroy();
      });
      socket.once("error", () => resolve(""));
      socket.once("close", () => resolve(text));
      socket.setTimeout(2000, () => socket.destroy());
    });
    if (banner.startsWith("SSH-2.0-")) return;
    if (Date.now() > deadline) throw new Error(`sshd did not answer on 127.0.0.1:${port}:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every process below `pid` (sshd forks per connection, and again to drop privileges). */
function descendantsOf(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const statPath = `/proc/${name}/stat`;
    if (!existsSync(statPath)) continue;
    try {
      const stat = readFileSync(statPath, "utf8");
      // The command name may hold spaces and parentheses: the fields after its last ")" are fixed.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parentOf.set(Number(name), Number(fields[1]));
    } catch {
      // The process ended while the list was read.
    }
  }
  const found: number[] = [];
  const frontier = [pid];
  while (frontier.length) {
    const parent = frontier.pop()!;
    for (const [child, childParent] of parentOf) {
      if (childParent === parent) {
        found.push(child);
        frontier.push(child);
      }
    }
  }
  return found;
}
