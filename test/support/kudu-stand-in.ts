/**
 * A loopback stand-in for an App Service app's Kudu (the SCM site) and for the four
 * ARM operations on its settings, serving a real folder as the app's home (D:\home).
 * It answers as the real services do, as read in their sources:
 *
 * Kudu (projectkudu/kudu):
 * - Kudu.Services/Infrastructure/VfsControllerBase.cs (GetItem, PutItem, DeleteItem):
 *   a folder asked for without a trailing `/` is a 307 to the same URL with one, a file
 *   asked for with one is a 307 to the URL without; a missing path is 404 with
 *   `{"Message":"'D:\\home\\...' not found."}`. DELETE of a folder is
 *   `DirectoryInfo.Delete(recursive)` with `?recursive=true` (default false): a
 *   non-empty folder without it is 409, any folder needs no If-Match; DELETE of a file
 *   with a trailing `/` is a 307 too.
 * - Kudu.Services/Editor/VfsController.cs: a folder listing is a JSON array of
 *   `{name, size, mtime, crtime, mime, href, path}` (size 0 and mime `inode/directory`
 *   for folders, href the request URL plus the escaped name, `/`-ended for folders,
 *   path the server's full path; the home's root also lists the shortcuts `SystemDrive`
 *   and `LocalSiteRoot`, mime `inode/shortcut`, which lead outside it:
 *   Kudu.Services/Infrastructure/VfsSpecialFolders.cs); a file is streamed with an ETag made of the
 *   little-endian bytes of LastWriteTimeUtc's .NET ticks in hex, and If-None-Match gives
 *   304. PUT of a file that exists needs `If-Match: *` or its ETag (else 412, with the
 *   current ETag on a mismatch) and answers 204, a new file 201 (its missing parent
 *   folders are created); PUT onto a folder is 409; PUT of `path/` creates the folder
 *   and its parents (201), or 409 when something is there. DELETE of a file needs
 *   If-Match the same way (412), then 200.
 * - Kudu.Services/Zip/ZipController.cs, Kudu.Services/Infrastructure/ZipStreamContent.cs,
 *   Kudu.Core/Infrastructure/ZipArchiveExtensions.cs: GET of a folder streams a zip of
 *   its content (not the folder itself) as `application/zip`, attachment
 *   `{folder}.zip`; GET of a file is 404. The zip is written by .NET's ZipArchive
 *   into the response, which cannot seek (dotnet/runtime ZipArchiveEntry.cs:
 *   WriteLocalFileHeader, WriteDataDescriptor): each file is deflated (Fastest) with
 *   the data-descriptor flag, zero CRC and sizes in its local header, and a
 *   `PK\x07\x08` descriptor with 32-bit sizes after its data; an empty file is a
 *   stored entry with no descriptor; names use `/` (ForwardSlashCombine); a folder
 *   gets an entry `name/` only when it is empty; the time is the file's LastWriteTime
 *   in DOS form (local time, which is UTC on App Service), with no extra fields; no
 *   Unix modes (made by Windows, external attributes 0). PUT of a zip to a folder
 *   extracts it INTO the folder, deleting nothing (the source says "more of a PATCH
 *   than a PUT"), creating the folder when the path ends with `/`, setting each file's
 *   LastWriteTimeUtc from the entry; PUT to a path that is not a folder is 404; a body
 *   that is not a zip is 400.
 * - Auth (Kudu.Services/Authorization): HTTP Basic with the app's publishing
 *   credentials (`$app` and its password), or an Entra ID bearer token for ARM's
 *   audience (what `az account get-access-token` gives: scope
 *   `https://management.azure.com/.default`); otherwise 401 with
 *   `WWW-Authenticate: Basic realm="site"`.
 *
 * ARM (Azure REST API reference for Web Apps: "List Application Settings", "List
 * Connection Strings", "Update Application Settings", "Update Connection Strings"):
 * - POST `.../providers/Microsoft.Web/sites/{name}[/slots/{slot}]/config/appsettings/list`
 *   and `/config/connectionstrings/list`, PUT `.../config/appsettings` and
 *   `.../config/connectionstrings` with `{ properties }` (the whole set: what is not in
 *   it is removed). Responses are `{ id, name, type: "Microsoft.Web/sites/config",
 *   location, properties }`, with `properties: { KEY: "value" }` for app settings and
 *   `properties: { NAME: { value, type } }` for connection strings, `type` one of
 *   ConnectionStringType (MySql, SQLServer, SQLAzure, Custom, NotificationHub,
 *   ServiceBus, EventHub, ApiHub, DocDb, RedisCache, PostgreSQL).
 * - Without `api-version`: 400 `MissingApiVersionParameter`. Without a bearer token:
 *   401 `AuthenticationFailed`; with a wrong one: 401 `InvalidAuthenticationToken`.
 *   An unknown resource group is 404 `ResourceGroupNotFound`, an unknown site 404
 *   `ResourceNotFound`. Errors are `{ error: { code, message } }`; throttling is 429
 *   with Retry-After.
 *
 * Beyond what the services do, for tests: `failNext` makes the next requests fail
 * with a status (429, 503, ...) and a Retry-After (only requests of one method and path
 * when `method` and `path` are given, with a body when `body` is), and `cutZipAfter` ends the next zip
 * download abruptly after some bytes. A zip entry naming a path outside the target is
 * refused with 400 rather than written (the real extractor does not check).
 */
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rm, rmdir, stat, unlink, utimes } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import yauzl from "yauzl";

