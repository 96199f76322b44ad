import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../test/support/free-port.mjs";

const sshdPath = "/usr/sbin/sshd";

/**
 * An OpenSSH server of the benchmark's own on a free 127.0.0.1 port (never the
 * system's service): its own host and client keys, config, known_hosts line and
 * temp folder, serving SFTP with OpenSSH's internal-sftp as `ssh` users get it.
 * Returns what a client needs to log in, and `stop()`.
 */
export async function startBenchSshd() {
  const folder = mkdtempSync(path.join(os.tmpdir(), "bench-sshd-"));
  const hostKey = path.join(folder, "ssh_host_ed25519_key");
  const clientKey = path.join(folder, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench-sshd-host", "-f", hostKey]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench-sshd-client", "-f", clientKey]);
  const authorizedKeys = path.join(folder, "authorized_keys");
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`, "utf8"));
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = [
    "ListenAddress 127.0.0.1",
    `Port ${port}`,
    `HostKey ${hostKey}`,
    `PidFile ${path.join(folder, "sshd.pid")}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    "UsePAM no",
    "StrictModes no",
    "UseDNS no",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PerSourcePenalties no",
    "Subsystem sftp internal-sftp",
  ];
  const configPath = path.join(folder, "sshd_config");
  writeFileSync(configPath, `${config.join("\n")}\n`);
  // PerSourcePenalties exists from OpenSSH 9.8 on; older servers refuse the line.
  if (spawnSync(sshdPath, ["-t", "-f", configPath]).status !== 0) writeFileSync(configPath, `${config.filter((line) => !line.startsWith("PerSourcePenalties")).join("\n")}\n`);

  let log = "";
  const server = spawn(sshdPath, ["-D", "-e", "-f", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  server.stderr.setEncoding("utf8").on("data", (chunk) => (log += chunk));
  const exited = new Promise((resolve) => server.once("exit", resolve));
  await waitForBanner(port, server, () => log);

  const hostPublic = readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/);
  const knownHosts = path.join(folder, "known_hosts");
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPublic[0]} ${hostPublic[1]}\n`);
  return {
    port,
    user: os.userInfo().username,
    clientKey,
    knownHosts,
    async stop() {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill("SIGTERM");
        await exited;
      }
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

async function waitForBanner(port, server, log) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`sshd did not start:\n${log()}`);
    const banner = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      let text = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk) => {
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
