// Starts a throwaway PostgreSQL server from the Debian binaries in a temp folder.
// Plain JavaScript so that both the TypeScript tests and the benchmarks (plain node) can use it.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./free-port.mjs";

export const TEST_USER = "app_user";
/** Host name written into the TLS server certificate (connect with `hostaddr=127.0.0.1`). */
export const TLS_HOST_NAME = "db.app-backup.test";

/** The newest installed `/usr/lib/postgresql/<version>/bin`, or `$APP_BACKUP_PG_BIN`. */
export function findPostgresBinDir() {
  if (process.env.APP_BACKUP_PG_BIN) return process.env.APP_BACKUP_PG_BIN;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error("No PostgreSQL server binaries found under /usr/lib/postgresql/*/bin (apt-get install postgresql).");
  }
  return join(root, versions[0], "bin");
}

/** initdb and postgres refuse to run as root: when we are root, the server runs as `nobody`. */
function serverAccount() {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("nobody:"));
  if (!line) throw new Error("Running as root but there is no `nobody` account to run PostgreSQL as.");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

function run(command, args, { account, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LC_ALL: "C.UTF-8", ...env },
      cwd: "/",
      ...(account ?? {}),
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output}`));
    });
  });
}

async function writeCertificates(dir) {
  const openssl = (...args) => run("openssl", args);
  const ca = (name) => [
    ["genrsa", "-out", join(dir, `${name}.key`), "2048"],
    ["req", "-x509", "-new", "-key", join(dir, `${name}.key`), "-days", "2", "-subj", `/CN=${name}`, "-out", join(dir, `${name}.pem`)],
  ];
  for (const args of [...ca("test-ca"), ...ca("wrong-ca")]) await openssl(...args);
  await writeFile(join(dir, "server.ext"), `subjectAltName=DNS:${TLS_HOST_NAME},DNS:localhost\n`);
  await openssl("genrsa", "-out", join(dir, "server.key"), "2048");
  await openssl("req", "-new", "-key", join(dir, "server.key"), "-subj", `/CN=${TLS_HOST_NAME}`, "-out", join(dir, "server.csr"));
  await openssl(
    "x509", "-req", "-in", join(dir, "server.csr"), "-CA", join(dir, "test-ca.pem"), "-CAkey", join(dir, "test-ca.key"),
    "-CAcreateserial", "-days", "2", "-extfile", join(dir, "server.ext"), "-out", join(dir, "server.pem"),
  );
  return { caFile: join(dir, "test-ca.pem"), wrongCaFile: join(dir, "wrong-ca.pem"), certFile: join(dir, "server.pem"), keyFile: join(dir, "server.key") };
}

/**
 * Starts a server on a free 127.0.0.1 port with scram password auth for TEST_USER (a CREATEDB, non-superuser role).
 * With `tls: true` the server accepts TCP only over TLS (`hostssl`), with a certificate for TLS_HOST_NAME signed by a test CA.
 */
export async function startPostgresServer({ tls = false, settings = {} } = {}) {
  const binDir = findPostgresBinDir();
  const account = serverAccount();
  const root = await mkdtemp(join(tmpdir(), "app-backup-pg-"));
  const dataDir = join(root, "data");
  const socketDir = join(root, "socket");
  await mkdir(socketDir);
  if (account) {
    await chown(root, account.uid, account.gid);
    await chown(socketDir, account.uid, account.gid);
  }
  await chmod(root, 0o755);
  const password = randomBytes(12).toString("hex");
  const stopSync = () => {
    spawnSync(join(binDir, "pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"], { stdio: "ignore", ...(account ?? {}) });
  };
  let started = false;
  // A test process that dies without stop() still takes its server and files with it.
  const onExit = () => {
    if (started) stopSync();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await run(join(binDir, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"], { account });
    let certificates;
    const conf = [
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${socketDir}'`,
      "fsync = off",
      "synchronous_commit = off",
      "full_page_writes = off",
      "max_connections = 40",
      "password_encryption = 'scram-sha-256'",
      "logging_collector = off",
    ];
    if (tls) {
      const certDir = join(root, "certs");
      await mkdir(certDir);
      certificates = await writeCertificates(certDir);
      await chmod(certificates.keyFile, 0o600);
      if (account) await chown(certificates.keyFile, account.uid, account.gid);
      conf.push("ssl = on", `ssl_cert_file = '${certificates.certFile}'`, `ssl_key_file = '${certificates.keyFile}'`);
    }
    for (const [key, value] of Object.entries(settings)) conf.push(`${key} = '${value}'`);
    const hba = ["local all all trust", `${tls ? "hostssl" : "host"} all all 127.0.0.1/32 scram-sha-256`];
    await writeFile(join(dataDir, "pg_hba.conf"), hba.join("\n") + "\n");
    let port;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      await writeFile(join(dataDir, "postgresql.auto.conf"), [...conf, `port = ${port}`].join("\n") + "\n");
      if (account) await chown(join(dataDir, "postgresql.auto.conf"), account.uid, account.gid);
      try {
        process.on("exit", onExit);
        started = true;
        await run(join(binDir, "pg_ctl"), ["-D", dataDir, "-l", join(root, "server.log"), "-w", "-t", "60", "start"], { account });
        break;
      } catch (error) {
        started = false;
        process.off("exit", onExit);
        const log = existsSync(join(root, "server.log")) ? readFileSync(join(root, "server.log"), "utf8") : "";
        if (attempt < 3 && /already in use|could not bind/i.test(log)) continue;
        throw error;
      }
    }
    const server = {
      binDir,
      host: "127.0.0.1",
      port,
      socketDir,
      user: TEST_USER,
      password,
      tls: certificates ? { caFile: certificates.caFile, wrongCaFile: certificates.wrongCaFile, hostName: TLS_HOST_NAME } : undefined,
      /** A pg client as the superuser over the unix socket (setup and inspection only). */
      async adminClient(database = "postgres") {
        const client = new pg.Client({ host: socketDir, port, user: "postgres", database });
        await client.connect();
        return client;
      },
      async adminQuery(sql, database = "postgres") {
        const client = await server.adminClient(database);
        try {
          return await client.query(sql);
        } finally {
          await client.end();
        }
      },
      /** URL connection string for TEST_USER; `params` become query parameters (e.g. `{ sslmode: "require" }`). */
      connectionString(database, params = {}) {
        const query = new URLSearchParams(params).toString();
        return `postgres://${TEST_USER}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}${query ? `?${query}` : ""}`;
      },
      /** A pg client as TEST_USER (plain TCP servers only). */
      async client(database) {
        const client = new pg.Client({ host: "127.0.0.1", port, user: TEST_USER, password, database, ssl: tls ? { rejectUnauthorized: false } : false });
        await client.connect();
        return client;
      },
      /** Creates an empty database owned by TEST_USER. */
      async createDatabase(name) {
        await server.adminQuery(`CREATE DATABASE "${name}" OWNER ${TEST_USER}`);
        return name;
      },
      async dropDatabase(name) {
        await server.adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      },
      /** Runs a client tool (psql, pg_dump, ...) of the same version against a database as TEST_USER over TCP. */
      tool(name, args) {
        return run(join(binDir, name), ["-h", "127.0.0.1", "-p", String(port), "-U", TEST_USER, ...args], {
          env: { PGPASSWORD: password, PGSSLMODE: tls ? "require" : "disable" },
        });
      },
      async stop() {
        if (started) {
          await run(join(binDir, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"], { account }).catch(stopSync);
          started = false;
          process.off("exit", onExit);
        }
        await rm(root, { recursive: true, force: true });
      },
    };
    await server.adminQuery(`CREATE ROLE ${TEST_USER} LOGIN CREATEDB PASSWORD '${password}'`);
    return server;
  } catch (error) {
    if (started) stopSync();
    process.off("exit", onExit);
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}
