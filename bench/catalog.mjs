/**
 * Catalog benchmark: how `list`, `show latest`, `restore --at --dry-run` and
 * `prune --dry-run` scale with the number of backups in a shared container, on
 * a real Azurite. The container holds 10,000 hourly backups of app A with
 * catalog metadata on their manifests, 500 older ones of A without (made before
 * metadata existed) and 2,000 of app B. Each command is a fresh CLI process
 * reaching Azurite through a counting proxy, so every figure comes with the
 * requests it took: listings, manifest reads (GET of a .xml) and the rest.
 * The peer is a raw List Blobs of A's prefix with metadata: the emulator's own
 * cost of the listing any command needs. The first `list` after the upgrade,
 * which reads the older manifests and records their facts once, is timed and
 * checked on its own; the rounds after it are the steady state.
 *
 *   npm run build && node bench/catalog.mjs
 *
 * Environment: BENCH_ROUNDS (default 3); BENCH_CATALOG_SCALE (default 1)
 * multiplies the number of backups, for a quick check of the benchmark itself
 * (the bars hold only at 1). Each command is stopped after 60 s and not run
 * again. Exits 1 if a bar fails.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BlobServiceClient } from "@azure/storage-blob";
import { containerSas, devAccount, startAzurite } from "./lib/azurite.mjs";
import { startCountingProxy } from "./lib/counting-proxy.mjs";
import { CommandTimeout, measureCommand, median, mib, seconds } from "./lib/measure.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(repoRoot, "dist", "cli", "app-backup.mjs");
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const HOUR = 3_600_000;
const CAP_MS = 60_000;
/** The first list after the upgrade reads every older manifest once: it has no bar, only this cap. */
const FIRST_LIST_CAP_MS = 600_000;
const SEED_CONCURRENCY = 64;
const RETENTION_DAYS = 30;
const scale = Number(process.env.BENCH_CATALOG_SCALE ?? 1);
if (!(scale > 0)) {
  console.error(`BENCH_CATALOG_SCALE must be a number above 0 (1 is the benchmark as its bars are set), not ${JSON.stringify(process.env.BENCH_CATALOG_SCALE)}.`);
  process.exit(2);
}
/** The container's backups: new-style ones carry catalog metadata, old-style ones do not. */
const APPS = [
  { app: "A", newStyle: 10_000, oldStyle: 500 },
  { app: "B", newStyle: 2_000, oldStyle: 0 },
].map((spec) => ({ ...spec, newStyle: Math.max(2, Math.round(spec.newStyle * scale)), oldStyle: Math.round(spec.oldStyle * scale) }));
const BARS = {
  listSeconds: 2,
  listOverRawSeconds: 1,
  showSeconds: 1,
  restoreAtSeconds: 1.5,
  pruneSeconds: 3,
  pruneOverRawSeconds: 2,
  peakRssBytes: 200e6,
};
const CONTAINER = "backups";
const log = (message) => console.log(message);

/** The engine's own backup naming, manifest parser and catalog metadata writer, from dist/ once it is known to be built. */
let engine;
async function loadEngine() {
  const modules = ["backup-name.js", "manifest-xml.js", "catalog-metadata.js"].map((file) => import(`../dist/core/format/${file}`));
  engine = Object.assign({}, ...(await Promise.all(modules)));
}

/** Backups are hourly, the newest an hour before the last whole hour, all in the past. */
const newest = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const stampAt = (index) => new Date(newest - index * HOUR);
const nameOf = (app, index) => engine.backupNameFor(app, stampAt(index));

function classifyRequest(method, url) {
  if (method === "GET" && url.searchParams.get("comp") === "list") return "list";
  if (method === "GET" && url.pathname.endsWith(".xml")) return "manifest";
  return "other";
}

/** An app-backup.yml for the app in `dir`, named after its role there (the template or the measured app). */
function writeConfig(dir, role, app, storage) {
  const home = path.join(dir, `home-${role}`);
  const file = path.join(dir, `${role}.yml`);
  writeFileSync(
    file,
    [
      `name: ${app}`,
      `home: ${JSON.stringify(home)}`,
      "backup:",
      `  storage: ${JSON.stringify(storage)}`,
      "  schedule:",
      "    frequencyUnit: Hour",
      "    frequencyInterval: 1",
      `    retentionPeriodInDays: ${RETENTION_DAYS}`,
      "",
    ].join("\n"),
  );
  return { file, home };
}

