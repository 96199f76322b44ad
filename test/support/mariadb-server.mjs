// A throwaway MariaDB server for tests and benchmarks: Debian's mariadb-server binaries,
// a data directory in a temp folder, a free port on 127.0.0.1, removed on stop().
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.mjs";

const run = promisify(execFile);

/** Password of the test account: has characters that need quoting in URLs and ADO.NET strings. */
export const TEST_PASSWORD = "Pa55;w0rd'With@Odd=Chars";
export const TEST_USER = "app";

const running = new Set();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts a server. `tls: true` makes it TLS-only (require_secure_transport) with a
 * self-signed CA; `caFile` and `wrongCaFile` are then the right and an unrelated CA.
 * @param {{ tls?: boolean, bufferPoolMb?: number }} [options]
 */
export async function startMariaDbServer(options = {}) {
  const binaries = await findBinaries();
  const dir = await mkdtemp(join(tmpdir(), "ab-mariadb-"));
  const datadir = join(dir, "data");
  const socket = join(dir, "mariadb.sock");
  await mkdir(datadir);
  await run(binaries.installDb, [
    "--no-defaults",
    "--auth-root-authentication-method=normal",
    `--datadir=${datadir}`,
    "--user=root",
    "--skip-test-db",
    "--skip-name-resolve",
  ]).catch((error) => {
    throw new Error(`mariadb-install-db failed: ${error.stderr || error.message}`);
  });

  const tls = options.tls ? await makeCertificates(dir) : undefined;
  const port = await freePort();
  const args = [
    "--no-defaults",
    `--datadir=${datadir}`,
    `--socket=${socket}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    "--user=root",
    `--pid-file=${join(dir, "mariadb.pid")}`,
    `--log-error=${join(dir, "error.log")}`,
    "--skip-name-resolve",
    "--skip-log-bin",
    "--performance-schema=OFF",
    `--innodb-buffer-pool-size=${options.bufferPoolMb ?? 128}M`,
    "--innodb-flush-log-at-trx-commit=2",
    "--max-allowed-packet=64M",
    "--event-scheduler=OFF",
  ];
  if (tls) {
    args.push(`--ssl-ca=${tls.caFile}`, `--ssl-cert=${tls.certFile}`, `--ssl-key=${tls.keyFile}`, "--require-secure-transport=ON");
  }
  const child = spawn(binaries.server, args, { stdio: "ignore" });
  running.add(child);
  const exited = new Promise((resolve) => child.once("exit", resolve));

  const server = {
    host: "127.0.0.1",
    port,
    dir,
    socket,
    user: TEST_USER,
    password: TEST_PASSWORD,
    caFile: tls?.caFile,
    wrongCaFile: tls?.wrongCaFile,
    /** Runs SQL as root over the Unix socket with the `mariadb` client; returns its tab-separated output. */
    async sql(statements, database) {
      return clientRun(binaries.client, socket, statements, database);
    },
    /** Runs a client program, e.g. `server.tool("mariadb-dump", server.toolArgs("db"))`; resolves with its stdout. */
    async tool(program, args, input) {
      return toolRun(program, args, input);
    },
    /** Arguments that connect a client program as root over the socket, followed by `args`. */
    toolArgs(...args) {
      return ["--no-defaults", `--socket=${socket}`, "--user=root", "--default-character-set=utf8mb4", ...args];
    },
    /** Arguments that connect a client program as the test account over TCP, followed by `args`. */
    appToolArgs(...args) {
      const ssl = tls ? [`--ssl-ca=${tls.caFile}`] : ["--skip-ssl"];
      return ["--no-defaults", "--host=127.0.0.1", `--port=${port}`, `--user=${TEST_USER}`, `--password=${TEST_PASSWORD}`, "--default-character-set=utf8mb4", ...ssl, ...args];
    },
    /** ADO.NET connection string for the test account. */
    connectionString(database, extra = "") {
      const ssl = tls ? "SslMode=Required" : "SslMode=None";
      return `Server=127.0.0.1;Port=${port};Database=${database};Uid=${TEST_USER};Pwd="${TEST_PASSWORD}";${ssl};${extra}`;
    },
    async stop() {
      running.delete(child);
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await waitUntilReady(binaries.client, socket, child);
    await server.sql(
      `CREATE USER '${TEST_USER}'@'%' IDENTIFIED BY '${TEST_PASSWORD.replace(/'/g, "''")}'; GRANT ALL PRIVILEGES ON *.* TO '${TEST_USER}'@'%';`,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function findBinaries() {
  const which = async (name) => (await run("sh", ["-c", `command -v ${name} || ls /usr/sbin/${name} 2>/dev/null`]).catch(() => ({ stdout: "" }))).stdout.trim().split("\n")[0];
  const server = await which("mariadbd");
  const installDb = await which("mariadb-install-db");
  const client = await which("mariadb");
  if (!server || !installDb || !client) {
    throw new Error("MariaDB server binaries not found (mariadbd, mariadb-install-db, mariadb): install them with `apt-get install -y mariadb-server`.");
  }
  return { server, installDb, client };
}

async function waitUntilReady(client, socket, child) {
  const deadline = Date.now() + 60_000;
  let lastError;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited with code ${child.exitCode} while starting`);
    try {
      await clientRun(client, socket, "SELECT 1");
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`mariadbd did not become ready: ${lastError?.message}`);
}

function clientRun(client, socket, statements, database) {
  const args = ["--no-defaults", `--socket=${socket}`, "--user=root", "--default-character-set=utf8mb4", "--batch", "--skip-column-names", "--raw"];
  if (database) args.push(database);
  return toolRun(client, args, statements);
}

function toolRun(program, args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
    const stdout = [];
    const stderr = [];
    child.stdout.on("data", (chunk) => stdout.push(chunk));
    child.stderr.on("data", (chunk) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const out = Buffer.concat(stdout).toString("utf8");
      if (code === 0) resolve(out);
      else reject(new Error(`${program} exited with ${code}: ${Buffer.concat(stderr).toString("utf8").trim()}`));
    });
    child.stdin.on("error", () => {});
    if (input === undefined) child.stdin.end();
    else if (typeof input === "string" || Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  });
}

async function makeCertificates(dir) {
  const tlsDir = join(dir, "tls");
  await mkdir(tlsDir);
  const file = (name) => join(tlsDir, name);
  const openssl = (args) =>
    run("openssl", args, { cwd: tlsDir }).catch((error) => {
      throw new Error(`openssl ${args[0]} failed: ${error.stderr || error.message}`);
    });
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca-key.pem"), "-out", file("ca.pem"), "-days", "2", "-subj", "/CN=app-backup test CA"]);
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("server-key.pem"), "-out", file("server.csr"), "-subj", "/CN=localhost"]);
  await writeFile(file("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl([
    "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca-key.pem"), "-CAcreateserial",
    "-out", file("server-cert.pem"), "-days", "2", "-extfile", file("san.ext"),
  ]);
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("other-ca-key.pem"), "-out", file("other-ca.pem"), "-days", "2", "-subj", "/CN=unrelated CA"]);
  return { caFile: file("ca.pem"), certFile: file("server-cert.pem"), keyFile: file("server-key.pem"), wrongCaFile: file("other-ca.pem") };
}