export interface KuduStandInOptions {
  /** The folder served as site/wwwroot (default: an empty temp folder inside the home). */
  wwwroot?: string;
  /** The folder served as the home, D:\home (default: a temp folder with site/wwwroot). */
  home?: string;
  /** Publishing credentials Kudu accepts with Basic auth. */
  credentials: { user: string; password: string };
  /** The Entra ID access token Kudu and ARM accept as `Bearer`. */
  token?: string;
  settings?: Record<string, string>;
  connectionStrings?: Record<string, { value: string; type: string }>;
  /** False: `?recursive=true` is ignored on DELETE, as by Kudu builds that came before it. */
  recursiveDelete?: boolean;
  /** The site ARM knows; the default is subscription 00000000-0000-0000-0000-000000000001, group `web`, app `contoso`. */
  site?: { subscription: string; resourceGroup: string; name: string; slot?: string };
}

export interface LoggedRequest {
  server: "scm" | "arm";
  method: string;
  /** Path and query as sent. */
  path: string;
  status: number;
}

export interface KuduFault {
  status: number;
  times?: number;
  retryAfter?: string;
  server?: "scm" | "arm";
  /** Only requests with this method (`DELETE`) fail. */
  method?: string;
  /** Only requests whose path (and query) this matches fail. */
  path?: RegExp;
  /** The answer's body (JSON), as a server that says what went wrong sends one. */
  body?: string;
}

export interface KuduStandIn {
  /** `http://127.0.0.1:PORT/`, the SCM site's base. */
  scmUrl: string;
  /** `http://127.0.0.1:PORT`, ARM's base. */
  armUrl: string;
  home: string;
  wwwroot: string;
  /** What ARM holds now (changed by PUTs). */
  readonly settings: Record<string, string>;
  readonly connectionStrings: Record<string, { value: string; type: string }>;
  /** Every request, in order: method, path and query, status. */
  readonly requests: LoggedRequest[];
  /** Resource id of the site ARM knows. */
  resourceId: string;
  /** The next `times` requests to `server` (both when not given) answer `status`, with `Retry-After` when given. */
  failNext(fault: KuduFault): void;
  /** The next zip download stops (the connection is destroyed) after this many bytes of the zip. */
  cutZipAfter(bytes: number): void;
  stop(): Promise<void>;
}

const CONNECTION_STRING_TYPES = ["MySql", "SQLServer", "SQLAzure", "Custom", "NotificationHub", "ServiceBus", "EventHub", "ApiHub", "DocDb", "RedisCache", "PostgreSQL"];