/** A tiny app's home: a few site files, enough for a real zip and manifest. */
function makeHome(home, app) {
  const site = path.join(home, "site", "wwwroot");
  mkdirSync(path.join(site, "css"), { recursive: true });
  writeFileSync(path.join(site, "index.html"), `<!doctype html><title>${app}</title><link rel="stylesheet" href="css/site.css"><h1>${app}</h1>\n`);
  writeFileSync(path.join(site, "css", "site.css"), "body { font-family: sans-serif; margin: 2rem; }\n");
  writeFileSync(path.join(site, "web.config"), '<?xml version="1.0"?>\n<configuration><system.webServer /></configuration>\n');
  writeFileSync(path.join(site, "app.js"), `console.log(${JSON.stringify(app)});\n`.repeat(40));
}

async function cliOnce(args) {
  const { stdout } = await measureCommand(process.execPath, [cli, ...args], { captureStdout: true, timeoutMs: CAP_MS });
  return JSON.parse(stdout.trim().split("\n").at(-1));
}

/**
 * One real backup of the app with the CLI, into a container of its own, read
 * back as the template of every copy: its zip as is, its manifest and log with
 * the backup's name, times and trigger rewritten per copy.
 */
async function templateOf(app, configFile, container) {
  const { name } = await cliOnce(["backup", "--config", configFile, "--json"]);
  const blobs = {};
  for (const kind of ["zip", "xml", "log"]) blobs[kind] = await container.getBlockBlobClient(`${name}.${kind}`).downloadToBuffer();
  const manifest = engine.parseManifest(blobs.xml.toString("utf8"), `${name}.xml`);
  if (manifest.appName !== app || manifest.zip?.name !== `${name}.zip`) throw new Error(`The template backup ${name} does not describe itself as expected.`);
  return { name, zip: blobs.zip, xml: blobs.xml.toString("utf8"), log: blobs.log.toString("utf8"), manifest };
}

function copyOf(template, name, startedAt) {
  const finishedAt = new Date(startedAt.getTime() + (template.manifest.finishedAt - template.manifest.startedAt));
  const xml = template.xml
    .replaceAll(template.name, name)
    .replace(/<StartedAt>[^<]*<\/StartedAt>/, `<StartedAt>${startedAt.toISOString()}</StartedAt>`)
    .replace(/<FinishedAt>[^<]*<\/FinishedAt>/, `<FinishedAt>${finishedAt.toISOString()}</FinishedAt>`)
    .replace(/<Trigger>[^<]*<\/Trigger>/, "<Trigger>Scheduled</Trigger>");
  const summary = { ...template.manifest, backupName: name, startedAt, finishedAt, trigger: "Scheduled", zip: { ...template.manifest.zip, name: `${name}.zip` } };
  return { xml, log: template.log.replaceAll(template.name, name), metadata: engine.catalogMetadataOf(engine.catalogFactsOf(summary)) };
}

/** The copy's manifest, parsed as the CLI parses it, says what its metadata says. */
function assertCopyIsFaithful(template, name, startedAt) {
  const copy = copyOf(template, name, startedAt);
  const parsed = engine.parseManifest(copy.xml, `${name}.xml`);
  const fromManifest = JSON.stringify(engine.catalogMetadataOf(engine.catalogFactsOf(parsed)));
  if (parsed.backupName !== name || parsed.zip?.name !== `${name}.zip` || fromManifest !== JSON.stringify(copy.metadata)) {
    throw new Error(`A copy's manifest does not match its metadata: ${fromManifest} vs ${JSON.stringify(copy.metadata)}`);
  }
}

