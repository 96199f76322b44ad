import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AppBackupError } from "../../core/errors.js";
import { KuduClient } from "../../core/home/app-service/kudu-client.js";
import { zipStreamEntries } from "../../core/home/app-service/zip-stream-entries.js";
import { freePort } from "../support/free-port.mjs";
import { type KuduStandIn, startKuduStandIn } from "../support/kudu-stand-in.js";

const password = "Pw-7f3a9c1e5b2d4f60";
const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-token-for-kudu.c2ln";
const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2000 };

async function failure(promise: Promise<unknown>): Promise<AppBackupError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppBackupError);
    return error as AppBackupError;
  }
  throw new Error("expected a failure");
}

async function text(stream: Readable): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += chunk;
  return out;
}

describe("KuduClient against the Kudu stand-in", () => {
  let root: string;
  let standIn: KuduStandIn;
  let kudu: KuduClient;
  const mtime = new Date("2026-05-01T10:20:30Z");
  const big = Buffer.alloc(2 * 1024 * 1024 + 5);

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "kudu-client-"));
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) % 256;
  });

  beforeEach(async () => {
    await standIn?.stop();
    const home = path.join(root, `home-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const wwwroot = path.join(home, "site", "wwwroot");
    await mkdir(path.join(wwwroot, "css"), { recursive: true });
    await mkdir(path.join(wwwroot, "uploads", "empty"), { recursive: true });
    await mkdir(path.join(home, "LogFiles"), { recursive: true });
    await writeFile(path.join(wwwroot, "index.html"), "<h1>contoso</h1>\n");
    await writeFile(path.join(wwwroot, "css", "site.css"), "body{}\n");
    await writeFile(path.join(wwwroot, "big.bin"), big);
    await writeFile(path.join(wwwroot, "empty.txt"), "");
    await writeFile(path.join(home, "LogFiles", "app.log"), "started\n");
    for (const name of ["index.html", "css/site.css", "big.bin", "empty.txt"]) await utimes(path.join(wwwroot, name), mtime, mtime);
    standIn = await startKuduStandIn({ home, credentials: { user: "$contoso", password }, token });
    kudu = new KuduClient({ scmUrl: standIn.scmUrl, auth: { kind: "basic", user: "$contoso", password }, retry: fast });
  });

  afterAll(async () => {
    await standIn?.stop();
    await rm(root, { recursive: true, force: true });
  });

  describe("downloadZip", () => {
    it("streams site/wwwroot as a zip that unzip accepts, with Kudu's .NET layout", async () => {
      const zipPath = path.join(root, "wwwroot.zip");
      await pipeline(await kudu.downloadZip("site/wwwroot"), createWriteStream(zipPath));
      const check = spawnSync("unzip", ["-t", zipPath], { encoding: "utf8" });
      expect(check.stdout).toContain("No errors detected");
      const zip = await readFile(zipPath);
      // The first file's local header: data descriptor flag, CRC and sizes left zero.
      const firstFile = zip.indexOf(Buffer.from("PK\x03\x04", "latin1"), zip.indexOf("big.bin") - 30);
      expect(zip.readUInt16LE(firstFile + 6) & 0x0008).toBe(0x0008);
      expect(zip.readUInt32LE(firstFile + 18)).toBe(0);
      expect(standIn.requests.at(-1)).toMatchObject({ server: "scm", method: "GET", path: "/api/zip/site/wwwroot/", status: 200 });
    });

    it("is read entry by entry as it arrives: names, kinds, content, sizes and mtimes", async () => {
      const seen = new Map<string, { kind: string; size: number | undefined; mtime: Date; sha256: string }>();
      for await (const entry of zipStreamEntries(await kudu.downloadZip("site/wwwroot/"))) {
        const hash = createHash("sha256");
        for await (const chunk of entry.content) hash.update(chunk as Buffer);
        seen.set(entry.name, { kind: entry.kind, size: entry.size, mtime: entry.mtime, sha256: hash.digest("hex") });
      }
      expect([...seen.keys()].sort()).toEqual(["big.bin", "css/site.css", "empty.txt", "index.html", "uploads/empty"]);
      expect(seen.get("big.bin")).toMatchObject({ kind: "file", size: big.length, mtime, sha256: createHash("sha256").update(big).digest("hex") });
      expect(seen.get("empty.txt")).toMatchObject({ kind: "file", size: 0 });
      expect(seen.get("uploads/empty")!.kind).toBe("directory");
    });

    it("zips the whole home with an empty path", async () => {
      const names: string[] = [];
      for await (const entry of zipStreamEntries(await kudu.downloadZip(""))) names.push(entry.name);
      expect(names).toEqual(expect.arrayContaining(["LogFiles/app.log", "site/wwwroot/index.html", "site/wwwroot/uploads/empty"]));
      expect(standIn.requests.at(-1)!.path).toBe("/api/zip/");
    });

    it("serves site/wwwroot from its own folder when given one", async () => {
      const wwwroot = await mkdtemp(path.join(root, "wwwroot-"));
      await writeFile(path.join(wwwroot, "only.txt"), "only");
      const separate = await startKuduStandIn({ wwwroot, credentials: { user: "$contoso", password } });
      try {
        const client = new KuduClient({ scmUrl: separate.scmUrl, auth: { kind: "basic", user: "$contoso", password }, retry: fast });
        const names: string[] = [];
        for await (const entry of zipStreamEntries(await client.downloadZip(""))) names.push(entry.name);
        expect(names).toEqual(["site/wwwroot/only.txt"]);
        await client.putFile("site/wwwroot/added.txt", "added");
        expect(await readFile(path.join(wwwroot, "added.txt"), "utf8")).toBe("added");
      } finally {
        await separate.stop();
      }
    });

    it("says a missing folder does not exist, and a file is not a folder", async () => {
      const missing = await failure(kudu.downloadZip("site/nothing"));
      expect(missing.code).toBe("HOME_MISSING");
      expect(missing.message).toContain("/site/nothing/ does not exist");
      const file = await failure(kudu.downloadZip("site/wwwroot/index.html"));
      expect(file.message).toContain("is a file, not a folder");
    });

    it("fails the stream with a clear error when the connection is cut mid-zip", async () => {
      standIn.cutZipAfter(3000);
      const read = (async () => {
        for await (const entry of zipStreamEntries(await kudu.downloadZip("site/wwwroot"))) for await (const _ of entry.content);
      })();
      const error = await failure(read);
      expect(error.code).toBe("HOME_UNREACHABLE");
      expect(error.message).toBe(`The download of the zip of /site/wwwroot/ from Kudu at ${new URL(standIn.scmUrl).host} was cut off after 3000 bytes.`);
    });
  });

  describe("sign-in", () => {
    it("is refused with a wrong password, which never appears in the error", async () => {
      const wrong = new KuduClient({ scmUrl: standIn.scmUrl, auth: { kind: "basic", user: "$contoso", password: "Wrong-Password-123" }, retry: fast });
      const error = await failure(wrong.listFolder("site/wwwroot"));
      expect(error.code).toBe("HOME_REFUSED");
      expect(error.message).toContain("refused the credentials (401)");
      expect(error.hint).toContain("basic auth publishing credentials");
      expect(error.describe()).not.toContain("Wrong-Password-123");
      expect(error.describe()).not.toContain(password);
    });

    it("signs in with an Entra ID token, asked for on each request", async () => {
      let asked = 0;
      const withToken = new KuduClient({ scmUrl: standIn.scmUrl, auth: { kind: "token", getToken: async () => (asked++, token) }, retry: fast });
      expect((await withToken.listFolder("site/wwwroot")).map((e) => e.name)).toContain("index.html");
      await withToken.listFolder("site");
      expect(asked).toBe(2);
      const signedOut = new KuduClient({
        scmUrl: standIn.scmUrl,
        auth: { kind: "token", getToken: async () => Promise.reject(new Error("CredentialUnavailableError: Please run 'az login'")) },
        retry: fast,
      });
      const noToken = await failure(signedOut.listFolder("site"));
      expect(noToken.code).toBe("HOME_REFUSED");
      expect(noToken.message).toContain("az login");
      const refused = new KuduClient({ scmUrl: standIn.scmUrl, auth: { kind: "token", getToken: async () => "expired-token-value" }, retry: fast });
      const error = await failure(refused.listFolder("site"));
      expect(error.hint).toContain("https://management.azure.com/.default");
      expect(error.describe()).not.toContain("expired-token-value");
    });
  });

  describe("VFS", () => {
    it("lists a folder with kinds, sizes and mtimes", async () => {
      const entries = await kudu.listFolder("site/wwwroot");
      const byName = new Map(entries.map((e) => [e.name, e]));
      expect(byName.get("css")).toMatchObject({ kind: "directory", size: 0, path: "site/wwwroot/css" });
      expect(byName.get("big.bin")).toMatchObject({ kind: "file", size: big.length, path: "site/wwwroot/big.bin" });
      expect(byName.get("index.html")!.mtime.getTime()).toBe(mtime.getTime());
    });

    it("lists the home's root without Kudu's shortcuts out of it", async () => {
      expect((await kudu.listFolder("")).map((e) => e.name).sort()).toEqual(["LogFiles", "site"]);
      const raw = await fetch(new URL("api/vfs/", standIn.scmUrl), { headers: { authorization: `Basic ${Buffer.from(`$contoso:${password}`).toString("base64")}` } });
      expect(((await raw.json()) as Array<{ name: string; mime: string }>).filter((e) => e.mime === "inode/shortcut").map((e) => e.name)).toEqual(["SystemDrive", "LocalSiteRoot"]);
    });

    it("reads a file with its ETag, and replaces it only with If-Match", async () => {
      const read = await kudu.readFile("site/wwwroot/index.html");
      expect(await text(read.content)).toBe("<h1>contoso</h1>\n");
      expect(read.etag).toMatch(/^"[0-9a-f]{16}"$/);

      const without = await failure(kudu.putFile("site/wwwroot/index.html", "changed"));
      expect(without.message).toContain("(412)");
      expect(await readFile(path.join(standIn.wwwroot, "index.html"), "utf8")).toBe("<h1>contoso</h1>\n");

      const replaced = await kudu.putFile("site/wwwroot/index.html", "<h1>v2</h1>", { ifMatch: read.etag });
      expect(replaced.created).toBe(false);
      const stale = await failure(kudu.putFile("site/wwwroot/index.html", "v3", { ifMatch: read.etag }));
      expect(stale.message).toContain("changed since it was read");
      await kudu.putFile("site/wwwroot/index.html", "<h1>v3</h1>", { ifMatch: "*" });
      expect(await readFile(path.join(standIn.wwwroot, "index.html"), "utf8")).toBe("<h1>v3</h1>");
    });

    it("writes a new file under missing folders, streamed", async () => {
      const result = await kudu.putFile("site/wwwroot/a/b/c.bin", () => Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
      expect(result.created).toBe(true);
      expect((await readFile(path.join(standIn.wwwroot, "a", "b", "c.bin"))).equals(big)).toBe(true);
    });

    it("makes folders, existing ones included, and says when a file is in the way", async () => {
      await kudu.makeFolder("site/wwwroot/new/deep");
      await kudu.makeFolder("site/wwwroot/new/deep");
      expect((await stat(path.join(standIn.wwwroot, "new", "deep"))).isDirectory()).toBe(true);
      const error = await failure(kudu.makeFolder("site/wwwroot/index.html"));
      expect(error.message).toContain("a file is in its place");
    });

    it("deletes files, and folders with their content", async () => {
      await kudu.deleteFile("site/wwwroot/css/site.css");
      expect(await readdir(path.join(standIn.wwwroot, "css"))).toEqual([]);
      await kudu.putFile("site/wwwroot/css/again.css", "x");
      const notEmpty = await failure(kudu.deleteFolder("site/wwwroot/css", { recursive: false }));
      expect(notEmpty.message).toContain("(409)");
      await kudu.deleteFolder("site/wwwroot/css");
      await expect(stat(path.join(standIn.wwwroot, "css"))).rejects.toThrow();
      expect(standIn.requests.at(-1)).toMatchObject({ method: "DELETE", path: "/api/vfs/site/wwwroot/css/?recursive=true", status: 200 });
      expect((await failure(kudu.deleteFile("site/wwwroot/css/gone.css"))).code).toBe("HOME_MISSING");
    });

    it("empties a folder depth-first where Kudu ignores recursive", async () => {
      const older = await startKuduStandIn({ home: standIn.home, credentials: { user: "$contoso", password }, recursiveDelete: false });
      try {
        const client = new KuduClient({ scmUrl: older.scmUrl, auth: { kind: "basic", user: "$contoso", password }, retry: fast });
        await client.deleteFolder("site/wwwroot/uploads");
        await client.deleteFolder("site/wwwroot/css");
        expect((await readdir(standIn.wwwroot)).sort()).toEqual(["big.bin", "empty.txt", "index.html"]);
        expect(older.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toContain("DELETE /api/vfs/site/wwwroot/css/site.css 200");
      } finally {
        await older.stop();
      }
    });

    it("refuses paths that leave the home before sending anything", async () => {
      const before = standIn.requests.length;
      expect((await failure(kudu.readFile("site/../../etc/passwd"))).code).toBe("USAGE");
      expect(standIn.requests.length).toBe(before);
    });
  });

  describe("uploadZip", () => {
    it("extracts into the folder, adding and overwriting, deleting nothing, with the entries' times", async () => {
      const source = path.join(root, `upload-${Date.now()}`);
      await mkdir(path.join(source, "img"), { recursive: true });
      await writeFile(path.join(source, "index.html"), "<h1>restored</h1>");
      await writeFile(path.join(source, "img", "logo.svg"), "<svg/>");
      const when = new Date("2025-01-02T03:04:06Z");
      await utimes(path.join(source, "img", "logo.svg"), when, when);
      const zipPath = path.join(root, `upload-${Date.now()}.zip`);
      expect(spawnSync("zip", ["-r", "-q", zipPath, "."], { cwd: source }).status).toBe(0);

      await kudu.uploadZip("site/wwwroot", await readFile(zipPath));
      expect(await readFile(path.join(standIn.wwwroot, "index.html"), "utf8")).toBe("<h1>restored</h1>");
      expect(await readFile(path.join(standIn.wwwroot, "img", "logo.svg"), "utf8")).toBe("<svg/>");
      expect((await stat(path.join(standIn.wwwroot, "img", "logo.svg"))).mtime.getTime()).toBe(when.getTime());
      expect(await readFile(path.join(standIn.wwwroot, "css", "site.css"), "utf8")).toBe("body{}\n");

      await kudu.uploadZip("site/fresh", () => Readable.from([readFileSync(zipPath)]));
      expect(await readFile(path.join(standIn.home, "site", "fresh", "index.html"), "utf8")).toBe("<h1>restored</h1>");
    });

    it("says when the upload is not a zip", async () => {
      const error = await failure(kudu.uploadZip("site/wwwroot", Buffer.from("not a zip at all")));
      expect(error.message).toContain("could not extract the zip");
    });
  });

  describe("retries", () => {
    it("sends again after 503 and 429, as Retry-After says", async () => {
      standIn.failNext({ status: 503, times: 1, retryAfter: "0", server: "scm" });
      standIn.failNext({ status: 429, times: 1, retryAfter: "1", server: "scm" });
      expect((await kudu.listFolder("site")).map((e) => e.name)).toEqual(["wwwroot"]);
      expect(standIn.requests.slice(-3).map((r) => r.status)).toEqual([503, 429, 200]);
    });

    it("gives up after the attempts allowed, saying what it kept getting", async () => {
      standIn.failNext({ status: 503, times: 5, server: "scm" });
      const error = await failure(kudu.listFolder("site"));
      expect(error.code).toBe("HOME_UNREACHABLE");
      expect(error.message).toContain("kept answering 503");
      expect(standIn.requests.filter((r) => r.status === 503)).toHaveLength(3);
    });

    it("does not wait longer than allowed for a Retry-After", async () => {
      standIn.failNext({ status: 429, times: 1, retryAfter: "3600", server: "scm" });
      const error = await failure(kudu.listFolder("site"));
      expect(error.message).toContain("asked to wait 3600 s");
    });

    it("says when nothing answers at the address", async () => {
      const port = await freePort();
      const nobody = new KuduClient({ scmUrl: `http://127.0.0.1:${port}/`, auth: { kind: "basic", user: "$contoso", password }, retry: fast });
      const error = await failure(nobody.listFolder("site"));
      expect(error.code).toBe("HOME_UNREACHABLE");
      expect(error.message).toContain("could not be reached");
      expect(error.message).toContain("3 attempts");
    });
  });

  describe("the stand-in answers as Kudu does", () => {
    const basic = () => `Basic ${Buffer.from(`$contoso:${password}`).toString("base64")}`;

    it("redirects a folder without / and a file with /, and needs If-Match to delete a file", async () => {
      const folder = await fetch(new URL("api/vfs/site/wwwroot", standIn.scmUrl), { headers: { authorization: basic() }, redirect: "manual" });
      expect(folder.status).toBe(307);
      expect(folder.headers.get("location")).toMatch(/\/api\/vfs\/site\/wwwroot\/$/);
      const file = await fetch(new URL("api/vfs/site/wwwroot/index.html/", standIn.scmUrl), { headers: { authorization: basic() }, redirect: "manual" });
      expect(file.status).toBe(307);
      const del = await fetch(new URL("api/vfs/site/wwwroot/index.html", standIn.scmUrl), { method: "DELETE", headers: { authorization: basic() } });
      expect(del.status).toBe(412);
      const zipOfFile = await fetch(new URL("api/zip/site/wwwroot/index.html", standIn.scmUrl), { headers: { authorization: basic() } });
      expect(zipOfFile.status).toBe(404);
      const noAuth = await fetch(new URL("api/vfs/", standIn.scmUrl));
      expect(noAuth.status).toBe(401);
      expect(noAuth.headers.get("www-authenticate")).toBe('Basic realm="site"');
    });

    it("lists folders as Kudu's JSON", async () => {
      const response = await fetch(new URL("api/vfs/site/wwwroot/", standIn.scmUrl), { headers: { authorization: basic() } });
      const listing = (await response.json()) as Array<Record<string, unknown>>;
      expect(listing.find((e) => e.name === "css")).toMatchObject({
        size: 0,
        mime: "inode/directory",
        href: expect.stringMatching(/\/api\/vfs\/site\/wwwroot\/css\/$/),
        path: "D:\\home\\site\\wwwroot\\css",
        mtime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/),
        crtime: expect.any(String),
      });
    });
  });
});


describe("a listing Kudu should never send", () => {
  const listingOf = (items: unknown[]) => async () => new Response(JSON.stringify(items), { status: 200, headers: { "content-type": "application/json" } });
  const clientAnswering = (items: unknown[]) => new KuduClient({ scmUrl: "https://contoso.scm.azurewebsites.net/", auth: { kind: "basic", user: "$contoso", password: "pw-000000" }, fetch: listingOf(items) as typeof fetch });

  it.each(["..", ".", "", "a/b", "..\\x", "nul\0name"])("refuses an entry named %j, which could lead outside the folder", async (name) => {
    await expect(clientAnswering([{ name, size: 1, mime: "text/plain", mtime: "2026-01-01T00:00:00Z" }]).listFolder("site/wwwroot")).rejects.toThrow(/not a name within the folder/);
  });

  it.each([-1, "NaN", 1e300, "12abc"])("refuses a size of %j, which would slip past the size limit", async (size) => {
    await expect(clientAnswering([{ name: "a.txt", size, mime: "text/plain", mtime: "2026-01-01T00:00:00Z" }]).listFolder("site/wwwroot")).rejects.toThrow(/a size of/);
  });
});