export async function startKuduStandIn(options: KuduStandInOptions): Promise<KuduStandIn> {
  const ownHome = options.home === undefined;
  const home = options.home ?? (await mkdtemp(path.join(os.tmpdir(), "kudu-home-")));
  await mkdir(path.join(home, "site", "wwwroot"), { recursive: true });
  const wwwroot = options.wwwroot ?? path.join(home, "site", "wwwroot");
  const site = options.site ?? { subscription: "00000000-0000-0000-0000-000000000001", resourceGroup: "web", name: "contoso" };
  const siteSegment = site.slot ? `sites/${site.name}/slots/${site.slot}` : `sites/${site.name}`;
  const resourceId = `/subscriptions/${site.subscription}/resourceGroups/${site.resourceGroup}/providers/Microsoft.Web/${siteSegment}`;
  const settings: Record<string, string> = { ...options.settings };
  const connectionStrings: Record<string, { value: string; type: string }> = { ...options.connectionStrings };
  const requests: LoggedRequest[] = [];
  const faults: Array<KuduFault & { times: number }> = [];
  let zipCut: number | undefined;

  /** The local path of a home-relative path; site/wwwroot may live elsewhere. */
  function localPath(segments: string[]): string {
    if (options.wwwroot && segments[0]?.toLowerCase() === "site" && segments[1]?.toLowerCase() === "wwwroot") {
      return path.join(wwwroot, ...segments.slice(2));
    }
    return path.join(home, ...segments);
  }

  /** The server's own name for a path, as Kudu puts it in listings and messages. */
  function windowsPath(segments: string[]): string {
    return ["D:\\home", ...segments].join("\\");
  }

  function takeFault(server: "scm" | "arm", method: string, requestPath: string) {
    const fault = faults.find((f) => f.times > 0 && (!f.server || f.server === server) && (!f.method || f.method === method) && (!f.path || f.path.test(requestPath)));
    if (!fault) return undefined;
    fault.times--;
    return fault;
  }

  const scm = http.createServer((request, response) => {
    const url = new URL(request.url!, "http://127.0.0.1");
    const log: LoggedRequest = { server: "scm", method: request.method!, path: `${url.pathname}${url.search}`, status: 0 };
    requests.push(log);
    response.on("finish", () => (log.status = response.statusCode));
    response.on("close", () => (log.status ||= response.statusCode));
    const fault = takeFault("scm", request.method!, log.path);
    if (fault) {
      request.resume();
      response.writeHead(fault.status, { ...(fault.retryAfter ? { "retry-after": fault.retryAfter } : {}), ...(fault.body ? { "content-type": "application/json; charset=utf-8" } : {}) });
      response.end(fault.body);
      return;
    }
    if (!scmAuthorized(request.headers.authorization)) {
      request.resume();
      response.writeHead(401, { "www-authenticate": 'Basic realm="site"', "content-type": "text/html" });
      response.end("<h1>401 - Unauthorized</h1>");
      return;
    }
    handleScm(request, response, url).catch((error: unknown) => {
      if (!response.headersSent) kuduError(response, 500, error instanceof Error ? error.message : String(error));
      else response.destroy();
    });
  });

  function scmAuthorized(header: string | undefined): boolean {
    if (!header) return false;
    const [scheme, value] = header.split(" ", 2);
    if (scheme?.toLowerCase() === "bearer") return options.token !== undefined && value === options.token;
    if (scheme?.toLowerCase() !== "basic" || !value) return false;
    const decoded = Buffer.from(value, "base64").toString("utf8");
    return decoded === `${options.credentials.user}:${options.credentials.password}`;
  }

  async function handleScm(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const match = /^\/api\/(vfs|zip)(\/.*)?$/i.exec(url.pathname);
    if (!match) {
      request.resume();
      return kuduError(response, 404, "No HTTP resource was found that matches the request URI.");
    }
    const api = match[1]!.toLowerCase();
    const rest = match[2] ?? "/";
    const trailingSlash = rest.endsWith("/");
    const segments = rest.split("/").filter((s) => s !== "").map((s) => decodeURIComponent(s));
    if (segments.some((s) => s === ".." || s === "." || s.includes("\\") || s.includes("\0"))) {
      request.resume();
      return kuduError(response, 400, "The path is not valid.");
    }
    const local = localPath(segments);
    const info = await stat(local).catch(() => undefined);
    const method = request.method!;
    const redirect = (to: string) => {
      request.resume();
      const location = new URL(url.href.replace(/^http:\/\/127\.0\.0\.1/, `http://${request.headers.host}`));
      location.pathname = to;
      response.writeHead(307, { location: location.href });
      response.end();
    };
    const notFound = () => {
      request.resume();
      kuduError(response, 404, `'${windowsPath(segments)}${trailingSlash ? "\\" : ""}' not found.`);
    };

    if (api === "zip") {
      if (method === "GET" || method === "HEAD") {
        if (!info) return notFound();
        if (info.isDirectory()) {
          if (!trailingSlash) return redirect(`${url.pathname}/`);
          return sendZip(response, segments, method === "HEAD");
        }
        if (trailingSlash) return redirect(url.pathname.replace(/\/+$/, ""));
        request.resume();
        response.writeHead(404).end();
        return;
      }
      if (method === "PUT") {
        if ((info && info.isDirectory()) || (!info && trailingSlash)) return extractZip(request, response, local);
        request.resume();
        response.writeHead(404).end();
        return;
      }
      request.resume();
      return kuduError(response, 405, `The requested resource does not support http method '${method}'.`);
    }

    // VFS
    if (method === "GET" || method === "HEAD") {
      if (!info) return notFound();
      if (info.isDirectory()) {
        if (!trailingSlash) return redirect(`${url.pathname}/`);
        request.resume();
        const listing = await listFolder(local, segments, `http://${request.headers.host}${url.pathname}`);
        response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        response.end(method === "HEAD" ? undefined : JSON.stringify(listing));
        return;
      }
      if (trailingSlash) return redirect(url.pathname.replace(/\/+$/, ""));
      request.resume();
      const etag = await etagOf(local);
      if (request.headers["if-none-match"]?.split(",").some((tag) => tag.trim() === etag)) {
        response.writeHead(304, { etag });
        response.end();
        return;
      }
      response.writeHead(200, { etag, "content-type": mimeOf(local), "content-length": info.size, "last-modified": info.mtime.toUTCString() });
      if (method === "HEAD") return void response.end();
      await pipeline(createReadStream(local), response);
      return;
    }
    if (method === "PUT") {
      if (info?.isDirectory() || trailingSlash) {
        request.resume();
        if (info) return kuduError(response, 409, "Cannot create directory because it already exists or a file is in the way.");
        try {
          await mkdir(local, { recursive: true });
        } catch {
          return kuduError(response, 409, "Cannot create directory: a file is in the way.");
        }
        response.writeHead(201).end();
        return;
      }
      if (info) {
        const etag = await etagOf(local);
        const ifMatch = request.headers["if-match"];
        if (ifMatch === undefined) {
          request.resume();
          return kuduError(response, 412, "Updating an existing resource requires an If-Match header.");
        }
        if (!ifMatch.split(",").some((tag) => tag.trim() === "*" || tag.trim() === etag)) {
          request.resume();
          response.setHeader("etag", etag);
          return kuduError(response, 412, "The If-Match header does not match the current ETag.");
        }
      }
      try {
        await mkdir(path.dirname(local), { recursive: true });
        await pipeline(request, createWriteStream(local));
      } catch {
        request.resume();
        return kuduError(response, 409, `Could not write to '${windowsPath(segments)}': a file or folder is in the way.`);
      }
      response.writeHead(info ? 204 : 201, { etag: await etagOf(local) });
      response.end();
      return;
    }
    if (method === "DELETE") {
      request.resume();
      if (!info) return notFound();
      if (info.isDirectory()) {
        const recursive = options.recursiveDelete !== false && url.searchParams.get("recursive")?.toLowerCase() === "true";
        try {
          if (recursive) await rm(local, { recursive: true });
          else await rmdir(local);
        } catch {
          return kuduError(response, 409, "Cannot delete directory. It is either not empty or access is not allowed.");
        }
        response.writeHead(200).end();
        return;
      }
      if (trailingSlash) return redirect(url.pathname.replace(/\/+$/, ""));
      const etag = await etagOf(local);
      const ifMatch = request.headers["if-match"];
      if (ifMatch === undefined) return kuduError(response, 412, "Deleting an existing resource requires an If-Match header.");
      if (!ifMatch.split(",").some((tag) => tag.trim() === "*" || tag.trim() === etag)) {
        response.setHeader("etag", etag);
        return kuduError(response, 412, "The If-Match header does not match the current ETag.");
      }
      await unlink(local);
      response.writeHead(200).end();
      return;
    }
    request.resume();
    return kuduError(response, 405, `The requested resource does not support http method '${method}'.`);
  }

  async function listFolder(local: string, segments: string[], base: string) {
    const names = (await readdir(local)).sort((a, b) => a.localeCompare(b, "en", { sensitivity: "base" }));
    const entries = [];
    for (const name of names) {
      const child = localPath([...segments, name]);
      const info = await stat(child, { bigint: true }).catch(() => undefined);
      if (!info) continue;
      const folder = info.isDirectory();
      entries.push({
        name,
        size: folder ? 0 : Number(info.size),
        mtime: dotnetDate(info.mtimeNs),
        crtime: dotnetDate(info.birthtimeNs > 0n ? info.birthtimeNs : info.ctimeNs),
        mime: folder ? "inode/directory" : mimeOf(name),
        href: `${base}${encodeURI(folder ? `${name}/` : name)}`,
        path: windowsPath([...segments, name]),
      });
    }
    if (segments.length === 0) {
      // The home's root also lists Kudu's shortcuts to folders outside it (VfsSpecialFolders.cs).
      const now = dotnetDate(BigInt(Date.now()) * 1_000_000n);
      for (const [name, where] of [["SystemDrive", "C:\\"], ["LocalSiteRoot", "C:\\local"]]) {
        entries.push({ name: name!, size: 0, mtime: now, crtime: now, mime: "inode/shortcut", href: `${base}${name}/`, path: where! });
      }
    }
    return entries;
  }

  async function sendZip(response: ServerResponse, segments: string[], headOnly: boolean): Promise<void> {
    const folder = segments.at(-1) ?? "home";
    response.writeHead(200, { "content-type": "application/zip", "content-disposition": `attachment; filename=${folder}.zip` });
    if (headOnly) return void response.end();
    const cut = zipCut;
    zipCut = undefined;
    const writer = new DotnetStreamingZip(response, cut);
    for (const name of await sortedChildren(localPath(segments))) {
      const childSegments = [...segments, name];
      const info = await stat(localPath(childSegments));
      if (info.isDirectory()) await addDirectory(writer, childSegments, name);
      else await writer.addFile(name, localPath(childSegments), info.mtime);
      if (writer.cut) return;
    }
    await writer.finish();
  }

  async function addDirectory(writer: DotnetStreamingZip, segments: string[], nameInArchive: string): Promise<void> {
    const children = await sortedChildren(localPath(segments));
    for (const name of children) {
      const childSegments = [...segments, name];
      const info = await stat(localPath(childSegments));
      if (info.isDirectory()) await addDirectory(writer, childSegments, `${nameInArchive}/${name}`);
      else await writer.addFile(`${nameInArchive}/${name}`, localPath(childSegments), info.mtime);
      if (writer.cut) return;
    }
    // .NET's CreateEntry without Open: stamped with the time of the download.
    if (children.length === 0) await writer.addEmptyFolder(`${nameInArchive}/`, new Date());
  }

  async function extractZip(request: IncomingMessage, response: ServerResponse, target: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let zip: yauzl.ZipFile;
    try {
      zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
        yauzl.fromBuffer(Buffer.concat(chunks), { lazyEntries: true, decodeStrings: true, validateEntrySizes: true }, (error, file) => (error ? reject(error) : resolve(file))),
      );
    } catch (error) {
      return kuduError(response, 400, `The request body is not a zip: ${(error as Error).message}`);
    }
    try {
      await mkdir(target, { recursive: true });
      await new Promise<void>((resolve, reject) => {
        zip.on("error", reject);
        zip.on("end", resolve);
        zip.on("entry", (entry: yauzl.Entry) => {
          extractEntry(zip, entry, target).then(() => zip.readEntry(), reject);
        });
        zip.readEntry();
      });
    } catch (error) {
      return kuduError(response, 400, (error as Error).message);
    }
    response.writeHead(200).end();
  }

  async function extractEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, target: string): Promise<void> {
    const name = entry.fileName.replace(/\\/g, "/");
    const destination = path.resolve(target, name);
    if (!destination.startsWith(`${path.resolve(target)}${path.sep}`)) throw new Error(`The entry '${entry.fileName}' is outside the target folder.`);
    if (name.endsWith("/") && entry.uncompressedSize === 0) {
      await mkdir(destination, { recursive: true });
      return;
    }
    await mkdir(path.dirname(destination), { recursive: true });
    const content = await new Promise<NodeJS.ReadableStream>((resolve, reject) => zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))));
    await pipeline(content, createWriteStream(destination));
    // .NET reads the DOS time (as the server's local time, UTC on App Service), never Info-ZIP's UT field.
    const time = dosTimeAsUtc(entry.lastModFileTime, entry.lastModFileDate);
    await utimes(destination, time, time).catch(() => undefined);
  }

  // ARM

  const arm = http.createServer((request, response) => {
    const url = new URL(request.url!, "http://127.0.0.1");
    const log: LoggedRequest = { server: "arm", method: request.method!, path: `${url.pathname}${url.search}`, status: 0 };
    requests.push(log);
    response.on("finish", () => (log.status = response.statusCode));
    handleArm(request, response, url).catch((error: unknown) => armError(response, 500, "InternalServerError", String(error)));
  });

  async function handleArm(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(request);
    response.setHeader("x-ms-request-id", randomUUID());
    const fault = takeFault("arm", request.method!, `${url.pathname}${url.search}`);
    if (fault) {
      if (fault.retryAfter) response.setHeader("retry-after", fault.retryAfter);
      return armError(response, fault.status, fault.status === 429 ? "TooManyRequests" : "ServiceUnavailable", "The request could not be served now; try again later.");
    }
    const authorization = request.headers.authorization;
    if (!authorization) return armError(response, 401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
    if (!authorization.startsWith("Bearer ") || authorization.slice(7) !== options.token) {
      return armError(response, 401, "InvalidAuthenticationToken", "The access token is invalid.");
    }
    const apiVersion = url.searchParams.get("api-version");
    if (!apiVersion) return armError(response, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) {
      return armError(response, 400, "InvalidApiVersionParameter", `The api-version '${apiVersion}' is invalid.`);
    }
    const match = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.web\/sites\/([^/]+)(?:\/slots\/([^/]+))?\/config\/(appsettings|connectionstrings)(\/list)?$/i.exec(
      url.pathname,
    );
    if (!match) return armError(response, 404, "NotFound", `No route for '${url.pathname}'.`);
    const [, subscription, group, name, slot, section, list] = match;
    if (subscription!.toLowerCase() !== site.subscription.toLowerCase()) return armError(response, 404, "SubscriptionNotFound", `The subscription '${subscription}' could not be found.`);
    if (group!.toLowerCase() !== site.resourceGroup.toLowerCase()) return armError(response, 404, "ResourceGroupNotFound", `Resource group '${group}' could not be found.`);
    if (name!.toLowerCase() !== site.name.toLowerCase() || (slot ?? "").toLowerCase() !== (site.slot ?? "").toLowerCase()) {
      return armError(response, 404, "ResourceNotFound", `The Resource 'Microsoft.Web/sites/${name}${slot ? `/slots/${slot}` : ""}' under resource group '${group}' was not found.`);
    }
    const isSettings = section!.toLowerCase() === "appsettings";
    const method = request.method!;
    if (list ? method !== "POST" : method !== "PUT") return armError(response, 405, "MethodNotAllowed", `The method '${method}' is not allowed.`);
    if (!list) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return armError(response, 400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.");
      }
      const properties = (parsed as { properties?: unknown }).properties;
      if (!properties || typeof properties !== "object" || Array.isArray(properties)) return armError(response, 400, "BadRequest", "The properties are missing.");
      if (isSettings) {
        if (!Object.values(properties).every((v) => typeof v === "string")) return armError(response, 400, "BadRequest", "Each app setting's value must be a string.");
        for (const key of Object.keys(settings)) delete settings[key];
        Object.assign(settings, properties);
      } else {
        for (const [key, entry] of Object.entries(properties as Record<string, { value?: unknown; type?: unknown }>)) {
          if (typeof entry?.value !== "string" || typeof entry.type !== "string" || !CONNECTION_STRING_TYPES.includes(entry.type)) {
            return armError(response, 400, "BadRequest", `The connection string '${key}' needs a string value and a type among ${CONNECTION_STRING_TYPES.join(", ")}.`);
          }
        }
        for (const key of Object.keys(connectionStrings)) delete connectionStrings[key];
        for (const [key, entry] of Object.entries(properties as Record<string, { value: string; type: string }>)) connectionStrings[key] = { value: entry.value, type: entry.type };
      }
    }
    const configName = isSettings ? "appsettings" : "connectionstrings";
    response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    response.end(
      JSON.stringify({
        id: `${resourceId}/config/${configName}`,
        name: configName,
        type: "Microsoft.Web/sites/config",
        location: "West Europe",
        tags: {},
        properties: isSettings ? settings : connectionStrings,
      }),
    );
  }

  const scmPort = await listen(scm);
  const armPort = await listen(arm);
  return {
    scmUrl: `http://127.0.0.1:${scmPort}/`,
    armUrl: `http://127.0.0.1:${armPort}`,
    home,
    wwwroot,
    settings,
    connectionStrings,
    requests,
    resourceId,
    failNext: (fault) => faults.push({ times: 1, ...fault }),
    cutZipAfter: (bytes) => (zipCut = bytes),
    async stop() {
      await Promise.all([close(scm), close(arm)]);
      if (ownHome) await rm(home, { recursive: true, force: true });
    },
  };
}