/** Runs `task` over every item with at most `concurrency` at once. */
async function eachWithConcurrency(items, concurrency, task) {
  const iterator = items[Symbol.iterator]();
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await task(next.value);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function* copiesToSeed(templates) {
  for (const { app, newStyle, oldStyle } of APPS) {
    for (let index = 0; index < newStyle + oldStyle; index++) yield { template: templates[app], name: nameOf(app, index), at: stampAt(index), withMetadata: index < newStyle };
  }
}

/** Uploads every copy from memory, zip and log before the manifest, as a backup writes them. */
async function seed(container, templates) {
  let copies = 0;
  await eachWithConcurrency(copiesToSeed(templates), SEED_CONCURRENCY, async ({ template, name, at, withMetadata }) => {
    const copy = copyOf(template, name, at);
    await container.getBlockBlobClient(`${name}.zip`).upload(template.zip, template.zip.length);
    await container.getBlockBlobClient(`${name}.log`).upload(Buffer.from(copy.log), Buffer.byteLength(copy.log));
    await container.getBlockBlobClient(`${name}.xml`).upload(Buffer.from(copy.xml), Buffer.byteLength(copy.xml), withMetadata ? { metadata: copy.metadata } : {});
    if (++copies % 2500 === 0) log(`  seeded ${copies} backups ...`);
  });
  return copies;
}

/** List Blobs of a prefix with metadata, page after page, as plain HTTP: what any listing costs the emulator. */
async function rawListing(containerUrl, sas, prefix) {
  const started = performance.now();
  let marker = "";
  let blobs = 0;
  do {
    const query = `restype=container&comp=list&prefix=${encodeURIComponent(prefix)}&include=metadata&maxresults=5000${marker ? `&marker=${encodeURIComponent(marker)}` : ""}`;
    const response = await fetch(`${containerUrl}?${query}&${sas}`);
    const body = await response.text();
    if (!response.ok) throw new Error(`List Blobs answered ${response.status}: ${body.slice(0, 200)}`);
    blobs += body.split("<Blob>").length - 1;
    marker = body.match(/<NextMarker>([^<]*)<\/NextMarker>/)?.[1] ?? "";
  } while (marker);
  return { wallMs: performance.now() - started, blobs };
}

/**
 * The commands measured for one app, each with what its output must say
 * (`verify` gives whether it is right and what it says): a command that
 * answers fast but wrongly has not met its bar.
 */
function commandsOf({ app, newStyle, oldStyle }, configFile) {
  const total = newStyle + oldStyle;
  const middle = Math.floor(newStyle / 2);
  const at = new Date(stampAt(middle).getTime() + 30 * 60_000);
  /** Scheduled backups older than the retention period go; judged when the output is read, a boundary hour may have passed. */
  const pastRetention = () => Array.from({ length: total }, (_, i) => stampAt(i)).filter((s) => Date.now() - s.getTime() > RETENTION_DAYS * 24 * HOUR).length;
  return [
    {
      id: "list",
      label: "list --json",
      args: ["list", "--config", configFile, "--json"],
      verify: (json) => {
        const listed = Array.isArray(json) ? json : [];
        const right = listed.length === total && listed.every((b) => b.app === app && b.status === "Succeeded");
        return [right, right ? `${total} backups listed` : `expected ${total} Succeeded backups of ${app}, got ${Array.isArray(json) ? `${listed.length} entries` : "no JSON array"}`];
      },
    },
    {
      id: "show",
      label: "show latest --json",
      args: ["show", "latest", "--config", configFile, "--json"],
      expected: nameOf(app, 0),
      verify: (json) => [json?.name === nameOf(app, 0), `showed ${json?.name}${json?.name === nameOf(app, 0) ? "" : `, not ${nameOf(app, 0)}`}`],
    },
    {
      id: "restore",
      label: `restore --at ${at.toISOString()} --dry-run --json`,
      args: ["restore", "--config", configFile, "--at", at.toISOString(), "--dry-run", "--json"],
      expected: nameOf(app, middle),
      verify: (json) => [json?.backup === nameOf(app, middle) && json?.dryRun === true, `chose ${json?.backup}${json?.backup === nameOf(app, middle) ? "" : `, not ${nameOf(app, middle)}`}`],
    },
    {
      id: "prune",
      label: "prune --dry-run --json",
      args: ["prune", "--config", configFile, "--dry-run", "--json"],
      verify: (json) => {
        const expected = pastRetention();
        const deleted = json?.deleted?.length;
        const right = json?.dryRun === true && json?.backups?.length === total && Math.abs(deleted - expected) <= 1;
        return [right, `${json?.backups?.length} decided, ${deleted} would go${right ? "" : ` (expected ${total} decided, ${expected} past retention)`}`];
      },
    },
  ];
}

/** One run of a CLI command: its figures, its requests by kind, and whether its output is right. */
async function runCommand(command, proxy, capMs = CAP_MS) {
  proxy.take();
  try {
    const result = await measureCommand(process.execPath, [cli, ...command.args], { captureStdout: true, timeoutMs: capMs });
    const requests = proxy.take();
    let json;
    try {
      json = JSON.parse(result.stdout.trim().split("\n").at(-1));
    } catch {
      json = undefined;
    }
    const [right, note] = command.verify(json);
    return { ...result, requests, note, right };
  } catch (error) {
    const requests = proxy.take();
    const said = error.stderr?.split("\n").find((line) => /^error/i.test(line)) ?? error.message.split("\n")[0];
    const why = error instanceof CommandTimeout ? `> ${capMs / 1000} s (stopped)` : `failed (exit ${error.exitCode}): ${said}`;
    return { failed: why, timedOut: error instanceof CommandTimeout, requests };
  }
}

/** Alternating rounds over the raw listing and the four commands; a command that fails or passes the cap is not run again. */
async function measureApp(spec, configFile, proxy, containerUrl, sas) {
  const commands = commandsOf(spec, configFile);
  const runs = { raw: [], ...Object.fromEntries(commands.map((c) => [c.id, []])) };
  const given = new Set();
  const expectedBlobs = 3 * (spec.newStyle + spec.oldStyle);
  // The first listing after the upgrade reads the older manifests once and
  // records their facts; it is measured on its own and every later run is a
  // steady one, as a user sees them after that first run.
  let firstList;
  if (spec.oldStyle > 0) {
    firstList = await runCommand(commands.find((c) => c.id === "list"), proxy, FIRST_LIST_CAP_MS);
    const counts = firstList.requests.counts;
    const figures = firstList.failed ? firstList.failed : `${seconds(firstList.wallMs)}  peak RSS ${mib(firstList.peakRssBytes)}  ${firstList.note}`;
    log(`  ${spec.app} first list after the upgrade (records the facts of ${spec.oldStyle} older manifests) ${figures}  requests: ${counts.list ?? 0} list, ${counts.manifest ?? 0} manifest, ${counts.other ?? 0} other`);
  }
  for (let round = 0; round < rounds; round++) {
    const order = ["raw", ...commands.map((c) => c.id)];
    if (round % 2 === 1) order.reverse();
    for (const id of order) {
      if (given.has(id)) continue;
      let run;
      if (id === "raw") {
        proxy.take();
        const raw = await rawListing(containerUrl, sas, `${spec.app}_`);
        run = { ...raw, requests: proxy.take(), note: `${raw.blobs} blobs`, right: raw.blobs === expectedBlobs };
      } else {
        run = await runCommand(commands.find((c) => c.id === id), proxy);
        if (run.failed) given.add(id);
      }
      runs[id].push(run);
      const counts = run.requests.counts;
      const figures = run.failed ? run.failed : `${seconds(run.wallMs)}${run.peakRssBytes ? `  peak RSS ${mib(run.peakRssBytes)}` : ""}  ${run.note}`;
      log(`  ${spec.app} round ${round + 1} ${id.padEnd(7)} ${figures}  requests: ${counts.list ?? 0} list, ${counts.manifest ?? 0} manifest, ${counts.other ?? 0} other`);
    }
  }
  return { commands, runs, firstList };
}

/** The backups whose manifest a run's requests read (GETs of `{name}.xml`), by name. */
function backupsWhoseManifestWasRead(requests) {
  return [...(requests.paths.manifest ?? [])].map((p) => decodeURIComponent(p.split("/").pop()).replace(/\.xml$/, ""));
}

/** Median figures of a command's runs, or its failure. */
function summaryOf(runs) {
  const failure = runs.find((r) => r.failed);
  const last = runs.at(-1);
  const manifestPaths = backupsWhoseManifestWasRead(last.requests);
  return {
    failed: failure?.failed,
    wallMs: failure ? undefined : median(runs.map((r) => r.wallMs)),
    peakRssBytes: failure || runs[0].peakRssBytes === undefined ? undefined : median(runs.map((r) => r.peakRssBytes)),
    counts: last.requests.counts,
    manifestsRead: manifestPaths,
    note: failure ? failure.failed : last.note,
    right: !failure && runs.every((r) => r.right),
  };
}

function printTable(rows) {
  const header = ["app", "command", "median wall", "peak RSS", "list", "manifest GETs", "manifests", "other", "result"];
  const cells = rows.map((r) => [
    r.app,
    r.label,
    r.summary.wallMs === undefined ? r.summary.failed.split(":")[0] : seconds(r.summary.wallMs),
    r.summary.peakRssBytes === undefined ? "-" : mib(r.summary.peakRssBytes),
    String(r.summary.counts.list ?? 0),
    String(r.summary.counts.manifest ?? 0),
    String(r.summary.manifestsRead.length),
    String(r.summary.counts.other ?? 0),
    r.summary.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (values) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]))).join("  ");
  log(line(header));
  for (const c of cells) log(line(c));
}

