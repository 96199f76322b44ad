import { PassThrough, Readable } from "node:stream";
import { AppBackupError } from "../../errors.js";
import { DEFAULT_RETRY, type RemoteAuth, type RemoteTarget, type RequestBody, type RetryPolicy, sendWithRetries, serverSaid } from "./http-request.js";

/**
 * The app's home through Kudu, the SCM site: the zip API (`/api/zip/{path}/`) to read a
 * folder whole and to write a zip into one, the VFS API (`/api/vfs/{path}`) for single
 * files and folders. Paths are relative to the home (D:\home, /home on Linux):
 * `site/wwwroot/css/site.css`; a folder's URL ends with `/`, a file's never does (Kudu
 * answers a mismatch with a 307, taken here as "it is not what was asked for").
 *
 * Kudu's rules, which the methods follow: overwriting or deleting a file needs
 * `If-Match` (`*` or the ETag read with it), else 412; a folder is deleted with
 * `?recursive=true` or not at all when it has content (409); a zip PUT into a folder
 * adds and overwrites, and deletes nothing.
 */
export interface KuduClientOptions {
  /** The SCM site's base URL, `https://contoso.scm.azurewebsites.net/` (see address.ts). */
  scmUrl: string;
  auth: RemoteAuth;
  retry?: Partial<RetryPolicy>;
  /** For tests and proxies; global fetch by default. */
  fetch?: typeof fetch;
}

export interface VfsEntry {
  /** Home-relative path, `/`-separated, no trailing `/`. */
  path: string;
  name: string;
  kind: "file" | "directory";
  /** 0 for a folder. */
  size: number;
  mtime: Date;
}

export interface PutFileResult {
  /** The file's new ETag, for a later `ifMatch`. */
  etag: string | undefined;
  /** False when an existing file was replaced. */
  created: boolean;
}

export class KuduClient {
  private readonly target: RemoteTarget;
  private readonly base: URL;
  private readonly secrets: string[] = [];

  constructor(options: KuduClientOptions) {
    this.base = new URL(options.scmUrl.endsWith("/") ? options.scmUrl : `${options.scmUrl}/`);
    const auth = options.auth;
    if (auth.kind === "basic") this.secrets.push(auth.password);
    const remembered: RemoteAuth =
      auth.kind === "basic"
        ? auth
        : {
            kind: "token",
            getToken: async () => {
              const token = await auth.getToken();
              if (!this.secrets.includes(token)) this.secrets.push(token);
              return token;
            },
          };
    this.target = { what: `Kudu at ${this.base.host}`, auth: remembered, retry: { ...DEFAULT_RETRY, ...options.retry }, fetch: options.fetch ?? fetch };
  }