/**
 * A zip written as .NET's ZipArchive writes one into a stream that cannot seek
 * (see the module comment): data descriptors with a signature and 32-bit sizes,
 * deflate at level 1, DOS times, no extra fields, made by Windows.
 */
class DotnetStreamingZip {
  private offset = 0;
  private readonly central: Buffer[] = [];
  cut = false;

  constructor(
    private readonly out: ServerResponse,
    private readonly cutAfter: number | undefined,
  ) {}

  private async write(chunk: Buffer): Promise<void> {
    if (this.out.destroyed) this.cut = true;
    if (this.cut) return;
    if (this.cutAfter !== undefined && this.offset + chunk.length > this.cutAfter) {
      const part = chunk.subarray(0, this.cutAfter - this.offset);
      this.offset += part.length;
      this.out.write(part);
      this.cut = true;
      await new Promise((resolve) => setTimeout(resolve, 20));
      this.out.destroy();
      return;
    }
    this.offset += chunk.length;
    if (!this.out.write(chunk)) {
      await new Promise((resolve) => {
        this.out.once("drain", resolve);
        this.out.once("close", resolve);
      });
    }
  }

  async addFile(name: string, file: string, mtime: Date): Promise<void> {
    const handle = await open(file, "r");
    try {
      const nameBytes = Buffer.from(name, "utf8");
      const utf8 = /[^\x00-\x7f]/.test(name) ? 0x0800 : 0;
      const headerOffset = this.offset;
      const { time, date } = dosTime(mtime);
      const size = (await handle.stat()).size;
      if (size === 0) {
        // Never written to: a stored empty entry with its sizes in the header and no descriptor.
        await this.write(localHeader(nameBytes, utf8, 0, time, date, 0, 0, 0));
        this.central.push(centralHeader(nameBytes, utf8, 0, time, date, 0, 0, 0, headerOffset));
        return;
      }
      const flags = utf8 | 0x0008;
      await this.write(localHeader(nameBytes, flags, 8, time, date, 0, 0, 0));
      const deflate = zlib.createDeflateRaw({ level: 1 });
      let crc = 0;
      let uncompressed = 0;
      let compressed = 0;
      const drained = (async () => {
        for await (const piece of deflate) {
          compressed += (piece as Buffer).length;
          await this.write(piece as Buffer);
        }
      })();
      for await (const chunk of handle.createReadStream({ autoClose: false })) {
        crc = zlib.crc32(chunk as Buffer, crc);
        uncompressed += (chunk as Buffer).length;
        if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once("drain", resolve));
      }
      deflate.end();
      await drained;
      const descriptor = Buffer.alloc(16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc, 4);
      descriptor.writeUInt32LE(compressed, 8);
      descriptor.writeUInt32LE(uncompressed, 12);
      await this.write(descriptor);
      this.central.push(centralHeader(nameBytes, flags, 8, time, date, crc, compressed, uncompressed, headerOffset));
    } finally {
      await handle.close();
    }
  }

  async addEmptyFolder(name: string, mtime: Date): Promise<void> {
    const nameBytes = Buffer.from(name, "utf8");
    const utf8 = /[^\x00-\x7f]/.test(name) ? 0x0800 : 0;
    const { time, date } = dosTime(mtime);
    const headerOffset = this.offset;
    await this.write(localHeader(nameBytes, utf8, 0, time, date, 0, 0, 0));
    this.central.push(centralHeader(nameBytes, utf8, 0, time, date, 0, 0, 0, headerOffset));
  }

  async finish(): Promise<void> {
    const start = this.offset;
    for (const record of this.central) await this.write(record);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.central.length, 8);
    end.writeUInt16LE(this.central.length, 10);
    end.writeUInt32LE(this.offset - start, 12);
    end.writeUInt32LE(start, 16);
    await this.write(end);
    if (!this.cut) this.out.end();
  }
}