const verdict = (pass) => (pass ? "PASS" : "FAIL");

function barLines(spec, measured) {
  const s = Object.fromEntries(Object.entries(measured.runs).map(([id, runs]) => [id, summaryOf(runs)]));
  const raw = s.raw.wallMs / 1000;
  const oldNames = new Set(Array.from({ length: spec.oldStyle }, (_, i) => nameOf(spec.app, spec.newStyle + i)));
  const timeLine = (id, text, barSeconds, barText) => {
    const c = s[id];
    if (c.wallMs === undefined) return `FAIL ${text}: ${c.failed}, bar ${barText}`;
    const t = c.wallMs / 1000;
    return `${verdict(t <= barSeconds && c.right)} ${text}: median ${seconds(c.wallMs)} (raw listing ${seconds(s.raw.wallMs)}; ${c.note}), bar ${barText}`;
  };
  const lines = [
    timeLine("list", "list --json", Math.max(BARS.listSeconds, raw + BARS.listOverRawSeconds), `<= ${BARS.listSeconds} s (or <= raw + ${BARS.listOverRawSeconds} s when raw > 1 s)`),
    timeLine("show", "show latest", BARS.showSeconds, `<= ${BARS.showSeconds} s`),
    timeLine("restore", "restore --at --dry-run", BARS.restoreAtSeconds, `<= ${BARS.restoreAtSeconds} s`),
    timeLine("prune", "prune --dry-run", Math.max(BARS.pruneSeconds, raw + BARS.pruneOverRawSeconds), `<= ${BARS.pruneSeconds} s (or <= raw + ${BARS.pruneOverRawSeconds} s)`),
  ];
  for (const command of measured.commands) {
    const c = s[command.id];
    lines.push(
      c.peakRssBytes === undefined
        ? `FAIL peak RSS of ${command.id}: not measured (${c.failed}), bar <= ${BARS.peakRssBytes / 1e6} MB`
        : `${verdict(c.peakRssBytes <= BARS.peakRssBytes)} peak RSS of ${command.id}: median ${(c.peakRssBytes / 1e6).toFixed(0)} MB, bar <= ${BARS.peakRssBytes / 1e6} MB`,
    );
  }
  if (measured.firstList) {
    const first = measured.firstList;
    const read = backupsWhoseManifestWasRead(first.requests);
    const newStyleRead = read.filter((name) => !oldNames.has(name));
    const pass = !first.failed && first.right && newStyleRead.length === 0 && read.length === spec.oldStyle;
    const what = first.failed ? first.failed : `${seconds(first.wallMs)}, ${first.note}, ${read.length} manifests read, ${newStyleRead.length} of them new-style`;
    lines.push(`${verdict(pass)} first list after the upgrade: ${what}; bar: right, and reads exactly the ${spec.oldStyle} older manifests (timed, no bar: once per container)`);
  }
  // Listing commands may read the manifests that carry no metadata, never one that does; a single backup's commands read only their own.
  for (const command of measured.commands) {
    const c = s[command.id];
    const read = c.manifestsRead;
    const newStyleRead = read.filter((name) => !oldNames.has(name));
    const single = command.id === "show" || command.id === "restore";
    const pass = !c.failed && (single ? read.length === 1 && read[0] === command.expected : newStyleRead.length === 0);
    const rule = single ? "bar: 1, its own" : `bar: 0 new-style (at most the ${spec.oldStyle} old-style ones)`;
    const what = `manifests read: ${read.length} in ${c.counts.manifest ?? 0} GETs, ${newStyleRead.length} of them new-style`;
    lines.push(`${verdict(pass)} manifest reads of ${command.id}: ${c.failed ? `${c.failed}; ` : ""}${what}, ${rule}`);
  }
  return { lines, summaries: s };
}

