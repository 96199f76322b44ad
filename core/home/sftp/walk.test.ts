import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSshd, type TestSshd } from "../../../test/support/sshd.js";
import { AppBackupError } from "../../errors.js";
import { PathFilter } from "../../plan/filter.js";
import { visitHome, type WalkVisitor } from "../../plan/walk.js";
import { parseSftpAddress } from "./address.js";
import { openSftpHome, type SftpSession } from "./connection.js";
import { visitSftpHome } from "./walk.js";

const runsAsRoot = process.getuid?.() === 0;
const filterLines = ["cache", "**/*.log", "**/node_modules"];

let sshd: TestSshd;
let session: SftpSession;
let folder: string;
let home: string;

beforeAll(async () => {
  // As root, the server reads files without root's override, so that mode 000 denies it as it denies any user.
  sshd = await startSshd({ fileModesBindRoot: true });
  folder = mkdtempSync(path.join(os.tmpdir(), "sftp-walk-"));
  home = path.join(folder, "home");
  buildTree(home);
  const knownHosts = path.join(folder, "known_hosts");
  writeFileSync(knownHosts, `${sshd.hostKeyLine}\n`);
  session = await openSftpHome({ address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${home}`), privateKeyFile: sshd.clientKeyPath, knownHosts });
});

afterAll(async () => {
  await session?.close();
  await sshd?.stop();
  if (folder) {
    chmodSync(path.join(home, "locked"), 0o755);
    rmSync(folder, { recursive: true, force: true });
  }
});

function buildTree(root: string): void {
  const file = (relative: string, content = relative) => {
    mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    writeFileSync(path.join(root, relative), content);
  };
  file("index.html", "<h1>hi</h1>");
  file("site/wwwroot/app.js");
  file("site/wwwroot/deep/er/and/deeper/leaf.txt");
  file("site/wwwroot/debug.log");
  file("site/node_modules/pkg/index.js");
  file("cache/blob.bin");
  file("Zebra.txt");
  file("zeta.txt");
  file("café/menu.txt");
  file("日本語.txt");
  file("emoji-😀.txt");
  file("b dir/with space.txt");
  mkdirSync(path.join(root, "empty"));
  for (let index = 0; index < 40; index++) file(`many/${String(index).padStart(2, "0")}/f${index}.txt`, "x".repeat(index));
  symlinkSync("/etc", path.join(root, "link-outside"));
  symlinkSync("does/not/exist", path.join(root, "dangling"));
  symlinkSync("../index.html", path.join(root, "site/up-link"));
  execFileSync("mkfifo", [path.join(root, "a-fifo")]);
  file("locked/secret.txt");
  chmodSync(path.join(root, "site/wwwroot/app.js"), 0o600);
  chmodSync(path.join(root, "site/wwwroot/deep"), 0o750);
  utimesSync(path.join(root, "zeta.txt"), new Date("2020-02-02T02:02:02Z"), new Date("2020-02-02T02:02:02Z"));
  chmodSync(path.join(root, "locked"), 0o000);
}

type Event = [string, ...unknown[]];

function recorder(events: Event[]): WalkVisitor {
  return {
    // The SFTP protocol carries mtimes to the second.
    entry: (entry) => events.push(["entry", { ...entry, mtime: Math.floor(entry.mtime.getTime() / 1000) }]),
    unreadable: (relative, reason) => events.push(["unreadable", relative, reason]),
    ignored: (relative, reason) => events.push(["ignored", relative, reason]),
  };
}

/** What visitHome reports of the home, as the SFTP server's user sees it. */
function localWalk(): { events: Event[]; lineMatches: unknown } {
  const events: Event[] = [];
  const filter = new PathFilter(filterLines, "test");
  visitHome(home, filter, recorder(events));
  if (!runsAsRoot) return { events, lineMatches: filter.lineMatches() };
  // Root reads the mode-000 folder locally, where the server's user cannot: what that user sees
  // is the folder, then the folder unreadable, and nothing of what it holds.
  const seen = events.filter(([, entry]) => !(entry as { path?: string }).path?.startsWith("locked/"));
  const at = seen.findIndex(([, entry]) => (entry as { path?: string }).path === "locked");
  seen.splice(at + 1, 0, ["unreadable", "locked", "permission denied (EACCES)"]);
  return { events: seen, lineMatches: filter.lineMatches() };
}

describe("visitSftpHome", () => {
  it(`reports exactly what visitHome reports, in the same order (an unreadable mode-000 folder included${runsAsRoot ? "; as root, the server runs without CAP_DAC_OVERRIDE so that the mode denies it" : ""})`, async () => {
    const events: Event[] = [];
    const filter = new PathFilter(filterLines, "test");
    await visitSftpHome(session, home, filter, recorder(events));
    const expected = localWalk();
    expect(events).toEqual(expected.events);
    expect(filter.lineMatches()).toEqual(expected.lineMatches);

    // What the comparison rests on, said plainly.
    const paths = events.filter(([kind]) => kind === "entry").map(([, entry]) => (entry as { path: string }).path);
    expect(paths).toContain("many/39/f39.txt");
    expect(paths).not.toContain("cache");
    expect(paths).not.toContain("site/wwwroot/debug.log");
    expect(paths.some((relative) => relative.includes("node_modules"))).toBe(false);
    expect(paths.indexOf("Zebra.txt")).toBeLessThan(paths.indexOf("zeta.txt"));
    expect(events).toContainEqual(["unreadable", "locked", "permission denied (EACCES)"]);
    expect(events).toContainEqual(["ignored", "a-fifo", expect.stringContaining("FIFO")]);
    expect(events).toContainEqual(["entry", expect.objectContaining({ path: "dangling", kind: "symlink", linkTarget: "does/not/exist", mode: 0o120777 })]);
    expect(events).toContainEqual(["entry", expect.objectContaining({ path: "zeta.txt", mtime: Date.parse("2020-02-02T02:02:02Z") / 1000 })]);
    expect(events).toContainEqual(["entry", expect.objectContaining({ path: "site/wwwroot/app.js", mode: 0o100600, size: "site/wwwroot/app.js".length })]);
  });

  it("keeps several folder listings in flight, a bounded number, and still reports in order", async () => {
    let inFlight = 0;
    let most = 0;
    const counting: SftpSession = {
      ...session,
      closed: false,
      supports: (extension) => session.supports(extension),
      lost: (doing) => session.lost(doing),
      close: () => session.close(),
      request: (call, doing) => {
        if (!doing?.startsWith("listing ")) return session.request(call, doing);
        most = Math.max(most, ++inFlight);
        return session.request(call, doing).finally(() => inFlight--);
      },
    };
    const events: Event[] = [];
    await visitSftpHome(counting, home, new PathFilter(filterLines, "test"), recorder(events));
    expect(events).toEqual(localWalk().events);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(9);
  });

  it("says when the home does not exist on the server", async () => {
    const error = await visitSftpHome(session, path.join(folder, "nowhere"), new PathFilter([], "test"), recorder([])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppBackupError);
    expect((error as AppBackupError).code).toBe("HOME_MISSING");
    expect((error as AppBackupError).message).toContain(`${path.join(folder, "nowhere")} does not exist on the server`);
  });

  it("refuses a home it cannot list rather than reporting it empty", async () => {
    const error = await visitSftpHome(session, path.join(home, "locked"), new PathFilter([], "test"), recorder([])).catch((caught: unknown) => caught);
    expect((error as AppBackupError).code).toBe("HOME_MISSING");
    expect((error as AppBackupError).message).toContain("permission denied");
  });
});