function localHeader(name: Buffer, flags: number, method: number, time: number, date: number, crc: number, compressed: number, size: number): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(flags, 6);
  header.writeUInt16LE(method, 8);
  header.writeUInt16LE(time, 10);
  header.writeUInt16LE(date, 12);
  header.writeUInt32LE(crc, 14);
  header.writeUInt32LE(compressed, 18);
  header.writeUInt32LE(size, 22);
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, name]);
}

function centralHeader(name: Buffer, flags: number, method: number, time: number, date: number, crc: number, compressed: number, size: number, offset: number): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(20, 4); // made by: Windows (0), spec 2.0
  header.writeUInt16LE(20, 6);
  header.writeUInt16LE(flags, 8);
  header.writeUInt16LE(method, 10);
  header.writeUInt16LE(time, 12);
  header.writeUInt16LE(date, 14);
  header.writeUInt32LE(crc, 16);
  header.writeUInt32LE(compressed, 20);
  header.writeUInt32LE(size, 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt32LE(offset, 42);
  return Buffer.concat([header, name]);
}

/** DOS date and time of the UTC clock, as App Service's servers keep it. */
function dosTime(date: Date): { time: number; date: number } {
  if (date.getUTCFullYear() < 1980) return { time: 0, date: (1 << 5) | 1 };
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1),
    date: ((date.getUTCFullYear() - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

function dosTimeAsUtc(time: number, date: number): Date {
  return new Date(Date.UTC(1980 + (date >> 9), Math.max(1, (date >> 5) & 0x0f) - 1, Math.max(1, date & 0x1f), time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2));
}

/** .NET's DateTimeOffset in JSON: seven fraction digits and the offset, `2026-12-06T23:40:01.1234567+00:00`. */
function dotnetDate(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const ticks = ((ns / 100n) % 10_000_000n).toString().padStart(7, "0");
  return `${new Date(ms).toISOString().slice(0, 19)}.${ticks}+00:00`;
}

/** Kudu's ETag: the bytes of LastWriteTimeUtc's .NET ticks, little-endian, in hex, quoted. */
async function etagOf(file: string): Promise<string> {
  const info = await stat(file, { bigint: true });
  const ticks = info.mtimeNs / 100n + 621_355_968_000_000_000n;
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64LE(ticks);
  return `"${bytes.toString("hex")}"`;
}

async function sortedChildren(folder: string): Promise<string[]> {
  return (await readdir(folder)).sort((a, b) => a.localeCompare(b, "en", { sensitivity: "base" }));
}

const MIME: Record<string, string> = {
  ".html": "text/html",
  ".htm": "text/html",
  ".css": "text/css",
  ".js": "application/javascript",
  ".json": "application/json",
  ".txt": "text/plain",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".zip": "application/x-zip-compressed",
};

function mimeOf(name: string): string {
  return MIME[path.extname(name).toLowerCase()] ?? "application/octet-stream";
}

function kuduError(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(JSON.stringify({ Message: message }));
}

function armError(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(JSON.stringify({ error: { code, message } }));
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of request) body += chunk;
  return body;
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