  /**
   * The folder's content as a zip, streamed as Kudu sends it (see zip-stream-entries.ts
   * to read it entry by entry). Fails first when the folder is missing or refused; a
   * connection cut later fails the stream with an error that says so.
   */
  async downloadZip(folder: string): Promise<Readable> {
    const response = await this.send("GET", this.url("zip", folder, "folder"), {}, folder, "folder");
    if (!response.body) throw this.unexpected("GET", folder, response, "no body");
    const type = response.headers.get("content-type") ?? "";
    if (!/zip/i.test(type)) {
      await response.body.cancel().catch(() => undefined);
      throw this.unexpected("GET", folder, response, `a ${type || "body without a type"} where a zip was expected`);
    }
    return this.guarded(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>), `the zip of /${clean(folder)}/`);
  }

  /**
   * The folder's entries (not recursive). Kudu's shortcuts (`SystemDrive`, `LocalSiteRoot`,
   * mime `inode/shortcut`, listed at the home's root) lead outside the home and are left out.
   */
  async listFolder(folder: string): Promise<VfsEntry[]> {
    const response = await this.send("GET", this.url("vfs", folder, "folder"), {}, folder, "folder");
    const listing = (await response.json().catch(() => undefined)) as unknown;
    if (!Array.isArray(listing)) throw this.unexpected("GET", folder, response, "a listing that is not a JSON array");
    const parent = clean(folder);
    const inHome = listing.filter((item: { mime?: unknown }) => item?.mime !== "inode/shortcut");
    return inHome.map((item: { name?: unknown; size?: unknown; mtime?: unknown; mime?: unknown }) => {
      if (typeof item?.name !== "string") throw this.unexpected("GET", folder, response, "a listing entry without a name");
      // Names become paths that are read, written and deleted: one that is not a single segment could reach outside the folder.
      if (item.name === "" || item.name === "." || item.name === ".." || /[/\\\0]/.test(item.name)) {
        throw this.unexpected("GET", folder, response, `a listing entry named ${JSON.stringify(item.name)}, which is not a name within the folder`);
      }
      const kind = item.mime === "inode/directory" ? "directory" : "file";
      const size = kind === "directory" ? 0 : Number(item.size ?? 0);
      // A size decides the plan's size check: anything but a whole number of bytes would slip past it.
      if (!Number.isSafeInteger(size) || size < 0) throw this.unexpected("GET", folder, response, `a size of ${JSON.stringify(item.size)} for ${JSON.stringify(item.name)}`);
      return {
        path: parent ? `${parent}/${item.name}` : item.name,
        name: item.name,
        kind,
        size,
        mtime: new Date(typeof item.mtime === "string" ? kuduTimeMs(item.mtime) : 0),
      };
    });
  }

  /** A file's content, streamed, with its ETag. */
  async readFile(file: string): Promise<{ content: Readable; etag: string | undefined; size: number | undefined }> {
    const response = await this.send("GET", this.url("vfs", file, "file"), {}, file, "file");
    const length = response.headers.get("content-length");
    const content = response.body ? this.guarded(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>), `/${clean(file)}`) : Readable.from([]);
    return { content, etag: response.headers.get("etag") ?? undefined, size: length === null ? undefined : Number(length) };
  }

  /**
   * Writes a file, creating its missing parent folders. `ifMatch` is needed to replace
   * one that exists: `*` for any, or the ETag it was read with (a 412 then means it
   * changed since). Without it, an existing file is left as it is and this fails.
   */
  async putFile(file: string, body: RequestBody, options: { ifMatch?: string } = {}): Promise<PutFileResult> {
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (options.ifMatch) headers["if-match"] = options.ifMatch;
    const response = await this.send("PUT", this.url("vfs", file, "file"), { headers, body }, file, "file");
    await response.body?.cancel().catch(() => undefined);
    return { etag: response.headers.get("etag") ?? undefined, created: response.status === 201 };
  }

  /** Creates a folder and its missing parents; one that is there already is fine. */
  async makeFolder(folder: string): Promise<void> {
    const url = this.url("vfs", folder, "folder");
    const response = await sendWithRetries(this.target, { method: "PUT", url });
    if (response.status === 201) return void (await response.body?.cancel().catch(() => undefined));
    if (response.status === 409) {
      await response.body?.cancel().catch(() => undefined);
      // Kudu says 409 both for a folder that exists and for a file in the way.
      const check = await sendWithRetries(this.target, { method: "GET", url });
      await check.body?.cancel().catch(() => undefined);
      if (check.status === 200) return;
      throw new AppBackupError("RESTORE", `${this.target.what} cannot make the folder /${clean(folder)}/: a file is in its place.`, "Delete the file first, or restore into an empty folder.");
    }
    throw await this.failure("PUT", folder, response, "folder");
  }

  /** Deletes a file; `ifMatch` as for putFile (any version by default). */
  async deleteFile(file: string, options: { ifMatch?: string } = {}): Promise<void> {
    const response = await this.send("DELETE", this.url("vfs", file, "file"), { headers: { "if-match": options.ifMatch ?? "*" } }, file, "file");
    await response.body?.cancel().catch(() => undefined);
  }

  /**
   * Deletes a folder with everything in it (Kudu's `?recursive=true`); with `recursive: false`,
   * only an empty one. A Kudu that ignores `recursive` (409 for a folder with content) has
   * the folder emptied depth-first, file by file, then deleted.
   */
  async deleteFolder(folder: string, options: { recursive?: boolean } = {}): Promise<void> {
    if (clean(folder) === "") throw new AppBackupError("USAGE", "The home itself cannot be deleted.", "Delete what is in it instead.");
    const recursive = options.recursive !== false;
    const url = this.url("vfs", folder, "folder");
    if (recursive) url.searchParams.set("recursive", "true");
    const response = await sendWithRetries(this.target, { method: "DELETE", url });
    if (response.ok) return void (await response.body?.cancel().catch(() => undefined));
    if (response.status !== 409 || !recursive) throw await this.failure("DELETE", folder, response, "folder");
    await response.body?.cancel().catch(() => undefined);
    await this.emptyDepthFirst(folder);
    await this.deleteFolder(folder, { recursive: false });
  }

  private async emptyDepthFirst(folder: string): Promise<void> {
    for (const entry of await this.listFolder(folder)) {
      if (entry.kind === "directory") {
        await this.emptyDepthFirst(entry.path);
        await this.deleteFolder(entry.path, { recursive: false });
      } else {
        await this.deleteFile(entry.path);
      }
    }
  }

  /** Extracts a zip into the folder (made if missing): its entries are added or overwrite what is there; nothing is deleted. */
  async uploadZip(folder: string, body: RequestBody): Promise<void> {
    const response = await this.send("PUT", this.url("zip", folder, "folder"), { headers: { "content-type": "application/zip" }, body }, folder, "folder");
    await response.body?.cancel().catch(() => undefined);
  }

  private url(api: "vfs" | "zip", home: string, kind: "file" | "folder"): URL {
    const path = clean(home);
    if (kind === "file" && path === "") throw new AppBackupError("USAGE", "A file's path is needed, not the home's.", "Give a path like site/wwwroot/index.html.");
    const encoded = path === "" ? "" : path.split("/").map(encodeURIComponent).join("/");
    const suffix = kind === "folder" && encoded !== "" ? "/" : "";
    return new URL(`api/${api}/${encoded}${suffix}`, this.base);
  }

  private async send(method: string, url: URL, init: { headers?: Record<string, string>; body?: RequestBody }, path: string, kind: "file" | "folder"): Promise<Response> {
    const response = await sendWithRetries(this.target, { method, url, ...init });
    if (response.status >= 200 && response.status < 300) return response;
    throw await this.failure(method, path, response, kind);
  }

  private async failure(method: string, path: string, response: Response, kind: "file" | "folder"): Promise<AppBackupError> {
    const status = response.status;
    const shown = kind === "folder" ? `/${clean(path)}/`.replace(/^\/\/$/, "/") : `/${clean(path)}`;
    const request = `${method} ${shown}`;
    if (status === 307 || status === 301 || status === 302) {
      await response.body?.cancel().catch(() => undefined);
      const actually = kind === "folder" ? "a file" : "a folder";
      return new AppBackupError("HOME_MISSING", `${this.target.what}: ${shown} is ${actually}, not a ${kind} (${request}).`, `Give the path of a ${kind}.`);
    }
    const said = await serverSaid(response, this.secrets);
    const detail = said ? ` It said: ${said}` : "";
    if (status === 401) {
      const hint =
        this.target.auth.kind === "basic"
          ? "Check the publishing credentials (`az webapp deployment list-publishing-credentials`) and that SCM basic auth publishing credentials are allowed on the app (Configuration > General settings); or sign in with Entra ID instead."
          : "The Entra ID token was refused: sign in as an identity with a role on the app that may use Kudu (Website Contributor or Contributor), for the scope https://management.azure.com/.default.";
      return new AppBackupError("HOME_REFUSED", `${this.target.what} refused the credentials (401) for ${request}.${detail}`, hint);
    }
    if (status === 403) {
      return new AppBackupError(
        "HOME_REFUSED",
        `${this.target.what} forbade ${request} (403).${detail}`,
        "The SCM site's access restrictions (Networking > Access restriction > Advanced tool site) may not admit this machine, or the identity lacks a role on the app.",
      );
    }
    if (status === 404) {
      return new AppBackupError("HOME_MISSING", `${this.target.what}: ${shown} does not exist (${request}, 404).`, `Check the path, and that the app is the one meant: ${this.base.origin}/api/vfs/ lists its home.`);
    }
    if (status === 412) {
      return new AppBackupError(
        "RESTORE",
        `${this.target.what} did not ${method === "DELETE" ? "delete" : "replace"} ${shown}: it exists and ${response.headers.get("etag") ? "changed since it was read" : "no If-Match was given"} (412).`,
        "Read it again for its current ETag, or give If-Match `*` to write over any version.",
      );
    }
    if (status === 409) {
      return new AppBackupError(
        "RESTORE",
        `${this.target.what} refused ${request} (409): ${method === "DELETE" ? "the folder is not empty (or is in use)" : "a file or folder is in the way"}.${detail}`,
        method === "DELETE" ? "Delete it with its content (recursive), or empty it first." : "Remove what is in the way first.",
      );
    }
    if (status === 400 && method === "PUT" && response.url.includes("/api/zip/")) {
      return new AppBackupError("RESTORE", `${this.target.what} could not extract the zip into ${shown} (400).${detail}`, "Check that the upload is a whole, valid zip.");
    }
    if (status === 429 || status >= 500) {
      return new AppBackupError(
        "HOME_UNREACHABLE",
        `${this.target.what} kept answering ${status} to ${request} after ${this.target.retry.attempts} attempts.${detail}`,
        "The app may be restarting, scaling or overloaded; run again later.",
      );
    }
    return new AppBackupError("HOME_UNREACHABLE", `${this.target.what} answered ${status} to ${request}.${detail}`, "This is not an answer Kudu gives for this request; check that the address is the app's SCM site.");
  }

  private unexpected(method: string, path: string, response: Response, what: string): AppBackupError {
    return new AppBackupError(
      "HOME_UNREACHABLE",
      `${this.target.what} answered ${method} /${clean(path)} with ${what} (${response.status}).`,
      "Check that the address is the app's SCM site and not a page in front of it (a proxy or a sign-in page).",
    );
  }

  /** The download, with a cut connection turned into an error that says what was cut and when. */
  private guarded(stream: Readable, what: string): Readable {
    const out = new PassThrough();
    let bytes = 0;
    stream.on("data", (chunk: Buffer) => (bytes += chunk.length));
    stream.on("error", (error) => {
      out.destroy(
        new AppBackupError("HOME_UNREACHABLE", `The download of ${what} from ${this.target.what} was cut off after ${bytes} bytes.`, "The connection dropped or the app restarted; run again.", {
          cause: error,
        }),
      );
    });
    out.on("close", () => {
      if (!stream.destroyed && !stream.readableEnded) stream.destroy();
    });
    return stream.pipe(out);
  }
}

/**
 * Milliseconds of a listing's time, rounded to the nearest as a local walk rounds
 * `mtimeMs`: Kudu writes .NET's seven fraction digits (`2026-12-06T23:40:01.1229999+00:00`),
 * which `Date` would cut to the millisecond below.
 */
function kuduTimeMs(text: string): number {
  const fraction = /\.(\d+)(?=[Z+-]|$)/.exec(text);
  if (!fraction) return Date.parse(text);
  const whole = Date.parse(text.replace(fraction[0], ""));
  return whole + Math.round(Number(`0.${fraction[1]}`) * 1000);
}

/** A home-relative path without leading or trailing `/`; `..`, `.` and `\` are refused, as a path from a backup may be hostile. */
function clean(home: string): string {
  const path = home.replace(/^\/+|\/+$/g, "");
  if (path === "") return "";
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s === "." || s === ".." || s.includes("\\") || s.includes("\0"))) {
    throw new AppBackupError("USAGE", `${JSON.stringify(home)} is not a path inside the home.`, "Give a /-separated path without . or .. segments, like site/wwwroot/css.");
  }
  return path;
}