async function main() {
  if (!existsSync(cli) || !existsSync(path.join(repoRoot, "dist", "core", "format", "catalog-metadata.js"))) {
    console.error("Build first: npm run build");
    process.exit(2);
  }
  await loadEngine();
  const workDir = mkdtempSync(path.join(os.tmpdir(), "app-backup-bench-catalog-"));
  const azurite = await startAzurite();
  let proxy;
  const stopAll = async () => {
    await proxy?.stop();
    await azurite.stop();
    rmSync(workDir, { recursive: true, force: true });
  };
  const onSignal = (signal) => {
    stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    proxy = await startCountingProxy(azurite.port, classifyRequest);
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const templateContainer = service.getContainerClient("template");
    const container = service.getContainerClient(CONTAINER);
    await templateContainer.create();
    await container.create();
    const sas = containerSas(CONTAINER);
    // The CLI reaches Azurite only through the proxy, so that its every request is counted.
    const proxiedContainerUrl = `http://127.0.0.1:${proxy.port}/${devAccount.name}/${CONTAINER}`;
    log(`Azurite on 127.0.0.1:${azurite.port}, counting proxy on 127.0.0.1:${proxy.port}; node ${process.version}; ${rounds} rounds, alternating; each command capped at ${CAP_MS / 1000} s.`);

    const templates = {};
    const configs = {};
    for (const { app } of APPS) {
      // The template is made under the app's own name, so its zip's meta and its manifest are the app's.
      const templateConfig = writeConfig(workDir, `${app}-template`, app, `${templateContainer.url}?${containerSas("template")}`);
      makeHome(templateConfig.home, app);
      templates[app] = await templateOf(app, templateConfig.file, templateContainer);
      assertCopyIsFaithful(templates[app], nameOf(app, 0), stampAt(0));
      configs[app] = writeConfig(workDir, app, app, `${proxiedContainerUrl}?${sas}`);
      makeHome(configs[app].home, app);
    }
    log(`Template backups: ${Object.values(templates).map((t) => `${t.name} (zip ${t.zip.length} B, manifest ${t.xml.length} B)`).join(", ")}.`);

    const seedStarted = performance.now();
    const copies = await seed(container, templates);
    const seedMs = performance.now() - seedStarted;
    log(`Seeded ${copies} backups (${3 * copies} blobs) in ${seconds(seedMs)} (${Math.round((3 * copies) / (seedMs / 1000))} uploads/s at concurrency ${SEED_CONCURRENCY}): ${APPS.map((a) => `${a.app}: ${a.newStyle} with metadata + ${a.oldStyle} without`).join("; ")}.`);
    for (const { app } of APPS) await cliOnce(["configure", "--config", configs[app].file, "--json"]);
    log(`Stored each app's schedule (hourly, retention ${RETENTION_DAYS} days) with \`configure\`.`);

    const rows = [];
    const verdicts = {};
    const summaries = {};
    for (const spec of APPS) {
      log(`\nApp ${spec.app}: ${spec.newStyle} backups with metadata + ${spec.oldStyle} without, among ${copies} in the container.`);
      const measured = await measureApp(spec, configs[spec.app].file, proxy, proxiedContainerUrl, sas);
      ({ lines: verdicts[spec.app], summaries: summaries[spec.app] } = barLines(spec, measured));
      rows.push({ app: spec.app, label: "raw List Blobs of prefix", summary: summaries[spec.app].raw });
      for (const command of measured.commands) rows.push({ app: spec.app, label: command.label.replace(/--at \S+/, "--at T"), summary: summaries[spec.app][command.id] });
    }

    log("");
    printTable(rows);
    const [large, small] = APPS;
    const growth = ["raw", "list", "show", "restore", "prune"].map((id) => {
      const a = summaries[large.app][id];
      const b = summaries[small.app][id];
      return `${id} ${a.wallMs && b.wallMs ? `${(a.wallMs / b.wallMs).toFixed(2)}x` : "n/a"}`;
    });
    log(`\nGrowth from ${small.newStyle + small.oldStyle} (${small.app}) to ${large.newStyle + large.oldStyle} (${large.app}) backups, median wall time: ${growth.join(", ")}.`);
    // The bars are set for the large app; the small one shows how the figures grow.
    const lines = verdicts[large.app];
    log(`Bars, for app ${large.app} (${large.newStyle} + ${large.oldStyle} old-style backups):`);
    for (const line of lines) log(line);
    if (lines.some((line) => line.startsWith("FAIL"))) process.exitCode = 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
  }
}

await main();
